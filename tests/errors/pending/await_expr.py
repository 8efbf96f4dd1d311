"""Error golden: await inside a kernel.

PENDING (compiler bug, kept out of the suite until fixed): Observed: the same location-less 'not a plain function (def)' error as async_def.py; the await is never pointed at. Expected: File/line/caret (at the async def or the await) and an 'async/await is not supported' message.
"""

from ember import kernel


async def helper() -> float:
    return 1.0


@kernel
async def f(x: float) -> float:
    y = await helper()
    return x + y


_ERRORS = """
error: 'f' is not a plain function (def); cannot compile it
"""
