"""Numba users' `@vectorize`/`@guvectorize` functions, run through Ember unchanged and compared
with Numba's ufuncs of the same functions on the same inputs (issue 17, differential).

Each function carries a comment naming where it comes from: Numba's documentation
(docs/source/user/vectorize.rst), Numba's own tests (numba/tests/npyufunc/...) or public
repositories found by code search. One test per group keeps compiles low; every test checks
broadcasting, out=, dtype=, reduce/accumulate, 0-d, empty and non-contiguous inputs where the
function allows. The keyword arguments Numba users pass (nopython, cache, fastmath, target,
identity) are accepted; what Ember refuses raises a clear error (the last tests)."""

import math
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import ember
from ember import CompileError

numba = pytest.importorskip("numba")


def both(func, sigs, layout=None, **kw):
    """Ember's and Numba's ufunc of `func` with the same decorator arguments."""
    if layout is None:
        return ember.vectorize(sigs, **kw)(func), numba.vectorize(sigs, **kw)(func)
    return (ember.guvectorize(sigs, layout, **kw)(func),
            numba.guvectorize(sigs, layout, **kw)(func))


def same(pair, *args, method=None, exact=False, **kwargs):
    """Call both ufuncs (or `method` of both) and compare values, dtypes and shapes."""
    got, want = (u if method is None else getattr(u, method) for u in pair)
    a, b = got(*args, **kwargs), want(*args, **kwargs)
    for x, y in zip(*((a, b) if isinstance(a, tuple) else ((a,), (b,))), strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape, (x.dtype, y.dtype, x.shape, y.shape)
        if exact or x.dtype.kind in "biu":
            np.testing.assert_array_equal(x, y)
        else:
            wide = x.dtype in (np.float64, np.complex128)
            np.testing.assert_allclose(x, y, rtol=1e-12 if wide else 1e-5,
                                       atol=0 if wide else 1e-6)
    return a


# --- vectorize ----------------------------------------------------------------------------
# numba/tests/npyufunc/ufuncbuilding_usecases.py `add`, `mul`, `equals`
def add(a, b):
    """An addition"""
    return a + b


def mul(a, b):
    """A multiplication"""
    return a * b


def equals(a, b):
    return a == b


def test_usecases_add_mul_equals_many_signatures():
    sigs = ["int32(int32, int32)", "int64(int64, int64)", "float32(float32, float32)",
            "float64(float64, float64)", "complex64(complex64, complex64)",
            "complex128(complex128, complex128)"]
    pair = both(add, sigs)
    assert pair[0].types == pair[1].types and pair[0].__name__ == "add"
    assert "An addition" in pair[0].__doc__
    for dt in ("int32", "int64", "float32", "float64", "complex64", "complex128"):
        a = (np.arange(12) + (1j if dt.startswith("c") else 0)).astype(dt)
        same(pair, a, a)
        same(pair, a[::2], a[1::2])                              # non-contiguous
        same(pair, a.reshape(3, 4), a[:4])                       # broadcasting
        same(pair, a.reshape(3, 4), method="reduce", axis=0)
        same(pair, a.reshape(3, 4), method="accumulate", axis=1)
    same(pair, np.int16(3), np.int8(4))                          # 0-d, cast to int32
    same(pair, np.empty(0), np.empty(0))                         # empty
    same(pair, np.arange(6).reshape(2, 3).T, 2.5)                # Fortran order + scalar
    same(pair, np.arange(5), np.arange(5), dtype=np.float32)     # dtype= picks the loop
    out_e, out_n = np.zeros(5), np.zeros(5)
    pair[0](np.arange(5.0), 1.0, out=out_e)
    pair[1](np.arange(5.0), 1.0, out=out_n)
    np.testing.assert_array_equal(out_e, out_n)
    same(pair, np.arange(3.0), np.arange(4.0), method="outer")
    prod = both(mul, ["int64(int64, int64)", "float64(float64, float64)"])
    same(prod, np.arange(1, 8), method="reduce")
    same(prod, np.arange(1.0, 8.0), np.arange(7.0), exact=True)
    eq = both(equals, ["boolean(int64, int64)", "boolean(float64, float64)"])
    same(eq, np.arange(6), np.array([0, 2, 2, 3, 0, 5]))
    same(eq, np.arange(6.0).reshape(2, 3), np.array([0.0, 9.0, 2.0]))


# docs/source/user/vectorize.rst: "target='parallel'" example
def rel_diff(x, y):
    return 2 * (x - y) / (x + y)


# numba/tests/npyufunc/test_vectorize_decor.py `sinc`, `scaled_sinc`
def sinc(x):
    if x == 0.0:
        return 1.0
    else:
        return math.sin(x * math.pi) / (x * math.pi)


def scaled_sinc(x, scale):
    if x == 0.0:
        return scale
    else:
        return scale * (math.sin(x * math.pi) / (x * math.pi))


# a logistic function and a clamp as written in ML/physics notebooks (public repositories)
def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def clamp(x, lo, hi):
    return min(max(x, lo), hi)


def test_math_functions_parallel_and_keywords():
    kw = {"target": "parallel", "nopython": True, "cache": True}
    diff = both(rel_diff, ["float64(float64, float64)"], **kw)
    x, y = np.random.default_rng(0).random((2, 40000)) + 1.0
    same(diff, x, y)
    same(diff, x.reshape(200, 200), y[:200])
    same(diff, x[::3], y[::3])
    s = both(sinc, ["float32(float32)", "float64(float64)"], fastmath=False)
    pts = np.linspace(-3, 3, 13)
    same(s, pts)
    same(s, pts.astype(np.float32))
    same(s, np.float64(0.0))
    sc = both(scaled_sinc, ["float64(float64, float64)"])
    same(sc, pts, np.array([[1.0], [2.0]]))
    sg = both(sigmoid, "float64(float64)")                      # one string
    same(sg, np.linspace(-50, 50, 11))
    cl = both(clamp, ["int64(int64, int64, int64)", "float64(float64, float64, float64)"])
    same(cl, np.arange(-5, 6), 0, 3)
    same(cl, np.linspace(-2, 2, 9), -1.0, np.array([[0.5], [1.5]]))
    fast = ember.vectorize(["float64(float64, float64)"], fastmath=True)(rel_diff)
    np.testing.assert_allclose(fast(x, y), diff[1](x, y), rtol=1e-12)


# docs/source/user/vectorize.rst: dynamic universal functions (DUFunc) `f(x, y)`
def f_dyn(x, y):
    return x * y


# a gcd by Euclid's loop (integer while loop in a ufunc; public repositories)
def gcd(a, b):
    while b != 0:
        a, b = b, a % b
    return a


# a Mandelbrot escape count as a scalar ufunc (numba examples, notebooks)
def mandel(x, y, max_iters):
    c = complex(x, y)
    z = 0.0j
    for i in range(max_iters):
        z = z * z + c
        if (z.real * z.real + z.imag * z.imag) >= 4:
            return i
    return max_iters


# a complex magnitude and a mixed-type signature (power * seconds; public repository `p2e`)
def cabs(z):
    return abs(z)


def p2e(power, nsec):
    return power * (nsec / 3600)


def test_dynamic_integer_complex_and_mixed():
    dyn_e, dyn_n = ember.vectorize(f_dyn), numba.vectorize(f_dyn)
    for a, b in [(np.arange(5), np.arange(5)), (np.arange(5.0), 2.0)]:
        same((dyn_e, dyn_n), a, b)
    # int32 * int32: NumPy's result type (int32), where Numba's typing widens to int64
    small = np.arange(4, dtype=np.int32)
    assert dyn_e(small, small).dtype == np.multiply(small, small).dtype == np.int32
    np.testing.assert_array_equal(dyn_e(small, small), dyn_n(small, small))
    same((dyn_e, dyn_n), np.arange(1, 6), method="reduce")
    assert set(dyn_n.ufunc.types) <= set(dyn_e.types)
    for attr in ("nin", "nout", "nargs"):  # DUFunc's attributes
        assert getattr(dyn_e, attr) == getattr(dyn_n, attr), attr
    assert dyn_e.ntypes == len(dyn_e.types) == 3  # with int32's own loop
    g = both(gcd, ["int32(int32, int32)", "int64(int64, int64)"])  # specific first (Numba docs)
    same(g, np.arange(0, 60, 7), np.array([[12], [18], [35]]))
    same(g, np.arange(1, 40), method="reduce")
    same(g, np.array([12, 18, 24], dtype=np.int32), np.int32(8))
    # the other order: Ember's real ufunc takes an exact loop first (as NumPy's own ufuncs
    # do), where Numba's casts int32 to the first loop, int64 (docs/numba.md)
    wide = ember.vectorize(["int64(int64, int64)", "int32(int32, int32)"])(gcd)
    i32 = np.array([12, 18, 24], dtype=np.int32)
    assert wide(i32, i32).dtype == np.int32 and wide(i32.astype(np.int16), 6).dtype == np.int64
    m = both(mandel, ["int32(float64, float64, int32)"])
    xs, ys = np.meshgrid(np.linspace(-2, 1, 30), np.linspace(-1.5, 1.5, 20))
    same(m, xs, ys, 50)
    c = both(cabs, ["float32(complex64)", "float64(complex128)"])
    z = np.array([3 + 4j, -1j, 0, 1e200 + 1e200j])
    same(c, z)
    same(c, z[:3].astype(np.complex64))
    p = both(p2e, ["float64(float64, int64)"])
    same(p, np.arange(4.0), 1800)
    # the repository writes Numba's type objects: [float64(float64, int64)]; Ember's spelling
    typed = (ember.vectorize([ember.f64(ember.f64, ember.i64)])(p2e),
             numba.vectorize([numba.float64(numba.float64, numba.int64)])(p2e))
    same(typed, np.arange(4.0), np.array([[900], [3600]]))
    same(p, np.arange(6.0).reshape(2, 3), np.array([900, 1800, 3600]))


# identity= for reduce (numba/tests/npyufunc/test_dufunc.py and vectorize docs): a max
def vmax(a, b):
    return a if a > b else b


def xor(a, b):
    return a != b


def test_identity_reduce_and_bool():
    add0 = both(add, ["int64(int64, int64)", "float64(float64, float64)"], identity=0)
    same(add0, np.array([], dtype=np.int64), method="reduce")   # the identity
    same(add0, np.arange(12.0).reshape(3, 4), method="reduce", axis=(0, 1))
    assert add0[0].identity == add0[1].identity == 0
    mx = both(vmax, ["float64(float64, float64)"], identity="reorderable")
    same(mx, np.array([[3.0, 9.0], [7.0, 1.0]]), method="reduce", axis=None)
    same(mx, np.array([3.0, 9.0, 7.0]), method="accumulate")
    none = both(vmax, ["float64(float64, float64)"])
    with pytest.raises(ValueError):
        none[0].reduce(np.array([]))
    x = both(xor, ["boolean(boolean, boolean)"])
    a = np.array([True, False, True, False])
    same(x, a, a[::-1])
    same(x, a, method="reduce")
    same(x, a.reshape(2, 2), True)


# --- guvectorize --------------------------------------------------------------------------
# docs/source/user/vectorize.rst: the guvectorize example `g(x, y, res)`, "(n),()->(n)"
def g_add(x, y, res):
    for i in range(x.shape[0]):
        res[i] = x[i] + y


# docs/source/user/vectorize.rst: moving mean with an intp window, "(n),()->(n)"
def move_mean(a, window_arr, out):
    window_width = window_arr[0]
    asum = 0.0
    count = 0
    for i in range(window_width):
        asum += a[i]
        count += 1
        out[i] = asum / count
    for i in range(window_width, len(a)):
        asum += a[i] - a[i - window_width]
        out[i] = asum / count


# numba/tests/npyufunc/test_gufunc.py `test_scalar_input` and `test_scalar_input_core_type`
def times_n(inp, n, out):
    for i in range(inp.shape[0]):
        out[i] = inp[i] * n[0]


def shifted_times(inp, n, out):
    for i in range(inp.size):
        out[i] = n * (inp[i] + 1)


def test_docs_and_scalar_inputs():
    g = both(g_add, ["void(float64[:], float64, float64[:])",
                     "void(int64[:], int64, int64[:])"], "(n),()->(n)")
    same(g, np.arange(5), 2)
    same(g, np.arange(10.0).reshape(2, 5), np.array([[1.0], [10.0]]))
    same(g, np.arange(0), 2)
    same(g, np.arange(20.0).reshape(4, 5)[:, ::2], 0.5)
    mm = both(move_mean, ["void(float64[:], intp[:], float64[:])"], "(n),()->(n)")
    arr = np.arange(20, dtype=np.float64).reshape(2, 10)
    same(mm, arr, 3)
    same(mm, arr.T, 2, axes=[(0,), (), (0,)])
    tn = both(times_n, ["int32[:], int32[:], int32[:]"], "(n),()->(n)",
              nopython=True)   # bare argument list
    same(tn, np.arange(30, dtype=np.int32).reshape(10, 3), 2)
    st = both(shifted_times, ["int32[:], int32, int32[:]"], "(n),()->(n)")
    same(st, np.arange(10).astype(np.int32), 2)
    out_e = np.zeros((2, 10))
    out_n = np.zeros((2, 10))
    mm[0](arr, 3, out_e)
    mm[1](arr, 3, out_n)
    np.testing.assert_array_equal(out_e, out_n)


# numba/tests/npyufunc/test_gufunc.py `matmulcore`, "(m,n),(n,p)->(m,p)"
def matmulcore(A, B, C):
    """docstring for matmulcore"""
    m, n = A.shape
    n, p = B.shape
    for i in range(m):
        for j in range(p):
            C[i, j] = 0
            for k in range(n):
                C[i, j] += A[i, k] * B[k, j]


# numba/tests/npyufunc/ufuncbuilding_usecases.py `guadd`, "(x,y),(x,y)->(x,y)"
def guadd(a, b, c):
    """A generalized addition"""
    x, y = c.shape
    for i in range(x):
        for j in range(y):
            c[i, j] = a[i, j] + b[i, j]


# numba/tests/npyufunc/test_gufunc.py `axpy`, "(),(),()->()"
def axpy(a, x, y, out):
    out[0] = a * x + y


def test_core_matrices_and_axpy():
    mm = both(matmulcore, ["void(float32[:,:], float32[:,:], float32[:,:])",
                           "void(float64[:,:], float64[:,:], float64[:,:])"],
              "(m,n),(n,p)->(m,p)")
    A = np.arange(1001 * 2 * 4, dtype=np.float32).reshape(1001, 2, 4)
    B = np.arange(1001 * 4 * 5, dtype=np.float32).reshape(1001, 4, 5)
    same(mm, A, B)
    same(mm, A.astype(np.float64)[::7], B[0].astype(np.float64))
    same(mm, A[0].T.copy().T, B[1])                              # Fortran-ordered core
    assert mm[0].signature == mm[1].signature == "(m,n),(n,p)->(m,p)"
    ga = both(guadd, ["void(int64[:,:], int64[:,:], int64[:,:])"], "(x,y),(x,y)->(x,y)")
    a = np.arange(24).reshape(2, 3, 4)
    same(ga, a, a[0])
    same(ga, a[:, :, ::2], a[:, :, 1::2])
    ax = both(axpy, ["(float64, float64, float64, float64[:])",
                     "(intp, intp, intp, intp[:])"], "(), (), () -> ()")
    same(ax, np.arange(5.0), 2.0, np.array([[1.0], [2.0]]))
    same(ax, 3, 4, 5)


# Numba issue/tests `sum_row` (0-d output written as out[()]), test_gufunc.py
def sum_row(inp, out):
    tmp = 0.
    for i in range(inp.shape[0]):
        tmp += inp[i]
    out[()] = tmp


# numba/tests/npyufunc/test_gufunc.py `test_pickle_gufunc_non_dyanmic`: "f8,f8[:]", "()->()"
def double(x, out):
    out[:] = x * 2


# public repository (physics config): `apply_floor_gufunc` and `set_constant_gufunc`, "() -> ()",
# signatures without a return type, reading the given output
def apply_floor(val, out):
    out[0] = val if out[0] < val else out[0]


def set_constant(val, out):
    out[0] = val


def test_scalar_outputs_and_in_place():
    sr = both(sum_row, ['void(int32[:], int32[:])'], '(n)->()', nopython=True)
    same(sr, np.arange(30000, dtype=np.int32).reshape(10000, 3))
    d = both(double, ["f8,f8[:]"], "()->()")
    same(d, np.arange(5.0))
    same(d, 0.5)
    floor = both(apply_floor, ["(f8, f8[:])"], "() -> ()")
    for u in floor:
        out = np.array([-1.0, 2.0, 0.5, 7.0])
        u(1.0, out=out)
        np.testing.assert_array_equal(out, [1.0, 2.0, 1.0, 7.0])
    const = both(set_constant, ["(f4, f4[:])"], "() -> ()")
    out_e, out_n = np.zeros(4, np.float32), np.zeros(4, np.float32)
    const[0](np.float32(2.5), out=out_e)
    const[1](np.float32(2.5), out=out_n)
    np.testing.assert_array_equal(out_e, out_n)


# public repository (benchmarks of arc length, Chinese comments): "(n,m)->()", nopython=True,
# target='parallel', with numpy type annotations left on the parameters
def arc_length(points: np.ndarray, result: np.ndarray):
    length = 0
    for i in range(points.shape[0] - 1):
        piecewice_length = 0
        for j in range(points.shape[1]):
            piecewice_length += (points[i + 1, j] - points[i, j]) ** 2
        length += np.sqrt(piecewice_length)
    result[0] = length


# public repository (home battery simulation): "(n),()->(n),(n)", two outputs, branches
def simulate_batt(p1_netto, batt_cap, res, res2):
    res[0] = 0.0
    res2[0] = p1_netto[0]
    for i in range(1, len(p1_netto)):
        batt_level = res[i - 1]
        p1_delta = 0.0
        if p1_netto[i] < 0:
            if batt_level < batt_cap:
                p1_delta = min(-p1_netto[i], batt_cap - batt_level)
        elif batt_level > 0:
            p1_delta = -min(p1_netto[i], batt_level)
        res[i] = batt_level + p1_delta
        res2[i] = p1_netto[i] + p1_delta


# numba/tests/test_gufunc.py-style min/max with two "()" outputs
def minmax(x, lo, hi):
    lo[0] = x[0]
    hi[0] = x[0]
    for v in x:
        lo[0] = min(lo[0], v)
        hi[0] = max(hi[0], v)


def test_several_outputs_parallel():
    arc = both(arc_length, ["void(float64[:,:], float64[:])"], "(n,m)->()", nopython=True,
               target="parallel")
    pts = np.random.default_rng(1).random((50, 30, 3))
    same(arc, pts)
    same(arc, pts[:, ::2, :2])
    sim = both(simulate_batt, [(numba.float64[:], numba.float64, numba.float64[:],
                                numba.float64[:])], "(n),()->(n),(n)", nopython=True)
    p = np.sin(np.linspace(0, 20, 60)).reshape(3, 20)
    got = same(sim, p, np.array([[0.5], [2.0]]))
    assert len(got) == 2 and got[0].shape == (2, 3, 20)
    mm = both(minmax, ["void(float64[:], float64[:], float64[:])",
                       "void(int64[:], int64[:], int64[:])"], "(n)->(),()")
    same(mm, np.random.default_rng(2).random((4, 7)))
    same(mm, np.array([[3, -2, 9], [0, 0, 1]]).T, axes=[(0,), (), ()])


# public repository (Game of Life on a torus): "(n,n),()->(n,n)", Python's % on negatives
def life_step(grid, width, tempGrid):
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            total = int(grid[i, (j - 1) % width] + grid[i, (j + 1) % width]
                         + grid[(i - 1) % width, j] + grid[(i + 1) % width, j]
                         + grid[(i - 1) % width, (j - 1) % width]
                         + grid[(i - 1) % width, (j + 1) % width]
                         + grid[(i + 1) % width, (j - 1) % width]
                         + grid[(i + 1) % width, (j + 1) % width])
            if grid[i, j] == 1:
                if (total < 2) or (total > 3):
                    tempGrid[i, j] = 0
                else:
                    tempGrid[i, j] = 1
            elif total == 3:
                tempGrid[i, j] = 1
            else:
                tempGrid[i, j] = 0


# a prefix sum "(n)->(n)" (numba/tests/npyufunc/test_gufunc.py-style) on several dtypes
def cumsum(x, out):
    s = 0
    for i in range(x.shape[0]):
        s += x[i]
        out[i] = s


def test_integer_grids_and_scans():
    life = both(life_step, [(numba.int64[:, :], numba.int64, numba.int64[:, :])],
                "(n,n),()->(n,n)")
    grid = (np.random.default_rng(3).random((3, 12, 12)) > 0.6).astype(np.int64)
    same(life, grid, 12)
    cs = both(cumsum, ["void(int64[:], int64[:])", "void(float64[:], float64[:])"],
              "(n)->(n)")
    same(cs, np.arange(12).reshape(3, 4))
    same(cs, np.arange(12.0).reshape(3, 4), axis=0)
    same(cs, np.arange(0))
    same(cs, np.arange(24).reshape(2, 3, 4)[:, ::2, ::-1])
    same(cs, np.arange(5, dtype=np.int8))                       # int8 casts to int64


# numba/tests/npyufunc/ufuncbuilding_usecases.py `inner`/`outer`: a ufunc calling a ufunc
# (on scalars, inside the compiled code), with explicit and dynamic inner ufuncs
def inner_add(a, b):
    return a + b


E_INNER = ember.vectorize(["int64(int64, int64)", "float64(float64, float64)"])(inner_add)
N_INNER = numba.vectorize(["int64(int64, int64)", "float64(float64, float64)"])(inner_add)
E_DYN = ember.vectorize(inner_add)
N_DYN = numba.vectorize(inner_add)


def outer_e(a, b):
    return E_INNER(a, b) * 2 + E_DYN(a, 1)


def outer_n(a, b):
    return N_INNER(a, b) * 2 + N_DYN(a, 1)


# public repository (numba mandelbrot example): a guvectorize body calling a compiled
# helper (Numba's @jit(int32(complex64, int32)); here an @ember.kernel with those types)
@ember.kernel
def escape(c: ember.c64, maxiter: ember.i32) -> ember.i32:
    real = 0.0
    imag = 0.0
    for n in range(maxiter):
        nreal = real * real - imag * imag + c.real
        imag = 2 * real * imag + c.imag
        real = nreal
        if real * real + imag * imag > 4.0:
            return n
    return 0


def mandelbrot_numpy(c, maxit, output):
    maxiter = maxit[0]
    for i in range(c.shape[0]):
        output[i] = escape(c[i], maxiter)


def _numba_mandel():
    """The same body calling Numba's compilation of the helper."""
    helper = numba.njit("int32(complex64, int32)")(escape.py_func)

    def mandelbrot_numpy(c, maxit, output):
        maxiter = maxit[0]
        for i in range(c.shape[0]):
            output[i] = helper(c[i], maxiter)
    return mandelbrot_numpy


# numba/examples-style helpers: NumPy and math calls on scalars, NaN in and out, integer //, %
def npfuncs(x):
    if math.isnan(x):
        return np.inf
    return np.sqrt(abs(x)) + np.exp(-x) - math.floor(x)


def intdiv(a, b):
    return a // b + a % b + a / b


# a cross product on fixed core sizes "(3),(3)->(3)" (NumPy allows them; Numba 0.68 refuses)
def cross3(a, b, out):
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]


# an outer product "(n),(m)->(n,m)" and a reversed scan with a scratch np.empty
def outer_prod(x, y, out):
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            out[i, j] = x[i] * y[j]


def rev_scan(x, out):
    tmp = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        tmp[i] = x[i] * x[i]
    s = 0.0
    for i in range(x.shape[0] - 1, -1, -1):
        s += tmp[i]
        out[i] = s


def test_calls_helpers_and_core_shapes():
    nested = (ember.vectorize(["int64(int64, int64)", "float64(float64, float64)"])(outer_e),
              numba.vectorize(["int64(int64, int64)", "float64(float64, float64)"])(outer_n))
    same(nested, np.arange(5), np.array([[1], [-3]]))
    same(nested, np.linspace(0, 1, 5), 0.5)
    mb = (ember.guvectorize([(ember.c64[:], ember.i32[:], ember.i32[:])], "(n),()->(n)",
                            target="parallel")(mandelbrot_numpy),
          numba.guvectorize([(numba.complex64[:], numba.int32[:], numba.int32[:])],
                            "(n),()->(n)", target="parallel")(_numba_mandel()))
    c = (np.linspace(-2, 1, 40)[None, :] + 1j * np.linspace(-1, 1, 30)[:, None])
    same(mb, c.astype(np.complex64), np.int32(30))
    nf = both(npfuncs, ["float64(float64)"])
    with np.errstate(invalid="ignore"):
        same(nf, np.array([np.nan, -1.5, 0.0, 2.5, 40.0]))
    idv = both(intdiv, ["float64(int64, int64)"])
    same(idv, np.array([-7, 7, -8, 9]), np.array([2, -2, 3, -4]))
    cr = ember.guvectorize(["void(float64[:], float64[:], float64[:])"], "(3),(3)->(3)")(cross3)
    a = np.random.default_rng(4).random((5, 3))
    np.testing.assert_allclose(cr(a, a[::-1]), np.cross(a, a[::-1]), rtol=1e-12)
    with pytest.raises(ValueError, match="core dimension"):
        cr(np.ones(4), np.ones(4))
    op = both(outer_prod, ["void(float64[:], float64[:], float64[:,:])"], "(n),(m)->(n,m)")
    same(op, np.arange(6.0).reshape(2, 3), np.arange(4.0))
    rs = both(rev_scan, ["void(float64[:], float64[:])"], "(n)->(n)")
    same(rs, np.arange(12.0).reshape(3, 4)[:, ::-1])
    # the cache key of a function calling a ufunc covers the ufunc's source and signatures
    from ember.frontend.deps import dependencies

    found = "\n".join(dependencies(outer_e))
    assert "return a + b" in found and "int64(int64, int64);float64(float64, float64)" in found


# --- pickling: by value from a function scope, loaded here and in a fresh spawn process ----
def _made_in_a_function():
    """Corpus functions decorated inside a function: not importable, so pickled by value."""
    scale = 3.0

    @ember.vectorize(["float32(float32)", "float64(float64)"], cache=True, nopython=True)
    def scaled(x):  # scaled_sinc with a closure value and the math module
        if x == 0.0:
            return scale
        return scale * (math.sin(x * math.pi) / (x * math.pi))

    @ember.guvectorize(["void(float64[:], intp[:], float64[:])"], "(n),()->(n)",
                       target="parallel")
    def moving(a, window_arr, out):  # move_mean of the Numba docs
        window_width = window_arr[0]
        asum = 0.0
        count = 0
        for i in range(window_width):
            asum += a[i]
            count += 1
            out[i] = asum / count
        for i in range(window_width, len(a)):
            asum += a[i] - a[i - window_width]
            out[i] = asum / count

    @ember.vectorize(identity=0)
    def euclid(a, b):  # gcd, dynamic
        while b != 0:
            a, b = b, a % b
        return a

    @ember.kernel
    def summed(x: ember.f64[:]) -> float:  # a kernel calling the ufunc on scalars
        s = 0.0
        for i in range(x.shape[0]):
            s += scaled(x[i]) + euclid(i, 4)
        return s

    return scaled, moving, euclid, summed


def _loaded_call(payload, method, args):
    """In a worker: unpickle a ufunc and call it (or its `method`)."""
    u = pickle.loads(payload)
    return (u if method is None else getattr(u, method))(*args)


@pytest.fixture(scope="module")
def spawn_pool():
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    yield executor
    executor.shutdown(wait=False, cancel_futures=True)


def test_pickle_and_cloudpickle_by_value_in_a_spawn_process(spawn_pool):
    cloudpickle = pytest.importorskip("cloudpickle")
    scaled, moving, euclid, summed = _made_in_a_function()
    x = np.linspace(-2.0, 2.0, 9)
    calls = [(scaled, None, (x,)), (scaled, None, (x.astype(np.float32),)),
             (moving, None, (np.arange(20.0).reshape(2, 10), 3)),
             (euclid, None, (np.arange(0, 50, 7), 14)),
             (euclid, "reduce", (np.array([24, 36, 60]),)), (summed, None, (x,))]
    assert summed(x) == pytest.approx(scaled(x).sum() + euclid(np.arange(9), 4).sum(),
                                      rel=1e-14)
    for dumps in (pickle.dumps, cloudpickle.dumps):
        for u, method, args in calls:
            want = (u if method is None else getattr(u, method))(*args)
            payload = dumps(u)
            here = _loaded_call(payload, method, args)
            there = spawn_pool.submit(_loaded_call, payload, method, args).result(timeout=240)
            for got in (here, there):
                assert np.asarray(got).dtype == np.asarray(want).dtype
                np.testing.assert_array_equal(got, want)
    assert pickle.loads(pickle.dumps(scaled)).types == scaled.types


# --- what differs -------------------------------------------------------------------------
# image-processing style saturating add on uint8 (public repositories): Numba widens uint8 +
# uint8 to int64, Ember keeps NumPy's uint8 (wraps); widen explicitly to port it
def sat_add(a, b):
    s = a + b
    if s > 255:
        return 255
    return s


def sat_add_wide(a, b):
    s = int(a) + int(b)
    if s > 255:
        return 255
    return s


def div_keywords(a, b):
    return a // b


def pick(x, i, out):
    out[0] = x[i[0]]


def test_integer_promotion_difference_and_numba_keywords():
    a = np.array([100, 200, 250], np.uint8)
    wraps = ember.vectorize(["uint8(uint8, uint8)"])(sat_add)
    np.testing.assert_array_equal(wraps(a, a), np.add(a, a))    # NumPy's uint8 arithmetic
    same(both(sat_add_wide, ["uint8(uint8, uint8)"]), a, a)     # the port: [200, 255, 255]
    same(both(sat_add, ["uint8(uint8, uint8)"]), a[:1], a[:1])  # no overflow: the same
    py = ember.vectorize(["int64(int64, int64)"], error_model="python", cache=False)(
        div_keywords)
    with pytest.raises(ZeroDivisionError):
        py(np.arange(3), 0)
    np.testing.assert_array_equal(
        ember.vectorize(["int64(int64, int64)"], fastmath={"nnan", "contract"})(div_keywords)(
            np.arange(6), 4), np.arange(6) // 4)
    checked = ember.guvectorize(["void(float64[:], int64[:], float64[:])"], "(n),()->()",
                                boundscheck=True, writable_args=(0,), nopython=True)(pick)
    assert checked(np.arange(3.0), 2) == 2.0
    with pytest.raises(IndexError, match="out of bounds"):
        checked(np.arange(3.0), 5)


def test_numba_forms_ember_refuses_clearly():
    with pytest.raises(ValueError, match="forceobj=True"):
        ember.vectorize(["float64(float64)"], forceobj=True)
    with pytest.raises(ValueError, match="locals="):
        ember.guvectorize(["void(f8[:], f8[:])"], "(n)->()", locals={"s": "float64"})
    with pytest.raises(TypeError, match="unexpected keyword argument 'writable_args'"):
        ember.vectorize(["float64(float64)"], writable_args=(0,))
    with pytest.raises(CompileError, match="no loop of ufunc 'only32' takes"):
        _calls_only32(np.int64(3))
    with pytest.raises(CompileError, match="kernels call ufuncs on scalars"):
        _calls_on_array(np.arange(3.0))
    with pytest.raises(TypeError, match="type signatures too"):
        ember.guvectorize("(n)->()")                            # dynamic gufunc
    with pytest.raises(ValueError, match="target='cuda' is not a ufunc target"):
        ember.vectorize(["float64(float64)"], target="cuda")
    with pytest.raises(ValueError, match="nopython=False"):
        ember.vectorize(["float64(float64)"], nopython=False)
    with pytest.raises(CompileError, match="not a plain function"):
        ember.vectorize(["float64(float64)"])(lambda x: x + 1)
    with pytest.raises(TypeError, match="a signature is a string"):
        ember.vectorize([3.5])
    with pytest.raises(ValueError, match="unknown type 'float128'"):
        ember.vectorize(["float128(float128)"])


@ember.vectorize(["int32(int32)"])
def only32(a):
    return a


@ember.kernel
def _calls_only32(x: ember.i64) -> ember.i64:
    return only32(x)


@ember.kernel
def _calls_on_array(x: ember.f64[:]) -> ember.f64:
    return E_INNER(x, 1.0)[0]
