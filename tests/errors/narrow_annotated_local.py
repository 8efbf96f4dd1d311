"""Error golden: a float assigned to an int-annotated local (it used to be truncated silently)."""

from ember import kernel


@kernel
def f(x: float) -> int:
    y: int = x
    return y


_ERRORS = """
File "narrow_annotated_local.py", line 8, in f:
    y: int = x
             ^
error: this value has type float, but 'y' is declared int; write int(...) to convert it explicitly, or store it in a new variable
"""
