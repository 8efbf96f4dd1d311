"""ember.guvectorize: generalized NumPy ufuncs from kernels on core dimensions, checked
against Numba's @guvectorize of the same functions and np.vectorize(signature=...) (loop
broadcasting, several core dimensions and outputs, "()" inputs and outputs, int/bool/float
dtypes, out=, axes=/axis=, strided inputs, the parallel target, errors)."""

import os
import re
import sys

import numpy as np
import pytest

import ember
from ember import CompileError

numba = pytest.importorskip("numba")

from test_numba_corpus import cross3, cumsum, minmax  # noqa: E402
from ufunc_checks import same_array  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from ufunc_kernels import dot, matmul  # noqa: E402


def anytrue(x, out):
    out[0] = False
    for v in x:
        if v:
            out[0] = True


def scale(x, k, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * k


BUILDS = {
    "dot": (dot, ["void(float64[:], float64[:], float64[:])",
                  "void(float32[:], float32[:], float32[:])"], "(n),(n)->()"),
    "matmul": (matmul, ["void(float64[:,:], float64[:,:], float64[:,:])"], "(m,n),(n,p)->(m,p)"),
    "minmax": (minmax, ["void(float64[:], float64[:], float64[:])",
                        "void(int64[:], int64[:], int64[:])"], "(n)->(),()"),
    "cumsum": (cumsum, ["void(int64[:], int64[:])", "void(int32[:], int32[:])"], "(n)->(n)"),
    "anytrue": (anytrue, ["void(boolean[:], boolean[:])"], "(n)->()"),
    "cross": (cross3, ["void(float64[:], float64[:], float64[:])"], "(3),(3)->(3)"),
    "scale": (scale, ["void(float64[:], float64, float64[:])"], "(n),()->(n)"),
}


@pytest.fixture(scope="module")
def gu():
    """name -> (ember gufunc, numba gufunc)."""
    return {k: (ember.guvectorize(s, lay)(f),
                None if k in NO_NUMBA else numba.guvectorize(s, lay)(f))
            for k, (f, s, lay) in BUILDS.items()}


NO_NUMBA = {"cross"}  # Numba's layouts take no fixed sizes such as "(3)"


def _ref(func, layout, nout, dtype):
    """np.vectorize(signature=layout) of the Python function writing its outputs."""
    def call(*args):
        outs = [np.zeros(1 if "()" in layout.split("->")[1] else args[0].shape, dtype)
                for _ in range(nout)]
        func(*args, *outs)
        res = [o[0] if o.shape == (1,) and layout.endswith("()") else o for o in outs]
        return res[0] if nout == 1 else tuple(res)
    return np.vectorize(call, signature=layout)


def test_generalized_ufuncs(gu):
    u, nu = gu["dot"]
    assert isinstance(u, np.ufunc) and u.signature == nu.signature == "(n),(n)->()"
    assert (u.nin, u.nout, u.types) == (2, 1, ["dd->d", "ff->f"])
    assert gu["minmax"][0].nout == 2 and gu["matmul"][0].signature == "(m,n),(n,p)->(m,p)"


@pytest.mark.parametrize("shapes", [((5,), (5,)), ((3, 5), (5,)), ((4, 1, 6), (3, 6)),
                                    ((0, 4), (4,)), ((2, 0), (2, 0))])
def test_dot_broadcasting(gu, shapes):
    u, nu = gu["dot"]
    rng = np.random.default_rng(3)
    x, y = (rng.normal(size=s) for s in shapes)
    same_array(u(x, y), nu(x, y))
    if x.size and y.size:  # np.vectorize refuses size-0 inputs
        same_array(u(x, y), _ref(dot, "(n),(n)->()", 1, float)(x, y))
    xf, yf = x.astype(np.float32), y.astype(np.float32)  # Numba sums `s = 0.0` in float64
    same_array(u(xf, yf), nu(xf, yf, signature="ff->f"), exact=False, rtol=1e-5, atol=1e-6)


def test_matmul_several_core_dims(gu):
    u, nu = gu["matmul"]
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3, 1, 4, 5)), rng.normal(size=(2, 5, 3))
    same_array(u(a, b), nu(a, b))
    np.testing.assert_allclose(u(a, b), a @ b)
    at, bt = a.transpose(0, 1, 3, 2)[..., ::-1, :], rng.normal(size=(2, 3, 4)).transpose(0, 2, 1)
    np.testing.assert_allclose(u(at, bt[:, ::-1]), at @ bt[:, ::-1])
    out = np.empty((3, 2, 4, 3))
    assert u(a, b, out=out) is out
    same_array(out, nu(a, b))


def test_several_outputs_and_ints(gu):
    u, nu = gu["minmax"]
    x = np.random.default_rng(5).normal(size=(4, 7))
    for got, want in zip(u(x), nu(x), strict=True):
        same_array(got, want)
    lo, hi = u(x[:, ::-2])
    same_array(lo, x[:, ::-2].min(axis=1))
    same_array(hi, x[:, ::-2].max(axis=1))
    xi = np.arange(12).reshape(3, 4) * np.array([1, -1, 2, -3])
    for got, want in zip(u(xi), _ref(minmax, "(n)->(),()", 2, np.int64)(xi), strict=True):
        same_array(got, want)
    c, nc = gu["cumsum"]
    same_array(c(xi), nc(xi))
    same_array(c(xi.astype(np.int32)), np.cumsum(xi.astype(np.int32), axis=1, dtype=np.int32))
    same_array(c(xi, axis=0), np.cumsum(xi, axis=0))
    same_array(c(xi.T, axes=[(0,), (0,)]), nc(xi.T, axes=[(0,), (0,)]))


def test_fixed_core_dimension(gu):
    u, _ = gu["cross"]
    a, b = np.random.default_rng(8).normal(size=(2, 5, 3)), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(u(a, b), np.cross(a, b))
    np.testing.assert_allclose(u(a.transpose(0, 2, 1), b, axes=[(1,), (0,), (2,)]),
                               np.cross(a, b))
    with pytest.raises(ValueError, match="mismatch in its core dimension"):
        u(np.ones((2, 4)), b)


def test_bool_and_scalar_inputs(gu):
    u, nu = gu["anytrue"]
    m = np.array([[False, False, True], [False, False, False]])
    same_array(u(m), nu(m))
    same_array(u(m), m.any(axis=1))
    s, ns = gu["scale"]
    x = np.arange(6.0).reshape(2, 3)
    same_array(s(x, 2.5), ns(x, 2.5))
    same_array(s(x, np.array([1.0, -2.0])), x * np.array([[1.0], [-2.0]]))
    same_array(s(x, np.array([[1.0], [-2.0]])), ns(x, np.array([[1.0], [-2.0]])))  # (2, 2, 3)


def test_parallel_target():
    sigs, lay = ["void(float64[:], float64[:], float64[:])"], "(n),(n)->()"
    pu = ember.guvectorize(sigs, lay, target="parallel")(dot)
    x = np.random.default_rng(6).normal(size=(20_000, 16))
    same_array(pu(x, x[::-1]), numba.guvectorize(sigs, lay)(dot)(x, x[::-1]))
    same_array(pu(x[:1], x[0]), np.array([x[0] @ x[0]]), exact=False, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sigs, layout, message", [
    (["void(float64[:,:], float64[:], float64[:])"], "(n),(n)->()",
     "has 2 dimension(s) in"),
    (["void(float64[:], float64[:])"], "(n),(n)->()", "has 2 argument(s) but layout"),
    (["void(float64[:], float64[:], float64)"], "(n),(n)->()", "is a scalar in"),
    (["float64(float64[:], float64[:], float64[:])"], "(n),(n)->", "each side of '->'"),
    (["void(float64[:], float64[:], float64[:])"], "(n),(n)", "is not a generalized-ufunc"),
])
def test_layout_errors(sigs, layout, message):
    with pytest.raises((CompileError, ValueError), match=re.escape(message)):
        ember.guvectorize(sigs, layout)(dot)


def test_kernel_must_write_outputs():
    def returns(x, out):
        return x[0]

    with pytest.raises(CompileError, match="writes its outputs into its last parameters"):
        ember.guvectorize(["void(float64[:], float64[:])"], "(n)->()")(returns)
    with pytest.raises(TypeError, match="needs the signatures and the layout"):
        ember.guvectorize(["void(float64[:], float64[:])"])(dot)
    with pytest.raises(TypeError, match="needs the type signatures too"):
        ember.guvectorize("(n),(n)->()")(dot)


def test_dask_arrays_take_them(gu):
    """What dask.array does with a ufunc (threads here; worker processes: tests/scaleout)."""
    da = pytest.importorskip("dask.array")
    u, _ = gu["dot"]
    a = np.random.default_rng(7).normal(size=(40, 6))
    x = da.from_array(a, chunks=(10, 6))
    want = (a * a).sum(axis=1)
    np.testing.assert_allclose(u(x, x).compute(scheduler="threads"), want)
    np.testing.assert_allclose(da.apply_gufunc(u, "(n),(n)->()", x, x).compute(), want)
    s, _ = gu["scale"]
    np.testing.assert_allclose(da.map_blocks(s, x, 2.0).compute(), 2.0 * a)
