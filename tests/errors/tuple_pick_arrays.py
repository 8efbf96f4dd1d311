"""Error golden: picking items from a tuple of arrays inside enumerate()."""

from ember import f64, kernel


@kernel
def f(x: f64[:], y: f64[:]) -> float:
    s = 0.0
    for i, a in enumerate((x, y)):
        s += a[i]
    return s


_ERRORS = """
File "tuple_pick_arrays.py", line 9, in f:
    for i, a in enumerate((x, y)):
                          ^^^^^^
error: this loop picks its items from a tuple holding arrays (float64[:], float64[:]), which kernels support only in a loop directly over a tuple written out, e.g. 'for a in (x, y):'; index the arrays instead
"""
