"""Error golden: returning a parameter array from a kernel declaring an array return."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> f64[:]:
    return a


_ERRORS = """
File "return_param_array.py", line 8, in f:
    return a
           ^
error: kernels can only return arrays they allocate (np.empty/np.zeros/...); this one may be a parameter or a view
"""
