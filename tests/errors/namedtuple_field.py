"""Error golden: a field a NamedTuple parameter does not have."""

from typing import NamedTuple

from ember import f64, kernel


class Params(NamedTuple):
    x: f64[:]
    k: float


@kernel
def f(p: Params) -> float:
    return p.x[0] * p.scale


_ERRORS = """
File "namedtuple_field.py", line 15, in f:
    return p.x[0] * p.scale
                    ^^^^^^^
error: parameter 'p' has no field 'scale' (fields: x, k)
"""
