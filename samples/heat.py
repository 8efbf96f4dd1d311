"""Ember demo: heat spreading through an insulated square plate.

A hot spot in the middle of a cold plate spreads out following the heat equation
du/dt = D * (d2u/dx2 + d2u/dy2). We step it forward with the explicit 5-point finite-difference
scheme, written twice and compiled to native code by `@kernel` both times: as an ordinary
Python loop (`heat_step`) and in NumPy's array style with slices (`heat_step_slices`).

Two physical checks come out of the run:
  * the edges are insulated, so the total heat must stay constant;
  * far from the edges, a Gaussian hot spot stays Gaussian and its peak falls as
    sigma^2 / (sigma^2 + 2 D t), which we compare with the simulated peak.

Run it with:  python samples/heat.py
"""

import time

import numpy as np

from ember import f64, kernel


@kernel
def heat_step(u: f64[:, :], out: f64[:, :], r: float) -> None:
    """One time step on an insulated plate; r = D * dt / dx^2 (stable for r <= 0.25)."""
    ny = u.shape[0]
    nx = u.shape[1]
    for i in range(ny):
        up = max(i - 1, 0)  # at an edge the missing neighbour is the cell itself:
        down = min(i + 1, ny - 1)  # no heat flows through the boundary
        for j in range(nx):
            left = max(j - 1, 0)
            right = min(j + 1, nx - 1)
            laplacian = u[up, j] + u[down, j] + u[i, left] + u[i, right] - 4.0 * u[i, j]
            out[i, j] = u[i, j] + r * laplacian


@kernel
def heat_step_slices(u: f64[:, :], out: f64[:, :], r: float) -> None:
    """The same step in NumPy's array style: a copy of the plate with a one-cell border that
    repeats each edge (insulated edges), then one whole-array expression."""
    p = np.empty((u.shape[0] + 2, u.shape[1] + 2))
    p[1:-1, 1:-1] = u
    p[0, 1:-1] = u[0]
    p[-1, 1:-1] = u[-1]
    p[1:-1, 0] = u[:, 0]
    p[1:-1, -1] = u[:, -1]
    out[...] = u + r * (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * u)


def heat_step_numpy(u: np.ndarray, out: np.ndarray, r: float) -> None:
    """The same step with whole-array NumPy operations (edge padding = insulated edges)."""
    p = np.pad(u, 1, mode="edge")
    laplacian = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * u
    out[...] = u + r * laplacian


def simulate(step, u: np.ndarray, r: float, steps: int) -> np.ndarray:
    """Advance the temperature field `u` by `steps` time steps with the given step function."""
    u = u.copy()
    out = np.empty_like(u)
    for _ in range(steps):
        step(u, out, r)
        u, out = out, u
    return u


def hot_spot(n: int, sigma: float) -> np.ndarray:
    """An n x n plate at temperature 0 with a Gaussian hot spot of peak 1 in the middle."""
    x = np.arange(n) - (n - 1) / 2
    return np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))


def seconds_per_step(step, u: np.ndarray, r: float, steps: int) -> float:
    start = time.perf_counter()
    simulate(step, u, r, steps)
    return (time.perf_counter() - start) / steps


def check_against_python(r: float) -> None:
    """Ember, pure Python and NumPy must agree on a small plate."""
    u0 = hot_spot(24, 3.0)
    ember = simulate(heat_step, u0, r, 10)
    python = simulate(heat_step.py_func, u0, r, 10)
    numpy = simulate(heat_step_numpy, u0, r, 10)
    slices = simulate(heat_step_slices, u0, r, 10)
    diff = max(np.abs(ember - other).max() for other in (python, numpy, slices))
    for other in (python, numpy, slices):
        np.testing.assert_allclose(ember, other, rtol=1e-12, atol=1e-15)
    print(f"check: Ember (loops and slices) = pure Python = NumPy on a 24 x 24 plate "
          f"(max difference {diff:.1e})")


def main() -> None:
    n, sigma, r, steps = 257, 8.0, 0.2, 2000
    u0 = hot_spot(n, sigma)
    print(f"Heat equation on a {n} x {n} insulated plate, {steps} steps (r = D dt/dx^2 = {r})")

    start = time.perf_counter()
    heat_step(u0, np.empty_like(u0), r)  # the first call compiles (or loads from disk cache)
    print(f"first call of heat_step (compile or cache load): {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    u = simulate(heat_step, u0, r, steps)
    ember_step = (time.perf_counter() - start) / steps

    expected_peak = sigma**2 / (sigma**2 + 2 * r * steps)  # dx = 1, D t = r * steps
    drift = (u.sum() - u0.sum()) / u0.sum()
    print(
        f"  peak temperature  {u0.max():.4f} -> {u.max():.4f}"
        f"   (continuum solution: {expected_peak:.4f})"
    )
    verdict = "conserved" if abs(drift) < 1e-12 else "NOT conserved"
    print(
        f"  total heat        {u0.sum():.4f} -> {u.sum():.4f}"
        f"   (relative drift {drift:.1e}: {verdict})"
    )

    check_against_python(r)

    python_step = seconds_per_step(heat_step.py_func, u0, r, 2)
    numpy_step = seconds_per_step(heat_step_numpy, u0, r, 100)
    slices_step = seconds_per_step(heat_step_slices, u0, r, 100)
    print(
        f"speed on {n} x {n}: Ember {ember_step * 1e3:.2f} ms/step "
        f"(array style: {slices_step * 1e3:.2f} ms/step), "
        f"NumPy {numpy_step * 1e3:.2f} ms/step, pure Python {python_step * 1e3:.0f} ms/step"
    )
    print(
        f"Ember is {python_step / ember_step:,.0f}x faster than pure Python "
        f"({numpy_step / ember_step:.1f}x faster than NumPy)"
    )


if __name__ == "__main__":
    main()
