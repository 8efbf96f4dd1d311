"""Error golden: passing a local list to another kernel."""

from ember import f64, kernel


@kernel
def total(a: f64[:]) -> float:
    return a.sum()


@kernel
def f(x: float) -> float:
    b = [x, 2.0 * x]
    return total(b)


_ERRORS = """
File "list_pass_to_kernel.py", line 14, in f:
    return total(b)
                 ^
error: list 'b' cannot be passed to 'total': kernels and functions take arrays; pass np.array(b) (a copy)
"""
