"""Array code in GPU kernels (frontend/gpu_arrays.py, ir/gpu_arrays.py), without a GPU: the
array kernels of gpu_kernels.py run on the CPU stand-in (emulator.py) against NumPy, with
the grids of whole-array statements (one thread per destination element); run-time checks
are device assertions in the PTX; what device code cannot do is a CompileError. (test_ptx.py
and test_ptxas.py check the PTX of the same kernels, test_emulated.py compares them with the
CPU build, check_gpu.py runs them on hardware.)"""

import re

import gpu_kernels
import numpy as np
import pytest

from ember import CompileError, f32, f64, i64, prange
from ember.frontend import build_program
from ember.frontend.gpu import plan_gpu


def test_whole_array_statements(on_emulator):
    """`out[:] = a * x + y` and `y += out`: two launches, one thread per element."""
    r = np.random.default_rng(0)
    x, y = r.random(1000, np.float32), r.random(1000, np.float32)
    out = np.zeros(1000, np.float32)
    y0 = y.copy()
    gpu_kernels.array_saxpy(np.float32(1.5), x, y, out)
    want = np.float32(1.5) * x + y0
    np.testing.assert_allclose(out, want, rtol=1e-6)
    np.testing.assert_allclose(y, y0 + want, rtol=1e-6)
    assert out.dtype == np.float32 and y.dtype == np.float32
    assert on_emulator.launches == [("array_saxpy_0_kernel", (8, 1, 1), (128, 1, 1)),
                                    ("array_saxpy_1_kernel", (8, 1, 1), (128, 1, 1))]


def test_broadcasting_fills_and_3d_grids(on_emulator):
    r = np.random.default_rng(1)
    m, w = r.random((7, 9)) + 1.0, r.random(9) + 0.5  # sqrt(m + t) > 0
    t, out = np.zeros((7, 9)), np.zeros((4, 7, 9))
    m0 = m.copy()
    gpu_kernels.array_broadcast(m, w, t, out)
    np.testing.assert_allclose(t, m0 * w - 1.0, rtol=1e-14)
    np.testing.assert_allclose(m, m0 + t, rtol=1e-14)
    np.testing.assert_allclose(out, 0.5 + np.broadcast_to(np.sqrt(m), (4, 7, 9)), rtol=1e-14)
    # (7, 9): 9 along x, 7 along y in blocks of 2; (4, 7, 9): 4 along z in blocks of 2
    assert [g for _, g, _ in on_emulator.launches] == [(1, 4, 1), (1, 4, 1), (1, 4, 2),
                                                       (1, 4, 2)]


def test_row_views_reductions_and_products_per_thread(on_emulator):
    x = np.random.default_rng(2).random((13, 10))
    out = np.zeros((13, 9))
    gpu_kernels.array_rows(x, out)
    want = np.zeros((13, 9))
    for i, row in enumerate(x):
        want[i, 0] = np.sum(row * row)
        want[i, 1] = np.max(row[::-1][1:])
        want[i, 2] = np.dot(row, x[i, ::-1]) + np.argmax(row)
        want[i, 3] = np.mean(x[:, i % 10])
        want[i, 4::2] = 2.0 * row[:3] + 1.0
    np.testing.assert_allclose(out, want, rtol=1e-13)


def test_transposed_tiles_written_through_views(on_emulator):
    r = np.random.default_rng(3)
    a, b = r.random((6, 5, 5), np.float32), r.random((6, 5, 5), np.float32) - 0.5
    out = np.zeros(6, np.float32)
    a_np, b_np = a.copy(), b.copy()
    gpu_kernels.array_tiles(a, b, out)
    want = np.zeros(6, np.float32)
    for k in range(6):
        tile = a_np[k].T
        tile[:, 0] = np.abs(b_np[k, 1])
        b_np[k, 0, :] /= np.sum(np.abs(b_np[k, 0]))
        want[k] = np.trace(a_np[k]) + np.vdot(tile[0], tile[0]) + np.var(tile[1:, 1:])
    np.testing.assert_allclose(a, a_np, rtol=0)
    np.testing.assert_allclose(b, b_np, rtol=1e-6)
    np.testing.assert_allclose(out, want, rtol=1e-5)


def test_whole_array_sums_are_parallel_reductions(on_emulator):
    """`s = np.sum(x * w)` and `return ..., np.sum(k * k)`: strided nests over the broadcast
    shape (few emulated threads: each walks many elements), per-warp sums."""
    r = np.random.default_rng(4)
    x, w = r.random((37, 29)), r.random(29)
    k = np.arange(-50, 950, dtype=np.int64)
    x0 = x.copy()
    s, n = gpu_kernels.array_sums(x, w, k)
    assert type(s) is float and type(n) is int
    np.testing.assert_allclose(s, np.sum(x0 * w), rtol=1e-12)
    assert n == np.sum(k * k)
    np.testing.assert_allclose(x, x0 - s / x0.size, rtol=1e-14)
    assert [name for name, _, _ in on_emulator.launches] == [
        "array_sums_0_kernel", "array_sums_1_kernel", "array_sums_2_kernel"]


def test_sum_where_a_size_0_meets_a_size_1(on_emulator):
    """The grid spans the largest size per axis (1 here); the broadcast shape (3, 0) has no
    element, so nothing is added."""
    x = np.zeros((3, 0))
    assert gpu_kernels.array_sums(x, np.ones(1), np.ones(2, np.int64)) == (0.0, 2)


def test_4d_destinations_loop_the_last_axis_in_each_thread(on_emulator):
    x = np.random.default_rng(5).random((3, 4, 5, 6), np.float32)
    out = np.zeros_like(x)
    x0 = x.copy()
    gpu_kernels.array_4d(x, out)
    np.testing.assert_allclose(out, x0 * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(x, x0 * 3, rtol=1e-6)
    # grid over (3, 4, 5): 5 along x, 4 along y and 3 along z in blocks of 2
    assert [g for _, g, _ in on_emulator.launches] == [(1, 2, 2), (1, 2, 2)]


def test_reductions_of_views_in_a_strided_nest(on_emulator):
    x = np.random.default_rng(6).random((37, 11))
    flags, lo = np.zeros(37, np.int64), np.zeros(37)
    s = gpu_kernels.array_reductions(x, flags, lo)
    np.testing.assert_allclose(s, np.sum(x[:, ::-2]), rtol=1e-12)
    np.testing.assert_allclose(lo, x.min(1) + x[:, :3].prod(1), rtol=1e-14)
    want = (x > 0.9).any(1) + 2 * (x > 0.01).all(1) + 4 * x.argmin(1)
    np.testing.assert_array_equal(flags, want)


def test_empty_destination_launches_nothing(on_emulator):
    e = np.zeros(0, np.float32)
    gpu_kernels.array_saxpy(np.float32(1), e, e.copy(), e.copy())
    assert on_emulator.launches == []


def test_checks_are_device_assertions():
    """Broadcast checks cannot raise on the device: they call `__assertfail` (CUDA's
    assert: the launch fails with CUDA_ERROR_ASSERT, the message names file and line)."""
    for nest in gpu_kernels.array_saxpy.compile().manifest.nests:
        assert "call.uni __assertfail," in nest.ptx
        assert "__ember_raise" not in nest.ptx
        # the call never returns: the thread exits after it (lowering/gpu.py)
        assert re.search(r"call\.uni __assertfail, \([^)]*\);\s*\} // callseq \d+\s*"
                         r"// begin inline asm\s*exit;", nest.ptx)


# --- what device code refuses -----------------------------------------------------------------
def alloc_in_loop(x: f64[:, :]) -> None:
    for i in prange(x.shape[0]):
        t = x[i] * 2.0
        x[i, 0] = t[0]


def overlapping_rows(x: f64[:, :]) -> None:
    for i in prange(x.shape[0]):
        row = x[i]
        row[1:] = x[i, :-1]


def matvec_in_loop(a: f64[:, :], v: f64[:], out: f64[:, :]) -> None:
    for i in prange(a.shape[0]):
        out[i] = a @ v


def reduce_keeping_an_axis(a: f64[:, :, :], out: f64[:, :]) -> None:
    for i in prange(a.shape[0]):
        out[i] = np.sum(a[i], axis=0)


def cumsum_in_loop(a: f64[:, :]) -> None:
    for i in prange(a.shape[0]):
        a[i] = np.cumsum(a[i])


def partial_host_view(x: f64[:], out: f64[:]) -> None:
    out[1:] = x[1:]


def host_overlap(x: f64[:]) -> None:
    x[:] = x[::-1]


def host_max(x: f64[:]) -> float:
    return np.max(x * x)


def host_sum_of_a_view(x: f64[:]) -> float:
    s = np.sum(x[1:])
    return s


def host_sum_in_an_expression(x: f64[:]) -> float:
    return 2.0 * np.sum(x)


def host_reads_own_element(x: f64[:], y: f64[:]) -> None:
    y[:] = x * 2.0      # fine: x is another array
    x[:] = x * x[0]     # x[0] may already be doubled


def host_sum_in_statement(x: f64[:], out: f64[:]) -> None:
    out[:] = x / np.max(x)


def host_local_array(x: i64[:]) -> None:
    y = x + 1
    for i in prange(len(x)):
        x[i] = y[i] * y[0]


def fine_overlap_check(x: f32[:, :], y: f32[:, :]) -> None:
    for i in prange(x.shape[0]):
        r = x[i]
        r[:] = r * 2.0 + y[i]   # its own elements, and another array
        x[i, :] += 1.0
        x[i] = r / np.sum(r)    # r is x[i]: each element reads only itself


def changing_view(x: f32[:, :], n: int) -> None:
    for i in prange(x.shape[0]):
        j = i
        if n > 0:
            j = i + 1
        r = x[j]
        x[i] = r * 2.0          # r may be another row


REFUSED = [
    (alloc_in_loop, "an array expression that makes a new array (assign it into an existing "
                    "array"),
    (overlapping_rows, "an array assignment whose source may overlap its destination needs a "
                       "temporary array"),
    (matvec_in_loop, "a product with an array result"),
    (reduce_keeping_an_axis, "a reduction with an array result"),
    (cumsum_in_loop, "np.cumsum/np.cumprod"),
    (partial_host_view, "must assign to a whole array parameter"),
    (host_overlap, "a source that overlaps the destination other than element for element"),
    (host_max, "at the top level of a GPU kernel the only reductions are `s = np.sum(...)` "
               "and `return np.sum(...)` of whole array parameters; write this one as a "
               "prange loop"),
    (host_sum_of_a_view, "the only reductions are"),
    (host_sum_in_an_expression, "the only reductions are"),
    (host_reads_own_element, "this element of the destination may already be overwritten"),
    (host_sum_in_statement, "would be recomputed by every thread"),
    (changing_view, "an array assignment whose source may overlap its destination"),
    (host_local_array, "a GPU kernel cannot create arrays or keep views at its top level"),
]


def _plan(fn):
    program = build_program(fn, outline=False)
    return plan_gpu(program.functions[program.entry], program.sites)


@pytest.mark.parametrize("fn, message", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_refused(fn, message):
    with pytest.raises(CompileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _plan(fn)


def test_in_place_and_other_arrays_accepted():
    assert len(_plan(fine_overlap_check).nests) == 1
