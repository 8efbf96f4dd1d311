"""Error golden: a GPU kernel with a sequential loop outside its prange loops."""

from ember import f64, kernel, prange


@kernel(target="gpu")
def f(x: f64[:]) -> None:
    for i in range(len(x)):
        x[i] = 0.0
    for i in prange(len(x)):
        x[i] += 1.0


_ERRORS = """
File "gpu_host_statement.py", line 8, in f:
    for i in range(len(x)):
    ^^^^^^^^^^^^^^^^^^^^^^^
error: a GPU kernel's body may hold only prange loops, scalar assignments and a return; move this statement into a prange loop or run the kernel on the CPU
"""
