"""IR: `tir.GlobalArray` (a module-level NumPy array frozen into the kernel) -> one constant
`memref.global` per distinct array in the module and a `memref.get_global` per use, seen
through the generic strided type by a full-size subview (the view Enzyme differentiates; the
constant has no derivative: LLVM marks it constant, and Enzyme treats it as inactive).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from .. import types as T
from ..frontend import tir
from .loops import subview
from .protocols import Emitter
from .types import memref_type, storage_type


def emit_global_array(em: Emitter, e: tir.GlobalArray) -> Any:
    assert isinstance(e.type, T.Array)
    static = ir.MemRefType.get(list(e.shape), storage_type(e.type.dtype))
    _declare(e, static)
    value = memref.get_global(static, e.symbol)
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    sizes: list[ir.Value | int] = [arith.constant(index, n) for n in e.shape]
    rank = len(e.shape)
    return subview(memref_type(e.type), value, [zero] * rank, sizes, [one] * rank)


def _declare(e: tir.GlobalArray, static: ir.MemRefType) -> None:
    """The module's `memref.global constant @symbol`, added once."""
    module = _module()
    if e.symbol in ir.SymbolTable(module.operation):
        return
    assert isinstance(e.type, T.Array)
    storage = np.dtype(np.uint8) if e.type.dtype.is_bool else e.type.dtype.np_dtype
    values = np.frombuffer(e.data, dtype=storage).reshape(e.shape)
    init = ir.DenseElementsAttr.get(np.ascontiguousarray(values), type=static.element_type)
    with ir.InsertionPoint.at_block_begin(module.body), ir.Location.unknown():
        # no `alignment` attribute: Enzyme's MLIR parser rejects it in the printed form
        memref.GlobalOp(e.symbol, ir.TypeAttr.get(static), sym_visibility="private",
                        initial_value=init, constant=True)


def _module() -> Any:
    """The module around the current insertion point."""
    op = ir.InsertionPoint.current.block.owner
    while op.name != "builtin.module":
        op = op.parent
    return op.opview
