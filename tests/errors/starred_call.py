"""Error golden: a starred argument."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return max(*a)


_ERRORS = """
File "starred_call.py", line 9, in f:
    return max(*a)
               ^^
error: starred expressions are not supported in kernels; pass or unpack the items one by one (a, b = t)
"""
