"""Error golden: creating an array inside a GPU prange loop."""

import numpy as np

from ember import f64, kernel, prange


@kernel(target="gpu")
def f(x: f64[:, :]) -> None:
    for i in prange(x.shape[0]):
        tmp = np.zeros(x.shape[1])
        for j in range(x.shape[1]):
            tmp[j] = x[i, j]
        x[i, 0] = tmp[0]


_ERRORS = """
File "gpu_alloc_in_prange.py", line 11, in f:
    tmp = np.zeros(x.shape[1])
          ^^^^^^^^^^^^^^^^^^^^
error: creating an array is not supported inside a GPU prange loop: device code cannot allocate memory: pass an output array to the kernel and write into it
"""
