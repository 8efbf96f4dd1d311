"""Error golden: an Optional parameter used without an `is not None` guard, in the
specialization where it is None (its default)."""

from ember import f64, kernel


@kernel
def f(x: f64[:], w: f64[:] | None = None) -> float:
    return x[0] * w[0]


_ERRORS = """
File "optional_parameter.py", line 9, in f:
    return x[0] * w[0]
                  ^
error: 'w' is None in this specialization; guard its use with `if w is not None:`
"""
