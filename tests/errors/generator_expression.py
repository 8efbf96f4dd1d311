"""Error golden: a generator expression."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return sum(v * v for v in a)


_ERRORS = """
File "generator_expression.py", line 9, in f:
    return sum(v * v for v in a)
              ^^^^^^^^^^^^^^^^^^
error: generator expressions are not supported in kernels; use a loop, or a reduction of an array expression (np.sum(a * b))
"""
