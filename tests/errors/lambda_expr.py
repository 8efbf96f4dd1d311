"""Error golden: lambda is outside the subset."""

from ember import kernel


@kernel
def f(x: float) -> float:
    return (lambda v: v * 2.0)(x)


_ERRORS = """
File "lambda_expr.py", line 8, in f:
    return (lambda v: v * 2.0)(x)
            ^^^^^^^^^^^^^^^^^
error: lambda expressions are not supported in kernels; define a module-level @kernel function and call it
"""
