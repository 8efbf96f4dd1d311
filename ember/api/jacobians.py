"""Jacobians: `jacfwd` (one forward-mode `jvp` per input element) and `jacrev` (one `vjp`
per output element), for scalar-, array- and tuple-valued kernels and out-parameter kernels.

Shapes follow JAX's rule. For an output of shape O (() for a float) and a differentiated
input of shape I (() for a float), the Jacobian has shape O + I, with
`J[o..., i...] = d output[o...] / d input[i...]` (a float when both are floats). Several
`wrt` names give a tuple over them (a tuple parameter: a tuple over its items); several
outputs (a tuple result, or several `outputs=` names) give a tuple over the outputs, each a
Jacobian or a tuple over `wrt`, nested as the result is. The dtype is the result type of the
output's and the input's (float32 kernels give float32 Jacobians).

`outputs` names written array parameters and/or 'return' (default: the kernel's result). Both
transforms have the kernel's side effects on the arguments once, whatever the number of calls
(the written arrays are restored between them, runtime/jacloop.py). A call plans once per
argument signature (runtime/jacquick.py); non-contiguous arrays take the row-by-row path.
`jacfwd(grad(f))` is the Hessian, computed forward-over-reverse by api/secondorder.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .. import types as T
from ..binding import plain
from ..frontend.adresults import RETURN
from ..runtime.derivcall import DerivativeCall
from ..runtime.jacloop import Session
from ..runtime.jacquick import LIMIT, Layout, Quick, signature
from . import pickling
from .autodiff import Derivative, Wrt, _as_kernel
from .jacfast import MISS, Native, Shapes
from .kernel import Kernel
from .resultcall import ResultCall

MODES = {"jacfwd": "jvp", "jacrev": "vjp"}


class Jacobian:
    """The Jacobian of a kernel: callable like it; see `jacfwd` and `jacrev`."""

    def __init__(self, k: Kernel, name: str, wrt: Wrt, outputs: Wrt) -> None:
        if k.options.target != "cpu":
            raise TypeError(f"{name}() of '{k.__name__}': Jacobians are computed for CPU "
                            f"kernels only (this one has target={k.options.target!r}); use "
                            "jvp/vjp for GPU kernels")
        self.kernel = k
        self.derivative = Derivative(k, MODES[name], wrt, _output_names(k, outputs))
        self.derivative.request = replace(self.derivative.request, jacobian=True)
        self._native: Native | None = None
        """The build's native loop (api/jacfast.py), once a call found it."""
        self.single_output = outputs is None or isinstance(outputs, str | int)
        self.__name__ = f"{name}_{k.__name__}"
        self.__doc__ = k.__doc__
        self._plans: dict[int, _Plan] = {}

    def __reduce__(self) -> Any:
        return pickling.reduce_jacobian(self)

    __copy__ = __deepcopy__ = pickling.itself

    def compile(self) -> Any:
        return self.derivative.compile()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        native = self._native
        if native is not None and not kwargs:
            found = native(args)
            if found is not MISS:
                return found
        call = self.derivative.call_path(args, kwargs)
        inner, flat, layout = _bound(call, args, kwargs)
        plan = self._plans.get(id(inner))
        if plan is None:  # (the call paths live as long as the derivative)
            plan = self._plans[id(inner)] = _Plan(inner, layout)
        key = signature(flat)
        if key is None:
            return self._by_rows(plan, inner, flat, layout)
        native = self._native or self._connect(plan, inner, layout)
        if native is not None and not kwargs and len(args) == native.nargs:
            return native.learn(args, _shapes(plan, inner, flat, len(args)))
        quick = plan.quick.get(key)
        if quick is None:
            if len(plan.quick) >= LIMIT:
                plan.quick.pop(next(iter(plan.quick)))
            quick = plan.quick[key] = Quick(inner, plan.layout, flat, _fresh(layout))
        return self._shape(plan, quick(flat), layout)

    def _connect(self, plan: _Plan, inner: DerivativeCall, layout: Any) -> Native | None:
        """The build's native loop (api/jacfast.py) where it has one and binds positionally."""
        compiled = getattr(inner.native, "jacobian", None)
        if compiled is None or inner.info.binding is not None:
            return None

        def rows(flat: list[Any]) -> list[np.ndarray]:
            table = self._table(plan, Session(inner, flat, _fresh(layout)))
            return [table.jac[ow] for ow in plan.dtypes]

        acts = inner.native.plan.activities
        leaves = [t for n, t, _ in acts if n in _fresh(layout)]
        params = [(n, t) for n, t, _ in acts if n not in _fresh(layout)]
        native = Native(compiled, params[:len(params) - (1 if inner.info.loops else 0)], leaves,
                        inner._trip_counts if inner.info.loops else None, rows,
                        len(plan.dtypes))
        native.shape = lambda js: self._shape(plan, dict(zip(plan.dtypes, js, strict=True)),
                                              layout)
        native.alone = bool(self._alone(plan, layout))
        self._native = native
        return native

    def rows(self, *args: Any, **kwargs: Any) -> Any:
        """The Jacobian by the row-by-row path (runtime/jacloop.py), without the quick
        path's per-signature plan: the same values, bitwise (kept for non-contiguous
        arguments and as the reference of tests)."""
        call = self.derivative.call_path(args, kwargs)
        inner, flat, layout = _bound(call, args, kwargs)
        return self._by_rows(_Plan(inner, layout), inner, flat, layout)

    def _by_rows(self, plan: _Plan, inner: DerivativeCall, flat: list[Any],
                 layout: Any) -> Any:
        return self._shape(plan, self._table(plan, Session(inner, flat, _fresh(layout))).jac,
                           layout)

    @staticmethod
    def _table(plan: _Plan, session: Session) -> _Table:
        """The blocks by the row-by-row path (the kernel's writes copied back)."""
        table = _Table(plan, session)
        if session.forward:
            table.forward()
        else:
            table.reverse()
        session.finish()
        return table

    def _shape(self, plan: _Plan, jac: dict[tuple[str, str], np.ndarray], layout: Any) -> Any:
        """The Jacobians as the user gets them (see the module's docstring)."""
        if plan.alone is None:
            plan.alone = self._alone(plan, layout)
        if plan.alone:
            return _plain(jac[plan.alone])
        per_output = [plan.info.regroup([_plain(jac[o, w]) for w in plan.info.wrt])
                      for o in plan.outs]
        users = self.derivative.request.outputs or (RETURN,)
        values = iter(per_output)
        out = [_nest(layout.ret, values) if layout is not None and o == RETURN
               else next(values) for o in users]
        return out[0] if self.single_output and len(out) == 1 else tuple(out)

    def _alone(self, plan: _Plan, layout: Any) -> tuple[str, str] | tuple[()]:
        """The one block the user gets alone (one output, one `wrt` that is not a tuple
        parameter); () if the blocks are nested in tuples."""
        one = (self.single_output and len(self.derivative.request.outputs or (RETURN,)) == 1
               and len(plan.outs) == 1 and plan.info.single and not plan.info.groups
               and (layout is None or not isinstance(layout.ret, T.Tuple)))
        return (plan.outs[0], plan.info.wrt[0]) if one else ()


class _Plan:
    """What every Jacobian call of one derivative build shares: the outputs, the float
    leaves of a converted result, the blocks' dtypes, where scalar gradients come from."""

    def __init__(self, inner: DerivativeCall, layout: Any) -> None:
        info = self.info = inner.info
        self.outs = info.outputs or ((RETURN,) if info.has_result else ())
        if not self.outs:
            raise TypeError(f"{info.name}: the kernel has no float result; name the array "
                            "outputs to differentiate with outputs=...")
        self.scalars = {n for n, t in zip(layout.names, layout.leaves, strict=True)
                        if isinstance(t, T.Scalar)} if layout is not None else set()
        dtypes = _dtypes(inner)
        self.dtypes = {(o, w): np.result_type(dtypes[o], dtypes[w])
                       for o in self.outs for w in info.wrt}
        active = [n for n, a in info.activities if a == "active"]
        first = 1 if info.has_result else 0
        self.picks = {w: first + active.index(w) for w in info.wrt if w in active}
        self.layout = Layout(tuple(self.outs), info.wrt, self.dtypes, self.picks,
                             frozenset(self.scalars), frozenset(info.written))
        self.quick: dict[tuple[Any, ...], Quick] = {}
        self.alone: tuple[str, str] | tuple[()] | None = None
        """The block the user gets alone, () if none, None: not known yet."""
        """The quick path's plan per argument signature (runtime/jacquick.py)."""


class _Table:
    """The Jacobian blocks (output, wrt) -> array, filled one derivative call at a time."""

    def __init__(self, plan: _Plan, session: Session) -> None:
        self.plan, self.session = plan, session
        self.shapes = {n: () if n in plan.scalars else session.shape(n) for n in plan.outs}
        self.shapes.update({w: session.shape(w) for w in plan.info.wrt})
        self.jac = {(o, w): np.zeros(self.shapes[o] + self.shapes[w], dtype=dtype)
                    for (o, w), dtype in plan.dtypes.items()}

    def reverse(self) -> None:
        """One reverse call per output element: a row of every block (a read-only array
        input's gradient accumulates into its row directly, no copy)."""
        picks, shadows = self.plan.picks, self.session.shadows
        direct = [w for w in self.plan.info.wrt if self._direct(w)]
        places = self.session.direct(direct)
        for o in self.plan.outs:
            n = math.prod(self.shapes[o])
            rows = [(self.jac[o, w].reshape(n, math.prod(self.shapes[w])), picks.get(w, 0),
                     shadows[w].reshape(-1) if w in shadows else None)
                    for w in self.plan.info.wrt if w not in direct]
            views = [(place, self.jac[o, w].reshape(n, *self.shapes[w]))
                     for place, w in zip(places, direct, strict=True)]
            for e in range(n):
                results = self.session.run(o, e, [(place, v[e]) for place, v in views])
                for row, pick, shadow in rows:
                    row[e] = results[pick] if shadow is None else shadow

    def _direct(self, w: str) -> bool:
        """Whether the rows of `w`'s blocks can be its shadow: an input array the kernel
        neither writes nor outputs, of the blocks' dtype."""
        shadow = self.session.shadows.get(w)
        return (shadow is not None and w not in self.plan.outs
                and w not in self.plan.info.written
                and all(self.jac[o, w].dtype == shadow.dtype for o in self.plan.outs))

    def forward(self) -> None:
        """One forward call per input element: a column of every block."""
        shadows = self.session.shadows
        for w in self.plan.info.wrt:
            n = math.prod(self.shapes[w])
            cols = [(self.jac[o, w].reshape(math.prod(self.shapes[o]), n),
                     shadows[o].reshape(-1) if o != RETURN
                     else None) for o in self.plan.outs]
            for e in range(n):
                results = self.session.run(w, e)
                for col, shadow in cols:
                    col[:, e] = results[1] if shadow is None else shadow


def _bound(call: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[DerivativeCall, list[Any], Any]:
    """The derivative call of the build these arguments select, its flat arguments (with the
    result buffers of an array or tuple result) and the result's layout (None: none)."""
    layout = call.layout if isinstance(call, ResultCall) else None
    buffers = call.buffers(args, kwargs) if layout is not None else {}
    inner: DerivativeCall = call.inner if isinstance(call, ResultCall) else call
    info = inner.info
    if info.binding is None and not kwargs:  # (the buffers are the last parameters)
        return inner, [*args, *buffers.values()], layout
    kwargs = {**kwargs, **buffers}
    b = info.binding or plain(info.name, [n for n, _ in info.activities][
        :len(info.activities) - (1 if info.loops else 0)])
    values = b.bind(args, kwargs)
    pattern = b.pattern(values)
    if pattern != b.none:
        if inner.specialize is None:
            raise TypeError(f"{info.name}() is built for calls where "
                            f"{', '.join(b.none) or 'no parameter'} is None")
        return _bound(inner.specialize(pattern), args,
                      {k: v for k, v in kwargs.items() if not k.startswith("__ret")})
    return inner, b.flatten(values), layout


def _shapes(plan: _Plan, inner: DerivativeCall, flat: list[Any], given: int) -> Shapes:
    """The shapes and dtypes of a call's result leaf buffers (the flat arguments after the
    `given` ones) and of its blocks (api/jacfast.py)."""
    names = [n for n, _ in inner.info.activities]
    values = dict(zip(names, flat, strict=False))

    def shape(n: str) -> tuple[int, ...]:
        v = values.get(n)
        return () if n in plan.scalars or not isinstance(v, np.ndarray) else v.shape

    leaves = tuple((b.shape, b.dtype) for b in flat[given:])
    return leaves, tuple((shape(o) + shape(w), dt) for (o, w), dt in plan.dtypes.items())


def _fresh(layout: Any) -> tuple[str, ...]:
    """The result buffers: out-parameters the kernel overwrites whole (not restored)."""
    return tuple(layout.names) if layout is not None else ()


def _plain(j: np.ndarray) -> Any:
    """A 0-d Jacobian (a float output, a float input) as a NumPy scalar."""
    return j[()] if j.ndim == 0 else j


def _dtypes(inner: DerivativeCall) -> dict[str, np.dtype]:
    """The dtype of every parameter and of the result."""
    plan = inner.native.plan
    types: dict[str, Any] = {n: t for n, t, _ in plan.activities}
    if plan.result_type is not None:
        types[RETURN] = plan.result_type
    return {n: (t.dtype if isinstance(t, T.Array) else t).np_dtype
            for n, t in types.items() if isinstance(t, T.Array | T.Scalar)}


def _nest(t: T.Type, values: Iterator[Any]) -> Any:
    """Leaf values nested like a result of type `t`."""
    if isinstance(t, T.Tuple):
        return tuple(_nest(item, values) for item in t.items)
    return next(values)


def _output_names(k: Kernel, outputs: Wrt) -> tuple[str, ...] | None:
    """`outputs` as names ('return' for the result; positions name parameters)."""
    if outputs is None:
        return None
    items: Sequence[str | int] = (outputs,) if isinstance(outputs, str | int) else outputs
    params = list(inspect.signature(k.py_func).parameters)
    names = []
    for item in items:
        if isinstance(item, int) and not -len(params) <= item < len(params):
            raise ValueError(f"outputs position {item} out of range for '{k.__name__}'")
        names.append(params[item] if isinstance(item, int) else item)
    return tuple(names)


def _jacobian(name: str, f: Any, wrt: Wrt, outputs: Wrt) -> Any:
    """The `name` Jacobian of `f`, or a decorator making it (`@jacrev(wrt="x")`)."""
    if f is None:  # decorator with arguments: @jacrev(wrt="x")
        return lambda g: _jacobian(name, g, wrt, outputs)
    if isinstance(f, Derivative):
        return _of_derivative(name, f, wrt)
    return Jacobian(_as_kernel(f), name, wrt, outputs)


def jacfwd(f: Any = None, wrt: Wrt = None, outputs: Wrt = None) -> Any:
    """The Jacobian of kernel `f` in forward mode, one jvp per input element: shape (output
    shape) + (input shape) as JAX's, a tuple over several `wrt` or outputs. `jacfwd(grad(f))`
    is the Hessian. Also usable as `@jacfwd` or `@jacfwd(wrt=...)`."""
    return _jacobian("jacfwd", f, wrt, outputs)


def jacrev(f: Any = None, wrt: Wrt = None, outputs: Wrt = None) -> Any:
    """The Jacobian of kernel `f` in reverse mode, one vjp per output element (prefer it when
    outputs are fewer than inputs); shapes as `jacfwd`'s. Also usable as `@jacrev` or
    `@jacrev(wrt=...)`."""
    return _jacobian("jacrev", f, wrt, outputs)


def _of_derivative(name: str, d: Derivative, wrt: Wrt) -> Any:
    """`jacfwd(grad(f))`: the Hessian, by api/secondorder.py where it exists."""
    found = name == "jacfwd" and importlib.util.find_spec(f"{__package__}.secondorder")
    hook = getattr(importlib.import_module(f"{__package__}.secondorder"),
                   "jacfwd_of_derivative", None) if found else None
    if hook is None:
        raise TypeError(f"{name}() takes a kernel, not the derivative '{d.__name__}'"
                        + ("; for a Hessian use jacfwd(grad(f))" if name == "jacrev" else ""))
    return hook(d, wrt)

