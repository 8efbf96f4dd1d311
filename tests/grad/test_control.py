"""Gradient tests through data-dependent control flow: if/elif/else, conditional expressions,
min/max/abs/np.minimum/np.maximum (away from ties, where the subgradient is unambiguous),
comparisons and floor as constants, and break/continue/early return inside for loops."""

import math

import numpy as np

from ember import check_grad, f64, grad

X = np.array([0.3, -1.2, 2.1, 0.8, -0.4, 1.6])


def piecewise(x: float) -> float:
    if x < -1.0:
        return -x * x
    elif x < 1.0:
        return math.sin(x) * 2.0
    else:
        return math.log(x) + x


def piecewise_assign(x: float, a: float) -> float:
    if x * a > 1.0:
        y = a * math.exp(x)
    elif x > 0.0:
        y = a * x * x
    else:
        y = -a
    return y * x


def branches_in_loop(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        if x[i] > 1.0:
            s += x[i] * x[i]
        elif x[i] > 0.0:
            s += math.sqrt(x[i])
        else:
            s -= math.sin(x[i]) * 3.0
    return s


def ternary(x: f64[:], t: float) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] * t if x[i] > 0.0 else x[i] * x[i] * t * t
    return s


def min_max_abs(x: float, y: float) -> float:
    return min(x, y) * 3.0 + max(x, y) ** 2 + abs(x - 2.0 * y)


def min_max_many(a: float, b: float, c: float) -> float:
    return max(a, b, c) * min(a, b, c)


def np_min_max(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += np.maximum(x[i], 0.0) * 2.0 + np.minimum(x[i], 0.5) + np.abs(x[i])
    return s


def relu_mlp(x: f64[:], w: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += max(w[i] * x[i], 0.0) + 0.1 * min(w[i] * x[i], 0.0)
    return s


def running_max(x: f64[:]) -> float:
    m = x[0]
    for i in range(1, len(x)):
        if x[i] > m:
            m = x[i]
    return m * m


def argmax_weighted(x: f64[:], w: f64[:]) -> float:
    best = 0
    for i in range(1, len(x)):
        if x[i] > x[best]:
            best = i
    return w[best] * x[best]


def floor_is_constant(x: float) -> float:
    return math.floor(x) * x + (x > 1.0) * x


def break_in_loop(x: f64[:], limit: float) -> float:
    s = 0.0
    for i in range(len(x)):
        if s > limit:
            break
        s += x[i] * x[i]
    return s


def continue_in_loop(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0.0:
            continue
        s += math.exp(x[i] * 0.5)
    return s


def early_return(x: f64[:], limit: float) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] * limit
        if s > 1.5:
            return s * s
    return s


def return_from_nested(m: f64[:, :]) -> float:
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += m[i, j] * m[i, j]
            if s > 2.0:
                return s + m[i, 0]
    return -s


def break_inner_only(m: f64[:, :]) -> float:
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j] < 0.0:
                break
            s += m[i, j] * (j + 1)
    return s


def test_piecewise_low(): check_grad(piecewise, -1.5)
def test_piecewise_mid(): check_grad(piecewise, 0.4)
def test_piecewise_high(): check_grad(piecewise, 2.5)
def test_piecewise_assign_first(): check_grad(piecewise_assign, 1.2, 2.0, wrt=("x", "a"))
def test_piecewise_assign_second(): check_grad(piecewise_assign, 0.3, 2.0, wrt=("x", "a"))
def test_piecewise_assign_third(): check_grad(piecewise_assign, -0.3, 2.0, wrt=("x", "a"))
def test_branches_in_loop(): check_grad(branches_in_loop, X)
def test_ternary(): check_grad(ternary, X, 0.7, wrt=("x", "t"))
def test_min_max_abs(): check_grad(min_max_abs, 0.5, 1.5, wrt=("x", "y"))
def test_min_max_abs_swapped(): check_grad(min_max_abs, 1.5, -0.5, wrt=("x", "y"))
def test_min_max_three_args(): check_grad(min_max_many, 0.5, -1.0, 2.0, wrt=(0, 1, 2))
def test_np_minimum_maximum_abs(): check_grad(np_min_max, X)
def test_relu(): check_grad(relu_mlp, X, X[::-1].copy(), wrt=("x", "w"))
def test_running_max(): check_grad(running_max, X)
def test_argmax_weighted(): check_grad(argmax_weighted, X, X * 2.0 + 1.0, wrt=("x", "w"))
def test_floor_and_compare_are_constants(): check_grad(floor_is_constant, 2.3)
def test_break(): check_grad(break_in_loop, X, 1.0, wrt=("x", "limit"))
def test_continue(): check_grad(continue_in_loop, X)
def test_early_return(): check_grad(early_return, X, 1.1, wrt=("x", "limit"))
def test_early_return_not_taken(): check_grad(early_return, X * 0.1, 0.3, wrt=("x", "limit"))
def test_return_from_nested_loops(): check_grad(return_from_nested, X.reshape(2, 3))
def test_break_inner_loop_only(): check_grad(break_inner_only, X.reshape(3, 2))


def test_min_max_subgradients_match_numpy():
    # max picks one argument's gradient, as np.maximum does away from ties
    gx, gy = grad(min_max_abs, wrt=("x", "y"))(0.5, 1.5)
    assert (gx, gy) == (3.0 - 1.0, 2.0 * 1.5 + 2.0)  # |x - 2y| has slope -1, +2 here


def test_break_gradient_is_exact():
    # s exceeds 1.0 after x[0]^2 + x[1]^2 = 0.09 + 1.44, so only x[0], x[1] contribute
    g = grad(break_in_loop)(X.copy(), 1.0)
    np.testing.assert_array_equal(g, [2 * X[0], 2 * X[1], 0, 0, 0, 0])
