"""The typed tree: the frontend's output and the IR emitter's input.

Frozen dataclass nodes; every node has a `span` (for locations and errors) and every
expression a `type`. Control flow is structured (no break/continue, one final return), and
each `If`/`For`/`While` lists the variables it merges or carries (`carried`), computed by
`dataflow.py`, so the emitter never has to discover them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from ..errors import Span
from ..types import Scalar, Type


@dataclass(frozen=True, slots=True)
class Expr:
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: bool | int | float


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
    span whole tiles (frontend/matmul.py leaves the edge columns to plain loops); the last
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


@dataclass(frozen=True)
class Program:
    """The entry kernel and every kernel it calls, transitively, by symbol."""

    entry: str
    functions: dict[str, Function]
    sites: tuple[Site, ...] = ()
    """Every `raise`, `assert` and run-time check of the program (tir.Raise, checked Load,
    Store and BinOp nodes name one by index)."""


def walk(node: object) -> Iterator[object]:
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
    return any(isinstance(n, Raise) or getattr(n, "check", None) is not None
               for n in walk(node))


def names(node: object) -> set[str]:
    """The names of every variable referenced under `node` (read, or an array written)."""
    return {n.name for n in walk(node) if isinstance(n, Var)}
