"""Error golden: calling a plain Python function (not a kernel)."""

from ember import kernel


def helper(v):
    return v * 2.0


@kernel
def f(x: float) -> float:
    return helper(x) + 1.0


_ERRORS = """
File "call_python_function.py", line 12, in f:
    return helper(x) + 1.0
           ^^^^^^
error: cannot call Python function 'helper' from a kernel; decorate it with @ember.kernel
"""
