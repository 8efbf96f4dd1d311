"""The per-call path: a generated Python entry function around the ctypes thunk.

`make_entry` writes (once per kernel) a small function with the kernel's own name and
parameter names that calls the thunk and checks only its status or sentinel, so the common
call is one ctypes call plus one comparison. Everything slow (precise argument errors,
ndarray subclasses, arrays returned by the kernel) lives off that path.
"""

from __future__ import annotations

import ctypes
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import types as T
from .abi import INT_SENTINEL, Signature, int_range, result_struct

_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


class _Owner:
    """Owns a buffer malloc'ed by a kernel; numpy arrays made from it keep it alive."""

    def __init__(self, allocated: int, interface: dict) -> None:
        self.allocated = allocated
        self.__array_interface__ = interface

    def __del__(self) -> None:
        if self.allocated:
            _libc.free(self.allocated)


def _array_from(desc: Any, t: T.Array) -> np.ndarray:
    itemsize = t.dtype.np_dtype.itemsize
    shape = tuple(desc.sizes)
    data = (desc.aligned or 0) + desc.offset * itemsize
    interface = {"version": 3, "typestr": t.dtype.np_dtype.str, "shape": shape,
                 "strides": tuple(s * itemsize for s in desc.strides),
                 "data": (data if all(shape) else 0, False)}
    if not all(shape):
        interface["data"] = (data or 1, False)
    return np.asarray(_Owner(desc.allocated or 0, interface))


def _converter(ret: T.Type) -> Callable[[Any], Any]:
    items = ret.items if isinstance(ret, T.Tuple) else (ret,)

    def one(value: Any, t: T.Type) -> Any:
        if isinstance(t, T.Array):
            return _array_from(value, t)
        return bool(value) if isinstance(t, T.Scalar) and t.is_bool else value

    plain = all(isinstance(t, T.Scalar) and not t.is_bool for t in items)
    if isinstance(ret, T.Tuple) and plain:  # the common case, in C: attrgetter builds the tuple
        getter = operator.attrgetter(*(f"f{k}" for k in range(len(items))))
        return getter if len(items) > 1 else lambda out: (out.f0,)
    if isinstance(ret, T.Tuple):
        return lambda out: tuple(one(getattr(out, f"f{k}"), t) for k, t in enumerate(items))
    return lambda out: one(out.f0, ret)


def make_entry(name: str, cfunc: Any, sig: Signature,
               recheck: Callable[[tuple], tuple | None],
               rejected: Callable[[tuple], bool]) -> Callable[..., Any]:
    """The Python-callable entry of a compiled kernel."""
    params = [p for p, _ in sig.params]
    args = ", ".join(params)
    tup = f"({args},)" if params else "()"
    kind = sig.result_kind
    lines = [f"def {name}({args}):", "    try:"]
    for pname, t in sig.params:  # ctypes would wrap out-of-range ints silently
        if isinstance(t, T.Scalar) and t.is_int:
            lo, hi = int_range(t)
            lines.append(f"        if not {lo} <= {pname} <= {hi}: return __ember_retry({tup})")
    if kind == "out":
        lines += ["        __ember_out = __ember_Result()", f"        __ember_r = __ember_cfunc({args}{', ' if params else ''}__ember_ref(__ember_out))"]
    else:
        lines.append(f"        __ember_r = __ember_cfunc({args})")
    lines += ["    except (__ember_ArgError, TypeError, ValueError, OverflowError):", f"        return __ember_retry({tup})"]
    if kind in ("none", "out") and sig.has_arrays:
        lines += ["    if __ember_r:", f"        return __ember_retry({tup})"]
    if kind == "scalar" and sig.has_arrays:
        ret = sig.ret
        assert isinstance(ret, T.Scalar)
        test = ("__ember_r != __ember_r" if ret.is_float
                else f"__ember_r == {INT_SENTINEL if ret.kind != 'u' else 1 << 63}")
        lines += [f"    if {test} and __ember_rejected({tup}):", f"        return __ember_retry({tup})"]
    lines.append(_result_line(sig))
    namespace: dict[str, Any] = {"__ember_cfunc": cfunc, "__ember_ArgError": ctypes.ArgumentError,
                                 "__ember_recheck": recheck, "__ember_rejected": rejected,
                                 "__ember_ref": ctypes.byref}
    if kind == "out":
        namespace["__ember_Result"] = result_struct(sig.ret)
        namespace["__ember_convert"] = _converter(sig.ret)

    def retry(values: tuple) -> Any:
        fixed = recheck(values)
        if fixed is None:
            raise RuntimeError(f"kernel '{name}' rejected its arguments for an unknown reason")
        return namespace[name](*fixed)

    namespace["__ember_retry"] = retry
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from identifiers only
    return namespace[name]


def _result_line(sig: Signature) -> str:
    kind = sig.result_kind
    if kind == "none":
        return "    return None"
    if kind == "out":
        return "    return __ember_convert(__ember_out)"
    ret = sig.ret
    assert isinstance(ret, T.Scalar)
    return "    return __ember_r != 0" if ret.is_bool else "    return __ember_r"
