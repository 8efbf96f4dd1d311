"""`DynamicUFunc`: `@vectorize` without signatures (api/ufunc.py), Numba's DUFunc.

A `numpy.ufunc` cannot grow loops after creation, so this object stands in front of one: each
call with a new combination of input dtypes compiles one more loop (api/ufuncbuild.py) and
remakes the ufunc holding every loop so far (`.ufunc`), ordered from the smallest dtypes up so
that NumPy picks the exact one.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .. import types as T
from ..options import CompileOptions
from ..runtime.ufuncloop import Loop
from .byvalue import by_value, reference
from .pickling import itself
from .ufuncbuild import annotated, finish, vector_loop
from .ufunckernel import Elementwise
from .ufuncsig import Signature

_ORDER = np.typecodes["All"]


def _rank(dtypes: tuple[np.dtype[Any], ...]) -> tuple[int, ...]:
    return tuple(_ORDER.find(dt.char) for dt in dtypes)


def _dtype_of(value: Any) -> np.dtype[Any]:
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype
    return np.asarray(value).dtype


def _scalar(name: str, dt: np.dtype[Any]) -> T.Scalar:
    found = T.from_dtype(dt)
    if found is None:
        raise TypeError(f"{name}: no loop for inputs of dtype {dt}; Ember ufuncs take bool, "
                        "integer, float and complex arrays")
    return found


class DynamicUFunc:
    """`@vectorize` without signatures: compiles one inner loop per new combination of input
    dtypes at call time and calls the ufunc holding every loop compiled so far (`.ufunc`,
    None before the first call). `reduce`, `accumulate`, `reduceat`, `outer` and `at` compile
    the loop their inputs need first. Loops are ordered from the smallest dtypes up, so
    NumPy picks the exact one."""

    def __init__(self, py: Any, options: CompileOptions, identity: Any, parallel: bool) -> None:
        self.py_func = py
        self.options = options
        self.identity_arg = identity
        self.parallel = parallel
        self.ufunc: np.ufunc | None = None
        self._loops: dict[tuple[np.dtype[Any], ...], tuple[Loop, int]] = {}
        self._lock = threading.Lock()
        self.__name__ = py.__name__
        self.__qualname__ = py.__qualname__
        self.__module__ = py.__module__
        self.__doc__ = py.__doc__
        self.nin = py.__code__.co_argcount
        self.__ember_elementwise__ = Elementwise(py, options, None, annotated)  # kernels call it

    def _ufunc_for(self, dtypes: tuple[np.dtype[Any], ...]) -> np.ufunc:
        with self._lock:
            if dtypes not in self._loops or self.ufunc is None:
                sig = Signature(str(dtypes), tuple(_scalar(self.__name__, dt)
                                                   for dt in dtypes), None, False)
                self._loops[dtypes] = vector_loop(self.py_func, self.options, sig,
                                                  self.parallel)
                ordered = sorted(self._loops.items(), key=lambda kv: _rank(kv[0]))
                self.ufunc = finish(self.py_func, [v for _, v in ordered], None,
                                    self.identity_arg)
            return self.ufunc

    def _inputs(self, args: tuple[Any, ...]) -> np.ufunc:
        if len(args) < self.nin:
            raise TypeError(f"{self.__name__}() takes {self.nin} input(s), got {len(args)}")
        return self._ufunc_for(tuple(_dtype_of(a) for a in args[:self.nin]))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._inputs(args)(*args, **kwargs)

    def reduce(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._same(array).reduce(array, *args, **kwargs)

    def accumulate(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._same(array).accumulate(array, *args, **kwargs)

    def reduceat(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._same(array).reduceat(array, *args, **kwargs)

    def outer(self, a: Any, b: Any, **kwargs: Any) -> Any:
        return self._inputs((a, b)).outer(a, b, **kwargs)

    def at(self, a: Any, indices: Any, b: Any = None) -> None:
        u = self._inputs((a,) if b is None else (a, b))
        u.at(a, indices) if b is None else u.at(a, indices, b)

    def _same(self, array: Any) -> np.ufunc:
        dt = _dtype_of(array)
        return self._ufunc_for((dt,) * self.nin)

    @property
    def types(self) -> list[str]:
        return [] if self.ufunc is None else list(self.ufunc.types)

    @property
    def ntypes(self) -> int:
        return len(self.types)

    @property
    def nout(self) -> int:
        """1 before the first call (Numba's DUFunc says 1 too), then the loops' count."""
        return 1 if self.ufunc is None else int(self.ufunc.nout)

    @property
    def nargs(self) -> int:
        return int(self.nin) + self.nout

    @property
    def identity(self) -> Any:
        return self.identity_arg if self.ufunc is None else self.ufunc.identity

    def __reduce__(self) -> str | tuple[Any, ...]:
        """By reference where importable, else the function by value (api/pickling.py)."""
        if reference(self) is not None:
            return str(self.__qualname__)
        return DynamicUFunc, (by_value(self.py_func), self.options, self.identity_arg,
                              self.parallel)

    __copy__ = __deepcopy__ = itself

    def __repr__(self) -> str:
        return f"<ember.vectorize {self.__qualname__} (dynamic, {len(self._loops)} loop(s))>"
