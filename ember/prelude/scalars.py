"""Prelude: Python's integer functions math.factorial/comb/perm and the length check of
unpacking an array (`a, b, c = params`), in Ember.

The messages are CPython 3.11's. Python's ints never overflow; Ember's are 64-bit, so a
result that does not fit raises OverflowError instead of wrapping around (the checks are
exact: each step's result is the next binomial coefficient or partial product). Each check is a
helper returning None, so its `raise` sits in a branch without results, which derivative
builds drop when it cannot run (lowering/rewrites.py `drop_dead_raises`).
"""

from __future__ import annotations

from typing import Any

_MAX = 9223372036854775807


def unpack_check(have: Any, want: Any) -> None:
    """CPython's errors for unpacking `have` values into `want` names."""
    if have > want:
        raise ValueError(f"too many values to unpack (expected {want})")
    if have < want:
        raise ValueError(f"not enough values to unpack (expected {want}, got {have})")


def _factorial_check(n: Any) -> None:
    if n < 0:
        raise ValueError("factorial() not defined for negative values")
    if n > 20:
        raise OverflowError(f"factorial({n}) does not fit in a 64-bit integer")


def factorial(n: Any) -> Any:
    _factorial_check(n)
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result


def _gcd(a: Any, b: Any) -> Any:
    while b != 0:
        a, b = b, a % b
    return a


def _non_negative(n: Any, k: Any) -> None:
    if n < 0:
        raise ValueError("n must be a non-negative integer")
    if k < 0:
        raise ValueError("k must be a non-negative integer")


def _comb_fits(a: Any, b: Any, n: Any, k: Any) -> None:
    """OverflowError unless a * b (a >= 0, b > 0) fits in int64."""
    if a > _MAX // b:
        raise OverflowError(f"comb({n}, {k}) does not fit in a 64-bit integer")


def _perm_fits(a: Any, b: Any, n: Any, k: Any) -> None:
    if a > _MAX // b:
        raise OverflowError(f"perm({n}, {k}) does not fit in a 64-bit integer")


def comb(n: Any, k: Any) -> Any:
    """C(n, k) step by step: C(n, i + 1) = C(n, i) * (n - i) / (i + 1), dividing out the gcd
    first so no intermediate exceeds the result."""
    _non_negative(n, k)
    result = 0
    if k <= n:
        result = 1
        for i in range(min(k, n - k)):
            d = i + 1
            g = _gcd(result, d)
            q = (n - i) // (d // g)
            _comb_fits(result // g, q, n, k)
            result = result // g * q
    return result


def perm(n: Any, k: Any) -> Any:
    _non_negative(n, k)
    result = 0
    if k <= n:
        result = 1
        for i in range(n - k + 1, n + 1):
            _perm_fits(result, i, n, k)
            result *= i
    return result


def _tuple_index_check(k: Any, n: Any) -> None:
    if k < -n or k >= n:
        raise IndexError("tuple index out of range")


def tuple_index(k: Any, n: Any) -> Any:
    """Python's index `k` into a tuple of `n` items, from 0 (negative counts from the end)."""
    _tuple_index_check(k, n)
    return k + n if k < 0 else k
