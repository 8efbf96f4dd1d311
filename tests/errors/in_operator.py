"""Error golden: the in operator."""

from ember import f64, kernel


@kernel
def f(a: f64[:], x: float) -> bool:
    return x in a


_ERRORS = """
File "in_operator.py", line 8, in f:
    return x in a
           ^^^^^^
error: 'in' needs a tuple or a list of numbers in kernels, not float64[:]; write np.any(a == x)
"""
