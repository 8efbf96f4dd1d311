"""Error golden: a dict parameter."""

from ember import kernel


@kernel
def f(d: dict[str, float]) -> float:
    return 0.0


_ERRORS = """
File "dict_annotation.py", line 7, in f:
    def f(d: dict[str, float]) -> float:
             ^^^^^^^^^^^^^^^^
error: unsupported annotation 'dict[str, float]': dicts are not supported in kernels; pass numpy arrays and scalars
"""
