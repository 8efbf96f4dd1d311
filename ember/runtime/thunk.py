"""LLVM IR text of the entry thunk `ember_<name>` (the convention is described in abi.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .. import types as T
from . import abi, complex_abi, raising

NDARRAY_TYPE_GLOBAL = "ember_py_ndarray_type"


PRELUDE = f"@{NDARRAY_TYPE_GLOBAL} = weak global ptr null\n"
"""Set by the loader to numpy's ndarray type object; thunks compare argument types with it."""


ARENA = """
declare noalias ptr @_mlir_memref_to_llvm_alloc(i64)
declare void @_mlir_memref_to_llvm_free(ptr)
declare void @ember_arena_release()
"""
"""Allocator of gradient libraries: derivative code cannot go through MLIR's buffer
deallocation (Enzyme's output already frees its caches), so it allocates from the per-thread
tape arena of runtime/arena.c (linked by runtime/tape.py), which keeps its blocks between
calls; the thunk releases what a call left at its end (also when the kernel raised). `noalias`:
live blocks never overlap (as malloc's), so LLVM may keep a shadow element in a register
across stores to a cache (lowering/adattrs.py)."""


_RELEASE: Final = "  call void @ember_arena_release()"


def _array_checks(out: list[str], k: int, t: T.Array, written: bool,
                  broadcast: bool = False) -> list[str]:
    """Emit the checks of array argument k; return its memref operands. `%contig<k>`
    says C-contiguous; with `broadcast`, also a leading axis of stride 0 over a
    C-contiguous rest (`np.broadcast_to(a, (n, *a.shape))`, see `entry_thunk`)."""
    p = f"%a{k}"
    out += [f"  %ty{k}.p = getelementptr i8, ptr {p}, i64 8",
            f"  %ty{k} = load ptr, ptr %ty{k}.p",
            f"  %nt{k} = load ptr, ptr @{NDARRAY_TYPE_GLOBAL}",
            f"  %isarr{k} = icmp eq ptr %ty{k}, %nt{k}",
            f"  br i1 %isarr{k}, label %fields{k}, label %fail",
            f"fields{k}:"]
    conds = []

    def field(name: str, offset: int, ty: str, base: str = p) -> str:
        out.extend([f"  %{name}.p = getelementptr i8, ptr {base}, i64 {offset}",
                    f"  %{name} = load {ty}, ptr %{name}.p"])
        return f"%{name}"

    nd = field(f"nd{k}", abi.ARRAY_ND, "i32")
    out.append(f"  %oknd{k} = icmp eq i32 {nd}, {t.ndim}")
    conds.append(f"%oknd{k}")
    descr = field(f"descr{k}", abi.ARRAY_DESCR, "ptr")
    num = field(f"num{k}", abi.DESCR_TYPE_NUM, "i32", descr)
    order = field(f"order{k}", abi.DESCR_BYTEORDER, "i8", descr)
    out += [f"  %oknum{k} = icmp eq i32 {num}, {t.dtype.np_dtype.num}",
            f"  %okord{k} = icmp ne i8 {order}, 62"]
    conds += [f"%oknum{k}", f"%okord{k}"]
    if written:
        flags = field(f"flags{k}", abi.ARRAY_FLAGS, "i32")
        out += [f"  %wr{k} = and i32 {flags}, {abi.NPY_WRITEABLE}",
                f"  %okwr{k} = icmp ne i32 %wr{k}, 0"]
        conds.append(f"%okwr{k}")
    data = field(f"data{k}", abi.ARRAY_DATA, "ptr")
    dims = field(f"dims{k}", abi.ARRAY_DIMS, "ptr")
    strides = field(f"strides{k}", abi.ARRAY_STRIDES, "ptr")
    size = t.dtype.np_dtype.itemsize
    sizes, steps = [], []
    for d in range(t.ndim):
        out += [f"  %dp{k}.{d} = getelementptr i64, ptr {dims}, i64 {d}",
                f"  %dim{k}.{d} = load i64, ptr %dp{k}.{d}",
                f"  %sp{k}.{d} = getelementptr i64, ptr {strides}, i64 {d}",
                f"  %sb{k}.{d} = load i64, ptr %sp{k}.{d}",
                f"  %rem{k}.{d} = srem i64 %sb{k}.{d}, {size}",
                f"  %okst{k}.{d} = icmp eq i64 %rem{k}.{d}, 0",
                f"  %st{k}.{d} = sdiv exact i64 %sb{k}.{d}, {size}"]
        conds.append(f"%okst{k}.{d}")
        sizes.append(f"i64 %dim{k}.{d}")
        steps.append(f"i64 %st{k}.{d}")
    contiguous = field(f"cflags{k}", abi.ARRAY_FLAGS, "i32")
    out += [f"  %cf{k} = and i32 {contiguous}, {abi.NPY_C_CONTIGUOUS}",
            f"  %{'cc' if broadcast else 'contig'}{k} = icmp ne i32 %cf{k}, 0"]
    if broadcast:  # (rank >= 2: the innermost stride stays 1)
        _broadcast_flag(out, k, t.ndim)
    acc = conds[0]
    for j, c in enumerate(conds[1:]):
        out.append(f"  %ok{k}.{j} = and i1 {acc}, {c}")
        acc = f"%ok{k}.{j}"
    out += [f"  br i1 {acc}, label %next{k}, label %fail", f"next{k}:"]
    return abi.memref_operands(f"ptr {data}", "i64 0", sizes, steps)


def _broadcast_flag(out: list[str], k: int, ndim: int) -> None:
    """`%contig<k>`: C-contiguous (`%cc<k>`), or stride 0 along axis 0 and C-order strides
    (in elements, from `%st<k>.d`) along the others: 1 innermost, each outer one the next
    one's stride times its size."""
    conds = [f"%z{k}"]
    out.append(f"  %z{k} = icmp eq i64 %st{k}.0, 0")
    want = "1"
    for d in range(ndim - 1, 0, -1):
        out.append(f"  %bc{k}.{d} = icmp eq i64 %st{k}.{d}, {want}")
        conds.append(f"%bc{k}.{d}")
        out.append(f"  %bw{k}.{d} = mul i64 {want}, %dim{k}.{d}")
        want = f"%bw{k}.{d}"
    acc = conds[0]
    for j, c in enumerate(conds[1:]):
        out.append(f"  %bca{k}.{j} = and i1 {acc}, {c}")
        acc = f"%bca{k}.{j}"
    out.append(f"  %contig{k} = or i1 %cc{k}, {acc}")


def _scalar_param(k: int, t: T.Scalar) -> tuple[str, str, list[str]]:
    """(thunk parameter, kernel operand, conversion lines) of scalar argument k."""
    if t.is_bool:
        return f"i8 %a{k}", f"i1 %b{k}", [f"  %b{k} = icmp ne i8 %a{k}, 0"]
    ty = abi.llvm_scalar(t)
    return f"{ty} %a{k}", f"{ty} %a{k}", []


_REJECTED: Final = [f"  ret i32 {abi.STATUS_REJECTED}"]
_RAISED: Final = [f"  ret i32 {abi.STATUS_RAISED}"]


def _ret(sig: abi.Signature, out: str = "%out") -> tuple[str, Callable[[str], list[str]],
                                                       list[str]]:
    """(thunk return type, lines returning the kernel result %<name>, failure lines): the
    status, any result stored through `out`."""
    if sig.result_kind == "none":
        return "i32", lambda r: [f"  ret i32 {abi.STATUS_OK}"], _REJECTED
    ty = abi.llvm_result(sig.ret)
    return "i32", lambda r: [f"  store {ty} %{r}, ptr {out}", f"  ret i32 {abi.STATUS_OK}"], \
        _REJECTED


def _call(body: list[str], kernel_ret: str, symbol: str, operands: list[str], result: str,
          after: Callable[[str], list[str]], arena: bool = False) -> None:
    call = f"call {kernel_ret} @{symbol}({', '.join(operands)})"
    body.append(f"  {call}" if kernel_ret == "void" else f"  %{result} = {call}")
    if arena:
        body.append(_RELEASE)
    body.extend(after(result))


def _packed_ret(sig: abi.Signature) -> tuple[str, Callable[[str], list[str]], list[str]]:
    """Packed thunks: results stored through %res (a tuple's items one after the other in
    8-byte slots, `abi.result_slots` each: a scalar in one, an array's descriptor in its
    fields), the status returned."""
    if not isinstance(sig.ret, T.Tuple):
        return _ret(sig, "%res")
    ty = abi.llvm_result(sig.ret)
    items = sig.ret.items

    def store(r: str) -> list[str]:
        lines, slot = [], 0
        for k, item in enumerate(items):
            lines += [f"  %{r}.v{k} = extractvalue {ty} %{r}, {k}",
                      f"  %{r}.p{k} = getelementptr i8, ptr %res, i64 {8 * slot}",
                      f"  store {abi.llvm_result(item)} %{r}.v{k}, ptr %{r}.p{k}"]
            slot += abi.result_slots(item)
        return [*lines, f"  ret i32 {abi.STATUS_OK}"]

    return "i32", store, _REJECTED


def _load_slot(body: list[str], k: int, ty: str) -> str:
    body += [f"  %slot{k} = getelementptr i8, ptr %slots, i64 {8 * k}",
             f"  %a{k} = load {ty}, ptr %slot{k}"]
    return f"%a{k}"


def packed_thunk(name: str, symbol: str, sig: abi.Signature, contiguous: str | None,
                 raises: bool = False) -> str:
    """`i32 ember_pk_<name>(ptr slots, ptr res)`: arguments in 8-byte slots (PyObject* for
    arrays, the C value for scalars), for the C dispatcher (ember/_dispatch.c); the same
    checks and status as the ctypes thunk. Any result: None, a scalar, an array (its
    descriptor), a tuple of these (see `_packed_ret`)."""
    return entry_thunk(name, symbol, sig, contiguous, packed=True, raises=raises)


def _arguments(sig: abi.Signature, body: list[str], packed: bool,
               broadcast: frozenset[str] = frozenset()) -> tuple[list[str], list[str], list[str]]:
    """(thunk parameters, kernel operands, C-contiguity flags), emitting the checks."""
    params, operands, flags = [], [], []
    for k, (pname, t) in enumerate(sig.params):
        if isinstance(t, T.Array):
            if packed:
                _load_slot(body, k, "ptr")
            else:
                params.append(f"ptr %a{k}")
            operands += _array_checks(body, k, t, pname in sig.written,
                                      pname in broadcast and t.ndim >= 2)
            flags.append(f"%contig{k}")
            continue
        assert isinstance(t, T.Scalar)
        if t.is_complex:  # two doubles, or a pointer to them (runtime/complex_abi.py)
            cparams, operand = complex_abi.thunk_param(k, t, packed, body)
            params += cparams
            operands.append(operand)
            continue
        param, operand, lines = _scalar_param(k, t)
        if packed:
            _load_slot(body, k, param.split()[0])
        else:
            params.append(param)
        operands.append(operand)
        body += lines
    if packed:
        return ["ptr %slots", "ptr %res"], operands, flags
    if sig.result_kind != "none":
        params.append("ptr %out")
    return params, operands, flags


def _all(body: list[str], flags: list[str]) -> str:
    acc = flags[0]
    for j, f in enumerate(flags[1:]):
        body.append(f"  %allc{j} = and i1 {acc}, {f}")
        acc = f"%allc{j}"
    return acc


def entry_thunk(name: str, symbol: str, sig: abi.Signature, contiguous: str | None = None,
                contiguous_only: bool = False, arena: bool = False,
                packed: bool = False, raises: bool = False,
                broadcast: frozenset[str] = frozenset()) -> str:
    """The thunk `ember_<name>` calling the lowered kernel `symbol`; with `contiguous`, the
    symbol of a variant taking identity-layout memrefs, called when all arrays are
    C-contiguous. With `contiguous_only`, `symbol` itself takes identity layouts and any
    other array is rejected. With `arena`, the call's allocations are freed at its end.
    With `packed`, see `packed_thunk`. With `raises`, the kernel runs in an error frame
    (runtime/raising.py): a raise returns status 2, the error kept for the caller.
    `broadcast`: read-only array parameters of a `contiguous_only` kernel that may also be
    one C-contiguous block repeated along axis 0 with stride 0 (vmap of grad passes an
    unbatched `wrt` argument so, api/vmap.py): the kernel reads them through their strides."""
    prefix = "ember_pk_" if packed else "ember_"
    body = ["entry:"]
    params, operands, flags = _arguments(sig, body, packed, broadcast - sig.written)
    ret_ty, after, fail = _packed_ret(sig) if packed else _ret(sig)
    kernel_ret = abi.llvm_result(sig.ret)
    if contiguous_only and flags:
        body += [f"  br i1 {_all(body, flags)}, label %contiguous, label %fail", "contiguous:"]
    elif contiguous and flags:
        body += [f"  br i1 {_all(body, flags)}, label %contiguous, label %strided",
                 "contiguous:"]
        _call(body, kernel_ret, contiguous, operands, "rc", after, arena)
        body.append("strided:")
    _call(body, kernel_ret, symbol, operands, "r", after, arena)
    if sig.has_arrays:
        body += ["fail:", *fail]
    if not raises:
        return "\n".join([f"define {ret_ty} @{prefix}{name}({', '.join(params)}) {{", *body,
                          "}", ""])
    guarded = f"{prefix}{name}.guarded"
    return "\n".join([f"define internal {ret_ty} @{guarded}({', '.join(params)}) noinline {{",
                      *body, "}", raising.framed(f"{prefix}{name}", params, guarded, "status",
                                                 [_RELEASE, *_RAISED] if arena else _RAISED)])
