"""Fuse a whole-array expression into the statement after it (frontend, every build).

Input: a typed body. Output: the same body in which `t = <array expression>` directly
followed by the only statement that reads `t`, reading it as an operand of its own array
expressions or reductions, is gone: the next statement computes `t`'s elements where it reads
them (`t = a * 2.0; out[:] = t + b` -> `out[:] = a * 2.0 + b`), one loop nest and no
temporary array. Chains fuse in turn (`u = t + 1` after `t = ...`, then `out[:] = u * 3`).

The values are those of the statements as written: nothing runs between the two statements,
`t` is assigned once and read nowhere else, and its elements are a pure function of operands
the next statement does not write before reading them (an `ArrayStore` reads overlapping
operands through a temporary, tir.ArrayStore). Expressions that can raise stay as written
(the next statement may compute some elements conditionally), and so do expressions with two
or more array operands (their broadcast check names their own line).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from ...types import Array, Type
from .. import tir


def fuse_array_statements(body: tuple[tir.Stmt, ...],
                          types: dict[str, Type]) -> tuple[tir.Stmt, ...]:
    """`body` with every fusable producer (see the module docstring) folded into its reader."""
    reads = Counter(n.name for n in tir.walk(body) if isinstance(n, tir.Var))
    assigns = Counter(n.name for n in tir.walk(body) if isinstance(n, tir.Assign))
    return _Blocks(reads, assigns, types).block(body)


class _Blocks(tir.Transformer):
    """Visits every statement list (bodies of loops and branches included)."""

    def __init__(self, reads: dict[str, int], assigns: dict[str, int],
                 types: dict[str, Type]) -> None:
        self.reads, self.assigns, self.types = reads, assigns, types

    def value(self, value: object) -> object:
        out = super().value(value)
        if isinstance(out, tuple) and out and all(isinstance(s, tir.Stmt) for s in out):
            fused = self._fuse(out)
            return value if fused == value else fused
        return out

    def _fuse(self, stmts: tuple[tir.Stmt, ...]) -> tuple[tir.Stmt, ...]:
        out: list[tir.Stmt] = []
        for stmt in stmts:
            producer = out[-1] if out else None
            if isinstance(producer, tir.Assign) and self._fusable(producer):
                assert isinstance(producer.value, tir.ArrayMap)
                inliner = _Inline(producer.name, producer.value)
                merged = _reader(stmt, inliner)
                if merged is not None and inliner.count == self.reads.get(producer.name, 0):
                    out[-1] = merged
                    continue
            out.append(stmt)
        return tuple(out)

    def _fusable(self, stmt: tir.Assign) -> bool:
        value = stmt.value
        return (isinstance(value, tir.ArrayMap) and value.check is None
                and self.assigns.get(stmt.name) == 1 and self.reads.get(stmt.name, 0) > 0
                and self.types.get(stmt.name) == value.type and not tir.raises(value)
                and sum(isinstance(i.type, Array) for i in value.inputs) <= 1)


def _reader(stmt: tir.Stmt, inliner: _Inline) -> tir.Stmt | None:
    """`stmt` with the producer folded into its expressions (None: not a reading statement)."""
    if isinstance(stmt, tir.Assign | tir.Return | tir.ExprStmt) and stmt.value is not None:
        return replace(stmt, value=inliner.expr(stmt.value))
    if isinstance(stmt, tir.ArrayStore):
        value = inliner.expr(stmt.value)
        assert isinstance(value, tir.ArrayMap)
        return replace(stmt, value=value)
    return None


class _Inline(tir.Transformer):
    """Replaces each `Var(name)` operand of an ArrayMap, and a reduction of `Var(name)`, by
    the producer's expression; `count` says how many reads it replaced."""

    def __init__(self, name: str, producer: tir.ArrayMap) -> None:
        self.name, self.producer, self.count = name, producer, 0

    def _is_target(self, e: tir.Expr) -> bool:
        return isinstance(e, tir.Var) and e.name == self.name

    def visit_Reduce(self, node: tir.Reduce) -> tir.Expr:  # noqa: N802 - Transformer protocol
        if self._is_target(node.source):
            self.count += 1
            return replace(node, source=self.producer)
        return self.generic_visit(node)

    def visit_ArrayMap(self, node: tir.ArrayMap) -> tir.Expr:  # noqa: N802
        node = self.generic_visit(node)
        slots = [k for k, e in enumerate(node.inputs) if self._is_target(e)]
        if not slots:
            return node
        if node.check is not None and len(slots) > 1:
            return node  # the broadcast error names each operand's shape: not fused
        self.count += len(slots)
        # the producer's inputs take the first slot's place: the operands keep their order,
        # which the broadcast error message (node.check) follows
        at, n = slots[0], len(self.producer.inputs)
        others = [k for k in range(len(node.inputs)) if k not in slots]
        kept = [node.inputs[k] for k in others]
        renumber = {k: j if j < at else j + n for j, k in enumerate(others)}
        inner = _Renumber({m: at + m for m in range(n)}, None)
        body = inner.expr(self.producer.body)
        outer = _Renumber(renumber, (set(slots), body))
        return replace(node, inputs=(*kept[:at], *self.producer.inputs, *kept[at:]),
                       body=outer.expr(node.body))


class _Renumber(tir.Transformer):
    """Renumbers `Elem` placeholders of one ArrayMap body; with `inline`, an Elem of one of
    the given slots becomes the given expression."""

    def __init__(self, mapping: dict[int, int],
                 inline: tuple[set[int], tir.Expr] | None) -> None:
        self.mapping, self.inline = mapping, inline

    def visit_Elem(self, node: tir.Elem) -> tir.Expr:  # noqa: N802
        if self.inline is not None and node.index in self.inline[0]:
            return self.inline[1]
        return replace(node, index=self.mapping[node.index])

    def visit_ArrayMap(self, node: tir.ArrayMap) -> tir.Expr:  # noqa: N802
        return node  # a nested expression numbers its own operands
