"""Error golden: a set comprehension."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return len({v for v in a}) * 1.0


_ERRORS = """
File "set_comprehension.py", line 9, in f:
    return len({v for v in a}) * 1.0
               ^^^^^^^^^^^^^^
error: set comprehensions are not supported in kernels; build an array in a loop and take np.unique(...)
"""
