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

Guards run before every Enzyme run (lowering/enzyme.GUARDS, in the order below), each against
a wrong-derivative bug of Enzyme 0.0.16. Most use a *never-select* of `v` into `w`,
`select(false, v, w)`: the value and derivative of `w`, but to Enzyme's activity analysis (which
does not look at the constant condition) a use of `v`. The canonicalization after AD removes
it, and with it whatever only it used (no cache of a condition, no extra load).

`select_carried_arrays`: Enzyme cannot reverse an `scf.for` that carries arrays (the memref
adjoint has no zero: it aborts the process), e.g. `a, b = b, a` in a time loop. Where each
array an `scf.for`, `scf.while` or `scf.if` passes on is one the op received or one defined
before it (or a selection of those), the op carries an `index` into those candidates instead
(inner ops first), and the array is re-selected (`arith.select` of memrefs, which Enzyme
handles) where it is used: the same buffers, no copies. A loop that yields an array allocated
inside it keeps carrying it (reverse mode then fails, with a note from enzyme.explain_crash).

`activate_stores`: a store of a value Enzyme finds constant (`np.zeros`' fill, `a[i] = 1.5`,
`a[i] = x[i]` with `x` not differentiated) into an array with a shadow leaves the shadow as it
was, in both modes: the tangent of the element stays what was there before (uninitialised
memory for a local array, so repeated `jvp` calls drift), and the adjoint flows on into the
overwritten value. Every float store `a[i] = v` stores a never-select of the element it
overwrites into `v` instead: `a[i]` is active exactly when the array is, so the shadow store
happens (a zero derivative where `v` is constant).

`activate_loop_inits`: a silently wrong gradient when an `scf.for` has both an iteration
argument whose initial value is active and an earlier one whose initial value is not (Enzyme
credits the adjoint by position among active initial values only). Every float initial value
becomes a never-select of the sum of the loop's float initial values (an *anchor* active
whenever any initial value is), so positions agree.

`use_loop_results`: Enzyme gives every `scf.for`/`scf.while` iteration argument that is active
inside the loop a tangent, but reads the results as if a result its activity analysis finds
constant (unused after the loop) had none: every later result is read one slot off (a wrong
`jvp` value and tangent, no error), and an `scf.while` fails to verify. The other way round (a
carried value the body overwrites before reading, used after the loop: Newton's `step`) fails
to verify too. Each unused float result is made used: never-selected into a used float result
of the same loop, or, where there is none, stored by an `scf.if false` into an array the loop
body writes (the only other way activity leaves a loop; after `select_carried_arrays`, one of
the arrays it selects from); each unused float block argument of the body is never-selected
into a value the body yields.

`precise_libm_calls`: `convert-math-to-llvm` lowers `math.expm1` to `exp(x) - 1`, which loses
all precision near 0; CPython calls libm's expm1. Ops listed in `LIBM_CALLS` become direct
calls of the libm function before the math lowering passes run.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith, func, memref, scf
from mlir.dialects import bufferization as bz
from mlir.passmanager import PassManager

from ..ir import complex_ops
from ..ir.context import ops_where
from ..ir.loops import loop_nest

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
    result = op.results[0]
    arguments = _returned_from_entry(op)
    if not arguments:
        result.replace_all_uses_with(_copy(op.operands[0], result.type))
        return
    source = op.operands[0]
    base = memref.extract_aligned_pointer_as_index(source)
    false = arith.constant(ir.IntegerType.get_signless(1), 0)
    alias = _any([arith.cmpi(arith.CmpIPredicate.eq, base,
                             memref.extract_aligned_pointer_as_index(a)) for a in arguments],
                 false)
    branch = scf.IfOp(alias, [result.type], has_else=True)
    with ir.InsertionPoint(branch.then_block):  # an argument or a view of one: no copy
        scf.YieldOp([source if source.type == result.type
                     else memref.cast(result.type, source)])
    with ir.InsertionPoint(branch.else_block):
        scf.YieldOp([_copy(source, result.type)])
    result.replace_all_uses_with(branch.results[0])


def _copy(source: ir.Value, want: ir.Type) -> ir.Value:
    src_type = ir.MemRefType(source.type)
    dyn = ir.ShapedType.get_dynamic_size()
    fresh = memref.alloc(ir.MemRefType.get([dyn] * src_type.rank, src_type.element_type),
                         _sizes(source), [])
    copy_elements(source, fresh)
    return fresh if fresh.type == want else memref.cast(want, fresh)


def copy_elements(source: ir.Value, target: ir.Value) -> None:
    """A loop nest copying `source` into `target` element by element (at the insertion
    point): MLIR's lowering of a strided `memref.copy` calls `memrefCopy`, which Ember's
    libraries do not link."""
    loop_nest(_sizes(source), lambda ivs: memref.store(memref.load(source, ivs), target, ivs))


def _returned_from_entry(clone: ir.Operation) -> list[ir.Value]:
    """The array arguments of the public function whose result `clone` only becomes (through
    `scf.if` results): ownership-based deallocation clones a returned array it does not own,
    but a kernel returning its argument (or a view of it) gives the caller that array, as
    NumPy and Numba do; the runtime makes the result a view of the argument. Empty if the
    clone is needed (a private callee: dynamic ownership passes ownership out instead)."""
    value = clone.results[0]
    while True:
        uses = [u.owner for u in value.uses
                if u.owner.name != "bufferization.dealloc"]  # retained: never freed
        if len(uses) != 1:
            return []
        user = uses[0]
        if user.name == "func.return":
            break
        if user.name != "scf.yield" or user.parent.name != "scf.if":
            return []
        value = user.parent.results[[o for o in user.operands].index(value)]
    function = user.parent
    while function.name != "func.func":
        function = function.parent
    if "sym_visibility" in function.attributes:
        return []
    block = function.regions[0].blocks[0]
    return [a for a in block.arguments if isinstance(a.type, ir.MemRefType)]


def _zero_fill(op: ir.Operation) -> None:
    target = op.operands[0]
    element = ir.MemRefType(target.type).element_type
    if isinstance(element, ir.ComplexType):  # shadows of complex arrays
        zero = complex_ops.zero(element)
    elif isinstance(element, ir.FloatType):
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


def drop_dead_raises(module: ir.Module) -> None:
    """Erase each raise branch (a result-less `scf.if` that calls `__ember_raise`) that can
    never run: one whose condition canonicalization folds to false, found on a copy of the
    module (canonicalization itself would fold away the stop-gradients of ir/adrules.py)."""
    branches = ops_where(module.operation, _raise_branch)
    if not branches:
        return
    for k, op in enumerate(branches):
        for tagged in [op, *ops_where(op, lambda o: _calls(o, _RAISE))]:
            tagged.attributes[_CHECK] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), k)
    copy = ir.Module.parse(str(module))
    PassManager.parse("builtin.module(canonicalize)").run(copy.operation)
    alive = {ir.IntegerAttr(op.attributes[_CHECK]).value
             for op in ops_where(copy.operation, lambda o: _CHECK in o.attributes)}
    for k, op in enumerate(branches):
        if k not in alive:
            op.erase()
    for op in ops_where(module.operation, lambda o: _CHECK in o.attributes):
        del op.attributes[_CHECK]


_RAISE: Final = "__ember_raise"
_CHECK: Final = "ember.check"


def _calls(op: ir.Operation, callee: str) -> bool:
    return op.name == "func.call" and ir.FlatSymbolRefAttr(op.attributes["callee"]).value == callee


def _raise_branch(op: ir.Operation) -> bool:
    return (op.name == "scf.if" and not len(op.results)
            and bool(ops_where(op, lambda o: _calls(o, _RAISE))))


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


# --- guards before Enzyme (see the module docstring) ----------------------------------------
def _is_float(value: ir.Value) -> bool:
    return isinstance(value.type, ir.FloatType)


def _is_array(value: ir.Value) -> bool:
    return isinstance(value.type, ir.MemRefType)


def _never_select(value: ir.Value, into: ir.Value) -> ir.Value:
    """`into`, with a use of `value` that Enzyme's activity analysis counts (see above)."""
    never = arith.constant(ir.IntegerType.get_signless(1), 0)
    return arith.select(never, value, into)


def _convert(value: ir.Value, to: ir.Type) -> ir.Value:
    if value.type == to:
        return value
    wider = ir.FloatType(to).width > ir.FloatType(value.type).width
    return arith.extf(to, value) if wider else arith.truncf(to, value)


def _float_inits(op: ir.Operation) -> list[int]:
    return [k for k, v in enumerate(op.operands) if k >= 3 and isinstance(v.type, ir.FloatType)]


def activate_loop_inits(module: ir.Module) -> None:
    def mixed(op: ir.Operation) -> bool:
        return op.name == "scf.for" and len(_float_inits(op)) > 1

    for loop in ops_where(module.operation, mixed):
        positions = _float_inits(loop)
        inits = [loop.operands[k] for k in positions]
        with ir.InsertionPoint(loop), loop.location:
            anchors: dict[str, ir.Value] = {}
            for k, init in zip(positions, inits, strict=True):
                key = str(init.type)
                if key not in anchors:
                    total = _convert(inits[0], init.type)
                    for other in inits[1:]:
                        total = arith.addf(total, _convert(other, init.type))
                    anchors[key] = total
                loop.operands[k] = _never_select(anchors[key], init)


_LOOPS: Final = ("scf.for", "scf.while")
_PURE_DIALECTS: Final = ("arith", "math")


def _unused(value: ir.Value) -> bool:
    """No use Enzyme would count: none, or only pure arithmetic whose results are unused."""
    for use in value.uses:
        user = use.owner
        if user.name.split(".")[0] not in _PURE_DIALECTS or not all(map(_unused, user.results)):
            return False
    return True


def use_loop_results(module: ir.Module) -> None:
    for loop in ops_where(module.operation, lambda op: op.name in _LOOPS):
        _use_results(loop)
        _use_arguments(loop)


def _use_results(loop: ir.Operation) -> None:
    unused = [r for r in loop.results if _is_float(r) and _unused(r)]
    used = [r for r in loop.results if _is_float(r) and not _unused(r)]
    if not unused:
        return
    with ir.InsertionPoint.after(loop), loop.location:
        if used:
            _select_into(used[0], unused)
        elif (array := _written_array(loop)) is not None:
            for result in unused:
                _never_store(result, array)


# The block whose arguments are the values a loop carries into its body (scf.while: the
# `after` region), and the first of them that is one.
_BODIES: Final = {"scf.for": (0, 1), "scf.while": (1, 0)}


def _use_arguments(loop: ir.Operation) -> None:
    """Carried values the body overwrites before reading: never-selected into a yielded one."""
    region, first = _BODIES[loop.name]
    body = loop.regions[region].blocks[0]
    unused = [a for a in list(body.arguments)[first:] if _is_float(a) and _unused(a)]
    yielded = _terminator(body)
    floats = [k for k, v in enumerate(yielded.operands) if _is_float(v)]
    if not unused or not floats:
        return
    with ir.InsertionPoint(yielded), loop.location:
        value = yielded.operands[floats[0]]
        for argument in unused:
            value = _never_select(_convert(argument, value.type), value)
        yielded.operands[floats[0]] = value


def _select_into(used: ir.Value, unused: list[ir.Value]) -> None:
    value = _never_select(_convert(unused[0], used.type), used)
    first = value.owner.operation
    for result in unused[1:]:
        value = _never_select(_convert(result, used.type), value)
    used.replace_all_uses_except(value, first)


def _written_array(loop: ir.Operation) -> ir.Value | None:
    """A float array defined before `loop` that its body stores into, if any."""
    found: list[ir.Value] = []

    def visit(op: ir.Operation) -> ir.WalkResult:
        if op.name == "memref.store" and _is_float(op.operands[0]):
            found.extend(_outer_arrays(op.operands[1], loop)[:1])
        return ir.WalkResult.INTERRUPT if found else ir.WalkResult.ADVANCE

    loop.walk(visit)
    return found[0] if found else None


def _outer_arrays(array: ir.Value, loop: ir.Operation) -> list[ir.Value]:
    """The arrays defined before `loop` that `array` may be (through select_carried_arrays'
    selections)."""
    if not _defined_in(array, loop):
        return [array]
    owner = array.owner
    if isinstance(owner, ir.Block) or owner.name != "arith.select":
        return []
    return _outer_arrays(owner.operands[1], loop) + _outer_arrays(owner.operands[2], loop)


def _never_store(value: ir.Value, array: ir.Value) -> None:
    """`if false: array[0, ...] = value`."""
    memref_type = ir.MemRefType(array.type)
    branch = scf.IfOp(arith.constant(ir.IntegerType.get_signless(1), 0))
    with ir.InsertionPoint(branch.then_block):
        zero = arith.constant(ir.IndexType.get(), 0)
        memref.store(_convert(value, memref_type.element_type), array, [zero] * memref_type.rank)
        scf.YieldOp([])


def _defined_in(value: ir.Value, op: ir.Operation) -> bool:
    """Whether `value` is defined inside `op` (an op's result or a block argument)."""
    owner = value.owner
    parent = owner.owner if isinstance(owner, ir.Block) else owner
    current: ir.Operation | None = parent.operation
    while current is not None:
        if current == op:
            return True
        current = current.parent
    return False


class _Arrays:
    """The arrays that the array values of one region op may hold, as an index into candidates
    defined before the op; `slots` (the loop's array block arguments) already hold an index."""

    def __init__(self, op: ir.Operation, slots: list[ir.Value]) -> None:
        self.op, self.slots = op, slots
        self.candidates: dict[str, list[ir.Value]] = {}

    def mappable(self, value: ir.Value) -> bool:
        if value in self.slots or not _defined_in(value, self.op):
            return True
        owner = value.owner
        return not isinstance(owner, ir.Block) and owner.name == "arith.select" and \
            all(self.mappable(v) for v in list(owner.operands)[1:])

    def index(self, value: ir.Value) -> ir.Value:
        """The index standing for `value` (a mappable array), built at the insertion point."""
        if value in self.slots:
            return self.slots[self.slots.index(value)]
        if not _defined_in(value, self.op):
            return arith.constant(ir.IndexType.get(), self._candidate(value))
        cond, if_true, if_false = value.owner.operands
        return arith.select(cond, self.index(if_true), self.index(if_false))

    def _candidate(self, value: ir.Value) -> int:
        known = self.candidates.setdefault(str(value.type), [])
        if value not in known:
            known.append(value)
        return known.index(value)

    def pick(self, t: ir.Type, index: ir.Value) -> ir.Value:
        """The array of type `t` that `index` stands for."""
        known = self.candidates[str(t)]
        value = known[0]
        for k, candidate in enumerate(known[1:], start=1):
            at_k = arith.cmpi(arith.CmpIPredicate.eq, index,
                              arith.constant(ir.IndexType.get(), k))
            value = arith.select(at_k, candidate, value)
        return value


def _uses(value: ir.Value, but: tuple[ir.Operation, ...] = ()) -> list[tuple[ir.Operation, int]]:
    skip = [op.operation for op in but]
    return [(u.owner, u.operand_number) for u in value.uses if u.owner.operation not in skip]


def _redirect(uses: list[list[tuple[ir.Operation, int]]], values: list[ir.Value]) -> None:
    for users, value in zip(uses, values, strict=True):
        for user, k in users:
            user.operands[k] = value


def _retype(values: list[ir.Value], arrays: _Arrays, point: ir.InsertionPoint,
            location: ir.Location) -> None:
    """Make `values` (arrays) indices; their users get the selected array instead."""
    types = [v.type for v in values]
    uses = [_uses(v) for v in values]
    for v in values:
        v.set_type(ir.IndexType.get())
    with point, location:
        _redirect(uses, [arrays.pick(t, v) for t, v in zip(types, values, strict=True)])


def _terminator(block: ir.Block) -> ir.Operation:
    return block.operations[len(block.operations) - 1]


# Per region op: the blocks whose arguments from `first` on take the op's values, the first of
# its operands that are initial values (None: none), and the terminators that pass values on.
Parts = tuple[list[tuple[ir.Block, int]], int | None, list[tuple[ir.Operation, int]]]


def _for_parts(op: ir.Operation) -> Parts:
    body = op.regions[0].blocks[0]
    return [(body, 1)], 3, [(_terminator(body), 0)]


def _while_parts(op: ir.Operation) -> Parts:
    before, after = (region.blocks[0] for region in op.regions)
    return [(before, 0), (after, 0)], 0, [(_terminator(before), 1), (_terminator(after), 0)]


def _if_parts(op: ir.Operation) -> Parts:
    return [], None, [(_terminator(region.blocks[0]), 0) for region in op.regions]


_ARRAY_CARRIERS: Final = {"scf.for": _for_parts, "scf.while": _while_parts, "scf.if": _if_parts}


def _index_arrays(op: ir.Operation, parts: Parts) -> None:
    """Carry indices instead of arrays through `op` where every array it passes on is mappable."""
    blocks, inits, terminators = parts
    args = [[a for a in list(block.arguments)[first:] if _is_array(a)] for block, first in blocks]
    slots = [a for block_args in args for a in block_args]
    arrays = _Arrays(op, slots)
    flows = [(t, first + k) for t, first in terminators
             for k, v in enumerate(list(t.operands)[first:]) if _is_array(v)]
    if not all(arrays.mappable(t.operands[k]) for t, k in flows):
        return
    types = [a.type for a in slots]
    uses = [_uses(a, but=tuple(t for t, _ in terminators)) for a in slots]
    if inits is not None:
        with ir.InsertionPoint(op), op.location:
            for k in [k for k, v in enumerate(op.operands) if k >= inits and _is_array(v)]:
                op.operands[k] = arrays.index(op.operands[k])
    for a in slots:
        a.set_type(ir.IndexType.get())
    for t, k in flows:
        with ir.InsertionPoint(t), op.location:
            t.operands[k] = arrays.index(t.operands[k])
    picked: list[ir.Value] = []
    for (block, _), block_args in zip(blocks, args, strict=True):
        with ir.InsertionPoint.at_block_begin(block), op.location:
            picked += [arrays.pick(types[slots.index(a)], a) for a in block_args]
    _redirect(uses, picked)
    _retype([r for r in op.results if _is_array(r)], arrays, ir.InsertionPoint.after(op),
            op.location)


def select_carried_arrays(module: ir.Module) -> None:
    def carries(op: ir.Operation) -> bool:
        return op.name in _ARRAY_CARRIERS and any(map(_is_array, op.results))

    for op in ops_where(module.operation, carries):  # inner ops first (post-order)
        _index_arrays(op, _ARRAY_CARRIERS[op.name](op))


def carried_arrays(module: ir.Module) -> list[ir.Location]:
    """Where loops still carry arrays (Enzyme cannot reverse them)."""
    def carries(op: ir.Operation) -> bool:
        return op.name in _LOOPS and any(map(_is_array, op.results))

    return [op.location for op in ops_where(module.operation, carries)]


def activate_stores(module: ir.Module) -> None:
    def float_store(op: ir.Operation) -> bool:
        return op.name == "memref.store" and _is_float(op.operands[0])

    for store in ops_where(module.operation, float_store):
        value, array, indices = store.operands[0], store.operands[1], list(store.operands)[2:]
        with ir.InsertionPoint(store), store.location:
            store.operands[0] = _never_select(memref.load(array, indices), value)


def fast_math(module: ir.Module) -> None:
    """Every float arith/math op with a `fastmath` attribute gets `fast` (opt-in by the user)."""
    fast = ir.Attribute.parse("#arith.fastmath<fast>")
    for op in ops_where(module.operation, lambda op: "fastmath" in op.attributes):
        op.attributes["fastmath"] = fast


REWRITES: Final = {
    "fast-math": fast_math, "activate-loop-inits": activate_loop_inits, "precise-libm": precise_libm_calls,
    "lower-deallocs": lower_deallocs, "byte-bools": byte_bools,
}
