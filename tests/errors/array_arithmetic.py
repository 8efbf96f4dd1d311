"""Error golden: whole-array arithmetic NumPy refuses (an in-place result that cannot be cast
back to the array's dtype)."""

from ember import i64, kernel


@kernel
def f(a: i64[:]) -> None:
    a += 1.5


_ERRORS = """
File "array_arithmetic.py", line 9, in f:
    a += 1.5
    ^^^^^^^^
error: Cannot cast ufunc 'add' output from dtype('float64') to dtype('int64') with casting rule 'same_kind'
"""
