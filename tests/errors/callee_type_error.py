"""Error golden: a type error inside a called kernel; the note names the call site."""

from ember import f64, kernel


@kernel
def g(a: f64[:], x: float) -> float:
    return a[x]


@kernel
def f(a: f64[:]) -> float:
    return g(a, 2.0) + 1.0


_ERRORS = """
File "callee_type_error.py", line 8, in g:
    return a[x]
             ^
error: array index must be an integer, not float
note: while compiling kernel 'g', called at callee_type_error.py, line 13
"""
