"""Error golden: await inside a kernel.
"""

from ember import kernel


async def helper() -> float:
    return 1.0


@kernel
async def f(x: float) -> float:
    y = await helper()
    return x + y


_ERRORS = """
File "await_expr.py", line 12, in f:
    async def f(x: float) -> float:
    ^^^^^^^^^
error: async functions cannot be kernels
"""
