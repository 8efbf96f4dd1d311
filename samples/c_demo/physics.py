"""Kernels of the C demo: gravitational N-body dynamics, built into a C library with
`python -m ember build physics.py -o build/` (see README.md and nbody.c).

Four kernels (potential energy, kinetic energy, the velocity "kick" and the position "drift" of
a leapfrog integrator) and one derivative, the gradient of the potential with respect to the
positions: the forces are its negative, so nbody.c never writes a force law by hand.
"""

import math

from ember import f64, grad, kernel


@kernel
def potential(pos: f64[:, :], mass: f64[:], eps: float) -> float:
    """Gravitational potential energy (G = 1) of bodies at the rows of `pos`, softened by eps."""
    e = 0.0
    n = pos.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            r2 = eps * eps
            for k in range(pos.shape[1]):
                d = pos[i, k] - pos[j, k]
                r2 += d * d
            e -= mass[i] * mass[j] / math.sqrt(r2)
    return e


@kernel
def kinetic(vel: f64[:, :], mass: f64[:]) -> float:
    """Kinetic energy sum(m v^2 / 2)."""
    e = 0.0
    for i in range(vel.shape[0]):
        for k in range(vel.shape[1]):
            e += 0.5 * mass[i] * vel[i, k] * vel[i, k]
    return e


@kernel
def kick(vel: f64[:, :], dpot: f64[:, :], mass: f64[:], dt: float) -> None:
    """vel += dt * force / m, in place, where force = -dpot (the gradient of the potential)."""
    for i in range(vel.shape[0]):
        for k in range(vel.shape[1]):
            vel[i, k] -= dt * dpot[i, k] / mass[i]


@kernel
def drift(pos: f64[:, :], vel: f64[:, :], dt: float) -> None:
    """pos += dt * vel, in place."""
    for i in range(pos.shape[0]):
        for k in range(pos.shape[1]):
            pos[i, k] += dt * vel[i, k]


# Exported as `potential_grad`: returns the potential and writes d(potential)/d(pos).
potential_grad = grad(potential, wrt="pos")
