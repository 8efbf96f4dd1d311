"""`Kernel.inspect` output: the code of one stage as a `str` that also displays as code.

A plain `str` shows in a notebook or at the prompt as one escaped line (`'module {\\n  func...'`);
`Listing` is equal to that `str` (existing callers compare, search and print it unchanged) and
shows as the text itself: its `__repr__` is the text, and notebooks render `_repr_markdown_` /
`_repr_html_` as a code block.
"""

from __future__ import annotations

import html
from typing import Final

_LANGUAGE: Final = {"mlir": "mlir", "lowered": "mlir", "llvm": "llvm", "asm": "asm",
                    "ptx": "ptx"}
"""Stage -> the code block's language name (syntax highlighting in notebooks)."""


class Listing(str):
    """The code of stage `stage`, equal to its text."""

    stage: str

    def __new__(cls, text: str, stage: str = "") -> Listing:
        self = super().__new__(cls, text)
        self.stage = stage
        return self

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        fence = "````" if "```" in self else "```"
        return f"{fence}{_LANGUAGE.get(self.stage, '')}\n{self.rstrip()}\n{fence}"

    def _repr_html_(self) -> str:
        return f"<pre><code>{html.escape(str(self))}</code></pre>"
