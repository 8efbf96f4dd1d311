"""Error golden: an async def cannot be a kernel.

PENDING (compiler bug, kept out of the suite until fixed): Observed: a CompileError with no location at all (`error: 'f' is not a plain function (def); cannot compile it`). Expected: File/line/caret at the `async def` line and a message saying async functions are not supported.
"""

from ember import kernel


@kernel
async def f(x: float) -> float:
    return x + 1.0


_ERRORS = """
error: 'f' is not a plain function (def); cannot compile it
"""
