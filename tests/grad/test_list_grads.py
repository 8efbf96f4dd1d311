"""Derivatives of kernels that build local lists (issue 14, "Lists"): literals of expressions,
appends that never reallocate inside a loop (the first 8 fit the initial buffer), lists grown
outside loops, indexing (negative too), iteration, sum/min/max and np.array(lst); checked
against central finite differences (reverse mode) and grad . tangent (forward mode, `jvp`).
A float list that grows inside a loop is refused under reverse mode (its buffer would be
reallocated inside the loop), with a message saying to preallocate an array."""

import numpy as np
import pytest

from ember import CompileError, check_grad, f64, grad, jvp, kernel

X = np.random.default_rng(3).normal(size=5)


@kernel
def literal(x: float, y: float) -> float:
    terms = [x, y, x * y, np.sin(x) * y]
    s = 0.0
    for t in terms:
        s += t * t
    return s + terms[-1] * terms[0] + max(terms) + sum(terms)


@kernel
def appended(a: f64[:], w: float) -> float:
    parts = []
    parts.append(a[0] * w)
    parts.append(np.exp(a[1]))
    parts.append(a[2] * a[3])
    parts.extend([w * w, a[4]])
    parts[1] = parts[1] * w
    arr = np.array(parts)
    return np.sum(arr * arr) + min(parts) + parts[-2]


@kernel
def indexed(a: f64[:]) -> float:
    b = [a[0], a[1]]
    b.append(a[2] + a[3])
    total = 0.0
    for i, v in enumerate(b):
        total += (i + 1) * v * b[-1 - i]
    return total


@kernel
def created_in_loop(a: f64[:]) -> float:
    s = 0.0
    for k in range(a.shape[0] - 1):
        pair = [a[k]]  # created and grown in the same iteration: a fixed capacity of 3
        pair.append(a[k + 1] * a[k])
        if k % 2 == 0:
            pair.append(1.5)
        s += sum(pair) * pair[-1]
    return s


def grown_in_loop(a: f64[:]) -> float:
    b = []
    for v in a:
        b.append(v * v)
    return sum(b)


def test_literal_of_expressions():
    check_grad(literal, 0.7, -1.3)
    check_grad(literal, 0.2, 2.5)


def test_appends_outside_loops_and_np_array():
    check_grad(appended, X, 0.9)


def test_indexing_and_enumerate():
    check_grad(indexed, X)
    tangent = np.random.default_rng(8).normal(size=5)
    _, forward = jvp(indexed, wrt="a")(X, tangents=(tangent,))
    assert forward == pytest.approx(float(grad(indexed)(X) @ tangent), rel=1e-12)


def test_list_created_and_grown_in_each_iteration():
    check_grad(created_in_loop, X)


def test_float_list_growing_in_a_loop_is_refused_in_reverse_mode():
    with pytest.raises(CompileError, match="preallocate an array"):
        grad(kernel(grown_in_loop))(X)
