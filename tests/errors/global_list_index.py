"""Error golden: indexing a module-level list of str (the spec's example)."""

from ember import kernel

names = ["a", "b", "c"]


@kernel
def f(n: int) -> int:
    total = 0
    for i in range(n):
        total += names[i]
    return total


_ERRORS = """
File "global_list_index.py", line 12, in f:
    total += names[i]
             ^^^^^^^^
error: cannot index 'names' of type list[str]; kernels accept numpy arrays and scalars
"""
