"""Error golden: a float item returned where the declared tuple holds an int."""

from ember import kernel


@kernel
def f(n: int, x: float) -> tuple[int, int]:
    return n, x * n


_ERRORS = """
File "narrow_tuple_return_item.py", line 8, in f:
    return n, x * n
              ^^^^^
error: item 1 of the returned tuple has type float, but kernel 'f' is declared to return tuple[int, int]; write int(...) to convert it explicitly
"""
