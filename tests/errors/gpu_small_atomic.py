"""Error golden: `+=` shared by GPU threads on an int16 array (no 16-bit atomic add)."""

from ember import i16, kernel, prange


@kernel(target="gpu")
def f(x: i16[:], total: i16[:]) -> None:
    for i in prange(len(x)):
        total[0] += x[i]


_ERRORS = """
File "gpu_small_atomic.py", line 9, in f:
    total[0] += x[i]
    ^^^^^^^^
error: `+=` on an element that several GPU threads may update needs an atomic add, which the GPU has for 32- and 64-bit elements only, not int16
"""
