"""Differential tests: views made inside kernels (issue 13, first part) against NumPy/CPython on
the same inputs: basic slices with start/stop/step (negative, clamped, empty, run-time
values), integer + slice mixes (`A[i]`, `A[:, j]`, `A[i, 2:]`), `a[i][j]`, `.T` and
`.transpose(...)`, `None`/`np.newaxis`, `...`; views bound to locals, read and written
(writes visible in the base), passed to other kernels, iterated, filled with a scalar; views of
non-contiguous inputs; kernels whose loops the optimizer would get wrong if it ignored that a
view aliases its base. (tests/e2e/test_views.py covers numpy views passed in from Python.)"""

import itertools

import numpy as np
import pytest
from e2e_support import assert_same_view, pure
from helpers import assert_same

from ember import CompileError, boolean, f32, f64, grad, i32, i64, kernel, prange
from ember.frontend import build_program, gpu


@kernel
def wsum1(v: f64[:]) -> float:
    """A weighted sum that sees every element, its position and the length."""
    s = 0.0
    for k in range(len(v)):
        s += v[k] * (k + 1)
    return s + 1000.0 * v.size


@kernel
def wsum2(v: f64[:, :]) -> float:
    s = 0.0
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            s += v[i, j] * (i * 7 + j + 1)
    return s + 1000.0 * v.shape[0] + 10.0 * v.shape[1]


@kernel
def wsum3(v: f64[:, :, :]) -> float:
    s = 0.0
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            for k in range(v.shape[2]):
                s += v[i, j, k] * (i * 31 + j * 7 + k + 1)
    return s + 1000.0 * v.shape[0] + 100.0 * v.shape[1] + 10.0 * v.shape[2]


# --- 1-D slices ---------------------------------------------------------------------------------
def slice_dynamic(x: f64[:], a: int, b: int, c: int) -> float:
    return wsum1(x[a:b:c])


SLICE_DYNAMIC = kernel(slice_dynamic)


def test_dynamic_slices_match_python():
    x = np.arange(1.0, 11.0)
    cases = itertools.product(range(-13, 14, 3), range(-13, 14, 3), [1, 2, 3, 7, -1, -2, -3, -7])
    for a, b, c in cases:
        assert SLICE_DYNAMIC(x, a, b, c) == pure(slice_dynamic)(x, a, b, c), (a, b, c)


def slice_defaults(x: f64[:], a: int, c: int) -> tuple[float, float, float, float]:
    return wsum1(x[a:]), wsum1(x[:a]), wsum1(x[::c]), wsum1(x[a::c])


@pytest.mark.parametrize("a, c", [(0, 1), (3, 2), (-2, -1), (20, -3), (-20, 3), (5, -2)])
def test_slice_defaults(a, c):
    assert_same(pure(slice_defaults), np.arange(1.0, 9.0), a, c, kernel=kernel(slice_defaults))


def constant_slices(x: f64[:]) -> tuple[float, float, float, float, float, float]:
    return (wsum1(x[1:]), wsum1(x[:-1]), wsum1(x[::-1]), wsum1(x[-3:]), wsum1(x[5:2]),
            wsum1(x[-2::-3]))


@pytest.mark.parametrize("n", [0, 1, 7])
def test_constant_slices(n):
    assert_same(pure(constant_slices), np.arange(1.0, n + 1.0), kernel=kernel(constant_slices))


def zero_step(x: f64[:], c: int) -> float:
    return wsum1(x[::c])


def test_zero_step_at_run_time_raises_value_error():
    k = kernel(zero_step)
    assert k(np.arange(3.0), -1) == pure(zero_step)(np.arange(3.0), -1)
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        k(np.arange(3.0), 0)


# --- n-D views ------------------------------------------------------------------------------------
def mixes(A: f64[:, :], i: int, j: int) -> tuple[float, float, float, float, float, float]:
    return (wsum1(A[i]), wsum1(A[:, j]), wsum1(A[i, 2:]), wsum2(A[1:, ::-1]),
            wsum1(A[i][1:]), A[i][j] + A[-1][-j])


@pytest.mark.parametrize("i, j", [(0, 0), (2, 3), (-1, -2), (1, -4)])
def test_integer_and_slice_mixes(i, j):
    A = np.arange(20.0).reshape(4, 5) ** 1.5
    assert_same(pure(mixes), A, i, j, kernel=kernel(mixes))


def transposes(A: f64[:, :], B: f64[:, :, :]) -> tuple[float, float, float, float, float]:
    return (wsum2(A.T), wsum2(A.transpose()), wsum2(A.transpose(1, 0)),
            wsum3(B.transpose(2, 0, 1)), wsum3(B.T) + wsum3(B.transpose((1, 0, 2))))


def test_transposes():
    A = np.arange(12.0).reshape(3, 4) ** 1.3
    B = np.arange(24.0).reshape(2, 3, 4) ** 1.2
    assert_same(pure(transposes), A, B, kernel=kernel(transposes))


def new_axes(x: f64[:], A: f64[:, :]) -> tuple[float, float, float, float, float]:
    return (wsum2(x[None]), wsum2(x[:, np.newaxis]), wsum3(A[:, None, 1:]),
            wsum1(A[..., 1]), wsum2(A[...]) + wsum1(A[1, ...]))


def test_new_axes_and_ellipsis():
    x = np.arange(1.0, 6.0)
    A = np.arange(12.0).reshape(3, 4) ** 1.4
    assert_same(pure(new_axes), x, A, kernel=kernel(new_axes))


def three_d(B: f64[:, :, :], i: int) -> tuple[float, float, float, float]:
    return wsum2(B[i]), wsum2(B[:, i, ::2]), wsum1(B[1, :, -1]), wsum3(B[::-1, 1:, :3])


def test_three_dimensional_views():
    B = np.arange(60.0).reshape(3, 4, 5) ** 1.1
    assert_same(pure(three_d), B, -2, kernel=kernel(three_d))


# --- writes through views -----------------------------------------------------------------------
def write_row(x: f64[:, :], i: int) -> None:
    row = x[i]
    for k in range(len(row)):
        row[k] = row[k] * 2.0 + k
    col = x[:, 1]
    col[0] = -5.0
    x[0][2] = 9.0
    t = x.T
    t[-1, -1] = 42.0


def test_writes_through_views_are_visible_in_the_base():
    assert_same(write_row, np.arange(12.0).reshape(3, 4), 1)
    assert_same(write_row, np.arange(12.0).reshape(3, 4), -3)


def fills(x: f64[:], A: f64[:, :], v: float) -> None:
    x[2:5] = v
    x[::-3] = -1.0
    A[1] = 7.0
    A[:, -1] = v
    A[2, 1:3] = 3
    A[0][:] = 0.5


def test_scalar_assignment_to_slices():
    assert_same(fills, np.arange(10.0), np.arange(20.0).reshape(4, 5), 2.5)


def fill_all(a: f64[:, :]) -> None:
    a[:] = 0.0


def test_fill_whole_array_and_empty():
    assert_same(fill_all, np.ones((3, 4)))
    assert_same(fill_all, np.ones((0, 4)))


def dtype_f32(a: f32[:, :], v: f32) -> int:
    a[1, ::2] = v
    row = a[-1]
    for k in range(len(row)):
        row[k] = a[0, k]
    return a[::-1, 1:].size + int(a[1][2] == v)


def dtype_i64(a: i64[:, :], v: i64) -> int:
    a[1, ::2] = v
    row = a[-1]
    for k in range(len(row)):
        row[k] = a[0, k]
    return a[::-1, 1:].size + int(a[1][2] == v)


def dtype_i32(a: i32[:, :], v: i32) -> int:
    a[1, ::2] = v
    row = a[-1]
    for k in range(len(row)):
        row[k] = a[0, k]
    return a[::-1, 1:].size + int(a[1][2] == v)


def dtype_bool(a: boolean[:, :], v: boolean) -> int:
    a[1, ::2] = v
    row = a[-1]
    for k in range(len(row)):
        row[k] = a[0, k]
    return a[::-1, 1:].size + int(a[1][2] == v)


@pytest.mark.parametrize("fn, dtype, value", [(dtype_f32, np.float32, 1.5),
                                              (dtype_i64, np.int64, 3),
                                              (dtype_i32, np.int32, -2),
                                              (dtype_bool, np.bool_, True)])
def test_dtypes(fn, dtype, value):
    base = (np.arange(15) % 3).reshape(3, 5).astype(dtype)
    assert_same(fn, base, dtype(value))


def scale_slice(a: f64[:], s: float) -> float:
    v = a[1::2]
    for k in range(len(v)):
        v[k] *= s
    w = a[::-1]
    t = 0.0
    for k in range(len(w)):
        t += w[k] * (k + 1)
    return t


@pytest.mark.parametrize("view", [lambda b: b[::2], lambda b: b[::-1], lambda b: b[1::3]],
                         ids=["step2", "reversed", "step3"])
def test_views_of_non_contiguous_inputs(view):
    assert_same_view(scale_slice, view, np.arange(1.0, 14.0), 1.5)


@kernel
def bump(v: f64[:]) -> None:
    for k in range(len(v)):
        v[k] += 1.0


def bump_views(A: f64[:, :]) -> None:
    bump(A[1])
    bump(A[:, 0])
    bump(A.T[2])


def test_views_passed_to_a_writing_kernel():
    assert_same(pure(bump_views), np.arange(12.0).reshape(3, 4), kernel=kernel(bump_views))


def test_writing_through_a_view_needs_a_writable_argument():
    a = np.arange(12.0).reshape(3, 4)
    a.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernel(bump_views)(a)
    with pytest.raises(ValueError, match="read-only"):
        kernel(write_row)(a, 0)


def local_views(n: int) -> float:
    a = np.zeros((n, 4))
    r = a[1]
    r[:] = 2.0
    a[:, 2] = 3.0
    return wsum2(a) + wsum1(a[-1, ::-1])


def test_views_of_local_arrays():
    assert_same(pure(local_views), 3, kernel=kernel(local_views))


def carried_view(x: f64[:], n: int) -> float:
    v = x[0:0]
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            v = x[i:]
        s += wsum1(v)
    return s


def test_view_carried_by_loops_and_branches():
    assert_same(pure(carried_view), np.arange(1.0, 8.0), 6, kernel=kernel(carried_view))


# --- iteration ------------------------------------------------------------------------------------
def iterate(x: f64[:], A: f64[:, :]) -> float:
    s = 0.0
    for v in x[1:]:
        s = s * 0.5 + v
    for row in A:
        s += wsum1(row)
    for i, row in enumerate(A[::-1]):
        row[0] = i * 1.0
    for r, w in zip(A.T, x, strict=False):
        s += wsum1(r) * w
    return s


def test_iteration_over_slices_and_rows():
    assert_same(pure(iterate), np.arange(1.0, 5.0), np.arange(12.0).reshape(3, 4),
                kernel=kernel(iterate))


# --- the optimizer must see that a view aliases its base -----------------------------------------
def fuse_alias(x: f64[:], y: f64[:]) -> None:
    v = x[1:]
    n = len(y)
    for i in range(n):
        v[i] = x[i] + 1.0  # writes x[i + 1]
    for i in range(n):
        y[i] = x[i + 1] * 2.0


def jam_alias(a: f64[:, :], out: f64[:, :]) -> None:
    t = a.T
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] + t[j, i]
            t[j, i] = out[i, j] * 0.5  # writes a[i, j]
        for j in range(a.shape[1]):
            a[i, j] = a[i, j] + out[i, j]


def matmul_alias(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    d = b[:, :]
    for i in range(c.shape[0]):
        for k in range(a.shape[1]):
            for j in range(c.shape[1]):
                c[i, j] += a[i, k] * d[k, j]
                d[k, j] = c[i, j] * 0.25


@pytest.mark.parametrize("opt_level", [0, 3])
def test_aliasing_views_defeat_loop_optimizations(opt_level):
    rng = np.random.default_rng(0)
    x, y = rng.random(17), np.zeros(16)
    assert_same(fuse_alias, x, y, kernel=kernel(fuse_alias, opt_level=opt_level))
    a, out = rng.random((9, 9)), np.zeros((9, 9))
    assert_same(jam_alias, a, out, kernel=kernel(jam_alias, opt_level=opt_level))
    a, b, c = rng.random((8, 8)), rng.random((8, 8)), rng.random((8, 8))
    assert_same(matmul_alias, a, b, c, kernel=kernel(matmul_alias, opt_level=opt_level))


# --- checks and refusals ----------------------------------------------------------------------
def row_of(A: f64[:, :], i: int) -> float:
    return wsum1(A[i])


def test_row_index_bounds_checked():
    A = np.ones((3, 4))
    checked = kernel(row_of, boundscheck=True)
    assert checked(A, -3) == pure(row_of)(A, -3)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        checked(A, 3)
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        checked(A, -4)


def _compile_error(fn, match, **options):
    with pytest.raises(CompileError, match=match) as info:
        kernel(fn, **options).compile()
    return str(info.value)


def test_refused_forms_are_compile_errors():
    def step0(x: f64[:]) -> float:
        return wsum1(x[::0])

    def too_many(x: f64[:, :]) -> float:
        return wsum1(x[1, :, 2])

    def array_rhs(x: f64[:], y: f64[:, :]) -> None:
        x[1:] = y

    def bad_perm(x: f64[:, :]) -> float:
        return wsum2(x.transpose(0, 0))

    def float_index(x: f64[:], a: float) -> float:
        return wsum1(x[a:])

    text = _compile_error(step0, "slice step cannot be zero")
    assert "^" in text and "x[::0]" in text
    _compile_error(too_many, "too many indices for array 'x': it has 2 dimension")
    _compile_error(array_rhs, "cannot assign a 2-dimensional array to 'x.1:.'")
    _compile_error(bad_perm, "permutation of the 2 axes")
    _compile_error(float_index, "slice index must be an integer, not float")


def test_views_in_derivative_builds():
    def loss(x: f64[:]) -> float:
        return wsum1(x[1:]) * x[0]

    def newaxis(x: f64[:]) -> float:
        return wsum1(x[None, :][0])

    # views are differentiated (tests/grad/test_view_grads.py), new axes too
    g = grad(kernel(loss))(np.arange(1.0, 5.0))
    assert g.shape == (4,) and g[0] == pytest.approx(wsum1(np.arange(2.0, 5.0)), rel=1e-14)
    g = grad(kernel(newaxis))(np.arange(1.0, 5.0))
    np.testing.assert_allclose(g, grad(wsum1)(np.arange(1.0, 5.0)), rtol=1e-14)
    assert kernel(loss)(np.arange(1.0, 5.0)) == pure(loss)(np.arange(1.0, 5.0))


def test_views_share_memory_in_the_ir():
    text = kernel(write_row).inspect("mlir")
    assert "memref.reinterpret_cast" in text
    assert "memref.copy" not in text and "memref.alloc" not in text


def prange_rows(A: f64[:, :]) -> float:
    s = 0.0
    for i in prange(A.shape[0]):
        row = A[i]
        row[1:] = i * 1.0
        s += row[0]
    return s


def test_views_in_prange_loops():
    assert_same(prange_rows, np.arange(12.0).reshape(4, 3))


def test_views_planned_for_the_gpu_device():
    """GPU device code takes views (tests/gpu/test_gpu_arrays.py runs them)."""
    program = build_program(prange_rows, outline=False)
    assert len(gpu.plan_gpu(program.functions[program.entry]).nests) == 1


@kernel(opt_level=0)
def empty_reversed(b: f64[:]):
    z = np.ones((0, 0))  # sizes known at compile time: the slice's offset is folded
    return b[-1] * z[:-1, 1:0:-1] + np.zeros(0)[::-2].sum() + z[::-1, ::-3].sum()


def test_negative_step_over_a_constant_empty_axis():
    """Found by the array fuzzer: slice(1, 0, -1).indices(0) starts at -1; folded into a
    constant offset, that failed memref's verifier (an internal compiler error)."""
    b = np.array([1.0, 2.0])
    got, want = empty_reversed(b), empty_reversed.py_func(b)
    assert got.shape == want.shape == (0, 0) and got.dtype == want.dtype
