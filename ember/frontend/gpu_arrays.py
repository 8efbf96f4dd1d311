"""Frontend step for array code in `target="gpu"` kernels (used by frontend/gpu.py).

Host level: a whole-array statement on a whole array parameter (`out[:] = a * x + y`,
`x += y`, `out[...] = 0.0`, `m.fill(v)`) becomes a synthesized prange nest over the
destination's axes (grid loops for the first three, sequential loops inside the thread for
the rest) whose body is one `ElementStore`: the destination's element at the loop
variables, computed from the expression's inputs broadcast to the destination's shape
(ir/gpu_arrays.py). A source that may overlap the destination other than element for
element, and reductions or products at host level, are refused.

Device level (inside a prange loop): views, transposes, fills, array assignments, reductions
and products with a scalar result compile to sequential loops in each thread; anything that
would create an array (an array-valued expression not assigned into an existing array, a
reduction or product with an array result, scans, np.zeros/arange/copy/reshape...) is a
CompileError, and so is an array assignment whose source may overlap its destination
(NumPy reads the old values, which needs a temporary array). Run-time checks (broadcast
shapes, zero steps, bounds) become device assertions (ir/raising.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import types as T
from ..errors import CompileError
from . import dataflow, tir

_CREATES = {
    tir.Alloc: "creating an array",
    tir.Scan: "np.cumsum/np.cumprod (they create an array)",
    tir.Generate: "creating an array (np.arange/linspace/eye/copy...)",
    tir.ArrayLiteral: "creating an array (np.array)",
    tir.Reshape: "reshape/ravel (a copy when the array is not contiguous)",
}
_ARRAY_RESULT = {
    tir.ArrayMap: "an array expression that makes a new array (assign it into an existing "
                  "array: `out[i, :] = ...`, or reduce it: `np.sum(...)`)",
    tir.Reduce: "a reduction with an array result (reduce to a scalar, or loop over the "
                "kept axis)",
    tir.Product: "a product with an array result (only np.dot/vdot/inner of vectors and "
                 "np.trace, which give scalars)",
}
_DEVICE_HINT = ("device code cannot allocate memory: pass an output array to the kernel and "
                "write into it")
_HOST_ARRAYS = ("at the top level of a GPU kernel an array statement must assign to a whole "
                "array parameter (`out[:] = a * x + y`, `x += y`, `out[...] = 0.0`); write "
                "parts of arrays inside a prange loop")


@dataclass(frozen=True, slots=True)
class ElementStore(tir.Stmt):
    """One element of a host-level array statement (device code only): `array[indices] =`
    the element of `value` there (an ArrayMap broadcast to `array`'s shape, or a scalar)."""

    array: tir.Expr
    indices: tuple[tir.Expr, ...]
    value: tir.Expr
    check: int | None = None
    """ValueError site: the value's shape does not broadcast to the destination's."""


tir.EFFECTS[ElementStore] = tir.Effects(reads=True, writes=True)


@dataclass(frozen=True, slots=True)
class BroadcastElement(tir.Expr):
    """Device code: the element of `source` (its inputs broadcast together) at `indices`, or
    0 where they lie outside its shape (the grid of a host-level sum spans each axis's
    largest size, one more than the shape where a size 0 meets a size 1)."""

    source: tir.ArrayMap
    indices: tuple[tir.Expr, ...]


tir.EFFECTS[BroadcastElement] = tir.Effects(reads=True)


# --- device code -------------------------------------------------------------------------------
def check_device(body: tuple[tir.Stmt, ...]) -> None:
    """CompileError for array code in a prange loop body that device code cannot run."""
    consumed = _consumed(body)
    for node in tir.walk(body):
        what = _CREATES.get(type(node))
        if what is None and isinstance(node, tir.Expr) and isinstance(node.type, T.Array) \
                and id(node) not in consumed:
            what = _ARRAY_RESULT.get(type(node))
        if what is not None:
            raise CompileError(f"{what} is not supported inside a GPU prange loop: "
                               f"{_DEVICE_HINT}", node.span)
    _check_overlaps(body)


def _consumed(body: tuple[tir.Stmt, ...]) -> set[int]:
    """The ArrayMaps read element by element (assigned into an array, reduced, or the host
    statement's value): they make no array."""
    out = set()
    for node in tir.walk(body):
        if isinstance(node, tir.ArrayStore | ElementStore):
            out.add(id(node.value))
        elif isinstance(node, tir.Reduce | tir.Scan | BroadcastElement):
            out.add(id(node.source))
    return out


def _check_overlaps(body: tuple[tir.Stmt, ...]) -> None:
    bases, views = _local_bases(body), _fixed_views(body)
    for node in tir.walk(body):
        if isinstance(node, tir.ArrayStore):
            _no_overlap(node.array, node.value, bases, views,
                        "an array assignment whose source may overlap its destination needs "
                        "a temporary array (NumPy reads the old values), which GPU device "
                        "code cannot create; write the element loop, or read from another "
                        "array")


def _no_overlap(dest: tir.Expr, value: tir.ArrayMap, bases: dict[str, set[str] | None],
                views: dict[str, tir.Expr], message: str) -> None:
    mine, same = _roots(dest, bases), _canonical(dest, views)
    for e in value.inputs:
        if not isinstance(e.type, T.Array) or (tir.same(_canonical(e, views), same)
                                               and e.type.ndim == _ndim(dest)):
            continue  # an element reads only its own old value
        theirs = _roots(e, bases)
        if mine is None or theirs is None or mine & theirs:
            raise CompileError(message, e.span)


def _fixed_views(body: tuple[tir.Stmt, ...]) -> dict[str, tir.Expr]:
    """Local views assigned once, at the top of the body, from values the body never
    changes (`row = x[i]`): the same elements wherever the name is used."""
    assigned = dataflow.assigned(body)
    counts: dict[str, int] = {}
    for st in tir.walk(body):
        if isinstance(st, tir.Assign):
            counts[st.name] = counts.get(st.name, 0) + 1
    return {st.name: st.value for st in body if isinstance(st, tir.Assign)
            and isinstance(st.value, tir.View | tir.Transpose) and counts[st.name] == 1
            and not tir.names(st.value) & assigned}


def _canonical(e: tir.Expr, views: dict[str, tir.Expr]) -> tir.Expr:
    """`e` with fixed local views substituted and trailing whole-axis slices dropped (`r[:]`
    and `x[i, :]` with `r = x[i]` are both `x[i]`), for comparing views."""
    if isinstance(e, tir.Var) and e.name in views:
        return _canonical(views[e.name], views)
    if isinstance(e, tir.Transpose):
        return replace(e, array=_canonical(e.array, views))
    if not isinstance(e, tir.View):
        return e
    items = list(e.items)
    while items and items[-1] == (None, None, None):
        items.pop()
    array = _canonical(e.array, views)
    return replace(e, array=array, items=tuple(items), check=None, step_check=None) \
        if items else array


def _whole(e: tir.Expr) -> tir.Expr:
    """`e` without full-slice views (`r[:]`, `r[...]` are `r`)."""
    while isinstance(e, tir.View) and all(item == (None, None, None) for item in e.items):
        e = e.array
    return e


def _ndim(e: tir.Expr) -> int:
    return e.type.ndim if isinstance(e.type, T.Array) else 0


def _local_bases(body: tuple[tir.Stmt, ...]) -> dict[str, set[str] | None]:
    """Per local array variable of the body, the parameters it may view (None: unknown)."""
    out: dict[str, set[str] | None] = {}
    assigns = [s for s in tir.walk(body) if isinstance(s, tir.Assign)
               and isinstance(s.value.type, T.Array)]
    for _ in range(len(assigns) + 1):  # views of views: until nothing changes
        for s in assigns:
            roots = _roots(s.value, out)
            old = out.get(s.name, set())
            out[s.name] = None if roots is None or old is None else old | roots
    return out


def _roots(e: tir.Expr, bases: dict[str, set[str] | None]) -> set[str] | None:
    """The array variables `e` may be a view of (None: unknown)."""
    while isinstance(e, tir.View | tir.Transpose):
        e = e.array
    if isinstance(e, tir.Var):
        return bases.get(e.name, {e.name})
    return None


# --- host level --------------------------------------------------------------------------------
def host_array_nest(s: tir.Stmt, params: dict[str, T.Type], k: int) -> tir.For | None:
    """The prange nest of a host-level whole-array statement (None: `s` is not one)."""
    if not isinstance(s, tir.ArrayStore | tir.Fill):
        return None
    base = _whole_parameter(s.array, params)
    if base is None:
        raise CompileError(_HOST_ARRAYS, s.span)
    inner = host_reduction(s.value)
    if inner is not None:
        raise CompileError("a reduction or product in an array statement at the top level of "
                           "a GPU kernel would be recomputed by every thread; compute it in "
                           "a prange loop (`s += ...`) first", inner.span)
    for load in tir.walk(s.value):
        roots = _roots(load.array, {}) if isinstance(load, tir.Load) else set()
        if roots is None or base.name in roots:
            raise CompileError("this array statement at the top level of a GPU kernel runs "
                               "one thread per element, so this element of the destination "
                               "may already be overwritten when another thread reads it; "
                               "read it from another array", load.span)
    if isinstance(s, tir.ArrayStore):
        _no_overlap(s.array, s.value, {}, {},
                    "this array statement at the top level of a GPU kernel runs one thread "
                    "per element, so a source that overlaps the destination other than "
                    "element for element would be read while it is written; read from "
                    "another array")
    assert isinstance(base.type, T.Array)
    names = [f"__e{k}_{d}" for d in range(base.type.ndim)]
    idx = tuple(tir.Var(T.i64, s.span, n) for n in names)
    value = s.value
    store: tir.Stmt = ElementStore(s.span, s.array, idx, value,
                                   s.check if isinstance(s, tir.ArrayStore) else None)
    body: tuple[tir.Stmt, ...] = (store,)
    for d in reversed(range(base.type.ndim)):
        zero, one = tir.Const(T.i64, s.span, 0), tir.Const(T.i64, s.span, 1)
        stop = tir.Dim(T.i64, s.span, base, d)
        body = (tir.For(s.span, names[d], zero, stop, one, 1, body, parallel=d < 3),)
    loop = body[0]
    assert isinstance(loop, tir.For)
    return loop


def _whole_parameter(e: tir.Expr, params: dict[str, T.Type]) -> tir.Var | None:
    """The parameter `e` is all of (`x`, `x[:]`, `x[...]`, `x[:, :]`), else None."""
    e = _whole(e)
    if isinstance(e, tir.Var) and isinstance(params.get(e.name), T.Array):
        return e
    return None


def host_sum(name: str, e: tir.Expr, params: dict[str, T.Type], k: int) -> tir.For | None:
    """The prange nest computing `name += np.sum(...)` (a parallel reduction) when `e` is a
    sum of every element of an expression of whole array parameters, else None."""
    if not (isinstance(e, tir.Reduce) and e.kind == "sum" and not e.keepdims
            and isinstance(e.type, T.Scalar) and host_reduction(e.source.inputs) is None):
        return None
    m = e.source
    assert isinstance(m.type, T.Array)
    rank = m.type.ndim
    if len(e.axes) != rank:
        return None
    arrays = [_whole(i) for i in m.inputs if isinstance(i.type, T.Array)]
    if not all(isinstance(a, tir.Var) and isinstance(params.get(a.name), T.Array)
               for a in arrays):
        return None
    names = [f"__s{k}_{d}" for d in range(rank)]
    idx = tuple(tir.Var(T.i64, e.span, n) for n in names)
    acc = tir.Var(e.type, e.span, name)
    add = tir.BinOp(e.type, e.span, "add", acc, BroadcastElement(e.type, e.span, m, idx))
    body: tuple[tir.Stmt, ...] = (tir.Assign(e.span, name, add),)
    for d in reversed(range(rank)):
        sizes = [tir.Dim(T.i64, e.span, a, d - (rank - _ndim(a))) for a in arrays
                 if d >= rank - _ndim(a)]
        stop = sizes[0] if len(sizes) == 1 else tir.Call(T.i64, e.span, "max", tuple(sizes))
        zero, one = tir.Const(T.i64, e.span, 0), tir.Const(T.i64, e.span, 1)
        body = (tir.For(e.span, names[d], zero, stop, one, 1, body, ((name, e.type),),
                        parallel=d < 3),)
    loop = body[0]
    assert isinstance(loop, tir.For)
    return loop


def host_reduction(e: object) -> tir.Expr | None:
    """A reduction or product under `e` (at host level: refused, see frontend/gpu.py)."""
    return next((n for n in tir.walk(e) if isinstance(n, tir.Reduce | tir.Product)), None)
