"""Error golden: a GPU prange bound the host cannot compute (it reads array data)."""

from ember import f64, i64, kernel, prange


@kernel(target="gpu")
def f(x: f64[:], n: i64[:]) -> None:
    for i in prange(n[0]):
        x[i] = 1.0


_ERRORS = """
File "gpu_host_bound.py", line 8, in f:
    for i in prange(n[0]):
                    ^^^^
error: the host cannot compute this value of a GPU kernel (loop bounds and values outside prange loops may use only scalar parameters, array shapes, constants and + - * // % min max)
"""
