"""Pickling of the user objects (issue 17): kernels travel to other processes like functions.

Stage: api. Input: a `Kernel`, a derivative, Jacobian, vmap or ufunc object. Output: the
`__reduce__` tuple `pickle` (and cloudpickle, multiprocessing, concurrent.futures, Dask) writes.

- **By reference** when the kernel is reachable as `module.qualname` of an imported module
  other than `__main__` (`byvalue.reference`): the pickle holds the two names, as for a
  function; the receiving process imports the module, whose kernel compiles on its first call
  or loads from the disk cache. A module registered with `cloudpickle.register_pickle_by_value`
  sends its kernels by value, as cloudpickle sends its functions.
- **By value** otherwise (`__main__` of a script, `python -c` or a notebook; kernels defined
  in a function or not bound to their name): a shell of the kernel's class filled on
  unpickling from its function as a `FrozenFunction` (api/byvalue.py: source, file, first
  line, flags and the frozen values of the free names it reads), its options and its custom
  jvp rule.
- Derivatives, Jacobians, vmap results pickle as their transform and arguments, the kernel
  pickled as above. Nothing compiled is ever pickled: the first call compiles or loads.

`copy.copy`/`copy.deepcopy` return the object itself (`itself`): these objects are immutable,
like functions. For other classes holding kernels or functions (api/dynufunc.py):
`reduce_kernel(k)` for a `Kernel` subclass constructed as `cls(func, options)`;
`portable(func)`, the function itself where pickle finds it by name, else `by_value(func)`;
`install_ufunc_reducer()` (a `copyreg` entry for `numpy.ufunc`): an Ember ufunc that is not
importable by name pickles as its `__ember_ufunc__` spec, rebuilt on unpickling; other ufuncs
pickle as NumPy does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .byvalue import FrozenFunction, by_value, freeze, is_kernel, reference, thaw


def itself(obj: Any, memo: Any = None) -> Any:
    """`__copy__` and `__deepcopy__` of an immutable object: the object."""
    return obj


@dataclass(frozen=True)
class _KernelState:
    """What a kernel pickled by value carries: its function, options and custom jvp rule."""

    function: FrozenFunction
    options: Any
    rule: Any = None
    """The custom_jvp rule: a kernel (pickled as itself), a FrozenFunction, or None."""


def reduce_kernel(k: Any) -> str | tuple[Any, ...]:
    """`Kernel.__reduce__`: the kernel's qualified name where it is reachable by reference,
    else a shell of its class filled (state setter) by its function, options and rule; the
    shell is memoized before the state, so a kernel reading itself pickles too."""
    ref = reference(k)
    if ref is not None:
        return ref
    return (_shell, (type(k),), _KernelState(freeze(k.py_func), k.options, _rule(k)),
            None, None, _fill)


def _rule(k: Any) -> Any:
    from ..frontend.customrules import RULE

    func = getattr(k.py_func, RULE, None)
    if func is None:
        return None
    rule = getattr(k, "jvp", None)
    return rule if getattr(rule, "py_func", None) is func else freeze(func)


def _shell(cls: Any) -> Any:
    return cls.__new__(cls)


def _fill(k: Any, state: _KernelState) -> None:
    from ..frontend.customrules import RULE

    func = thaw(state.function)
    type(k).__init__(k, func, state.options)  # Kernel's (its subclasses' own reduce differs)
    if isinstance(state.rule, FrozenFunction):
        setattr(func, RULE, thaw(state.rule))
    elif state.rule is not None:
        setattr(func, RULE, state.rule.py_func)
        k.jvp = state.rule


def reduce_derivative(d: Any) -> tuple[Any, ...]:
    """A `Derivative` as its class and arguments (kernel, kind, wrt, outputs, checkpoint),
    its request restored whole (a Jacobian's derivative marks it)."""
    r = d.request
    return type(d), (d.kernel, d.kind, d.wrt[0] if d.single else d.wrt, r.outputs or None,
                     (r.checkpoint, r.snapshots)), {"request": r}


def reduce_jacobian(j: Any) -> tuple[Any, ...]:
    """A `jacfwd`/`jacrev` Jacobian as its transform's arguments."""
    d = j.derivative
    outs = d.request.outputs
    outputs = None if not outs else outs[0] if j.single_output else outs
    name = "jacfwd" if d.kind == "jvp" else "jacrev"
    return type(j), (j.kernel, name, d.wrt[0] if d.single else d.wrt, outputs)


def reduce_hvp(h: Any) -> tuple[Any, ...]:
    dirs = h.second.request.dirs
    return type(h), (h.second.kernel, dirs[0] if h.single else dirs)


def reduce_second(j: Any) -> tuple[Any, ...]:
    """A second-order Jacobian (hessian, jacfwd of grad) as its SecondOrder's arguments."""
    s = j.second
    return _second_jacobian, (type(j), type(s), s.kernel, s.request.out, s.request.dirs,
                              s.name, j.singles)


def _second_jacobian(cls: Any, second: Any, k: Any, out: tuple[str, ...],
                     dirs: tuple[str, ...], name: str, singles: tuple[bool, bool]) -> Any:
    return cls(second(k, out, dirs, name), singles)


def reduce_batched_derivative(b: Any) -> tuple[Any, ...]:
    """`vmap(grad(f))` as vmap's arguments."""
    return type(b), (b.derivative, b.in_axes, b.out_axis, b.batched.spec.parallel)


def portable(func: Any) -> Any:
    """`func` as it should go into a pickle: itself where pickle finds it by reference (or
    it is a kernel, which pickles itself), else `by_value(func)`."""
    if is_kernel(func) or reference(func) is not None:
        return func
    return by_value(func)


_NUMPY_UFUNC_REDUCE: Any = None


def install_ufunc_reducer() -> None:
    """Make pickle send an Ember `numpy.ufunc` (one carrying its `__ember_ufunc__` spec) that
    is not importable by name by value: its spec, the function made `portable`, rebuilt by
    `spec.build()` on unpickling (compiled, or loaded from the disk cache). Any other ufunc
    pickles as NumPy pickles it (by name). Idempotent; api/ufuncbuild.py calls it."""
    import copyreg

    global _NUMPY_UFUNC_REDUCE
    current = copyreg.dispatch_table.get(np.ufunc)
    if current is not _reduce_ufunc:
        _NUMPY_UFUNC_REDUCE = current
        copyreg.pickle(np.ufunc, _reduce_ufunc)


def _reduce_ufunc(u: Any) -> Any:
    """An Ember ufunc by value (its spec, rebuilt by `_build_ufunc`) unless NumPy's by-name
    reduction finds it: reachable by `reference` and as `module.<its name>`."""
    spec = getattr(u, "__ember_ufunc__", None)
    module = sys.modules.get(str(getattr(u, "__module__", None)))
    named = reference(u) is not None and getattr(module, u.__name__, None) is u
    if spec is None or named:
        return _NUMPY_UFUNC_REDUCE(u) if _NUMPY_UFUNC_REDUCE is not None else u.__name__
    return _build_ufunc, (replace(spec, func=portable(spec.func)),)


def _build_ufunc(spec: Any) -> Any:
    return spec.build()
