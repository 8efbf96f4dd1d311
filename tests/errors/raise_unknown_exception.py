"""Error golden: only built-in exception classes can be raised.
"""

import numpy as np

from ember import kernel


@kernel
def f(x: float) -> float:
    if x < 0.0:
        raise np.linalg.LinAlgError("singular")
    return x


_ERRORS = """
File "raise_unknown_exception.py", line 12, in f:
    raise np.linalg.LinAlgError("singular")
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
error: kernels can raise the built-in exceptions ArithmeticError, AssertionError, Exception, FloatingPointError, IndexError, KeyError, LookupError, NotImplementedError, OverflowError, RuntimeError, TypeError, ValueError, ZeroDivisionError; 'np.linalg.LinAlgError' is not one of them
"""
