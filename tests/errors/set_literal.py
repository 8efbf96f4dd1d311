"""Error golden: a set display."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return a[0] if a[0] in {1.0, 2.0} else 0.0


_ERRORS = """
File "set_literal.py", line 9, in f:
    return a[0] if a[0] in {1.0, 2.0} else 0.0
                           ^^^^^^^^^^
error: sets are not supported in kernels; use a tuple or list and 'in', or np.unique(...) of an array
"""
