"""Reverse mode through arrays allocated inside loops: Enzyme 0.0.16 never zeroes their shadows
(lowering/temporaries.py), which made `t = np.zeros_like(u)` in a time loop give wrong
gradients from the second step on. Such arrays are hoisted out of the loop; one whose size
changes between iterations is refused with a clear error instead of a wrong number."""

import numpy as np
import pytest

from ember import CompileError, check_grad, f64, grad, jvp, kernel


@kernel
def heat(u0: f64[:], k: float, steps: int) -> float:
    n = u0.shape[0]
    u = np.zeros(n)
    for i in range(n):
        u[i] = u0[i]
    for _s in range(steps):
        t = np.zeros_like(u)
        for i in range(1, n - 1):
            t[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        for i in range(1, n - 1):
            u[i] = t[i]
    total = 0.0
    for i in range(n):
        total += u[i] * u[i]
    return total


@kernel
def scratch_in_nest(x: f64[:], reps: int) -> float:
    n = x.shape[0]
    total = 0.0
    for _r in range(reps):
        j = 0
        while j < 2:
            w = np.empty(n)
            for i in range(n):
                w[i] = x[i] * (j + 1.0)
            for i in range(n):
                total += w[i] * x[i]
            j += 1
    return total


@kernel
def growing(x: f64[:], steps: int) -> float:
    total = 0.0
    for s in range(steps):
        t = np.zeros(s + 1)
        for i in range(s + 1):
            t[i] = x[i] * x[i]
        for i in range(s + 1):
            total += t[i]
    return total


X = np.sin(np.linspace(0.0, 3.0, 12))


@pytest.mark.parametrize("steps", [1, 2, 3, 6])
def test_temporary_array_in_a_time_loop(steps):
    check_grad(heat, X, 0.2, steps, wrt=("u0", "k"))
    value, tangent = jvp(heat, wrt="k")(X, 0.2, steps, tangents=(1.0,))
    assert tangent == pytest.approx(grad(heat, wrt="k")(X, 0.2, steps), rel=1e-9)


def test_scratch_array_in_a_while_inside_a_for():
    check_grad(scratch_in_nest, X, 4, wrt="x")


def test_size_changing_between_iterations_is_refused_in_reverse_mode():
    with pytest.raises(CompileError, match="allocated inside a loop with a size that changes"):
        grad(growing, wrt="x")(X, 4)
    h = 1e-6
    fd = (growing(X + h * np.eye(12)[2], 4) - growing(X - h * np.eye(12)[2], 4)) / (2 * h)
    _, tangent = jvp(growing, wrt="x")(X, 4, tangents=(np.eye(12)[2],))
    assert tangent == pytest.approx(fd, rel=1e-6)


@kernel
def row_scratch(x: f64[:, :]) -> float:
    total = 0.0
    for i in range(x.shape[0]):
        row = x[i]
        e = np.exp(row - row.max())  # sized by a view made in this iteration
        total += np.sum(e * e) / e.sum()
    return total


@kernel
def column_scratch(x: f64[:, :]) -> float:
    total = 0.0
    for j in range(x.shape[1]):
        col = x[1:, j]
        t = np.zeros_like(col)
        t[:] = col * col
        total += np.sum(t)
    return total


def test_arrays_sized_by_views_made_in_the_loop_are_hoisted():
    A = np.sin(np.arange(20.0)).reshape(4, 5)
    check_grad(row_scratch, A, wrt="x")
    check_grad(column_scratch, A, wrt="x")
