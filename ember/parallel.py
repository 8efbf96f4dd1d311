"""`prange`: a `range` whose iterations the user promises are independent.

In plain Python it is `range`. In a kernel, a `for i in prange(...)` loop runs on all cores
(runtime/parallel.py); scalars it updates with `s += ...`, `s *= ...`, `s = min(s, ...)` or
`s = max(s, ...)` are reductions, combined in a fixed order after the loop.
"""

from __future__ import annotations


def prange(*args: int) -> range:
    """Like `range`; in a kernel, iterations run in parallel."""
    return range(*args)
