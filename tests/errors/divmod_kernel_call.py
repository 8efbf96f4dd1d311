"""Error golden: divmod() of a kernel call (it would run twice)."""

from ember import kernel


@kernel
def g(x: float) -> float:
    return x * 2.0


@kernel
def f(x: float) -> float:
    q, r = divmod(g(x), 3.0)
    return q + r


_ERRORS = """
File "divmod_kernel_call.py", line 13, in f:
    q, r = divmod(g(x), 3.0)
                  ^^^^
error: divmod() evaluates its arguments twice in kernels; assign this call to a variable first
"""
