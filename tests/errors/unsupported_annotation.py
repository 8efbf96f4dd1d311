"""Error golden: a parameter annotated with a type kernels do not accept."""

from ember import kernel


@kernel
def f(names: list[str]) -> int:
    return 0


_ERRORS = """
File "unsupported_annotation.py", line 7, in f:
    def f(names: list[str]) -> int:
                 ^^^^^^^^^
error: unsupported annotation 'list[str]': kernels take numpy arrays, not lists; annotate the array's dtype and dimensions, e.g. 'f64[:]'
"""
