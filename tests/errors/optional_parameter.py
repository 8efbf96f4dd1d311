"""Error golden: an optional (`| None`) array parameter."""

from ember import f64, kernel


@kernel
def f(a: f64[:] | None) -> float:
    return 0.0


_ERRORS = """
File "optional_parameter.py", line 7, in f:
    def f(a: f64[:] | None) -> float:
             ^^^^^^^^^^^^^
error: unsupported annotation 'f64[:] | None': kernels give every value a single type and no value can be None; annotate one type, e.g. 'f64[:]'
"""
