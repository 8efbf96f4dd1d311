"""Error golden: a list parameter (kernels take arrays)."""

from ember import kernel


@kernel
def f(x: list[float]) -> float:
    return x[0]


_ERRORS = """
File "list_param.py", line 7, in f:
    def f(x: list[float]) -> float:
             ^^^^^^^^^^^
error: unsupported annotation 'list[float]': kernels take numpy arrays, not lists; annotate the array's dtype and dimensions, e.g. 'f64[:]'
"""
