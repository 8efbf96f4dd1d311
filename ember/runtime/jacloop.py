"""Many derivative calls on the same arguments (Jacobians): the entry's argument list once.

A Jacobian makes one `vjp` call per output element (reverse) or one `jvp` call per input
element (forward) on the same arguments. `Session` binds them once: contiguous arrays, the
while-loop trip counts (the primal state is restored before each call, so they stay valid),
the shadow buffers and the seed slots of the derivative entry. Each `run` then only restores
the arrays the kernel writes, zeroes the shadows (or takes zeroed Jacobian rows as the
shadows of read-only inputs, which the reverse call accumulates into: no copy), sets one seed
to 1 and calls the entry, instead of redoing the whole call path (runtime/derivcall.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .derivcall import RETURN, DerivativeCall


class Session:
    """Derivative calls of `call` on flat arguments `args`, one seed element at a time."""

    def __init__(self, call: DerivativeCall, args: Sequence[Any],
                 fresh: Sequence[str] = ()) -> None:
        """`fresh`: out-parameters the kernel overwrites whole (not restored between calls)."""
        info = self.info = call.info
        self.main = call.main
        self.forward = info.kind == "jvp"
        names = [n for n, _ in info.activities]
        if len(args) != len(names) - (1 if info.loops else 0):
            raise TypeError(f"{info.name}() takes {len(names)} arguments, got {len(args)}")
        if info.loops:
            args = (*args, call._trip_counts(tuple(args)))
        self.given = tuple(args)
        used = tuple(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args)
        self.used = used
        self.saved = [(a, a.copy()) for (n, _), a in zip(info.activities, used, strict=True)
                      if n in info.written and n not in fresh and isinstance(a, np.ndarray)]
        self._entry(used)
        self.calls = 0
        self.cleared = list(self.shadows.values())
        """The shadows zeroed before each call (not those the caller passes, `direct`)."""

    def _entry(self, used: tuple[Any, ...]) -> None:
        """The entry's argument list, with zeroed shadows and seed slots."""
        self.entry: list[Any] = []
        self.shadows: dict[str, np.ndarray] = {}
        self.slots: dict[str, int] = {}
        self.places: dict[str, int] = {}
        """Entry position of each shadow."""
        for (name, act), value in zip(self.info.activities, used, strict=True):
            self.entry.append(value)
            if act == "dup":
                if not isinstance(value, np.ndarray):
                    raise TypeError(f"{self.info.name}() argument '{name}' must be an array, "
                                    f"not {type(value).__name__}")
                self.shadows[name] = np.zeros(value.shape, dtype=value.dtype)
                self.places[name] = len(self.entry)
                self.entry.append(self.shadows[name])
            elif act == "active" and self.forward:
                self.slots[name] = len(self.entry)
                self.entry.append(0.0)
        if self.info.has_result and not self.forward:
            self.slots[RETURN] = len(self.entry)
            self.entry.append(0.0)

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of an array parameter (its shadow's), () for a scalar or the result."""
        s = self.shadows.get(name)
        return s.shape if s is not None else ()

    def direct(self, names: Sequence[str]) -> list[int]:
        """Reverse mode: the shadows of read-only inputs `names` will be passed to `run`
        (zeroed arrays of their shape and dtype, e.g. rows of a Jacobian, which the call
        accumulates the gradient into); their entry positions."""
        self.cleared = [s for n, s in self.shadows.items() if n not in names]
        return [self.places[n] for n in names]

    def run(self, seed: str, index: int,
            into: Sequence[tuple[int, np.ndarray]] = ()) -> tuple[Any, ...]:
        """One call with element `index` of `seed` (a differentiated input in forward mode,
        an output in reverse mode) seeded with 1, `into` (position, array) as the shadows
        `direct` named; returns the entry's results."""
        if self.calls:
            for array, copy in self.saved:
                np.copyto(array, copy)
        self.calls += 1
        for s in self.cleared:
            s.fill(0)
        for place, array in into:
            self.entry[place] = array
        for slot in self.slots.values():
            self.entry[slot] = 0.0
        if seed in self.slots:
            self.entry[self.slots[seed]] = 1.0
        else:
            self.shadows[seed].reshape(-1)[index] = 1
        return self.main(*self.entry) or ()

    def finish(self) -> None:
        """Copy the kernel's writes into the caller's arrays that were not contiguous."""
        for (name, _), original, used in zip(self.info.activities, self.given, self.used,
                                             strict=True):
            if used is not original and name in self.info.written:
                original[...] = used
