"""The typed tree: the frontend's output and the IR emitter's input.

Frozen dataclass nodes; every node has a `span` (for locations and errors) and every
expression a `type`. Control flow is structured (no break/continue, one final return), and
each `If`/`For`/`While` lists the variables it merges or carries (`carried`), computed by
`dataflow.py`, so the emitter never has to discover them.

Passes ask the tree, not isinstance lists: `walk` visits every node, `Transformer` rebuilds a
tree from `visit_<Class>` rules, `same` compares trees ignoring spans, and `effects` says what
a node does to memory (`EFFECTS`, one row per node class; a class without a row has unknown
effects, and the loop optimizations then leave its nest as written).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from ..binding import Binding
from ..errors import Span
from ..types import Scalar, Type


@dataclass(frozen=True, slots=True)
class Expr:
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: bool | int | float
    """A complex constant (frontend/complexes.py) holds a Python complex here."""


@dataclass(frozen=True, slots=True)
class Var(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """Arithmetic on operands already cast to `type` (shifts/bitwise on ints only)."""

    op: str
    left: Expr
    right: Expr
    check: int | None = None
    """Site raising ZeroDivisionError (or ValueError for int ** negative) under
    error_model="python"; None: NumPy semantics, no check."""


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    op: str  # "neg" | "invert" | "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """A binary comparison of operands already cast to a common type."""

    op: str  # "eq" | "ne" | "lt" | "le" | "gt" | "ge"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class CompareChain(Expr):
    """`a < b < c ...`: each operand evaluated once, later links only if earlier ones hold.
    Link k compares operands k and k+1 converted to `common[k]`."""

    ops: tuple[str, ...]
    operands: tuple[Expr, ...]
    common: tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    """Short-circuit `and`/`or`: Python semantics, the result is one of the operands."""

    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Truth(Expr):
    """`bool(x)` of a scalar: x != 0."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class IfExp(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    value: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A builtin operation by key (see frontend/builtins.py and ir/ops.py)."""

    op: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class KernelCall(Expr):
    callee: str
    """Symbol of the called kernel's `Function` in the same `Program`."""
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Load(Expr):
    array: Expr
    indices: tuple[Expr, ...]
    wrap: tuple[bool, ...]
    """Per index: may be negative, so apply Python's wrap-around."""
    check: int | None = None
    """Bounds-check site (boundscheck=True): an index outside the array raises IndexError."""


@dataclass(frozen=True, slots=True)
class Dim(Expr):
    array: Expr
    axis: int


@dataclass(frozen=True, slots=True)
class DynDim(Expr):
    """`a.shape[d]` for a run-time `d` (negative `d` counts from the end)."""

    array: Expr
    axis: Expr


@dataclass(frozen=True, slots=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class TupleGet(Expr):
    value: Expr
    index: int


@dataclass(frozen=True, slots=True)
class Alloc(Expr):
    """A new local array; `fill` is None for np.empty."""

    shape: tuple[Expr, ...]
    fill: Expr | None


ViewItem = Expr | tuple[Expr | None, Expr | None, Expr | None] | None
"""One item of a `View`: an index (an i64 expression: drops its axis), a slice
(start, stop, step; None where omitted) or None (np.newaxis: a new axis of length 1)."""


@dataclass(frozen=True, slots=True)
class View(Expr):
    """`array[items]` as a view sharing `array`'s memory (never a copy); axes after the
    items are kept whole. Slices follow Python's `slice.indices` (clamping, negative
    indices and steps, empty results)."""

    array: Expr
    items: tuple[ViewItem, ...]
    check: int | None = None
    """Bounds-check site of the index items (boundscheck=True), as for Load."""
    step_check: int | None = None
    """ValueError site for a slice step that is zero at run time."""


@dataclass(frozen=True, slots=True)
class Transpose(Expr):
    """`array.transpose(perm)` (`.T`: reversed axes) as a view: axis k of the result is
    axis perm[k] of `array`."""

    array: Expr
    perm: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Elem(Expr):
    """Inside an `ArrayMap` body: the current element of array input `index` (of a scalar
    input: its value, evaluated once before the loop)."""

    index: int


@dataclass(frozen=True, slots=True)
class ArrayMap(Expr):
    """A whole-array expression (frontend/arrays.py): a new array of the broadcast shape of
    the array `inputs` (NumPy's rules, decided at run time), each element `body`, a scalar
    expression over `Elem` placeholders. One fused loop nest, no temporaries."""

    inputs: tuple[Expr, ...]
    body: Expr
    check: int | None = None
    """ValueError site for shapes that do not broadcast (two or more array inputs)."""


@dataclass(frozen=True, slots=True)
class Reduce(Expr):
    """A NumPy reduction (frontend/reductions.py, ir/reductions.py) of `source`'s elements
    over `axes` (sorted, non-negative; every axis for axis=None): `kind` is sum, prod, min,
    max, any, all, mean, var, std, argmin or argmax. `source`'s body is already of the
    accumulator's dtype (argmin/argmax, min/max: the operand's). A scalar when every axis is
    reduced without `keepdims`, else a new array. Never materializes `source`."""

    kind: str
    source: ArrayMap
    axes: tuple[int, ...]
    keepdims: bool
    ddof: Expr | None = None
    """var/std: the delta degrees of freedom (an f64)."""
    check: int | None = None
    """ValueError site for an empty reduction without identity (min/max/argmin/argmax)."""


@dataclass(frozen=True, slots=True)
class Scan(Expr):
    """np.cumsum/np.cumprod (`kind` sum or prod) of `source` along `axis` (None: of the
    flattened elements, in C order): a new array."""

    kind: str
    source: ArrayMap
    axis: int | None


@dataclass(frozen=True, slots=True)
class Product(Expr):
    """A NumPy product of arrays (frontend/products.py, ir/products.py): `kind` is "dot"
    (1-D . 1-D -> scalar), "matvec" (2-D . 1-D), "vecmat" (1-D . 2-D), "matmul" (2-D . 2-D),
    "outer" (1-D x 1-D -> 2-D) or "trace" (of `a`, with `b` the offset scalar). Operands are
    of the result's dtype (or, for trace, converted element by element); array results are
    new arrays."""

    kind: str
    a: Expr
    b: Expr
    check: int | None = None
    """ValueError site for contracted sizes that differ (two sizes as arguments)."""


@dataclass(frozen=True, slots=True)
class Generate(Expr):
    """A new C-contiguous array of `shape` (frontend/creation.py: np.arange, np.eye, copies)
    whose element at each coordinate is `body`, a scalar expression over `Coord`
    placeholders (the coordinates) and `Elem` placeholders of `inputs` (evaluated once,
    before the loop nest; `shape` may read them too, as selection.py's joins do)."""

    shape: tuple[Expr, ...]
    inputs: tuple[Expr, ...]
    body: Expr
    check: int | None = None
    """ValueError site for a negative size (the sizes are its values)."""


@dataclass(frozen=True, slots=True)
class Coord(Expr):
    """Inside a `Generate` body: the current coordinate on `axis` (an i64)."""

    axis: int


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Expr):
    """`np.array([...])` of scalars: a new array of the constant `shape`, `items` (already of
    its dtype) in C order, evaluated left to right."""

    shape: tuple[int, ...]
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class GlobalArray(Expr):
    """A module-level NumPy array frozen into the kernel at compile time (frontend/constants.py):
    a read-only constant of the constant `shape`, its C-ordered elements `data` in storage form
    (bools as bytes), named `symbol` in the module."""

    symbol: str
    shape: tuple[int, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class Reshape(Expr):
    """`array.reshape(shape)` / `.ravel()`: a view with the new shape when `array` is
    C-contiguous at run time, else a C-ordered copy. A negative size is the unknown one."""

    array: Expr
    shape: tuple[Expr, ...]
    check: int | None = None
    """ValueError site: the sizes do not multiply to the array's size."""


# --- statements ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stmt:
    span: Span


@dataclass(frozen=True, slots=True)
class Assign(Stmt):
    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Store(Stmt):
    array: Expr
    indices: tuple[Expr, ...]
    wrap: tuple[bool, ...]
    value: Expr
    check: int | None = None
    """Bounds-check site, as for Load."""


@dataclass(frozen=True, slots=True)
class Fill(Stmt):
    """`array[...] = value` for a scalar `value`: every element of `array` (a view) set."""

    array: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class ArrayStore(Stmt):
    """`array[...] = value` for an array `value` (an `ArrayMap` whose body is already of the
    array's dtype), broadcast into `array` (a view or an array). Where an input may overlap
    `array` (other than `array` itself), the value goes through a temporary first, so the
    old elements are read (NumPy's semantics)."""

    array: Expr
    value: ArrayMap
    check: int | None = None
    """ValueError site for a value whose shape does not broadcast into the array's."""
    exact: bool = False
    """Whether the value's shape must equal the array's (no broadcasting): a derivative's
    result buffer (frontend/adresults.py), whose shape the caller may have learned earlier."""


@dataclass(frozen=True, slots=True)
class ExprStmt(Stmt):
    value: Expr


@dataclass(frozen=True, slots=True)
class If(Stmt):
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    carried: tuple[tuple[str, Type], ...] = ()


@dataclass(frozen=True, slots=True)
class For(Stmt):
    """`for var in range(start, stop, step)`; `step_sign` is +1, -1 or 0 (known at run time)."""

    var: str
    start: Expr
    stop: Expr
    step: Expr
    step_sign: int
    body: tuple[Stmt, ...]
    carried: tuple[tuple[str, Type], ...] = ()
    parallel: bool = False
    """A `prange` loop (outlined by frontend/parallel.py before emission)."""
    cold: bool = False
    """Rarely run (edges, overlap fallbacks of optimized nests): LLVM neither vectorizes nor
    unrolls it, which keeps compile time down."""


@dataclass(frozen=True, slots=True)
class While(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    carried: tuple[tuple[str, Type], ...] = ()


@dataclass(frozen=True, slots=True)
class ParallelLaunch(Stmt):
    """Run `worker(lo, hi, start, step, *args)` over [0, trips) on all cores; each reduction
    (name, op, type) is combined from the workers' partial results in thread order."""

    worker: str
    trips: Expr
    args: tuple[Expr, ...]
    reductions: tuple[tuple[str, str, Type], ...]


@dataclass(frozen=True, slots=True)
class MatMul(Stmt):
    """For i in `rows`, j in `cols`: c[i, j] = c[i, j] + u * b[k, j] for k in `depth`,
    increasing k for each element (the order of the loops it replaces), computed in register
    tiles of `tile` = (rows, vectors per row, lanes per vector). `u` reads the row as `row`
    and k as `red`; with `init`, each element starts from `init` instead of c[i, j]. `cols`
    span whole tiles (frontend/opt/matmul.py leaves the edge columns to plain loops); the last
    row tile repeats its last row where the rows run out."""

    c: Expr
    b: Expr
    u: Expr
    row: str
    red: str
    rows: tuple[Expr, Expr]
    cols: tuple[Expr, Expr]
    depth: tuple[Expr, Expr]
    tile: tuple[int, int, int]
    init: Expr | None = None
    b_transposed: bool = False
    """b is read as b[j, k] instead of b[k, j]."""
    c_lead: tuple[Expr, ...] = ()
    b_lead: tuple[Expr, ...] = ()
    """Fixed leading indices of c and b (batched products: c[n, i, j], b[n, k, j])."""


@dataclass(frozen=True, slots=True)
class Return(Stmt):
    value: Expr | None


@dataclass(frozen=True, slots=True)
class Raise(Stmt):
    """Stop the kernel with the exception of `Program.sites[site]`, its message formatted
    from `args` (scalars) at run time (runtime/kernel_errors.c)."""

    site: int
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Site:
    """A place that can raise: the exception, its message template (`str.format` fields
    `{k}` / `{k:spec}` over the arguments), one type letter per argument (d f q Q ?) and the
    user's location."""

    kind: str
    template: str
    tags: str
    file: str
    line: int
    func: str


@dataclass(frozen=True)
class Function:
    """One typed kernel."""

    name: str
    symbol: str
    params: tuple[tuple[str, Type], ...]
    ret: Type
    body: tuple[Stmt, ...]
    span: Span
    written: frozenset[str] = frozenset()
    """Array parameters the kernel may write (directly or through a call)."""
    var_types: dict[str, Type] = field(default_factory=dict)
    fast_body: tuple[Stmt, ...] | None = None
    """The body after loop optimizations that pay off on contiguous arrays (jam.py), for the
    entry's contiguous variant; None if they changed nothing."""
    binding: Binding | None = None
    """How Python arguments bind to `params` (ember/binding.py; frontend/params.py)."""
    result_aliases: frozenset[str] | None = None
    """Array parameters the result may share memory with (frontend/aliasing.py); None while
    unknown (a kernel still being typed: any of them)."""


@dataclass(frozen=True)
class Program:
    """The entry kernel and every kernel it calls, transitively, by symbol."""

    entry: str
    functions: dict[str, Function]
    sites: tuple[Site, ...] = ()
    """Every `raise`, `assert` and run-time check of the program (tir.Raise, checked Load,
    Store and BinOp nodes name one by index)."""


def walk(node: object) -> Iterator[Expr | Stmt]:
    """Every typed-tree node under `node` (statements, expressions), depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        elif isinstance(item, Expr | Stmt):
            yield item
            stack.extend(reversed([getattr(item, f.name) for f in fields(item)
                                   if f.name not in ("span", "type")]))


def raises(node: object) -> bool:
    """Whether anything under `node` can raise (a Raise or a checked operation)."""
    return any(effects(n).raises for n in walk(node))


def names(node: object) -> set[str]:
    """The names of every variable referenced under `node` (read, or an array written)."""
    return {n.name for n in walk(node) if isinstance(n, Var)}


_NOT_CHILDREN = frozenset({"span", "type"})


def same(a: object, b: object) -> bool:
    """Structural equality of typed-tree values, ignoring spans."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Expr | Stmt) and type(a) is type(b):
        return all(f.name == "span" or same(getattr(a, f.name), getattr(b, f.name))
                   for f in fields(a))
    return a == b


_Node = TypeVar("_Node", bound="Expr | Stmt")


class Transformer:
    """Rebuilds a tree bottom-up. A `visit_<Class>(node)` method rewrites the nodes of one
    class (a statement's may return a tuple of statements, spliced into its block); any
    other node is rebuilt from its transformed children with `dataclasses.replace`, and
    returned itself where no child changed, so an identity transformer returns the very
    same tree. A `visit_` method that wants its node's children transformed too calls
    `generic_visit`."""

    def visit(self, node: Expr | Stmt) -> object:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        return method(node) if method is not None else self.generic_visit(node)

    def generic_visit(self, node: _Node) -> _Node:
        changes: dict[str, Any] = {}  # field name -> new value (a node, a tuple, ...)
        for f in fields(node):
            if f.name not in _NOT_CHILDREN:
                old = getattr(node, f.name)
                new = self.value(old)
                if new is not old:
                    changes[f.name] = new
        return replace(node, **changes) if changes else node

    def value(self, value: object) -> object:
        """`value` (a node, a tuple of them or anything else) with its nodes transformed."""
        if isinstance(value, Expr | Stmt):
            return self.visit(value)
        if not isinstance(value, tuple):
            return value
        out: list[object] = []
        for item in value:
            new = self.value(item)
            if isinstance(item, Stmt) and isinstance(new, tuple):
                out.extend(new)
            else:
                out.append(new)
        unchanged = len(out) == len(value) and all(x is y for x, y in zip(out, value, strict=True))
        return value if unchanged else tuple(out)

    def block(self, body: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
        """A statement list, transformed."""
        out = self.value(body)
        assert isinstance(out, tuple)
        return out

    def expr(self, e: Expr) -> Expr:
        """An expression, transformed."""
        out = self.visit(e)
        assert isinstance(out, Expr)
        return out


# --- memory effects ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Effects:
    """What evaluating one node does besides computing its value, its children not counted
    (after MLIR's MemoryEffectOpInterface)."""

    reads: bool = False
    """Reads array elements."""
    writes: bool = False
    """Writes array elements."""
    allocates: bool = False
    """Creates an array."""
    raises: bool = False
    """May stop the kernel with an exception."""
    unknown: bool = False
    """Anything at all: a transformation that needs to know must leave the code as written."""

    def __or__(self, other: Effects) -> Effects:
        return Effects(*(x or y for x, y in zip(self._flags(), other._flags(), strict=True)))

    def _flags(self) -> tuple[bool, bool, bool, bool, bool]:
        return (self.reads, self.writes, self.allocates, self.raises, self.unknown)

    @property
    def memory(self) -> bool:
        """Touches memory (reads, writes or allocates), or may."""
        return self.reads or self.writes or self.allocates or self.unknown


PURE: Effects = Effects()
UNKNOWN: Effects = Effects(unknown=True)
_CHECKED = Effects(raises=True)

EFFECTS: dict[type, Effects] = {
    Const: PURE, Var: PURE, BinOp: PURE, UnaryOp: PURE, Compare: PURE, CompareChain: PURE,
    BoolOp: PURE, Truth: PURE, IfExp: PURE, Cast: PURE,
    Call: PURE,  # builtins compute on scalars (and array shapes: len, disjoint)
    KernelCall: UNKNOWN,  # the callee may read, write, allocate or raise
    Load: Effects(reads=True),
    Dim: PURE, DynDim: PURE, TupleExpr: PURE, TupleGet: PURE,
    Alloc: Effects(allocates=True),
    View: PURE, Transpose: PURE,  # no access; an alias (below)
    Elem: PURE, ArrayMap: Effects(reads=True, allocates=True),
    Reduce: Effects(reads=True, allocates=True), Scan: Effects(reads=True, allocates=True),
    Generate: Effects(reads=True, allocates=True), Coord: PURE,
    ArrayLiteral: Effects(allocates=True),
    GlobalArray: PURE,  # a constant in the module, bound once to a read-only variable
    Reshape: Effects(reads=True, allocates=True),  # an alias, or a copy if not contiguous
    Product: Effects(reads=True, allocates=True),
    Assign: PURE, ExprStmt: PURE, If: PURE, For: PURE, While: PURE, Return: PURE,
    Store: Effects(writes=True), Fill: Effects(writes=True),
    # whole-array writes: no element indices the loop passes could compare, so unknown
    ArrayStore: Effects(reads=True, writes=True, unknown=True),
    ParallelLaunch: UNKNOWN,  # a worker kernel runs the outlined loop body
    MatMul: Effects(reads=True, writes=True),
    Raise: Effects(raises=True),
}
"""The effects of each node class (statements: of the statement itself, not of its
expressions or nested statements). A class defined elsewhere adds its row here. A `View` or
`Transpose` touches no memory but makes an alias: an array variable bound to one shares
memory with its base, so passes that tell arrays apart by name must not run on kernels that
make views (infer.py leaves them unoptimized)."""


def effects(node: Expr | Stmt) -> Effects:
    """The effects of `node` itself (a checked Load, Store, BinOp or View also raises)."""
    own = EFFECTS.get(type(node), UNKNOWN)
    checked = any(getattr(node, f, None) is not None for f in ("check", "step_check"))
    return own | _CHECKED if checked else own


def effects_under(node: object) -> Effects:
    """The effects of everything under `node` together."""
    total = PURE
    for n in walk(node):
        total = total | effects(n)
    return total
