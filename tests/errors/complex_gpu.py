"""Error golden: the GPU target has no complex numbers."""

from ember import c128, kernel, prange


@kernel(target="gpu")
def f(a: c128[:]) -> None:
    for i in prange(a.shape[0]):
        a[i] = a[i] * 2


_ERRORS = """
File "complex_gpu.py", line 9, in f:
    a[i] = a[i] * 2
           ^^^^^^^^
error: complex numbers are not supported by the GPU target (target="gpu"); use the CPU target, or pass real and imaginary parts as float arrays
"""
