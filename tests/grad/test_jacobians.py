"""`jacfwd` and `jacrev` (ember/api/jacobians.py), and `jvp`/`vjp` of kernels that return
arrays or tuples (frontend/adresults.py, api/resultcall.py).

Each kernel's Jacobians, forward and reverse, are checked against central finite differences
of the plain Python function (relative 1e-6, float64) and against each other, through loops,
`while`, branches, out-parameters, in-place mutation, local arrays, kernel calls, float32,
array, 2-D and tuple results and several `wrt`. Shapes follow JAX's rule (compared with
jax.jacfwd where JAX is installed)."""

import copy
import math

import numpy as np
import pytest

import ember
from ember import f32, f64, grad, jacfwd, jacrev, jvp, kernel, vjp

RNG = np.random.default_rng(7)
X5 = np.array([0.3, -0.7, 1.1, 0.4, -0.2])


def poly_loop(x: f64[:], s: f64) -> f64[:]:
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = s * x[i] * x[i] + math.sin(x[(i + 1) % n])
    return out


def while_loop(x: f64[:]) -> f64[:]:
    out = np.zeros(x.shape[0])
    t = 0.5
    k = 0
    while t < 6.0:
        t = t * 1.3 + x[k % x.shape[0]] * x[k % x.shape[0]]
        out[k % x.shape[0]] += t
        k += 1
    return out


def branches(x: f64[:], c: f64) -> f64[:]:
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            out[i] = math.exp(c * x[i])
        elif i > 2:
            out[i] = x[i] * x[i - 1]
        else:
            out[i] = c * math.cos(x[i])
    return out


def accumulate(x: f64[:], w: f64, out: f64[:]) -> None:
    for i in range(out.shape[0]):
        for j in range(x.shape[0]):
            out[i] += w * x[j] * x[(i + j) % x.shape[0]]


def inplace(a: f64[:]) -> None:
    for i in range(1, a.shape[0]):
        a[i] = a[i] * a[i - 1] + 0.5 * a[i]


def local_work(x: f64[:]) -> f64:
    work = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        work[i] = math.tanh(x[i])
    total = 0.0
    for i in range(x.shape[0]):
        total += work[i] * work[(i + 2) % x.shape[0]]
    return total


@kernel
def helper(a: f64, b: f64) -> f64:
    return a * math.sin(b) + b * b


def calls(x: f64[:], y: f64) -> f64[:]:
    out = np.empty(x.shape[0] - 1)
    for i in range(x.shape[0] - 1):
        out[i] = helper(x[i], x[i + 1] * y)
    return out


def single32(x: f32[:], s: f32) -> f32[:]:
    out = np.empty(x.shape[0], dtype=np.float32)
    for i in range(x.shape[0]):
        out[i] = s * x[i] * x[i] + x[0]
    return out


def single64(x: f64[:], s: f64) -> f64[:]:  # single32 in float64, for differences
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = s * x[i] * x[i] + x[0]
    return out


def stats(x: f64[:], y: f64[:]) -> tuple[f64, f64[:]]:
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return total, x * y + np.sin(y)


def outer2d(x: f64[:], y: f64[:]) -> f64[:, :]:
    out = np.empty((x.shape[0], y.shape[0]))
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            out[i, j] = x[i] * math.exp(y[j] * x[i])
    return out


def matvec(a: f64[:, :], v: f64[:]) -> f64[:]:
    return a @ v


def scalar2(x: f64, y: f64) -> f64:
    r = 0.0
    for k in range(4):
        r = r * x + math.sin(y * k)
    return r


def triple(x: f64[:]) -> tuple[f64, f64[:], f64]:
    return x[0] * x[1], x * x, np.sum(x)


def both(x: f64[:], out: f64[:]) -> f64[:]:
    for i in range(out.shape[0]):
        out[i] = x[i] * x[(i + 1) % x.shape[0]]
    return np.cos(x) * out[0]


def early_exit(x: f64[:]) -> f64[:]:
    out = np.zeros(x.shape[0])
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * x[i]
        if acc > 1.5:
            break
        out[i] = acc * x[i]
    return out


def stencil_steps(u0: f64[:], k: f64) -> f64[:]:
    u = u0.copy()
    un = np.zeros(u0.shape[0])
    for _ in range(3):
        for i in range(1, u.shape[0] - 1):
            un[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1]) - 0.1 * u[i] ** 3
        un[0] = u[0]
        un[u.shape[0] - 1] = u[u.shape[0] - 1]
        u, un = un, u
    return u.copy()


@ember.custom_jvp
@kernel
def softplus(x: f64) -> f64:
    return math.log(1.0 + math.exp(x))


@softplus.defjvp
def softplus_jvp(x: f64, dx: f64) -> f64:
    return dx / (1.0 + math.exp(-x))


def uses_rule(x: f64[:]) -> f64[:]:
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = softplus(x[i]) * x[(i + 1) % x.shape[0]]
    return out


# kernel, args, wrt, outputs
CASES = {
    "break": (early_exit, (X5,), "x", None),
    "time_loop": (stencil_steps, (X5, 0.3), ("u0", "k"), None),
    "custom_rule": (uses_rule, (X5,), "x", None),
    "loop": (poly_loop, (X5, 0.8), ("x", "s"), None),
    "while": (while_loop, (np.array([0.9, 0.4, 0.6]),), "x", None),
    "branches": (branches, (X5, 0.6), ("x", "c"), None),
    "out_param": (accumulate, (X5[:3], 1.5, np.array([0.1, 0.2, 0.3, 0.4])), ("x", "w"),
                  "out"),
    "inplace": (inplace, (X5.copy(),), "a", "a"),
    "local_arrays": (local_work, (X5,), "x", None),
    "calls": (calls, (X5, 1.3), ("x", "y"), None),
    "tuple": (stats, (X5[:4], X5[1:]), ("x", "y"), None),
    "2d_result": (outer2d, (X5[:3], X5[2:]), ("x", "y"), None),
    "2d_input": (matvec, (RNG.standard_normal((3, 4)), RNG.standard_normal(4)), ("a", "v"),
                 None),
    "scalars": (scalar2, (0.7, 1.2), ("x", "y"), None),
    "triple": (triple, (X5[:3],), 0, None),
    "param_and_return": (both, (X5[:3], np.zeros(3)), "x", ("out", "return")),
}


def _leaves(value):
    if isinstance(value, tuple):
        return [x for v in value for x in _leaves(v)]
    return [np.asarray(value, dtype=np.float64)]


def _names(f, wrt):
    params = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    items = [wrt] if isinstance(wrt, str | int) else list(wrt)
    return [params[i] if isinstance(i, int) else i for i in items], params


def _evaluate(f, args, params, outputs):
    """The output leaves of the plain Python function on copies of `args`."""
    args = copy.deepcopy(list(args))
    result = f(*args)
    outs = ["return"] if outputs is None else (
        [outputs] if isinstance(outputs, str) else list(outputs))
    return [x for o in outs for x in (_leaves(result) if o == "return"
                                      else [np.asarray(args[params.index(o)], np.float64)])]


def finite_jacobian(f, args, wrt, outputs, h=1e-6):
    """Central differences: [output leaf][wrt] -> array of shape O + I."""
    names, params = _names(f, wrt)
    base = _evaluate(f, args, params, outputs)
    jac = [[None] * len(names) for _ in base]
    for k, name in enumerate(names):
        p = params.index(name)
        x = np.asarray(args[p], dtype=np.float64)
        cols = []
        for e in range(x.size):
            plus, minus = (list(args), list(args))
            for sign, target in ((1, plus), (-1, minus)):
                moved = x.copy().reshape(-1)
                moved[e] += sign * h
                target[p] = moved.reshape(x.shape) if x.ndim else float(moved[0])
            hi, lo = (_evaluate(f, a, params, outputs) for a in (plus, minus))
            cols.append([(a - b) / (2 * h) for a, b in zip(hi, lo, strict=True)])
        for o, out in enumerate(base):
            jac[o][k] = np.stack([c[o] for c in cols], axis=-1).reshape(out.shape + x.shape)
    return jac


def _close(got, want, rtol=1e-6):
    got = np.asarray(got)
    assert got.shape == want.shape
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("case", sorted(CASES))
def test_jacobians_match_finite_differences(case):
    f, args, wrt, outputs = CASES[case]
    want = finite_jacobian(f, args, wrt, outputs)
    n_wrt = len(_names(f, wrt)[0])
    k = kernel(f)
    fwd = jacfwd(k, wrt=wrt, outputs=outputs)(*copy.deepcopy(args))
    rev = jacrev(k, wrt=wrt, outputs=outputs)(*copy.deepcopy(args))
    for got in (fwd, rev):
        blocks = _jacobian_blocks(got, want, n_wrt, outputs)
        for o, row in enumerate(want):
            for w, block in enumerate(row):
                _close(blocks[o][w], block)
    for a, b in zip(_leaves_of(fwd), _leaves_of(rev), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _leaves_of(value):
    if isinstance(value, tuple):
        return [x for v in value for x in _leaves_of(v)]
    return [np.asarray(value)]


def _jacobian_blocks(got, want, n_wrt, outputs):
    leaves = _leaves_of(got)
    assert len(leaves) == len(want) * n_wrt
    it = iter(leaves)
    return [[next(it) for _ in range(n_wrt)] for _ in want]


def test_shapes_follow_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x, y = X5[:4], X5[1:]
    want = jax.jacfwd(lambda x, y: (jnp.sum(x * y), x * y + jnp.sin(y)), argnums=(0, 1))(x, y)
    got = jacrev(stats, wrt=("x", "y"))(x, y)
    assert isinstance(got, tuple) and all(isinstance(g, tuple) for g in got)
    for g, w in zip(_leaves_of(got), jax.tree_util.tree_leaves(want), strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-12, atol=1e-14)
    a, v = CASES["2d_input"][1]
    ja = jacfwd(matvec, wrt="a")(a, v)
    assert ja.shape == (3, 3, 4)  # O + I
    np.testing.assert_allclose(ja, np.asarray(jax.jacrev(lambda a: a @ v)(a)), atol=1e-14)
    h = jacrev(scalar2, wrt="x")(0.7, 1.2)  # float output, float input: a scalar
    assert np.ndim(h) == 0 and not isinstance(h, tuple)


def test_vjp_and_jvp_of_tuple_and_array_results():
    x, y = X5[:4], X5[1:]
    (j0x, j0y), (j1x, j1y) = jacrev(stats, wrt=("x", "y"))(x, y)
    c0, c1 = 0.7, RNG.standard_normal(4)
    gx, gy = vjp(stats, wrt=("x", "y"))(x, y, cotangents=((c0, c1),))
    np.testing.assert_allclose(gx, c0 * j0x + c1 @ j1x, rtol=1e-12)
    np.testing.assert_allclose(gy, c0 * j0y + c1 @ j1y, rtol=1e-12)
    t = RNG.standard_normal(4)
    value, (t0, t1) = jvp(stats, wrt="x")(x, y, tangents=(t,))
    want = stats(x, y)
    assert value[0] == pytest.approx(want[0], rel=1e-15)
    np.testing.assert_allclose(value[1], want[1], rtol=1e-15)
    assert t0 == pytest.approx(j0x @ t, rel=1e-12)
    np.testing.assert_allclose(t1, j1x @ t, rtol=1e-12)
    value, tangent = jvp(outer2d, wrt="y")(X5[:3], X5[2:], tangents=(np.ones(3),))
    np.testing.assert_allclose(value, outer2d(X5[:3], X5[2:]), rtol=1e-15)
    np.testing.assert_allclose(tangent, jacfwd(outer2d, wrt="y")(X5[:3], X5[2:]).sum(-1),
                               rtol=1e-12)
    c_out, c_ret = RNG.standard_normal(3), RNG.standard_normal(3)
    j_out, j_ret = jacrev(both, wrt="x", outputs=("out", "return"))(X5[:3], np.zeros(3))
    g = vjp(both, wrt="x", outputs=("out", "return"))(X5[:3], np.zeros(3),
                                                     cotangents=(c_out, c_ret))
    np.testing.assert_allclose(g, c_out @ j_out + c_ret @ j_ret, rtol=1e-12)
    with pytest.raises(TypeError, match="tuple of 2 items"):
        vjp(stats, wrt="x")(x, y, cotangents=(c1,))
    with pytest.raises(TypeError, match="one value for each of return"):
        vjp(stats, wrt="x")(x, y, cotangents=())
    with pytest.raises(TypeError, match="derivatives need a float"):
        grad(stats)(x, y)  # a gradient still needs a float result


def test_side_effects_happen_once():
    x = X5[:3].copy()
    base = np.arange(8.0)[::2]  # a strided output: written back after the calls
    want = base.copy()
    accumulate(x, 1.5, want)
    for transform in (jacfwd, jacrev):
        out = base.copy()
        strided = np.zeros(8)
        strided[::2] = base
        j = transform(accumulate, wrt=0, outputs=2)(x, 1.5, strided[::2])
        assert j.shape == (4, 3)
        np.testing.assert_allclose(strided[::2], want, rtol=1e-15)
        transform(accumulate, wrt="x", outputs="out")(x, 1.5, out)
        np.testing.assert_allclose(out, want, rtol=1e-15)
    a = X5.copy()
    jacrev(inplace, wrt="a", outputs="a")(a)
    b = X5.copy()
    inplace(b)
    np.testing.assert_array_equal(a, b)


def test_float32_jacobians():
    x, s = np.array([0.5, -1.25, 2.0], dtype=np.float32), np.float32(0.75)
    want = finite_jacobian(single64, (x.astype(np.float64), 0.75), ("x", "s"), None)
    for transform in (jacfwd, jacrev):
        jx, js = transform(single32, wrt=("x", "s"))(x, s)
        assert jx.dtype == np.float32 and js.dtype == np.float32
        _close(jx, want[0][0], rtol=1e-6)  # exact in float32 at these inputs
        _close(js, want[0][1], rtol=1e-6)
    value, tangent = jvp(single32, wrt="s")(x, s, tangents=(1.0,))
    assert value.dtype == np.float32 and tangent.dtype == np.float32


def test_decorator_defaults_and_refusals():
    @jacrev
    def first(x: f64[:], s: f64) -> f64[:]:
        return np.sin(x) * s

    np.testing.assert_allclose(first(X5, 2.0), np.diag(np.cos(X5) * 2.0), rtol=1e-14)
    np.testing.assert_allclose(jacfwd(wrt="s")(first.kernel.py_func)(X5, 2.0), np.sin(X5))
    pair = jacrev(tuple_param, wrt="p")(X5, p=(0.5, 2.0))  # keywords; a tuple parameter
    assert isinstance(pair, tuple) and len(pair) == 2
    np.testing.assert_allclose(pair[0], np.sin(X5 * 2.0), rtol=1e-14)
    np.testing.assert_allclose(pair[1], 0.5 * X5 * np.cos(X5 * 2.0), rtol=1e-14)
    with pytest.raises(TypeError, match="no float result; name the array outputs"):
        jacrev(accumulate)(X5[:3], 1.0, np.zeros(2))
    with pytest.raises(TypeError, match="takes a kernel"):
        jacrev(grad(scalar2))
    with pytest.raises(TypeError, match=r"returns int64\[:\]"):
        jacfwd(counts)(X5)
    with pytest.raises(TypeError, match=r"item 1 of"):
        jacrev(with_count)(X5)
    with pytest.raises(ValueError, match="outputs position 5 out of range"):
        jacrev(accumulate, outputs=5)


def tuple_param(x: f64[:], p: tuple[f64, f64] = (1.0, 1.0)) -> f64[:]:
    return p[0] * np.sin(x * p[1])


def while_default(x: f64[:], s: f64 = 1.0) -> f64[:]:
    t = 0.5
    k = 0
    while t < 6.0:
        t = t * 1.3 + s * x[k % x.shape[0]] ** 2
        k += 1
    return x * t


def counts(x: f64[:]) -> ember.i64[:]:
    return (x > 0.0).astype(np.int64)


def with_count(x: f64[:]) -> tuple[f64, ember.i64]:
    return x[0], x.shape[0]


def test_jacfwd_of_grad_is_the_hessian():
    h = jacfwd(grad(scalar2, wrt=("x", "y")), wrt=("x", "y"))(0.7, 1.2)
    g = grad(scalar2, wrt=("x", "y"))
    step = 1e-6
    for j, (dx, dy) in enumerate(((step, 0.0), (0.0, step))):
        plus, minus = g(0.7 + dx, 1.2 + dy), g(0.7 - dx, 1.2 - dy)
        for i in range(2):
            assert h[i][j] == pytest.approx((plus[i] - minus[i]) / (2 * step), rel=1e-6)


def test_while_loops_with_default_parameters():
    # the trip-counting entry takes flat arguments (it once got the kernel's binding)
    x = np.array([0.9, 0.4, 0.6])
    for s, args in ((1.0, (x,)), (2.0, (x, 2.0))):
        want = finite_jacobian(while_default, (x, s), ("x", "s"), None)
        got = jacrev(while_default, wrt=("x", "s"))(*args)
        _close(got[0], want[0][0])
        _close(got[1], want[0][1])
    ct = np.array([1.0, -2.0, 0.5])  # vjp through runtime/derivcall.py's trip counts
    np.testing.assert_allclose(vjp(while_default)(x, cotangents=(ct,)),
                               ct @ jacrev(while_default)(x), rtol=1e-12)


def test_quick_path_is_bitwise_the_row_by_row_path():
    """The quick path (runtime/jacquick.py, a plan per argument signature) gives bitwise the
    Jacobians and side effects of the row-by-row path (runtime/jacloop.py), on its first and
    a later call, in both modes; other argument shapes get their own plan."""
    for case in ("scalars", "loop", "tuple", "out_param", "while", "inplace"):
        f, args, wrt, outputs = CASES[case]
        k = kernel(f)
        for transform in (jacrev, jacfwd):
            j = transform(k, wrt=wrt, outputs=outputs)
            rows_args = copy.deepcopy(args)
            want = j.rows(*rows_args)
            for _ in range(2):
                quick_args = copy.deepcopy(args)
                got = j(*quick_args)
                for a, b in zip(_leaves_of(got), _leaves_of(want), strict=True):
                    assert a.shape == b.shape and a.dtype == b.dtype
                    np.testing.assert_array_equal(a, b, strict=True)
                for a, b in zip(quick_args, rows_args, strict=True):
                    np.testing.assert_array_equal(a, b)
    j = jacrev(poly_loop, wrt="x")
    for n in (3, 5, 3):
        np.testing.assert_array_equal(j(X5[:n], 0.8), j.rows(X5[:n], 0.8), strict=True)
    np.testing.assert_array_equal(j(X5[::2], 0.8), j.rows(X5[::2].copy(), 0.8), strict=True)
