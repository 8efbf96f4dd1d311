"""The type signatures and layouts of `ember.vectorize`/`guvectorize`, parsed into records.

Signatures are Numba's strings, `"float64(float64, float64)"`, `"f8(f8, f8)"`,
`"void(float64[:], float64[:, :], int64)"`, or Ember's spellings of the same types
(`"f64(f64, f64)"`, `"f64[:]"`); a missing return type (`"(f8, f8)"`) lets the kernel's
typing choose it. Layouts are NumPy's generalized-ufunc signatures, `"(m,n),(n)->(m)"`.
Bad strings raise ValueError naming the part and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from .. import types as T

_SCALARS: Final[dict[str, T.Scalar]] = {
    **{name: T.f64 for name in ("float64", "f8", "f64", "double", "float")},
    **{name: T.f32 for name in ("float32", "f4", "f32", "float_", "single")},
    **{f"int{b}": T.Scalar("i", b) for b in (8, 16, 32, 64)},
    **{f"uint{b}": T.Scalar("u", b) for b in (8, 16, 32, 64)},
    **{f"i{b // 8}": T.Scalar("i", b) for b in (8, 16, 32, 64)},
    **{f"u{b // 8}": T.Scalar("u", b) for b in (8, 16, 32, 64)},
    **{f"i{b}": T.Scalar("i", b) for b in (16, 32, 64)},
    **{f"u{b}": T.Scalar("u", b) for b in (16, 32, 64)},
    "intp": T.Scalar("i", 64), "int_": T.Scalar("i", 64), "uintp": T.Scalar("u", 64),
    **{name: T.Scalar("b", 1) for name in ("boolean", "bool_", "bool", "b1")},
    **{name: T.Scalar("c", 128) for name in ("complex128", "c16", "c128", "complex")},
    **{name: T.Scalar("c", 64) for name in ("complex64", "c8", "c64")},
}
"""Type names of signature strings (Numba's spellings and Ember's)."""
_ARG: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[[\s:,1]*\])?\s*$")
_SIG: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)?\s*\((.*)\)\s*$", re.S)
_HINT: Final = ("write e.g. 'float64(float64, float64)' for vectorize or "
                "'void(float64[:], float64[:], float64[:])' for guvectorize")


@dataclass(frozen=True)
class Signature:
    """One loop's types: `ret` None for "void" or where the kernel's typing decides."""

    text: str
    args: tuple[T.Scalar | T.Array, ...]
    ret: T.Scalar | None
    void: bool


def parse_signature(text: object) -> Signature:
    """A signature as a `Signature` (ValueError if it is not one): a string, a bare argument
    list (`"f8[:], f8[:]"`, Numba's void form), a tuple of types (`(f64[:], f64)`, Ember's or
    Numba's) or a Numba signature object (`float64(float64, int64)`)."""
    if not isinstance(text, str):
        return _from_objects(text)
    m = _SIG.match(text)
    if m is None and "(" not in text and ")" not in text and text.strip():
        m = _SIG.match(f"({text})")  # Numba's bare argument list: no return type
    if m is None:
        raise ValueError(f"signature {text!r} is not 'return_type(argument_types)'; {_HINT}")
    ret_name, inner = m.group(1), m.group(2)
    parts = [p for p in _split(inner)] if inner.strip() else []
    args = tuple(_arg(text, p) for p in parts)
    if ret_name is None or ret_name == "void":
        return Signature(text, args, None, ret_name == "void")
    ret = _SCALARS.get(ret_name)
    if ret is None:
        raise ValueError(f"signature {text!r}: unknown return type '{ret_name}'; use a NumPy "
                         f"scalar type name such as float64, float32, int64 or bool, or void")
    return Signature(text, args, ret, False)


def is_type_list(value: object) -> bool:
    """Whether `value` is one signature written as a tuple/list of types (not a list of
    signatures)."""
    return isinstance(value, tuple | list) and bool(value) and all(
        _type_text(v) is not None for v in value)


def _from_objects(value: object) -> Signature:
    """A tuple of type objects or a Numba signature object (`.args`, `.return_type`)."""
    items = value if is_type_list(value) else getattr(value, "args", None)
    texts = [_type_text(v) for v in items] if isinstance(items, tuple | list) else [None]
    if any(t is None for t in texts):
        raise TypeError(f"a signature is a string such as 'float64(float64)', a tuple of "
                        f"types such as (f64[:], f64, f64[:]), or a Numba signature; not "
                        f"{type(value).__name__} {value!r}")
    ret = getattr(value, "return_type", None)
    ret_text = "" if ret is None else _type_text(ret) or ""
    return parse_signature(f"{ret_text}({', '.join(str(t) for t in texts)})")


def _type_text(t: object) -> str | None:
    """The signature-string spelling of an Ember or Numba type object, or None."""
    if isinstance(t, T.Scalar | T.Array):
        return str(t)
    name = getattr(t, "name", None)
    if type(t).__name__ == "NoneType" or name in ("none", "void"):
        return "void"
    dtype, ndim = getattr(t, "dtype", None), getattr(t, "ndim", None)
    if isinstance(ndim, int) and dtype is not None and not isinstance(t, type):
        inner = _type_text(dtype)
        return None if inner is None else f"{inner}[{', '.join(':' * ndim)}]"
    return name if isinstance(name, str) and name in _SCALARS else None


def _split(inner: str) -> list[str]:
    """Split on the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    return [*parts, inner[start:]]


def _arg(text: str, part: str) -> T.Scalar | T.Array:
    m = _ARG.match(part)
    if m is None:
        raise ValueError(f"signature {text!r}: cannot read the argument type {part.strip()!r}; "
                         f"{_HINT}")
    scalar = _SCALARS.get(m.group(1))
    if scalar is None:
        raise ValueError(f"signature {text!r}: unknown type '{m.group(1)}'; use a NumPy "
                         f"scalar type name such as float64, float32, int64 or bool")
    if m.group(2) is None:
        return scalar
    return T.Array(scalar, m.group(2).count(":"))


@dataclass(frozen=True)
class Layout:
    """A generalized ufunc's core dimensions: one tuple of names per input and output."""

    text: str
    inputs: tuple[tuple[str, ...], ...]
    outputs: tuple[tuple[str, ...], ...]

    @property
    def operands(self) -> tuple[tuple[str, ...], ...]:
        return self.inputs + self.outputs

    def dim_index(self) -> dict[str, int]:
        """Core dimension name -> its place in NumPy's `dims` after the loop dimension
        (1-based: names numbered in order of first appearance, as NumPy does)."""
        found: dict[str, int] = {}
        for op in self.operands:
            for name in op:
                found.setdefault(name, len(found) + 1)
        return found


_OPERAND: Final = re.compile(r"\(\s*([A-Za-z0-9_]+\s*(,\s*[A-Za-z0-9_]+\s*)*)?\)")


def parse_layout(text: object) -> Layout:
    """A layout string such as "(n),(n)->()" (ValueError naming what is wrong)."""
    if not isinstance(text, str) or "->" not in text:
        raise ValueError(f"layout {text!r} is not a generalized-ufunc signature; write e.g. "
                         "'(n),(n)->()' (core dimensions of each input, '->', of each output)")
    left, _, right = text.replace(" ", "").partition("->")
    return Layout(text, _operands(text, left), _operands(text, right))


def _operands(text: str, side: str) -> tuple[tuple[str, ...], ...]:
    found, pos = [], 0
    while pos < len(side):
        m = _OPERAND.match(side, pos)
        if m is None:
            raise ValueError(f"layout {text!r}: cannot read {side[pos:]!r}; each operand is "
                             "'(' core dimension names ')', e.g. '(m,n),(n)->(m)'")
        found.append(tuple(d for d in (m.group(1) or "").split(",") if d))
        pos = m.end()
        if pos < len(side):
            if side[pos] != ",":
                raise ValueError(f"layout {text!r}: operands are separated by ','")
            pos += 1
    if not found:
        raise ValueError(f"layout {text!r}: each side of '->' needs at least one operand, "
                         "e.g. '(n)->()'")
    return tuple(found)
