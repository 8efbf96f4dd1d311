"""Module rewrites done from Python where no upstream pass does exactly what Ember needs.

`precise_libm_calls`: `convert-math-to-llvm` lowers `math.expm1` to `exp(x) - 1`, which loses
all precision near 0; CPython calls libm's expm1. Ops listed in `LIBM_CALLS` become direct
calls of the libm function before the math lowering passes run.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import func

LIBM_CALLS: Final = {"math.expm1": "expm1"}


def precise_libm_calls(module: ir.Module) -> None:
    found: list[ir.Operation] = []

    def visit(op: ir.Operation) -> ir.WalkResult:
        if op.name in LIBM_CALLS:
            found.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    declared: set[str] = set()
    for op in found:
        ty = op.results[0].type
        name = LIBM_CALLS[op.name] + ("f" if ty == ir.F32Type.get() else "")
        if name not in declared:
            _declare(module, name, ty, len(op.operands))
            declared.add(name)
        with ir.InsertionPoint(op), op.location:
            call = func.CallOp([ty], ir.FlatSymbolRefAttr.get(name), list(op.operands))
        op.results[0].replace_all_uses_with(call.results[0])
        op.erase()


def _declare(module: ir.Module, name: str, ty: ir.Type, arity: int) -> None:
    for existing in module.body.operations:
        if getattr(existing, "sym_name", None) is not None and existing.sym_name.value == name:
            return
    with ir.InsertionPoint.at_block_begin(module.body), ir.Location.unknown():
        decl = func.FuncOp(name, ir.FunctionType.get([ty] * arity, [ty]))
        decl.attributes["sym_visibility"] = ir.StringAttr.get("private")
