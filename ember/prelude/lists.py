"""Prelude: the run-time parts of local Python lists (ember/frontend/lists.py) in Ember.

A list is a buffer array (its capacity is the buffer's length) and a length `n`; these
routines grow the buffer, copy the first `n` elements out, check indices and compute the
builtins that take a list (`sum`, `min`, `max`, `in`) with CPython's order of operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .selection import sort1


def grow(buf: Any, n: int) -> Any:
    """A buffer of twice the capacity (at least 8) holding the first `n` elements of `buf`."""
    out = np.empty(2 * n + 8, buf.dtype)
    for i in range(n):
        out[i] = buf[i]
    return out


def to_array(buf: Any, n: int) -> Any:
    """A new array of exactly the list's `n` elements (np.array(lst), a returned list)."""
    out = np.empty(n, buf.dtype)
    for i in range(n):
        out[i] = buf[i]
    return out


def checked_index(i: int, n: int) -> int:
    """Python's list index: negative counts from the end; outside the list: IndexError."""
    k = i
    if k < 0:
        k = k + n
    _check_index(k, n)
    return k


def checked_store_index(i: int, n: int) -> int:
    """The same for `lst[i] = v` (CPython's message differs)."""
    k = i
    if k < 0:
        k = k + n
    _check_store_index(k, n)
    return k


def pop_index(n: int) -> int:
    """The index `lst.pop()` removes: the last, or IndexError for an empty list."""
    _check_pop(n)
    return n - 1


def sort_items(buf: Any, n: int) -> None:
    """`lst.sort()`: ascending, stable (NaNs last, as np.sort)."""
    buf[:n] = sort1(buf[:n])


def sorted_items(buf: Any, n: int) -> Any:
    """`sorted(lst)`: a new exact-size buffer."""
    return sort1(buf[:n])


def reverse_items(buf: Any, n: int) -> None:
    for i in range(n // 2):
        t = buf[i]
        buf[i] = buf[n - 1 - i]
        buf[n - 1 - i] = t


def index_of(buf: Any, n: int, v: Any) -> int:
    """`lst.index(v)`: the first position holding `v`, else ValueError."""
    k = -1
    for i in range(n):
        if k < 0 and buf[i] == v:
            k = i
    _check_found(k, v)
    return k


def count_of(buf: Any, n: int, v: Any) -> int:
    c = 0
    for i in range(n):
        if buf[i] == v:
            c += 1
    return c


# The checks are statements of their own: a raise in a branch that returns nothing, which
# derivative builds drop where the list's length is known (lowering/rewrites.py).
def _check_index(k: int, n: int) -> None:
    if k < 0 or k >= n:
        raise IndexError("list index out of range")


def _check_store_index(k: int, n: int) -> None:
    if k < 0 or k >= n:
        raise IndexError("list assignment index out of range")


def _check_found(k: int, v: Any) -> None:
    if k < 0:
        raise ValueError(f"{v} is not in list")


def _check_pop(n: int) -> None:
    if n == 0:
        raise IndexError("pop from empty list")


def _check_min(n: int) -> None:
    if n == 0:
        raise ValueError("min() arg is an empty sequence")


def _check_max(n: int) -> None:
    if n == 0:
        raise ValueError("max() arg is an empty sequence")


def contains(buf: Any, n: int, v: Any) -> bool:
    found = False
    for i in range(n):
        if buf[i] == v:
            found = True
    return found


def total(buf: Any, n: int) -> Any:
    """`sum(lst)`: 0 + lst[0] + lst[1] + ... in order, as CPython adds."""
    s = 0
    for i in range(n):
        s = s + buf[i]
    return s


def smallest(buf: Any, n: int) -> Any:
    """`min(lst)`: the first element no later element is smaller than (CPython's scan)."""
    _check_min(n)
    m = buf[0]
    for i in range(1, n):
        if buf[i] < m:
            m = buf[i]
    return m


def largest(buf: Any, n: int) -> Any:
    _check_max(n)
    m = buf[0]
    for i in range(1, n):
        if buf[i] > m:
            m = buf[i]
    return m


def sliced(buf: Any, n: int, start: int, stop: int) -> Any:
    """`lst[start:stop]` (Python's clamping of both bounds) as a new exact-size buffer."""
    lo = start
    hi = stop
    if lo < 0:
        lo = max(lo + n, 0)
    if hi < 0:
        hi = max(hi + n, 0)
    lo = min(lo, n)
    hi = min(hi, n)
    size = max(hi - lo, 0)
    out = np.empty(size, buf.dtype)
    for i in range(size):
        out[i] = buf[lo + i]
    return out
