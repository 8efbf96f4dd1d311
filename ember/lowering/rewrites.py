"""Module rewrites done from Python where no upstream pass does exactly what Ember needs.

`lower_deallocs`: `bufferization-lower-deallocations` lowers a `bufferization.dealloc` of
several buffers through a generic helper that stores `i1` into memrefs, which MLIR 22's memref
lowering rejects with an assertion (aborting the process). Ember lowers every dealloc itself,
unrolled: a buffer is freed when its condition holds, it is not a retained value and it is not
a repeat of an earlier buffer (all by base pointer); each retained value's ownership is the
OR of the conditions of the buffers sharing its base pointer. `bufferization.clone` (from
returns of buffers with dynamic ownership) becomes a new contiguous buffer and a copy loop,
since the upstream lowering calls the `memrefCopy` runtime function for strided layouts.

`byte_bools`: Enzyme caches branch conditions of loops in `memref<?xi1>` buffers, which MLIR
22's memref lowering cannot store (an assertion aborts the process). Such buffers are retyped
to `i8` in place, with conversions at their loads and stores.

`activate_loop_inits`: Enzyme 0.0.16 gives a silently wrong gradient when an `scf.for` has
both an iteration argument whose initial value is active and an earlier one whose initial value
is not (it credits the adjoint by position among active initial values only). Before Enzyme,
every float initial value becomes `select(cmpf false(anchor, anchor), anchor, init)` with the
anchor the sum of the loop's float initial values: the same value and a zero derivative, but
active whenever any initial value is, so positions agree. Canonicalization removes it after AD.

`precise_libm_calls`: `convert-math-to-llvm` lowers `math.expm1` to `exp(x) - 1`, which loses
all precision near 0; CPython calls libm's expm1. Ops listed in `LIBM_CALLS` become direct
calls of the libm function before the math lowering passes run.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith, func, memref, scf
from mlir.dialects import bufferization as bz

from ..ir.context import ops_where
from ..ir.stmts import loop_nest

LIBM_CALLS: Final = {"math.expm1": "expm1"}


def precise_libm_calls(module: ir.Module) -> None:
    declared: set[str] = set()
    for op in ops_where(module.operation, lambda op: op.name in LIBM_CALLS):
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


def _any(values: list[ir.Value], false: ir.Value) -> ir.Value:
    result = false
    for v in values:
        result = arith.ori(result, v)
    return result


def _lower_dealloc(op: bz.DeallocOp) -> None:
    i1 = ir.IntegerType.get_signless(1)
    false = arith.constant(i1, 0)
    true = arith.constant(i1, 1)
    bases = [memref.extract_aligned_pointer_as_index(m) for m in op.memrefs]
    kept = [memref.extract_aligned_pointer_as_index(r) for r in op.retained]
    conds = list(op.conditions)

    def same(a: ir.Value, b: ir.Value) -> ir.Value:
        return arith.cmpi(arith.CmpIPredicate.eq, a, b)

    for i, (buf, base, cond) in enumerate(zip(op.memrefs, bases, conds, strict=True)):
        alias = _any([same(base, k) for k in kept] + [same(base, b) for b in bases[:i]], false)
        free = arith.andi(cond, arith.xori(alias, true))
        branch = scf.IfOp(free)
        with ir.InsertionPoint(branch.then_block):
            memref.dealloc(buf)
            scf.YieldOp([])
    owned = [_any([arith.andi(c, same(b, k)) for b, c in zip(bases, conds, strict=True)], false)
             for k in kept]
    for result, value in zip(op.results, owned, strict=True):
        result.replace_all_uses_with(value)


def _sizes(array: ir.Value) -> list[ir.Value]:
    index = ir.IndexType.get()
    rank = ir.MemRefType(array.type).rank
    return [memref.dim(array, arith.constant(index, k)) for k in range(rank)]


def _lower_clone(op: ir.Operation) -> None:
    source = op.operands[0]
    src_type = ir.MemRefType(source.type)
    sizes = _sizes(source)
    dyn = ir.ShapedType.get_dynamic_size()
    fresh = memref.alloc(ir.MemRefType.get([dyn] * src_type.rank, src_type.element_type),
                         sizes, [])
    loop_nest(sizes, lambda ivs: memref.store(memref.load(source, ivs), fresh, ivs))
    result = op.results[0]
    value = fresh if fresh.type == result.type else memref.cast(result.type, fresh)
    result.replace_all_uses_with(value)


def _zero_fill(op: ir.Operation) -> None:
    target = op.operands[0]
    element = ir.MemRefType(target.type).element_type
    if isinstance(element, ir.FloatType):
        zero = arith.constant(element, ir.FloatAttr.get(element, 0.0))
    else:
        zero = arith.constant(element, ir.IntegerAttr.get(element, 0))
    loop_nest(_sizes(target), lambda ivs: memref.store(zero, target, ivs))


_BUFFER_OPS: Final = {"bufferization.dealloc": lambda op: _lower_dealloc(op.opview),
                      "bufferization.clone": _lower_clone, "ember.zero_fill": _zero_fill}


def lower_deallocs(module: ir.Module) -> None:
    for op in ops_where(module.operation, lambda op: op.name in _BUFFER_OPS):
        with ir.InsertionPoint(op), op.location:
            _BUFFER_OPS[op.name](op)
        op.erase()


def _I1() -> ir.Type:  # noqa: N802 - reads like the type it builds
    return ir.IntegerType.get_signless(1)


def _bytes_for_bools(t: ir.Type) -> ir.Type | None:
    """`t` with i1 memref elements made i8, at any depth (Enzyme caches memrefs of caches);
    None if `t` holds no such memref."""
    if not isinstance(t, ir.MemRefType):
        return None
    mt = ir.MemRefType(t)
    element = mt.element_type
    inner = _bytes_for_bools(element)
    if inner is None and element != _I1():
        return None
    new_element = inner if inner is not None else ir.IntegerType.get_signless(8)
    return ir.MemRefType.get(mt.shape, new_element, layout=mt.layout,
                             memory_space=mt.memory_space)


def byte_bools(module: ir.Module) -> None:
    values: list[ir.Value] = []
    accesses: list[ir.Operation] = []

    def visit(op: ir.Operation) -> ir.WalkResult:
        values.extend(r for r in op.results if _bytes_for_bools(r.type) is not None)
        for region in op.regions:
            for block in region.blocks:
                values.extend(a for a in block.arguments
                              if _bytes_for_bools(a.type) is not None)
        if op.name in ("memref.load", "memref.store"):
            accesses.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    if not values:
        return
    for value in values:
        value.set_type(_bytes_for_bools(value.type))
    i8 = ir.IntegerType.get_signless(8)
    for op in accesses:
        if op.name == "memref.store" and op.operands[0].type == _I1():
            with ir.InsertionPoint(op), op.location:
                op.operands[0] = arith.extui(i8, op.operands[0])
        elif op.name == "memref.load" and op.results[0].type == _I1() and \
                ir.MemRefType(op.operands[0].type).element_type == i8:
            _narrow(op)


def _narrow(load: ir.Operation) -> None:
    """A load from a retyped buffer now yields i8: its users get `value != 0` instead."""
    result = load.results[0]
    result.set_type(ir.IntegerType.get_signless(8))
    with ir.InsertionPoint.after(load), load.location:
        zero = arith.constant(result.type, 0)
        flag = arith.cmpi(arith.CmpIPredicate.ne, result, zero)
    result.replace_all_uses_except(flag, flag.owner.operation)


def _float_inits(op: ir.Operation) -> list[int]:
    return [k for k, v in enumerate(op.operands) if k >= 3 and isinstance(v.type, ir.FloatType)]


def _convert(value: ir.Value, to: ir.Type) -> ir.Value:
    if value.type == to:
        return value
    wider = ir.FloatType(to).width > ir.FloatType(value.type).width
    return arith.extf(to, value) if wider else arith.truncf(to, value)


def activate_loop_inits(module: ir.Module) -> None:
    def mixed(op: ir.Operation) -> bool:
        return op.name == "scf.for" and len(_float_inits(op)) > 1

    for loop in ops_where(module.operation, mixed):
        positions = _float_inits(loop)
        inits = [loop.operands[k] for k in positions]
        with ir.InsertionPoint(loop), loop.location:
            anchors: dict[str, tuple[ir.Value, ir.Value]] = {}
            for k, init in zip(positions, inits, strict=True):
                key = str(init.type)
                if key not in anchors:
                    total = _convert(inits[0], init.type)
                    for other in inits[1:]:
                        total = arith.addf(total, _convert(other, init.type))
                    never = arith.cmpf(arith.CmpFPredicate.AlwaysFalse, total, total)
                    anchors[key] = (total, never)
                total, never = anchors[key]
                loop.operands[k] = arith.select(never, total, init)


def fast_math(module: ir.Module) -> None:
    """Every float arith/math op with a `fastmath` attribute gets `fast` (opt-in by the user)."""
    fast = ir.Attribute.parse("#arith.fastmath<fast>")
    for op in ops_where(module.operation, lambda op: "fastmath" in op.attributes):
        op.attributes["fastmath"] = fast


REWRITES: Final = {
    "fast-math": fast_math, "activate-loop-inits": activate_loop_inits, "precise-libm": precise_libm_calls,
    "lower-deallocs": lower_deallocs, "byte-bools": byte_bools,
}
