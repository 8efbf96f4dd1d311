"""Derivatives through array views (issue 13): slices, negative steps, rows (`A[i]`, `for row
in A`), columns (`A[:, j]`), transposes (`.T`, `.transpose`), writes through views read back
through the base, scalar fills of views and views passed to other kernels. Each kernel is
checked in reverse mode against central finite differences (`check_grad`) and in forward mode
(`jvp`: the tangent against grad . tangent, the value against the kernel). Derivative builds
emit views as `memref.subview` and fold transposes into indices (docs/enzyme-views.md)."""

import copy
import math

import numpy as np
import pytest

from ember import CompileError, check_grad, f64, grad, jvp, kernel, vjp

RNG = np.random.default_rng(13)
X = RNG.normal(size=9)
A = RNG.normal(size=(4, 5))


@kernel
def weighted(v: f64[:]) -> float:
    s = 0.0
    for i in range(len(v)):
        s += math.sin(v[i]) * (i + 1)
    return s


@kernel
def scale_row(r: f64[:], c: float) -> None:
    for i in range(len(r)):
        r[i] = r[i] * c


def sum_sin_inner(x: f64[:]) -> float:
    v = x[1:-1]
    s = 0.0
    for i in range(len(v)):
        s += math.sin(v[i])
    return s


def stencil(u: f64[:]) -> float:
    left = u[:-2]
    mid = u[1:-1]
    right = u[2:]
    s = 0.0
    for i in range(len(mid)):
        d = left[i] - 2.0 * mid[i] + right[i]
        s += d * d * mid[i]
    return s


def write_then_read(x: f64[:]) -> float:
    v = x[::2]
    for i in range(len(v)):
        v[i] = math.sin(v[i]) * x[1]
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i] * (i + 1)
    return s


def row_loop(A: f64[:, :]) -> float:
    s = 0.0
    for row in A:
        t = 0.0
        for j in range(len(row)):
            t += row[j] * (j + 1)
        s += math.sin(t)
    return s


def row_writes(A: f64[:, :]) -> float:
    for i in range(A.shape[0]):
        r = A[i]
        for j in range(len(r)):
            r[j] = r[j] * r[j] + 0.5 * i
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += math.cos(A[i, j]) * (i - j)
    return s


def columns(A: f64[:, :]) -> float:
    s = 0.0
    for j in range(A.shape[1]):
        c = A[:, j]
        for i in range(len(c)):
            s += math.exp(0.3 * c[i]) * (j + 1) * (i + 2)
    return s


def transposed(A: f64[:, :]) -> float:
    B = A.T
    s = 0.0
    for i in range(B.shape[0]):
        for j in range(B.shape[1]):
            s += math.sin(B[i, j]) * (i + 2 * j + 1)
    return s


def transposed_rows(A: f64[:, :]) -> float:
    s = 0.0
    for c in A.transpose(1, 0):  # the rows of the transpose: A's columns
        s += c[0] * c[1] * c[2]
    return s


def transposed_slice_write(A: f64[:, :]) -> float:
    B = A.T[1:, ::-1]
    for i in range(B.shape[0]):
        B[i, 0] = B[i, 1] * B[i, 0]
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += A[i, j] * A[i, j] * (i + j + 1)
    return s


def negative_steps(x: f64[:]) -> float:
    return weighted(x[::-1]) + weighted(x[-2::-3]) * x[0]


def to_kernel(x: f64[:]) -> float:
    return weighted(x[2:7]) * weighted(x[:3])


def rows_to_kernel(A: f64[:, :]) -> float:
    for i in range(A.shape[0]):
        scale_row(A[i], 1.0 + A[i, 0])
    s = 0.0
    for i in range(A.shape[0]):
        s += weighted(A[i, ::2])
    return s


def fill_view(x: f64[:], c: float) -> float:
    x[2:5] = c * c
    x[::-4] = 0.0
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * (i + 1)
    return s


CASES = [
    (sum_sin_inner, (X,)), (stencil, (X,)), (write_then_read, (X,)), (row_loop, (A,)),
    (row_writes, (A,)), (columns, (A,)), (transposed, (A,)), (transposed_rows, (A[:3],)),
    (transposed_slice_write, (A,)), (negative_steps, (X,)), (to_kernel, (X,)),
    (rows_to_kernel, (A,)), (fill_view, (X, 0.7)),
]
IDS = [f.__name__ for f, _ in CASES]


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_grad_matches_finite_differences(f, args):
    check_grad(f, *copy.deepcopy(args))


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_jvp_agrees_with_grad(f, args):
    k = kernel(f)
    wrt = f.__code__.co_varnames[0]
    tangent = RNG.normal(size=np.shape(args[0]))
    value, tan = jvp(k, wrt=wrt)(*copy.deepcopy(args), tangents=(tangent,))
    np.testing.assert_allclose(value, k(*copy.deepcopy(args)), rtol=1e-12)
    g = grad(k, wrt=wrt)(*copy.deepcopy(args))
    np.testing.assert_allclose(tan, np.sum(np.asarray(g) * tangent), rtol=1e-9, atol=1e-12)


def test_vjp_of_a_view_written_output():
    def into(x: f64[:], out: f64[:]) -> None:
        o = out[::-1]
        for i in range(len(o)):
            o[i] = math.sin(x[i]) * x[i]

    dout = RNG.normal(size=4)
    gx = vjp(kernel(into), wrt="x", outputs="out")(X[:4].copy(), np.zeros(4),
                                                    cotangents=(dout,))
    x = X[:4]
    np.testing.assert_allclose(gx, dout[::-1] * (np.cos(x) * x + np.sin(x)), rtol=1e-12)
    check_grad(into, X[:4].copy(), np.zeros(4), wrt="x", outputs="out")


@pytest.mark.parametrize(("f", "make"), [
    (stencil, lambda: RNG.normal(size=14)[::2]), (stencil, lambda: RNG.normal(size=9)[::-1]),
    (row_writes, lambda: np.asfortranarray(A)), (columns, lambda: RNG.normal(size=(8, 5))[::2]),
], ids=["step2", "reversed", "fortran", "rows_step2"])
def test_non_contiguous_arguments(f, make):
    # derivative entries take C-contiguous arrays: the runtime copies views (and writes back)
    k = kernel(f)
    x = make()
    assert not x.flags.c_contiguous
    g = grad(k)(x.copy(order="K"))
    np.testing.assert_allclose(g, grad(k)(np.ascontiguousarray(x)), rtol=1e-13)
    check_grad(k, x)


@kernel
def weighted2(B: f64[:, :]) -> float:
    s = 0.0
    for i in range(B.shape[0]):
        for j in range(B.shape[1]):
            s += math.sin(B[i, j]) * (i + 2 * j + 1)
    return s


def transposes_to_kernel(A: f64[:, :]) -> float:
    return weighted2(A.T) + weighted2(A[::-1, 1:].T)


def picked_transpose(A: f64[:, :], flag: int) -> float:
    if flag > 0:  # noqa: SIM108 - an `if` statement picking the view is the case tested
        B = A.T
    else:
        B = A[1:, :].T
    return weighted2(B)


def test_transposes_passed_to_a_kernel():
    check_grad(transposes_to_kernel, A.copy())
    tangent = RNG.normal(size=A.shape)
    _, tan = jvp(kernel(transposes_to_kernel), wrt="A")(A.copy(), tangents=(tangent,))
    g = grad(kernel(transposes_to_kernel))(A.copy())
    np.testing.assert_allclose(tan, np.sum(g * tangent), rtol=1e-10)


def test_transpose_chosen_by_an_if_is_refused_in_reverse_mode():
    k = kernel(picked_transpose)
    with pytest.raises(CompileError, match="(?s)memref.transpose.*transposed view") as info:
        grad(k, wrt="A")(A.copy(), 1)
    assert "B = A.T" in str(info.value)
    tangent = RNG.normal(size=A.shape)  # forward mode has a rule for memref.transpose
    _, tan = jvp(k, wrt="A")(A.copy(), 1, tangents=(tangent,))
    fd = (k(A + 1e-6 * tangent, 1) - k(A - 1e-6 * tangent, 1)) / 2e-6
    np.testing.assert_allclose(tan, fd, rtol=1e-6)


def test_new_axes():
    # more in tests/grad/test_array_expr_grads.py
    def newaxis(x: f64[:]) -> float:
        y = x[None, :]
        return y[0, 1] * weighted(x[:, None][2:, 0])

    check_grad(newaxis, X.copy())
