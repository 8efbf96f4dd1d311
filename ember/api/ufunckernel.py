"""The hook that lets kernels call `ember.vectorize` ufuncs on scalars (Numba's jitted code
calls its vectorized functions): `Elementwise`, set as `__ember_elementwise__` on the ufunc
(and on a DynamicUFunc) and read by frontend/ufunccall.py and deps.py.

`callee(types)` picks the loop NumPy would pick for scalar arguments of `types`: a signature
whose argument types are exactly the arguments', else the first the arguments cast to safely
(Python scalars are weak: an int goes to any numeric loop, a float to a float or complex one).
The chosen function is the user's body annotated with the signature's types (`annotate`:
api/ufuncbuild.py's `annotated`, passed in; made once per signature) and the result type is the signature's return type.
A DynamicUFunc has no fixed loops: the arguments' own (strong) types are the signature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from .. import types as T
from ..options import CompileOptions
from .ufuncsig import Signature

_CATEGORY: Final = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


class Elementwise:
    """Kernels' view of a scalar ufunc: its function, signatures and options."""

    def __init__(self, py: Any, options: CompileOptions, signatures: Sequence[Signature] | None,
                 annotate: Callable[..., Any]) -> None:
        self.py_func = py
        self.annotate = annotate
        self.options = options
        self.signatures = None if signatures is None else tuple(signatures)
        texts = "dynamic" if signatures is None else ";".join(s.text for s in signatures)
        self.key = f"ufunc {py.__module__}.{py.__qualname__} [{texts}]"
        self._made: dict[tuple[T.Scalar, ...], Any] = {}
        self._lock = threading.Lock()

    def callee(self, types: tuple[T.Scalar, ...]) -> tuple[Any, T.Scalar | None] | str:
        """(annotated function, result type or None) for arguments of `types`, or why not."""
        nin = self.py_func.__code__.co_argcount
        name = self.py_func.__name__
        if len(types) != nin:
            return f"ufunc '{name}' takes {nin} argument(s), got {len(types)}"
        if self.signatures is None:
            return self._function(tuple(t.strong() for t in types)), None
        sig = _pick(self.signatures, types)
        if sig is None:
            have = ", ".join(s.text for s in self.signatures)
            return (f"no loop of ufunc '{name}' takes ({', '.join(map(str, types))}); its "
                    f"signatures are {have}: convert the arguments (e.g. float(x)) or add "
                    f"a signature")
        args = tuple(t for t in sig.args if isinstance(t, T.Scalar))
        return self._function(args), sig.ret

    def _function(self, args: tuple[T.Scalar, ...]) -> Any:
        with self._lock:
            if args not in self._made:
                core = self.annotate(self.py_func, args, self.options, "vectorize")
                self._made[args] = core.py_func
            return self._made[args]


def _pick(signatures: Sequence[Signature], types: tuple[T.Scalar, ...]) -> Signature | None:
    strong = tuple(t.strong() for t in types)
    for sig in signatures:
        if sig.args == strong and not any(t.weak for t in types):
            return sig
    for sig in signatures:
        if all(isinstance(p, T.Scalar) and _casts(t, p)
               for t, p in zip(types, sig.args, strict=True)):
            return sig
    return None


def _casts(t: T.Scalar, to: T.Scalar) -> bool:
    """NumPy's safe casting, with Python scalars weak (NEP 50)."""
    if t.weak:
        return _CATEGORY[t.kind] <= _CATEGORY[to.kind]
    return bool(np.can_cast(t.np_dtype, to.np_dtype, "safe"))
