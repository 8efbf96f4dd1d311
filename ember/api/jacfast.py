"""The Jacobian's native path: one call of the build's Jacobian loop (runtime/jacnative.py)
through the C dispatcher, with the blocks' and result leaves' shapes learned once per
argument key.

A `jacfwd`/`jacrev` build made with `Request(jacobian=True)` holds the loop `jk_<name>`
(driver/jacentry.py), which takes the kernel's flat arguments, the sizes of its result's
leaves, the trip counts of its while loops and one array per block, and fills every block in
one native call. What the call needs that depends on more than the arguments' types (the
result's shapes, hence the blocks') is learned on the first call with a key and kept: the key
holds each array argument's shape and, where the kernel returns arrays, each scalar argument's
value (a kernel whose result shape depends on array contents must not use this path: see
docs/autodiff.md).
A call whose key is new, with keywords, or of a kernel with defaults, tuple or Optional
parameters takes api/jacobians.py's path, which teaches this one. An argument the dispatcher
or the thunk refuses (a non-contiguous array, another dtype, a NumPy scalar) is served by the
Python loop (`fallback`), which also gives the precise errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import types as T
from .kernel import CallPath

LIMIT = 32
"""Keys remembered per Jacobian (the oldest is dropped beyond)."""
MISS = object()
"""What a call the native path does not serve returns."""

Spec = tuple[tuple[int, ...], np.dtype[Any]]
Shapes = tuple[tuple[Spec, ...], tuple[Spec, ...]]
"""(shape, dtype) of each result leaf buffer, then of each block."""


def key_function(params: Sequence[tuple[str, T.Type]],
                 values: bool) -> Callable[[tuple[Any, ...]], Any]:
    """`args -> key` for a kernel of these flat parameters: each array's shape and, with
    `values` (a kernel whose result has a shape), each scalar's value (raises for arguments
    of other kinds: the caller takes the slow path)."""
    parts = [f"a[{k}].shape" if isinstance(t, T.Array) else f"a[{k}]"
             for k, (_, t) in enumerate(params) if isinstance(t, T.Array) or values]
    return eval(f"lambda a: ({''.join(p + ', ' for p in parts)})")  # type: ignore[no-any-return]  # noqa: S307


class Native:
    """The loop of one build: `__call__(args)` gives the blocks, or None: not learned."""

    def __init__(self, compiled: Any, params: Sequence[tuple[str, T.Type]],
                 leaves: Sequence[T.Type], counts: Callable[[tuple[Any, ...]], Any] | None,
                 fallback: Callable[[list[Any]], list[np.ndarray]], blocks: int) -> None:
        self.path = CallPath()
        spec, result = compiled.fast_spec
        if compiled.packed is not None:
            self.path._set_fast(compiled.packed, spec, result, self._fallback, np.ndarray,
                                compiled.raise_error, compiled.result_dtypes, None)
        else:
            self.path._set_slow(self._fallback)
        self.nargs, self.key = len(params), key_function(params, bool(leaves))
        self.leaves = [(t.ndim, t.dtype.np_dtype) for t in leaves if isinstance(t, T.Array)]
        self.counts, self.fallback, self.blocks = counts, fallback, blocks
        self.shapes: dict[tuple[Any, ...], tuple[tuple[int, ...], Shapes]] = {}
        self.shape: Callable[[list[np.ndarray]], Any] = list
        """The blocks as the user gets them (set by the owner, api/jacobians.py)."""
        self.alone = False
        """Whether the user gets the one block alone."""

    def __call__(self, args: tuple[Any, ...]) -> Any:
        """The Jacobian as the user gets it, or MISS: this call takes the slow path."""
        if len(args) != self.nargs:
            return MISS
        try:
            found = self.shapes.get(self.key(args))
        except (AttributeError, TypeError):  # (an argument of another kind: the slow path)
            return MISS
        if found is None:
            return MISS
        if self.counts is None and self.blocks == 1:  # (the common case, inlined)
            shape, dtype = found[1][1][0]
            j = np.empty(shape, dtype)
            self.path(*args, *found[0], j)
            return j if self.alone and shape else self.finish([j])
        return self.finish(self.run(args, *found))

    def finish(self, js: list[np.ndarray]) -> Any:
        if self.alone:
            return js[0][()] if js[0].ndim == 0 else js[0]
        return self.shape(js)

    def learn(self, args: tuple[Any, ...], shapes: Shapes) -> Any:
        """Remember the shapes of calls like this one and compute its Jacobian."""
        key = self.key(args)
        if key not in self.shapes and len(self.shapes) >= LIMIT:
            self.shapes.pop(next(iter(self.shapes)))
        found = self.shapes[key] = (tuple(d for s, _ in shapes[0] for d in s), shapes)
        return self.finish(self.run(args, *found))

    def run(self, args: tuple[Any, ...], sizes: tuple[int, ...],
            shapes: Shapes) -> list[np.ndarray]:
        js = [np.empty(s, d) for s, d in shapes[1]]
        if self.counts is not None:
            bufs = [np.empty(s, d) for s, d in shapes[0]]
            self.path(*args, *sizes, self.counts((*args, *bufs)), *js)
        else:
            self.path(*args, *sizes, *js)
        return js

    def _fallback(self, *given: Any) -> None:
        """The dispatcher's slow path: the Python loop, its blocks copied into the buffers."""
        sizes = iter(given[self.nargs:])
        bufs = [np.empty(tuple(next(sizes) for _ in range(n)), dt) for n, dt in self.leaves]
        flat = [*given[:self.nargs], *bufs]
        for out, block in zip(given[len(given) - self.blocks:], self.fallback(flat),
                              strict=True):
            out[...] = block
