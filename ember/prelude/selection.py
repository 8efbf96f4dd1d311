"""Prelude: sorting, searching, boolean masks, index arrays and counts in Ember.

The frontend (ember/frontend/selection.py) types np.sort/argsort/searchsorted, `a[mask]`,
`a[idx] = v`, np.flatnonzero/count_nonzero and the joins' shape checks as calls of these
functions. Sorting is a stable bottom-up merge sort of indices (O(n log n), scratch buffers),
NaNs last as in NumPy; sorted values are gathered through the permutation, so derivatives flow
through it. Results whose size is known only at run time (masks, flatnonzero) are made by a
count pass and a fill pass. The 2-D forms run the 1-D helpers on rows (views), sharing one set
of scratch buffers. Loop-carried counters change by arithmetic (`k += int(m[i])`), never inside
an `if`: the same values, and no `scf.if` results carried by a loop (cheaper for Enzyme's
caches). Checks that raise are helpers (`_check_mask`, `_index`), so no array result sits
after a `raise` in the same function.
"""

from __future__ import annotations

from typing import Any

import numpy as np


# --- sorting ----------------------------------------------------------------------------------
def _msort(keys: Any, idx: Any, ka: Any, kb: Any, ib: Any) -> None:
    """Stable merge sort of the permutation `idx` by `keys[idx]` (NaNs last). The keys are
    copied in `idx` order and merged with the indices, so comparisons read memory in order;
    `ka`, `kb`, `ib` are scratch buffers of idx's length."""
    n = idx.shape[0]
    ia = idx
    for k in range(n):
        ka[k] = keys[idx[k]]
    width = 1
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            for k in range(lo, hi):
                x = ka[min(i, hi - 1)]
                y = ka[min(j, hi - 1)]
                right = (j < hi) & ((i >= mid) | (y < x) | ((x != x) & (y == y)))
                src = j if right else i
                kb[k] = ka[src]
                ib[k] = ia[src]
                i += 1 - int(right)  # no loop-carried value through an `if` (docstring)
                j += int(right)
            lo = hi
        ka, kb = kb, ka
        ia, ib = ib, ia
        width *= 2
    for k in range(n):
        idx[k] = ia[k]


def _argsort_row(a: Any, idx: Any, ka: Any, kb: Any, ib: Any) -> None:
    """`idx` = the stable sorting permutation of the 1-D `a` (ka, kb, ib: scratch)."""
    for k in range(idx.shape[0]):
        idx[k] = k
    _msort(a, idx, ka, kb, ib)


def argsort1(a: Any) -> Any:
    n = a.shape[0]
    idx = np.empty(n, dtype=np.int64)
    _argsort_row(a, idx, np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype),
                 np.empty(n, dtype=np.int64))
    return idx


def argsort2(a: Any) -> Any:
    """Each row's permutation (one set of scratch buffers for all rows)."""
    n = a.shape[1]
    out = np.empty((a.shape[0], n), dtype=np.int64)
    ka = np.empty(n, dtype=a.dtype)
    kb = np.empty(n, dtype=a.dtype)
    ib = np.empty(n, dtype=np.int64)
    for r in range(a.shape[0]):
        _argsort_row(a[r], out[r], ka, kb, ib)
    return out


def sort1(a: Any) -> Any:
    idx = argsort1(a)
    out = np.empty(a.shape[0], dtype=a.dtype)
    for k in range(a.shape[0]):
        out[k] = a[idx[k]]
    return out


def sort2(a: Any) -> Any:
    idx = argsort2(a)
    out = np.empty((a.shape[0], a.shape[1]), dtype=a.dtype)
    for r in range(a.shape[0]):
        for k in range(a.shape[1]):
            out[r, k] = a[r, idx[r, k]]
    return out


def sort_inplace1(a: Any) -> None:
    a[:] = sort1(a)


def sort_inplace2(a: Any) -> None:
    a[:] = sort2(a)


# --- searching --------------------------------------------------------------------------------
def search(a: Any, v: Any, right: bool) -> int:
    """The insertion point of `v` in the sorted `a` (np.searchsorted, NaNs last)."""
    lo = 0
    hi = a.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        x = a[mid]
        after = not (v < x or (x != x and v == v)) if right else x < v or (v != v and x == x)
        lo = mid + 1 if after else lo
        hi = hi if after else mid
    return lo


def search_many(a: Any, v: Any, right: bool) -> Any:
    out = np.empty(v.shape[0], dtype=np.int64)
    for t in range(v.shape[0]):
        out[t] = search(a, v[t], right)
    return out


# --- boolean masks ----------------------------------------------------------------------------
def _check_mask(a: Any, m: Any) -> None:
    sa = np.array(a.shape)
    sm = np.array(m.shape)
    for k in range(sa.shape[0]):
        if sa[k] != sm[k]:
            raise IndexError(f"boolean index did not match indexed array along axis {k}; "
                             f"size of axis is {sa[k]} but size of corresponding boolean "
                             f"axis is {sm[k]}")


def _check_count(given: int, count: int) -> None:
    if given != count and given != 1:
        raise ValueError(f"NumPy boolean array indexing assignment cannot assign {given} "
                         f"input values to the {count} output values where the mask is true")


def select(a: Any, m: Any) -> Any:
    """`a[mask]`: the elements where `mask` is true, in C order."""
    _check_mask(a, m)
    return select1(a.flatten(), m.flatten())


def select1(a: Any, m: Any) -> Any:
    """`a[mask]` of a 1-D array (no flattening copies)."""
    _check_mask(a, m)
    n = a.shape[0]
    count = 0
    for i in range(n):
        count += int(m[i])
    out = np.empty(count, dtype=a.dtype)
    k = 0
    for i in range(n):
        if m[i]:
            out[k] = a[i]
        k += int(m[i])
    return out


def mask_fill1(a: Any, m: Any, v: Any) -> None:
    _check_mask(a, m)
    for i in range(a.shape[0]):
        if m[i]:
            a[i] = v


def mask_fill2(a: Any, m: Any, v: Any) -> None:
    _check_mask(a, m)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if m[i, j]:
                a[i, j] = v


def mask_put1(a: Any, m: Any, values: Any) -> None:
    _check_mask(a, m)
    count = 0
    for i in range(m.shape[0]):
        count += int(m[i])
    given = values.shape[0]
    _check_count(given, count)
    k = 0
    for i in range(a.shape[0]):
        if m[i]:
            a[i] = values[k if given != 1 else 0]
        k += int(m[i])


def mask_put2(a: Any, m: Any, values: Any) -> None:
    _check_mask(a, m)
    count = 0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            count += int(m[i, j])
    given = values.shape[0]
    _check_count(given, count)
    k = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if m[i, j]:
                a[i, j] = values[k if given != 1 else 0]
            k += int(m[i, j])


# --- counts -----------------------------------------------------------------------------------
def flatnonzero(a: Any) -> Any:
    fa = a.flatten()
    count = 0
    for i in range(fa.shape[0]):
        count += int(fa[i] != 0)
    out = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(fa.shape[0]):
        if fa[i] != 0:
            out[k] = i
        k += int(fa[i] != 0)
    return out


def count_nonzero(a: Any) -> int:
    fa = a.flatten()
    count = 0
    for i in range(fa.shape[0]):
        count += int(fa[i] != 0)
    return count


# --- joins' shape checks ----------------------------------------------------------------------
def join_length(dims: Any, axis: int) -> int:
    """np.concatenate's shape check; the length of the result along `axis`."""
    total = 0
    for k in range(dims.shape[0]):
        for d in range(dims.shape[1]):
            if d != axis and dims[k, d] != dims[0, d]:
                raise ValueError(f"all the input array dimensions except for the "
                                 f"concatenation axis must match exactly, but along dimension "
                                 f"{d}, the array at index 0 has size {dims[0, d]} and the "
                                 f"array at index {k} has size {dims[k, d]}")
        total += dims[k, axis]
    return total


def stack_count(dims: Any) -> int:
    """np.stack's shape check; the number of arrays."""
    for k in range(dims.shape[0]):
        for d in range(dims.shape[1]):
            if dims[k, d] != dims[0, d]:
                raise ValueError("all input arrays must have the same shape")
    return int(dims.shape[0])


# --- integer index arrays ---------------------------------------------------------------------
def _index(i: Any, n: int) -> int:
    """Index `i` of an axis of size `n`, negative ones counting from the end."""
    if i < -n or i >= n:
        raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
    return i + n if i < 0 else i


def take(a: Any, idx: Any) -> Any:
    """`a[idx]` of a 1-D integer array `idx`."""
    out = np.empty(idx.shape[0], dtype=a.dtype)
    for k in range(idx.shape[0]):
        out[k] = a[_index(idx[k], a.shape[0])]
    return out


def put_scalar(a: Any, idx: Any, v: Any) -> None:
    for k in range(idx.shape[0]):
        a[_index(idx[k], a.shape[0])] = v


def put(a: Any, idx: Any, values: Any) -> None:
    m = idx.shape[0]
    given = values.shape[0]
    if given != m and given != 1:
        raise ValueError(f"shape mismatch: value array of shape ({given},) could not be "
                         f"broadcast to indexing result of shape ({m},)")
    for k in range(m):
        a[_index(idx[k], a.shape[0])] = values[k if given != 1 else 0]


def take_rows(a: Any, idx: Any) -> Any:
    """`A[idx]` of a 2-D `A`: the rows `idx` (a 1-D integer array)."""
    c = a.shape[1]
    out = np.empty((idx.shape[0], c), dtype=a.dtype)
    for k in range(idx.shape[0]):
        r = _index(idx[k], a.shape[0])
        for j in range(c):
            out[k, j] = a[r, j]
    return out


def put_rows_scalar(a: Any, idx: Any, v: Any) -> None:
    for k in range(idx.shape[0]):
        r = _index(idx[k], a.shape[0])
        for j in range(a.shape[1]):
            a[r, j] = v


def put_rows1(a: Any, idx: Any, values: Any) -> None:
    """`A[idx] = row`: one row (or one value) for every indexed row."""
    c = a.shape[1]
    m = idx.shape[0]
    given = values.shape[0]
    if given != c and given != 1:
        raise ValueError(f"shape mismatch: value array of shape ({given},) could not be "
                         f"broadcast to indexing result of shape ({m},{c})")
    for k in range(m):
        r = _index(idx[k], a.shape[0])
        for j in range(c):
            a[r, j] = values[j if given != 1 else 0]


def put_rows2(a: Any, idx: Any, values: Any) -> None:
    """`A[idx] = rows`: values of shape (len(idx), ncols), either may be 1 (broadcast)."""
    n = a.shape[0]
    c = a.shape[1]
    m = idx.shape[0]
    vr = values.shape[0]
    vc = values.shape[1]
    if (vr != m and vr != 1) or (vc != c and vc != 1):
        raise ValueError(f"shape mismatch: value array of shape ({vr},{vc}) could not be "
                         f"broadcast to indexing result of shape ({m},{c})")
    for k in range(m):
        r = _index(idx[k], n)
        for j in range(c):
            a[r, j] = values[k if vr != 1 else 0, j if vc != 1 else 0]
