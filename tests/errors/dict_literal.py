"""Error golden: a dict literal."""

from ember import kernel


@kernel
def f(x: float) -> float:
    d = {"x": x}
    return d["x"]


_ERRORS = """
File "dict_literal.py", line 8, in f:
    d = {"x": x}
        ^^^^^^^^
error: dicts are not supported in kernels; use an array indexed by integer keys (or pass the values as parameters, a NamedTuple for a bundle)
"""
