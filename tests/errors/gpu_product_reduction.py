"""Error golden: a `*=` reduction in a GPU prange (only `+=` has an atomic)."""

from ember import f64, kernel, prange


@kernel(target="gpu")
def f(x: f64[:]) -> float:
    p = 1.0
    for i in prange(len(x)):
        p *= x[i]
    return p


_ERRORS = """
File "gpu_product_reduction.py", line 9, in f:
    for i in prange(len(x)):
    ^^^^^^^^^^^^^^^^^^^^^^^^
error: 'p' is carried from one iteration of this prange loop to the next; on the GPU only `p += ...` reductions are supported (atomic adds)
"""
