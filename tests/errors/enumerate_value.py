"""Error golden: enumerate() used as a value, not as the iterable of a for loop."""

# ruff: noqa: F841
from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    pairs = enumerate(a)
    return 0.0


_ERRORS = """
File "enumerate_value.py", line 9, in f:
    pairs = enumerate(a)
            ^^^^^^^^^
error: enumerate() is supported only as the iterable of a for loop: for i, v in enumerate(a) or enumerate(a, start)
"""
