"""Error golden: float(z) of a complex (CPython raises TypeError; NumPy warns and drops the
imaginary part)."""

from ember import kernel


@kernel
def f(z: complex) -> float:
    return float(z)


_ERRORS = """
File "complex_float_call.py", line 9, in f:
    return float(z)
                 ^
error: cannot convert a complex value to float: the imaginary part would be lost (NumPy's ComplexWarning); write z.real (or np.real(z)) for the real part, or abs(z) for the magnitude
"""
