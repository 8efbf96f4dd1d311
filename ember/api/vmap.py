"""Public `vmap`: a kernel mapped over an axis of some arguments, compiled as one kernel.

`vmap(f, in_axes, out_axes, parallel)` returns a `BatchedKernel`: a `Kernel` whose Python
function is generated source (ember/frontend/batching.py) that loops over the batch and calls
`f` on views of the batched arguments, so `grad`, `jvp`, `vjp`, `ember build` and the disk
cache apply to it unchanged, and it compiles once per type signature, whatever the batch size.
The source is generated on first use (the core kernel is typed then), registered with
`linecache` so the frontend reads it like a file.

`vmap(grad(f))` / `vmap(value_and_grad(f))` returns a `BatchedDerivative`: the gradient of
`sum_b f(args_b)` with respect to batched copies of the `wrt` arguments, which is exactly one
gradient per batch element, in one compiled derivative; the per-element values come back
through an extra out-parameter. An unbatched `wrt` array the kernel only reads is not copied:
it is passed as one block repeated along a new axis 0 with stride 0 (`_shared`), which the
derivative entry accepts for it (driver/derivatives.py `Request.broadcast`), and only its
shadow, the per-example gradients, has a batch axis of its own; other unbatched `wrt`
arguments are copied to `(B, ...)`. After a first call through `Derivative`, positional calls
go straight to the derivative entry (`_Direct`).
`vmap(jvp(f))` is the `jvp` of the batched kernel, with per-element tangents.
"""

from __future__ import annotations

import hashlib
import inspect
import linecache
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import types as T
from ..driver.targets import TARGETS
from ..errors import CompileError
from ..frontend import batching
from ..frontend.batching import Lift, Operand, Result
from ..parallel import prange
from ..runtime.aotderived import batch_size
from ..runtime.derivcall import DerivativeCall
from . import pickling
from .autodiff import Derivative, _as_kernel
from .kernel import Kernel, _user_facing

Axes = int | None | Sequence[int | None]

__all__ = ["BatchedDerivative", "BatchedKernel", "vmap"]


@dataclass(frozen=True)
class _Spec:
    """What to map: one axis per parameter (None: unbatched), out axes, serial or parallel."""

    in_axes: tuple[int | None, ...]
    out_axes: int | tuple[int, ...]
    parallel: bool
    reduce: bool = False


def vmap(f: Any, in_axes: Axes = 0, out_axes: int | Sequence[int] = 0,
         parallel: bool = False) -> BatchedKernel | BatchedDerivative:
    """Map kernel `f` over an axis of its arguments as one compiled kernel (JAX's semantics):
    `in_axes` is an int for every parameter or one entry per parameter (None: not batched),
    `out_axes` an int or one per result; `parallel=True` runs the batch loop as a `prange`.
    `f` may be `grad(k)` or `value_and_grad(k)` (one gradient per batch element) or `jvp(k)`
    (one tangent per element)."""
    if isinstance(f, BatchedDerivative | Derivative):
        return BatchedDerivative(f, in_axes, out_axes, parallel)
    k = _as_kernel(f)
    return BatchedKernel(k, _spec(k, in_axes, out_axes, parallel))


def _spec(k: Kernel, in_axes: Axes, out_axes: Any, parallel: bool) -> _Spec:
    params = list(inspect.signature(k.py_func).parameters)
    label = f"vmap({k.__name__})"
    axes = _in_axes(label, in_axes, params)
    if isinstance(out_axes, list | tuple) and all(type(a) is int for a in out_axes):
        outs: int | tuple[int, ...] = tuple(out_axes)
    elif type(out_axes) is int:
        outs = out_axes
    else:
        raise TypeError(f"{label}: out_axes must be an int or a tuple of ints, "
                        f"not {out_axes!r}")
    return _Spec(axes, outs, bool(parallel))


def _in_axes(label: str, in_axes: Axes, params: list[str]) -> tuple[int | None, ...]:
    if in_axes is None or type(in_axes) is int:
        axes: tuple[int | None, ...] = (in_axes,) * len(params)
    elif isinstance(in_axes, list | tuple):
        axes = tuple(in_axes)
    else:
        raise TypeError(f"{label}: in_axes must be an int, None or a tuple of them, "
                        f"not {in_axes!r}")
    bad = [a for a in axes if a is not None and type(a) is not int]
    if bad:
        raise TypeError(f"{label}: in_axes entries must be ints or None, not {bad[0]!r}")
    if len(axes) != len(params):
        raise ValueError(f"{label}: in_axes has {len(axes)} entries but the kernel has "
                         f"{len(params)} parameters ({', '.join(params)})")
    if all(a is None for a in axes):
        raise ValueError(f"{label}: in_axes maps no parameter (every entry is None); "
                         "give at least one parameter an axis")
    return axes


def _placeholder(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("never called: a BatchedKernel compiles its generated function")


class BatchedKernel(Kernel):
    """`vmap(f)`: a `Kernel` whose function is generated on first use."""

    def __init__(self, core: Kernel, spec: _Spec) -> None:
        self.core = core
        self.spec = spec
        self._generated: tuple[Any, Lift, frozenset[str]] | None = None
        self._gen_lock = threading.Lock()
        prefix = "vmap_sum_" if spec.reduce else "vmap_"
        Kernel.__init__(self, _placeholder, core.options)
        self.__name__ = self.__qualname__ = prefix + core.__name__
        self.__doc__ = core.__doc__
        self.__module__ = core.__module__
        vars(self).pop("__wrapped__", None)

    @property
    def py_func(self) -> Any:
        return self._generate()[0]

    @py_func.setter
    def py_func(self, value: Any) -> None:
        """Kernel.__init__ sets the placeholder; the generated function replaces it."""

    @property
    def __ember_kernel__(self) -> Any:
        return self._generate()[0]

    @__ember_kernel__.setter
    def __ember_kernel__(self, value: Any) -> None:
        """As `py_func`."""

    @property
    def lift(self) -> Lift:
        return self._generate()[1]

    @property
    def written(self) -> frozenset[str]:
        """The parameters of the core kernel that it may write."""
        self._generate()
        assert self._generated is not None
        return self._generated[2]

    def _generate(self) -> tuple[Any, Lift]:
        with self._gen_lock:
            if self._generated is None:
                self._generated = _generate(self.core, self.spec, self.__name__)
        return self._generated[:2]

    def __repr__(self) -> str:
        return f"<ember.vmap of {self.core.__qualname__}>"

    def __reduce__(self) -> Any:
        return type(self), (self.core, self.spec)


def _generate(core: Kernel, spec: _Spec, name: str) -> tuple[Any, Lift, frozenset[str]]:
    from ..frontend import build_program

    label = f"vmap({core.__name__})"
    if not TARGETS[core.options.target].raises:
        raise CompileError(f"{label}: vmap builds kernels that check their batch sizes and "
                           f"raise, which target='{core.options.target}' kernels cannot; "
                           "vmap the CPU kernel, or write the batch as a prange loop")
    try:
        program = build_program(core.py_func)
    except Exception as err:
        raise _user_facing(err, core.__qualname__) from None
    fn = program.functions[program.entry]
    callee = "_core_" + core.__name__
    ret = _results(label, fn.ret, spec.out_axes)
    lift = Lift(name, label, callee, _operands(label, core, fn.params, spec.in_axes),
                ret[0], ret[1], spec.parallel, spec.reduce)
    batching.check_parallel(lift, fn.written, fn.span)
    if spec.reduce and (lift.results is None or not lift.single
                        or not _float_scalar(lift.results[0].core)):
        raise TypeError(f"vmap of grad({core.__name__}): the kernel must return one float "
                        f"scalar, not {fn.ret}")
    text = batching.source(lift)
    scope: dict[str, Any] = {"_np": np, "prange": prange, callee: core,
                             "__name__": core.__module__, **batching.param_types(lift)}
    file = f"<ember {name} {hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    linecache.cache[file] = (len(text), None, text.splitlines(True), file)
    exec(compile(text, file, "exec"), scope)  # noqa: S102 - our own generated source
    func = scope[name]
    func.__qualname__ = name
    return func, lift, frozenset(fn.written)


def _float_scalar(t: T.Type) -> bool:
    return isinstance(t, T.Scalar) and t.is_float


def _operands(label: str, core: Kernel, params: tuple[tuple[str, T.Type], ...],
              axes: tuple[int | None, ...]) -> tuple[Operand, ...]:
    sig = inspect.signature(core.py_func).parameters
    flat = [p for p, _ in params]
    if flat != list(sig):
        odd = [p for p in sig if p not in flat] or list(sig)
        raise CompileError(f"{label}: vmap maps kernels whose parameters are scalars and "
                           f"arrays; '{odd[0]}' of '{core.__name__}' is a tuple or Optional "
                           "parameter: pass its items as separate parameters")
    ops = []
    for (name, t), axis in zip(params, axes, strict=True):
        ndim = (t.ndim if isinstance(t, T.Array) else 0) + 1
        if axis is not None and not -ndim <= axis < ndim:
            raise ValueError(f"{label}: in_axes entry {axis} for '{name}' is out of range: "
                             f"its batched argument has {ndim} dimension(s)")
        if not isinstance(t, T.Scalar | T.Array):
            raise CompileError(f"{label}: parameter '{name}' of type {t} cannot be batched")
        ops.append(Operand(name, t, None if axis is None else axis % ndim,
                           _default(sig[name].default) if axis is None else None,
                           sig[name].kind == inspect.Parameter.KEYWORD_ONLY))
    return _defaults_last(tuple(ops))


def _default(value: Any) -> str | None:
    ok = value is not inspect.Parameter.empty and type(value) in (int, float, bool)
    return repr(value) if ok else None


def _defaults_last(ops: tuple[Operand, ...]) -> tuple[Operand, ...]:
    """Keep defaults only on a run of trailing positional parameters (Python's rule)."""
    out, keep = [], True
    for op in reversed(ops):
        if op.keyword_only:
            out.append(op)
            continue
        keep = keep and op.default is not None
        out.append(op if keep else replace(op, default=None))
    return tuple(reversed(out))


def _results(label: str, ret: T.Type, out_axes: int | tuple[int, ...]
             ) -> tuple[tuple[Result, ...] | None, bool]:
    if isinstance(ret, T.NoneType):
        return None, True
    items = ret.items if isinstance(ret, T.Tuple) else (ret,)
    axes = out_axes if isinstance(out_axes, tuple) else (out_axes,) * len(items)
    if len(axes) != len(items):
        raise ValueError(f"{label}: out_axes has {len(axes)} entries but the kernel returns "
                         f"{len(items)} value(s)")
    results = []
    for k, (t, axis) in enumerate(zip(items, axes, strict=True)):
        if not isinstance(t, T.Scalar | T.Array):
            raise CompileError(f"{label}: result {k} of type {t} cannot be batched")
        ndim = (t.ndim if isinstance(t, T.Array) else 0) + 1
        if not -ndim <= axis < ndim:
            raise ValueError(f"{label}: out_axes entry {axis} for result {k} is out of range: "
                             f"its batched result has {ndim} dimension(s)")
        results.append(Result(t, axis % ndim))
    return tuple(results), not isinstance(ret, T.Tuple)


@dataclass(frozen=True)
class _CallPlan:
    """What a `BatchedDerivative` call does around the compiled derivative, worked out once."""

    signature: inspect.Signature
    broadcast: tuple[tuple[int, np.dtype[Any]], ...]
    """Unbatched `wrt` arguments, copied to one per element: (index, dtype)."""
    values: np.dtype[Any]
    moves: tuple[int, ...]
    """Per gradient: the axis its batch has in the derivative's result."""
    keywords: tuple[str, ...]
    """The keyword-only parameters (the last ones)."""
    shared: frozenset[int] = frozenset()
    """Of `broadcast`: the arrays the kernel only reads, passed as one block repeated with
    stride 0 (`_shared`, no copy; the derivative's entry takes them so, driver/derivatives.py
    `Request.broadcast`); the others are copied (`_broadcast`)."""


class BatchedDerivative:
    """`vmap(grad(f))` / `vmap(value_and_grad(f))`: per-example gradients in one derivative;
    `vmap(jvp(f))`: the jvp of the batched kernel, one tangent per element (`tangents=`
    batched like their primals, along axis 0 where the primal is not batched)."""

    def __init__(self, d: Any, in_axes: Axes, out_axes: Any, parallel: bool) -> None:
        if not isinstance(d, Derivative) or d.kind not in _BATCHED_KINDS:
            raise TypeError("vmap batches kernels, grad(f), value_and_grad(f) and jvp(f); for "
                            "vjp, vmap the kernel and differentiate the result")
        if type(out_axes) is not int:
            raise TypeError(f"vmap({d.__name__}): out_axes must be one int for every "
                            f"gradient and value, not {out_axes!r}")
        self.derivative = d
        spec = _spec(d.kernel, in_axes, out_axes if d.kind == "jvp" else 0, parallel)
        self.in_axes = spec.in_axes
        self.out_axis = out_axes
        params = list(inspect.signature(d.kernel.py_func).parameters)
        wrt = [params.index(w) for w in d.wrt]
        axes = tuple(0 if a is None and i in wrt else a for i, a in enumerate(spec.in_axes))
        self.batched = BatchedKernel(d.kernel, replace(spec, in_axes=axes,
                                                       reduce=d.kind != "jvp"))
        self.__name__ = f"vmap_{d.__name__}"
        self._inner: Derivative | None = None
        self._plan: _CallPlan | None = None
        self._direct: _Direct | bool | None = None
        """The direct call (`_Direct`), False where there is none, None before the first
        call."""
        self._lock = threading.Lock()

    def _prepare(self) -> tuple[Derivative, _CallPlan]:
        with self._lock:
            if self._inner is None or self._plan is None:
                d = self.derivative
                plan = _call_plan(self.batched.lift, d, self.in_axes, self.batched.written)
                kind = "jvp" if d.kind == "jvp" else "grad"
                names = list(plan.signature.parameters)
                self._inner = Derivative(self.batched, kind, d.wrt[0] if d.single else d.wrt,
                                         d.request.outputs or None,
                                         (d.request.checkpoint, d.request.snapshots),
                                         tuple(names[i] for i in sorted(plan.shared)))
                self._plan = plan
        return self._inner, self._plan

    def __call__(self, *args: Any, tangents: Any = None, **kwargs: Any) -> Any:
        direct = self._direct
        if isinstance(direct, _Direct) and not kwargs and tangents is None:
            got = direct(args)
            if got is not None and direct.stacked:  # (each batch axis where out_axes puts it)
                return got[0] if self.derivative.kind == "grad" else (got[1], got[0])
            if got is not None:
                return self._gradients(got[0], got[1], direct.plan)
        inner, plan = self._inner, self._plan
        if inner is None or plan is None:
            inner, plan = self._prepare()
        values = list(args)
        if kwargs or len(args) != len(plan.signature.parameters):
            bound = plan.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = list(bound.arguments.values())
        size = batch_size(self.derivative.kernel.__name__, list(plan.signature.parameters),
                           values, self.in_axes)
        for i, dtype in plan.broadcast:
            values[i] = _broadcast(values[i], dtype, size)
        split = len(values) - len(plan.keywords)
        keywords = dict(zip(plan.keywords, values[split:], strict=True))
        if self.derivative.kind == "jvp":
            return inner(*values[:split], tangents=tangents, **keywords)
        per = np.empty(size, plan.values)
        grads = inner(*values[:split], per, **keywords)
        if self._direct is None:
            self._direct = _direct(self, inner, plan, [*values[:split], per, *values[split:]])
        return self._gradients(grads, per, plan)

    def _gradients(self, grads: Any, per: Any, plan: _CallPlan) -> Any:
        many = isinstance(grads, tuple)
        moved = tuple(g if a == self.out_axis else np.moveaxis(g, a, self.out_axis)
                      for g, a in zip(grads if many else (grads,), plan.moves, strict=True))
        result = moved if many else moved[0]
        if self.derivative.kind == "grad":
            return result
        return per, result  # one value per element: the batch is its only axis

    def __repr__(self) -> str:
        return f"<ember.vmap of {self.derivative.__name__}>"

    def __reduce__(self) -> Any:
        return pickling.reduce_batched_derivative(self)

    __copy__ = __deepcopy__ = pickling.itself


_BATCHED_KINDS = ("grad", "value_and_grad", "jvp")


def _call_plan(lift: Lift, d: Derivative, in_axes: tuple[int | None, ...],
               written: frozenset[str]) -> _CallPlan:
    ops = lift.operands
    broadcast = tuple((i, _dtype(op.core).np_dtype) for i, op in enumerate(ops)
                      if op.name in d.wrt and in_axes[i] is None)
    shared = frozenset(i for i, _ in broadcast if isinstance(ops[i].core, T.Array)
                       and ops[i].name not in written and d.kind != "jvp")
    axes = {op.name: op.axis or 0 for op in ops}
    return _CallPlan(inspect.signature(d.kernel.py_func), broadcast,
                     _dtype(lift.results[0].core).np_dtype if lift.results else np.dtype(float),
                     tuple(axes[w] for w in d.wrt),
                     tuple(op.name for op in ops if op.keyword_only), shared)


def _direct(b: BatchedDerivative, inner: Derivative, plan: _CallPlan,
            args: list[Any]) -> _Direct | bool:
    """The direct call of `b` (False where it has none: no shared argument, keyword-only
    parameters, or a derivative entry other than shadows in and gradients out)."""
    if not plan.shared or plan.keywords:
        return False
    call = inner.call_path(tuple(args), {})
    if not isinstance(call, DerivativeCall):
        return False
    info = call.info
    if info.loops or info.groups or info.kind != "grad" or any(
            a != "dup" for n, a in info.activities if n in info.wrt):
        return False
    return _Direct(plan, call, b.in_axes, all(m == b.out_axis for m in plan.moves))


class _Direct:
    """A call with positional arguments only, straight to the derivative entry: arrays the
    kernel only reads and the gradient is taken for without a batch axis are passed as
    stride-0 views (`_shared`), a zeroed shadow per duplicated parameter, the seed 1.0; the
    gradients are the shadows. (`Derivative`'s C-dispatcher path would copy the views to
    contiguous arrays.) Anything unusual (another type, a non-contiguous array, differing
    batch sizes) gives None, and the caller takes the general path, which raises the errors."""

    def __init__(self, plan: _CallPlan, call: DerivativeCall,
                 in_axes: tuple[int | None, ...], stacked: bool) -> None:
        info = call.info
        self.plan, self.main, self.info, self.stacked = plan, call.main, info, stacked
        self.count = len(plan.signature.parameters)
        self.batched = tuple((i, a) for i, a in enumerate(in_axes) if a is not None)
        copied = dict(plan.broadcast)
        self.roles: tuple[tuple[int, Any], ...] = tuple(
            (0, None) if i not in copied else (1 if i in plan.shared else 2, copied[i])
            for i in range(self.count + 1))  # (+ the values buffer)
        self.dups = tuple(a == "dup" for _, a in info.activities)
        shadowed = [n for n, a in info.activities if a == "dup"]
        self.picks = tuple(shadowed.index(n) for n in info.wrt)
        self.seed = (1.0,) if info.has_result else ()

    def _size(self, args: tuple[Any, ...]) -> int:
        """The batch size of `args`, -1 if not all batched arguments are arrays of one."""
        size = -1
        for i, axis in self.batched:
            value = args[i]
            if type(value) is not np.ndarray or not -value.ndim <= axis < value.ndim:
                return -1
            if size != value.shape[axis]:
                if size >= 0:
                    return -1
                size = value.shape[axis]
        return size

    def __call__(self, args: tuple[Any, ...]) -> tuple[Any, np.ndarray] | None:
        """(the gradients, the per-element values), or None."""
        size = self._size(args) if len(args) == self.count else -1
        if size < 0:
            return None
        per = np.empty(size, self.plan.values)
        entry: list[Any] = []
        shadows = []
        for value, (role, dtype), dup in zip((*args, per), self.roles, self.dups, strict=True):
            if role:
                value = _shared(value, dtype, size) if role == 1 \
                    else _broadcast(value, dtype, size)
            elif isinstance(value, np.ndarray) and not value.flags.c_contiguous:
                return None
            entry.append(value)
            if dup:
                if not isinstance(value, np.ndarray):
                    return None
                shadow = np.zeros(value.shape, value.dtype)
                shadows.append(shadow)
                entry.append(shadow)
        self.main(*entry, *self.seed)
        return self.info.regroup([shadows[k] for k in self.picks]), per


def _dtype(t: T.Type) -> T.Scalar:
    found = t.dtype if isinstance(t, T.Array) else t
    assert isinstance(found, T.Scalar)
    return found


def _shared(value: Any, dtype: np.dtype[Any], size: int) -> Any:
    """An unbatched read-only `wrt` array as `size` elements along a new axis 0 of stride 0
    over one C-contiguous block (C-order strides: what the entry's thunk accepts), no copy."""
    item = value if type(value) is np.ndarray and value.dtype == dtype \
        else np.asarray(value, dtype=dtype)
    if not item.flags.c_contiguous:
        item = np.ascontiguousarray(item)
    if item.ndim == 0 or item.size == 0:
        return _broadcast(item, dtype, size)
    strides = item.strides
    if 1 in item.shape:  # (any stride: C-order ones for the thunk's check)
        steps, step = [], item.itemsize
        for n in reversed(item.shape):
            steps.append(step)
            step *= n
        strides = tuple(reversed(steps))
    return np.ndarray((size, *item.shape), dtype, item, 0, (0, *strides))


def _broadcast(value: Any, dtype: np.dtype[Any], size: int) -> Any:
    """`size` copies of an unbatched `wrt` argument, stacked along a new axis 0."""
    item = np.asarray(value, dtype=dtype)
    out = np.empty((size, *item.shape), dtype)
    out[...] = item
    return out
