"""Tuples holding arrays (results, locals, values passed between kernels) and kernels that
return their array parameters or views of them: the caller gets an array sharing the
argument's memory (the argument itself when nothing changed), as NumPy and Numba give."""

import numpy as np
import pytest

from ember import f32, f64, i64, kernel


@kernel
def split(x: f64[:], cut: float) -> tuple[f64[:], f64[:], int]:
    above = np.zeros(x.shape[0])
    below = np.zeros(x.shape[0])
    n = 0
    for v in x:
        if v > cut:
            above[n] = v
            n += 1
    m = 0
    for v in x:
        if v <= cut:
            below[m] = v
            m += 1
    return above[:n], below[:m], n


@kernel
def moments(a: f64[:, :]) -> tuple[f64[:], f64[:]]:
    return a.mean(axis=0), a.std(axis=0)


@kernel
def swap_pairs(a: f64[:], b: f64[:], steps: int) -> tuple[f64[:], float]:
    t = (a * 1.0, b * 1.0)
    for _ in range(steps):
        u, v = t
        t = (v, u + 0.5 * v)
    first, second = t
    return first, second[0] + len(t)


@kernel
def uses_split(x: f64[:]) -> float:
    hi, lo, n = split(x, 0.0)
    pair = moments(np.outer(hi, hi))
    return hi.sum() - lo.sum() + n + pair[0][0]


def _both_paths(k, *args):
    """The result through the C dispatcher and through the Python entry (ctypes)."""
    fast = k(*args)
    return fast, k.compile().entry(*args)


def test_tuple_of_arrays_and_scalars():
    x = np.array([0.5, -1.0, 2.0, -0.25, 3.0])
    assert split.compile().fast_spec[1] == "t1d1dq"
    for got in _both_paths(split, x, 0.0):
        want = split.py_func(x, 0.0)
        assert [type(v) for v in got] == [np.ndarray, np.ndarray, int]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
        assert got[0].flags.owndata or got[0].base is not None
    empty = split(np.zeros(0), 0.0)
    assert empty[0].shape == (0,) and empty[2] == 0


def test_tuple_results_of_reductions():
    a = np.random.default_rng(1).normal(size=(6, 3))
    mean, std = moments(a)
    np.testing.assert_allclose(mean, a.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, a.std(axis=0), rtol=1e-12)


def test_tuple_locals_carried_by_a_loop():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    got = swap_pairs(a, b, 5)
    want = swap_pairs.py_func(a, b, 5)
    np.testing.assert_allclose(got[0], want[0])
    assert got[1] == pytest.approx(want[1])


def test_tuples_passed_between_kernels():
    x = np.array([0.5, -1.0, 2.0, -0.25, 3.0])
    assert uses_split(x) == pytest.approx(uses_split.py_func(x))


@kernel
def scale_(x: f64[:], k: float) -> f64[:]:
    for i in range(x.shape[0]):
        x[i] *= k
    return x


@kernel
def interior(x: f64[:, :]) -> f64[:, :]:
    return x[1:-1, 1:-1]


@kernel
def flipped(x: f64[:, :]) -> f64[:, :]:
    return x.T


@kernel
def as_rows(x: f64[:]) -> f64[:, :]:
    return x.reshape(2, -1)


@kernel
def param_or_new(x: f64[:], n: int) -> f64[:]:
    y = np.zeros(3)
    if n > 0:
        return x
    return y


@kernel
def with_norm(x: f32[:]) -> tuple[f32[:], float, f32[:]]:
    s = 0.0
    for v in x:
        s += v * v
    return x, s**0.5, x[::2]


def test_returning_a_parameter_gives_the_argument():
    x = np.arange(4.0)
    for _ in range(2):  # the Python entry on the first call, then the C dispatcher
        got = scale_(x, 2.0)
        assert got is x
    np.testing.assert_array_equal(x, np.arange(4.0) * 4)
    assert scale_.compile().entry(x, 1.0) is x


def test_returned_views_share_the_arguments_memory():
    a = np.arange(20.0).reshape(4, 5).copy()  # owns its memory: the base of its views
    for got in _both_paths(interior, a):
        assert got.base is a and np.shares_memory(got, a)
        np.testing.assert_array_equal(got, a[1:-1, 1:-1])
    for got in _both_paths(flipped, a):
        assert got.base is a and got.strides == a.T.strides
    view = a[1:3]  # a view argument: the result's base collapses to the owner, as in numpy
    assert interior(view).base is a
    ro = a.copy()
    ro.flags.writeable = False
    assert not interior(ro).flags.writeable
    flat = np.arange(6.0)
    rows = as_rows(flat)
    assert rows.base is flat and rows.shape == (2, 3)
    strided = np.arange(12.0)[::2]  # not contiguous: reshape copies
    rows = as_rows(strided)
    assert not np.shares_memory(rows, strided)
    np.testing.assert_array_equal(rows, strided.reshape(2, -1))


def test_a_parameter_or_a_new_array():
    x = np.ones(4)
    assert param_or_new(x, 1) is x
    y = param_or_new(x, 0)
    assert not np.shares_memory(x, y) and y.tolist() == [0.0, 0.0, 0.0]


def test_parameters_inside_tuple_results():
    x = np.arange(1.0, 6.0, dtype=np.float32)
    for got in _both_paths(with_norm, x):
        assert got[0] is x and got[2].base is x
        assert got[1] == pytest.approx(float(np.linalg.norm(x)), rel=1e-6)
        np.testing.assert_array_equal(got[2], x[::2])


@kernel
def fill_and_return(x: f64[:], n: i64) -> f64[:]:
    if n > 0:
        return scale_(x, 3.0)
    return x[1:]


@kernel
def caller_sees_the_alias(x: f64[:]) -> float:
    r = fill_and_return(x, 1)
    r[0] = 7.0  # r is x: the caller's x changes too
    return x[0] + r[1]


def test_kernel_calls_pass_the_alias_on():
    x = np.ones(3)
    assert caller_sees_the_alias(x) == 7.0 + 3.0
    np.testing.assert_array_equal(x, [7.0, 3.0, 3.0])
    x = np.arange(4.0)
    assert fill_and_return(x, 0).base is x


@kernel
def second(a: f64[:], b: f64[:]) -> f64[:]:
    return b


@kernel
def store_through_tuple(a: f64[:], b: f64[:]) -> None:
    t = (a, b)
    t[1][0] = 5.0


@kernel
def store_through_unpacked(a: f64[:], b: f64[:]) -> None:
    _, y = (a, b)
    y[1] = 6.0


@kernel
def store_through_call(a: f64[:], b: f64[:]) -> None:
    z = second(a, b)
    z[0] = 7.0


def test_stores_through_aliases_mark_the_argument_written():
    for k, want in ((store_through_tuple, [5.0, 1.0]), (store_through_unpacked, [1.0, 6.0]),
                    (store_through_call, [7.0, 1.0])):
        a, b = np.ones(2), np.ones(2)
        k(a, b)
        assert a.tolist() == [1.0, 1.0] and b.tolist() == want
        b.flags.writeable = False
        with pytest.raises(ValueError, match="argument 'b' is read-only"):
            k(np.ones(2), b)
    a = np.ones(2)
    a.flags.writeable = False  # only b is written: a read-only a is fine
    store_through_call(a, np.ones(2))


@kernel
def indexed(a: f64[:], b: f64[:], i: int, x: float) -> float:
    t = (a, b)
    s = (1.5, x, 3.0)
    t[i][0] += 1.0  # a store through a run-time item: both arrays may be written
    return t[i][1] + s[i] * 10.0 + s[-1]


@kernel
def member(x: int, y: float) -> int:
    hits = 0
    if x in (1, 2, 3):
        hits += 1
    if y not in (0.5, x):
        hits += 10
    t = (2.5, y)
    if 2.5 in t:
        hits += 100
    return hits


def test_run_time_tuple_index():
    for i in (0, 1, -1, -2):
        a, b = np.arange(2.0), np.arange(2.0) + 10
        a2, b2 = a.copy(), b.copy()
        assert indexed(a, b, i, 7.0) == indexed.py_func(a2, b2, i, 7.0)
        np.testing.assert_array_equal(a, a2)
        np.testing.assert_array_equal(b, b2)
    with pytest.raises(IndexError, match="tuple index out of range"):
        indexed(np.zeros(2), np.zeros(2), 2, 0.0)


def test_membership_in_tuples():
    for x, y in ((1, 0.5), (2, 2.0), (5, 7.0), (3, 3.0)):
        assert member(x, y) == member.py_func(x, y)


@kernel
def swapped_steps(u: f64[:], v: f64[:], n: int) -> float:
    a = u
    b = v
    for _ in range(n):
        for i in range(1, a.shape[0] - 1):
            b[i] = 0.5 * a[i] + 0.25 * (a[i - 1] + a[i + 1])
        a, b = b, a  # from the second step on, the stores reach u
    return np.sum(a * a)


def test_a_variable_rebound_in_a_loop_writes_every_array_it_holds():
    u = np.linspace(0.0, 1.0, 6)
    assert swapped_steps(u.copy(), np.zeros(6), 3) == pytest.approx(
        swapped_steps.py_func(u.copy(), np.zeros(6), 3))
    ro = u.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="argument 'u' is read-only"):
        swapped_steps(ro, np.zeros(6), 3)
