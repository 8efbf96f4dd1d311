"""Error golden: a complex value stored in a float variable (NumPy's ComplexWarning case)."""

from ember import kernel


@kernel
def f(x: float) -> float:
    y = 0.0
    y = x * 1j
    return y


_ERRORS = """
File "complex_to_float.py", line 10, in f:
    return y
           ^
error: this return value has type complex, but kernel 'f' is declared to return float; write np.real(...) to convert it explicitly
"""
