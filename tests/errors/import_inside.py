"""Error golden: an import inside a kernel."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    import math
    return math.sqrt(a[0])


_ERRORS = """
File "import_inside.py", line 9, in f:
    import math
    ^^^^^^^^^^^
error: imports inside kernels are not supported; import at module level
"""
