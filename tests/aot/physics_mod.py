"""Build input for the AOT tests (not a test file): kernels covering every kind of parameter
and result the C ABI has, and module-level derivative objects of them.

kinetic   scalars in, scalar out             advance  1-D arrays mutated in place
energy    2-D array reduction                 nearest  `-> tuple[float, int]`
center    returns an allocated array          scale32  f32 scalars and arrays
relax     a `while` loop (differentiated)     spring   writes an array output (vjp/jvp)
"""

import math

import numpy as np

from ember import f32, f64, grad, i64, jvp, kernel, value_and_grad, vjp


@kernel
def kinetic(m: float, v: float, n: int) -> float:
    """Kinetic energy of n identical particles of mass m moving at speed v."""
    return 0.5 * m * v * v * n


@kernel
def advance(x: f64[:], v: f64[:], dt: float) -> None:
    """One explicit Euler position update, in place."""
    for i in range(len(x)):
        x[i] = x[i] + dt * v[i]


@kernel
def energy(pos: f64[:, :], eps: float) -> float:
    """Softened gravitational energy of unit masses at the rows of `pos`."""
    e = 0.0
    n = pos.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            r2 = eps * eps
            for k in range(pos.shape[1]):
                d = pos[i, k] - pos[j, k]
                r2 += d * d
            e -= 1.0 / math.sqrt(r2)
    return e


@kernel
def nearest(pos: f64[:, :], p: i64) -> tuple[float, int]:
    """Distance from particle p to its nearest neighbour, and that neighbour's index."""
    best = 1e300
    k = -1
    for j in range(pos.shape[0]):
        if j != p:
            r2 = 0.0
            for c in range(pos.shape[1]):
                d = pos[j, c] - pos[p, c]
                r2 += d * d
            if r2 < best:
                best = r2
                k = j
    return math.sqrt(best), k


@kernel
def center(pos: f64[:, :]) -> f64[:]:
    """Centre of mass (a freshly allocated array)."""
    dim = pos.shape[1]
    out = np.zeros(dim)
    for i in range(pos.shape[0]):
        for c in range(dim):
            out[c] += pos[i, c]
    for c in range(dim):
        out[c] = out[c] / pos.shape[0]
    return out


@kernel
def scale32(x: f32[:], a: f32) -> f32:
    """Scale an f32 array in place by a; returns its new sum (accumulated in f32)."""
    s = x[0] * 0.0
    for i in range(len(x)):
        x[i] = x[i] * a
        s += x[i]
    return s


@kernel
def relax(x: float, k: float) -> float:
    """Damped fixed-point iteration y = cos(k y) + x, until it stops moving."""
    y = x
    delta = 1.0
    while delta > 1e-14:
        ny = 0.5 * y + 0.5 * (math.cos(k * y) + x)
        delta = abs(ny - y)
        y = ny
    return y


@kernel
def spring(q: f64[:], force: f64[:], stiffness: float) -> None:
    """Forces of a chain of unit springs between neighbours, written into `out`."""
    n = len(q)
    for i in range(n):
        force[i] = 0.0
    for i in range(n - 1):
        f = stiffness * (q[i + 1] - q[i]) ** 3
        force[i] += f
        force[i + 1] -= f


dforce = grad(energy, wrt="pos")
energy_and_grads = value_and_grad(energy, wrt=("pos", "eps"))
drelax = grad(relax, wrt=("x", "k"))
spring_vjp = vjp(spring, wrt=("q", "stiffness"), outputs="force")
spring_jvp = jvp(spring, wrt="q", outputs="force")
