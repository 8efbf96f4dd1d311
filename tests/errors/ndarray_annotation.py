"""Error golden: `np.ndarray` says neither dtype nor dimensions."""

import numpy as np

from ember import kernel


@kernel
def f(a: np.ndarray) -> float:
    return a[0]


_ERRORS = """
File "ndarray_annotation.py", line 9, in f:
    def f(a: np.ndarray) -> float:
             ^^^^^^^^^^
error: unsupported annotation 'np.ndarray': annotate arrays with their dtype and number of dimensions, e.g. 'f64[:]' or 'f32[:, :]'
"""
