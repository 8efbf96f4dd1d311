"""Frontend driver: a Python function -> a typed `tir.Program` (it and the kernels it calls).

Steps: parse (source.py) -> check the subset (check.py) -> lists to buffers (lists.py) ->
desugar (desugar.py) -> lower early exits (exits.py) -> infer one type per variable by fixpoint over all assignments -> build the
typed tree (stmts.py) -> compute carried variables (dataflow.py).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from typing import Any

from .. import types as T
from ..errors import CompileError, Span
from ..options import CompileOptions
from . import aliasing, constants, customrules, dataflow, tir
from .annotations import eval_annotation, return_type
from .bounds import compute_bounds
from .check import check_subset
from .desugar import desugar
from .exits import RETVAL, lower_exits
from .exprs import ExprTyper
from .list_rules import join as list_join
from .lists import lower_lists
from .loopbounds import nonnegative_indices
from .opt import optimize_nests
from .opt.arrayfusion import fuse_array_statements
from .parallel import outline_parallel_loops
from .parallelad import mark_parallel_loops
from .params import prepare as prepare_params
from .scope import Callees, Pending, Scope
from .source import Source, load_source, pinned
from .stmts import StmtBuilder
from .views import makes_views

_MAX_ROUNDS = 32


def build_program(func: Any, ad: bool = False, optimize: bool = False,
                  outline: bool = True, checks: Any = None) -> tir.Program:
    """Type `func` and, transitively, every kernel it calls. With `ad`, loops that can exit
    early stay counted loops (see exits.py), as reverse-mode differentiation needs; with
    `optimize`, loop nests are optimized for the contiguous variant (opt/). Without
    `outline`, prange loops stay `For(parallel=True)` (the GPU target maps them itself)."""
    builder = _ProgramBuilder(ad, optimize and not ad)
    builder.outline = outline
    builder.checks = checks
    entry = builder.signature(func, None, getattr(checks, "none", None))
    if ad:  # a kernel with a custom_jvp rule is differentiated through its rule
        entry = customrules.entry(builder, func, entry)
    return tir.Program(entry.symbol, builder.functions, tuple(builder.sites))


class _ProgramBuilder:
    """Types each reachable kernel once; implements `scope.Callees`."""

    def __init__(self, ad: bool = False, optimize: bool = False) -> None:
        self.ad, self.optimize = ad, optimize
        self.functions: dict[str, tir.Function] = {}
        self.by_func: dict[Any, str] = {}
        self.in_progress: dict[Any, tir.Function] = {}
        self.outline = True
        self.sites: list[tir.Site] = []
        self.checks: CompileOptions | None = None
        """Run-time checks to insert (CompileOptions: boundscheck, error_model), or None."""

    def site(self, site: tir.Site) -> int:
        """The index of `site` in the program's site table (tir.Program.sites)."""
        if site not in self.sites:
            self.sites.append(site)
        return self.sites.index(site)

    def signature(self, func: Any, span: Span | None,
                  none: tuple[str, ...] | None = None) -> tir.Function:
        prepared = None
        if none is None:  # the pattern of the defaults
            prepared = prepare_params(load_source(func), none)
            none = prepared.binding.none
        key = (func, none)  # one typing per pattern of None parameters
        if key in self.by_func:
            return self.functions[self.by_func[key]]
        if key in self.in_progress:
            return self.in_progress[key]
        symbol = self._symbol(func.__name__)
        prepared = prepared or prepare_params(load_source(func), none)
        src, params = prepared.src, prepared.params
        ret = return_type(src)
        if ret is not None:  # enough for recursive calls while the body is typed
            self.in_progress[key] = tir.Function(
                src.name, symbol, tuple(params), ret, (), src.span(src.tree),
                frozenset(n for n, t in params if isinstance(t, T.Array)),
                binding=prepared.binding)
        try:
            typed = type_function(src, self, symbol, params, ret, self.ad, self.optimize)
            typed = dataclasses.replace(typed, binding=prepared.binding)
        except CompileError as err:
            if span is not None:
                err.with_note(f"while compiling kernel '{src.name}', called at {span.file}, "
                              f"line {span.line}")
            raise
        finally:
            self.in_progress.pop(key, None)
        self.functions[symbol] = typed
        self.by_func[key] = symbol
        return typed

    def specialize(self, func: Any, params: list[tuple[str, T.Type]],
                   span: Span | None, pin: Span | None = None) -> tir.Function:
        key = (func, tuple(params), pin)
        if key in self.by_func:
            return self.functions[self.by_func[key]]
        symbol = self._symbol(f"prelude_{func.__name__}")
        src = load_source(func) if pin is None else pinned(load_source(func), pin)
        try:
            typed = type_function(src, self, symbol, params, None, self.ad, self.optimize)
        except CompileError as err:
            if span is not None:
                shown = ", ".join(str(t) for _, t in params)
                err.with_note(f"while compiling prelude routine '{src.name}' for ({shown}), "
                              f"called at {span.file}, line {span.line}")
            raise
        self.functions[symbol] = typed
        self.by_func[key] = symbol
        return typed

    def _symbol(self, name: str) -> str:
        taken = set(self.functions) | {f.symbol for f in self.in_progress.values()}
        symbol, k = f"ek_{name}", 1  # prefixed: a kernel named `sin` must not shadow libm
        while symbol in taken:
            symbol, k = f"ek_{name}_{k}", k + 1
        return symbol


def type_function(src: Source, callees: Callees, symbol: str, params: list[tuple[str, T.Type]],
                  ret: T.Type | None, ad: bool = False, optimize: bool = False) -> tir.Function:
    check_subset(src)
    _check_returns(src, ret)
    fdef = lower_exits(desugar(lower_lists(src, ad)), counted=ad)
    scope = Scope(src, callees, dict(params))
    scope.declared.update(params)
    scope.assigned = {n for n, _, _ in _assignments(fdef.body)}
    _declare_annotated(fdef, scope)
    if ret is not None and not isinstance(ret, T.NoneType):
        scope.declared[RETVAL] = ret
    scope.lower_bounds = compute_bounds(fdef, set(scope.params))
    scope.nonneg_indices = nonnegative_indices(fdef, scope.lower_bounds)
    _infer_variables(fdef, scope)
    scope.final = True
    builder = StmtBuilder(scope, ret, ad)
    body = builder.block(fdef.body)
    customrules.check_writes(builder, scope, fdef, body)  # stopped arrays are read-only
    final_ret = ret if ret is not None else (builder.returned or T.none)
    body, types = constants.bind(scope, body, {**scope.vars, **scope.declared})
    dataflow.check_assigned_before_use(body, set(scope.params), src)
    body = dataflow.annotate(fuse_array_statements(body, types), types)
    if ad:  # prange loops that stay parallel under Enzyme (serial without outlining)
        body = mark_parallel_loops(body, callees.outline)
    body, workers = (outline_parallel_loops(symbol, body, types, dict(params))
                     if callees.outline and not ad else (body, []))
    for worker in workers:
        callees.functions[worker.symbol] = worker
    fast = body
    # The nest rewrites reorder iterations, and tell arrays apart by name (a view aliases
    # its base under another name): kernels whose loops raise or that make views keep theirs.
    if optimize and not _raises_in_loops(body) and not makes_views(body):
        fast = optimize_nests(body, types)
    return tir.Function(src.name, symbol, tuple(params), final_ret, body, src.span(src.tree),
                        aliasing.written(scope) & frozenset(scope.params), types,
                        dataflow.annotate(fast, types) if fast != body else None,
                        result_aliases=aliasing.result_aliases(scope, body))


def _raises_in_loops(body: tuple[tir.Stmt, ...]) -> bool:
    """Whether a loop can raise (`raise`, `assert`, checks): the loop optimizations would
    change which iteration raises first and what was written before, so they leave such
    kernels as written."""
    return any(isinstance(n, tir.For | tir.While) and tir.raises(n.body) for n in tir.walk(body))


def _always_returns(stmts: list[ast.stmt]) -> bool:
    for s in stmts:
        if isinstance(s, ast.Return | ast.Raise):
            return True
        if isinstance(s, ast.If) and _always_returns(s.body) and _always_returns(s.orelse):
            return True
        if (isinstance(s, ast.While) and _always_true(s.test)
                and not any(isinstance(n, ast.Break) for n in ast.walk(s))):
            return True
    return False


_LITERAL_NODES = (ast.Constant, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.unaryop, ast.boolop,
                  ast.cmpop)


def _always_true(test: ast.expr) -> bool:
    """`while True`, `while 1`, `while 1 == 1`, ...: a test made of literals only that is true
    (no arithmetic, so evaluating it is cheap and safe)."""
    if not all(isinstance(n, _LITERAL_NODES) for n in ast.walk(test)):
        return False
    try:
        code = compile(ast.fix_missing_locations(ast.Expression(test)), "<test>", "eval")
        return bool(eval(code, {"__builtins__": {}}))
    except Exception:
        return False


def _check_returns(src: Source, ret: T.Type | None) -> None:
    """A kernel returning a value must not be able to run off the end of its body."""
    body = src.tree.body
    has_value = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(src.tree))
    wants_value = ret is not None and not isinstance(ret, T.NoneType)
    if (wants_value or (ret is None and has_value)) and not _always_returns(body):
        raise src.error(body[-1], f"kernel '{src.name}' can reach the end of its body without "
                        "returning a value; add a return statement")


def _assignments(stmts: list[ast.stmt]) -> Iterator[tuple[str, ast.expr | None, ast.stmt]]:
    """(name, value, statement) for every assignment to a name, in source order."""
    for s in stmts:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            yield s.targets[0].id, s.value, s
        elif isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name):
            yield s.target.id, s.value, s
        elif isinstance(s, ast.For):
            if isinstance(s.target, ast.Name):
                yield s.target.id, None, s
            yield from _assignments(s.body)
        elif isinstance(s, ast.If | ast.While):
            yield from _assignments(s.body)
            yield from _assignments(s.orelse)


def _declare_annotated(fdef: ast.FunctionDef, scope: Scope) -> None:
    for node in ast.walk(fdef):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name = node.target.id
        if name == RETVAL:
            continue
        t = eval_annotation(scope.src, node.annotation)
        old = scope.declared.get(name)
        if old is not None and old != t:
            raise scope.src.error(node, f"'{name}' is declared {t} here but {old} elsewhere")
        scope.declared[name] = t


def _infer_variables(fdef: ast.FunctionDef, scope: Scope) -> None:
    typer = ExprTyper(scope)
    assigns = list(_assignments(fdef.body))
    for _ in range(_MAX_ROUNDS):
        changed = False
        for name, value, stmt in assigns:
            if name in scope.declared:
                continue
            try:
                t = T.py_int if value is None else typer.expr(value).type
            except Pending:
                continue
            changed |= _record(scope, name, t, stmt)
        if not changed:
            break
    for name, _, stmt in assigns:
        if scope.var_type(name) is None:
            raise scope.src.error(stmt, f"cannot infer the type of '{name}'")


def _record(scope: Scope, name: str, t: T.Type, stmt: ast.stmt) -> bool:
    src = scope.src
    if isinstance(t, T.NoneType):
        raise src.error(stmt, f"cannot assign to '{name}': the value is None")
    old = scope.vars.get(name)
    new = t if old is None else list_join(scope, name, old, t)
    if new is None:
        first = scope.first_assigned[name]
        shown = "the return value" if name == RETVAL else f"'{name}'"
        raise src.error(stmt, f"{shown} is assigned {t} here but {old} at line {first.line}; "
                        "a variable keeps one type").with_note(
            f"first assignment: {first.render()}")
    if new == old:
        return False
    scope.vars[name] = new
    scope.first_assigned.setdefault(name, src.span(stmt))
    return True
