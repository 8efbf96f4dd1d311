"""Error golden: a string annotation naming nothing."""

from ember import kernel


@kernel
def f(x: "vector") -> float:  # noqa: F821
    return 0.0


_ERRORS = """
File "string_annotation_undefined.py", line 7, in f:
    def f(x: "vector") -> float:  # noqa: F821
             ^^^^^^^^
error: cannot evaluate annotation 'vector': name 'vector' is not defined
"""
