"""Error golden: try/except*."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    x = 0.0
    try:
        x = a[0]
    except* ValueError:
        x = 1.0
    return x


_ERRORS = """
File "try_star.py", line 10, in f:
    try:
    ^^^^
error: try/except* statements are not supported in kernels; test the condition with 'if' first, or catch the error around the kernel call
"""
