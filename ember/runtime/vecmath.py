"""Fastmath kernels: vectorized math intrinsics -> glibc's vector math library (libmvec).

LLVM's loop vectorizer turns `y[i] = sin(x[i])` into calls of `llvm.sin.v4f64`, which code
generation would split back into four scalar `sin` calls. Under `fastmath=True` those calls go
to libmvec's SIMD variants instead (`_ZGVdN4v_sin`: AVX2, 4 doubles; within 4 ulp, the
accuracy GCC's -ffast-math accepts), so the whole loop runs on vector registers. Only variants
the machine's libmvec exports and its CPU can run are used; anything else stays scalar.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re

from ..options import vector_bytes

PREFIX = b"_ZGV"
FUNCTIONS = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp",
             "exp2", "exp10", "log", "log2", "log10", "pow", "atan2")
"""LLVM math intrinsics that libmvec implements (pow and atan2 take two vectors; LLVM
vectorizes a loop's libm `atan2` calls into `llvm.atan2.v4f64`, ir/emitter.py `_PURE`)."""
BINARY = ("pow", "atan2")
VECTOR_INTRINSIC = re.compile(
    r"@llvm\.(" + "|".join(FUNCTIONS) + r")\.v(\d+)f(32|64)\b")
_ISA = {16: "b", 32: "d", 64: "e"}
"""Vector ABI letters by register width in bytes: SSE, AVX2, AVX-512."""


@functools.cache
def _libmvec() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("mvec") or "libmvec.so.1"
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def variant(function: str, lanes: int, bits: int) -> str | None:
    """libmvec's name for `function` on `lanes` floats of `bits`, if this machine has it."""
    width = lanes * bits // 8
    isa = _ISA.get(width)
    lib = _libmvec()
    if isa is None or width > vector_bytes() or lib is None:
        return None
    args = "vv" if function in BINARY else "v"
    name = f"_ZGV{isa}N{lanes}{args}_{function}{'f' if bits == 32 else ''}"
    return name if hasattr(lib, name) else None


def use_libmvec(ir_text: str) -> str:
    """`ir_text` with every available vector variant called in place of the intrinsic."""
    found = {m.group(0): variant(m.group(1), int(m.group(2)), int(m.group(3)))
             for m in VECTOR_INTRINSIC.finditer(ir_text)}
    for intrinsic, name in found.items():
        if name is not None:
            ir_text = re.sub(re.escape(intrinsic) + r"\b", "@" + name, ir_text)
    return ir_text
