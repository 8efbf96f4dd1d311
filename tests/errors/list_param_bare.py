"""Error golden: a bare `list` parameter annotation."""

from ember import kernel


@kernel
def f(x: list) -> float:
    return x[0]


_ERRORS = """
File "list_param_bare.py", line 7, in f:
    def f(x: list) -> float:
             ^^^^
error: unsupported annotation 'list': kernels take numpy arrays, not lists; annotate the array's dtype and dimensions, e.g. 'f64[:]'
"""
