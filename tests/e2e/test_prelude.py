"""The prelude (ember/prelude): NumPy routines written in Ember, called from kernels as NumPy
spells them, against NumPy on the same inputs (values, dtypes, shapes), for f64 and f32 (and
integer inputs where NumPy converts them), empty and size-1 edge cases, and errors.

Each expression is one small kernel returning it (`_kernel`); NumPy evaluates the same text."""

import importlib.util
import os
import tempfile
import traceback

import numpy as np
import pytest

from ember import CompileError, kernel
from ember.frontend.deps import dependencies

RNG = np.random.default_rng(7)
_DIR = tempfile.mkdtemp(prefix="ember-prelude-")
_KERNELS: dict = {}


def _kernel(params: str, expr: str):
    """`def k(<params>): return <expr>` compiled from a module of its own."""
    key = (params, expr)
    if key not in _KERNELS:
        name = f"prelude_case_{len(_KERNELS)}"
        path = os.path.join(_DIR, name + ".py")
        with open(path, "w") as f:
            f.write("import numpy as np\nfrom ember import f32, f64, i64\n"
                    "from ember.types import boolean\n\n\n"
                    f"def k({params}):\n    return {expr}\n")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _KERNELS[key] = kernel(module.k)
    return _KERNELS[key]


def _check(params: str, expr: str, rtol: float = 0.0, **args):
    """The kernel's value of `expr` against NumPy's: dtype, shape and values."""
    got = _kernel(params, expr)(*args.values())
    want = eval(expr, {"np": np}, args)  # noqa: S307
    if np.ndim(want) == 0 and not isinstance(got, np.ndarray):
        got, want = np.asarray(got), np.asarray(want)  # a 0-d result is a scalar in kernels
        assert got.dtype.kind == want.dtype.kind, (expr, got, want)
    else:
        assert got.dtype == want.dtype and got.shape == want.shape, (expr, got, want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=expr)


LINALG = ["np.linalg.solve(a, b)", "np.linalg.solve(a, c)", "np.linalg.inv(a)",
          "np.linalg.cholesky(a @ a.T + np.eye(a.shape[0], dtype=a.dtype))",
          "np.linalg.det(a)", "np.linalg.norm(b)", "np.linalg.norm(a)", "np.linalg.norm(b, 1)"]
NONEMPTY = ["np.linalg.norm(b, np.inf) + np.linalg.norm(b, -np.inf) * 10",
            "np.linalg.norm(a, 'fro') + np.linalg.norm(a, 1) * 10 + np.linalg.norm(a, "
            "np.inf) * 100", "np.linalg.norm(a, axis=0)", "np.linalg.norm(a, 1, axis=1)",
            "np.linalg.norm(a, np.inf, axis=-1)"]
"""NumPy raises for these on empty arrays (max of an empty array: so do the kernels)."""


@pytest.mark.parametrize("dt", ["f64", "f32"])
def test_linalg(dt):
    dtype = np.float64 if dt == "f64" else np.float32
    rtol = 1e-10 if dt == "f64" else 2e-4
    params = f"a: {dt}[:, :], b: {dt}[:], c: {dt}[:, :]"
    for n in (0, 1, 5):
        a = (RNG.normal(size=(n, n)) + 2 * np.eye(n)).astype(dtype)
        b, c = RNG.normal(size=n).astype(dtype), RNG.normal(size=(n, 3)).astype(dtype)
        for expr in LINALG + (NONEMPTY if n else []):
            _check(params, expr, rtol, a=a, b=b, c=c)


def test_linalg_converts_like_numpy():
    """Integers become float64, mixed float dtypes promote; the results' dtypes are NumPy's."""
    a, b = np.array([[3, 1], [1, 2]]), np.array([1.0, 2.0], np.float32)
    params = "a: i64[:, :], b: f32[:]"
    for expr in ["np.linalg.solve(a, b)", "np.linalg.det(a)", "np.linalg.norm(a[0])",
                 "np.linalg.inv(a)", "np.linalg.solve(a.astype(np.float32), b)"]:
        _check(params, expr, 1e-6, a=a, b=b)


def test_linalg_errors():
    solve = _kernel("a: f64[:, :], b: f64[:]", "np.linalg.solve(a, b)")
    with pytest.raises(ValueError, match="^Singular matrix$"):
        solve(np.array([[1.0, 2.0], [2.0, 4.0]]), np.ones(2))
    with pytest.raises(ValueError, match="Last 2 dimensions of the array must be square"):
        solve(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="mismatch in its core dimension 0"):
        solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="^Matrix is not positive definite$"):
        _kernel("a: f64[:, :]", "np.linalg.cholesky(a)")(np.array([[1.0, 2.0], [2.0, 1.0]]))
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])  # det does not raise, as NumPy's
    assert _kernel("a: f64[:, :]", "np.linalg.det(a)")(singular) == np.linalg.det(singular)


@pytest.mark.parametrize("src, message", [
    ("np.linalg.norm(a, 2)", "matrix norms of ord None, 'fro', 1 and np.inf"),
    ("np.linalg.norm(a, axis=2)", "axis 2 is out of bounds for array of dimension 2"),
    ("np.linalg.norm(a[0], 3)", "vector norms of ord None, 1, 2"),
    ("np.convolve(a[0], a[1], mode=m)", "argument 'mode' of np.convolve() must be a constant"),
    ("np.convolve(a[0], a[1], mode='wide')", "mode must be one of"),
    ("np.diff(a, n=-1)", "order must be non-negative but got -1"),
    ("np.linalg.inv(a[0])", "np.linalg.inv()'s matrix must be a 2-D array"),
    ("np.flip(a, axis=0, m=a)", "got multiple values for argument 'm'"),
    ("np.roll(a, 1.5)", "np.roll() takes one integer shift"),
    ("np.histogram(a[0], bins=0)", "constant positive number of bins"),
    ("np.cov(a, a)", "np.cov() takes one array in kernels"),
    ("np.interp(a, a[0], a[0])", "np.interp() takes a scalar or a 1-D array x"),
])
def test_compile_errors(src, message):
    k = _kernel("a: f64[:, :]", f"np.sum({src})".replace("mode=m", "mode=a.shape"))
    with pytest.raises(CompileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        k(np.eye(2))


SHAPES = ["np.flip(x)", "np.flip(m)", "np.flip(m, 0)", "np.flip(m, axis=-1)", "np.roll(x, s)",
          "np.roll(m, s)", "np.roll(m, s, axis=0)", "np.roll(m, s, 1)", "np.diff(x)",
          "np.diff(x, n=2)", "np.diff(m)", "np.diff(m, axis=0)", "np.diff(x, 0)",
          "np.diff(x, n=9)"]


@pytest.mark.parametrize("dt", ["f64", "i64"])
def test_flip_roll_diff(dt):
    dtype = np.float64 if dt == "f64" else np.int64
    for size, s in [(0, 2), (1, -1), (6, 8), (6, -3)]:
        x = (RNG.normal(size=size) * 10).astype(dtype)
        m = (RNG.normal(size=(3, size)) * 10).astype(dtype)
        for expr in SHAPES:
            _check(f"x: {dt}[:], m: {dt}[:, :], s: int", expr, x=x, m=m, s=s)


def test_diff_of_bools_and_f32():
    x, m = RNG.random(7) < 0.5, RNG.random((2, 5)) < 0.5
    for expr in ["np.diff(x)", "np.diff(m, axis=1)", "np.diff(m, axis=0)"]:
        _check("x: boolean[:], m: boolean[:, :]", expr, x=x, m=m)
    y = RNG.normal(size=(3, 4)).astype(np.float32)
    for expr in ["np.diff(y, n=2)", "np.roll(y, -5)", "np.flip(y)"]:
        _check("y: f32[:, :]", expr, y=y)


def test_interp():
    xp = np.array([-1.0, 0.0, 0.5, 2.0], np.float32)
    fp = np.array([3.0, -1.0, 2.0, 0.25])
    x = np.array([-3.0, -1.0, -0.25, 0.0, 0.3, 1.9, 2.0, 2.5, np.nan])
    params = "x: f64[:], xp: f32[:], fp: f64[:], t: float"
    for expr in ["np.interp(x, xp, fp)", "np.interp(t, xp, fp)",
                 "np.interp(x, xp, fp, left=-1.0)", "np.interp(x, xp, fp, right=9, left=-2.0)",
                 "np.interp(x, xp[:1], fp[:1])"]:
        _check(params, expr, x=x, xp=xp, fp=fp, t=0.7)
    k = _kernel(params, "np.interp(x, xp, fp)")
    with pytest.raises(ValueError, match="array of sample points is empty"):
        k(x, xp[:0], fp[:0], 0.0)
    with pytest.raises(ValueError, match="fp and xp are not of the same length"):
        k(x, xp, fp[:2], 0.0)


CONVOLVE = ["np.convolve(a, v)", "np.convolve(a, v, 'same')", "np.convolve(a, v, mode='valid')",
            "np.convolve(v, a, 'same')", "np.convolve(v, a, 'valid')"]


@pytest.mark.parametrize("dt", ["f64", "f32", "i64"])
def test_convolve(dt):
    dtype = {"f64": np.float64, "f32": np.float32, "i64": np.int64}[dt]
    for n, m in [(1, 1), (7, 3), (6, 4)]:
        a, v = (RNG.normal(size=n) * 5).astype(dtype), (RNG.normal(size=m) * 5).astype(dtype)
        for expr in CONVOLVE if dt != "f32" else CONVOLVE[:2]:
            _check(f"a: {dt}[:], v: {dt}[:]", expr, 1e-5 if dt == "f32" else 1e-12, a=a, v=v)
    with pytest.raises(ValueError, match="v cannot be empty"):
        _kernel(f"a: {dt}[:], v: {dt}[:]", CONVOLVE[0])(a, v[:0])


def test_cov():
    m, x = RNG.normal(size=(3, 5)), RNG.normal(size=6).astype(np.float32)
    k = RNG.integers(-5, 5, size=(2, 4))
    params = "m: f64[:, :], x: f32[:], k: i64[:, :]"
    for expr in ["np.cov(m)", "np.cov(m, ddof=0)", "np.cov(m, bias=True)",
                 "np.cov(m, rowvar=False)", "np.cov(x)", "np.cov(k)"]:
        _check(params, expr, 1e-12, m=m, x=x, k=k)


def test_histogram():
    a = RNG.normal(size=200)
    k = np.array([0, 1, 5, 10, 11, -1, 3, 7])
    s = RNG.normal(size=30).astype(np.float32)
    params = "a: f64[:], k: i64[:], s: f32[:]"
    for expr in ["np.histogram(a, 7)[0]", "np.histogram(a, 7)[1]",
                 "np.histogram(a, bins=4, range=(-1, 2))[0]", "np.histogram(a, 4, (-1, 2))[1]",
                 "np.histogram(k, 3)[0]", "np.histogram(k, 3)[1]", "np.histogram(s)[1]",
                 "np.histogram(s)[0]", "np.histogram(a[:0], 2)[0]"]:
        _check(params, expr, 1e-14, a=a, k=k, s=s)
    both = _kernel("a: f64[:]", "np.histogram(a, 5)")(a)
    for g, w in zip(both, np.histogram(a, 5), strict=True):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_runtime_errors_name_the_users_line():
    """A routine that raises (itself or in a helper) is specialized per call site with its
    spans pinned there: the traceback's last frame is the user's `return` line, not
    ember/prelude's."""
    cases = [("a: f64[:, :], b: f64[:]", "np.linalg.solve(a, b)",
              (np.array([[1.0, 2.0], [2.0, 4.0]]), np.ones(2)), "Singular matrix"),
             ("a: f64[:, :]", "np.linalg.cholesky(a)", (np.array([[1.0, 2.0], [2.0, 1.0]]),),
              "Matrix is not positive definite")]
    for params, expr, args, message in cases:
        k = _kernel(params, expr)
        with pytest.raises(ValueError, match=f"^{message}$") as err:
            k(*args)
        code = k.py_func.__code__
        text = "".join(traceback.format_exception(err.value))
        assert f'File "{code.co_filename}", line {code.co_firstlineno + 1}, in k' in text
        assert "ember/prelude" not in text


def test_cache_key_covers_the_prelude():
    """Editing the prelude invalidates the kernels that call it (and only those)."""
    uses = "\n".join(dependencies(_kernel("a: f64[:, :]", "np.linalg.det(a)").py_func))
    assert "ember.prelude.linalg" in uses and "def det(" in uses
    sorts = "\n".join(dependencies(_kernel("a: f64[:]", "np.sort(a)").py_func))
    assert "ember.prelude.selection" in sorts and "def sort1(" in sorts
    plain = "\n".join(dependencies(_kernel("a: f64[:, :]", "np.sum(a)").py_func))
    assert "ember.prelude" not in plain


def test_slice_bound_assigned_in_an_if(tmp_path):
    """A variable assigned in an `if` and read only by a slice store after it is merged by
    the `if` (liveness reads array stores; np.roll's source found this)."""
    path = tmp_path / "shifted_store.py"
    path.write_text("import numpy as np\nfrom ember import f64\n\n\n"
                    "def shifted(a: f64[:], shift: int) -> f64[:]:\n"
                    "    out = np.zeros_like(a)\n    s = 0\n    if shift > 0:\n"
                    "        s = shift\n    out[s:] = a[:a.shape[0] - s]\n    return out\n")
    spec = importlib.util.spec_from_file_location("shifted_store", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    a = np.arange(5.0)
    np.testing.assert_array_equal(kernel(module.shifted)(a, 2), [0.0, 0.0, 0.0, 1.0, 2.0])
