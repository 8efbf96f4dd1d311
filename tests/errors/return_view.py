"""Error golden: returning a view (not supported yet)."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> f64[:]:
    return a[1:]


_ERRORS = """
File "return_view.py", line 8, in f:
    return a[1:]
           ^^^^^
error: returning a view (a slice, row or transpose) is not supported yet; return an array the kernel allocates (np.empty/np.zeros/...) and copy the elements into it
"""
