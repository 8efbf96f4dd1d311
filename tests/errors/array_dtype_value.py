"""Error golden: `a.dtype` used as a value (here through a variable holding it)."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    t = a.dtype
    return a[0] * t


_ERRORS = """
File "array_dtype_value.py", line 9, in f:
    return a[0] * t
                  ^
error: array attribute 'dtype' is not supported in kernels; use it as the dtype of an allocation (np.zeros(n, dtype=a.dtype)); to convert a value, write the type's name (np.float64(x), int(x), ...)
"""
