"""Error golden: print() in a kernel."""

from ember import kernel


@kernel
def f(x: float) -> float:
    print(x)
    return x


_ERRORS = """
File "print_call.py", line 8, in f:
    print(x)
    ^^^^^
error: print() is not supported in kernels; return the value (or store it in an array) and print it outside the kernel
"""
