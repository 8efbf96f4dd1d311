"""Error golden: a store through `a.real` (a view in NumPy, a copy in Ember) is refused."""

from ember import c128, kernel


@kernel
def f(a: c128[:]) -> None:
    a.real[0] = 5.0


_ERRORS = """
File "complex_real_store.py", line 8, in f:
    a.real[0] = 5.0
    ^^^^^^^^^
error: cannot store into 'a.real': in kernels .real of an array is a copy, not NumPy's view; store whole complex elements instead (a[i] = complex(v, a[i].imag))
"""
