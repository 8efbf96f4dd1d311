"""Error golden: a **kwargs parameter."""

from ember import kernel


@kernel
def f(x: float, **opts: float) -> float:
    return x


_ERRORS = """
File "kwargs_param.py", line 7, in f:
    def f(x: float, **opts: float) -> float:
                      ^^^^^^^^^^^
error: kernels take no **opts; name each parameter (keyword arguments bind to named parameters)
"""
