"""Lower bounds of integer variables, so provably non-negative indices skip wrap-around.

Input: a desugared function. Output: `{name: lower bound}` for variables whose every
assignment has a known lower bound (range loop indices with a non-negative start and a
positive constant step, len/shape values, sums of those, constants). Computed as a greatest
fixpoint: names start unbounded-above and are dropped once a bound keeps falling.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .builtins import is_inplace

_ROUNDS = 8


def lower_bound(node: ast.expr, bounds: dict[str, int]) -> int | None:
    """A lower bound of the integer expression `node`, or None if none is known."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return bounds.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return 0
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
        return 0 if node.value.attr == "shape" else None
    if isinstance(node, ast.Attribute) and node.attr in ("size", "ndim"):
        return 0
    if isinstance(node, ast.BinOp):
        return _binop_bound(node, bounds)
    if is_inplace(node):  # `x op= y` (desugar.py): the bound of `x op y`
        assert isinstance(node, ast.Call)
        return lower_bound(node.args[1], bounds)
    return None


def _binop_bound(node: ast.BinOp, bounds: dict[str, int]) -> int | None:
    left = lower_bound(node.left, bounds)
    right_const = node.right.value if isinstance(node.right, ast.Constant) else None
    if isinstance(node.op, ast.Mod) and isinstance(right_const, int) and right_const > 0:
        return 0
    if isinstance(node.op, ast.BitAnd) and isinstance(right_const, int) and right_const >= 0:
        return 0
    if left is None:
        return None
    if isinstance(node.op, ast.Sub) and type(right_const) is int:
        return left - right_const
    right = lower_bound(node.right, bounds)
    if right is None:
        return None
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Mult) and left >= 0 and right >= 0:
        return left * right
    if isinstance(node.op, ast.FloorDiv) and left >= 0 and right > 0:
        return 0
    return None


def _assignments(fdef: ast.FunctionDef) -> Iterator[tuple[str, ast.expr | None]]:
    for node in ast.walk(fdef):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            yield node.target.id, _range_start(node.iter)


def _range_start(call: ast.expr) -> ast.expr | None:
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.args):
        return None
    if call.func.id not in ("range", "prange") or len(call.args) > 3:
        return None
    if len(call.args) == 3:
        step = call.args[2]
        if not (isinstance(step, ast.Constant) and type(step.value) is int and step.value > 0):
            return None
    return call.args[0] if len(call.args) > 1 else ast.Constant(0)


def compute_bounds(fdef: ast.FunctionDef, params: set[str]) -> dict[str, int]:
    """Lower bounds of the local integer variables of `fdef` (parameters have none)."""
    assigns = [(n, v) for n, v in _assignments(fdef) if n not in params]
    names = {n for n, _ in assigns}
    top = 1 << 62
    bounds = dict.fromkeys(names, top)
    for _ in range(_ROUNDS):
        new: dict[str, int] = {}
        for name, value in assigns:
            b = lower_bound(value, bounds) if value is not None else None
            if b is None or name not in bounds:
                bounds.pop(name, None)
                continue
            new[name] = min(new.get(name, top), b)
        changed = {n for n in new if new[n] != bounds.get(n)}
        bounds = {n: b for n, b in new.items() if n in bounds}
        if not changed:
            return {n: b for n, b in bounds.items() if b < top}
    return {n: b for n, b in bounds.items() if n not in changed and b < top}
