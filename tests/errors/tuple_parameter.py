"""Error golden: a tuple parameter (not supported yet; it used to fail inside the compiler)."""

from ember import kernel


@kernel
def f(t: tuple[int, int]) -> int:
    return t[0] + t[1]


_ERRORS = """
File "tuple_parameter.py", line 7, in f:
    def f(t: tuple[int, int]) -> int:
             ^^^^^^^^^^^^^^^
error: tuple parameters are not supported yet; pass the items as separate parameters (t0: int, t1: int)
"""
