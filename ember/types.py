"""Ember's type vocabulary, shared by every stage.

Frontend types are frozen, slotted dataclasses compared by value, with module-level singletons
(`f64`, `i64`, ...) that double as the user's annotation objects: `f64[:, :]` is an `Array`.

Promotion follows NumPy 2 (NEP 50). Python scalars (`int`/`float`/`bool` annotations, literals,
`range` indices, `len`) are *weak*: they take the type of the strong operand they meet, so
`f32 * 2.0` stays `f32`. Values read from arrays and `ember.f32`-style annotations are strong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np


class Type:
    """Base of every Ember type."""

    __slots__ = ()

    def __or__(self, other: object) -> UnionAnnotation:
        return UnionAnnotation((self, other))

    def __ror__(self, other: object) -> UnionAnnotation:
        return UnionAnnotation((other, self))


@dataclass(frozen=True, slots=True)
class UnionAnnotation:
    """What `f64[:] | None` denotes in an annotation. Not an Ember type: it exists so that
    defining such a function works and the frontend can refuse the annotation by name."""

    items: tuple[object, ...]

    def __or__(self, other: object) -> UnionAnnotation:
        return UnionAnnotation((*self.items, other))

    def __ror__(self, other: object) -> UnionAnnotation:
        return UnionAnnotation((other, *self.items))


@dataclass(frozen=True, slots=True)
class Scalar(Type):
    """A machine scalar: kind is 'b' (bool), 'i' (signed), 'u' (unsigned), 'f' (float) or 'c'
    (complex: `bits` counts both parts, c128 is two f64)."""

    kind: str
    bits: int
    weak: bool = False
    """True for Python scalars (NEP 50 'weak'): they adopt the type of a strong partner."""

    def __getitem__(self, dims: object) -> Array:
        """`f64[:, :]` in an annotation: an array of this dtype with one axis per slice."""
        axes = dims if isinstance(dims, tuple) else (dims,)
        if not axes or not all(isinstance(a, slice) and a == slice(None) for a in axes):
            raise TypeError(f"array annotations are written {self}[:], {self}[:, :], ...")
        return Array(self.strong(), len(axes))

    def __call__(self, *values: object) -> object:
        """`f32(x)` in plain Python: the numpy scalar, so undecorated kernels still run.
        `f64(f64, i64)`, on types: a `FunctionSignature`, as Numba's `float64(float64, int64)`
        for `ember.vectorize`."""
        if len(values) != 1 or isinstance(values[0], Type):
            if not all(isinstance(v, Type) for v in values):
                raise TypeError(f"{self}(...) takes one value to convert, or types to make a "
                                f"signature such as {self}({self}, {self})")
            return FunctionSignature(self.strong(), values)  # type: ignore[arg-type]
        value = values[0]
        if self.weak:
            return _PYTHON_TYPE[self.kind](value)  # type: ignore[operator]
        return self.np_dtype.type(value)

    def strong(self) -> Scalar:
        return Scalar(self.kind, self.bits) if self.weak else self

    def as_weak(self) -> Scalar:
        return Scalar(self.kind, self.bits, True)

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def part(self) -> Scalar:
        """The float type of a complex's real and imaginary parts (c64 -> f32); itself else."""
        if not self.is_complex:
            return self
        return Scalar("f", self.bits // 2, self.weak)

    @property
    def is_int(self) -> bool:
        return self.kind in "iu"

    @property
    def is_bool(self) -> bool:
        return self.kind == "b"

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.info.numpy)

    @property
    def info(self) -> ScalarKind:
        """This kind's row of `SCALAR_KINDS` (numpy, ctypes, LLVM and C names)."""
        return SCALAR_KINDS[(self.kind, self.bits)]

    def __str__(self) -> str:
        if self.weak:
            return _PYTHON_TYPE[self.kind].__name__
        return self.info.numpy.replace("bool", "boolean")


@dataclass(frozen=True, slots=True)
class Array(Type):
    """A numpy array of any strides: `Array(f64, 2)` is `f64[:, :]`."""

    dtype: Scalar
    ndim: int

    def __str__(self) -> str:
        return f"{self.dtype}[{', '.join(':' * self.ndim)}]"


@dataclass(frozen=True, slots=True)
class Tuple(Type):
    """A fixed-size tuple of scalars (return values, `a.shape`, tuple unpacking)."""

    items: tuple[Type, ...]

    def __str__(self) -> str:
        return f"tuple[{', '.join(map(str, self.items))}]"


@dataclass(frozen=True, slots=True)
class FunctionSignature:
    """`f64(f64, i64)`: a function's return and argument types, the form of Numba's
    `float64(float64, int64)` signatures (`ember.vectorize` reads `return_type` and `args`)."""

    return_type: Scalar
    args: tuple[Type, ...]

    def __str__(self) -> str:
        return f"{self.return_type}({', '.join(map(str, self.args))})"


@dataclass(frozen=True, slots=True)
class NoneType(Type):
    """The type of `None`, for kernels that return nothing."""

    def __str__(self) -> str:
        return "None"


@dataclass(frozen=True, slots=True)
class ScalarKind:
    """Everything the compiler and its runtimes say about one scalar kind, in one row."""

    kind: str
    bits: int
    numpy: str
    """The numpy dtype name."""
    ctype: str
    """The ctypes type (a name in the `ctypes` module) of a C argument or result; for a
    complex kind, the type of each of its two parts (ctypes has no complex type: a complex
    travels as two of these, runtime/abi.py)."""
    llvm: str
    """The LLVM IR type of a kernel's parameter or result."""
    c: str
    """The C type in the AOT header and wrappers."""
    code: str
    """The C dispatcher's format code (ember/_dispatch.c)."""
    mlir: str
    """The MLIR (signless) type name, as the GPU launch plan names parameters."""
    launch_ctype: str
    """The ctypes type of a CUDA launch parameter: integers as unsigned bit patterns."""


SCALAR_KINDS: Final = {(r.kind, r.bits): r for r in (
    ScalarKind("b", 1, "bool", "c_bool", "i1", "bool", "?", "i1", "c_uint8"),
    ScalarKind("i", 8, "int8", "c_int8", "i8", "int8_t", "b", "i8", "c_uint8"),
    ScalarKind("i", 16, "int16", "c_int16", "i16", "int16_t", "h", "i16", "c_uint16"),
    ScalarKind("i", 32, "int32", "c_int32", "i32", "int32_t", "i", "i32", "c_uint32"),
    ScalarKind("i", 64, "int64", "c_int64", "i64", "int64_t", "q", "i64", "c_uint64"),
    ScalarKind("u", 8, "uint8", "c_uint8", "i8", "uint8_t", "B", "i8", "c_uint8"),
    ScalarKind("u", 16, "uint16", "c_uint16", "i16", "uint16_t", "H", "i16", "c_uint16"),
    ScalarKind("u", 32, "uint32", "c_uint32", "i32", "uint32_t", "I", "i32", "c_uint32"),
    ScalarKind("u", 64, "uint64", "c_uint64", "i64", "uint64_t", "Q", "i64", "c_uint64"),
    ScalarKind("f", 32, "float32", "c_float", "float", "float", "f", "f32", "c_float"),
    ScalarKind("f", 64, "float64", "c_double", "double", "double", "d", "f64", "c_double"),
    ScalarKind("c", 64, "complex64", "c_float", "{ float, float }", "float _Complex", "F",
               "complex<f32>", "c_float"),
    ScalarKind("c", 128, "complex128", "c_double", "{ double, double }", "double _Complex", "D",
               "complex<f64>", "c_double"),
)}
"""The one table of scalar kinds, keyed by (kind, bits); read it through `Scalar.info`."""

boolean: Final = Scalar("b", 1)
i8: Final = Scalar("i", 8)
i16: Final = Scalar("i", 16)
i32: Final = Scalar("i", 32)
i64: Final = Scalar("i", 64)
u8: Final = Scalar("u", 8)
u16: Final = Scalar("u", 16)
u32: Final = Scalar("u", 32)
u64: Final = Scalar("u", 64)
f32: Final = Scalar("f", 32)
f64: Final = Scalar("f", 64)
c64: Final = Scalar("c", 64)
c128: Final = Scalar("c", 128)
none: Final = NoneType()

py_bool: Final = boolean.as_weak()
py_int: Final = i64.as_weak()
py_float: Final = f64.as_weak()
py_complex: Final = c128.as_weak()

PYTHON_ANNOTATIONS: Final[dict[object, Scalar]] = {bool: py_bool, int: py_int, float: py_float,
                                                   complex: py_complex}
_PYTHON_TYPE: Final[dict[str, type]] = {"b": bool, "i": int, "f": float, "c": complex}
"""The Python type of each weak kind."""

_BY_DTYPE: Final = {np.dtype(r.numpy): Scalar(r.kind, r.bits) for r in SCALAR_KINDS.values()}


def from_dtype(dtype: object) -> Scalar | None:
    """The strong scalar type of a numpy dtype (or dtype-like), or None if Ember lacks it."""
    try:
        return _BY_DTYPE.get(np.dtype(dtype))  # type: ignore[call-overload]
    except TypeError:
        return None


# --- Promotion (NEP 50) -------------------------------------------------------------------
# Rule 1: two strong types promote as numpy.promote_types does (f32+i64 -> f64, i8+u8 -> i16).
# Rule 2: a weak (Python) scalar adopts the strong partner's type when its kind fits
#         (f32 + 2.0 -> f32, i32 + 1 -> i32); a weak float meeting a strong int gives f64.
# Rule 3: two weak scalars give a weak result of the higher kind (bool < int < float < complex).
#         A weak complex meeting a strong float takes its precision (f32 + 1j -> c64).
# Rule 4: bool in arithmetic counts as int (True + True == 2), see arith_operand().
# numpy.result_type implements rules 1-3 exactly when weak operands are Python scalars.
_WEAK_SAMPLE: Final = {"b": True, "i": 1, "f": 1.0, "c": 1j}
_WEAK_ORDER: Final = "bifc"


def promote(a: Scalar, b: Scalar) -> Scalar:
    """The NEP 50 result type of a binary operation on `a` and `b`."""
    if a == b:
        return a
    if a.weak and b.weak:
        return a if _WEAK_ORDER.index(a.kind) >= _WEAK_ORDER.index(b.kind) else b
    operands = [_WEAK_SAMPLE[t.kind] if t.weak else t.np_dtype for t in (a, b)]
    result = from_dtype(np.result_type(*operands))
    assert result is not None
    return result


def arith_operand(t: Scalar) -> Scalar:
    """Rule 4: bools take part in arithmetic as (weak or strong) 64-bit ints."""
    if not t.is_bool:
        return t
    return py_int if t.weak else i64


def float_of(t: Scalar) -> Scalar:
    """The float type an operation like `/` or `np.sin` gives for `t` (int -> f64, f32 kept;
    a complex stays complex)."""
    if t.is_float or t.is_complex:
        return t
    return py_float if t.weak else f64


def join(a: Type, b: Type) -> Type | None:
    """The type of a variable assigned values of types `a` and `b`, or None if they conflict."""
    if a == b:
        return a
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        return promote(a, b)
    if isinstance(a, Tuple) and isinstance(b, Tuple) and len(a.items) == len(b.items):
        items = [join(x, y) for x, y in zip(a.items, b.items, strict=True)]
        return None if None in items else Tuple(tuple(i for i in items if i is not None))
    return None


def encode(t: Type) -> list:
    """A JSON-able form of a type (for the disk cache's metadata); `decode` inverts it."""
    if isinstance(t, Scalar):
        return ["s", t.kind, t.bits, t.weak]
    if isinstance(t, Array):
        return ["a", encode(t.dtype), t.ndim]
    if isinstance(t, Tuple):
        return ["t", [encode(i) for i in t.items]]
    return ["n"]


def decode(data: list) -> Type:
    tag = data[0]
    if tag == "s":
        return Scalar(data[1], data[2], data[3])
    if tag == "a":
        dtype = decode(data[1])
        assert isinstance(dtype, Scalar)
        return Array(dtype, data[2])
    if tag == "t":
        return Tuple(tuple(decode(i) for i in data[1]))
    return none
