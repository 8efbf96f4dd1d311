"""Prelude: np.cov and np.histogram in Ember (float64, as NumPy computes them)."""

from __future__ import annotations

from typing import Any

import numpy as np


def cov_rows(m: Any, ddof: int) -> Any:
    """Rows are variables, columns observations; NumPy scales by 1/(N - ddof)."""
    xc = m - np.mean(m, axis=1, keepdims=True)
    c = xc @ xc.T
    return c * (1.0 / (m.shape[1] - ddof))


def cov_vector(x: Any, ddof: int) -> Any:
    """One variable: NumPy's 0-d result, as a float."""
    xc = x - np.mean(x)
    return np.sum(xc * xc) * (1.0 / (x.shape[0] - ddof))


def _outer_edges(a: Any, lo: Any, hi: Any, given: bool) -> tuple[Any, Any]:
    """NumPy's _get_outer_edges: the range, else the data's (0, 1 if empty), widened by 0.5
    on each side if empty."""
    first = lo
    last = hi
    if not given and a.shape[0] > 0:
        first = np.min(a)
        last = np.max(a)
        if not (first - first == 0 and last - last == 0):
            raise ValueError(f"autodetected range of [{first}, {last}] is not finite")
    if first > last:
        raise ValueError("max must be larger than min in range parameter.")
    if first == last:
        first = first - 0.5
        last = last + 0.5
    return first, last


def histogram_counts(a: Any, bins: int, lo: Any, hi: Any, given: bool) -> Any:
    """np.histogram(a, bins, range)[0]: NumPy's bin index formula and edge corrections, in
    the data's float dtype (the pickers convert integer data to float64, as NumPy does)."""
    first, last = _outer_edges(a, lo, hi, given)
    counts = np.zeros(bins, dtype=np.int64)
    edges = np.linspace(first, last, bins + 1, dtype=a.dtype)
    denom = last - first
    for i in range(a.shape[0]):
        v = a[i]
        if v >= first and v <= last:
            k = int((v - first) / denom * bins)
            if k == bins:
                k = bins - 1
            if v < edges[k]:
                k = k - 1
            elif v >= edges[k + 1] and k != bins - 1:
                k = k + 1
            counts[k] += 1
    return counts


def histogram_edges(a: Any, bins: int, lo: Any, hi: Any, given: bool) -> Any:
    first, last = _outer_edges(a, lo, hi, given)
    return np.linspace(first, last, bins + 1, dtype=a.dtype)
