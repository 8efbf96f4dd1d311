"""Error golden: a whole-array statement at the top level of a GPU kernel that writes only
part of an array (each top-level statement runs one thread per element of a whole array)."""

from ember import f64, kernel


@kernel(target="gpu")
def f(x: f64[:], out: f64[:]) -> None:
    out[1:] = x[1:] * 2.0


_ERRORS = """
File "gpu_host_array_part.py", line 9, in f:
    out[1:] = x[1:] * 2.0
    ^^^^^^^
error: at the top level of a GPU kernel an array statement must assign to a whole array parameter (`out[:] = a * x + y`, `x += y`, `out[...] = 0.0`); write parts of arrays inside a prange loop
"""
