"""NumPy reductions and scans in kernels (issue 13): every function x axis x keepdims x dtype x
rank against NumPy on the same inputs; fused operands, views, empty arrays, NaNs, methods,
compile errors."""

import importlib.util

import numpy as np
import pytest

from ember import CompileError, f32, f64, i32, i64, kernel
from ember.types import boolean

RNG = np.random.default_rng(13)
DTYPES = {"f64": f64, "f32": f32, "i32": i32, "i64": i64, "bool": boolean}
FUNCS = ["sum", "prod", "mean", "var", "std", "min", "max", "amin", "amax", "argmin", "argmax",
         "any", "all", "cumsum", "cumprod"]
_CACHE: dict = {}


def _input(dtype: str, shape):
    if dtype == "bool":
        return RNG.random(shape) < 0.5
    if dtype.startswith("i"):
        return RNG.integers(-3, 4, shape).astype(np.dtype(dtype.replace("i", "int")))
    return (RNG.random(shape) + 0.5).astype(np.float32 if dtype == "f32" else np.float64)


def _make(tmp_path, func: str, dtype: str, ndim: int, args: str, x):
    """A kernel `np.<func>(a<args>)` in a module of its own, annotated from NumPy's result."""
    key = (func, dtype, ndim, args)
    if key not in _CACHE:
        want = eval(f"np.{func}(x{args})", {"np": np, "x": x})  # noqa: S307
        if isinstance(want, np.ndarray):
            ret = f"{_NAMES[want.dtype.name]}[{', '.join([':'] * want.ndim)}]"
        else:
            ret = _NAMES[np.asarray(want).dtype.name]
        ann = f"{'boolean' if dtype == 'bool' else dtype}[{', '.join([':'] * ndim)}]"
        name = f"red_{len(_CACHE)}"
        path = tmp_path / f"{name}.py"
        path.write_text("import numpy as np\nfrom ember import kernel, f32, f64, i32, i64\n"
                        "from ember.types import boolean, u64\n\n\n@kernel\n"
                        f"def k(a: {ann}) -> {ret}:\n    return np.{func}(a{args})\n")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _CACHE[key] = module.k
    return _CACHE[key]


_NAMES = {"float64": "f64", "float32": "f32", "int32": "i32", "int64": "i64", "bool": "boolean",
          "uint64": "u64"}


def _check(got, want):
    want = np.asarray(want) if not np.isscalar(want) else want
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        assert got.shape == want.shape, (got.shape, want.shape)
    rtol = 1e-5 if np.asarray(want).dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rtol, atol=1e-12)


def _run(tmp_path, func, dtype, shape, args):
    x = _input(dtype, shape)
    k = _make(tmp_path, func, dtype, len(shape), args, x)
    _check(k(x), eval(f"np.{func}(x{args})", {"np": np, "x": x}))  # noqa: S307


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("func", FUNCS)
def test_every_function_every_dtype(tmp_path, func, dtype):
    _run(tmp_path, func, dtype, (3, 5), "")
    _run(tmp_path, func, dtype, (3, 5), ", axis=-1" if func[:3] != "cum" else ", axis=0")


ARGS = [", axis=0", ", axis=1", ", axis=-1", ", axis=0, keepdims=True",
        ", axis=-1, keepdims=True", ", keepdims=True"]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_axes_and_keepdims(tmp_path, func, ndim):
    shape = (4, 3, 5)[:ndim]
    for args in ARGS:
        if "keepdims" in args and func.startswith("cum"):
            continue
        if "axis=1" in args and ndim < 2:
            continue
        _run(tmp_path, func, "f64", shape, args)


# --- operands: fused expressions, views, methods ---------------------------------------------
@kernel
def fused_dot(a: f64[:], b: f64[:]) -> float:
    return np.sum(a * b)


@kernel
def view_max(a: f64[:, :]) -> float:
    return a[::-2, 1::2].max()


@kernel
def methods(a: f64[:, :]) -> f64[:]:
    return a.sum(axis=0) + a.mean(axis=0) + a.std(0, ddof=1) + a.argmax(axis=0) \
        + a.T.min(axis=1)


@kernel
def softmax_rows(x: f64[:, :]) -> f64[:, :]:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        row = x[i]
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


@kernel
def keep_mean(a: f64[:, :]) -> f64[:, :]:
    return a - a.mean(axis=1, keepdims=True)


def test_fused_views_methods():
    a, b = RNG.random(1000), RNG.random(1000)
    _check(fused_dot(a, b), np.sum(a * b))
    assert "memref.alloc" not in fused_dot.inspect("mlir")  # one pass, no temporary
    A = RNG.random((7, 6))
    _check(view_max(A), A[::-2, 1::2].max())
    want = A.sum(axis=0) + A.mean(axis=0) + A.std(0, ddof=1) + A.argmax(axis=0) + A.T.min(1)
    _check(methods(A), want)
    e = np.exp(A - A.max(axis=1, keepdims=True))
    _check(softmax_rows(A), e / e.sum(axis=1, keepdims=True))
    _check(keep_mean(A), A - A.mean(axis=1, keepdims=True))


# --- empty arrays and NaNs ---------------------------------------------------------------------
@kernel
def empty_sum(a: f64[:]) -> float:
    return np.sum(a) + np.prod(a)


@kernel
def empty_mean(a: f64[:]) -> float:
    return np.mean(a)


@kernel
def empty_max(a: f64[:, :]) -> f64[:]:
    return np.max(a, axis=1)


@kernel
def empty_argmax(a: f64[:]) -> int:
    return np.argmax(a)


@kernel
def nan_stats(a: f64[:]) -> f64[:]:
    out = np.empty(4)
    out[0] = np.max(a)
    out[1] = np.min(a)
    out[2] = np.argmax(a)
    out[3] = np.argmin(a)
    return out


def test_empty_arrays():
    assert empty_sum(np.zeros(0)) == 1.0
    assert np.isnan(empty_mean(np.zeros(0)))
    assert empty_max(np.zeros((0, 3))).shape == (0,)
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        empty_max(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        empty_argmax(np.zeros(0))


def test_nans_propagate():
    a = np.array([1.0, np.nan, 3.0, np.nan, -1.0])
    got = nan_stats(a)
    assert np.isnan(got[0]) and np.isnan(got[1])
    assert got[2] == np.argmax(a) == 1 and got[3] == np.argmin(a) == 1
    b = np.array([-np.inf, -np.inf])
    assert nan_stats(b)[2] == 0


# --- compile errors ----------------------------------------------------------------------------
def bad_axis(a: f64[:, :]) -> f64[:]:
    return np.sum(a, axis=2)


def bad_out(a: f64[:]) -> float:
    return np.sum(a, out=a)


def axis_variable(a: f64[:, :], k: int) -> f64[:]:
    return a.max(axis=k)


@pytest.mark.parametrize("fn, message", [
    (bad_axis, "axis 2 is out of bounds for array of dimension 2"),
    (bad_out, "out=...) is not supported"),
    (axis_variable, "axis must be a constant int"),
])
def test_compile_errors(fn, message):
    with pytest.raises(CompileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kernel(fn).compile()


def test_accepted_in_derivative_builds():  # more in tests/grad/test_reduction_grads.py
    import ember

    def loss(x: f64[:]) -> float:
        return np.sum(x * x)

    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ember.grad(kernel(loss), wrt="x")(x), 2.0 * x)
