"""Complex values before Enzyme: convert-complex-to-standard, then what it leaves.

convert-complex-to-standard writes complex arithmetic as arith/math ops on the two parts,
leaving complex.create/re/im and memrefs of complex, which Enzyme 0.0.16's reverse mode
handles. Two things it does not handle:
* `math.atan2` (complex log, pow), `math.expm1`, `math.sinh`/`cosh` (complex sin, cos, tan,
  tanh): no adjoint. Each becomes ir/adrules.py's closed form (`f(sg(x))` plus the linear
  term Enzyme differentiates).
* forward mode (jvp) has no rule for complex values at all (it crashes): `scf.for` loops and
  `scf.if`s carrying complex values are rewritten to carry their two parts, then
  `re(create(a, b))` is folded to `a` (and `im` to `b`); a kernel that still has complex
  values after that (complex arrays, `while` loops) is refused with a CompileError.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith, scf
from mlir.dialects import complex as cx
from mlir.dialects import math as m
from mlir.passmanager import PassManager

from ..errors import CompileError
from ..ir.adrules import RULES, emit
from ..ir.context import ops_where

TO_PARTS: Final = (
    # Complex arithmetic (ir/complex_ops.py) as arith/math on the parts: Enzyme 0.0.16 then
    # sees only floats plus complex.create/re/im and memrefs of complex, which it handles.
    # Division by the textbook formula: Smith's algorithm also computes the inf/zero special
    # cases, whose unselected infinities make NaN derivatives (inf * 0 adjoints).
    "builtin.module(convert-complex-to-standard{complex-range=basic})")


def prepare(module: ir.Module, reverse: bool) -> list[ir.Location]:
    """Rewrite `module` as above (only a module with complex values: the conversion
    changes how later passes fold other code); return the locations of complex values
    forward mode cannot differentiate (empty in reverse mode)."""
    if not ops_where(module.operation, _complex_op):
        return []
    PassManager.parse(TO_PARTS).run(module.operation)
    _differentiable_math(module)
    if reverse:
        return []
    while _split_loop(module) or _split_if(module):
        pass
    _fold_parts(module)
    return [op.location for op in ops_where(module.operation, _complex_op)]


def refusal() -> CompileError:
    return CompileError(
        "cannot differentiate this complex value in forward mode (jvp): Enzyme 0.0.16 has "
        "no forward rule for complex numbers stored in arrays or carried by while loops"
    ).with_note(
        "use ember.grad, value_and_grad or vjp (reverse mode handles them), or compute with "
        "the real and imaginary parts as floats")


_RULED: Final = {f"math.{name}": name for name in RULES if hasattr(m, name)}
"""The math ops convert-complex-to-standard writes (atan2, expm1, sinh, cosh, ...) that
Enzyme has no adjoint for, but ir/adrules.py has a closed-form rule: by op name."""


def _differentiable_math(module: ir.Module) -> None:
    """Each such op (not already emitted through its rule: its operands stopped) becomes
    its rule's form."""
    for op in ops_where(module.operation, lambda o: o.name in _RULED and not _stopped(o)):
        name = _RULED[op.name]
        with ir.InsertionPoint(op), op.location:
            build = getattr(m, name)
            value = emit(name, list(op.operands), lambda xs, build=build: build(*xs))
        op.results[0].replace_all_uses_with(value)
        op.erase()


def _stopped(op: ir.Operation) -> bool:
    """All operands are stop-gradients (ir/adrules.py: a bitcast round trip)."""
    return all(isinstance(v.owner, ir.OpView | ir.Operation) and v.owner.name == "arith.bitcast"
               for v in op.operands)


def _is_complex(v: ir.Value) -> bool:
    return isinstance(v.type, ir.ComplexType)


def _split(values: list[ir.Value]) -> list[ir.Value]:
    """Each complex value as its two parts (complex.re, complex.im), others as they are."""
    out: list[ir.Value] = []
    for v in values:
        out += [cx.re(v), cx.im(v)] if _is_complex(v) else [v]
    return out


def _joined(like: list[ir.Value], parts: list[ir.Value]) -> list[ir.Value]:
    """The inverse of `_split`: values of the types of `like` from `parts`."""
    out, k = [], 0
    for v in like:
        if _is_complex(v):
            out.append(cx.create_(v.type, parts[k], parts[k + 1]))
            k += 2
        else:
            out.append(parts[k])
            k += 1
    return out


def _split_loop(module: ir.Module) -> bool:
    """Rewrite one scf.for carrying complex values to carry their parts (forward mode);
    False when none is left."""
    loops = ops_where(module.operation, lambda o: o.name == "scf.for" and any(
        _is_complex(r) for r in o.results))
    if not loops:
        return False
    old = loops[0].opview
    with ir.InsertionPoint(old), old.location:
        new = scf.ForOp(old.lowerBound, old.upperBound, old.step, _split(list(old.initArgs)))
    old_block, block = old.body, new.body
    old_args = list(old_block.arguments)[1:]
    with ir.InsertionPoint.at_block_begin(block), old.location:
        carried = _joined(old_args, list(new.inner_iter_args))
    old_block.arguments[0].replace_all_uses_with(new.induction_variable)
    for arg, value in zip(old_args, carried, strict=True):
        arg.replace_all_uses_with(value)
    terminator = list(old_block.operations)[-1]
    anchor = list(block.operations)[-1]  # the last complex.create of the carried values
    for op in list(old_block.operations)[:-1]:
        op.move_after(anchor)
        anchor = op
    with ir.InsertionPoint(block), old.location:
        scf.YieldOp(_split(list(terminator.operands)))
    _replace(old, new)
    return True


def _split_if(module: ir.Module) -> bool:
    """Rewrite one scf.if yielding complex values to yield their parts (forward mode)."""
    found = ops_where(module.operation, lambda o: o.name == "scf.if" and any(
        _is_complex(r) for r in o.results))
    if not found:
        return False
    old = found[0].opview
    types: list[ir.Type] = []
    for r in old.results:
        types += [r.type.element_type] * 2 if _is_complex(r) else [r.type]
    with ir.InsertionPoint(old), old.location:
        new = scf.IfOp(old.condition, types, has_else=True)
    for region, block in ((old.thenRegion, new.then_block), (old.elseRegion, new.else_block)):
        ops = list(region.blocks[0].operations)
        with old.location:
            _move_into(block, ops[:-1])
            with ir.InsertionPoint(block):
                scf.YieldOp(_split(list(ops[-1].operands)))
    _replace(old, new)
    return True


def _replace(old: ir.OpView, new: ir.OpView) -> None:
    """Use `new`'s results (complex values as their two parts) for `old`'s; erase `old`."""
    with ir.InsertionPoint(old), old.location:
        results = _joined(list(old.results), list(new.results))
    for r, value in zip(old.results, results, strict=True):
        r.replace_all_uses_with(value)
    old.operation.erase()


def _move_into(block: ir.Block, ops: list[ir.Operation]) -> None:
    """Append `ops` (in order) to the empty `block`."""
    if not ops:
        return
    first = ops[0]
    with ir.InsertionPoint(block):
        marker = arith.constant(ir.IndexType.get(), 0)
    first.move_before(marker.owner)
    anchor = first
    for op in ops[1:]:
        op.move_after(anchor)
        anchor = op
    marker.owner.erase()


def _fold_parts(module: ir.Module) -> None:
    """re(create(a, b)) -> a, im(create(a, b)) -> b; then drop unused creates."""
    for op in ops_where(module.operation, lambda o: o.name in ("complex.re", "complex.im")):
        source = op.operands[0].owner
        if isinstance(source, ir.OpView):
            source = source.operation
        if not isinstance(source, ir.Operation):  # a block argument
            continue
        k = int(op.name == "complex.im")
        if source.name == "complex.create":
            op.results[0].replace_all_uses_with(source.operands[k])
            op.erase()
        elif source.name == "complex.constant":
            with ir.InsertionPoint(op), op.location:
                part = ir.ArrayAttr(source.attributes["value"])[k]
                value = arith.constant(op.results[0].type, part)
            op.results[0].replace_all_uses_with(value)
            op.erase()
    for op in reversed(ops_where(module.operation,
                                 lambda o: o.name in ("complex.create", "complex.constant"))):
        if all(False for _ in op.results[0].uses):
            op.erase()


def _complex_op(op: ir.Operation) -> bool:
    return any(isinstance(r.type, ir.ComplexType) for r in op.results) or any(
        isinstance(o.type, ir.MemRefType) and isinstance(o.type.element_type, ir.ComplexType)
        for o in op.operands)
