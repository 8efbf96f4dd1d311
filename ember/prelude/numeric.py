"""Prelude: np.isclose/allclose, np.median/percentile/quantile and np.diag/triu/tril in Ember.

Order statistics sort a copy with the prelude's merge sort (selection.py: NaNs last, so a NaN
anywhere shows as the last sorted value, and the result is NaN as in NumPy); the quantile is
NumPy's 'linear' method with its index and interpolation formulas (`_get_indexes`, `_lerp`),
in float64. The pickers (ember/frontend/prelude_numeric.py) convert the data to the dtype
NumPy computes in and pass `nan` in it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .selection import sort1, sort2


# --- closeness --------------------------------------------------------------------------------
def isclose(a: Any, b: Any, rtol: Any, atol: Any) -> Any:
    """NumPy's formula: equal infinities are close, NaNs are not."""
    return (np.abs(a - b) <= atol + rtol * np.abs(b)) & np.isfinite(b) | (a == b)


def isclose_nan(a: Any, b: Any, rtol: Any, atol: Any) -> Any:
    return isclose(a, b, rtol, atol) | (np.isnan(a) & np.isnan(b))


def all_true(c: Any) -> bool:
    return bool(np.all(c))


# --- order statistics ---------------------------------------------------------------------------
def _median_row(s: Any, r: int, nan: Any) -> Any:
    """The median of sorted row `r` of `s` (NaN if it holds a NaN or is empty)."""
    n = s.shape[1]
    result = nan
    if n > 0:
        if s[r, n - 1] != s[r, n - 1]:
            result = nan
        elif n % 2 == 1:
            result = s[r, n // 2]
        else:
            result = (s[r, n // 2 - 1] + s[r, n // 2]) / 2.0
    return result


def median_rows(a: Any, nan: Any) -> Any:
    """The median of each row of a 2-D array."""
    s = sort2(a)
    out = np.empty(a.shape[0], dtype=a.dtype)
    for r in range(a.shape[0]):
        out[r] = _median_row(s, r, nan)
    return out


def median_flat(a: Any, nan: Any) -> Any:
    """The median of all of an array's values."""
    x = a.ravel()
    s = sort1(x).reshape((1, x.shape[0]))
    return _median_row(s, 0, nan)


def _quantile_check(n: int, q: float, percent: bool) -> None:
    if not (q >= 0.0 and q <= 1.0):
        if percent:
            raise ValueError("Percentiles must be in the range [0, 100]")
        raise ValueError("Quantiles must be in the range [0, 1]")
    if n == 0:
        raise IndexError("index -1 is out of bounds for axis 0 with size 0")


def quantile_flat(a: Any, q: float, percent: bool) -> float:
    """NumPy's 'linear' quantile of all of an array's values (`q` in percent or a fraction),
    in float64 (the picker casts it back to float32 for float32 data)."""
    f = q
    if percent:
        f = q / 100.0
    x = a.ravel()
    _quantile_check(x.shape[0], f, percent)
    return _quantile_of_sorted(sort1(x), f)


def _quantiles_check(n: int, q: Any, percent: bool) -> None:
    for i in range(q.shape[0]):
        f = q[i]
        if percent:
            f = q[i] / 100.0
        _quantile_check(1, f, percent)
    _quantile_check(n, 0.0, percent)


def quantile_many(a: Any, q: Any, percent: bool) -> Any:
    """The quantiles for a 1-D float64 array of `q`, sorting once."""
    x = a.ravel()
    _quantiles_check(x.shape[0], q, percent)
    s = sort1(x)
    out = np.empty(q.shape[0], dtype=np.float64)
    for i in range(q.shape[0]):
        f = q[i]
        if percent:
            f = q[i] / 100.0
        out[i] = _quantile_of_sorted(s, f)
    return out


def _quantile_of_sorted(s: Any, f: float) -> float:
    """NumPy's _get_indexes and _lerp for fraction f of sorted values s (NaN if s has one)."""
    n = s.shape[0]
    vi = (n - 1) * f
    prev = int(np.floor(vi))
    nxt = prev + 1
    if vi >= n - 1:  # NumPy's -1 indexes: both the last value
        prev = -1
        nxt = -1
    gamma = vi - prev
    lo = s[(prev + n) % n] * 1.0
    hi = s[(nxt + n) % n] * 1.0
    diff = hi - lo
    result = lo + diff * gamma
    if gamma >= 0.5:
        result = hi - diff * (1.0 - gamma)
    if s[n - 1] != s[n - 1]:
        result = s[n - 1] * 1.0
    return result


# --- matrices -----------------------------------------------------------------------------------
def diag_matrix(v: Any, k: int) -> Any:
    """A square matrix with `v` on diagonal `k`."""
    n = v.shape[0] + abs(k)
    out = np.zeros((n, n), dtype=v.dtype)
    for i in range(v.shape[0]):
        out[i + max(-k, 0), i + max(k, 0)] = v[i]
    return out


def diag_of(m: Any, k: int) -> Any:
    """A copy of diagonal `k` of a 2-D array (empty past the edges)."""
    r0 = max(-k, 0)
    c0 = max(k, 0)
    n = max(min(m.shape[0] - r0, m.shape[1] - c0), 0)
    out = np.empty(n, dtype=m.dtype)
    for i in range(n):
        out[i] = m[i + r0, i + c0]
    return out


def triu(m: Any, k: int) -> Any:
    out = np.zeros_like(m)
    for i in range(m.shape[0]):
        for j in range(max(i + k, 0), m.shape[1]):
            out[i, j] = m[i, j]
    return out


def tril(m: Any, k: int) -> Any:
    out = np.zeros_like(m)
    for i in range(m.shape[0]):
        for j in range(min(max(i + k + 1, 0), m.shape[1])):
            out[i, j] = m[i, j]
    return out


# --- integrals, products, counts ----------------------------------------------------------------
def trapezoid_dx(y: Any, dx: Any) -> Any:
    """NumPy's formula: sum(d * (y[1:] + y[:-1]) / 2.0)."""
    return np.sum(dx * (y[1:] + y[:-1]) / 2.0)


def _trapezoid_check(nx: int, ny: int) -> None:
    """NumPy's broadcasting error for len(x) != len(y); where NumPy broadcasts one spacing
    or one value over the other (length 2), kernels raise instead of guessing."""
    dx = max(nx - 1, 0)
    dy = max(ny - 1, 0)
    if dx != dy and dx != 1 and dy != 1:
        raise ValueError(f"operands could not be broadcast together with shapes ({dx},) "
                         f"({dy},) ")
    if nx != ny:
        raise ValueError("np.trapezoid() in kernels needs x and y of the same length")


def trapezoid_x(y: Any, x: Any) -> Any:
    _trapezoid_check(x.shape[0], y.shape[0])
    d = x[1:] - x[:-1]
    return np.sum(d * (y[1:] + y[:-1]) / 2.0)


def _cross_rows_check(m: int, n: int) -> None:
    """Row counts m and n broadcast (NumPy's wording)."""
    if m != n and m != 1 and n != 1:
        raise ValueError(f"shape mismatch: objects cannot be broadcast to a single shape.  "
                         f"Mismatch is between arg 0 with shape ({m},) and arg 1 with shape "
                         f"({n},).")


def _cross_check(ma: int, mb: int) -> None:
    """Vectors of length ma and mb: 3 (2-vectors, deprecated by NumPy, are not supported)."""
    if (ma != 2 and ma != 3) or (mb != 2 and mb != 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    if ma != 3 or mb != 3:
        raise ValueError("np.cross() of 2-vectors is not supported in kernels (NumPy "
                         "deprecates it); pad them with a zero third component")


def cross1(a: Any, b: Any) -> Any:
    _cross_check(a.shape[0], b.shape[0])
    out = np.empty(3, dtype=a.dtype)
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]
    return out


def cross_rows(a: Any, b: Any) -> Any:
    """Row-wise cross products of (m, 3) and (n, 3) arrays (a single row broadcasts)."""
    m = a.shape[0]
    n = b.shape[0]
    _cross_rows_check(m, n)
    _cross_check(a.shape[1], b.shape[1])
    rows = max(m, n)
    if m == 0 or n == 0:
        rows = 0
    out = np.empty((rows, 3), dtype=a.dtype)
    for r in range(rows):
        i = r % m
        j = r % n
        out[r, 0] = a[i, 1] * b[j, 2] - a[i, 2] * b[j, 1]
        out[r, 1] = a[i, 2] * b[j, 0] - a[i, 0] * b[j, 2]
        out[r, 2] = a[i, 0] * b[j, 1] - a[i, 1] * b[j, 0]
    return out


def cross_vector_rows(a: Any, b: Any) -> Any:
    return cross_rows(a.reshape((1, a.shape[0])), b)


def cross_rows_vector(a: Any, b: Any) -> Any:
    return cross_rows(a, b.reshape((1, b.shape[0])))


def _bincount_size(x: Any, minlength: int) -> int:
    if minlength < 0:
        raise ValueError("'minlength' must not be negative")
    n = minlength
    for i in range(x.shape[0]):
        if x[i] < 0:
            raise ValueError("'list' argument must have no negative elements")
        n = max(n, int(x[i]) + 1)
    return n


def bincount(x: Any, minlength: int) -> Any:
    out = np.zeros(_bincount_size(x, minlength), dtype=np.int64)
    for i in range(x.shape[0]):
        out[int(x[i])] += 1
    return out


def _new_value(s: Any, i: int, equal_nan: bool) -> bool:
    """Whether sorted value i differs from value i - 1 (NaNs equal if equal_nan)."""
    fresh = True
    if i > 0:
        fresh = not (s[i] == s[i - 1] or (equal_nan and s[i] != s[i] and s[i - 1] != s[i - 1]))
    return fresh


def unique(a: Any, equal_nan: bool) -> Any:
    s = sort1(a.ravel())
    count = 0
    for i in range(s.shape[0]):
        count += int(_new_value(s, i, equal_nan))
    out = np.empty(count, dtype=a.dtype)
    k = 0
    for i in range(s.shape[0]):
        if _new_value(s, i, equal_nan):
            out[k] = s[i]
            k += 1
    return out


# --- repeating ----------------------------------------------------------------------------------
def _count_check(count: int) -> None:
    if count < 0:
        raise ValueError("negative dimensions are not allowed")


def repeat(a: Any, repeats: int) -> Any:
    """Each value of the flattened array `repeats` times."""
    _count_check(repeats)
    x = a.ravel()
    out = np.empty(x.shape[0] * repeats, dtype=a.dtype)
    for i in range(x.shape[0]):
        for j in range(repeats):
            out[i * repeats + j] = x[i]
    return out


def tile(a: Any, reps: int) -> Any:
    """A 1-D array `reps` times end to end."""
    _count_check(reps)
    n = a.shape[0]
    out = np.empty(n * reps, dtype=a.dtype)
    for j in range(reps):
        for i in range(n):
            out[j * n + i] = a[i]
    return out
