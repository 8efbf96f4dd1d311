"""Error golden: an attribute of a float."""

from ember import kernel


@kernel
def f(x: float) -> float:
    return x.dtype


_ERRORS = """
File "scalar_attribute.py", line 8, in f:
    return x.dtype
           ^^^^^^^
error: attribute 'dtype' of float is not supported in kernels; write the type's name instead (np.float64, ...)
"""
