"""Error golden: a *args parameter."""

from ember import kernel


@kernel
def f(x: float, *rest: float) -> float:
    return x


_ERRORS = """
File "star_args.py", line 7, in f:
    def f(x: float, *rest: float) -> float:
                     ^^^^^^^^^^^
error: kernels take no *rest; name each parameter, or take a tuple ('rest: tuple[float, float]')
"""
