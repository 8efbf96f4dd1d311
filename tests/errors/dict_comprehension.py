"""Error golden: a dict comprehension."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return len({i: a[i] for i in range(3)}) * 1.0


_ERRORS = """
File "dict_comprehension.py", line 9, in f:
    return len({i: a[i] for i in range(3)}) * 1.0
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^
error: dict comprehensions are not supported in kernels; use an array indexed by integer keys
"""
