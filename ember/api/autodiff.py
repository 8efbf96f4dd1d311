"""Public derivative transforms: `grad`, `value_and_grad`, `jvp`, `vjp` (Enzyme underneath).

Each returns a `Derivative`: callable like the kernel, compiled on first call (and cached on
disk). It has the kernel's side effects on its arguments, returns fresh arrays for gradients
(shadow buffers are zeroed here) and accepts `tangents=` (jvp) or `cotangents=` (vjp).
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Sequence
from typing import Any

from .. import types as T
from ..driver.derivatives import Request, checkpointing, describe
from ..options import CompileOptions
from ..runtime.derivcall import DerivativeCall, DerivativeInfo
from . import pickling
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
        item_of = any(item.startswith(f"{p}_") for p in params)  # t_0: an item of tuple t
        if item not in params and not item_of:
            raise ValueError(f"'{k.__name__}' has no parameter '{item}' (wrt)")
        names.append(item)
    return tuple(names), single


class Derivative(CallPath):
    """A compiled derivative of a kernel; see `grad`, `value_and_grad`, `jvp`, `vjp`.

    Callable like the kernel (with `tangents=`/`cotangents=`); once compiled, grad and
    value_and_grad calls go through the C dispatcher (ember/_dispatch.c) where they can.
    """

    def __init__(self, k: Kernel, kind: str, wrt: Wrt, outputs: Wrt = None,
                 checkpoint: tuple[str | None, int] = (None, 0),
                 broadcast: tuple[str, ...] = ()) -> None:
        self.kernel = k
        self.kind = kind
        self.wrt, self.single = _names(k, wrt)
        outs: tuple[str, ...] = ()
        if outputs is not None:
            outs = (outputs,) if isinstance(outputs, str) else tuple(outputs)  # type: ignore[arg-type]
        mode = "forward" if kind == "jvp" else "reverse"
        self.request = Request(mode, self.wrt, outs, *checkpoint, broadcast=broadcast)
        self.__name__ = f"{kind}_{k.__name__}"
        self.__doc__ = k.__doc__
        self._compiled: Any = None
        self._call: DerivativeCall | None = None
        self._specs: dict[tuple[str, ...], DerivativeCall] = {}
        self._lock = threading.Lock()
        self._set_slow(self._first_call)

    def __reduce__(self) -> Any:
        return pickling.reduce_derivative(self)

    __copy__ = __deepcopy__ = pickling.itself

    def compile(self) -> Any:
        with self._lock:
            if self._compiled is None:
                self._compiled = self._build(self.kernel.options)
        return self._compiled

    def _build(self, options: CompileOptions) -> Any:
        from ..driver.cpu import compile_derivative
        from ..driver.gpu_derivatives import compile_gpu_derivative

        try:
            if options.target == "gpu":  # a GpuManifest (driver/gpu_derivatives.py)
                return compile_gpu_derivative(self.kernel.py_func, self.request, options)
            return compile_derivative(self.kernel.py_func, self.request, options,
                                      results=self.kind in ("jvp", "vjp"))
        except TypeError:
            raise
        except Exception as err:
            raise _user_facing(err, self.__name__) from None

    def _specialization(self, none: tuple[str, ...]) -> DerivativeCall:
        """The call path of the build where the Optional parameters `none` are None."""
        with self._lock:
            found = self._specs.get(none)
        if found is None:
            compiled = self._build(dataclasses.replace(self.kernel.options, none=none))
            found = self._call_of(compiled)
            with self._lock:
                self._specs[none] = found
        return found

    def _first_call(self, *args: Any, tangents: Sequence[Any] | None = None,
                    cotangents: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        call = self._call or self._pick_call(args, kwargs)
        _connect(self, call)
        return call(*args, tangents=tangents, cotangents=cotangents, **kwargs)

    def _pick_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> DerivativeCall:
        """The call path of the build the first call's None arguments select (the build of
        the defaults may not exist: `wrt` may name an Optional parameter)."""
        from ..frontend.params import binding_of
        from ..frontend.source import load_source

        try:
            b = binding_of(load_source(self.kernel.py_func))
            pattern = b.pattern(b.bind(args, kwargs))
        except Exception:  # the call path raises the same error, with the build's context
            return self._make_call()
        if pattern == b.default_pattern():
            return self._make_call()
        self._call = self._specialization(pattern)
        return self._call

    def _make_call(self) -> DerivativeCall:
        self._call = self._call_of(self._compiled or self.compile())
        return self._call

    def _call_of(self, compiled: Any) -> DerivativeCall:
        call = DerivativeCall(self.info(compiled), connect(CallPath(), compiled.main),
                              compiled.count.entry if compiled.count else None)
        call.specialize = self._specialization
        call.native = compiled
        if getattr(compiled, "layout", None) is not None:  # an array or tuple result
            from .resultcall import ResultCall

            return ResultCall(call, compiled.layout, self.kernel,  # type: ignore[return-value]
                              self.request.outputs)
        return call

    def call_path(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> DerivativeCall:
        """The call path (compiled on first use) of a call with these arguments."""
        return self._call or self._pick_call(args, kwargs)

    def info(self, compiled: Any = None) -> DerivativeInfo:
        """The plain description of this derivative that its call path needs."""
        compiled = compiled or self._compiled or self.compile()
        count = compiled.count.signature.written if compiled.count else frozenset()
        return describe(compiled.plan, self.__name__, self.kind, self.single, compiled.loops,
                        count, compiled.main.signature.written)


def _connect(path: CallPath, call: DerivativeCall) -> None:
    """Make `path` call `call`: grad and value_and_grad calls through the C dispatcher where
    `call.dispatch_plan` and the primal binding allow, the rest through `call`."""
    from ..driver.cpu import bound_spec
    from ..runtime.abi import Signature

    main, plan = call.native.main, call.native.plan
    fast = call.dispatch_plan(main.fast_spec[0]) if main.packed is not None else None
    primal = tuple((n, t) for n, t, _ in plan.activities)
    bound = bound_spec(Signature(primal, T.none, frozenset(), plan.binding)) if fast else None
    if fast is None or bound is None:
        path._set_slow(call)
        return
    import numpy as np

    path._set_fast(main.packed, fast[0], main.fast_spec[1], call, np.ndarray,
                   main.raise_error, (), bound, fast[1])


def _derivative(kind: str, f: Any, wrt: Wrt, outputs: Wrt, checkpoint: str | None,
                snapshots: int | None) -> Any:
    """The `kind` derivative of `f`, or a decorator making it (`@grad(wrt="x")`)."""
    cp = checkpointing(kind, checkpoint, snapshots)
    if f is None:  # decorator with arguments: @grad(wrt="x")
        return lambda g: Derivative(_as_kernel(g), kind, wrt, outputs, cp)
    return Derivative(_as_kernel(f), kind, wrt, outputs, cp)


def grad(f: Any = None, wrt: Wrt = None, outputs: Wrt = None, *,
         checkpoint: str | None = None, snapshots: int | None = None) -> Any:
    """The gradient of kernel `f`'s float result with respect to the parameters named (or
    numbered) by `wrt` (default: the first): `grad(f, wrt="x")(*args)` returns an array
    shaped like `x`, a tuple for several `wrt`. `checkpoint="binomial"` with `snapshots=k`
    bounds the tape of long loops. Also usable as `@grad` or `@grad(wrt=...)`."""
    return _derivative("grad", f, wrt, outputs, checkpoint, snapshots)


def value_and_grad(f: Any = None, wrt: Wrt = None, outputs: Wrt = None, *,
                   checkpoint: str | None = None, snapshots: int | None = None) -> Any:
    """Like `grad`, returning `(value, gradient)` from one call. Also usable as
    `@value_and_grad` or `@value_and_grad(wrt=...)`."""
    return _derivative("value_and_grad", f, wrt, outputs, checkpoint, snapshots)


def jvp(f: Any = None, wrt: Wrt = None, outputs: Wrt = None, *,
        checkpoint: str | None = None, snapshots: int | None = None) -> Any:
    """Forward mode: `jvp(f, wrt=..., outputs=...)(*args, tangents=(t, ...))` returns
    `(value, tangent of the result)`, or the tangents of the arrays named in `outputs`; one
    tangent per `wrt` parameter, shaped like it. Also usable as `@jvp(wrt=...)`."""
    return _derivative("jvp", f, wrt, outputs, checkpoint, snapshots)


def vjp(f: Any = None, wrt: Wrt = None, outputs: Wrt = None, *,
        checkpoint: str | None = None, snapshots: int | None = None) -> Any:
    """Reverse mode: `vjp(f, wrt=..., outputs=...)(*args, cotangents=(c, ...))` returns the
    cotangents of the `wrt` parameters, given one cotangent per output (the arrays named in
    `outputs`, `"return"` for the result). Also usable as `@vjp(wrt=...)`."""
    return _derivative("vjp", f, wrt, outputs, checkpoint, snapshots)
