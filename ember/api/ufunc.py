"""Public `vectorize` and `guvectorize`: kernels as real NumPy ufuncs, Numba-style.

`@vectorize(["float64(float64, float64)", ...])` on a scalar kernel returns a `numpy.ufunc`
with one native inner loop per signature, so broadcasting, `out=`, `dtype=`, `where=`,
casting and `reduce`/`accumulate`/`reduceat`/`outer` (2-in/1-out ufuncs, with `identity=`)
all come from NumPy itself. `@guvectorize([...], "(n),(n)->()")` on a kernel writing its
outputs (the last parameters; a "()" output is a 1-element array written as `out[0] = ...`)
returns a generalized ufunc. `@vectorize` without signatures returns a `DynamicUFunc`, which
compiles a loop for each new combination of input dtypes at call time (like Numba's DUFunc)
and exposes the ufunc built so far (`.ufunc`): a `numpy.ufunc` cannot grow loops after
creation, so the object in front of it is not one; give signatures where a real ufunc is
needed up front (Dask, xarray, pickling by name).

Each loop is one Ember kernel: the kernel's source annotated with the signature's types (the
signature decides, as in Numba; the body is the user's, with its own line numbers), called by
a loop kernel from frontend/batching.py (`outputs=True`, no size checks) over one new axis,
with `prange` for `target="parallel"`. driver/ufuncs.py compiles it with NumPy's inner-loop
entry (runtime/ufuncloop.py), which also makes the ufunc: api/ufuncbuild.py; the DynamicUFunc
is api/dynufunc.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..options import CompileOptions
from .dynufunc import DynamicUFunc
from .kernel import Kernel
from .ufuncbuild import annotated, finish, gu_loop, vector_loop
from .ufunckernel import Elementwise
from .ufuncopts import extra_options
from .ufuncsig import Signature, is_type_list, parse_layout, parse_signature

__all__ = ["DynamicUFunc", "UFuncSpec", "guvectorize", "vectorize"]

_TARGETS = {"cpu": False, "parallel": True}


def _options(target: str, cache: bool, fastmath: Any,
             extra: dict[str, Any]) -> tuple[CompileOptions, bool]:
    if target not in _TARGETS:
        raise ValueError(f"target={target!r} is not a ufunc target; use 'cpu' or 'parallel' "
                         "(for the GPU, write a kernel with target='gpu')")
    # Numba's fastmath flag sets ({"nnan", "contract"}) turn Ember's one switch on
    return CompileOptions(cache=cache, fastmath=bool(fastmath), **extra), _TARGETS[target]


def _signatures(signatures: Any) -> list[Signature]:
    single = isinstance(signatures, str) or is_type_list(signatures) or not isinstance(
        signatures, tuple | list)  # one string, type tuple or Numba signature object
    items = [signatures] if single else list(signatures)
    if not items:
        raise ValueError("the list of signatures is empty; give at least one, e.g. "
                         "['float64(float64, float64)'], or none at all for a DynamicUFunc")
    return [parse_signature(s) for s in items]


def vectorize(signatures: Any = None, *, target: str = "cpu", identity: Any = None,
              cache: bool = True, fastmath: Any = False, nopython: bool = True,
              **numba_options: Any) -> Any:
    """Turn a scalar kernel into a NumPy ufunc: `@vectorize`, `@vectorize(["float64(float64,
    float64)", "float32(float32, float32)"])`. With signatures: a real `numpy.ufunc` compiled
    now, one loop per signature (in that order: NumPy picks the first its inputs cast to
    safely). Without: a `DynamicUFunc` compiling one loop per new input dtypes. `target=
    "parallel"` splits each loop over threads; `identity` (0, 1, "reorderable", None or a
    value) is the ufunc's identity for `reduce`. Numba's other keywords (nopython,
    boundscheck, error_model, ...) are read by api/ufuncopts.py."""
    if callable(signatures) and not isinstance(signatures, str | list | tuple):
        return vectorize(target=target, identity=identity, cache=cache, fastmath=fastmath,
                         nopython=nopython, **numba_options)(signatures)
    if not nopython:
        raise ValueError("vectorize(nopython=False): Ember compiles every kernel; drop it")
    extra = extra_options("vectorize", numba_options)
    options, parallel = _options(target, cache, fastmath, extra)
    sigs = None if signatures is None else _signatures(signatures)

    def wrap(func: Any) -> Any:
        py, opts = _unwrap(func, options)
        if sigs is None:
            return DynamicUFunc(py, opts, identity, parallel)
        loops = [vector_loop(py, opts, s, parallel) for s in sigs]
        u = finish(py, loops, None, identity, UFuncSpec(
            func, tuple(s.text for s in sigs), None, target, identity, cache, bool(fastmath),
            tuple(extra.items())))
        u.__ember_elementwise__ = Elementwise(py, opts, sigs, annotated)  # type: ignore[attr-defined]
        return u
    return wrap


def guvectorize(signatures: Any, layout: str | None = None, *, target: str = "cpu",
                identity: Any = None, cache: bool = True, fastmath: Any = False,
                nopython: bool = True, **numba_options: Any) -> Callable[[Any], np.ufunc]:
    """Turn a kernel on core dimensions into a generalized NumPy ufunc (Numba's form):
    `@guvectorize(["void(float64[:], float64[:], float64[:])"], "(n),(n)->()")`. The outputs
    are the last parameters and are written by the kernel (a "()" output is a 1-element
    array: `out[0] = ...`); a "()" input may be a scalar or a 1-element array."""
    if layout is None and isinstance(signatures, str) and "->" in signatures:
        raise TypeError(f"guvectorize({signatures!r}): Ember needs the type signatures too "
                        "(no dynamic gufuncs), e.g. @guvectorize(['void(float64[:], "
                        f"float64[:])'], {signatures!r})")
    if layout is None:
        raise TypeError("guvectorize needs the signatures and the layout, e.g. "
                        "@guvectorize(['void(float64[:], float64[:])'], '(n)->()')")
    if not nopython:
        raise ValueError("guvectorize(nopython=False): Ember compiles every kernel; drop it")
    extra = extra_options("guvectorize", numba_options)
    options, parallel = _options(target, cache, fastmath, extra)
    sigs, lay = _signatures(signatures), parse_layout(layout)

    def wrap(func: Any) -> np.ufunc:
        py, opts = _unwrap(func, options)
        loops = [gu_loop(py, opts, s, lay, parallel) for s in sigs]
        return finish(py, loops, lay, identity, UFuncSpec(
            func, tuple(s.text for s in sigs), lay.text, target, identity, cache,
            bool(fastmath), tuple(extra.items())))
    return wrap


@dataclass(frozen=True)
class UFuncSpec:
    """How an Ember ufunc was made (its `__ember_ufunc__`): enough to make it again in another
    process (`build()`), for pickling by value where the ufunc is not importable by name."""

    func: Any
    signatures: tuple[str, ...]
    layout: str | None
    target: str
    identity: Any
    cache: bool
    fastmath: bool
    extra: tuple[tuple[str, Any], ...] = ()
    """CompileOptions fields from Numba's other keywords (boundscheck, error_model)."""

    def build(self) -> np.ufunc:
        options = {"target": self.target, "identity": self.identity, "cache": self.cache,
                   "fastmath": self.fastmath, **dict(self.extra)}
        if self.layout is None:
            made: np.ufunc = vectorize(list(self.signatures), **options)(self.func)
            return made
        return guvectorize(list(self.signatures), self.layout, **options)(self.func)


def _unwrap(func: Any, options: CompileOptions) -> tuple[Any, CompileOptions]:
    if isinstance(func, Kernel):
        return func.py_func, replace(options, fastmath=options.fastmath
                                     or func.options.fastmath,
                                     opt_level=func.options.opt_level)
    if not callable(func) or not hasattr(func, "__code__"):
        raise TypeError(f"vectorize/guvectorize decorate a function (def), not "
                        f"{type(func).__name__}")
    return func, options
