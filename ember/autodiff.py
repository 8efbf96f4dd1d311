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

import numpy as np

from .api import Kernel, _user_facing, kernel
from .derivatives import RETURN, Plan, Request

Wrt = str | int | Sequence[str | int] | None


def _as_kernel(f: Any) -> Kernel:
    return f if isinstance(f, Kernel) else kernel(f)


def _names(k: Kernel, wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """Parameter names for `wrt` (names or positions), and whether a single one was given."""
    params = list(inspect.signature(k.py_func).parameters)
    if not params:
        raise TypeError(f"'{k.__name__}' has no parameters to differentiate")
    single = wrt is None or isinstance(wrt, str | int)
    items = [params[0]] if wrt is None else [wrt] if single else list(wrt)  # type: ignore[list-item, arg-type]
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
        self._plan: Plan | None = None
        self._lock = threading.Lock()

    def compile(self) -> Any:
        with self._lock:
            if self._compiled is None:
                from .compiler import compile_derivative

                try:
                    self._compiled = compile_derivative(
                        self.kernel.py_func, self.request, self.kernel.options)
                    self._plan = self._compiled.plan
                except TypeError:
                    raise
                except Exception as err:
                    raise _user_facing(err, self.__name__) from None
        return self._compiled

    def __call__(self, *args: Any, tangents: Sequence[Any] | None = None,
                 cotangents: Sequence[Any] | None = None) -> Any:
        compiled = self._compiled or self.compile()
        plan = self._plan
        assert plan is not None
        expected = len(plan.activities) - (1 if compiled.count else 0)
        if len(args) != expected:
            raise TypeError(f"{self.__name__}() takes {expected} arguments, got {len(args)}")
        if compiled.count is not None:
            args = (*args, self._trip_counts(compiled, plan, args))
        given = args
        args = tuple(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args)
        seeds = _Seeds(self, plan, tangents, cotangents)
        entry_args, shadows = seeds.arguments(args)
        results = compiled.main.entry(*entry_args)
        results = () if results is None else results
        for (name, _, _), original, used in zip(plan.activities, given, args, strict=False):
            if used is not original and name in compiled.main.signature.written:
                original[...] = used  # the kernel's writes, into the caller's view
        return self._outputs(plan, args, shadows, results)

    @staticmethod
    def _trip_counts(compiled: Any, plan: Plan, args: tuple) -> np.ndarray:
        """Run the primal on copies of the arrays it writes, recording while-loop trips."""
        counts = np.zeros(compiled.loops, dtype=np.int64)
        written = compiled.count.signature.written
        copies = [np.array(a, copy=True) if n in written and isinstance(a, np.ndarray) else a
                  for (n, _, _), a in zip(plan.activities, args, strict=False)]
        compiled.count.entry(*copies, counts)
        return counts

    def _outputs(self, plan: Plan, args: tuple, shadows: dict[str, Any], results: tuple) -> Any:
        if self.kind == "jvp":
            return self._jvp_outputs(plan, shadows, results)
        value = results[0] if plan.result_type is not None else None
        scalar = iter(results[1:] if plan.result_type is not None else results)
        grads = []
        active = {n: next(scalar) for n, _, a in plan.activities if a == "active"}
        for name in self.wrt:
            grads.append(shadows[name] if name in shadows else active[name])
        grad = grads[0] if self.single else tuple(grads)
        return (value, grad) if self.kind == "value_and_grad" else grad

    def _jvp_outputs(self, plan: Plan, shadows: dict[str, Any], results: tuple) -> Any:
        outs = self.request.outputs or ((RETURN,) if plan.result_type is not None else ())
        tangent_of = {RETURN: results[1] if results else None, **shadows}
        tans = [tangent_of[o] for o in outs]
        value = results[0] if results else None
        if not outs:
            raise TypeError(f"'{self.kernel.__name__}' has no float result; name the array "
                            "outputs to differentiate with outputs=...")
        return value, (tans[0] if len(tans) == 1 else tuple(tans))


class _Seeds:
    """Builds the derivative entry's arguments: shadows, tangents, cotangents, seed."""

    def __init__(self, d: Derivative, plan: Plan, tangents: Any, cotangents: Any) -> None:
        self.d, self.plan = d, plan
        self.tangents = self._by_name(d.wrt, tangents, "tangents") if d.kind == "jvp" else {}
        outs = d.request.outputs or ((RETURN,) if plan.result_type is not None else ())
        if d.kind == "vjp":
            self.cotangents = self._by_name(outs, cotangents, "cotangents")
        else:
            self.cotangents = {RETURN: 1.0} if plan.result_type is not None else {}

    def _by_name(self, names: Sequence[str], values: Any, what: str) -> dict[str, Any]:
        if values is None or len(values) != len(names):
            raise TypeError(f"{self.d.__name__}() needs {what}=(...) with one value for each "
                            f"of {', '.join(names)}")
        return dict(zip(names, values, strict=True))

    def arguments(self, args: tuple) -> tuple[list[Any], dict[str, Any]]:
        out: list[Any] = []
        shadows: dict[str, Any] = {}
        forward = self.d.kind == "jvp"
        for (name, _, act), value in zip(self.plan.activities, args, strict=True):
            out.append(value)
            if act == "dup":
                shadows[name] = self._shadow(name, value)
                out.append(shadows[name])
            elif act == "active" and forward:
                out.append(float(self.tangents[name]))
        if self.plan.result_type is not None and not forward:
            out.append(float(self.cotangents.get(RETURN, 0.0)))
        return out, shadows

    def _shadow(self, name: str, value: Any) -> np.ndarray:
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{self.d.__name__}() argument '{name}' must be a numpy array")
        seed = self.tangents.get(name) if self.d.kind == "jvp" else self.cotangents.get(name)
        if seed is None:
            return np.zeros(value.shape, dtype=value.dtype)
        seed = np.asarray(seed)
        if seed.shape != value.shape:
            raise ValueError(f"{self.d.__name__}(): the seed for '{name}' has shape "
                             f"{seed.shape}, expected {value.shape}")
        return np.array(seed, dtype=value.dtype, copy=True)


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
