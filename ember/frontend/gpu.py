"""Frontend step for `target="gpu"`: split a typed kernel into host steps and device nests.

Input: the entry `tir.Function` of a program built without prange outlining. Output: a
`GpuPlan`. A GPU kernel's body may hold only
  * scalar assignments whose values the host can compute (constants, scalar parameters,
    `a.shape[d]`, `len(a)`, + - * // % min max, casts),
  * prange loops,
  * a final `return` of such values (the results of scalar `+=` reductions included),
  * whole-array statements into whole array parameters and `np.sum` of whole arrays, which
    frontend/gpu_arrays.py turns into prange nests (device bodies may hold the array code
    that needs no new array; gpu_arrays.py checks it).
Each top-level prange loop becomes a `Nest`: it and up to two directly nested prange loops
(the sole statement of the loop above, bounds free of the outer loop variables) are mapped to
the GPU grid; deeper or imperfect prange loops run sequentially inside the device code.
Loop bounds are encoded as host expressions (nested JSON lists, evaluated by
runtime/cuda.py). In the device body, `a[idx] += v` on an element whose subscript does not
name every grid loop variable becomes an `AtomicAdd`, and scalar `s += v` reductions carried
by the nest are accumulated atomically into a one-element device buffer. An element that
every iteration may update at the same subscript (`total[0] += v`: the subscript uses no
loop or local value, and the nest touches that array nowhere else) becomes an `ElementSum`:
a register accumulator like a scalar reduction, added to the element once per warp
(ir/gpu.py) instead of once per iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from .. import types as T
from ..errors import CompileError
from . import complexes, dataflow, gpu_arrays, tir
from .opt.jam import shape_of

HostExpr: TypeAlias = list[object]
"""A host expression: a JSON-able list such as ["bin", "add", ["var", "n"], ["const", 1]]."""
HostStep: TypeAlias = list[object]
"""A host step: ["set", name, expr], ["launch", k] or ["return", expr | None]."""

MAX_DEPTH = 3
_HOST_BINOPS = frozenset({"add", "sub", "mul", "floordiv", "mod", "truediv"})
_HOST_CALLS = frozenset({"min", "max", "abs"})
_DEVICE_FORBIDDEN = {
    tir.KernelCall: "calling another kernel",
    tir.Return: "return",
    tir.ParallelLaunch: "parallel launches",
    tir.Raise: "raise/assert (GPU kernels cannot raise; check inputs before the launch)",
}
_DEVICE_ARRAYS = (tir.ArrayStore,)
"""Nodes of unknown effects that device code runs anyway (checked by gpu_arrays.py)."""


@dataclass(frozen=True, slots=True)
class AtomicAdd(tir.Stmt):
    """`array[indices] += value` done atomically (device code only)."""

    array: tir.Expr
    indices: tuple[tir.Expr, ...]
    wrap: tuple[bool, ...]
    value: tir.Expr


tir.EFFECTS[AtomicAdd] = tir.Effects(reads=True, writes=True)


@dataclass(frozen=True)
class ElementSum:
    """`array[indices] += ...` at a subscript fixed for the whole nest, accumulated in the
    local `name` and added to the element at the end."""

    name: str
    array: tir.Var
    indices: tuple[tir.Expr, ...]
    wrap: tuple[bool, ...]

    @property
    def dtype(self) -> T.Scalar:
        t = self.array.type
        assert isinstance(t, T.Array)
        return t.dtype


@dataclass(frozen=True)
class Nest:
    """One prange nest, launched as one GPU kernel over its grid loops."""

    name: str
    loops: tuple[tir.For, ...]
    """The grid loops, outermost first."""
    body: tuple[tir.Stmt, ...]
    captured: tuple[tuple[str, T.Type], ...]
    """Values the body reads from outside the nest (parameters and host scalars)."""
    reductions: tuple[tuple[str, T.Scalar], ...]
    """Scalar `+=` reductions carried by the nest."""
    bounds: tuple[tuple[HostExpr, HostExpr, HostExpr], ...]
    """(start, stop, step) host expressions per grid loop."""
    sums: tuple[ElementSum, ...] = ()


@dataclass(frozen=True)
class GpuPlan:
    fn: tir.Function
    nests: tuple[Nest, ...]
    steps: tuple[HostStep, ...]
    """Host steps: ["set", name, expr], ["launch", k], ["return", expr | None]."""
    sites: tuple[tir.Site, ...] = ()
    """The program's raise sites: run-time checks in device code are assertions."""


def plan_gpu(fn: tir.Function, sites: tuple[tir.Site, ...] = ()) -> GpuPlan:
    """The host steps and device nests of GPU kernel `fn`, or a CompileError (`sites`: the
    program's raise sites, for the messages of device assertions)."""
    complexes.refuse_on_gpu(fn)
    planner = _Planner(fn)
    for s in fn.body:
        planner.top(s)
    return GpuPlan(fn, tuple(planner.nests), tuple(planner.steps), sites)


class _Planner:
    def __init__(self, fn: tir.Function) -> None:
        self.fn = fn
        self.host: dict[str, T.Type] = {n: t for n, t in fn.params}
        self.nests: list[Nest] = []
        self.steps: list[HostStep] = []

    def top(self, s: tir.Stmt) -> None:
        if isinstance(s, tir.For) and s.parallel:
            self.steps.append(["launch", len(self.nests)])
            self.nests.append(self.nest(s))
        elif (whole := gpu_arrays.host_array_nest(s, self.host, len(self.nests))) is not None:
            self.top(whole)
        elif isinstance(s, tir.Assign) and isinstance(s.value.type, T.Scalar):
            if not self.host_sum(s.name, s.value):
                _no_host_reduction(s.value)
                self.steps.append(["set", s.name, host_expr(s.value, self.host)])
            self.host[s.name] = s.value.type
        elif isinstance(s, tir.Assign) and isinstance(s.value, tir.GlobalArray):
            raise CompileError("GPU kernels cannot read module-level arrays (they live in host "
                               "memory); pass the array as a parameter", s.span)
        elif isinstance(s, tir.Assign) and isinstance(s.value.type, T.Array):
            raise CompileError("a GPU kernel cannot create arrays or keep views at its top "
                               "level; pass an output array and assign into it (`out[:] = "
                               "...`), or make the view inside a prange loop", s.span)
        elif isinstance(s, tir.Return):
            value = None if s.value is None else self.summed(s.value)
            if value is not None:
                _no_host_reduction(value)
            self.steps.append(["return", None if value is None else
                               host_expr(value, self.host)])
        else:
            raise CompileError("a GPU kernel's body may hold only prange loops, scalar "
                               "assignments and a return; move this statement into a prange "
                               "loop or run the kernel on the CPU", s.span)

    def summed(self, value: tir.Expr) -> tir.Expr:
        """`value` (a returned value or tuple) with its whole-array sums computed by
        parallel reductions into host variables."""
        if isinstance(value, tir.TupleExpr):
            return replace(value, items=tuple(self.summed(i) for i in value.items))
        if isinstance(value, tir.Cast):  # to the declared return type
            return replace(value, value=self.summed(value.value))
        name = f"__sum{len(self.nests)}"
        return tir.Var(value.type, value.span, name) if self.host_sum(name, value) else value

    def host_sum(self, name: str, value: tir.Expr) -> bool:
        """`name = np.sum(...)` of whole arrays as a parallel reduction, if it is one."""
        loop = gpu_arrays.host_sum(name, value, self.host, len(self.nests))
        if loop is None:
            return False
        assert isinstance(value.type, T.Scalar)
        self.steps.append(["set", name, ["const", value.type.np_dtype.type(0).item()]])
        self.host[name] = value.type
        self.top(loop)
        return True

    def nest(self, loop: tir.For) -> Nest:
        loops = _grid_loops(loop)
        names = {lp.var for lp in loops}
        bounds = tuple((host_expr(lp.start, self.host), host_expr(lp.stop, self.host),
                        host_expr(lp.step, self.host)) for lp in loops)
        reductions = tuple((name, _add_reduction(loop, name, t)) for name, t in loop.carried)
        body, sums = _element_sums(loops[-1], names, self.fn.var_types, len(self.nests))
        gpu_arrays.check_device(body)
        body = _device_block(body, names)
        targets = tuple((g.array, g.indices) for g in sums)
        reads = tir.names((body, targets, tuple((lp.start, lp.stop, lp.step)
                                                for lp in loops[1:])))
        inner = dataflow.assigned(body) | names | {n for n, _ in reductions}
        captured = []
        for name in sorted(reads - inner):
            if name not in self.host:
                raise CompileError(f"'{name}' is used in a GPU prange loop but is not a "
                                   "parameter or a scalar set before the loop", loop.span)
            captured.append((name, self.host[name]))
        name = self.fn.name if not self.nests else f"{self.fn.name}_{len(self.nests)}"
        if len(self.nests) == 1:  # the first nest of a multi-nest kernel gets a number too
            self.nests[0] = replace(self.nests[0], name=f"{self.fn.name}_0")
        return Nest(name, loops, body, tuple(captured), reductions, bounds, sums)


def _no_host_reduction(e: tir.Expr) -> None:
    inner = gpu_arrays.host_reduction(e)
    if inner is not None:
        raise CompileError("at the top level of a GPU kernel the only reductions are "
                           "`s = np.sum(...)` and `return np.sum(...)` of whole array "
                           "parameters; write this one as a prange loop: `s = 0.0`, "
                           "`for i in prange(len(x)): s += x[i]` (a parallel reduction)",
                           inner.span)


def _grid_loops(loop: tir.For) -> tuple[tir.For, ...]:
    """`loop` and the directly nested prange loops that can share its grid."""
    loops = [loop]
    while len(loops) < MAX_DEPTH:
        body = loops[-1].body
        if len(body) != 1 or not isinstance(body[0], tir.For) or not body[0].parallel:
            break
        inner = body[0]
        outer_vars = {lp.var for lp in loops}
        used = tir.names((inner.start, inner.stop, inner.step))
        if used & outer_vars or inner.carried != loops[-1].carried:
            break
        loops.append(inner)
    return tuple(loops)


def _add_reduction(loop: tir.For, name: str, t: T.Type) -> T.Scalar:
    """Check that `name` is only ever `name = name + e` in the loop (an atomic add)."""
    assigns = [s for s in tir.walk(loop.body) if isinstance(s, tir.Assign) and s.name == name]
    reads = sum(1 for n in tir.walk(loop.body) if isinstance(n, tir.Var) and n.name == name)
    ok = (isinstance(t, T.Scalar) and not t.is_bool and assigns and reads == len(assigns)
          and all(_adds_to(a.value, name) for a in assigns))
    if not ok:
        raise CompileError(f"'{name}' is carried from one iteration of this prange loop to the "
                           f"next; on the GPU only `{name} += ...` reductions are supported "
                           f"(atomic adds)", loop.span)
    assert isinstance(t, T.Scalar)
    return t


def _adds_to(value: tir.Expr, name: str) -> bool:
    if isinstance(value, tir.Cast):
        value = value.value
    if not (isinstance(value, tir.BinOp) and value.op == "add"):
        return False
    for mine, other in ((value.left, value.right), (value.right, value.left)):
        mine = mine.value if isinstance(mine, tir.Cast) else mine
        if isinstance(mine, tir.Var) and mine.name == name and name not in dataflow.uses(other):
            return True
    return False


# --- element sums ------------------------------------------------------------------------------
def _element_sums(loop: tir.For, grid: set[str], types: dict[str, T.Type],
                  nest: int) -> tuple[tuple[tir.Stmt, ...], tuple[ElementSum, ...]]:
    """The body of `loop` with its fixed-subscript `+=` stores turned into local sums (none
    where some node's effects are unknown: it might touch the summed elements)."""
    if tir.effects_under(loop.body).unknown:
        return loop.body, ()
    local = dataflow.assigned(loop.body) | grid
    groups: dict[tuple[str, object], ElementSum] = {}
    for st in tir.walk(loop.body):
        if (isinstance(st, tir.Store) and isinstance(st.array, tir.Var)
                and _update(st, local) is not None):
            key = (st.array.name, shape_of(st.indices))
            if key not in groups:
                groups[key] = ElementSum(f"__sum{nest}_{len(groups)}", st.array, st.indices,
                                         st.wrap)
    groups = {k: g for k, g in groups.items() if _only_summed(loop.body, g, local)}
    if not groups:
        return loop.body, ()
    for g in groups.values():
        types[g.name] = g.dtype
    body = _SumUpdates(groups, local).block(loop.body)
    annotated = dataflow.annotate((replace(loop, body=body, carried=()),), types)[0]
    assert isinstance(annotated, tir.For)
    return annotated.body, tuple(groups.values())


def _update(st: tir.Store, local: set[str]) -> tir.Expr | None:
    """The added value if `st` is `a[idx] += v` (or `-=`) with `idx` fixed in the nest."""
    t = st.array.type
    if not isinstance(st.array, tir.Var) or not isinstance(t, T.Array) or t.dtype.bits < 32 \
            or t.dtype.is_bool or dataflow.uses(st.indices) & local:
        return None
    value = _unwrap(st.value)
    if not isinstance(value, tir.BinOp) or value.op not in ("add", "sub"):
        return None
    pairs = [(value.left, value.right)] + ([(value.right, value.left)]
                                           if value.op == "add" else [])
    for mine, other in pairs:
        mine = _unwrap(mine)
        if isinstance(mine, tir.Load) and tir.same(mine.array, st.array) and \
                tir.same(mine.indices, st.indices) and st.array.name not in dataflow.uses(other):
            if value.op == "sub":
                other = tir.UnaryOp(other.type, other.span, "neg", other)
            return other if other.type == t.dtype else tir.Cast(t.dtype, other.span, other)
    return None


def _only_summed(body: tuple[tir.Stmt, ...], g: ElementSum, local: set[str]) -> bool:
    """The nest touches `g.array` only in `+=` updates of fixed elements."""
    own = [st for st in tir.walk(body) if isinstance(st, tir.Store)
           and isinstance(st.array, tir.Var) and st.array.name == g.array.name
           and _update(st, local) is not None]
    uses = sum(1 for n in tir.walk(body) if isinstance(n, tir.Var) and n.name == g.array.name)
    return uses == 2 * len(own)  # the store and its load of the element, nothing else


class _SumUpdates(tir.Transformer):
    """Turns the `+=` updates of element sums into additions to their accumulators."""

    def __init__(self, groups: dict[tuple[str, object], ElementSum], local: set[str]) -> None:
        self.groups, self.local = groups, local

    def visit_Store(self, st: tir.Store) -> tir.Stmt:
        value = _update(st, self.local)
        if value is None or not isinstance(st.array, tir.Var):
            return st
        g = self.groups.get((st.array.name, shape_of(st.indices)))
        if g is None:
            return st
        acc = tir.Var(g.dtype, st.span, g.name)
        return tir.Assign(st.span, g.name, tir.BinOp(g.dtype, st.span, "add", acc, value))


# --- device bodies -----------------------------------------------------------------------------
def _device_block(body: tuple[tir.Stmt, ...], grid: set[str]) -> tuple[tir.Stmt, ...]:
    """`body` with racing `+=` stores made atomic; unsupported constructs rejected."""
    for node in tir.walk(body):
        what = _DEVICE_FORBIDDEN.get(type(node))
        if what is None and tir.effects(node).unknown and not isinstance(node, _DEVICE_ARRAYS):
            what = f"{type(node).__name__} (a construct of unknown effects)"
        if what is not None:
            raise CompileError(f"{what} is not supported inside a GPU prange loop",
                               node.span)
    return tuple(_device_stmt(s, grid) for s in body)


def _device_stmt(s: tir.Stmt, grid: set[str]) -> tir.Stmt:
    if isinstance(s, tir.Store):
        return _store(s, grid)
    if isinstance(s, tir.If):
        return replace(s, then=_device_block(s.then, grid),
                       orelse=_device_block(s.orelse, grid))
    if isinstance(s, tir.For | tir.While):
        return replace(s, body=_device_block(s.body, grid))
    return s


def _store(s: tir.Store, grid: set[str]) -> tir.Stmt:
    """An atomic add if `s` is `a[idx] = a[idx] + v` and `idx` may repeat across threads."""
    direct = {u.name for u in map(_unwrap, s.indices) if isinstance(u, tir.Var)}
    if grid <= direct:
        return s  # each thread owns its element
    value = s.value.value if isinstance(s.value, tir.Cast) else s.value
    if not isinstance(value, tir.BinOp) or value.op not in ("add", "sub"):
        return s
    pairs = [(value.left, value.right)] + ([(value.right, value.left)]
                                           if value.op == "add" else [])
    for mine, other in pairs:
        mine = mine.value if isinstance(mine, tir.Cast) else mine
        if isinstance(mine, tir.Load) and tir.same(mine.array, s.array) and \
                tir.same(mine.indices, s.indices):
            return _atomic(s, value.op, other)
    return s


def _unwrap(e: tir.Expr) -> tir.Expr:
    return e.value if isinstance(e, tir.Cast) else e


def _atomic(s: tir.Store, op: str, value: tir.Expr) -> AtomicAdd:
    t = s.array.type
    assert isinstance(t, T.Array)
    if t.dtype.bits < 32:
        raise CompileError(f"`+=` on an element that several GPU threads may update needs an "
                           f"atomic add, which the GPU has for 32- and 64-bit elements only, "
                           f"not {t.dtype}", s.span)
    if op == "sub":
        value = tir.UnaryOp(value.type, value.span, "neg", value)
    if value.type != t.dtype:
        value = tir.Cast(t.dtype, value.span, value)
    return AtomicAdd(s.span, s.array, s.indices, s.wrap, value)


# --- host expressions ----------------------------------------------------------------------------
def host_expr(e: tir.Expr, host: dict[str, T.Type]) -> HostExpr:
    """`e` as a JSON-able host expression, or a CompileError if the host cannot compute it."""
    rule = _HOST_RULES.get(type(e))
    out = rule(e, host) if rule is not None else None
    if out is None:
        raise CompileError("the host cannot compute this value of a GPU kernel (loop bounds "
                           "and values outside prange loops may use only scalar parameters, "
                           "array shapes, constants and + - * // % min max)", e.span)
    return out


def _h_const(e: tir.Const, host: dict[str, T.Type]) -> HostExpr:
    return ["const", e.value]


def _h_var(e: tir.Var, host: dict[str, T.Type]) -> HostExpr | None:
    return ["var", e.name] if e.name in host and isinstance(e.type, T.Scalar) else None


def _h_dim(e: tir.Dim, host: dict[str, T.Type]) -> HostExpr | None:
    if isinstance(e.array, tir.Var) and e.array.name in host:
        return ["dim", e.array.name, e.axis]
    return None


def _h_binop(e: tir.BinOp, host: dict[str, T.Type]) -> HostExpr | None:
    if e.op not in _HOST_BINOPS:
        return None
    return ["bin", e.op, host_expr(e.left, host), host_expr(e.right, host)]


def _h_unary(e: tir.UnaryOp, host: dict[str, T.Type]) -> HostExpr | None:
    return ["neg", host_expr(e.operand, host)] if e.op == "neg" else None


def _h_cast(e: tir.Cast, host: dict[str, T.Type]) -> HostExpr:
    t = e.type
    assert isinstance(t, T.Scalar)
    return ["cast", t.kind, t.bits, host_expr(e.value, host)]


def _h_call(e: tir.Call, host: dict[str, T.Type]) -> HostExpr | None:
    if e.op == "len" and isinstance(e.args[0], tir.Var) and e.args[0].name in host:
        return ["dim", e.args[0].name, 0]
    if e.op in _HOST_CALLS:
        return ["call", e.op, [host_expr(a, host) for a in e.args]]
    return None


def _h_tuple(e: tir.TupleExpr, host: dict[str, T.Type]) -> HostExpr:
    return ["tuple", [host_expr(i, host) for i in e.items]]


_HostRule: TypeAlias = Callable[[Any, dict[str, T.Type]], HostExpr | None]
"""A host-expression rule; `_HOST_RULES` passes it nodes of its own class only."""
_HOST_RULES: dict[type[tir.Expr], _HostRule] = {tir.Const: _h_const, tir.Var: _h_var, tir.Dim: _h_dim, tir.BinOp: _h_binop,
               tir.UnaryOp: _h_unary, tir.Cast: _h_cast, tir.Call: _h_call,
               tir.TupleExpr: _h_tuple}
