"""`jvp`/`vjp` of kernels that return arrays or tuples (see frontend/adresults.py).

The derivative build writes each leaf of the result into an out-parameter `__ret<k>`. A call
first runs the primal kernel (on copies of the arrays it writes) to learn the result's shapes,
allocates the buffers, passes them by keyword, and gives the user the result's structure
back: `vjp(..., cotangents=(ct,))` takes one cotangent per output, a tuple result's as a
tuple; `jvp` returns (value, tangent) with the value and tangent shaped like the result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import types as T
from ..frontend.adresults import RETURN, ResultLayout
from ..runtime.aotderived import result_leaves
from ..runtime.derivcall import DerivativeCall


class ResultCall:
    """Callable like a `DerivativeCall`, for a build whose result became out-parameters."""

    def __init__(self, inner: DerivativeCall, layout: ResultLayout, kernel: Any,
                 outputs: tuple[str, ...]) -> None:
        self.inner, self.layout, self.kernel = inner, layout, kernel
        self.outputs = outputs or (RETURN,)
        """The outputs as the user names them ('return' for the whole result)."""
        self.__name__ = inner.__name__
        primal = {n for n, _ in inner.info.activities} - set(layout.names)
        self._copy = bool(primal & set(inner.info.written))
        """The kernel writes some of its arguments: its primal call gets copies."""
        self._dtypes = tuple(_dtype(t) for t in layout.leaves)

    def __getattr__(self, name: str) -> Any:  # info, native, dispatch_plan, specialize
        return getattr(self.inner, name)

    def __call__(self, *args: Any, tangents: Sequence[Any] | None = None,
                 cotangents: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        if any(n in kwargs for n in self.layout.names):  # from a specialization's dispatch
            return self.inner(*args, tangents=tangents, cotangents=cotangents, **kwargs)
        buffers = self.buffers(args, kwargs)
        given: dict[str, Any] = {**kwargs, **buffers}
        if self.inner.info.kind == "vjp":
            return self.inner(*args, cotangents=self.flat_cotangents(cotangents, buffers),
                              **given)
        _, tans = self.inner(*args, tangents=tangents, **given)
        flat = [tans] if len(self.inner.info.outputs) == 1 else list(tans)
        return self.value(buffers), self.per_output(flat, self.value)

    def buffers(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, np.ndarray]:
        """A buffer per leaf of the result, shaped like a primal call's."""
        copy = self._copy
        result = self.kernel(*_copies(args, copy), **dict(zip(kwargs, _copies(
            tuple(kwargs.values()), copy), strict=True))) if kwargs or copy \
            else self.kernel(*args)
        leaves = result_leaves(result, self.layout.ret)
        return {name: np.empty((v.shape if isinstance(v, np.ndarray) else np.shape(v)) or (1,),
                               dtype=dtype)
                for name, v, dtype in zip(self.layout.names, leaves, self._dtypes, strict=True)}

    def value(self, buffers: dict[str, np.ndarray] | list[np.ndarray]) -> Any:
        """The result's structure over the leaf arrays (float leaves as scalars)."""
        arrays = iter(buffers.values() if isinstance(buffers, dict) else buffers)
        return _build(self.layout.ret, arrays)

    def per_output(self, flat: list[Any], whole: Any) -> Any:
        """Flat values per expanded output -> one per user output ('return': `whole` of its
        leaves), alone if there is one output."""
        values = iter(flat)
        n = len(self.layout.names)
        out = [whole([next(values) for _ in range(n)]) if o == RETURN else next(values)
               for o in self.outputs]
        return out[0] if len(out) == 1 else tuple(out)

    def flat_cotangents(self, given: Sequence[Any] | None,
                        buffers: dict[str, np.ndarray]) -> list[Any]:
        """One cotangent per user output -> one per expanded output (a float leaf's as a
        1-element array)."""
        if given is None or len(given) != len(self.outputs):
            raise TypeError(f"{self.__name__}() needs cotangents=(...) with one value for "
                            f"each of {', '.join(self.outputs)}")
        flat: list[Any] = []
        for name, value in zip(self.outputs, given, strict=True):
            if name != RETURN:
                flat.append(value)
                continue
            leaves = list(result_leaves(value, self.layout.ret))
            for leaf, buf in zip(leaves, buffers.values(), strict=True):
                flat.append(np.reshape(np.asarray(leaf, dtype=buf.dtype), buf.shape)
                            if buf.shape == (1,) and np.ndim(leaf) == 0 else leaf)
        return flat


def _dtype(t: T.Type) -> np.dtype:
    scalar = t.dtype if isinstance(t, T.Array) else t
    assert isinstance(scalar, T.Scalar)
    return scalar.np_dtype


def _copies(values: tuple[Any, ...], copy: bool) -> tuple[Any, ...]:
    """`values` with arrays (also inside tuples) copied where the kernel writes any."""
    if not copy:
        return values
    return tuple(np.array(v, copy=True) if isinstance(v, np.ndarray)
                 else _copies(v, copy) if isinstance(v, tuple) else v for v in values)


def _build(t: T.Type, arrays: Iterator[Any]) -> Any:
    if isinstance(t, T.Tuple):
        return tuple(_build(item, arrays) for item in t.items)
    a = next(arrays)
    return a if isinstance(t, T.Array) else a.reshape(-1)[0]
