"""Frontend: the Ember-written kernels behind sorting, searching, boolean masks and counts.

Input: none (Python source read by the frontend like a user's kernel). Output: the functions
that `selection.py` specializes per call site: each is cloned with its annotation names
(`A`, `B`, `Ix`, `V`, `S`, `R`) bound to concrete Ember types, and with every span pinned to
the user's call, so errors and run-time checks name the user's line. Sorting is a stable
bottom-up merge sort of indices (O(n log n), a scratch buffer), NaNs last as in NumPy; sorted
values are gathered through the permutation, so derivatives flow through it. Results whose
size is known only at run time (masks, flatnonzero) are made by a count pass and a fill pass.
Names starting with `k_` are kernels; `_msort` is called by the others (bound as a kernel).
Loop-carried counters change by arithmetic (`k += int(m[i])`), never inside an `if`: the
same values, and no `scf.if` results carried by a loop (cheaper for Enzyme's caches).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

# Annotation names, bound per specialization (selection.py): A, B arrays of the input's dtype,
# Ix int64 index arrays, V values or masks, S a scalar of the input's dtype, R stored values.
A: TypeAlias = Any
B: TypeAlias = Any
Ix: TypeAlias = Any
V: TypeAlias = Any
S: TypeAlias = Any
R: TypeAlias = Any
_msort: Any = None


def k_msort(keys: A, idx: Ix, ka: B, kb: B, ib: Ix) -> None:
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


def k_argsort1(a: A) -> Ix:
    n = a.shape[0]
    idx = np.arange(n)
    _msort(a, idx, np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype),
           np.empty(n, dtype=np.int64))
    return idx


def k_argsort2(a: A) -> Ix:
    rows = a.shape[0]
    n = a.shape[1]
    out = np.empty((rows, n), dtype=np.int64)
    ka = np.empty(n, dtype=a.dtype)
    kb = np.empty(n, dtype=a.dtype)
    ib = np.empty(n, dtype=np.int64)
    for r in range(rows):
        for k in range(n):
            out[r, k] = k
        _msort(a[r], out[r], ka, kb, ib)
    return out


def k_sort1(a: A) -> B:
    n = a.shape[0]
    idx = np.arange(n)
    _msort(a, idx, np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype),
           np.empty(n, dtype=np.int64))
    out = np.empty(n, dtype=a.dtype)
    for k in range(n):
        out[k] = a[idx[k]]
    return out


def k_sort2(a: A) -> B:
    rows = a.shape[0]
    n = a.shape[1]
    out = np.empty((rows, n), dtype=a.dtype)
    idx = np.empty(n, dtype=np.int64)
    ka = np.empty(n, dtype=a.dtype)
    kb = np.empty(n, dtype=a.dtype)
    ib = np.empty(n, dtype=np.int64)
    for r in range(rows):
        for k in range(n):
            idx[k] = k
        _msort(a[r], idx, ka, kb, ib)
        for k in range(n):
            out[r, k] = a[r, idx[k]]
    return out


def k_sort_inplace1(a: A) -> None:
    n = a.shape[0]
    idx = np.arange(n)
    _msort(a, idx, np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype),
           np.empty(n, dtype=np.int64))
    out = np.empty(n, dtype=a.dtype)
    for k in range(n):
        out[k] = a[idx[k]]
    for k in range(n):
        a[k] = out[k]


def k_sort_inplace2(a: A) -> None:
    rows = a.shape[0]
    n = a.shape[1]
    out = np.empty(n, dtype=a.dtype)
    idx = np.empty(n, dtype=np.int64)
    ka = np.empty(n, dtype=a.dtype)
    kb = np.empty(n, dtype=a.dtype)
    ib = np.empty(n, dtype=np.int64)
    for r in range(rows):
        for k in range(n):
            idx[k] = k
        _msort(a[r], idx, ka, kb, ib)
        for k in range(n):
            out[k] = a[r, idx[k]]
        for k in range(n):
            a[r, k] = out[k]


def k_search(a: A, v: S, right: bool) -> int:
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


def k_search_many(a: A, v: V, right: bool) -> Ix:
    m = v.shape[0]
    out = np.empty(m, dtype=np.int64)
    n = a.shape[0]
    for t in range(m):
        w = v[t]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) // 2
            x = a[mid]
            after = (not (w < x or (x != x and w == w)) if right
                     else x < w or (w != w and x == x))
            lo = mid + 1 if after else lo
            hi = hi if after else mid
        out[t] = lo
    return out


def k_select(a: A, m: V) -> B:
    """`a[mask]`: the elements where `mask` is true, in C order."""
    sa = np.array(a.shape)
    sm = np.array(m.shape)
    for k in range(sa.shape[0]):
        if sa[k] != sm[k]:
            raise IndexError(f"boolean index did not match indexed array along axis {k}; "
                             f"size of axis is {sa[k]} but size of corresponding boolean "
                             f"axis is {sm[k]}")
    fa = a.flatten()
    fm = m.flatten()
    count = 0
    for i in range(fm.shape[0]):
        count += int(fm[i])
    out = np.empty(count, dtype=a.dtype)
    k = 0
    for i in range(fm.shape[0]):
        if fm[i]:
            out[k] = fa[i]
        k += int(fm[i])
    return out


def k_mask_fill1(a: A, m: V, v: S) -> None:
    sa = np.array(a.shape)
    sm = np.array(m.shape)
    for k in range(sa.shape[0]):
        if sa[k] != sm[k]:
            raise IndexError(f"boolean index did not match indexed array along axis {k}; "
                             f"size of axis is {sa[k]} but size of corresponding boolean "
                             f"axis is {sm[k]}")
    for i in range(a.shape[0]):
        if m[i]:
            a[i] = v


def k_mask_fill2(a: A, m: V, v: S) -> None:
    sa = np.array(a.shape)
    sm = np.array(m.shape)
    for k in range(sa.shape[0]):
        if sa[k] != sm[k]:
            raise IndexError(f"boolean index did not match indexed array along axis {k}; "
                             f"size of axis is {sa[k]} but size of corresponding boolean "
                             f"axis is {sm[k]}")
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if m[i, j]:
                a[i, j] = v


def k_mask_put1(a: A, m: V, values: R) -> None:
    sa = np.array(a.shape)
    sm = np.array(m.shape)
    for k in range(sa.shape[0]):
        if sa[k] != sm[k]:
            raise IndexError(f"boolean index did not match indexed array along axis {k}; "
                             f"size of axis is {sa[k]} but size of corresponding boolean "
                             f"axis is {sm[k]}")
    count = 0
    for i in range(m.shape[0]):
        count += int(m[i])
    given = values.shape[0]
    if given != count and given != 1:
        raise ValueError(f"NumPy boolean array indexing assignment cannot assign {given} "
                         f"input values to the {count} output values where the mask is true")
    k = 0
    for i in range(a.shape[0]):
        if m[i]:
            a[i] = values[k if given != 1 else 0]
        k += int(m[i])


def k_mask_put2(a: A, m: V, values: R) -> None:
    sa = np.array(a.shape)
    sm = np.array(m.shape)
    for k in range(sa.shape[0]):
        if sa[k] != sm[k]:
            raise IndexError(f"boolean index did not match indexed array along axis {k}; "
                             f"size of axis is {sa[k]} but size of corresponding boolean "
                             f"axis is {sm[k]}")
    count = 0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            count += int(m[i, j])
    given = values.shape[0]
    if given != count and given != 1:
        raise ValueError(f"NumPy boolean array indexing assignment cannot assign {given} "
                         f"input values to the {count} output values where the mask is true")
    k = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if m[i, j]:
                a[i, j] = values[k if given != 1 else 0]
            k += int(m[i, j])


def k_flatnonzero(a: A) -> Ix:
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


def k_count_nonzero(a: A) -> int:
    fa = a.flatten()
    count = 0
    for i in range(fa.shape[0]):
        count += int(fa[i] != 0)
    return count


def k_join_length(dims: Ix, axis: int) -> int:
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


def k_stack_count(dims: Ix) -> int:
    """np.stack's shape check; the number of arrays."""
    for k in range(dims.shape[0]):
        for d in range(dims.shape[1]):
            if dims[k, d] != dims[0, d]:
                raise ValueError("all input arrays must have the same shape")
    return int(dims.shape[0])


def k_take(a: A, idx: V) -> B:
    """`a[idx]` of a 1-D integer array `idx` (negative indices count from the end)."""
    n = a.shape[0]
    out = np.empty(idx.shape[0], dtype=a.dtype)
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        out[k] = a[i + n if i < 0 else i]
    return out


def k_put_scalar(a: A, idx: V, v: S) -> None:
    n = a.shape[0]
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        a[i + n if i < 0 else i] = v


def k_put(a: A, idx: V, values: R) -> None:
    n = a.shape[0]
    m = idx.shape[0]
    given = values.shape[0]
    if given != m and given != 1:
        raise ValueError(f"shape mismatch: value array of shape ({given},) could not be "
                         f"broadcast to indexing result of shape ({m},)")
    for k in range(m):
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        a[i + n if i < 0 else i] = values[k if given != 1 else 0]


def k_take_rows(a: A, idx: V) -> B:
    """`A[idx]` of a 2-D `A`: the rows `idx` (a 1-D integer array)."""
    n = a.shape[0]
    c = a.shape[1]
    out = np.empty((idx.shape[0], c), dtype=a.dtype)
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        r = i + n if i < 0 else i
        for j in range(c):
            out[k, j] = a[r, j]
    return out


def k_put_rows_scalar(a: A, idx: V, v: S) -> None:
    n = a.shape[0]
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        r = i + n if i < 0 else i
        for j in range(a.shape[1]):
            a[r, j] = v


def k_put_rows1(a: A, idx: V, values: R) -> None:
    """`A[idx] = row`: one row (or one value) for every indexed row."""
    n = a.shape[0]
    c = a.shape[1]
    m = idx.shape[0]
    given = values.shape[0]
    if given != c and given != 1:
        raise ValueError(f"shape mismatch: value array of shape ({given},) could not be "
                         f"broadcast to indexing result of shape ({m},{c})")
    for k in range(m):
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        r = i + n if i < 0 else i
        for j in range(c):
            a[r, j] = values[j if given != 1 else 0]


def k_put_rows2(a: A, idx: V, values: R) -> None:
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
        i = idx[k]
        if i < -n or i >= n:
            raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
        r = i + n if i < 0 else i
        for j in range(c):
            a[r, j] = values[k if vr != 1 else 0, j if vc != 1 else 0]


def k_select1(a: A, m: V) -> B:
    """`a[mask]` of a 1-D array: as k_select, without the flattening copies."""
    n = a.shape[0]
    if m.shape[0] != n:
        raise IndexError(f"boolean index did not match indexed array along axis 0; size of "
                         f"axis is {n} but size of corresponding boolean axis is {m.shape[0]}")
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
