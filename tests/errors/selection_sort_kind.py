"""Error golden: np.sort with a kind NumPy does not have."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    s = np.sort(a, kind="bubble")
    return s[0]


_ERRORS = """
File "selection_sort_kind.py", line 10, in f:
    s = np.sort(a, kind="bubble")
                        ^^^^^^^^
error: np.sort(kind=...) takes 'quicksort', 'mergesort', 'heapsort' or 'stable' (Ember always sorts stably)
"""
