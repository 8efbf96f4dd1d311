"""Error golden: a **kwargs parameter."""

from ember import kernel


@kernel
def f(x: float, **opts: float) -> float:
    return x


_ERRORS = """
File "kwargs_param.py", line 7, in f:
    def f(x: float, **opts: float) -> float:
    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
error: kernels take plain positional parameters only (no *args, **kwargs, keyword-only parameters or defaults)
"""
