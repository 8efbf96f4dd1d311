"""The per-call path: a generated Python entry function around the ctypes thunk.

`make_entry` writes (once per kernel) a small function with the kernel's own name and
parameter names that calls the thunk and checks only its status, so the common call is one
ctypes call plus one comparison. Everything slow (precise argument errors, ndarray
subclasses, arrays returned by the kernel, errors the kernel raised) lives off that path.
An array result is a view of the array argument whose memory it lies in, or else owns the
buffer the kernel allocated (`_array_from`; ember/_dispatch.c does the same in C).
`error_raiser` turns an error a kernel raised (status 2) into the Python exception, with the
user's file and line as the last frame of its traceback.
"""

from __future__ import annotations

import builtins
import ctypes
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import types as T
from . import complex_abi
from .abi import STATUS_RAISED, Signature, int_range, result_struct

_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


class _Buffer:
    """Owns a buffer malloc'ed by a kernel: freed when the last array made from it dies."""

    def __init__(self, allocated: int) -> None:
        self.allocated = allocated

    def __del__(self) -> None:
        if self.allocated:
            _libc.free(self.allocated)


class _Owner:
    """The base of an array made from a result descriptor: its interface, and what keeps the
    memory alive (a `_Buffer`, or the argument array it lies in)."""

    def __init__(self, interface: dict, keep: Any = None) -> None:
        self.__array_interface__ = interface
        self.keep = keep


def _array_from(desc: Any, t: T.Array, args: tuple = (),
                buffers: dict[int, _Buffer] | None = None) -> np.ndarray:
    """The ndarray of result descriptor `desc`: a view of the array argument whose memory it
    lies in (the thunks pass an array's data pointer as `allocated`, and views keep it), else
    an array of the buffer the kernel allocated (freed when its last array dies; `buffers`
    holds the buffers of one result, whose arrays may share one: `return out, out[1:]`)."""
    itemsize = t.dtype.np_dtype.itemsize
    shape = tuple(desc.sizes)
    data = (desc.aligned or 0) + desc.offset * itemsize
    interface = {"version": 3, "typestr": t.dtype.np_dtype.str, "shape": shape,
                 "strides": tuple(s * itemsize for s in desc.strides),
                 "data": (data if all(shape) else 0, False)}
    if not all(shape):
        interface["data"] = (data or 1, False)
    allocated = desc.allocated or 0
    for arg in args:
        if allocated and isinstance(arg, np.ndarray) and arg.ctypes.data == allocated:
            return arg if _same(arg, interface) else _borrowed(arg, interface)
    buffers = {} if buffers is None else buffers
    if allocated and allocated not in buffers:
        buffers[allocated] = _Buffer(allocated)
    return np.asarray(_Owner(interface, keep=buffers.get(allocated)))


def _same(arg: np.ndarray, interface: dict) -> bool:
    """Whether `interface` describes exactly array argument `arg` (returned as it is, as
    Numba returns it; strides of axes of length 1 do not matter)."""
    return (arg.ctypes.data == interface["data"][0] and arg.shape == interface["shape"]
            and all(n <= 1 or a == b for n, a, b in
                    zip(arg.shape, arg.strides, interface["strides"], strict=True)))


def _borrowed(arg: np.ndarray, interface: dict) -> np.ndarray:
    """The array of `interface` in array argument `arg`'s memory, as the C dispatcher makes
    it: its base is `arg`, collapsed as numpy collapses a view's base (to the array owning
    the memory), and it is read-only if `arg` is."""
    owner = arg
    while not owner.flags.owndata and type(owner.base) is np.ndarray:
        owner = owner.base
    try:
        out = np.ndarray(interface["shape"], interface["typestr"], buffer=owner,
                         offset=interface["data"][0] - owner.ctypes.data,
                         strides=interface["strides"])
    except (TypeError, ValueError):  # an owner without one contiguous buffer, an empty result
        out = np.asarray(_Owner(interface, keep=arg))
    if not arg.flags.writeable:
        out.flags.writeable = False
    return out


def _converter(ret: T.Type) -> Callable[..., Any]:
    """out-struct, arguments -> the result (array items made by `_array_from`)."""
    items = ret.items if isinstance(ret, T.Tuple) else (ret,)

    def one(value: Any, t: T.Type, args: tuple, buffers: dict) -> Any:
        if isinstance(t, T.Array):
            return _array_from(value, t, args, buffers)
        if isinstance(t, T.Scalar) and t.is_complex:
            return complex_abi.from_parts(value)
        return bool(value) if isinstance(t, T.Scalar) and t.is_bool else value

    plain = all(isinstance(t, T.Scalar) and not (t.is_bool or t.is_complex) for t in items)
    if isinstance(ret, T.Tuple) and plain:  # the common case, in C: attrgetter builds the tuple
        getter = operator.attrgetter(*(f"f{k}" for k in range(len(items))))
        return getter if len(items) > 1 else lambda out: (out.f0,)
    if isinstance(ret, T.Tuple):
        def many(out: Any, args: tuple = ()) -> tuple:
            buffers: dict[int, _Buffer] = {}
            return tuple(one(getattr(out, f"f{k}"), t, args, buffers)
                         for k, t in enumerate(items))
        return many
    return lambda out, args=(): one(out.f0, ret, args, {})


def _complex_params(sig: Signature) -> list[str]:
    return [p for p, t in sig.params if isinstance(t, T.Scalar) and t.is_complex]


def _borrows(sig: Signature) -> bool:
    """Whether a result of `sig` may lie in an argument's memory (an array of each)."""
    items = sig.ret.items if isinstance(sig.ret, T.Tuple) else (sig.ret,)
    return sig.has_arrays and any(isinstance(t, T.Array) for t in items)


def make_entry(name: str, cfunc: Any, sig: Signature,
               recheck: Callable[[tuple], tuple | None],
               raise_error: Callable[[], Any]) -> Callable[..., Any]:
    """The Python-callable entry of a compiled kernel."""
    params = [p for p, _ in sig.params]
    args = ", ".join(params)
    tup = f"({args},)" if params else "()"
    lines = [f"def {name}({args}):", "    try:"]
    lines += [f"        {p}__z = __ember_complex({p})" for p in _complex_params(sig)]
    cargs = ", ".join(f"{p}__z.real, {p}__z.imag" if p in _complex_params(sig) else p
                      for p in params)
    for pname, t in sig.params:  # ctypes would wrap out-of-range ints silently
        if isinstance(t, T.Scalar) and t.is_int:
            lo, hi = int_range(t)
            lines.append(f"        if not {lo} <= {pname} <= {hi}: return __ember_retry({tup})")
    if sig.result_kind != "none":
        lines += ["        __ember_out = __ember_Result()", f"        __ember_r = __ember_cfunc({cargs}{', ' if params else ''}__ember_ref(__ember_out))"]
    else:
        lines.append(f"        __ember_r = __ember_cfunc({cargs})")
    lines += ["    except (__ember_ArgError, TypeError, ValueError, OverflowError):",
              f"        return __ember_retry({tup})",
              "    if __ember_r:", f"        return __ember_fail(__ember_r, {tup})",
              _result_line(sig, tup)]
    namespace: dict[str, Any] = {"__ember_cfunc": cfunc, "__ember_ArgError": ctypes.ArgumentError,
                                 "__ember_ref": ctypes.byref,
                                 "__ember_complex": complex_abi.to_complex}
    if sig.result_kind != "none":
        namespace["__ember_Result"] = result_struct(sig.ret)
        namespace["__ember_convert"] = _converter(sig.ret)

    def retry(values: tuple) -> Any:
        fixed = recheck(values)
        if fixed is None:
            raise RuntimeError(f"kernel '{name}' rejected its arguments for an unknown reason")
        return namespace[name](*fixed)

    def fail(status: int, values: tuple) -> Any:
        if status == STATUS_RAISED:
            raise_error()
        return retry(values)

    namespace["__ember_retry"] = retry
    namespace["__ember_fail"] = fail
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from identifiers only
    return namespace[name]


def _result_line(sig: Signature, args: str) -> str:
    if sig.result_kind == "none":
        return "    return None"
    if sig.result_kind == "scalar" and isinstance(sig.ret, T.Scalar) and sig.ret.is_complex:
        return "    return __ember_convert(__ember_out)"
    if sig.result_kind == "scalar":  # a c_bool field reads as a Python bool already
        return "    return __ember_out.f0"
    if _borrows(sig):
        return f"    return __ember_convert(__ember_out, {args})"
    return "    return __ember_convert(__ember_out)"


# --- errors raised by kernels ----------------------------------------------------------------
ERROR_ACCESSORS = (("ember_error_kind", ctypes.c_char_p),
                   ("ember_error_message", ctypes.c_char_p),
                   ("ember_error_file", ctypes.c_char_p), ("ember_error_func", ctypes.c_char_p),
                   ("ember_error_line", ctypes.c_int32))
"""The library's error accessors (runtime/kernel_errors.c) and their result types."""


def error_raiser(lib: Any) -> Callable[[], Any]:
    """A function raising, in Python, the error a kernel of library `lib` raised in this
    thread (runtime/kernel_errors.c keeps it until the next call)."""
    try:
        readers = [getattr(lib, name) for name, _ in ERROR_ACCESSORS]
    except AttributeError:  # a library whose kernels cannot raise
        readers = []
    for reader, (_, restype) in zip(readers, ERROR_ACCESSORS, strict=False):
        reader.argtypes, reader.restype = [], restype

    def raise_error() -> Any:
        if not readers:
            raise RuntimeError("a kernel reported an error, but its library has no error state")
        kind, message, file, func, line = (r() for r in readers)
        raise_kernel_error((kind or b"RuntimeError").decode(), (message or b"").decode(
            errors="replace"), (file or b"").decode(), (func or b"kernel").decode(), line)

    return raise_error


def _scalar(text: str) -> Any:
    """The scalar whose str() is `text` (a kernel formatted it)."""
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        return float(text)


def raise_kernel_error(kind: str, message: str, file: str, func: str, line: int) -> Any:
    """Raise `kind(message)` with a last traceback frame at the user's `file`:`line` in
    `func`, so the traceback shows the line of the kernel that raised."""
    kind, _, form = kind.partition(":")
    cls = getattr(builtins, kind, RuntimeError)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = RuntimeError
    # E(x) of one scalar holds the number, as in Python (str(KeyError(4)) is '4')
    args = (_scalar(message),) if form == "value" else (message,) if message else ()
    error = cls(*args)
    if not file or line <= 0:
        raise error
    code = compile("\n" * (line - 1) + "raise __ember_error", file, "exec")
    exec(code.replace(co_name=func), {"__ember_error": error})  # noqa: S102 - fixed text
