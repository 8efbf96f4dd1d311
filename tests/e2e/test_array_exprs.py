"""Whole-array expressions (issue 13): values, dtypes and shapes against NumPy on the same
inputs; broadcasting (decided at run time), views as operands, overlapping and in-place
assignments, run-time broadcast errors and compile errors."""

import numpy as np
import pytest

import ember
from ember import CompileError, f32, f64, i32, i64, kernel

boolean = ember.types.boolean
RNG = np.random.default_rng(13)


def _same(got, want):
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-6 if got.dtype == np.float32 else 1e-13)


# --- arithmetic, 1-3 dimensions ---------------------------------------------------------------
def five(a: f64[:], b: f64[:], c: f64[:], d: f64[:], e: f64[:]) -> f64[:]:
    return a * b + c * d - e


def ops2(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return (a + b) / (b + 1.0) - a ** 2 + (a // 0.25) % 0.5 - -b


def ops3(a: f64[:, :, :], b: f64[:, :, :]) -> f64[:, :, :]:
    return np.sqrt(a) * np.exp(-b) + abs(a - b) + np.maximum(a, b) * np.minimum(a, 0.5)


def test_arithmetic_1_to_3_dims():
    xs = [RNG.random(7) for _ in range(5)]
    _same(kernel(five)(*xs), five(*xs))
    a, b = RNG.random((3, 4)), RNG.random((3, 4))
    _same(kernel(ops2)(a, b), ops2(a, b))
    a, b = RNG.random((2, 3, 4)), RNG.random((2, 3, 4))
    _same(kernel(ops3)(a, b), ops3(a, b))


# --- broadcasting -----------------------------------------------------------------------------
def bc(a: f64[:, :], b: f64[:]) -> f64[:, :]:
    return a * b + 1.0


def bc2(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a - b


def bc3(a: f64[:, :, :], b: f64[:]) -> f64[:, :, :]:
    return a + b


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 4), (1,)), ((1, 4), (4,)),
                                    ((3, 1), (4,)), ((0, 4), (4,)), ((3, 0), (1,))])
def test_broadcast_row(shapes):
    a, b = RNG.random(shapes[0]), RNG.random(shapes[1])
    _same(kernel(bc)(a, b), bc(a, b))


@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((1, 1), (3, 4)), ((3, 4), (3, 1)),
                                    ((2, 5), (2, 5))])
def test_broadcast_outer(shapes):
    a, b = RNG.random(shapes[0]), RNG.random(shapes[1])
    _same(kernel(bc2)(a, b), bc2(a, b))


def test_broadcast_3d():
    a, b = RNG.random((2, 3, 4)), RNG.random(4)
    _same(kernel(bc3)(a, b), bc3(a, b))


@pytest.mark.parametrize("shapes", [((3, 4), (5,)), ((3, 4), (2,))])
def test_broadcast_error(shapes):
    a, b = np.ones(shapes[0]), np.ones(shapes[1])
    with pytest.raises(ValueError) as want:
        bc(a, b)
    with pytest.raises(ValueError) as got:
        kernel(bc)(a, b)
    assert str(got.value) == str(want.value)
    where = [(str(e.path), e.lineno + 1) for e in got.traceback]
    assert (__file__, bc.__code__.co_firstlineno + 1) in where


# --- dtypes and promotion ---------------------------------------------------------------------
def add_i32_f32(a: i32[:], b: f32[:]) -> f64[:]:
    return a + b


def scale_f32(a: f32[:]) -> f32[:]:
    return a * 2.0 + 1


def int_ops(a: i64[:], b: i64[:]) -> i64[:]:
    return (a * 3 - b) // 2 + a % 5 + (a & b) - (a | 1) ^ b


def masks(a: f64[:], b: f64[:]) -> f64[:]:
    m = (a < 0.5) & ~(b > 0.2) | (a == b)
    return np.where(m, a, -b)


def bool_ops(a: i64[:]) -> i64[:]:
    return (a > 2) + (a > 1) * 3


def test_promotion():
    a, b = np.arange(5, dtype=np.int32), RNG.random(5).astype(np.float32)
    _same(kernel(add_i32_f32)(a, b), add_i32_f32(a, b))
    _same(kernel(scale_f32)(b), scale_f32(b))
    x, y = np.arange(-5, 5, dtype=np.int64), np.arange(10, dtype=np.int64) * 7 - 30
    np.testing.assert_array_equal(kernel(int_ops)(x, y), int_ops(x, y))
    np.testing.assert_array_equal(kernel(bool_ops)(x), bool_ops(x))


def test_comparisons_and_masks():
    a, b = RNG.random(9), RNG.random(9)
    b[3] = a[3]

    @kernel
    def lt(a: f64[:], b: f64[:]) -> boolean[:]:
        return a < b

    got = lt(a, b)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, a < b)
    _same(kernel(masks)(a, b), masks(a, b))


def math_fns(a: f64[:], b: f32[:]) -> f64[:]:
    return (np.sin(a) + np.log1p(a) + np.clip(a, 0.2, 0.7) + np.arctan2(a, b)
            + np.where(np.isnan(a), 0.0, a) + np.floor(a * 10.0) + np.abs(b) + np.round(a, 2))


def test_elementwise_math():
    a, b = RNG.random(11), (RNG.random(11) - 0.5).astype(np.float32)
    _same(kernel(math_fns)(a, b), math_fns(a, b))


def test_astype():
    @kernel
    def conv(a: f64[:]) -> i32[:]:
        return (a * 10.0).astype(np.int32)

    @kernel
    def to_bool(a: i64[:]) -> boolean[:]:
        return a.astype(np.bool_)

    a = RNG.random(6)
    _same(conv(a), (a * 10.0).astype(np.int32))
    x = np.array([0, 1, -2, 0])
    np.testing.assert_array_equal(to_bool(x), x.astype(bool))


# --- views as operands, empty arrays ------------------------------------------------------------
def test_strided_and_negative_views():
    a2, b2 = RNG.random((6, 3)), RNG.random(9)

    @kernel
    def vv(a: f64[:, :], b: f64[:]) -> f64[:, :]:
        return a[::2, ::-1] * b[::-1][:3] + 1.0

    _same(vv(a2, b2), a2[::2, ::-1] * b2[::-1][:3] + 1.0)
    # a non-contiguous argument (the strided entry variant)
    big = RNG.random(18)
    _same(vv(a2[:, ::-1], big[::2]), a2[:, ::-1][::2, ::-1] * big[::2][::-1][:3] + 1.0)


def test_empty():
    xs = [np.empty(0) for _ in range(5)]
    _same(kernel(five)(*xs), five(*xs))
    a, b = np.ones((0, 3)), np.ones(3)
    _same(kernel(bc)(a, b), bc(a, b))


# --- assignments ------------------------------------------------------------------------------
def shift(a: f64[:]) -> None:
    a[1:] = a[:-1] + 1.0


def shift_back(a: f64[:]) -> None:
    a[:-1] = a[1:] * 2.0


def rows(A: f64[:, :], r: f64[:]) -> None:
    for i in range(A.shape[0]):
        A[i] = r * i


def jacobi(u: f64[:, :], steps: int) -> None:
    for _ in range(steps):
        u[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])


def reverse(a: f64[:]) -> None:
    a[:] = a[::-1]


@pytest.mark.parametrize("fn", [shift, shift_back, reverse])
def test_overlapping_assignment(fn):
    a = np.arange(8.0)
    want = a.copy()
    fn(want)
    kernel(fn)(a)
    np.testing.assert_array_equal(a, want)


def test_row_and_stencil_assignment():
    A, r = np.zeros((4, 3)), RNG.random(3)
    want = A.copy()
    rows(want, r)
    kernel(rows)(A, r)
    np.testing.assert_array_equal(A, want)
    u = RNG.random((7, 6))
    want = u.copy()
    jacobi(want, 3)
    kernel(jacobi)(u, 3)
    np.testing.assert_allclose(u, want, rtol=1e-14)


def test_assignment_casts_and_broadcasts():
    @kernel
    def put(a: i64[:, :], b: f64[:]) -> None:
        a[...] = b * 10.0

    a, b = np.zeros((2, 3), dtype=np.int64), RNG.random(3)
    put(a, b)
    want = np.zeros((2, 3), dtype=np.int64)
    want[...] = b * 10.0
    np.testing.assert_array_equal(a, want)
    with pytest.raises(ValueError, match=r"could not broadcast input array from shape "
                                         r"\(4,\) into shape \(2,3\)"):
        put(a, np.ones(4))


def inplace(a: f64[:], b: f64[:], c: f32[:, :]) -> None:
    a += b
    a *= 2.0
    a[1:] -= a[:-1]
    c /= 3
    c[0] += c[1]


def test_inplace():
    a, b, c = RNG.random(6), RNG.random(6), RNG.random((2, 6)).astype(np.float32)
    wa, wc = a.copy(), c.copy()
    inplace(wa, b, wc)
    ptr = a.ctypes.data
    kernel(inplace)(a, b, c)
    assert a.ctypes.data == ptr
    np.testing.assert_allclose(a, wa, rtol=1e-14)
    np.testing.assert_allclose(c, wc, rtol=1e-6)
    assert c.dtype == np.float32


def test_inplace_on_local_array_returned():
    @kernel
    def acc(xs: f64[:, :]) -> f64[:]:
        out = np.zeros(xs.shape[1])
        for i in range(xs.shape[0]):
            out += xs[i] * xs[i]
        return out

    x = RNG.random((5, 4))
    _same(acc(x), (x * x).sum(axis=0))


def test_scalar_augassign_unchanged():
    @kernel
    def s(n: int) -> int:
        t = 0
        for i in range(n):
            t += i
        return t

    assert s(10) == 45


def test_array_results_and_arguments():
    @kernel
    def add(a: f64[:], b: f64[:]) -> f64[:]:
        return a + b

    @kernel
    def use(a: f64[:]) -> float:
        c = add(a, a) * 0.5
        return c[0] + c[-1]

    a = RNG.random(4)
    assert use(a) == pytest.approx(a[0] + a[-1])


# --- compile errors ---------------------------------------------------------------------------
def _error(fn, match):
    with pytest.raises(CompileError, match=match) as info:
        kernel(fn)(*[np.ones(3, dtype=np.int64)] * fn.__code__.co_argcount)
    assert "^" in str(info.value)


def test_compile_errors():
    def int_iadd_float(a: i64[:]) -> None:
        a += 1.5

    def int_idiv(a: i64[:], b: i64[:]) -> None:
        a /= b

    def not_array(a: i64[:]) -> bool:
        return not a

    def math_on_array(a: i64[:]) -> f64[:]:
        return math.sin(a)

    def float_bitwise(a: i64[:]) -> f64[:]:
        return (a * 1.0) & 1

    _error(int_iadd_float, "Cannot cast ufunc 'add' output from dtype\\('float64'\\) to "
                           "dtype\\('int64'\\) with casting rule 'same_kind'")
    _error(int_idiv, "Cannot cast ufunc 'divide' output")
    _error(not_array, "truth value of an array is ambiguous")
    _error(math_on_array, "math.sin\\(\\) needs scalar arguments, not int64\\[:\\]")
    _error(float_bitwise, "bitwise '&' needs integer operands")


import math  # noqa: E402  (used by math_on_array above)


# --- found by the array fuzzer (tests/fuzz/arrays.py) ----------------------------------------
def bool_with_f32(c: boolean[:], a: f32[:]):
    return c / (a + 1) - (c > a) * a  # NumPy bool beside f32 gives f32 (NEP 50), not f64


def bool_bitwise_i32(c: boolean[:], b: i32[:]):
    return (c & b) | (b ^ c[::-1])  # int32, as in NumPy (not int64)


def np_of_python_scalar(a: f32[:], x: float):
    return a * np.tanh(0.5) + np.abs(x) - np.maximum(x, 1)  # np.float64 scalars are strong


def floor_of_ints(a: i32[:], c: boolean[:], n: int):
    return np.floor(a) + np.ceil(c) * np.trunc(n)  # NumPy 2 keeps integer dtypes


def bool_abs_maximum(c: boolean[:], a: f32[:]):
    return (np.abs(c) ^ np.maximum(c, c[::-1])) * np.minimum(c, a)  # bool, bool, then f32


def fused_operand(a: boolean[:, :], b: f64[:], c: f64[:]):
    v = (b).astype(np.float32)  # fused into the next line (frontend/opt/arrayfusion.py)
    w = c + 1.0
    return v * a + w * (w - c)  # the broadcast error names the operands in written order


def test_fuzz_found_fused_operand_order():
    fused = kernel(fused_operand)
    a, c = np.array([[True, False]] * 3), np.array([0.5, 2.0])
    _same(fused(a, c, c), fused_operand(a, c, c))
    with pytest.raises(ValueError) as got:  # all shapes (docs/numpy.md), in written order
        fused(a, np.ones(0), c)
    assert str(got.value).endswith("shapes (0,) (3,2) (2,) (2,) (2,) "), str(got.value)


def test_fuzz_found_dtype_rules():
    a, c = np.array([0.5, -2.0, 3.0], np.float32), np.array([True, False, True])
    ints = np.array([1, -2, 3], np.int32)
    for fn, args in ((bool_with_f32, (c, a)), (np_of_python_scalar, (a, 0.5)),
                     (floor_of_ints, (ints, c, 3)), (bool_abs_maximum, (c, a)),
                     (bool_bitwise_i32, (c, ints))):
        _same(kernel(fn)(*args), fn(*args))


# --- fusion across statements (frontend/opt/arrayfusion.py) -----------------------------------
def fused_chain(a: f64[:, :], b: f64[:, :], out: f64[:, :]) -> float:
    t = a * 2.0                 # read once, by the next statement: no temporary
    u = np.exp(t) - 1.0
    out[:] = u * b
    s = 0.0
    for i in range(a.shape[0]):
        r = a[i] - s            # fused in a loop body too
        s += np.sum(r * r)      # two reads in one statement
    v = b + 1.0
    w = v * 3.0                 # not fused: v is read again below
    return s + np.sum(w) + np.sum(v)


def kept_as_written(a: i64[:], d: i64) -> i64[:]:
    q = a // d                  # NumPy's integer division by zero gives 0
    return np.where(a > 100, q, a)


def test_statements_fuse_without_changing_values():
    a, b = RNG.random((3, 4)), RNG.random((3, 4))
    got_out, want_out = np.zeros((3, 4)), np.zeros((3, 4))
    fast = kernel(fused_chain)
    assert fast(a, b, got_out) == pytest.approx(fused_chain(a, b, want_out))
    _same(got_out, want_out)
    mlir = fast.inspect("mlir")
    # v (read twice) is the only array the kernel allocates, and the store of `out` may go
    # through a temporary when its operands overlap it (a run-time check); each function of
    # the module (the loops as written and their optimized variant) has those two
    assert mlir.count("memref.alloc(") <= 2 * mlir.count("func.func @"), mlir
    ints = np.array([5, 300, 7])
    slow = kernel(kept_as_written)
    _same(slow(ints, 2), kept_as_written(ints, 2))
    with np.errstate(divide="ignore"):
        _same(slow(ints, 0), kept_as_written(ints, 0))


# --- NumPy's operator ufuncs called as functions (frontend/ufuncs.py) ---------------------------
def ufunc_forms(a: f64[:], b: f32[:], k: i64[:], m: boolean[:]) -> f64[:]:
    s = np.add(a, b) * np.subtract(a, 1.0) + np.multiply(b, 2) / np.divide(a, 3.0)
    t = np.where(np.logical_and(np.greater(a, 0.5), np.logical_not(m)), np.square(a - b),
                 np.negative(a))
    u = np.floor_divide(k, 3) + np.remainder(k, 4) + np.bitwise_and(k, 6) + np.left_shift(k, 1)
    v = np.logical_xor(m, np.less_equal(k, 2)) | np.equal(k, 5) | np.not_equal(a, a)
    w = np.invert(k) + np.bitwise_or(k, 1) - np.right_shift(k, 1) + np.mod(k, 5)
    return (s + t + u + v + w + np.positive(a) + np.absolute(-a) + np.true_divide(k, 2)
            + np.less(a, b) + np.greater_equal(a, b) + np.logical_or(m, a > 0.9))


def ufunc_scalars(x: float, n: int) -> float:
    return np.add(x, n) * np.square(x) - np.negative(x) + np.bitwise_xor(n, 3) + np.equal(n, 2)


def test_operator_ufuncs_as_functions():
    a, b = RNG.random(9), RNG.random(9).astype(np.float32)
    k, m = np.arange(-4, 5), RNG.random(9) < 0.5
    _same(kernel(ufunc_forms)(a, b, k, m), ufunc_forms(a, b, k, m))
    assert kernel(ufunc_scalars)(1.5, 2) == pytest.approx(ufunc_scalars(1.5, 2))

    def with_out(a: f64[:]) -> f64[:]:
        return np.add(a, a, out=a)

    with pytest.raises(CompileError, match=r"np.add\(\) takes 2 positional argument"):
        kernel(with_out)(a)
