"""Error golden: the global statement."""

from ember import kernel

counter = 0


@kernel
def f(x: float) -> float:
    global counter
    return x


_ERRORS = """
File "global_stmt.py", line 10, in f:
    global counter
    ^^^^^^^^^^^^^^
error: 'global' declarations are not supported in kernels; read module constants without it, and pass what the kernel changes as a parameter (arrays change in place)
"""
