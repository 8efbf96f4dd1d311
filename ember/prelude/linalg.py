"""Prelude: np.linalg.norm/solve/cholesky/inv/det in Ember (LU with partial pivoting).

The pickers (ember/frontend/prelude_table.py) pass float arrays of one dtype (integers are
converted to float64 first, as NumPy's linalg does) and check the constant arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _square(a: Any) -> None:
    if a.shape[0] != a.shape[1]:
        raise ValueError("Last 2 dimensions of the array must be square")


def _pivot(lu: Any, k: int) -> int:
    """The row at or below k with the largest |lu[i, k]| (the first of equals, as LAPACK)."""
    p = k
    big = abs(lu[k, k])
    for i in range(k + 1, lu.shape[0]):
        if abs(lu[i, k]) > big:
            big = abs(lu[i, k])
            p = i
    return p


def _swap_rows(a: Any, k: int, p: int) -> None:
    if p != k:
        for j in range(a.shape[1]):
            t = a[k, j]
            a[k, j] = a[p, j]
            a[p, j] = t


def _factor(lu: Any, x: Any) -> None:
    """Gaussian elimination with partial pivoting of `lu` in place (U on and above the
    diagonal), applying the same row swaps and eliminations to the columns of `x` (so x
    becomes L^-1 P x). An exact zero pivot raises, as LAPACK's getrf reports it. (Row swaps
    are applied as they happen: Enzyme 0.0.16 fails on loads indexed by a permutation array.)"""
    n = lu.shape[0]
    for k in range(n):
        p = _pivot(lu, k)
        if lu[p, k] == 0:
            raise ValueError("Singular matrix")
        _swap_rows(lu, k, p)
        _swap_rows(x, k, p)
        for i in range(k + 1, n):
            f = lu[i, k] / lu[k, k]
            for j in range(k + 1, n):
                lu[i, j] = lu[i, j] - f * lu[k, j]
            for j in range(x.shape[1]):
                x[i, j] = x[i, j] - f * x[k, j]


def _back(lu: Any, x: Any) -> None:
    """Solve U x = x in place (back substitution, column by column)."""
    n = lu.shape[0]
    for i in range(n - 1, -1, -1):
        for j in range(x.shape[1]):
            s = x[i, j]
            for k in range(i + 1, n):
                s = s - lu[i, k] * x[k, j]
            x[i, j] = s / lu[i, i]


def _check_rhs(a: Any, b: Any) -> None:
    _square(a)
    if b.shape[0] != a.shape[0]:
        raise ValueError("solve: Input operand 1 has a mismatch in its core dimension 0")


def solve_vector(a: Any, b: Any) -> Any:
    _check_rhs(a, b)
    n = a.shape[0]
    lu = a.copy()
    x = np.empty((n, 1), dtype=a.dtype)
    for i in range(n):
        x[i, 0] = b[i]
    _factor(lu, x)
    _back(lu, x)
    out = np.empty(n, dtype=a.dtype)
    for i in range(n):
        out[i] = x[i, 0]
    return out


def solve_matrix(a: Any, b: Any) -> Any:
    _check_rhs(a, b)
    lu = a.copy()
    x = b.copy()
    _factor(lu, x)
    _back(lu, x)
    return x


def inv(a: Any) -> Any:
    _square(a)
    n = a.shape[0]
    lu = a.copy()
    x = np.zeros((n, n), dtype=a.dtype)
    for i in range(n):
        x[i, i] = 1
    _factor(lu, x)
    _back(lu, x)
    return x


def det(a: Any) -> Any:
    """A zero pivot gives 0 (NumPy's det never raises for a singular matrix)."""
    _square(a)
    n = a.shape[0]
    lu = a.copy()
    d = 1.0  # weak: takes the dtype of the matrix
    for k in range(n):
        p = _pivot(lu, k)
        if p != k:
            d = -d
        _swap_rows(lu, k, p)
        d = d * lu[k, k]
        if lu[k, k] != 0:
            for i in range(k + 1, n):
                f = lu[i, k] / lu[k, k]
                for j in range(k + 1, n):
                    lu[i, j] = lu[i, j] - f * lu[k, j]
    return d


def cholesky(a: Any) -> Any:
    _square(a)
    n = a.shape[0]
    lo = np.zeros((n, n), dtype=a.dtype)
    for j in range(n):
        s = a[j, j]
        for k in range(j):
            s = s - lo[j, k] * lo[j, k]
        if not s > 0:
            raise ValueError("Matrix is not positive definite")
        d = np.sqrt(s)
        lo[j, j] = d
        for i in range(j + 1, n):
            t = a[i, j]
            for k in range(j):
                t = t - lo[i, k] * lo[j, k]
            lo[i, j] = t / d
    return lo


def norm2(x: Any) -> Any:
    """2-norm of a vector, Frobenius norm of a matrix (NumPy: sqrt(dot(x, x)))."""
    return np.sqrt(np.sum(x * x))


def norm1(x: Any) -> Any:
    return np.sum(np.abs(x))


def norm_max(x: Any) -> Any:
    return np.max(np.abs(x))


def norm_min(x: Any) -> Any:
    return np.min(np.abs(x))


def norm2_rows(x: Any) -> Any:
    return np.sqrt(np.sum(x * x, axis=1))


def norm1_rows(x: Any) -> Any:
    return np.sum(np.abs(x), axis=1)


def norm_max_rows(x: Any) -> Any:
    return np.max(np.abs(x), axis=1)


def matrix_norm1(x: Any) -> Any:
    """Largest column sum of |x| (ord=1; ord=inf passes the transpose)."""
    return np.max(np.sum(np.abs(x), axis=0))
