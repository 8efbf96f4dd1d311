"""Runtime side of `ember.vectorize`/`guvectorize`: NumPy's inner-loop entry of a compiled loop
kernel (LLVM IR), and real `numpy.ufunc` objects made from such entries.

NumPy calls a ufunc's inner loop as `void loop(char **args, npy_intp const *dims, npy_intp
const *steps, void *data)`: `dims[0]` elements (the loop dimension), then the core dimensions
of a generalized ufunc; `steps[k]` the byte step of operand k along the loop, then each
operand's core strides in its core dimensions' order. `loop_entry` writes that function
(`ember_ufl_<name>`) for a loop kernel (frontend/batching.py: one rank-(1 + core) array per
operand, batched along axis 0): it turns the byte steps into the memref fields of Ember's
calling convention (abi.py) and calls the kernel's contiguous variant when every operand is
C-contiguous (the vectorized loop), else the strided kernel. No thunk, no Python objects.

Errors: a kernel that can raise runs inside an error frame (raising.framed); on a raise the
entry takes the GIL and sets the Python exception that `data` (a Python callable the API
keeps alive) returns. NumPy's legacy loops cannot report failure, so the ufunc call then
ends in a SystemError whose `__cause__` is the kernel's exception: an error, never a
silently wrong value.

Ufuncs are made through NumPy's C API table (the `_UFUNC_API` capsule, whose layout is part of
NumPy's ABI) with ctypes: `PyUFunc_FromFuncAndDataAndSignatureAndIdentity`. Why not a C
extension built at install time: it would need NumPy's headers at build time (NumPy in the
build requirements, a compiler for every wheel) for one call that ctypes makes as well, and
the loops themselves are generated per kernel anyway. NumPy keeps pointers to the arrays of
loops, data, type numbers and the name, so they live as long as the process (`_KEEP`), like
the libraries holding the loops.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from . import abi, raising

PY_API: Final = """
declare i32 @PyGILState_Ensure()
declare void @PyGILState_Release(i32)
declare ptr @PyErr_Occurred()
declare ptr @PyObject_CallNoArgs(ptr)
declare ptr @PyObject_Type(ptr)
declare void @PyErr_SetObject(ptr, ptr)
declare void @Py_DecRef(ptr)
"""


@dataclass(frozen=True)
class LoopOperand:
    """One operand of the loop kernel: its item size and, per core axis of the kernel's
    parameter, (index into dims, index into steps), or None for an axis of size 1 that NumPy
    does not have (a "()" operand the kernel takes as a 1-element array)."""

    itemsize: int
    core: tuple[tuple[int, int] | None, ...] = ()


@dataclass
class _Fields:
    """The descriptor values of one operand as IR operands: data pointer, sizes, strides."""

    data: str
    sizes: list[str]
    strides: list[str]

    def operands(self, data: str | None = None, n: str | None = None) -> list[str]:
        """The memref fields; `data`/`n`: another data pointer and loop length."""
        sizes = [n or self.sizes[0], *self.sizes[1:]]
        return abi.memref_operands(f"ptr {data or self.data}", "i64 0",
                                   [f"i64 {z}" for z in sizes],
                                   [f"i64 {z}" for z in self.strides])


def _operand(body: list[str], k: int, op: LoopOperand) -> _Fields:
    """Lines loading operand k's descriptor fields (element strides from byte steps)."""
    size = op.itemsize
    body += [f"  %ap{k} = getelementptr ptr, ptr %args, i64 {k}",
             f"  %d{k} = load ptr, ptr %ap{k}",
             f"  %sp{k} = getelementptr i64, ptr %steps, i64 {k}",
             f"  %sb{k} = load i64, ptr %sp{k}",
             f"  %st{k} = sdiv i64 %sb{k}, {size}"]
    sizes, strides = ["%n"], [f"%st{k}"]
    for j, axis in enumerate(op.core):
        if axis is None:
            sizes.append("1")
            strides.append("1")
            continue
        dim, step = axis
        body += [f"  %zp{k}.{j} = getelementptr i64, ptr %dims, i64 {dim}",
                 f"  %z{k}.{j} = load i64, ptr %zp{k}.{j}",
                 f"  %cp{k}.{j} = getelementptr i64, ptr %steps, i64 {step}",
                 f"  %cb{k}.{j} = load i64, ptr %cp{k}.{j}",
                 f"  %c{k}.{j} = sdiv i64 %cb{k}.{j}, {size}"]
        sizes.append(f"%z{k}.{j}")
        strides.append(f"%c{k}.{j}")
    return _Fields(f"%d{k}", sizes, strides)


def _contiguous(body: list[str], tag: str, sizes: list[str], strides: list[str]) -> str:
    """Whether an operand is C-contiguous: each axis longer than 1 has the stride of the
    axes after it (NumPy's rule)."""
    expected, flag = "1", "true"
    for j in reversed(range(len(sizes))):
        t = f"{tag}.{j}"
        body += [f"  %eq{t} = icmp eq i64 {strides[j]}, {expected}",
                 f"  %one{t} = icmp sle i64 {sizes[j]}, 1",
                 f"  %okax{t} = or i1 %eq{t}, %one{t}",
                 f"  %okc{t} = and i1 {flag}, %okax{t}",
                 f"  %ex{t} = mul i64 {expected}, {sizes[j]}"]
        expected, flag = f"%ex{t}", f"%okc{t}"
    return flag


def _all(body: list[str], tag: str, flags: list[str]) -> str:
    acc = "true"
    for j, flag in enumerate(flags):
        body.append(f"  %{tag}{j} = and i1 {acc}, {flag}")
        acc = f"%{tag}{j}"
    return acc


def _per_element(body: list[str], ops: list[_Fields], contiguous: str) -> None:
    """Block `percall`: the contiguous variant once per loop element (n = 1), for a generalized
    ufunc whose core blocks are contiguous but whose loop steps are not (a broadcast operand)."""
    body += ["percall:", "  br label %head", "head:",
             "  %i = phi i64 [ 0, %percall ], [ %i1, %next ]",
             "  %more = icmp slt i64 %i, %n", "  br i1 %more, label %next, label %done",
             "next:"]
    for k in range(len(ops)):
        body += [f"  %off{k} = mul i64 %i, %sb{k}", f"  %e{k} = getelementptr i8, ptr %d{k}, "
                 f"i64 %off{k}"]
    args = ", ".join(f for k, op in enumerate(ops) for f in op.operands(f"%e{k}", "1"))
    body += [f"  call void @{contiguous}({args})", "  %i1 = add i64 %i, 1", "  br label %head",
             "done:", "  ret void"]


def loop_entry(name: str, symbol: str, contiguous: str, operands: Sequence[LoopOperand],
               raises: bool) -> str:
    """LLVM IR of `ember_ufl_<name>`, NumPy's inner loop calling kernel `symbol` (or its
    contiguous variant `contiguous`) once over all `dims[0]` elements; a generalized ufunc
    whose core blocks are contiguous calls the contiguous variant per element instead of
    the strided kernel."""
    params = "ptr %args, ptr %dims, ptr %steps"
    body = ["entry:", "  %n = load i64, ptr %dims"]
    ops = [_operand(body, k, op) for k, op in enumerate(operands)]
    whole = _all(body, "all", [_contiguous(body, f"w{k}", op.sizes, op.strides)
                               for k, op in enumerate(ops)])
    args = ", ".join(f for op in ops for f in op.operands())
    gufunc = any(op.core for op in operands)
    fallback = "check" if gufunc else "strided"
    body += [f"  br i1 {whole}, label %contig, label %{fallback}",
             "contig:", f"  call void @{contiguous}({args})", "  ret void",
             "strided:", f"  call void @{symbol}({args})", "  ret void"]
    if gufunc:
        body.append("check:")
        cores = _all(body, "core", [_contiguous(body, f"k{k}", op.sizes[1:], op.strides[1:])
                                    for k, op in enumerate(ops)])
        body.append(f"  br i1 {cores}, label %percall, label %strided")
        _per_element(body, ops, contiguous)
    run = f"ember_ufg_{name}"
    text = "\n".join([f"define internal void @{run}({params}) noinline {{", *body, "}", ""])
    if not raises:
        return text + _outer(name, f"  call void @{run}(ptr %args, ptr %dims, ptr %steps)"
                                   "\n  ret void")
    framed = raising.framed(f"ember_ufr_{name}", params.split(", "), run, "ok",
                            [f"  ret i32 {abi.STATUS_RAISED}"])
    framed = framed.replace("define i32", "define internal i32", 1)
    return text + framed + PY_API + _outer(name, _RAISING_BODY.format(name=name))


def _outer(name: str, body: str) -> str:
    return (f"define void @ember_ufl_{name}(ptr %args, ptr %dims, ptr %steps, ptr %data) {{\n"
            f"entry:\n{body}\n}}\n")


_RAISING_BODY: Final = """  %st = call i32 @ember_ufr_{name}(ptr %args, ptr %dims, ptr %steps)
  %bad = icmp ne i32 %st, 0
  br i1 %bad, label %err, label %ok
ok:
  ret void
err:
  %g = call i32 @PyGILState_Ensure()
  %pending = call ptr @PyErr_Occurred()
  %clear = icmp eq ptr %pending, null
  br i1 %clear, label %set, label %done
set:
  %exc = call ptr @PyObject_CallNoArgs(ptr %data)
  %got = icmp ne ptr %exc, null
  br i1 %got, label %raise, label %done
raise:
  %ty = call ptr @PyObject_Type(ptr %exc)
  call void @PyErr_SetObject(ptr %ty, ptr %exc)
  call void @Py_DecRef(ptr %ty)
  call void @Py_DecRef(ptr %exc)
  br label %done
done:
  call void @PyGILState_Release(i32 %g)
  ret void"""


# --- numpy.ufunc objects ------------------------------------------------------------------
IDENTITIES: Final[dict[object, int]] = {0: 0, 1: 1, -1: 2, None: -1, "reorderable": -2}
"""`identity=` -> NumPy's PyUFunc_Zero/One/MinusOne/None/ReorderableNone; any other value is
PyUFunc_IdentityValue (-3) with that object."""
_IDENTITY_VALUE: Final = -3
_FROM_FUNC: Final = 42
"""PyUFunc_FromFuncAndDataAndSignatureAndIdentity in NumPy's _UFUNC_API table."""
_KEEP: list[object] = []


@dataclass(frozen=True)
class Loop:
    """One inner loop of a ufunc: its entry address, its `data` object (None: NULL) and the
    NumPy dtypes of its inputs then outputs."""

    address: int
    data: Any
    dtypes: tuple[np.dtype[Any], ...]


def _api() -> Any:
    import importlib

    umath = importlib.import_module("numpy._core._multiarray_umath")

    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = ctypes.cast(get(umath._UFUNC_API, None), ctypes.POINTER(ctypes.c_void_p))
    proto = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p,
                              ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                              ctypes.c_char_p, ctypes.c_void_p)
    return proto(table[_FROM_FUNC])


def make_ufunc(loops: Sequence[Loop], nin: int, nout: int, name: str, doc: str,
               signature: str | None, identity: object) -> np.ufunc:
    """A `numpy.ufunc` (generalized if `signature`) with one inner loop per `loops` row."""
    count = len(loops)
    funcs = (ctypes.c_void_p * count)(*(lp.address for lp in loops))
    data = (ctypes.c_void_p * count)(*(None if lp.data is None else id(lp.data)
                                       for lp in loops))
    types = bytes(dt.num for lp in loops for dt in lp.dtypes)
    ident = IDENTITIES.get(identity, _IDENTITY_VALUE) if _hashable(identity) \
        else _IDENTITY_VALUE
    value = id(identity) if ident == _IDENTITY_VALUE else None
    strings = [name.encode(), doc.encode(), None if signature is None else signature.encode()]
    ufunc = _api()(ctypes.addressof(funcs), ctypes.addressof(data), types, count, nin, nout,
                   ident, strings[0], strings[1], 0, strings[2], value)
    _KEEP.append((funcs, data, types, strings, loops, identity, ufunc))
    assert isinstance(ufunc, np.ufunc)
    return ufunc


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return type(value) in (int, str, type(None)) and value in IDENTITIES
