"""Frontend step 3: lower `break`, `continue` and early `return` to structured control flow.

Input: a desugared `ast.FunctionDef`. Output: an equivalent function in which `break` and
`continue` do not appear, `return` appears at most once (as the last statement), and every
loop is an `scf`-friendly structured loop:

* An `if` whose branch always exits takes the statements after it into its other branch
  ("exit lifting"), so the common `if c: return x` / `if c: continue` need no flags.
* Remaining exits set boolean flags (`__ember_brkN`, `__ember_contN`, `__ember_ret`) and the
  statements they skip are guarded by `if not flag:`.
* A `for` loop that can break or return becomes a `while` loop over an explicit counter, with
  the flags in its condition (a counted `scf.for` cannot stop early); one that can only
  `continue` stays a `for`.
* Several returns assign `__ember_retval` (annotated with the return annotation, so every
  return converts to the declared type) and the function ends with `return __ember_retval`.
"""

from __future__ import annotations

import ast
import copy
import itertools
from dataclasses import dataclass, replace

RETVAL = "__ember_retval"
RANGE_LEN = "__ember_range_len"
"""Internal builtin: len(range(a, b, s)) (see builtins.INTERNAL)."""
RETFLAG = "__ember_ret"
_JUMPS = (ast.Return, ast.Break, ast.Continue)
_ENDS = (*_JUMPS, ast.Raise)
"""Statements after which a block never goes on (a `raise` leaves the whole kernel at run
time, runtime/kernel_errors.c, so it needs no flags: only exit lifting treats it as an end)."""


@dataclass(frozen=True)
class _Ctx:
    brk: str | None = None
    cont: str | None = None
    tail: bool = True
    """The end of the current block is the end of the function."""


def lower_exits(fdef: ast.FunctionDef, counted: bool = False) -> ast.FunctionDef:
    """Return a copy of `fdef` without break/continue and with at most one final return.
    With `counted`, a `for` that can break stays a counted loop whose body is skipped after
    the exit (reverse-mode AD can replay counted loops, not `while` loops)."""
    fdef = copy.deepcopy(fdef)
    fdef.body = _lift(fdef.body)
    returns = [n for n in ast.walk(fdef) if isinstance(n, ast.Return)]
    simple = len(returns) == 1 and fdef.body and fdef.body[-1] is returns[0]
    lowering = _Lowering(fdef, single_return=bool(simple) or not returns, counted=counted)
    body = lowering.block(fdef.body, _Ctx())
    if not lowering.single_return and any(r.value is not None for r in returns):
        body.append(ast.copy_location(ast.Return(_name(RETVAL)), returns[-1]))
    if lowering.uses_flag:
        body.insert(0, _assign(RETFLAG, ast.Constant(False), fdef))
    fdef.body = body or [ast.Pass()]
    return ast.fix_missing_locations(fdef)


# --- exit lifting ---------------------------------------------------------------------------
def _always_exits(stmts: list[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, _ENDS):
        return True
    return isinstance(last, ast.If) and _always_exits(last.body) and _always_exits(last.orelse)


def _lift(stmts: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, ast.If):
            stmt.body, stmt.orelse = _lift(stmt.body), _lift(stmt.orelse)
            rest = stmts[i + 1:]
            if rest and _always_exits(stmt.body) != _always_exits(stmt.orelse):
                if _always_exits(stmt.body):
                    stmt.orelse = _lift(stmt.orelse + rest)
                else:
                    stmt.body = _lift(stmt.body + rest)
                out.append(stmt)
                return out
        elif isinstance(stmt, ast.For | ast.While):
            stmt.body = _lift(stmt.body)
        out.append(stmt)
        if isinstance(stmt, _ENDS) or (isinstance(stmt, ast.If) and _always_exits([stmt])):
            return out
    return out


# --- flag lowering --------------------------------------------------------------------------
def _name(name: str, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.Name(name, ctx or ast.Load())


def _assign(name: str, value: ast.expr, at: ast.AST) -> ast.stmt:
    return ast.copy_location(ast.Assign([_name(name, ast.Store())], value), at)


def _not_any(flags: list[str], at: ast.AST) -> ast.expr:
    tests: list[ast.expr] = [ast.UnaryOp(ast.Not(), _name(f)) for f in flags]
    expr = tests[0] if len(tests) == 1 else ast.BoolOp(ast.And(), tests)
    return ast.copy_location(expr, at)


def _loop_jumps(body: list[ast.stmt]) -> set[type[ast.stmt]]:
    """Jump kinds in `body` that leave this loop level (returns from any depth)."""
    found: set[type[ast.stmt]] = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            found.add(ast.Return)
        elif isinstance(node, ast.Break | ast.Continue):
            found.add(type(node))
        elif isinstance(node, ast.For | ast.While):
            found |= {ast.Return} & _loop_jumps(node.body)
        elif isinstance(node, ast.If):
            stack.extend(node.body + node.orelse)
    return found


class _Lowering:
    def __init__(self, fdef: ast.FunctionDef, single_return: bool, counted: bool) -> None:
        self.fdef = fdef
        self.single_return = single_return
        self.counted = counted
        self.uses_flag = False
        self._ids = itertools.count()

    def block(self, stmts: list[ast.stmt], ctx: _Ctx) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for i, stmt in enumerate(stmts):
            rest = stmts[i + 1:]
            inner = replace(ctx, tail=ctx.tail and not rest)
            if isinstance(stmt, _JUMPS):
                out.extend(self.jump(stmt, inner))
                return out
            flags = self.flags_set(stmt, ctx)
            out.extend(self.statement(stmt, inner))
            if flags and rest:
                guard = ast.If(_not_any(flags, stmt), self.block(rest, ctx), [])
                out.append(ast.copy_location(guard, rest[0]))
                return out
        return out

    def flags_set(self, stmt: ast.stmt, ctx: _Ctx) -> list[str]:
        kinds: set[type[ast.stmt]]
        if isinstance(stmt, ast.For | ast.While):
            kinds = _loop_jumps(stmt.body) & {ast.Return}
        elif isinstance(stmt, ast.If):
            kinds = _loop_jumps(stmt.body + stmt.orelse)
        else:
            return []
        flags = [RETFLAG] if ast.Return in kinds and not self.single_return else []
        if ast.Break in kinds and ctx.brk:
            flags.append(ctx.brk)
        if ast.Continue in kinds and ctx.cont:
            flags.append(ctx.cont)
        return flags

    def jump(self, stmt: ast.stmt, ctx: _Ctx) -> list[ast.stmt]:
        if isinstance(stmt, ast.Return):
            return self.ret(stmt, ctx)
        flag = ctx.brk if isinstance(stmt, ast.Break) else ctx.cont
        if flag is None:  # a tail `continue`: nothing left to skip
            return []
        return [_assign(flag, ast.Constant(True), stmt)]

    def ret(self, stmt: ast.Return, ctx: _Ctx) -> list[ast.stmt]:
        if self.single_return:
            return [stmt]
        out: list[ast.stmt] = []
        if stmt.value is not None:
            target = ast.copy_location(_name(RETVAL, ast.Store()), stmt)
            annotation = copy.deepcopy(self.fdef.returns)
            assign = (ast.AnnAssign(target, annotation, stmt.value, 1) if annotation
                      else ast.Assign([target], stmt.value))
            out.append(ast.copy_location(assign, stmt))
        if not ctx.tail:
            self.uses_flag = True
            out.append(_assign(RETFLAG, ast.Constant(True), stmt))
        return out

    def statement(self, stmt: ast.stmt, ctx: _Ctx) -> list[ast.stmt]:
        if isinstance(stmt, ast.If):
            stmt.body = self.block(stmt.body, ctx)
            stmt.orelse = self.block(stmt.orelse, ctx)
            return [stmt]
        if isinstance(stmt, ast.For | ast.While):
            return self.loop(stmt, ctx)
        return [stmt]

    def loop(self, stmt: ast.For | ast.While, ctx: _Ctx) -> list[ast.stmt]:
        kinds = _loop_jumps(stmt.body)
        n = next(self._ids)
        brk = f"__ember_brk{n}" if ast.Break in kinds or stmt.orelse else None
        cont = f"__ember_cont{n}" if ast.Continue in kinds else None
        body = self.block(stmt.body, _Ctx(brk=brk, cont=cont, tail=False))
        if cont:
            body.insert(0, _assign(cont, ast.Constant(False), stmt))
        stops = ([RETFLAG] if ast.Return in kinds and not self.single_return else [])
        stops += [brk] if brk and ast.Break in kinds else []
        pre: list[ast.stmt] = [_assign(brk, ast.Constant(False), stmt)] if brk else []
        loop: ast.For | ast.While
        if isinstance(stmt, ast.For) and stops and self.counted:
            loop = self.guarded_for(stmt, body, stops, next(self._ids))
        elif isinstance(stmt, ast.While) or stops:
            loop = self.as_while(stmt, body, stops, pre)
        else:
            loop = ast.copy_location(ast.For(stmt.target, stmt.iter, body, []), stmt)
        post = self.block(stmt.orelse, ctx) if stmt.orelse else []
        if post and brk is not None:  # brk is set whenever the loop has an else
            post = [ast.copy_location(ast.If(_not_any([brk], stmt), post, []), stmt.orelse[0])]
        return pre + [loop] + post

    def guarded_for(self, stmt: ast.For, body: list[ast.stmt], stops: list[str],
                    n: int) -> ast.For:
        """`for t in range(...)` iterating all the way, its body skipped once a flag is set;
        the user's loop variable is assigned only inside, so it keeps its value at the exit."""
        counter = f"__ember_i{n}"
        target = copy.deepcopy(stmt.target)
        inner = [ast.copy_location(ast.Assign([target], _name(counter)), stmt), *body]
        guard = ast.copy_location(ast.If(_not_any(stops, stmt), inner, []), stmt)
        loop = ast.For(_name(counter, ast.Store()), stmt.iter, [guard], [])
        return ast.copy_location(loop, stmt)

    def as_while(self, stmt: ast.For | ast.While, body: list[ast.stmt], stops: list[str],
                 pre: list[ast.stmt]) -> ast.While:
        if isinstance(stmt, ast.While):
            test = stmt.test
        else:
            test, step_body = _counted(stmt, next(self._ids), pre)
            body = step_body + body
        if stops:
            test = ast.copy_location(ast.BoolOp(ast.And(), [_not_any(stops, stmt), test]), stmt)
        return ast.copy_location(ast.While(test, body, []), stmt)


def _counted(stmt: ast.For, n: int, pre: list[ast.stmt]) -> tuple[ast.expr, list[ast.stmt]]:
    """`for t in range(a, b, s)` as a counted while loop: setup into `pre`, then (test,
    per-iteration statements). Counting iterations (not values) never overflows int64."""
    first, stop, step = f"__ember_a{n}", f"__ember_b{n}", f"__ember_s{n}"
    count, k = f"__ember_n{n}", f"__ember_k{n}"
    call = stmt.iter
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "range" and 1 <= len(call.args) <= 3 and not call.keywords):
        return stmt.iter, []  # reported as an unsupported loop by the typer
    args = list(call.args)
    start = args[0] if len(args) > 1 else ast.Constant(0)
    limit = args[1] if len(args) > 1 else args[0]
    stride = args[2] if len(args) == 3 else ast.Constant(1)
    length = ast.Call(_name(RANGE_LEN), [_name(first), _name(stop), _name(step)], [])
    pre += [_assign(first, start, stmt), _assign(stop, limit, stmt), _assign(step, stride, stmt),
            _assign(count, length, stmt), _assign(k, ast.Constant(0), stmt)]
    test = ast.Compare(_name(k), [ast.Lt()], [_name(count)])
    value = ast.BinOp(_name(first), ast.Add(), ast.BinOp(_name(k), ast.Mult(), _name(step)))
    target = copy.deepcopy(stmt.target)
    body = [ast.copy_location(ast.Assign([target], value), stmt),
            _assign(k, ast.BinOp(_name(k), ast.Add(), ast.Constant(1)), stmt)]
    return ast.copy_location(test, stmt), body
