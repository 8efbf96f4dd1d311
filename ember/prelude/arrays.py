"""Prelude: np.flip/roll/diff/interp/convolve in Ember.

Axis-taking routines come in one function per (dimensions, axis) that the pickers of
ember/frontend/prelude_table.py choose from; `n` of np.diff chains calls of `diff_*`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def flip_first(a: Any) -> Any:
    return a[::-1].copy()


def flip_second(a: Any) -> Any:
    return a[:, ::-1].copy()


def flip_both(a: Any) -> Any:
    return a[::-1, ::-1].copy()


def roll_first(a: Any, shift: int) -> Any:
    """Roll along the first axis (any number of dimensions)."""
    out = np.empty_like(a)
    n = a.shape[0]
    s = 0
    if n > 0:
        s = shift % n
    out[s:] = a[:n - s]  # views made outside the `if`: Enzyme 0.0.16 fails on those
    out[:s] = a[n - s:]
    return out


def roll_second(a: Any, shift: int) -> Any:
    out = np.empty_like(a)
    n = a.shape[1]
    s = 0
    if n > 0:
        s = shift % n
    out[:, s:] = a[:, :n - s]  # views made outside the `if`: Enzyme 0.0.16 fails on those
    out[:, :s] = a[:, n - s:]
    return out


def roll_flat(a: Any, shift: int) -> Any:
    """A 2-D array rolled as its C-order flattening (np.roll without axis)."""
    out = np.empty_like(a)
    rows = a.shape[0]
    cols = a.shape[1]
    size = rows * cols
    if size > 0:
        for i in range(rows):
            for j in range(cols):
                k = (i * cols + j - shift) % size
                out[i, j] = a[k // cols, k % cols]
    return out


def diff_first(a: Any) -> Any:
    return a[1:] - a[:-1]


def diff_second(a: Any) -> Any:
    return a[:, 1:] - a[:, :-1]


def diff_first_bool(a: Any) -> Any:
    return a[1:] != a[:-1]


def diff_second_bool(a: Any) -> Any:
    return a[:, 1:] != a[:, :-1]


def _interp_at(v: float, xp: Any, fp: Any, left: float, right: float) -> float:
    """NumPy's arr_interp for one point (binary search; slope formula and NaN fix-up)."""
    n = xp.shape[0]
    result = 0.0
    if n == 1 and v != v:
        result = fp[0]
    elif v > xp[n - 1]:
        result = right
    elif v == xp[n - 1]:
        result = fp[n - 1]
    elif v < xp[0]:
        result = left
    elif v != v:
        result = v
    else:
        lo = 0
        hi = n - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if xp[mid] <= v:
                lo = mid
            else:
                hi = mid
        slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo])
        result = slope * (v - xp[lo]) + fp[lo]
        if result != result:
            result = slope * (v - xp[lo + 1]) + fp[lo + 1]
            if result != result and fp[lo] == fp[lo + 1]:
                result = fp[lo]
    return result


def _interp_check(xp: Any, fp: Any) -> None:
    if xp.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    if xp.shape[0] != fp.shape[0]:
        raise ValueError("fp and xp are not of the same length.")


def interp_scalar(x: float, xp: Any, fp: Any, left: float, right: float,
                  has_left: bool, has_right: bool) -> float:
    _interp_check(xp, fp)
    lo = left if has_left else fp[0]
    hi = right if has_right else fp[fp.shape[0] - 1]
    return _interp_at(x, xp, fp, lo, hi)


def interp_array(x: Any, xp: Any, fp: Any, left: float, right: float,
                 has_left: bool, has_right: bool) -> Any:
    _interp_check(xp, fp)
    lo = left if has_left else fp[0]
    hi = right if has_right else fp[fp.shape[0] - 1]
    out = np.empty(x.shape[0], dtype=np.float64)
    for i in range(x.shape[0]):
        out[i] = _interp_at(x[i], xp, fp, lo, hi)
    return out


def _convolve_check(a: Any, v: Any) -> None:
    if a.shape[0] == 0:
        raise ValueError("a cannot be empty")
    if v.shape[0] == 0:
        raise ValueError("v cannot be empty")


def convolve(a: Any, v: Any, mode: int) -> Any:
    """mode 0 'full', 1 'same', 2 'valid' (the lengths as NumPy's, which swaps the operands
    if v is longer). Checks that raise are helper calls: a `raise` before an array result
    puts the array into an `if`'s results, which Enzyme 0.0.16 cannot cache."""
    _convolve_check(a, v)
    n = max(a.shape[0], v.shape[0])
    m = min(a.shape[0], v.shape[0])
    start = 0
    length = n + m - 1
    if mode == 1:
        start = (m - 1) // 2
        length = n
    elif mode == 2:
        start = m - 1
        length = n - m + 1
    return _convolve_part(a, v, start, length)


def _convolve_part(a: Any, v: Any, start: int, length: int) -> Any:
    """Entries start .. start+length-1 of the full convolution."""
    n = a.shape[0]
    m = v.shape[0]
    out = np.zeros(length, dtype=a.dtype)
    for i in range(length):
        k = i + start
        for j in range(max(0, k - m + 1), min(n - 1, k) + 1):
            out[i] += a[j] * v[k - j]
    return out
