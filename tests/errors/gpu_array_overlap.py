"""Error golden: an array assignment inside a GPU prange loop whose source may overlap its
destination (NumPy reads the old values: a temporary array, which device code cannot make)."""

from ember import f64, kernel, prange


@kernel(target="gpu")
def f(x: f64[:, :]) -> None:
    for i in prange(x.shape[0]):
        row = x[i]
        row[1:] = 2.0 * x[i, :-1]


_ERRORS = """
File "gpu_array_overlap.py", line 11, in f:
    row[1:] = 2.0 * x[i, :-1]
                    ^^^^^^^^^
error: an array assignment whose source may overlap its destination needs a temporary array (NumPy reads the old values), which GPU device code cannot create; write the element loop, or read from another array
"""
