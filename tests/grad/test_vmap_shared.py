"""`vmap(grad(f))` passes an unbatched `wrt` array the kernel only reads as one block repeated
with stride 0 (no copy per element) and calls the derivative entry directly: the per-example
gradients are bitwise those of a loop of `grad` calls (and match central differences) for
2-D and 1-D shared weights, a scalar one (still copied), a reshape of the shared array, a
non-contiguous, read-only or one-row weight, parallel=True, value_and_grad and out_axes=1;
arguments the direct call does not take (non-contiguous batches, keywords, differing batch
sizes, a weight the kernel writes) take the general path with the same results and errors;
the entry refuses a stride-0 view over a block that is not in C order."""

import math

import numpy as np
import pytest

from ember import f64, grad, kernel, value_and_grad, vmap

RNG = np.random.default_rng(16)
N = 7


@kernel
def mlp(w1: f64[:, :], w2: f64[:], bias: float, x: f64[:], y: float) -> float:
    h = np.zeros(w1.shape[0])
    for i in range(w1.shape[0]):
        s = bias
        for j in range(w1.shape[1]):
            s += w1[i, j] * x[j]
        h[i] = math.tanh(s)
    o = 0.0
    for i in range(len(w2)):
        o += w2[i] * h[i]
    return (o - y) ** 2


@kernel
def flat(w: f64[:, :], x: f64[:]) -> float:
    v = w.ravel()  # read through the strides of the (stride-0) batched view
    s = 0.0
    for k in range(len(v)):
        s += math.sin(v[k] * x[k % len(x)])
    return s


@kernel
def writes(w: f64[:], x: f64[:]) -> float:
    w[0] = w[0] * 1.0  # written: its batched copies are real copies
    s = 0.0
    for k in range(len(w)):
        s += w[k] * w[k] * x[k]
    return s


def _fd(f, args, i, eps=1e-6):
    x = np.asarray(args[i], dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        g[idx] = (f(*[hi if j == i else a for j, a in enumerate(args)])
                  - f(*[lo if j == i else a for j, a in enumerate(args)])) / (2 * eps)
    return g if x.shape else float(g)


def _data(h=3, d=5):
    return (RNG.standard_normal((h, d)) * 0.4, RNG.standard_normal(h), 0.1,
            RNG.standard_normal((N, d)), RNG.standard_normal(N))


def _uses_direct_call(batched):
    return type(batched._direct).__name__ == "_Direct"


def test_shared_weights_bitwise_equal_loop_and_fd():
    w1, w2, bias, xs, ys = _data()
    g = grad(mlp, wrt=("w1", "w2", "bias"))
    per = vmap(g, in_axes=(None, None, None, 0, 0))
    for _ in range(2):  # the first call compiles, the second takes the direct call
        g1, g2, gb = per(w1, w2, bias, xs, ys)
    assert _uses_direct_call(per)
    assert g1.shape == (N, *w1.shape) and g2.shape == (N, len(w2)) and gb.shape == (N,)
    for b in range(N):
        want = g(w1, w2, bias, xs[b], ys[b])
        np.testing.assert_array_equal(g1[b], want[0])
        np.testing.assert_array_equal(g2[b], want[1])
        assert gb[b] == want[2]
    args = [w1, w2, bias, xs[2], ys[2]]
    np.testing.assert_allclose(g1[2], _fd(mlp, args, 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g2[2], _fd(mlp, args, 1), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gb[2], _fd(mlp, args, 2), rtol=1e-6, atol=1e-9)
    w1t = np.asfortranarray(w1)  # a non-contiguous weight: one contiguous copy, then shared
    np.testing.assert_array_equal(per(w1t, w2, bias, xs, ys)[0], g1)
    r1 = w1.copy()
    r1.setflags(write=False)  # read-only weights are fine: the kernel only reads them
    np.testing.assert_array_equal(per(r1, w2, bias, xs, ys)[0], g1)
    one = RNG.standard_normal((3, w1.shape[1]))[::3]  # one row: contiguous, any row stride
    assert one.flags.c_contiguous and one.strides[0] != one.strides[1] * one.shape[1]
    got = per(one, w2[:1], bias, xs, ys)
    for b in range(N):
        want = g(one, w2[:1], bias, xs[b], ys[b])
        np.testing.assert_array_equal(got[0][b], want[0])
    par = vmap(g, in_axes=(None, None, None, 0, 0), parallel=True)  # a prange over shared
    for _ in range(2):
        got = par(w1, w2, bias, xs, ys)
    assert _uses_direct_call(par)
    for a, b in zip(got, (g1, g2, gb), strict=True):
        np.testing.assert_array_equal(a, b)


def test_shared_weights_values_out_axes_and_reshapes():
    w1, w2, bias, xs, ys = _data()
    vg = vmap(value_and_grad(mlp, wrt="w1"), in_axes=(None, None, None, 0, 0), out_axes=1)
    for _ in range(2):
        values, g1 = vg(w1, w2, bias, xs, ys)
    assert _uses_direct_call(vg)
    assert g1.shape == (w1.shape[0], N, w1.shape[1])
    for b in range(N):
        assert values[b] == mlp(w1, w2, bias, xs[b], ys[b])
        np.testing.assert_array_equal(g1[:, b], grad(mlp)(w1, w2, bias, xs[b], ys[b]))
    w, xs2 = RNG.standard_normal((3, 4)), RNG.standard_normal((N, 5))
    pf = vmap(grad(flat), in_axes=(None, 0))
    for _ in range(2):
        got = pf(w, xs2)
    assert _uses_direct_call(pf)
    for b in range(N):
        np.testing.assert_array_equal(got[b], grad(flat)(w, xs2[b]))
    np.testing.assert_allclose(got[3], _fd(flat, [w, xs2[3]], 0), rtol=1e-6, atol=1e-9)


def test_general_path_where_the_direct_call_does_not_apply():
    w1, w2, bias, xs, ys = _data()
    g = grad(mlp, wrt=("w1", "w2"))
    per = vmap(g, in_axes=(None, None, None, 0, 0))
    want = per(w1, w2, bias, xs, ys)
    xs_f = np.asfortranarray(xs)  # a non-contiguous batch
    for got in (per(w1, w2, bias, xs_f, ys), per(w1, w2, bias, x=xs, y=ys),
                per(w1.tolist(), w2, bias, xs, ys)):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    with pytest.raises(ValueError, match="batch sizes differ"):
        per(w1, w2, bias, xs, ys[:-1])
    w, xs3 = RNG.standard_normal(4), RNG.standard_normal((N, 4))
    pw = vmap(grad(writes), in_axes=(None, 0))
    before = w.copy()
    for _ in range(2):
        got = pw(w, xs3)
    assert not _uses_direct_call(pw)  # the kernel writes `w`: copies, never a shared view
    np.testing.assert_array_equal(w, before)
    for b in range(N):
        np.testing.assert_array_equal(got[b], grad(writes)(w.copy(), xs3[b]))


def test_entry_takes_stride_zero_only_over_a_c_ordered_block():
    """The derivative entry's thunk accepts a stride-0 axis 0 only over C-order strides (the
    kernel's inner stride is 1): a view over a transposed block is refused, never misread."""
    w1, w2, bias, xs, ys = _data(h=4, d=4)
    per = vmap(grad(mlp, wrt=("w1", "w2")), in_axes=(None, None, None, 0, 0))
    for _ in range(2):
        want = per(w1, w2, bias, xs, ys)
    main = per._direct.main
    v2, values = np.broadcast_to(w2, (N, 4)), np.empty(N)

    def call(v1):
        d1, d2 = np.zeros(v1.shape), np.zeros(v2.shape)
        main(v1, d1, v2, d2, bias, xs, ys, values, np.zeros(N), 1.0)
        return d1

    np.testing.assert_array_equal(call(np.broadcast_to(w1, (N, 4, 4))), want[0])
    for bad in (np.broadcast_to(w1.T, (N, 4, 4)), np.broadcast_to(w1[:, :1], (N, 4, 4))):
        with pytest.raises(RuntimeError, match="rejected its arguments"):
            call(bad)
