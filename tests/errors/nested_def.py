"""Error golden: a nested function definition."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    def g(x):
        return x
    return g(a[0])


_ERRORS = """
File "nested_def.py", line 9, in f:
    def g(x):
    ^^^^^^^^^
error: nested function definitions are not supported in kernels; define the helper at module level with @kernel
"""
