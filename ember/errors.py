"""User-facing compile errors: source spans and Python-traceback-style rendering.

Every frontend node carries a `Span` with absolute file lines. `CompileError` renders as

    File "model.py", line 14, in step:
        total += names[i]
                 ^^^^^^^^
    error: cannot index 'names' of type list[str]; ...

and is raised `from None` so no Ember-internal frame shows; `EMBER_DEBUG=1` keeps them.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A region of user source: absolute 1-based lines, 0-based columns (as in `ast`)."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    func: str = ""
    """Name of the enclosing kernel, shown as `in <func>`."""

    def render(self) -> str:
        head = f'File "{self.file}", line {self.line}'
        head += f", in {self.func}:" if self.func else ":"
        text = linecache.getline(self.file, self.line).rstrip("\n")
        if not text:
            return head
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        end = self.end_col if self.end_line == self.line else len(text)
        width = max(1, min(end, len(text)) - self.col)
        caret = " " * (4 + self.col - indent) + "^" * width
        return f"{head}\n    {stripped}\n{caret}"


@dataclass
class CompileError(Exception):
    """A kernel is outside the Ember subset or ill-typed; the message points at user source."""

    message: str
    span: Span | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.span.render()] if self.span else []
        parts.append(f"error: {self.message}")
        parts.extend(f"note: {n}" for n in self.notes)
        return "\n".join(parts)

    def with_note(self, note: str) -> CompileError:
        self.notes.append(note)
        return self
