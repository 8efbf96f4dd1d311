"""Error golden: a call of another kernel with a keyword the callee does not have."""

from ember import f64, kernel


@kernel
def g(x: f64[:], p: float = 2.0) -> float:
    return x[0] * p


@kernel
def f(x: f64[:]) -> float:
    return g(x, q=1.0)


_ERRORS = """
File "kernel_call_unknown_keyword.py", line 13, in f:
    return g(x, q=1.0)
           ^^^^^^^^^^^
error: g() got an unexpected keyword argument 'q'
"""
