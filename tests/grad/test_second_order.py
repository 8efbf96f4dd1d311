"""Second-order derivatives (`hvp`, `hessian`): H·v against central finite differences of
the gradient (relative 1e-6, float64) on kernels with loops, nested loops, while loops,
branches, `break`, mutation, local arrays, kernel calls, array expressions, math without
forward rules, a custom_jvp rule, stop_gradient, prange and several `wrt`; Hessians
symmetric, shaped like JAX's, equal to a column of H·v and to known closed forms; f32 against
f64; the same results with and without the tape optimizations of run 1; clear errors."""

import math

import numpy as np
import pytest

import ember
from ember import f32, f64, grad, hessian, hvp, kernel, prange
from ember.api.secondorder import jacfwd_of_derivative

RNG = np.random.default_rng(11)
X = RNG.uniform(0.2, 1.2, 6)
M = RNG.uniform(-1.0, 1.0, (3, 4))


def sum_sin_sq(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * x[i] * x[i]
    return s


def scalar_loop(x: float, y: float) -> float:
    # a dead loop-carried value before a used one (../shared/TOOLCHAIN-AD.md section 0)
    a = 0.0
    b = 0.0
    for _ in range(3):
        a = a + math.sin(x * y)
        b = b + a * x
    return b


def nested(m: f64[:, :]) -> float:
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += math.exp(m[i, j] * 0.5) * m[i, j] * (i + 1) - m[i, j] * m[i, j] * j
    return s * s * 0.1


def loop_product(x: f64[:]) -> float:
    p = 1.0
    for i in range(len(x)):
        p = p * x[i] + 0.1
    return p


def newton_cbrt_sum(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        y = 1.0
        while abs(y * y * y - x[i]) > 1e-13:
            y = y - (y * y * y - x[i]) / (3.0 * y * y)
        s += y * x[i]
    return s


def kepler(m: float, e: float) -> float:
    big_e = m
    step = 1.0
    while abs(step) > 1e-15:
        step = (big_e - e * math.sin(big_e) - m) / (1.0 - e * math.cos(big_e))
        big_e = big_e - step
    return big_e * big_e


def branches(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.7:
            s += x[i] ** 3
        elif x[i] > 0.4:
            s += math.cos(x[i]) * x[i]
        else:
            s -= math.log(x[i]) * x[i] * x[i]
    return s


def mutation(x: f64[:], w: f64[:]) -> float:
    for i in range(len(x)):
        w[i] = w[i] * x[i] + math.sin(x[i])
    for i in range(1, len(x)):
        w[i] += w[i - 1] * x[i]
    s = 0.0
    for i in range(len(x)):
        s += w[i] * w[i]
    return s


def local_arrays(x: f64[:]) -> float:
    n = len(x)
    t = np.zeros(n)
    for i in range(n):
        t[i] = math.tanh(x[i]) * x[(i + 1) % n]
    u = np.empty(n)
    for i in range(n):
        u[i] = t[i] * t[(i + 2) % n]
    s = 0.0
    for i in range(n):
        s += u[i] + t[i] * x[i]
    return s


@kernel
def softplus(z: float) -> float:
    return math.log1p(math.exp(z))


@kernel
def weighted(x: f64[:], c: float) -> float:
    s = 0.0
    for i in range(len(x)):
        s += softplus(x[i] * c) * x[i]
    return s


def calls(x: f64[:], c: float) -> float:
    return weighted(x, c) * c + softplus(x[0] * x[1])


def array_expr(x: f64[:]) -> float:
    y = np.sin(x) * x + x * x
    return float(np.sum(y * y))


def rosenbrock(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2
    return s


def matrix_vector(m: f64[:, :], x: f64[:]) -> float:
    s = 0.0
    for i in range(m.shape[0]):
        r = 0.0
        for j in range(m.shape[1]):
            r += m[i, j] * x[j]
        s += math.tanh(r)
    return s


def energy(x: f64[:], k: float) -> float:
    # a chain of springs with a nonlinear term: Newton's method needs H
    e = 0.0
    for i in range(len(x) - 1):
        d = x[i + 1] - x[i] - 1.0
        e += 0.5 * k * d * d + 0.25 * d ** 4
    return e + 0.5 * x[0] * x[0]


def pow_scalars(a: float, b: float) -> float:
    return a ** 3 * b + math.sqrt(a * a + b * b) + math.atan(a * b)


def early_exit(x: f64[:]) -> float:
    s = 0.0
    i = 0
    while i < len(x) and s < 2.0:
        s += x[i] * x[i] * math.exp(x[i] * 0.3)
        i += 1
    return s * s


def special_math(x: f64[:], y: float) -> float:
    # ops whose derivatives Enzyme's forward mode has no rule for (lowering/secondorder.py)
    s = 0.0
    for i in range(len(x)):
        s += math.erf(x[i]) * math.tan(x[i] * 0.5) + math.sinh(x[i] * y) * math.cosh(y)
        s += math.atan2(y, x[i]) * math.hypot(x[i], y) + abs(x[i] - 0.5) * x[i]
        s += math.copysign(x[i] * x[i], y - 0.2) + math.asin(x[i] * 0.5) * math.log10(x[i])
    return s


def break_loop(x: f64[:], limit: float) -> float:
    s = 0.0
    for i in range(len(x)):
        if s > limit:
            break
        s += x[i] * x[i] * x[i]
    return s * limit


def fixed_point(c: float) -> float:
    x = 0.5
    delta = 1.0
    while delta > 1e-15:
        nx = math.cos(c * x)
        delta = abs(nx - x)
        x = nx
    return x * c


@ember.custom_jvp
@kernel
def softplus_rule(z: float) -> float:
    return math.log1p(math.exp(z))


@softplus_rule.defjvp
def softplus_rule_jvp(z: float, dz: float) -> float:
    return dz * 2.0 / (1.0 + math.exp(-z))  # 2x the true derivative: the rule must be used


def custom_and_stopped(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += softplus_rule(x[i] * x[i]) + ember.stop_gradient(x[i]) * x[i] * x[i]
    return s


def parallel(x: f64[:], y: f64[:]) -> float:
    for i in prange(len(x)):
        y[i] = math.sin(x[i]) * x[i]
    s = 0.0
    for i in prange(len(x)):
        s += y[i] * y[i] * x[i]
    return s


CASES = [
    (sum_sin_sq, (X,), "x"),
    (scalar_loop, (0.7, 1.3), ("x", "y")),
    (nested, (M,), "m"),
    (loop_product, (X,), "x"),
    (newton_cbrt_sum, (X,), "x"),
    (kepler, (1.1, 0.3), ("m", "e")),
    (branches, (X,), "x"),
    (mutation, (X, X[::-1].copy()), ("x", "w")),
    (local_arrays, (X,), "x"),
    (calls, (X, 0.8), ("x", "c")),
    (array_expr, (X,), "x"),
    (rosenbrock, (X,), "x"),
    (matrix_vector, (M, X[:4]), ("m", "x")),
    (energy, (X, 2.0), ("x", "k")),
    (pow_scalars, (0.9, 1.7), "b"),
    (early_exit, (X,), "x"),
    (special_math, (X, 0.6), ("x", "y")),
    (break_loop, (X, 1.5), ("x", "limit")),
    (fixed_point, (0.7,), "c"),
    (custom_and_stopped, (X,), "x"),
    (parallel, (X, np.zeros(len(X))), "x"),
]


def _copy(args):
    return tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)


def _names(wrt):
    return wrt if isinstance(wrt, tuple) else (wrt,)


def _fd_hvp(f, args, wrt, v, eps=1e-5):
    """Central differences of the gradient along v."""
    params = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    g = grad(f, wrt=wrt)

    def shifted(sign):
        a = list(_copy(args))
        for n, d in zip(_names(wrt), v, strict=True):
            a[params.index(n)] = a[params.index(n)] + sign * eps * d
        out = g(*a)
        return out if isinstance(wrt, tuple) else (out,)
    plus, minus = shifted(1.0), shifted(-1.0)
    return [(np.asarray(p) - np.asarray(m)) / (2 * eps) for p, m in zip(plus, minus, strict=True)]


def _directions(f, args, names):
    params = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    return [RNG.standard_normal(np.shape(args[params.index(n)])) if
            isinstance(args[params.index(n)], np.ndarray) else float(RNG.standard_normal())
            for n in names]


def _close(got, want, rtol):
    got, want = np.ravel(got), np.ravel(want)
    scale = max(np.max(np.abs(want)), 1e-3)
    assert np.max(np.abs(got - want)) <= rtol * scale, (got, want)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].__name__)
def test_hvp_matches_finite_differences(case):
    f, args, wrt = case
    v = _directions(f, args, _names(wrt))
    got = hvp(f, wrt=wrt)(*_copy(args), tangents=tuple(v))
    got = got if isinstance(wrt, tuple) else (got,)
    for g, want in zip(got, _fd_hvp(f, args, wrt, v), strict=True):
        assert np.shape(g) == np.shape(want)
        _close(g, want, 1e-6)


def _flat_hessian(h, sizes):
    """A nested tuple of blocks as one (n, n) matrix."""
    rows = [np.hstack([np.reshape(b, (a, c)) for b, c in zip(row, sizes, strict=True)])
            for row, a in zip(h, sizes, strict=True)]
    return np.vstack(rows)


@pytest.mark.parametrize("case", [CASES[7], CASES[12], CASES[9]], ids=lambda c: c[0].__name__)
def test_hessian_symmetric_shaped_and_columns_of_hvp(case):
    f, args, wrt = case
    params = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    values = [args[params.index(n)] for n in wrt]
    h = hessian(f, wrt=wrt)(*_copy(args))
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert np.shape(h[i][j]) == np.shape(a) + np.shape(b)
    full = _flat_hessian(h, [np.size(a) for a in values])
    assert np.allclose(full, full.T, rtol=1e-9, atol=1e-9)
    v = _directions(f, args, wrt)
    hv = hvp(f, wrt=wrt)(*_copy(args), tangents=tuple(v))
    flat_v = np.concatenate([np.ravel(t) for t in v])
    _close(full @ flat_v, np.concatenate([np.ravel(t) for t in hv]), 1e-12)


def test_hessian_closed_forms_and_argument_forms():
    a = RNG.standard_normal((4, 4))

    @kernel
    def quadratic(x: f64[:], m: f64[:, :]) -> float:
        s = 0.0
        for i in range(len(x)):
            for j in range(len(x)):
                s += x[i] * m[i, j] * x[j]
        return s
    x = RNG.standard_normal(4)
    assert np.allclose(hessian(quadratic)(x, a), a + a.T, rtol=1e-13, atol=1e-13)
    assert np.allclose(hessian(quadratic)(x=x, m=a), a + a.T, rtol=1e-13, atol=1e-13)
    # scalar wrt: a float; a 2-D wrt: shape (3, 4, 3, 4)
    assert hessian(pow_scalars, wrt="b")(0.9, 1.7) == pytest.approx(
        hvp(pow_scalars, wrt="b")(0.9, 1.7, tangents=1.0), rel=1e-14)
    h = hessian(nested)(M)
    assert h.shape == (3, 4, 3, 4)
    assert np.allclose(h.reshape(12, 12), h.reshape(12, 12).T, rtol=1e-9, atol=1e-9)
    # decorator forms
    assert np.allclose(hvp(wrt="x")(quadratic)(x, a, tangents=(x,)), (a + a.T) @ x)


def test_mutation_side_effects_and_restored_inputs():
    w = X[::-1].copy()
    h1 = hessian(mutation, wrt="x")(X, w.copy())
    w2 = w.copy()
    h2 = hessian(mutation, wrt="x")(X, w2)
    assert np.array_equal(h1, h2)
    assert not np.array_equal(w2, w)  # the kernel's writes, once, like a call
    cols = [hvp(mutation, wrt="x")(X, w.copy(), tangents=(e,)) for e in np.eye(len(X))]
    _close(np.stack(cols, axis=1), h1, 1e-12)


def test_f32_against_f64():
    def sum_sin_sq32(x: f32[:]) -> np.float32:
        s = np.float32(0.0)
        for i in range(len(x)):
            s += math.sin(x[i]) * x[i] * x[i]
        return s
    v = RNG.standard_normal(len(X))
    got = hvp(sum_sin_sq32)(X.astype(np.float32), tangents=(v.astype(np.float32),))
    want = hvp(sum_sin_sq)(X, tangents=(v,))
    assert got.dtype == np.float32
    _close(got, want, 1e-5)
    h = hessian(sum_sin_sq32)(X.astype(np.float32))
    assert h.dtype == np.float32
    _close(h, hessian(sum_sin_sq)(X), 1e-5)


@pytest.mark.parametrize("case", [CASES[1], CASES[4], CASES[8]], ids=lambda c: c[0].__name__)
def test_tape_optimizations_agree(case):
    """Run 1 with (opt_level 3) and without (opt_level 1) lowering/preopt.py and remat.py."""
    f, args, wrt = case
    v = _directions(f, args, _names(wrt))
    fast = hvp(kernel(f), wrt=wrt)(*_copy(args), tangents=tuple(v))
    plain = hvp(kernel(f, opt_level=1), wrt=wrt)(*_copy(args), tangents=tuple(v))
    if not isinstance(wrt, tuple):
        fast, plain = (fast,), (plain,)
    for a, b in zip(fast, plain, strict=True):
        _close(a, b, 1e-12)


def test_jacobian_of_grad_blocks_and_argument_forms():
    """jacfwd_of_derivative (api/jacobians.py's jacfwd of a grad): the blocks of the Hessian,
    also across parameters the gradient does not differentiate (const in run 1)."""
    h = hessian(calls, wrt=("x", "c"))(X, 0.8)
    assert np.allclose(jacfwd_of_derivative(grad(calls))(X, 0.8), h[0][0], rtol=1e-13)
    assert np.allclose(jacfwd_of_derivative(grad(calls), wrt="c")(X, 0.8), h[0][1], rtol=1e-13)
    assert jacfwd_of_derivative(grad(calls, wrt="c"), wrt="c")(X, 0.8) == pytest.approx(
        h[1][1], rel=1e-13)
    both = jacfwd_of_derivative(grad(calls, wrt=("x", "c")), wrt=("x", "c"))(X, c=0.8)
    for i in range(2):
        for j in range(2):
            assert np.allclose(both[i][j], h[i][j], rtol=1e-13)
    with pytest.raises(TypeError, match="only a grad"):
        jacfwd_of_derivative(ember.value_and_grad(calls))
    # through the public jacfwd: hessian == jacfwd(grad)
    assert np.array_equal(ember.jacfwd(grad(calls))(X, 0.8), h[0][0])
    jac = ember.jacfwd(grad(calls, wrt=("x", "c")), wrt=("x", "c"))(X, 0.8)
    assert all(np.array_equal(jac[i][j], h[i][j]) for i in range(2) for j in range(2))


def with_defaults(x: f64[:], n: int, scale: float = 2.0) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** n * scale
    return s


def test_defaults_int_parameters_and_views():
    x = X.copy()
    want = np.diag(2.0 * 3 * 2 * x)
    assert np.allclose(hessian(with_defaults)(x, 3), want, rtol=1e-13)
    assert np.allclose(hessian(with_defaults)(x, n=3, scale=2.0), want, rtol=1e-13)
    # a written array given as a strided view: the kernel's writes reach it, as in a call
    w = np.ones(2 * len(X))
    hv = hvp(mutation)(X, w[::2], tangents=(X,))
    expect = np.ones(len(X))
    mutation(X, expect)
    assert np.allclose(w[::2], expect) and np.all(w[1::2] == 1.0)
    _close(hv, hvp(mutation)(X, np.ones(len(X)), tangents=(X,)), 1e-13)


def optional_weights(x: f64[:], p: float = 2.0, w: f64[:] | None = None, *,
                     scale: float = 1.5) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] * x[i] * p * x[i]
        if w is not None:
            v = v * w[i]
        s += v
    return s * scale


def test_optional_and_keyword_parameters():
    w = X[::-1].copy()
    h = hessian(optional_weights, wrt=("x", "p"))
    plain, weighted = h(X, 1.25), h(X, 1.25, w, scale=0.5)
    assert np.allclose(plain[0][0], np.diag(6.0 * 1.25 * X * 1.5), rtol=1e-13)
    assert np.allclose(weighted[0][0], np.diag(6.0 * 1.25 * X * w * 0.5), rtol=1e-13)
    assert np.allclose(weighted[0][1], 3.0 * X * X * w * 0.5, rtol=1e-13)
    assert weighted[1][1] == 0.0


def returns_array(x: f64[:]) -> f64[:]:
    return x * 2.0


def int_param(x: f64[:], n: int) -> float:
    return x[0] * n


def test_errors():
    with pytest.raises(TypeError, match="need a kernel that returns a float scalar"):
        hvp(returns_array)(X, tangents=(X,))
    with pytest.raises(TypeError, match="with respect to 'n': it is int"):
        hessian(int_param, wrt="n")(X, 3)
    h = hvp(sum_sin_sq)
    with pytest.raises(ValueError, match="tangent for 'x' has shape"):
        h(X, tangents=(X[:3],))
    with pytest.raises(TypeError, match="needs tangents="):
        hvp(sum_sin_sq, wrt=("x",))(X)
    with pytest.raises(ValueError, match="no parameter 'z'"):
        hessian(sum_sin_sq, wrt="z")
    with pytest.raises(TypeError, match="CPU kernels only"):
        hessian(kernel(sum_sin_sq, target="gpu"))
    with pytest.raises(ember.CompileError, match="second derivative through this complex") as e:
        hvp(complex_tape)(0.4, tangents=1.0)
    assert "test_second_order.py" in str(e.value) and "abs(p) ** 2" in str(e.value)


def complex_tape(x: float) -> float:
    z = complex(x, 0.3)
    p = ((2 - 1j) * z + 3j) * z - 1
    return abs(p) ** 2 + (p ** 3).imag
