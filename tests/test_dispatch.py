"""The C dispatcher's tuple results: kernels returning a tuple of scalars, and derivative
entries (value and scalar gradients), are called through their packed thunks; each item is
boxed with its own type, and rejected arguments still reach the precise errors."""

import numpy as np
import pytest

import ember
from ember import f32, f64, i32, i64, kernel, u8


@kernel
def stats(a: f64[:], k: i32) -> tuple[float, int, bool, f32, u8, i32]:
    s = 0.0
    n = 0
    for i in range(len(a)):
        s += a[i]
        if a[i] > 0.5:
            n += 1
    return s, n, s > 1.0, f32(s * 0.5), u8(n % 256), k - 1


@kernel
def pair(x: float, n: i64) -> tuple[float, int]:
    return x * n, n * n


def test_spec_of_a_tuple_result():
    compiled = stats.compile()
    assert compiled.packed is not None
    assert compiled.fast_spec == ("Ai", "tdq?fBi")


@pytest.mark.parametrize("data", [[0.2, 0.9, 0.7], [], [0.1] * 300])
def test_tuple_items_as_cpython(data):
    a = np.array(data)
    got = stats(a, 5)
    want = stats.py_func(a, 5)
    assert [type(v) for v in got] == [float, int, bool, float, int, int]
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    assert got[1:3] == want[1:3] and got[5] == want[5] == 4
    assert got[3] == pytest.approx(float(np.float32(want[0] * 0.5)), rel=1e-6)
    assert got[4] == want[1] % 256


def test_scalar_tuple():
    assert pair(1.5, 3) == (4.5, 9)
    assert pair(x=2.0, n=-4) == (-8.0, 16)  # keywords: the Python path, same results


def test_rejected_arguments_keep_their_errors():
    with pytest.raises(TypeError, match="'a'"):
        stats(np.zeros(3, np.float32), 1)
    with pytest.raises(OverflowError, match="'k'"):
        stats(np.zeros(3), 2**40)
    strided = np.arange(10.0)[::2]
    assert stats(strided, 0)[0] == pytest.approx(20.0)  # strided view: the general variant


@kernel
def product(x: float, y: float, n: i64) -> float:
    return x * y * n


def test_derivatives_use_the_dispatcher():
    dprod = ember.grad(product, wrt=("x", "y"))
    assert dprod(1.5, 2.0, 3) == pytest.approx((6.0, 4.5))
    main = dprod.compile().main
    assert main.packed is not None and main.fast_spec == ("ddqd", "tddd")  # value, dx, dy

    @kernel
    def energy(x: f64[:], k: float) -> float:
        e = 0.0
        for i in range(len(x)):
            e += k * x[i] * x[i]
        return e

    vg = ember.value_and_grad(energy, wrt=("x", "k"))
    x = np.array([1.0, -2.0, 3.0])
    value, (gx, gk) = vg(x, 0.5)
    assert value == pytest.approx(7.0)
    np.testing.assert_allclose(gx, x)  # 2 k x
    assert gk == pytest.approx(14.0)
    value2, (gx2, _) = vg(np.asfortranarray(np.stack([x, x]))[0], 0.5)  # non-contiguous
    assert value2 == pytest.approx(7.0)
    np.testing.assert_allclose(gx2, x)
