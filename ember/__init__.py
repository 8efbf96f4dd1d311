"""Ember: compile type-annotated Python loops to native code through MLIR.

Public API only; the stages live in ember.frontend -> ember.ir -> ember.lowering ->
ember.runtime.
"""

__version__ = "0.1.0"

from . import cuda
from .aot import build
from .api import Kernel, kernel
from .autodiff import Derivative, grad, jvp, value_and_grad, vjp
from .errors import CompileError
from .gradcheck import GradientCheckError, check_grad
from .parallel import prange
from .types import (
    Array,
    boolean,
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

__all__ = [
    "Array", "CompileError", "build", "cuda", "prange", "Derivative", "GradientCheckError", "check_grad", "Kernel", "grad", "jvp", "value_and_grad", "vjp", "boolean", "f32", "f64", "i8", "i16", "i32", "i64",
    "kernel", "u8", "u16", "u32", "u64", "__version__",
]
