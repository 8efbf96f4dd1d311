"""The Jacobian's quick path: everything of a Jacobian call that depends only on the argument
signature (each flat argument's shape and dtype, or its Python type), computed once.

runtime/jacloop.py's `Session` binds one call's arguments and then makes one derivative call
per row (column); the quick path learns that binding once per signature from a `Session`:
where each argument, shadow and seed goes in the entry's argument list, which arrays are
restored between calls, the blocks' shapes and dtypes, which rows come from which shadow or
result. A call then only copies the arguments into a template list, allocates the blocks and
shadows and runs the same derivative calls in the same order, on the same values (the
Jacobians are bitwise those of the row-by-row path). Arguments that are not C-contiguous
arrays take the row-by-row path (their writes are copied back there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .derivcall import RETURN, DerivativeCall
from .jacloop import Session

Block = tuple[str, str]
"""(output, wrt) names of a Jacobian block."""

LIMIT = 32
"""Signatures remembered per derivative build (the oldest is dropped beyond)."""


def signature(flat: Sequence[Any]) -> tuple[Any, ...] | None:
    """The key of the arguments' quick plan; None: some array is not C-contiguous."""
    key: list[Any] = []
    for a in flat:
        if isinstance(a, np.ndarray):
            if not a.flags.c_contiguous:
                return None
            key.append((a.shape, a.dtype))
        else:
            key.append(type(a))
    return tuple(key)


@dataclass(frozen=True)
class Layout:
    """What the Jacobian's plan (api/jacobians.py `_Plan`) says: outputs, blocks' dtypes,
    where active scalar gradients come from, which outputs are float results."""

    outs: tuple[str, ...]
    wrt: tuple[str, ...]
    dtypes: dict[Block, np.dtype]
    picks: dict[str, int]
    scalars: frozenset[str]
    written: frozenset[str]


class Quick:
    """The Jacobian calls of derivative `call` on arguments of one signature."""

    def __init__(self, call: DerivativeCall, layout: Layout, flat: Sequence[Any],
                 fresh: Sequence[str]) -> None:
        s = Session(call, flat, fresh)
        self.call, self.main, self.forward = call, call.main, s.forward
        names = [n for n, _ in call.info.activities]
        self.loops = call.info.loops
        self.args = [(k, _place(s, k)) for k in range(len(s.used))]
        self.saved = [names.index(n) for n in names[:len(s.used)]
                      if n in call.info.written and n not in fresh
                      and isinstance(s.used[names.index(n)], np.ndarray)]
        self.template = [None if isinstance(v, np.ndarray) else v for v in s.entry]
        shapes = {n: () if n in layout.scalars else s.shape(n) for n in layout.outs}
        shapes.update({w: s.shape(w) for w in layout.wrt})
        self.blocks = [(ow, shapes[ow[0]] + shapes[ow[1]], dt) for ow, dt in layout.dtypes.items()]
        direct = [] if s.forward else [w for w in layout.wrt if _direct(s, layout, w)]
        self.shadows = [(n, s.places[n], v.shape, v.dtype) for n, v in s.shadows.items()
                        if n not in direct]
        self.slots = list(s.slots.values())
        self.seeds = {n: s.slots.get(n) for n in (layout.wrt if s.forward else layout.outs)}
        self.plan = _forward(layout, shapes) if s.forward else \
            _reverse(layout, shapes, direct, s.places, s.shadows)

    def __call__(self, flat: Sequence[Any]) -> dict[Block, np.ndarray]:
        """The Jacobian blocks of one call on arguments `flat` (of this signature)."""
        if self.loops:
            flat = (*flat, self.call._trip_counts(tuple(flat)))
        entry: list[Any] = self.template.copy()
        for k, place in self.args:
            entry[place] = flat[k]
        shadows = {}
        for name, place, shape, dtype in self.shadows:
            shadows[name] = entry[place] = np.zeros(shape, dtype=dtype)
        saved = [(flat[k], flat[k].copy()) for k in self.saved]
        jac = {ow: np.zeros(shape, dtype=dt) for ow, shape, dt in self.blocks}
        cleared = list(shadows.values())
        for i, (seed, n, rows, views) in enumerate(self.plan):
            slot = self.seeds[seed]
            for k in self.slots:  # (no call changes them: set once per seed)
                entry[k] = 1.0 if k == slot else 0.0
            seeded = shadows.get(seed)
            _rows(self.main, entry, cleared, saved, i > 0, n,
                  seeded.reshape(-1) if seeded is not None else None,
                  [(_oriented(jac[ow].reshape(shape), self.forward), pick,
                    shadows[src].reshape(-1) if src is not None else None)
                   for ow, shape, pick, src in rows],
                  [(place, jac[ow].reshape(shape)) for place, ow, shape in views])
        return jac


def _rows(main: Any, entry: list[Any], cleared: list[np.ndarray],
          saved: list[tuple[np.ndarray, np.ndarray]], after: bool, n: int,
          seed: np.ndarray | None,
          rows: list[tuple[np.ndarray, int, np.ndarray | None]],
          views: list[tuple[int, np.ndarray]]) -> None:
    """One derivative call per element e of the seed (a slot set by the caller, or the
    elements of `seed`); each fills row e of `rows` (a block's transpose in forward mode)
    from a result or a shadow. `saved` arrays are restored before each call but the first
    (`after`: a call came before this seed's)."""
    for e in range(n):
        if saved and (e or after):
            for array, copy in saved:
                np.copyto(array, copy)
        for s in cleared:
            s.fill(0)
        for place, v in views:
            entry[place] = v[e]
        if seed is not None:
            seed[e] = 1
        results = main(*entry) or ()
        for row, pick, src in rows:
            row[e] = results[pick] if src is None else src


def _oriented(block: np.ndarray, forward: bool) -> np.ndarray:
    """A 2-D block as its rows are filled: columns in forward mode (its transpose)."""
    return block.T if forward else block


def _place(s: Session, k: int) -> int:
    """The entry position of flat argument k (each argument before its shadow, or its
    tangent's slot in forward mode)."""
    return k + sum(1 for _, a in s.info.activities[:k]
                   if a == "dup" or (a == "active" and s.forward))


def _direct(s: Session, layout: Layout, w: str) -> bool:
    """As `_Table._direct` (api/jacobians.py): `w`'s rows can be its shadow."""
    shadow = s.shadows.get(w)
    return (shadow is not None and w not in layout.outs and w not in layout.written
            and all(layout.dtypes[o, w] == shadow.dtype for o in layout.outs))


def _reverse(layout: Layout, shapes: dict[str, tuple[int, ...]], direct: list[str],
             places: dict[str, int], shadows: dict[str, np.ndarray]) -> list[Any]:
    """Per output: (seed, elements, rows (block, 2-D shape, result pick, shadow name),
    direct views (entry place, block, shape))."""
    plan = []
    for o in layout.outs:
        n = math.prod(shapes[o])
        rows = [((o, w), (n, math.prod(shapes[w])), layout.picks.get(w, 0),
                 w if w in shadows else None) for w in layout.wrt if w not in direct]
        views = [(places[w], (o, w), (n, *shapes[w])) for w in direct]
        plan.append((o, n, rows, views))
    return plan


def _forward(layout: Layout, shapes: dict[str, tuple[int, ...]]) -> list[Any]:
    """Per input: (seed, elements, columns (block, 2-D shape, pick 1, shadow name), [])."""
    plan = []
    for w in layout.wrt:
        n = math.prod(shapes[w])
        cols = [((o, w), (math.prod(shapes[o]), n), 1, o if o != RETURN else None)
                for o in layout.outs]
        plan.append((w, n, cols, []))
    return plan
