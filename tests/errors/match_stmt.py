"""Error golden: a match statement."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    match a.shape[0]:
        case 0:
            return 0.0
    return a[0]


_ERRORS = """
File "match_stmt.py", line 9, in f:
    match a.shape[0]:
    ^^^^^^^^^^^^^^^^^
error: 'match' statements are not supported in kernels; use if/elif/else
"""
