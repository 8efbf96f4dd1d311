"""Error golden: a complex value stored into a float array (NumPy's ComplexWarning case)."""

from ember import f64, kernel


@kernel
def f(a: f64[:], z: complex) -> None:
    a[0] = z


_ERRORS = """
File "complex_store_float_array.py", line 8, in f:
    a[0] = z
           ^
error: cannot convert a complex value to float64: the imaginary part would be lost (NumPy's ComplexWarning); write z.real (or np.real(z)) for the real part, or abs(z) for the magnitude
"""
