"""The typed tree's generic machinery (frontend/tir.py): the Transformer rebuilds only what
changed, `same` ignores spans, every node class declares its memory effects, and a node of
unknown effects makes the loop optimizations leave its nest as written."""

import sys
from dataclasses import dataclass, fields, replace

import pytest

from ember import f64
from ember import types as T
from ember.errors import Span
from ember.frontend import build_program, gpu, gpu_arrays, tir
from ember.frontend.opt.fusion import fuse_loops
from ember.frontend.opt.interchange import interchange_loops
from ember.frontend.opt.jam import jam_loops

S = Span("k.py", 1, 0, 1, 4)
S2 = Span("other.py", 7, 2, 7, 9)
A2 = T.Array(T.f64, 2)


def _var(name: str, t: T.Type = T.i64) -> tir.Var:
    return tir.Var(t, S, name)


def _samples() -> list[tir.Expr | tir.Stmt]:
    """One node of every class, with children, so that each field gets visited."""
    i, n, a, x = _var("i"), _var("n"), _var("a", A2), _var("x", T.f64)
    one = tir.Const(T.i64, S, 1)
    load = tir.Load(T.f64, S, a, (i, one), (False, False), check=0)
    store = tir.Store(S, a, (i, one), (False, True), load)
    exprs: list[tir.Expr | tir.Stmt] = [
        one, i, tir.BinOp(T.i64, S, "add", i, one), tir.UnaryOp(T.i64, S, "neg", i),
        tir.Compare(T.boolean, S, "lt", i, n),
        tir.CompareChain(T.boolean, S, ("lt", "le"), (one, i, n), (T.i64, T.i64)),
        tir.BoolOp(T.boolean, S, "and", tir.Truth(T.boolean, S, i), tir.Truth(T.boolean, S, n)),
        tir.Truth(T.boolean, S, i), tir.TupleExpr(T.Tuple((T.i64, T.i64)), S, (i, n)),
        tir.IfExp(T.i64, S, tir.Truth(T.boolean, S, i), i, n), tir.Cast(T.f64, S, i),
        tir.Call(T.f64, S, "sqrt", (x,)), tir.KernelCall(T.f64, S, "callee", (x, a)), load,
        tir.Dim(T.i64, S, a, 0), tir.DynDim(T.i64, S, a, i),
        tir.TupleGet(T.i64, S, tir.TupleExpr(T.Tuple((T.i64, T.i64)), S, (i, n)), 1),
        tir.Alloc(A2, S, (n, n), x),
        tir.View(T.Array(T.f64, 2), S, a, (i, (one, None, n), None), check=0, step_check=1),
        tir.Transpose(A2, S, a, (1, 0)),
        tir.ArrayMap(A2, S, (a, x), tir.BinOp(T.f64, S, "mul", tir.Elem(T.f64, S, 0),
                                               tir.Elem(T.f64, S, 1)), check=2),
        tir.Elem(T.f64, S, 0),
        tir.Reduce(T.f64, S, "sum", tir.ArrayMap(A2, S, (a,), tir.Elem(T.f64, S, 0)), (0, 1),
                   False),
        tir.Scan(A2, S, "sum", tir.ArrayMap(A2, S, (a,), tir.Elem(T.f64, S, 0)), 1),
        tir.Generate(A2, S, (n, n), (x,), tir.Cast(T.f64, S, tir.Coord(T.i64, S, 1)), check=4),
        tir.Coord(T.i64, S, 0), tir.ArrayLiteral(T.Array(T.f64, 1), S, (2,), (x, x)),
        tir.GlobalArray(T.Array(T.f64, 1), S, "__ember_const_0", (1,), b"\0" * 8),
        tir.Reshape(T.Array(T.f64, 1), S, a, (n,), check=5),
        tir.Product(A2, S, "matmul", a, tir.Transpose(A2, S, a, (1, 0)), check=6),
        gpu_arrays.BroadcastElement(T.f64, S, tir.ArrayMap(A2, S, (a,), tir.Elem(T.f64, S, 0)),
                                    (i, one)),
    ]
    loop = tir.For(S, "i", one, n, one, 1, (store, tir.Assign(S, "x", load)), (("x", T.f64),))
    stmts: list[tir.Expr | tir.Stmt] = [
        store, tir.Assign(S, "x", x), tir.ExprStmt(S, tir.KernelCall(T.f64, S, "callee", ())),
        tir.If(S, tir.Truth(T.boolean, S, i), (store,), (tir.Raise(S, 0, (i,)),)), loop,
        tir.While(S, tir.Compare(T.boolean, S, "lt", i, n), (loop,)),
        tir.ParallelLaunch(S, "worker", n, (a,), (("x", "add", T.f64),)),
        tir.MatMul(S, a, a, x, "i", "k", (one, n), (one, n), (one, n), (6, 2, 4), init=x,
                   c_lead=(i,)),
        tir.Return(S, x), tir.Raise(S, 0, (i, n)),
        gpu.AtomicAdd(S, a, (i, one), (False, False), x), tir.Fill(S, a, x),
        gpu_arrays.ElementStore(S, a, (i, one), tir.ArrayMap(A2, S, (a,), tir.Elem(
            T.f64, S, 0)), check=7),
        tir.ArrayStore(S, a, tir.ArrayMap(A2, S, (a,), tir.Elem(T.f64, S, 0)), check=3),
    ]
    return exprs + stmts


def _node_classes() -> set[type]:
    """Every typed-tree node class Ember defines (tir's and those of other frontend files)."""
    found: set[type] = set()
    todo = [tir.Expr, tir.Stmt]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            # slots=True dataclasses replace the class they decorate: keep the one named
            module = sys.modules[sub.__module__]
            if sub.__module__.startswith("ember.") and getattr(module, sub.__name__) is sub:
                found.add(sub)
    return found


def test_samples_cover_every_node_class():
    assert {type(n) for n in _samples()} == _node_classes()


def test_every_node_class_declares_its_effects():
    missing = sorted(c.__name__ for c in _node_classes() if c not in tir.EFFECTS)
    assert not missing, f"add rows to tir.EFFECTS for {missing}"


@pytest.mark.parametrize("node", _samples(), ids=lambda n: type(n).__name__)
def test_identity_transformer_returns_the_same_object(node):
    assert tir.Transformer().visit(node) is node


class _Rename(tir.Transformer):
    def visit_Var(self, v: tir.Var) -> tir.Var:
        return replace(v, name=v.name + "_") if v.name == "i" else v


@pytest.mark.parametrize("node", _samples(), ids=lambda n: type(n).__name__)
def test_transformer_rebuilds_only_what_changed(node):
    out = _Rename().visit(node)
    names = {n.name for n in tir.walk(node) if isinstance(n, tir.Var)}
    if "i" not in names:
        assert out is node
        return
    assert type(out) is type(node) and "i" not in {
        n.name for n in tir.walk(out) if isinstance(n, tir.Var)}
    for f in fields(node):  # children without an `i` are kept, not copied
        old = getattr(node, f.name)
        if isinstance(old, tir.Expr) and "i" not in tir.names(old):
            assert getattr(out, f.name) is old


def test_statement_visit_may_splice_several():
    class Twice(tir.Transformer):
        def visit_Store(self, s):
            return (s, s)

    loop = next(n for n in _samples() if isinstance(n, tir.For))
    out = Twice().visit(loop)
    assert len(out.body) == 3 and out.body[0] is out.body[1] is loop.body[0]


def _respan(node):
    class Respan(tir.Transformer):
        def generic_visit(self, n):
            return replace(super().generic_visit(n), span=S2)

    return Respan().visit(node)


@pytest.mark.parametrize("node", _samples(), ids=lambda n: type(n).__name__)
def test_same_ignores_spans(node):
    moved = _respan(node)
    assert moved != node and tir.same(moved, node)
    assert not tir.same(_Rename().visit(node), node) or "i" not in tir.names(node)


def test_effects_table():
    i, a = _var("i"), _var("a", A2)
    load = tir.Load(T.f64, S, a, (i,), (False,))
    assert tir.effects(load) == tir.Effects(reads=True)
    assert tir.effects(replace(load, check=3)) == tir.Effects(reads=True, raises=True)
    assert tir.effects(tir.BinOp(T.i64, S, "floordiv", i, i, check=1)).raises
    assert tir.effects(tir.Store(S, a, (i,), (False,), tir.Const(T.f64, S, 0.0))).writes
    assert tir.effects(tir.KernelCall(T.f64, S, "f", ())).unknown
    assert tir.effects(tir.Alloc(A2, S, (i, i), None)).allocates
    assert tir.effects(tir.Raise(S, 0)).raises
    assert tir.effects_under(tir.Assign(S, "x", tir.Cast(T.f64, S, load))).reads
    assert not tir.effects_under(tir.Assign(S, "y", i)).memory


# --- a node of unknown effects inside a loop nest ---------------------------------------------
@dataclass(frozen=True, slots=True)
class Opaque(tir.Expr):
    """A node kind no table knows: its effects are unknown."""

    value: tir.Expr


def test_unknown_node_has_unknown_effects():
    assert tir.effects(Opaque(T.f64, S, _var("x", T.f64))).unknown


def row_sums(a: f64[:, :], x: f64[:], y: f64[:]) -> None:
    for i in range(a.shape[0]):
        s = 0.0
        for j in range(a.shape[1]):
            s += a[i, j] * x[j]
        y[i] = s


def scale_cols(a: f64[:, :], b: f64[:, :]) -> None:
    for j in range(a.shape[1]):
        for i in range(a.shape[0]):
            b[i, j] = 2.0 * a[i, j] + 1.0


def producer_consumer(a: f64[:], b: f64[:], t: f64[:], out: f64[:]) -> None:
    for i in range(a.shape[0]):
        t[i] = a[i] * a[i]
    for i in range(a.shape[0]):
        out[i] = t[i] + b[i]


class _HideStores(tir.Transformer):
    """Wraps every stored value in an Opaque node."""

    def visit_Store(self, s: tir.Store) -> tir.Store:
        return replace(s, value=Opaque(s.value.type, s.span, s.value))


@pytest.mark.parametrize("kernel, optimize", [(row_sums, jam_loops),
                                              (scale_cols, interchange_loops),
                                              (producer_consumer, fuse_loops)])
def test_unknown_node_makes_the_pass_leave_the_nest(kernel, optimize):
    fn = build_program(kernel).functions[build_program(kernel).entry]
    types = dict(fn.var_types)
    assert optimize(fn.body, types) != fn.body  # the pass applies to the plain nest
    hidden = _HideStores().block(fn.body)
    assert optimize(hidden, dict(fn.var_types)) == hidden
