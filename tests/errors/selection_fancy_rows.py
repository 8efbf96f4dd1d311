"""Error golden: an integer index array on a 3-D array (fancy indexing)."""

from ember import f64, i64, kernel


@kernel
def f(a: f64[:, :, :], idx: i64[:]) -> float:
    rows = a[idx]
    return rows[0, 0, 0]


_ERRORS = """
File "selection_fancy_rows.py", line 8, in f:
    rows = a[idx]
           ^^^^^^
error: indexing with an integer array (fancy indexing) is supported for a 1-D or 2-D array and a 1-D index array in kernels; write a loop (out[k] = A[idx[k], j, l])
"""
