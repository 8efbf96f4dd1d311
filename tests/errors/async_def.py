"""Error golden: an async def cannot be a kernel.
"""

from ember import kernel


@kernel
async def f(x: float) -> float:
    return x + 1.0


_ERRORS = """
File "async_def.py", line 8, in f:
    async def f(x: float) -> float:
    ^^^^^^^^^
error: async functions cannot be kernels
"""
