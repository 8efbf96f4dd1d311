"""Error golden: appending to a shared list inside a prange loop (a data race)."""

from ember import f64, kernel, prange


@kernel
def f(a: f64[:]) -> float:
    out = []
    for i in prange(a.shape[0]):
        out.append(a[i] * 2.0)
    return sum(out)


_ERRORS = """
File "list_prange_append.py", line 10, in f:
    out.append(a[i] * 2.0)
    ^^^^^^^^^^^^^^^^^^^^^^
error: out.append() inside a prange loop is a data race: its iterations run in parallel and share the list; preallocate an array (out = np.empty(n)) and assign out[i] = ...
"""
