"""Error golden: a tuple of different item types indexed with a run-time integer."""

from ember import f64, kernel


@kernel
def f(a: f64[:], b: float, k: int) -> float:
    t = (a, b)
    return t[k]


_ERRORS = """
File "tuple_dynamic_index.py", line 9, in f:
    return t[k]
           ^^^^
error: a tuple of different item types (float64[:], float) can only be indexed with a constant integer; unpack it (a, b = t) or index it with a constant
"""
