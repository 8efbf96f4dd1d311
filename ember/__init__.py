"""Ember: compile type-annotated Python loops to native code through MLIR.

Public API only; the user objects live in ember.api, the drivers in ember.driver, the stages
in ember.frontend -> ember.ir -> ember.lowering -> ember.runtime, AOT builds in ember.aot. `import ember` loads only the light modules: the derivative API, the AOT build
and the CUDA helpers are imported on first use (PEP 562 `__getattr__`), and the toolchain
(llvmlite, MLIR, Enzyme) only by the first compile or build.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .api.kernel import Kernel, kernel
from .errors import CompileError
from .parallel import prange
from .types import (
    Array,
    boolean,
    c64,
    c128,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
)

if TYPE_CHECKING:
    from .adfuncs import stop_gradient
    from .aot import build
    from .api import cuda
    from .api.autodiff import Derivative, grad, jvp, value_and_grad, vjp
    from .api.custom import custom_jvp
    from .api.gradcheck import GradientCheckError, check_grad
    from .api.jacobians import jacfwd, jacrev
    from .api.secondorder import hessian, hvp
    from .api.ufunc import guvectorize, vectorize
    from .api.vmap import vmap
    from .frontend.sourcetext import exec_source, register_source
    from .runtime.tape import release_tape_memory, tape_cached_bytes

_LAZY = {
    "build": "aot", "cuda": None, "Derivative": "api.autodiff", "grad": "api.autodiff",
    "jvp": "api.autodiff", "value_and_grad": "api.autodiff", "vjp": "api.autodiff",
    "GradientCheckError": "api.gradcheck", "check_grad": "api.gradcheck",
    "release_tape_memory": "runtime.tape", "tape_cached_bytes": "runtime.tape",
    "jacfwd": "api.jacobians", "jacrev": "api.jacobians",
    "hessian": "api.secondorder", "hvp": "api.secondorder",
    "vmap": "api.vmap", "vectorize": "api.ufunc", "guvectorize": "api.ufunc",
    "custom_jvp": "api.custom", "stop_gradient": "adfuncs",
    "exec_source": "frontend.sourcetext", "register_source": "frontend.sourcetext",
}
"""Public name -> the module defining it (None: the name is the module api.<name>), imported
on first use."""

__all__ = [
    "Array", "CompileError", "build", "cuda", "prange", "Derivative", "GradientCheckError", "check_grad", "Kernel", "grad", "jvp", "value_and_grad", "vjp", "boolean", "c64", "c128", "f32", "f64", "i8", "i16", "i32", "i64",
    "kernel", "release_tape_memory",
    "jacfwd", "jacrev", "hessian", "hvp", "vmap", "vectorize", "guvectorize", "custom_jvp", "stop_gradient", "exec_source", "register_source", "tape_cached_bytes", "u8", "u16", "u32", "u64", "__version__",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ember' has no attribute '{name}'")
    module = _LAZY[name]
    value = importlib.import_module(f".{module or 'api.' + name}", __name__)
    if module is not None:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
