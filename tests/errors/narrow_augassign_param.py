"""Error golden: `n += 0.5` on an int parameter (in Python `n` would become a float)."""

from ember import kernel


@kernel
def f(n: int) -> float:
    n += 0.5
    return n


_ERRORS = """
File "narrow_augassign_param.py", line 8, in f:
    n += 0.5
    ^^^^^^^^
error: this value has type float, but 'n' is declared int; write int(...) to convert it explicitly, or store it in a new variable
"""
