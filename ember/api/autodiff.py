"""Public derivative transforms: `grad`, `value_and_grad`, `jvp`, `vjp` (Enzyme underneath).

Each returns a `Derivative`: callable like the kernel, compiled on first call (and cached on
disk). It has the kernel's side effects on its arguments, returns fresh arrays for gradients
(shadow buffers are zeroed here) and accepts `tangents=` (jvp) or `cotangents=` (vjp).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..driver.derivatives import Request, describe
from ..runtime.derivcall import DerivativeCall, DerivativeInfo
from .kernel import CallPath, Kernel, _user_facing, connect, kernel

Wrt = str | int | Sequence[str | int] | None


def _as_kernel(f: Any) -> Kernel:
    return f if isinstance(f, Kernel) else kernel(f)


def _names(k: Kernel, wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """Parameter names for `wrt` (names or positions), and whether a single one was given."""
    params = list(inspect.signature(k.py_func).parameters)
    if not params:
        raise TypeError(f"'{k.__name__}' has no parameters to differentiate")
    single = wrt is None or isinstance(wrt, str | int)
    items: list[str | int] = ([params[0]] if wrt is None else [wrt]
                              if isinstance(wrt, str | int) else list(wrt))
    names = []
    for item in items:
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise ValueError(f"wrt position {item} out of range for '{k.__name__}'")
            item = params[item]
        if item not in params:
            raise ValueError(f"'{k.__name__}' has no parameter '{item}' (wrt)")
        names.append(item)
    return tuple(names), single


class Derivative:
    """A compiled derivative of a kernel; see `grad`, `value_and_grad`, `jvp`, `vjp`."""

    def __init__(self, k: Kernel, kind: str, wrt: Wrt, outputs: Wrt = None) -> None:
        self.kernel = k
        self.kind = kind
        self.wrt, self.single = _names(k, wrt)
        outs: tuple[str, ...] = ()
        if outputs is not None:
            outs = (outputs,) if isinstance(outputs, str) else tuple(outputs)  # type: ignore[arg-type]
        mode = "forward" if kind == "jvp" else "reverse"
        self.request = Request(mode, self.wrt, outs)
        self.__name__ = f"{kind}_{k.__name__}"
        self.__doc__ = k.__doc__
        self._compiled: Any = None
        self._call: DerivativeCall | None = None
        self._lock = threading.Lock()

    def compile(self) -> Any:
        with self._lock:
            if self._compiled is None:
                from ..driver.cpu import compile_derivative

                try:
                    self._compiled = compile_derivative(
                        self.kernel.py_func, self.request, self.kernel.options)
                except TypeError:
                    raise
                except Exception as err:
                    raise _user_facing(err, self.__name__) from None
        return self._compiled

    def __call__(self, *args: Any, tangents: Sequence[Any] | None = None,
                 cotangents: Sequence[Any] | None = None) -> Any:
        call = self._call or self._make_call()
        return call(*args, tangents=tangents, cotangents=cotangents)

    def _make_call(self) -> DerivativeCall:
        compiled = self._compiled or self.compile()
        self._call = DerivativeCall(self.info(), connect(CallPath(), compiled.main),
                                    compiled.count.entry if compiled.count else None)
        return self._call

    def info(self) -> DerivativeInfo:
        """The plain description of this derivative that its call path needs."""
        compiled = self._compiled or self.compile()
        count = compiled.count.signature.written if compiled.count else frozenset()
        return describe(compiled.plan, self.__name__, self.kind, self.single, compiled.loops,
                        count, compiled.main.signature.written)


def _transform(kind: str) -> Callable[..., Any]:
    def transform(f: Any = None, wrt: Wrt = None, outputs: Wrt = None) -> Any:
        if f is None:  # decorator with arguments: @grad(wrt="x")
            return lambda g: Derivative(_as_kernel(g), kind, wrt, outputs)
        return Derivative(_as_kernel(f), kind, wrt, outputs)
    transform.__name__ = kind
    transform.__doc__ = (f"`{kind}(f, wrt=...)`: the {kind} of kernel `f` with respect to the "
                         "parameters named (or numbered) by `wrt` (default: the first). Also "
                         f"usable as `@{kind}` or `@{kind}(wrt=...)`.")
    return transform


grad = _transform("grad")
value_and_grad = _transform("value_and_grad")
jvp = _transform("jvp")
vjp = _transform("vjp")
