"""Error golden: divmod() of an array."""

from ember import f64, kernel


@kernel
def f(x: f64[:]) -> float:
    q, r = divmod(x, 2.0)
    return q[0]


_ERRORS = """
File "divmod_array.py", line 8, in f:
    q, r = divmod(x, 2.0)
                  ^
error: divmod() takes scalars in kernels, not float64[:]; write a // b and a % b for arrays
"""
