"""Ember demo: the resting shape of a hanging chain, by Newton's method on a loop-defined energy.

A chain of beads joined by nonlinear springs (Hooke's law plus a quartic hardening term) hangs
between two hooks under gravity. Its resting shape minimizes the potential energy

    E(q) = sum over springs  k/2 (l - L)^2 + beta/4 (l - L)^4   +   sum over beads  m g y

(l: a spring's length, L: its rest length, q: the free beads' positions), written below as an
ordinary Python loop (`energy`, an `@kernel`). Newton's method needs the gradient AND the
Hessian of E: `ember.grad` and `ember.hessian` give both exactly, from the loop itself (Enzyme,
forward over reverse). Newton converges quadratically, in a handful of steps where gradient
descent would need thousands. The same solve without ever forming the Hessian (conjugate
gradients on Hessian-vector products from `ember.hvp`) reaches the same shape.

Run it with:  python samples/newton_chain.py
"""

import math
import time

import numpy as np

from ember import f64, grad, hessian, hvp, kernel


@kernel
def energy(q: f64[:], ends: f64[:], k: float, beta: float, rest: float, mg: float) -> float:
    """Spring and gravitational energy of the chain hooked at (ends[0], ends[1]) and
    (ends[2], ends[3]); q holds (x, y) of each free bead."""
    beads = q.shape[0] // 2
    e = 0.0
    px = ends[0]
    py = ends[1]
    for i in range(beads + 1):
        x = ends[2]
        y = ends[3]
        if i < beads:
            x = q[2 * i]
            y = q[2 * i + 1]
            e += mg * y
        length = math.sqrt((x - px) ** 2 + (y - py) ** 2)
        s = length - rest
        e += 0.5 * k * s * s + 0.25 * beta * s ** 4
        px = x
        py = y
    return e


def straight_chain(beads: int, ends: np.ndarray) -> np.ndarray:
    """The beads evenly spaced on the segment between the hooks: the first guess."""
    t = np.arange(1, beads + 1) / (beads + 1)
    q = np.empty(2 * beads)
    q[0::2] = ends[0] + t * (ends[2] - ends[0])
    q[1::2] = ends[1] + t * (ends[3] - ends[1])
    return q


def newton(q: np.ndarray, args: tuple, steps: int = 30, tol: float = 1e-10,
           solve=None, log=print) -> np.ndarray:
    """Damped Newton: solve H dq = -g (by `solve`, default a dense solve of `hessian`), then
    halve the step until the energy decreases."""
    gradient = grad(energy, wrt="q")
    solve = solve or (lambda q, g: np.linalg.solve(hessian(energy, wrt="q")(q, *args), -g))
    for step in range(steps):
        g = gradient(q, *args)
        norm = float(np.linalg.norm(g))
        log(f"  step {step:2d}: energy {energy(q, *args):.12f}, |gradient| {norm:.3e}")
        if norm < tol:
            return q
        dq = solve(q, g)
        if float(dq @ g) >= 0:  # not a descent direction (Hessian not positive definite here)
            dq = -g
        alpha, e0 = 1.0, energy(q, *args)
        while energy(q + alpha * dq, *args) > e0 and alpha > 1e-8:
            alpha *= 0.5
        q = q + alpha * dq
    return q


def conjugate_gradients(args: tuple, iterations: int = 200):
    """A Newton step without the Hessian: CG on H v = -g with H v from `ember.hvp`."""
    product = hvp(energy, wrt="q")

    def solve(q: np.ndarray, g: np.ndarray) -> np.ndarray:
        x, r = np.zeros_like(g), -g
        p, rr = r.copy(), float(r @ r)
        for _ in range(iterations):
            hp = product(q, *args, tangents=(p,))
            a = rr / float(p @ hp)
            x, r = x + a * p, r - a * hp
            rr, rr_old = float(r @ r), rr
            if math.sqrt(rr) < 1e-12 * max(1.0, float(np.linalg.norm(g))):
                break
            p = r + (rr / rr_old) * p
        return x
    return solve


def main(beads: int = 40, log=print) -> tuple[np.ndarray, np.ndarray]:
    ends = np.array([0.0, 0.0, 1.0, 0.2])
    args = (ends, 400.0, 2.0e4, 1.0 / (beads + 1), 0.05)
    q0 = straight_chain(beads, ends)
    log(f"Newton with ember.hessian ({beads} beads, {2 * beads} unknowns):")
    t0 = time.perf_counter()
    dense = newton(q0, args, log=log)
    t1 = time.perf_counter()
    log("Newton-CG with ember.hvp (no Hessian formed):")
    free = newton(q0, args, solve=conjugate_gradients(args), log=log)
    t2 = time.perf_counter()
    lowest = float(dense[1::2].min())
    log(f"lowest bead at y = {lowest:.6f}; the two solutions differ by "
        f"{float(np.abs(dense - free).max()):.1e}; {t1 - t0:.2f} s and {t2 - t1:.2f} s "
        "(first calls compile)")
    return dense, free


if __name__ == "__main__":
    main()
