"""Array products (issue 13): `@`, np.matmul, np.dot, np.inner, np.vdot, np.outer, np.trace
against NumPy on the same inputs: every 1-D/2-D shape combination, f64/f32/i64 and mixed
dtypes (NumPy's promotion), strided, transposed and negative-stride operands (passed in and
made inside the kernel), empty dimensions, products inside elementwise expressions, NumPy's
ValueError for mismatched sizes and the compile errors of the forms not supported yet.
Derivatives: tests/grad/test_product_grads.py."""

import importlib.util
import itertools
import re

import numpy as np
import pytest

import ember
from ember import CompileError, f32, f64, i32, i64, kernel

boolean = ember.types.boolean
RNG = np.random.default_rng(2013)
DTYPES = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "i32": np.int32}
FORMS = {"at": "a @ b", "dot": "np.dot(a, b)", "matmul": "np.matmul(a, b)",
         "inner": "np.inner(a, b)"}
RANKS = [(1, 1), (2, 1), (1, 2), (2, 2)]
PAIRS = [("f64", "f64"), ("f32", "f32"), ("i64", "i64"), ("f32", "f64"), ("i64", "f64"),
         ("i32", "i32"), ("i32", "f32")]


def _annotation(dtype: str, ndim: int) -> str:
    return f"{dtype}[{', '.join(':' * ndim)}]"


def _result(form: str, ranks: tuple[int, int], pair: tuple[str, str]) -> str:
    dtype = np.result_type(DTYPES[pair[0]], DTYPES[pair[1]])
    name = {np.float64: "f64", np.float32: "f32", np.int64: "i64", np.int32: "i32"}[dtype.type]
    ndim = sum(ranks) - 2
    return name if ndim == 0 else _annotation(name, ndim)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """One module of kernels, one per (form, ranks, dtypes): compiled on first use."""
    lines = ["import numpy as np", "from ember import f32, f64, i32, i64, kernel", ""]
    for form, ranks, pair in itertools.product(FORMS, RANKS, PAIRS):
        name = f"{form}_{ranks[0]}{ranks[1]}_{pair[0]}_{pair[1]}"
        lines += ["@kernel", f"def {name}(a: {_annotation(pair[0], ranks[0])}, "
                  f"b: {_annotation(pair[1], ranks[1])}) -> {_result(form, ranks, pair)}:",
                  f"    return {FORMS[form]}", ""]
    path = tmp_path_factory.mktemp("products") / "product_table.py"
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("product_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _array(shape, dtype):
    if np.issubdtype(dtype, np.integer):
        return RNG.integers(-5, 6, shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def _same(got, want):
    if np.ndim(want) == 0:  # scalar results come back as Python (or NumPy) scalars
        want = np.asarray(want)
        got = np.asarray(got, dtype=want.dtype if np.issubdtype(want.dtype, np.integer)
                         or isinstance(got, float) else None)
        assert np.issubdtype(got.dtype, np.integer) == np.issubdtype(want.dtype, np.integer)
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if np.issubdtype(want.dtype, np.integer):
        np.testing.assert_array_equal(got, want)
    else:
        rtol = 2e-5 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 10)


def _shapes(form, ranks, n, k, m):
    a = (n, k) if ranks[0] == 2 else (k,)
    if form == "inner":
        b = (m, k) if ranks[1] == 2 else (k,)
    else:
        b = (k, m) if ranks[1] == 2 else (k,)
    return a, b


# --- the table: every form x rank combination x dtype pair --------------------------------------
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("ranks", RANKS)
@pytest.mark.parametrize("pair", PAIRS)
def test_forms(table, form, ranks, pair):
    fn = getattr(table, f"{form}_{ranks[0]}{ranks[1]}_{pair[0]}_{pair[1]}")
    reference = {"at": np.matmul, "dot": np.dot, "matmul": np.matmul, "inner": np.inner}[form]
    for n, k, m in [(3, 4, 5), (7, 1, 1), (13, 37, 70), (0, 3, 4), (3, 0, 4), (3, 4, 0)]:
        sa, sb = _shapes(form, ranks, n, k, m)
        a, b = _array(sa, DTYPES[pair[0]]), _array(sb, DTYPES[pair[1]])
        _same(fn(a, b), reference(a, b))


@pytest.mark.parametrize("ranks", RANKS)
def test_strided_and_negative_stride_arguments(table, ranks):
    fn = getattr(table, f"at_{ranks[0]}{ranks[1]}_f64_f64")
    big_a, big_b = _array((20, 30), np.float64), _array((30, 40), np.float64)
    a = big_a[::-2, 1::3] if ranks[0] == 2 else big_a[3, ::-3]
    b = big_b[1::3, ::-2] if ranks[1] == 2 else big_b[::-3, 5]
    _same(fn(a, b), a @ b)
    if ranks == (2, 2):
        _same(fn(big_b.T[:, :20], big_a.T[:20, :]), big_b.T[:, :20] @ big_a.T[:20, :])


@pytest.mark.parametrize("n, k, m", [(512, 512, 512), (67, 129, 93), (1, 300, 33)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_matmul(table, n, k, m, dtype):
    name = "f64_f64" if dtype == np.float64 else "f32_f32"
    a, b = _array((n, k), dtype), _array((k, m), dtype)
    _same(getattr(table, f"at_22_{name}")(a, b), a @ b)


# --- views and transposes made in the kernel ----------------------------------------------------
@kernel
def at_b(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a.T @ b


@kernel
def a_bt(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a @ b.T


@kernel
def at_bt(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a.T @ b.T


@kernel
def sliced(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a[::-1, 1:] @ b[:-1, ::2]


@kernel
def row_col(a: f64[:, :], b: f64[:, :]) -> float:
    return a[1] @ b[:, 2]


def test_views_as_operands():
    a, b = _array((9, 6), np.float64), _array((9, 11), np.float64)
    _same(at_b(a, b), a.T @ b)
    _same(a_bt(a, b[:, :6]), a @ b[:, :6].T)
    _same(at_bt(a, b[:5, :9]), a.T @ b[:5, :9].T)
    c = _array((6, 12), np.float64)
    _same(sliced(a, c), a[::-1, 1:] @ c[:-1, ::2])
    _same(row_col(a, c), a[1] @ c[:, 2])


def test_transpose_of_argument_is_not_copied_by_the_caller():
    a = _array((40, 30), np.float64)
    _same(at_b(a, a), a.T @ a)  # A.T @ A: A read through the transposed view


# --- products inside elementwise expressions and statements -------------------------------------
@kernel
def loss(w: f64[:], X: f64[:, :], y: f64[:], lam: float) -> float:
    r = X @ w - y
    return 0.5 * np.dot(r, r) / y.size + lam * np.dot(w, w)


@kernel
def gemm(alpha: float, a: f64[:, :], b: f64[:, :], beta: float, c: f64[:, :]) -> f64[:, :]:
    return alpha * a @ b + beta * c


@kernel
def chain(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> f64[:, :]:
    return a @ b @ c


@kernel
def into(out: f64[:, :], a: f64[:, :], b: f64[:, :]) -> None:
    out[:, :] = a @ b
    out[0] = out[0] + a[0] @ b


def test_products_in_expressions():
    X, w, y = _array((20, 5), np.float64), _array(5, np.float64), _array(20, np.float64)
    r = X @ w - y
    _same(loss(w, X, y, 0.1), 0.5 * np.dot(r, r) / y.size + 0.1 * np.dot(w, w))
    a, b, c = _array((4, 6), np.float64), _array((6, 5), np.float64), _array((4, 5), np.float64)
    _same(gemm(1.5, a, b, -0.5, c), 1.5 * a @ b - 0.5 * c)
    _same(chain(a, b, c.T), a @ b @ c.T)
    out = np.zeros((4, 5))
    into(out, a, b)
    want = a @ b
    want[0] = want[0] + a[0] @ b
    _same(out, want)


# --- vdot, outer, trace -------------------------------------------------------------------------
@kernel
def vdot(a: f64[:], b: f64[:]) -> float:
    return np.vdot(a, b)


@kernel
def vdot_int(a: i64[:], b: i64[:]) -> int:
    return np.vdot(a, b)


@kernel
def outer(a: f64[:], b: f64[:]) -> f64[:, :]:
    return np.outer(a, b)


@kernel
def outer_mixed(a: i64[:], b: f64[:]) -> f64[:, :]:
    return np.outer(a, b[::-1])


@kernel
def trace(a: f64[:, :]) -> float:
    return np.trace(a)


@kernel
def trace_offset(a: i64[:, :], k: int) -> int:
    return np.trace(a, k) + np.trace(a, offset=-k)


@kernel
def trace_product(a: f64[:, :], b: f64[:, :]) -> float:
    return np.trace(a @ b.T)


@pytest.mark.parametrize("n", [0, 1, 5, 64, 1001])
def test_vdot(n):
    a, b = _array(n, np.float64), _array(n, np.float64)
    _same(vdot(a, b), np.vdot(a, b))
    _same(vdot(a[::-1], b), np.vdot(a[::-1], b))
    ia, ib = _array(n, np.int64), _array(n, np.int64)
    assert vdot_int(ia, ib) == np.vdot(ia, ib)


def test_outer():
    a, b = _array(5, np.float64), _array(7, np.float64)
    _same(outer(a, b), np.outer(a, b))
    _same(outer(a[:0], b), np.outer(a[:0], b))
    ia = _array(5, np.int64)
    _same(outer_mixed(ia, b), np.outer(ia, b[::-1]))
    A, u, v = _array((5, 7), np.float64), _array(5, np.float32), _array(7, np.int32)
    _same(gemver_update(A, a, b, u, v), gemver_update.__wrapped__(A, a, b, u, v))
    # the outer products are computed inside the sum's loop: one array, the result (each
    # function of the module: the loops as written and their optimized variant)
    mlir = gemver_update.inspect("mlir")
    assert mlir.count("memref.alloc(") == mlir.count("func.func @"), mlir


@kernel
def gemver_update(A: f64[:, :], u1: f64[:], v1: f64[:], u2: f32[:], v2: i32[:]) -> f64[:, :]:
    return A + np.outer(u1, v1) + np.outer(u2, v2)


@pytest.mark.parametrize("shape", [(4, 4), (3, 6), (6, 3), (0, 3)])
def test_trace(shape):
    a = _array(shape, np.float64)
    _same(trace(a), np.trace(a))
    _same(trace(a.T), np.trace(a.T))
    ia = _array(shape, np.int64)
    for k in [0, 1, 2, 5, -1]:
        assert trace_offset(ia, k) == np.trace(ia, k) + np.trace(ia, -k)
    b = _array(shape, np.float64)
    _same(trace_product(a, b), np.trace(a @ b.T))


# --- NumPy's errors for mismatched sizes --------------------------------------------------------
MATMUL = ("matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
          "signature (n?,k),(k,m?)->(n?,m?) (size {} is different from {})")


@pytest.mark.parametrize("ranks", RANKS)
@pytest.mark.parametrize("form", FORMS)
def test_mismatch_errors(table, form, ranks):
    fn = getattr(table, f"{form}_{ranks[0]}{ranks[1]}_f64_f64")
    sa, sb = _shapes(form, ranks, 2, 3, 5)
    sb = tuple(4 if s == 3 else s for s in sb)
    a, b = np.ones(sa), np.ones(sb)
    reference = {"at": np.matmul, "dot": np.dot, "matmul": np.matmul, "inner": np.inner}[form]
    with pytest.raises(ValueError) as want:
        reference(a, b)
    with pytest.raises(ValueError, match=re.escape(str(want.value))):
        fn(a, b)


def test_vdot_mismatch():
    with pytest.raises(ValueError) as want:
        np.vdot(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=re.escape(str(want.value))):
        vdot(np.ones(3), np.ones(4))


# --- compile errors -----------------------------------------------------------------------------
def three_d(a: f64[:, :, :], b: f64[:, :]) -> f64[:, :, :]:
    return a @ b


def bool_product(a: boolean[:], b: boolean[:]) -> bool:
    return np.dot(a, b)


def scalar_operand(a: f64[:]) -> f64[:]:
    return np.dot(2.0, a)


def outer_2d(a: f64[:, :], b: f64[:]) -> f64[:, :]:
    return np.outer(a, b)


def trace_1d(a: f64[:]) -> float:
    return np.trace(a)


@pytest.mark.parametrize("fn, message", [
    (three_d, "matmul: operand 0 has 3 dimension(s)"),
    (bool_product, "np.dot of bool arrays is not supported yet"),
    (scalar_operand, "np.dot: operand 0 is float"),
    (outer_2d, "np.outer: operand 0 has 2 dimension(s); np.outer in kernels takes a 1-D"),
    (trace_1d, "np.trace: operand 0 has 1 dimension(s)"),
])
def test_compile_errors(fn, message):
    with pytest.raises(CompileError, match=re.escape(message)):
        kernel(fn)(*[np.ones(3)] * fn.__code__.co_argcount)
