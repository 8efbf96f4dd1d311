"""`check_grad`: Enzyme gradients against central finite differences (like JAX's check_grads
and Warp's gradcheck). Every evaluation runs the kernel on fresh copies of all arguments, since
kernels may mutate them. Kernels without a float result are checked through `vjp` with random
cotangents on their `outputs`: the scalar is sum(cotangent * output).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..driver.derivatives import RETURN
from .autodiff import Derivative, _as_kernel, _names, grad, vjp
from .kernel import Kernel


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences; the message names the worst component."""


_DEFAULTS = {np.dtype(np.float64): (1e-6, 1e-5, 1e-7), np.dtype(np.float32): (1e-2, 3e-2, 1e-2)}


def check_grad(f: Any, *args: Any, wrt: Any = None, outputs: Any = None,
               eps: float | None = None, rtol: float | None = None, atol: float | None = None,
               seed: int = 0) -> None:
    """Raise GradientCheckError unless the gradient of `f` at `args` matches finite
    differences to `rtol`/`atol` (defaults depend on the dtype: f32 needs looser ones)."""
    k = _as_kernel(f)
    names, _ = _names(k, wrt)
    params = list(_signature(k))
    outs = _outputs(k, args, params, outputs)
    rng = np.random.default_rng(seed)
    cot = {o: _random_like(rng, args[params.index(o)] if o != RETURN else 0.0) for o in outs}
    analytic = _analytic(k, names, outs, cot, args)
    loss = _Loss(k, params, outs, cot)
    for name, value in zip(names, analytic, strict=True):
        x = args[params.index(name)]
        e, r, a = _tolerances(x, eps, rtol, atol)
        numeric = _finite_differences(loss, args, params.index(name), e)
        _compare(k.__name__, name, np.asarray(value), numeric, r, a)


def _signature(k: Kernel) -> list[str]:
    import inspect

    return list(inspect.signature(k.py_func).parameters)


def _outputs(k: Kernel, args: tuple[Any, ...], params: list[str],
             outputs: Any) -> tuple[str, ...]:
    if outputs is not None:
        return (outputs,) if isinstance(outputs, str) else tuple(outputs)
    result = k(*copy.deepcopy(args))
    if isinstance(result, float | np.floating):
        return ()
    raise TypeError(f"'{k.__name__}' has no float result; pass outputs=... naming the array "
                    "parameters it writes")


def _random_like(rng: np.random.Generator, value: object) -> np.ndarray | float:
    if isinstance(value, np.ndarray):
        shape: tuple[int, ...] = value.shape
        return rng.standard_normal(shape).astype(value.dtype)
    return float(rng.standard_normal())


def _analytic(k: Kernel, names: tuple[str, ...], outs: tuple[str, ...], cot: dict[str, Any],
              args: tuple[Any, ...]) -> list[Any]:
    fresh = copy.deepcopy(args)
    if not outs:
        result = grad(k, wrt=names)(*fresh)
    else:
        d: Derivative = vjp(k, wrt=names, outputs=outs)
        result = d(*fresh, cotangents=tuple(cot[o] for o in outs))
    return list(result) if isinstance(result, tuple) else [result]


class _Loss:
    """The scalar whose gradient is checked: the result, or sum(cotangent * outputs)."""

    def __init__(self, k: Kernel, params: list[str], outs: tuple[str, ...],
                 cot: dict[str, Any]) -> None:
        self.k, self.params, self.outs, self.cot = k, params, outs, cot

    def __call__(self, args: list[Any]) -> float:
        result = self.k(*args)
        if not self.outs:
            return float(result)
        total = 0.0
        for o in self.outs:
            value = result if o == RETURN else args[self.params.index(o)]
            total += float(np.sum(np.asarray(self.cot[o], dtype=np.float64) *
                                  np.asarray(value, dtype=np.float64)))
        return total


def _tolerances(x: Any, eps: Any, rtol: Any, atol: Any) -> tuple[float, float, float]:
    dtype = x.dtype if isinstance(x, np.ndarray | np.floating) else np.dtype(np.float64)
    e, r, a = _DEFAULTS.get(np.dtype(dtype), _DEFAULTS[np.dtype(np.float64)])
    return (eps or e, rtol or r, atol or a)


def _finite_differences(loss: _Loss, args: tuple[Any, ...], index: int, eps: float) -> np.ndarray:
    x = args[index]
    shape = x.shape if isinstance(x, np.ndarray) else ()
    out = np.zeros(shape)
    for pos in np.ndindex(*shape):
        values = []
        for sign in (1.0, -1.0):
            fresh = list(copy.deepcopy(args))
            base = float(x[pos]) if shape else float(x)
            h = eps * max(1.0, abs(base))
            if shape:
                fresh[index][pos] = base + sign * h
            else:
                fresh[index] = type(x)(base + sign * h) if isinstance(x, np.floating) else base + sign * h
            values.append(loss(fresh))
        out[pos] = (values[0] - values[1]) / (2 * h)
    return out


def _compare(kernel: str, name: str, analytic: np.ndarray, numeric: np.ndarray,
             rtol: float, atol: float) -> None:
    if analytic.shape != numeric.shape:
        raise GradientCheckError(f"gradient of '{kernel}' w.r.t. '{name}' has shape "
                                 f"{analytic.shape}, expected {numeric.shape}")
    a = analytic.astype(np.float64)
    allowed = atol + rtol * np.maximum(np.abs(a), np.abs(numeric))
    excess = np.abs(a - numeric) / allowed
    bad = ~(excess <= 1.0)
    if not bad.any():
        return
    flat = int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess))) if a.shape else 0
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape)) if a.shape else ()
    where = f"'{name}'{list(worst) if a.shape else ''}"
    got, want = float(a[worst]), float(numeric[worst])
    raise GradientCheckError(
        f"gradient check failed for '{kernel}' w.r.t. {where}: analytic {got!r}, "
        f"finite difference {want!r} (|difference| {abs(got - want):.3g}, allowed "
        f"{float(allowed[worst]):.3g}); {int(bad.sum())} of {a.size} component(s) outside the "
        "tolerance")
