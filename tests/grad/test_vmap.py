"""`vmap`: a kernel mapped over an axis of its arguments equals a Python loop of calls (values,
dtypes, shapes, mutated arguments), serially and with parallel=True, for kernels with loops,
while, branches, early exits, mutation, local arrays, calls, f32, int/bool and scalar/array/
tuple results, in_axes None/0/1/2 and out_axes 0/1; one build serves every batch size;
`vmap(grad(f))` equals a loop of `grad` calls and central differences; `grad`/`vjp`/`jvp` of
kernels built on `vmap`; the errors of bad axes, differing batch sizes and parallel races."""

import math

import numpy as np
import pytest

from ember import (
    CompileError,
    check_grad,
    f32,
    f64,
    grad,
    jvp,
    kernel,
    value_and_grad,
    vjp,
    vmap,
)

RNG = np.random.default_rng(7)
B = 5


def poly_loop(x: f64[:], a: float) -> float:
    s = 0.0
    for i in range(len(x)):
        s = s * a + math.sin(x[i])
    return s


def newton_sqrt(c: float) -> float:
    y = c + 1.0
    while abs(y * y - c) > 1e-13 * (c + 1.0):
        y = 0.5 * (y + c / y)
    return y


def branchy(x: f64[:], t: float) -> float:
    s = 0.0
    for i in range(len(x)):
        if x[i] > t:
            s += x[i] * x[i]
        elif x[i] < -t:
            s -= x[i]
        else:
            s += t * math.cos(x[i])
    return s


def scale_inplace(x: f64[:], a: float) -> None:
    for i in range(len(x)):
        x[i] = x[i] * a + 1.0


def accumulate(x: f64[:], acc: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        acc[i] += x[i]
        s += acc[i]
    return s


def cumulative(x: f64[:]) -> f64[:]:
    c = np.zeros(len(x))
    run = 0.0
    for i in range(len(x)):
        run += x[i] * x[i]
        c[i] = math.sqrt(run)
    return c


@kernel
def dot(x: f64[:], y: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i]
    return s


def calls_other(x: f64[:], y: f64[:]) -> float:
    return dot(x, y) / (1.0 + dot(x, x))


def single_precision(x: f32[:], s: f32) -> f32:
    acc = f32(0.0)
    for i in range(len(x)):
        acc += x[i] * s
    return acc * f32(0.5)


def centered(x: f64[:]) -> tuple[float, f64[:]]:
    m = np.mean(x)
    return m, x - m


def count_above(n: int, x: f64[:]) -> int:
    k = 0
    for i in range(len(x)):
        if x[i] * n > 1.0:
            k += 1
    return k


def gram(a: f64[:, :]) -> f64[:, :]:
    g = np.zeros((a.shape[1], a.shape[1]))
    for i in range(a.shape[1]):
        for j in range(a.shape[1]):
            for k in range(a.shape[0]):
                g[i, j] += a[k, i] * a[k, j]
    return g


def first_negative(x: f64[:]) -> float:
    for i in range(len(x)):
        if x[i] < 0.0:
            return float(i) + x[i]
    return -1.0


def any_big(x: f64[:], t: float) -> bool:
    return bool(np.max(x) > t)


def into_out(x: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = math.tanh(x[i]) * x[i]


def array_expr(x: f64[:], w: f64[:]) -> float:
    return np.sum(np.tanh(x * w)) + np.dot(x, w)


def with_default(x: f64[:], p: float = 2.0, *, scale: float = 1.0) -> float:
    return np.sum(np.abs(x) ** p) * scale


def tuple_param(x: f64[:], t: tuple[float, float]) -> float:
    return np.sum(x) * t[0] + t[1]


def _x(*shape):
    return RNG.standard_normal(shape)


# (kernel, in_axes, out_axes, batched arguments)
CASES = [
    (poly_loop, 0, 0, lambda: (_x(B, 4), _x(B))),
    (newton_sqrt, 0, 0, lambda: (RNG.random(B) * 4.0,)),
    (branchy, (1, None), 0, lambda: (_x(6, B), 0.5)),
    (scale_inplace, (0, 0), 0, lambda: (_x(B, 3), _x(B))),
    (cumulative, 0, 1, lambda: (_x(B, 4),)),
    (calls_other, (0, None), 0, lambda: (_x(B, 3), _x(3))),
    (single_precision, (0, 0), 0,
     lambda: (_x(B, 4).astype(np.float32), _x(B).astype(np.float32))),
    (centered, 0, (0, 1), lambda: (_x(B, 4),)),
    (count_above, (0, None), 0, lambda: (np.arange(B), _x(6))),
    (gram, 2, 0, lambda: (_x(4, 3, B),)),
    (first_negative, 0, 0, lambda: (np.abs(_x(B, 4)) * np.array([[1], [-1], [1], [1], [-1]]),)),
    (any_big, (0, None), 0, lambda: (_x(B, 3), 0.8)),
    (into_out, 0, 0, lambda: (_x(B, 3), np.zeros((B, 3)))),
    (array_expr, (None, 0), 0, lambda: (_x(3), _x(B, 3))),
]


def _element(args, in_axes, b):
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    out = []
    for a, axis in zip(args, axes, strict=True):
        if axis is None:
            out.append(a)
        elif np.ndim(a) == 1:
            out.append(a[b])
        else:
            out.append(a[(slice(None),) * axis + (b,)])
    return out


def _loop(f, args, in_axes, out_axes, size):
    """The Python loop of calls `vmap` must equal, stacked as JAX stacks."""
    results = [f(*_element(args, in_axes, b)) for b in range(size)]
    if results[0] is None:
        return None
    if not isinstance(results[0], tuple):
        return np.stack([np.asarray(r) for r in results], axis=out_axes)
    axes = out_axes if isinstance(out_axes, tuple) else (out_axes,) * len(results[0])
    return tuple(np.stack([np.asarray(r[k]) for r in results], axis=axes[k])
                 for k in range(len(axes)))


def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _same(g, w)
        return
    got = np.asarray(got)
    if got.dtype == np.float32 and want.dtype == np.float64:  # f32 kernels return Python floats
        want = want.astype(np.float32)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6 if got.dtype == np.float32 else 1e-13)


def _copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].__name__)
def test_vmap_equals_loop_of_calls(case):
    func, in_axes, out_axes, make = case
    args = make()
    size = _batch(args, in_axes)
    k = kernel(func)
    want_args = _copies(args)
    want = _loop(k, want_args, in_axes, out_axes, size)
    for parallel in (False, True):
        got_args = _copies(args)
        got = vmap(k, in_axes, out_axes, parallel=parallel)(*got_args)
        if want is None:
            assert got is None
        else:
            _same(got, want)
        for g, w in zip(got_args, want_args, strict=True):  # mutation hits the same slices
            np.testing.assert_array_equal(g, w)


def _batch(args, in_axes):
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    return next(np.shape(a)[ax] for a, ax in zip(args, axes, strict=True) if ax is not None)


def test_unbatched_writes_serial_and_parallel_refused():
    x, acc = _x(B, 3), _x(3)
    want_acc = acc.copy()
    want = [accumulate(x[b], want_acc) for b in range(B)]
    got = vmap(accumulate, in_axes=(0, None))(x, acc)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(acc, want_acc, rtol=1e-14)
    with pytest.raises(CompileError, match=r"parallel=True: 'acc' is written by the kernel but "
                                           r"not batched"):
        vmap(accumulate, in_axes=(0, None), parallel=True)(x, acc)


def test_defaults_nesting_and_one_build_per_signature():
    vd = vmap(with_default, in_axes=(0, None, None))
    x = _x(B, 3)
    np.testing.assert_allclose(vd(x), [with_default(x[b]) for b in range(B)], rtol=1e-14)
    np.testing.assert_allclose(vd(x, 3.0), [with_default(x[b], 3.0) for b in range(B)],
                               rtol=1e-14)
    np.testing.assert_allclose(vd(x, scale=0.5), [with_default(x[b], scale=0.5)
                                                  for b in range(B)], rtol=1e-14)
    scales = _x(B)
    np.testing.assert_allclose(vmap(with_default, in_axes=(0, None, 0))(x, scale=scales),
                               [with_default(x[b], scale=scales[b]) for b in range(B)],
                               rtol=1e-14)
    gs = vmap(grad(with_default, wrt="scale"), in_axes=(0, None, 0))(x, 3.0, scale=scales)
    np.testing.assert_allclose(gs, [with_default(x[b], 3.0) for b in range(B)], rtol=1e-13)
    build = vd._compiled
    vd(_x(9, 3))
    vd(_x(0, 3))
    assert vd._compiled is build  # no recompile for another batch size
    vv = vmap(vmap(poly_loop, in_axes=(0, None)), in_axes=(1, 0))
    xs, a = _x(3, 4, 2), _x(4)
    want = [[poly_loop(xs[i, j], a[j]) for i in range(3)] for j in range(4)]
    np.testing.assert_allclose(vv(xs, a), want, rtol=1e-14)


# --- derivatives ---------------------------------------------------------------------------


def logistic(w: f64[:], bias: float, x: f64[:], y: float) -> float:
    z = bias
    for j in range(len(w)):
        z += w[j] * x[j]
    p = 1.0 / (1.0 + math.exp(-z))
    return -(y * math.log(p) + (1.0 - y) * math.log(1.0 - p))


def tiny_mlp(w1: f64[:, :], w2: f64[:], x: f64[:], y: float) -> float:
    h = np.zeros(w1.shape[0])
    for i in range(w1.shape[0]):
        s = 0.0
        for j in range(w1.shape[1]):
            s += w1[i, j] * x[j]
        h[i] = math.tanh(s)
    o = dot(w2, h)
    k = 0
    while k < 2:  # a data-independent while
        o = o * 0.9 + 0.05
        k += 1
    return (o - y) ** 2


def _fd(f, args, i, eps=1e-6):
    """Central differences of scalar `f` with respect to argument `i` (array or scalar)."""
    x = np.asarray(args[i], dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        up = f(*[hi if j == i else a for j, a in enumerate(args)])
        down = f(*[lo if j == i else a for j, a in enumerate(args)])
        g[idx] = (up - down) / (2 * eps)
    return g if x.shape else float(g)


def test_per_example_gradients_equal_loop_and_fd():
    n, d = 6, 4
    w, bias, xs = _x(d) * 0.5, 0.1, _x(n, d)
    ys = (RNG.random(n) > 0.5).astype(float)
    k = kernel(logistic)
    g = grad(k, wrt=("w", "bias"))
    per_w, per_b = vmap(g, in_axes=(None, None, 0, 0))(w, bias, xs, ys)
    assert per_w.shape == (n, d) and per_b.shape == (n,)
    par_w, par_b = vmap(g, in_axes=(None, None, 0, 0), parallel=True)(w, bias, xs, ys)
    np.testing.assert_array_equal(par_w, per_w)  # a prange under grad: the same bits
    np.testing.assert_array_equal(par_b, per_b)
    for b in range(n):
        want_w, want_b = g(w, bias, xs[b], ys[b])
        np.testing.assert_allclose(per_w[b], want_w, rtol=1e-13)
        np.testing.assert_allclose(per_b[b], want_b, rtol=1e-13)
        args = [w, bias, xs[b], ys[b]]
        np.testing.assert_allclose(per_w[b], _fd(k, args, 0), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(per_b[b], _fd(k, args, 1), rtol=1e-6, atol=1e-9)
    values, gx = vmap(value_and_grad(k, wrt="x"), in_axes=(None, None, 1, 0), out_axes=0)(
        w, bias, xs.T.copy(), ys)
    np.testing.assert_allclose(values, [k(w, bias, xs[b], ys[b]) for b in range(n)],
                               rtol=1e-14)
    np.testing.assert_allclose(gx, [grad(k, wrt="x")(w, bias, xs[b], ys[b]) for b in range(n)],
                               rtol=1e-13)
    gx1 = vmap(grad(k, wrt="x"), in_axes=(None, None, 0, 0), out_axes=1)(w, bias, xs, ys)
    np.testing.assert_allclose(gx1, gx.T, rtol=1e-14)
    values1, gx2 = vmap(value_and_grad(k, wrt="x"), in_axes=(None, None, 0, 0), out_axes=1)(
        w, bias, xs, ys)  # the values have only the batch axis
    np.testing.assert_allclose(values1, values, rtol=1e-14)
    np.testing.assert_allclose(gx2, gx.T, rtol=1e-14)


def test_per_example_gradients_local_arrays_calls_while():
    n, h, d = 4, 3, 5
    w1, w2, xs, ys = _x(h, d) * 0.4, _x(h), _x(n, d), _x(n)
    k = kernel(tiny_mlp)
    g = grad(k, wrt=("w1", "w2"))
    g1, g2 = vmap(g, in_axes=(None, None, 0, 0))(w1, w2, xs, ys)
    for b in range(n):
        want1, want2 = g(w1, w2, xs[b], ys[b])
        np.testing.assert_allclose(g1[b], want1, rtol=1e-12)
        np.testing.assert_allclose(g2[b], want2, rtol=1e-12)
        np.testing.assert_allclose(g2[b], _fd(k, [w1, w2, xs[b], ys[b]], 1), rtol=1e-6)
    w1s = w1 + 0.1 * _x(n, h, d)  # a batched wrt argument: its own weights per element
    g1b = vmap(grad(k), in_axes=(0, None, 0, 0))(w1s, w2, xs, ys)
    for b in range(n):
        np.testing.assert_allclose(g1b[b], grad(k)(w1s[b], w2, xs[b], ys[b]), rtol=1e-12)
    cs = RNG.random(n) * 3.0 + 0.5  # a while loop whose trip count depends on the element
    np.testing.assert_allclose(vmap(grad(newton_sqrt))(cs), 0.5 / np.sqrt(cs), rtol=1e-10)
    np.testing.assert_allclose(vmap(grad(newton_sqrt))(cs),
                               [grad(newton_sqrt)(c) for c in cs], rtol=1e-14)
    xs32, s32 = xs.astype(np.float32)[:, :4], _x(n).astype(np.float32)
    gs = vmap(grad(single_precision, wrt="s"), in_axes=(0, 0))(xs32, s32)
    assert gs.dtype == np.float32
    np.testing.assert_allclose(gs, [grad(single_precision, wrt="s")(xs32[b], s32[b])
                                    for b in range(n)], rtol=1e-6)


vmapped_poly = vmap(poly_loop, in_axes=(0, None))
vmapped_branchy = vmap(branchy, in_axes=(1, 0), parallel=True)


def uses_vmap(xs: f64[:, :], a: float, ts: f64[:]) -> float:
    r = vmapped_poly(xs, a)
    q = vmapped_branchy(xs.T, ts)
    return np.sum(r * r) + np.sum(q)


vmapped_cumulative = vmap(cumulative)


def cumulative_out(x: f64[:], c: f64[:]) -> None:
    run = 0.0
    for i in range(len(x)):
        run += x[i] * x[i]
        c[i] = math.sqrt(run)


vmapped_cumulative_out = vmap(cumulative_out)


def uses_vmap_out(xs: f64[:, :]) -> float:
    c = np.zeros((xs.shape[0], xs.shape[1]))
    vmapped_cumulative_out(xs, c)
    return np.sum(c * c * xs)


def uses_vmap_result(xs: f64[:, :]) -> float:
    c = vmapped_cumulative(xs)  # element 0 runs after `if n == 0: raise`
    return np.sum(c * c * xs)


def checked_then_local(w: f64[:], x: f64[:]) -> float:
    if len(x) != len(w):
        raise ValueError("x and w differ in length")
    h = np.zeros(len(w))
    for i in range(len(w)):
        h[i] = math.tanh(w[i] * x[i])
    return np.sum(h * h)


def local_in_branch(w: f64[:], x: f64[:]) -> float:
    s = 0.0
    if x[0] > 0.0:
        h = np.zeros(len(w))
        for i in range(len(w)):
            h[i] = math.tanh(w[i] * x[i])
        s = np.sum(h * h)
    else:
        s = np.sum(w * x)
    return s


def test_derivatives_of_array_valued_vmaps():
    """Reverse mode through arrays allocated in an `scf.if` (after a raise, or in a branch):
    lowering/temporaries.py moves them before the `if` for Enzyme."""
    xs = RNG.random((B, 4)) + 0.1
    check_grad(uses_vmap_out, xs, rtol=1e-6)
    check_grad(uses_vmap_result, xs, rtol=1e-6)
    w, x = _x(4), RNG.random(4)
    check_grad(checked_then_local, w, x, wrt=("w", "x"), rtol=1e-6)
    check_grad(local_in_branch, w, x, wrt=("w", "x"), rtol=1e-6)
    check_grad(local_in_branch, w, -x, wrt=("w", "x"), rtol=1e-6)
    tan = _x(B, 4)
    val, dval = jvp(vmapped_cumulative, wrt="x")(xs, tangents=(tan,))
    for b in range(B):
        want_v, want_d = jvp(cumulative, wrt="x")(xs[b], tangents=(tan[b],))
        np.testing.assert_allclose(val[b], want_v, rtol=1e-13)
        np.testing.assert_allclose(dval[b], want_d, rtol=1e-12)


def test_gradients_of_kernels_built_on_vmap():
    xs, a, ts = _x(B, 4), 0.7, RNG.random(B) + 0.1
    check_grad(uses_vmap, xs, a, ts, wrt=("xs", "a", "ts"), rtol=1e-6)
    gx, ga = grad(uses_vmap, wrt=("xs", "a"))(xs, a, ts)
    want_a = 0.0
    for b in range(B):
        dx, da = grad(poly_loop, wrt=("x", "a"))(xs[b], a)
        r = poly_loop(xs[b], a)
        np.testing.assert_allclose(gx[b], 2 * r * dx + grad(branchy)(xs[b], ts[b]), rtol=1e-12)
        want_a += 2 * r * da
    np.testing.assert_allclose(ga, want_a, rtol=1e-12)
    vo = vmap(into_out)
    ct = _x(B, 3)
    got = vjp(vo, wrt="x", outputs="out")(xs[:, :3].copy(), np.zeros((B, 3)), cotangents=(ct,))
    want = [vjp(into_out, wrt="x", outputs="out")(xs[b, :3].copy(), np.zeros(3),
                                                   cotangents=(ct[b],)) for b in range(B)]
    np.testing.assert_allclose(got, want, rtol=1e-13)
    tan, avec, ta = _x(B, 4), _x(B), _x(B)
    val, dval = jvp(vmap(poly_loop), wrt="x")(xs, avec, tangents=(tan,))
    bval, bdval = vmap(jvp(poly_loop, wrt=("x", "a")), in_axes=(0, None))(
        xs, 0.7, tangents=(tan, ta))  # per-element tangents of the unbatched `a` too
    for b in range(B):
        want_v, want_d = jvp(poly_loop, wrt="x")(xs[b], avec[b], tangents=(tan[b],))
        np.testing.assert_allclose((val[b], dval[b]), (want_v, want_d), rtol=1e-12)
        want_v, want_d = jvp(poly_loop, wrt=("x", "a"))(xs[b], 0.7, tangents=(tan[b], ta[b]))
        np.testing.assert_allclose((bval[b], bdval[b]), (want_v, want_d), rtol=1e-12)


# --- errors --------------------------------------------------------------------------------


def test_bad_axes_and_batch_sizes():
    with pytest.raises(ValueError, match=r"in_axes has 1 entries but the kernel has 2 "
                                         r"parameters \(x, a\)"):
        vmap(poly_loop, in_axes=(0,))
    with pytest.raises(TypeError, match="in_axes entries must be ints or None, not 'x'"):
        vmap(poly_loop, in_axes=("x", 0))
    with pytest.raises(TypeError, match="in_axes must be an int, None or a tuple"):
        vmap(poly_loop, in_axes=1.5)
    with pytest.raises(ValueError, match="maps no parameter"):
        vmap(poly_loop, in_axes=None)
    with pytest.raises(TypeError, match="out_axes must be an int or a tuple of ints"):
        vmap(poly_loop, out_axes="0")
    vbad = vmap(poly_loop, in_axes=(2, 0))
    with pytest.raises(ValueError, match="in_axes entry 2 for 'x' is out of range: its "
                                         r"batched argument has 2 dimension\(s\)"):
        vbad(_x(3, 4), _x(3))
    with pytest.raises(ValueError, match="out_axes entry 1 for result 0 is out of range"):
        vmap(poly_loop, out_axes=1)(_x(3, 4), _x(3))
    with pytest.raises(ValueError, match=r"vmap\(poly_loop\): batch sizes differ: 'x' has 3 "
                                         r"along axis 0, 'a' has 2 along axis 0"):
        vmap(poly_loop)(_x(3, 4), _x(2))
    with pytest.raises(ValueError, match=r"cannot map over an empty batch \(size 0\)"):
        vmap(cumulative)(_x(0, 4))
    with pytest.raises(CompileError, match="'t' of 'tuple_param' is a tuple or Optional "
                                           "parameter"):
        vmap(tuple_param, in_axes=(0, None))(_x(3, 4), (1.0, 2.0))
    with pytest.raises(CompileError, match="target='gpu' kernels cannot; vmap the CPU kernel"):
        vmap(kernel(into_out, target="gpu"))(_x(3, 4), np.zeros((3, 4)))
    with pytest.raises(TypeError, match="for vjp, vmap the kernel"):
        vmap(vjp(poly_loop))
    with pytest.raises(ValueError, match="batch sizes differ: 'x' has 3 along axis 0, 'y' has "
                                         "2 along axis 0"):
        vmap(grad(logistic), in_axes=(None, None, 0, 0))(_x(4), 0.0, _x(3, 4), _x(2))
