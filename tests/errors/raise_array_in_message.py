"""Error golden: a message formats scalars only.
"""

from ember import f64, kernel


@kernel
def f(x: f64[:]) -> float:
    if x[0] < 0.0:
        raise ValueError(f"bad input {x}")
    return x[0]


_ERRORS = """
File "raise_array_in_message.py", line 10, in f:
    raise ValueError(f"bad input {x}")
                                  ^
error: an exception message can format scalars only, not float64[:]; format single elements, e.g. {x[0]}
"""
