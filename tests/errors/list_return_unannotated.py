"""Error golden: a list returned by a kernel without an array return annotation."""

from ember import kernel


@kernel
def f(n: int):
    b = []
    for i in range(n):
        b.append(i * 0.5)
    return b


_ERRORS = """
File "list_return_unannotated.py", line 11, in f:
    return b
           ^
error: list 'b' is returned as a NumPy array, but the kernel has no return annotation; annotate it, e.g. '-> f64[:]'
"""
