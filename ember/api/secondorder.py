"""Second-order derivatives: `hvp`, `hessian`, and the Jacobian of a `grad` (for `jacfwd`).

`hvp(f, wrt=...)(*args, tangents=(v, ...))` is H·v for a kernel `f` returning a float scalar,
in one forward-over-reverse pass (driver/secondorder.py: Enzyme's forward mode over the
reverse derivative), shaped like the `wrt` parameters (a tuple for several). `hessian(f,
wrt=...)(*args)` is one such pass per unit direction, into arrays shaped like JAX's
(`x.shape + x.shape`; for several `wrt`, a nested tuple of blocks H[i][j]), with the
arguments of the compiled entry reused across the passes. `jacfwd_of_derivative(grad(f, wrt=a),
wrt=b)` is the same for the cross blocks d(grad_a f)/db (api/jacobians.py calls it).

Like `grad`, a call has the kernel's side effects on its arguments; `hessian` restores the
arrays the kernel writes before each pass, so every column sees the caller's values.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import types as T
from ..binding import Binding, plain
from ..driver.derivatives import shadow_name
from ..driver.secondorder import CompiledSecond, SecondPlan, SecondRequest, tangent_name
from . import pickling
from .autodiff import Derivative, Wrt, _as_kernel, _names
from .kernel import Kernel, _user_facing


class SecondOrder:
    """The compiled gradients of the parameters `out` of kernel `k`, differentiated along the
    parameters `dirs` (compiled on first use, cached on disk; one build per pattern of
    Optional parameters that are None, as for `grad`)."""

    def __init__(self, k: Kernel, out: tuple[str, ...], dirs: tuple[str, ...],
                 name: str) -> None:
        if k.options.target != "cpu":
            raise TypeError(f"{name}(): second derivatives are computed for CPU kernels only "
                            f"(this one has target={k.options.target!r})")
        self.kernel, self.name = k, name
        self.request = SecondRequest(out, dirs)
        self._builds: dict[tuple[str, ...] | None, CompiledSecond] = {}
        self._binding: Binding | None = None
        self._lock = threading.Lock()

    def compiled(self, none: tuple[str, ...] | None = None) -> CompiledSecond:
        """The build where the Optional parameters `none` are None (None: the defaults')."""
        with self._lock:
            if none not in self._builds:
                from ..driver.secondorder import compile_second

                options = self.kernel.options if none is None else dataclasses.replace(
                    self.kernel.options, none=none)
                try:
                    self._builds[none] = compile_second(self.kernel.py_func, self.request,
                                                        options)
                except TypeError:
                    raise
                except Exception as err:
                    raise _user_facing(err, self.name) from None
            return self._builds[none]

    def _pattern(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, ...] | None:
        """Which Optional parameters are None in this call (None: as by default)."""
        if self._binding is None:
            from ..frontend.params import binding_of
            from ..frontend.source import load_source

            self._binding = binding_of(load_source(self.kernel.py_func))
        b = self._binding
        try:
            pattern = b.pattern(b.bind(args, kwargs))
        except TypeError:  # the build's binding raises it, naming this derivative
            return None
        return None if pattern == b.default_pattern() else pattern

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Bound:
        """The build for this call and its flat primal arguments by name (C-contiguous; with
        the while loops' trip counts), and the written ones given as other views."""
        c = self.compiled(self._pattern(args, kwargs))
        names = [n for n, _, _ in c.plan.first.activities][:len(c.plan.first.activities) -
                                                             (1 if c.compiled.loops else 0)]
        b = c.plan.first.binding or plain(self.name, names)
        given = dict(zip(names, b.flatten(b.bind(args, kwargs)), strict=True))
        flat = {n: np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v
                for n, v in given.items()}
        views = {n: v for n, v in given.items()
                 if flat[n] is not v and n in c.plan.first.written}
        if c.compiled.loops:
            flat["__ember_counts"] = _trip_counts(c, flat)
        return Bound(c, flat, views)


@dataclasses.dataclass(frozen=True)
class Bound:
    """One call's build and arguments (`SecondOrder.bind`)."""

    c: CompiledSecond
    flat: dict[str, Any]
    views: dict[str, np.ndarray]

    def entry(self, name: str, restore: bool = False) -> Entry:
        return Entry(self.c, self.flat, name, restore)

    def write_back(self) -> None:
        """The kernel's writes into the caller's non-contiguous views."""
        for name, view in self.views.items():
            view[...] = self.flat[name]


def _trip_counts(c: CompiledSecond, flat: dict[str, Any]) -> np.ndarray:
    """Run the primal on copies of the arrays it writes, recording while-loop trips."""
    counts = np.zeros(c.compiled.loops, dtype=np.int64)
    count = c.compiled.count
    assert count is not None
    written = count.signature.written
    count.entry(*(np.array(v, copy=True) if n in written and isinstance(v, np.ndarray)
                  else v for n, v in flat.items()), counts)
    return counts


class Entry:
    """The arguments of one second-order entry call (reused across `hessian`'s passes):
    primal values, zeroed shadows, tangents; `run` calls it and returns H·v per `out`."""

    def __init__(self, c: CompiledSecond, flat: dict[str, Any], name: str,
                 restore: bool) -> None:
        self.c, self.plan, self.name = c, c.plan, name
        self.args: list[Any] = []
        self.at: dict[str, int] = {}
        self.written = {n: np.array(v, copy=True) for n, v in flat.items()
                        if restore and n in self.plan.first.written
                        and isinstance(v, np.ndarray)}
        for name_, t, act in self.plan.args:
            value = 1.0 if name_ == "__seed" else flat.get(name_)
            if name_.startswith(shadow_name("")):
                value = _zeros(flat[name_[len(shadow_name("")):]])
            self._add(name_, value)
            if act == "dup":
                self._add(tangent_name(name_), _zeros(value) if isinstance(t, T.Array) else 0.0)

    def _add(self, name: str, value: Any) -> None:
        self.at[name] = len(self.args)
        self.args.append(value)

    def reset(self) -> None:
        """Zero every shadow and tangent, restore the arrays the kernel writes."""
        for name, k in self.at.items():
            if name in self.written:
                np.copyto(self.args[k], self.written[name])
            elif name.startswith(("__t_", "__d_")):
                if isinstance(self.args[k], np.ndarray):
                    self.args[k].fill(0)
                else:
                    self.args[k] = 0.0

    def direction(self, name: str, value: Any) -> None:
        """Set the tangent of parameter `name` (shape-checked)."""
        k = self.at[tangent_name(name)]
        target = self.args[k]
        if not isinstance(target, np.ndarray):
            self.args[k] = float(value)
            return
        v = np.asarray(value)
        if v.shape != target.shape:
            raise ValueError(f"{self.name}(): the tangent for '{name}' has shape {v.shape}, "
                             f"expected {target.shape}")
        np.copyto(target, v, casting="same_kind")

    def run(self) -> list[Any]:
        """Call the entry: the tangent of each `out` gradient (arrays are the buffers)."""
        results = self.c.compiled.main.entry(*self.args) or ()
        scalars = iter(results)
        out: dict[str, Any] = {n: next(scalars) for n, _, a in self.plan.first.activities
                               if a == "active"}
        return [out[n] if n in out else self.args[self.at[tangent_name(shadow_name(n))]]
                for n in self.plan.request.out]


def _zeros(value: Any) -> Any:
    if not isinstance(value, np.ndarray):
        return value  # the entry rejects the primal before it with the kernel's error
    return np.zeros(value.shape, dtype=value.dtype)


def _regroup(values: Sequence[Any], single: bool) -> Any:
    return values[0] if single else tuple(values)


class HVP:
    """`hvp(f, wrt=...)`: callable as `(*args, tangents=(v, ...))`, returns H·v."""

    def __init__(self, k: Kernel, wrt: Wrt) -> None:
        names, self.single = _names(k, wrt)
        self.__name__ = f"hvp_{k.__name__}"
        self.second = SecondOrder(k, names, names, self.__name__)

    def __reduce__(self) -> Any:
        return pickling.reduce_hvp(self)

    __copy__ = __deepcopy__ = pickling.itself

    def __call__(self, *args: Any, tangents: Any = None, **kwargs: Any) -> Any:
        names = self.second.request.dirs
        if self.single and not isinstance(tangents, tuple | list):
            tangents = (tangents,) if tangents is not None else None
        if tangents is None or len(tangents) != len(names):
            raise TypeError(f"{self.__name__}() needs tangents=(...) with one value for each "
                            f"of {', '.join(names)}")
        bound = self.second.bind(args, kwargs)
        e = bound.entry(self.__name__)
        for name, v in zip(names, tangents, strict=True):
            e.direction(name, v)
        hv = [_fresh(v) for v in e.run()]
        bound.write_back()
        return _regroup(hv, self.single)


def _fresh(value: Any) -> Any:
    return value if isinstance(value, np.ndarray) else float(value)


class Jacobian:
    """The Jacobian of the gradients of `out` along `dirs` (one H·v per unit direction),
    nested like JAX's: [out][dir], a single name's level dropped."""

    def __init__(self, second: SecondOrder, singles: tuple[bool, bool]) -> None:
        self.second, self.singles = second, singles
        self.__name__ = second.name

    def __reduce__(self) -> Any:
        return pickling.reduce_second(self)

    __copy__ = __deepcopy__ = pickling.itself

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self.second.bind(args, kwargs)
        flat = bound.flat
        e = bound.entry(self.__name__, restore=True)
        req = self.second.request
        shapes = {n: np.shape(flat[n]) for n in (*req.out, *req.dirs)}
        dtypes = {n: _dtype(e.plan, n) for n in req.out}
        blocks = [[np.zeros(shapes[o] + shapes[d], dtype=dtypes[o]) for d in req.dirs]
                  for o in req.out]
        for j, d in enumerate(req.dirs):
            for k in np.ndindex(shapes[d]):
                e.reset()
                e.direction(d, _unit(shapes[d], k))
                for i, value in enumerate(e.run()):
                    blocks[i][j][(Ellipsis, *k)] = value
        bound.write_back()
        rows = [_regroup([_block(b) for b in row], self.singles[1]) for row in blocks]
        return _regroup(rows, self.singles[0])


def _unit(shape: tuple[int, ...], k: tuple[int, ...]) -> Any:
    if not shape:
        return 1.0
    v = np.zeros(shape)
    v[k] = 1.0
    return v


def _dtype(sp: SecondPlan, name: str) -> np.dtype:
    t = dict((n, t) for n, t, _ in sp.first.activities)[name]
    scalar = t.dtype if isinstance(t, T.Array) else t
    assert isinstance(scalar, T.Scalar)
    return scalar.np_dtype


def _block(b: np.ndarray) -> Any:
    return float(b) if b.ndim == 0 else b


def hvp(f: Any = None, wrt: Wrt = None) -> Any:
    """`hvp(f, wrt=...)`: the Hessian-vector product of kernel `f` (a float scalar result)
    with respect to `wrt` (default: the first parameter); call it with `tangents=(v, ...)`.
    Also usable as `@hvp` or `@hvp(wrt=...)`."""
    if f is None:
        return lambda g: HVP(_as_kernel(g), wrt)
    return HVP(_as_kernel(f), wrt)


def hessian(f: Any = None, wrt: Wrt = None) -> Any:
    """`hessian(f, wrt=...)`: the Hessian of kernel `f` (a float scalar result) with respect
    to `wrt`, shaped like jax.hessian's. Also usable as `@hessian` or `@hessian(wrt=...)`."""
    if f is None:
        return lambda g: hessian(g, wrt)
    k = _as_kernel(f)
    names, single = _names(k, wrt)
    return Jacobian(SecondOrder(k, names, names, f"hessian_{k.__name__}"), (single, single))


def jacfwd_of_derivative(d: Derivative, wrt: Wrt = None) -> Callable[..., Any]:
    """The Jacobian of `d` (a `grad`) with respect to `wrt` (default: the first parameter),
    by forward-over-reverse; `jacfwd(grad(f)) == hessian(f)`."""
    if d.kind != "grad" or d.request.checkpoint is not None:
        raise TypeError(f"jacfwd of {d.__name__}: only a grad (without checkpoint=) can be "
                        "differentiated again")
    dirs, single = _names(d.kernel, wrt)
    return Jacobian(SecondOrder(d.kernel, d.wrt, dirs, f"jacfwd_{d.__name__}"),
                    (d.single, single))
