"""What an AOT build exports: a module path or a list of kernels/derivatives -> (library name,
[(export name, object)]), with export names checked against the C library's.

Shared by the CPU library writer (library.py) and the GPU build (gpu.py).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from typing import Any, Final

from ..api.autodiff import Derivative
from ..api.jacobians import Jacobian
from ..api.kernel import Kernel
from ..api.secondorder import HVP
from ..api.secondorder import Jacobian as SecondJacobian
from ..api.vmap import BatchedDerivative
from ..errors import CompileError


def collect(source: Any) -> tuple[str, list[tuple[str, Any]]]:
    """(library name, [(export name, kernel or derivative)]) of `source`: a .py path (its
    module-level kernels and derivatives) or a list of them."""
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        name = os.path.splitext(os.path.basename(path))[0]
        module = _import(path, name)
        items = [(k, v) for k, v in vars(module).items()
                 if isinstance(v, Kernel | Derivative | Jacobian | HVP | SecondJacobian
                               | BatchedDerivative)]
    else:
        name = "kernels"
        items = [(getattr(obj, "__name__", f"f{k}"), obj) for k, obj in enumerate(source)]
    seen: set[int] = set()
    exports = []
    for export, obj in items:
        if id(obj) not in seen and export.isidentifier():
            seen.add(id(obj))
            _check_export_name(export)
            exports.append((export, obj))
    if not exports:
        raise CompileError(f"no kernels found in {source}: decorate functions with @ember.kernel"
                           " (derivatives: module-level grad(...)/vjp(...) objects)")
    return name, exports


_C_MATH: Final = frozenset([
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "copysign",
    "cos", "cosh", "erf", "erfc", "exp", "exp2", "expm1", "fabs", "fdim", "floor", "fma", "fmax",
    "fmin", "fmod", "frexp", "hypot", "ilogb", "ldexp", "lgamma", "log", "log10", "log1p", "log2",
    "logb", "lrint", "lround", "modf", "nan", "nearbyint", "nextafter", "pow", "remainder",
    "remquo", "rint", "round", "scalbn", "sin", "sinh", "sqrt", "tan", "tanh", "tgamma", "trunc"])
_C_OTHER: Final = frozenset(["malloc", "calloc", "realloc", "free", "memcpy", "memmove", "memset",
                             "memcmp", "strlen", "printf", "exit", "abort", "qsort"])


@functools.cache
def c_library_names() -> frozenset[str]:
    """Names an export may not take: libc's, and libm's in both spellings (`sin`, `sinf`),
    including every libm call of ir/ops.py and vector-math function of runtime/vecmath.py."""
    from ..ir.ops import LIBM
    from ..runtime.vecmath import FUNCTIONS

    math = _C_MATH | set(FUNCTIONS) | {name for row in LIBM.values() for name in row[:2]}
    return frozenset([*math, *(f"{name}f" for name in math), *_C_OTHER])


def _check_export_name(name: str) -> None:
    """An exported C function named like a C library function would capture the library's own
    calls to it (the static linker binds them to the export)."""
    if name in c_library_names() or name.startswith(("ember_", "_mlir")):
        raise CompileError(f"cannot export '{name}' from a C library: the name is taken by "
                           "the C library or by Ember; rename the kernel")


def _import(path: str, name: str) -> Any:
    if not os.path.exists(path):
        raise CompileError(f"cannot build {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"_ember_build_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
