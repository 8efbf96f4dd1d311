"""Precise argument errors, computed only after the fast path rejected a call.

`Checker.recheck(args)` returns None when every argument is acceptable as given, a fixed
argument tuple when the call can proceed after a harmless conversion (an ndarray subclass
viewed as ndarray, a numpy integer for an int parameter), and raises TypeError/ValueError
naming the parameter otherwise. The rules mirror the checks of the native thunk.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import types as T
from .abi import Signature, int_range


class Checker:
    def __init__(self, name: str, sig: Signature) -> None:
        self.name = name
        self.sig = sig

    def recheck(self, args: tuple) -> tuple | None:
        fixed = list(args)
        changed = False
        for k, ((pname, t), value) in enumerate(zip(self.sig.params, args, strict=True)):
            new = self._one(pname, t, value)
            if new is not value:
                fixed[k] = new
                changed = True
        return tuple(fixed) if changed else None

    def _where(self, pname: str) -> str:
        b = self.sig.binding  # a tuple parameter's item: "argument 'pair' item 1"
        return f"{self.name}() argument {b.shown(pname) if b is not None else repr(pname)}"

    def _one(self, pname: str, t: T.Type, value: Any) -> Any:
        if isinstance(t, T.Array):
            return self._array(pname, t, value)
        assert isinstance(t, T.Scalar)
        return self._scalar(pname, t, value)

    def _array(self, pname: str, t: T.Array, value: Any) -> Any:
        where = self._where(pname)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{where} must be a numpy array of {t.dtype.np_dtype.name} with "
                            f"{t.ndim} dimension(s) ({t}), got {type(value).__name__}")
        if value.ndim != t.ndim:
            raise TypeError(f"{where} must have {t.ndim} dimension(s) ({t}), "
                            f"got an array with {value.ndim}")
        if value.dtype.newbyteorder("=") != t.dtype.np_dtype or value.dtype.kind != \
                t.dtype.np_dtype.kind:
            raise TypeError(f"{where} must have dtype {t.dtype.np_dtype.name} ({t}), "
                            f"got {value.dtype.name}")
        if not value.dtype.isnative:
            raise ValueError(f"{where} has non-native byte order; pass a native-order copy "
                             "(a.astype(a.dtype.newbyteorder('=')))")
        if pname in self.sig.written and not value.flags.writeable:
            raise ValueError(f"{where} is read-only, but the kernel writes to it")
        if any(s % value.itemsize for s in value.strides):
            raise ValueError(f"{where} has strides {value.strides} that are not a multiple "
                             f"of its item size {value.itemsize}")
        if value.dtype.num != t.dtype.np_dtype.num:  # e.g. longlong vs long: same layout
            value = value.view(t.dtype.np_dtype)
        if type(value) is not np.ndarray:
            return value.view(np.ndarray)
        return value

    def _scalar(self, pname: str, t: T.Scalar, value: Any) -> Any:
        return scalar(self._where(pname), t, value)


_ACCEPTS: dict[str, tuple[type, ...]] = {
    "f": (numbers.Real, np.floating, np.integer, np.bool_),
    "i": (numbers.Integral, np.integer, np.bool_),
    "u": (numbers.Integral, np.integer, np.bool_),
    "b": (bool, np.bool_, numbers.Integral, np.integer),
    "c": (numbers.Number, np.number, np.bool_),
}
"""The Python values a scalar parameter of each kind accepts (a bool is a number, as in
Python); the GPU launcher (runtime/cuda.py) checks its arguments with the same rule."""
_EXPECTED: dict[str, str] = {"f": "a real number", "i": "an integer", "u": "an integer",
                             "b": "a bool", "c": "a number"}


def scalar(where: str, t: T.Scalar, value: Any) -> Any:
    """`value` as an argument for scalar parameter `t` (ints converted, Python numbers kept),
    or TypeError/OverflowError naming `where` ("f() argument 'x'")."""
    if not isinstance(value, _ACCEPTS[t.kind]) or isinstance(value, np.ndarray):
        raise TypeError(f"{where} must be {_EXPECTED[t.kind]} ({t}), "
                        f"got {type(value).__name__}")
    return _convert(where, t, value)


def _convert(where: str, t: T.Scalar, value: Any) -> Any:
    if t.is_int:
        number = int(value)
        lo, hi = int_range(t)
        if not lo <= number <= hi:
            raise OverflowError(f"{where} = {number} does not fit in {t} "
                                f"(range {lo} to {hi})")
        return value if isinstance(value, int) else number
    if t.is_float:
        try:
            real = float(value)
        except OverflowError:
            raise OverflowError(f"{where} is too large to convert to {t}") from None
        return value if isinstance(value, float) else real
    if t.is_complex:
        return complex(value)
    return value
