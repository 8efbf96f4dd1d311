"""Error golden: a GPU kernel reading a module-level array (host memory)."""

import numpy as np

from ember import f64, kernel, prange

weights = np.array([1.0, 2.0, 3.0])


@kernel(target="gpu")
def f(x: f64[:]) -> None:
    for i in prange(x.shape[0]):
        x[i] = x[i] * weights[i % 3]


_ERRORS = """
File "gpu_global_array.py", line 13, in f:
    x[i] = x[i] * weights[i % 3]
                  ^^^^^^^
error: GPU kernels cannot read module-level arrays (they live in host memory); pass the array as a parameter
"""
