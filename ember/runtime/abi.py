"""The native calling convention between Python (ctypes) and compiled kernels.

For each kernel Ember emits an LLVM IR *entry thunk* `ember_<name>` next to the lowered
kernel. Array parameters arrive as `PyObject*`: the thunk itself checks type, rank, dtype,
byte order, writability and strides against numpy's array struct and builds the memref
fields from it, so the Python side never builds descriptors (no per-call ctypes structs for
arrays). Scalars arrive as C values. Every thunk returns an `i32` status (`STATUS_*`: 0 = ok, 1 = an array
argument was rejected before the kernel ran, so Python re-checks the arguments to raise the
precise error; 2 = the kernel raised, its error kept thread-locally in the library, see
runtime/kernel_errors.c) and writes any result (a scalar, a tuple, an array) through a
trailing out-pointer.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Final

import numpy as np

from .. import types as T
from ..binding import Binding
from . import complex_abi

# numpy 2 object layouts (x86-64 / aarch64, 64-bit): PyArrayObject_fields and PyArray_Descr.
ARRAY_DATA, ARRAY_ND, ARRAY_DIMS, ARRAY_STRIDES, ARRAY_DESCR, ARRAY_FLAGS = 16, 24, 32, 40, 56, 64
DESCR_BYTEORDER, DESCR_TYPE_NUM = 26, 28
NPY_WRITEABLE: Final = 0x0400
NPY_C_CONTIGUOUS: Final = 0x0001
STATUS_OK: Final = 0
STATUS_REJECTED: Final = 1
STATUS_RAISED: Final = 2


def verify_numpy_layout() -> None:
    """Check the struct offsets above against this numpy build (once per process)."""
    a = np.zeros((3, 5), dtype=np.float32)[:, ::2]
    base = id(a)

    def read(addr: int, ctype: type) -> int:
        return ctype.from_address(addr).value  # type: ignore[attr-defined]

    ok = (read(base + ARRAY_DATA, ctypes.c_void_p) == a.ctypes.data
          and read(base + ARRAY_ND, ctypes.c_int) == 2
          and read(read(base + ARRAY_DIMS, ctypes.c_void_p) + 8, ctypes.c_int64) == 3
          and read(read(base + ARRAY_STRIDES, ctypes.c_void_p) + 8, ctypes.c_int64) == 8
          and read(read(base + ARRAY_DESCR, ctypes.c_void_p) + DESCR_TYPE_NUM,
                   ctypes.c_int) == a.dtype.num)
    if not ok:
        raise RuntimeError(f"numpy {np.__version__} has an array layout Ember does not know")


def llvm_scalar(t: T.Scalar) -> str:
    return t.info.llvm


# --- the memref descriptor ----------------------------------------------------------------
MEMREF_LAYOUT: Final = (("allocated", "ptr", False), ("aligned", "ptr", False),
                        ("offset", "i64", False), ("sizes", "i64", True),
                        ("strides", "i64", True))
"""The fields of MLIR's memref descriptor, in order, as (name, LLVM type, one per dimension).
Sizes and strides count elements. A lowered kernel takes each array as these fields."""
MEMREF_ALIGNED: Final = 1
"""The position of `aligned` (the data pointer) among a descriptor's expanded fields."""


def memref_fields(ndim: int) -> list[tuple[str, str]]:
    """The expanded fields of a rank-`ndim` descriptor: (name, LLVM type), `sizes[d]` and
    `strides[d]` one per dimension."""
    return [(f"{name}[{d}]" if per_dim else name, ty)
            for name, ty, per_dim in MEMREF_LAYOUT for d in (range(ndim) if per_dim else [0])]


def memref_operands(data: object, offset: object, sizes: list, strides: list) -> list:
    """The expanded field values of a descriptor of the array at `data` (allocated and
    aligned are both `data`), in MEMREF_LAYOUT order."""
    return [data, data, offset, *sizes, *strides]


def llvm_memref(ndim: int) -> str:
    items = [f"[{ndim} x {ty}]" if per_dim else ty for _, ty, per_dim in MEMREF_LAYOUT]
    return "{ " + ", ".join(items) + " }"


def result_slots(t: T.Scalar | T.Array) -> int:
    """The 8-byte slots a packed thunk stores result item `t` in (an array: every field of
    its descriptor, which has no padding; a c128 two: runtime/complex_abi.py)."""
    if isinstance(t, T.Scalar) and t.is_complex:
        return complex_abi.result_slots(t)
    return len(memref_fields(t.ndim)) if isinstance(t, T.Array) else 1


def llvm_result(t: T.Type) -> str:
    """The LLVM type the lowered kernel returns for Ember type `t`."""
    if isinstance(t, T.NoneType):
        return "void"
    if isinstance(t, T.Tuple):
        return "{ " + ", ".join(llvm_result(i) for i in t.items) + " }"
    if isinstance(t, T.Array):
        return llvm_memref(t.ndim)
    assert isinstance(t, T.Scalar)
    return llvm_scalar(t)


# --- ctypes side ------------------------------------------------------------------------------
def int_range(t: T.Scalar) -> tuple[int, int]:
    """The values an integer parameter of type `t` accepts."""
    if t.kind == "u":
        return 0, (1 << t.bits) - 1
    return -(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1


def ctype_of(t: T.Scalar) -> type:
    if t.is_complex:  # ctypes has no complex type (runtime/complex_abi.py)
        return complex_abi.parts_ctype(t)
    return getattr(ctypes, t.info.ctype)


_MEMREF_CTYPES: Final = {"ptr": ctypes.c_void_p, "i64": ctype_of(T.i64)}
_BY_MLIR: Final = {**{r.mlir: r for r in T.SCALAR_KINDS.values()},
                   "index": T.u64.info, "ptr": T.u64.info}


def mlir_kind(name: str) -> T.ScalarKind:
    """The scalar kind of a kernel operand of MLIR type `name` (as the GPU launch plan names
    it; `index` and the descriptor's `ptr` fields are 64-bit words): `launch_ctype` is the
    ctypes type of the CUDA launch parameter."""
    return _BY_MLIR[name]


def memref_struct(ndim: int) -> type:
    fields = [(name, _MEMREF_CTYPES[ty] * ndim if per_dim else _MEMREF_CTYPES[ty])
              for name, ty, per_dim in MEMREF_LAYOUT]
    return type(f"MemRef{ndim}D", (ctypes.Structure,), {"_fields_": fields})


def result_struct(t: T.Type) -> type:
    """ctypes mirror of the out-struct for tuple and array results."""
    items = t.items if isinstance(t, T.Tuple) else (t,)
    fields = []
    for k, item in enumerate(items):
        ct = memref_struct(item.ndim) if isinstance(item, T.Array) else ctype_of(item)  # type: ignore[arg-type]
        fields.append((f"f{k}", ct))
    return type("Result", (ctypes.Structure,), {"_fields_": fields})


@dataclass(frozen=True)
class Signature:
    """How Python calls the thunk of one kernel."""

    params: tuple[tuple[str, T.Type], ...]
    ret: T.Type
    written: frozenset[str]
    binding: Binding | None = None
    """How Python arguments bind to `params` (which stay flat: what the thunk takes); None:
    plain positional parameters."""

    @property
    def has_arrays(self) -> bool:
        return any(isinstance(t, T.Array) for _, t in self.params)

    @property
    def result_kind(self) -> str:
        """'none', 'scalar' or 'out' (a tuple or an array)."""
        if isinstance(self.ret, T.NoneType):
            return "none"
        return "scalar" if isinstance(self.ret, T.Scalar) else "out"

    def argtypes(self) -> list[type]:
        types: list[type] = []
        for _, t in self.params:
            if isinstance(t, T.Scalar) and t.is_complex:
                types += complex_abi.argtypes(t)  # two doubles
            else:
                types.append(ctypes.py_object if isinstance(t, T.Array) else ctype_of(t))  # type: ignore[arg-type]
        return types + ([ctypes.c_void_p] if self.result_kind != "none" else [])

    def restype(self) -> type:
        return ctypes.c_int32


def encode_signature(sig: Signature) -> dict:
    """A JSON-able form of `sig` (disk-cache metadata, AOT loaders)."""
    return {"params": [[n, T.encode(t)] for n, t in sig.params], "ret": T.encode(sig.ret),
            "written": sorted(sig.written),
            **({"binding": sig.binding.to_json()} if sig.binding is not None else {})}


def decode_signature(data: dict) -> Signature:
    params = tuple((n, T.decode(t)) for n, t in data["params"])
    binding = Binding.from_json(data["binding"]) if "binding" in data else None
    return Signature(params, T.decode(data["ret"]), frozenset(data["written"]), binding)
