"""Build input for tests/aot/test_aot_issue16.py (not a test file): module-level Jacobians
and `jvp`/`vjp` of kernels returning arrays or tuples, which `ember build` exports.

field    array result, loop            pair     tuple result (array, float)
energy   float result, local array     spread   writes an out-parameter, calls a kernel
settle   a `while` loop, a default     field32  float32
relax    `while` + default (grad)      checked  raises
_plain   not exported itself: the library adds `jac_plain_primal` for the loader
inplace  a parameter both written and differentiated
both     an out-parameter and a result, a tuple parameter
quad     2-D input (Hessian blocks of 4 dimensions)
guard    raises (hvp)                  smooth   writes an array (hessian)
and hvp/hessian objects (also of `relax`), a vmap-ped kernel and per-example gradients.
"""

import math

import numpy as np

from ember import (
    f32,
    f64,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jvp,
    kernel,
    value_and_grad,
    vjp,
    vmap,
)


@kernel
def field(x: f64[:], s: float) -> f64[:]:
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = s * x[i] * x[i] + math.sin(x[(i + 1) % n])
    return out


@kernel
def pair(x: f64[:], s: float) -> tuple[f64[:], float]:
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            total += s * x[i]
        else:
            total += math.exp(x[i])
    return np.cos(x) * s, total


@kernel
def energy(x: f64[:], k: float) -> float:
    work = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        work[i] = math.tanh(k * x[i])
    e = 0.0
    for i in range(x.shape[0]):
        e += work[i] * work[(i + 1) % x.shape[0]]
    return e


@kernel
def weight(a: float, b: float) -> float:
    return a * math.sin(b) + b * b


@kernel
def spread(x: f64[:], w: float, out: f64[:]) -> None:
    for i in range(out.shape[0]):
        out[i] += weight(w, x[i % x.shape[0]]) * x[(i + 1) % x.shape[0]]


@kernel
def settle(x: f64[:], s: float = 1.0) -> f64[:]:
    t = 0.5
    k = 0
    while t < 6.0:
        t = t * 1.3 + s * x[k % x.shape[0]] ** 2
        k += 1
    return x * t


@kernel
def field32(x: f32[:], s: f32) -> f32[:]:
    out = np.empty(x.shape[0], dtype=np.float32)
    for i in range(x.shape[0]):
        out[i] = s * x[i] * x[i] + x[0]
    return out


jac_field = jacfwd(field, wrt=("x", "s"))
jacr_field = jacrev(field, wrt=("x", "s"))
jac_pair = jacrev(pair, wrt=("x", "s"))
jacf_pair = jacfwd(pair, wrt="x")
jac_energy = jacrev(energy, wrt=("x", "k"))
jac_spread = jacfwd(spread, wrt=("x", "w"), outputs="out")
jacr_spread = jacrev(spread, wrt="x", outputs="out")
jac_settle = jacrev(settle, wrt=("x", "s"))
jac_field32 = jacfwd(field32, wrt=("x", "s"))
tan_field = jvp(field, wrt=("x", "s"))
cot_pair = vjp(pair, wrt=("x", "s"))
cot_settle = vjp(settle)
grad_energy = grad(energy, wrt="x")


@kernel
def relax(x: f64[:], s: float = 1.0) -> float:
    t = 0.5
    k = 0
    while t < 6.0:
        t = t * 1.3 + s * x[k % x.shape[0]] ** 2
        k += 1
    return t * x[0]


@kernel
def checked(x: f64[:], s: float) -> f64[:]:
    if s < 0.0:
        raise ValueError("s must not be negative")
    return np.exp(x * s)


def _plain(x: f64[:]) -> tuple[float, f64[:, :]]:
    out = np.empty((2, x.shape[0]))
    for i in range(x.shape[0]):
        out[0, i] = x[i] * x[0]
        out[1, i] = math.cos(x[i])
    return np.sum(x * x), out


grad_relax = grad(relax, wrt=("x", "s"))
jac_checked = jacrev(checked)
jac_plain = jacfwd(_plain)  # its kernel is not exported: the library adds jac_plain_primal


@kernel
def inplace(a: f64[:]) -> None:
    for i in range(1, a.shape[0]):
        a[i] = a[i] * a[i - 1] + 0.5 * a[i]


@kernel
def both(x: f64[:], out: f64[:], p: tuple[f64, f64] = (1.0, 2.0)) -> f64[:]:
    for i in range(out.shape[0]):
        out[i] = p[0] * x[i] * x[(i + 1) % x.shape[0]]
    return np.cos(x * p[1]) * out[0]


@kernel
def quad(a: f64[:, :], s: float) -> float:
    e = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] > 0.0:
                e += s * a[i, j] ** 3
            else:
                e += math.sin(a[i, j] * s)
    return e


@kernel
def guard(x: f64[:], s: float) -> float:
    if s < 0.0:
        raise ValueError("s must not be negative")
    e = 0.0
    for i in range(x.shape[0]):
        e += s * x[i] ** 4
    return e


@kernel
def smooth(x: f64[:], work: f64[:]) -> float:
    for i in range(work.shape[0]):
        work[i] = work[i] * 0.5 + x[i % x.shape[0]] ** 2
    e = 0.0
    for i in range(work.shape[0]):
        e += math.sin(work[i]) * x[(i + 1) % x.shape[0]]
    return e


jac_inplace = jacrev(inplace, wrt="a", outputs="a")  # a parameter both written and differentiated
jacf_inplace = jacfwd(inplace, wrt="a", outputs="a")
jac_both = jacrev(both, wrt=("x", "p"), outputs=("out", "return"))  # a tuple parameter
hess_quad = hessian(quad, wrt=("a", "s"))
hvp_guard = hvp(guard, wrt=("x", "s"))  # raises
hess_smooth = hessian(smooth)  # writes an array: restored before each column
hvp_energy = hvp(energy, wrt=("x", "k"))
hess_energy = hessian(energy, wrt="x")
hess_relax = hessian(relax, wrt=("x", "s"))  # a while loop, a default
vfield = vmap(field, in_axes=(0, None))
vgrad_energy = vmap(grad(energy, wrt=("x", "k")), in_axes=(0, None))  # per-example gradients
vvalue_energy = vmap(value_and_grad(energy), in_axes=(1, 0))
