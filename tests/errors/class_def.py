"""Error golden: a class statement inside a kernel."""

from ember import kernel


@kernel
def f(x: float) -> float:
    class Point:
        pass
    return x


_ERRORS = """
File "class_def.py", line 8, in f:
    class Point:
    ^^^^^^^^^^^^
error: class definitions are not supported in kernels; define the class at module level (a NamedTuple can be passed as a parameter)
"""
