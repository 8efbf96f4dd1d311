"""Error golden: an attribute of a float."""

from ember import kernel


@kernel
def f(x: float) -> float:
    return x.real


_ERRORS = """
File "scalar_attribute.py", line 8, in f:
    return x.real
           ^^^^^^
error: attribute 'real' of float is not supported in kernels; kernels have no complex numbers; a real number is its own real part
"""
