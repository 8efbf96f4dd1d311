"""Error golden: a *args parameter."""

from ember import kernel


@kernel
def f(x: float, *rest: float) -> float:
    return x


_ERRORS = """
File "star_args.py", line 7, in f:
    def f(x: float, *rest: float) -> float:
    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
error: kernels take plain positional parameters only (no *args, **kwargs, keyword-only parameters or defaults)
"""
