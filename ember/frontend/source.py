"""Frontend step 0: a Python function object -> its AST, with absolute spans.

Input: a plain function. Output: `Source` holding the parsed `ast.FunctionDef`, the file name,
the line offset of the definition and the function's globals/closure values for name lookup.
Invariant: `Source.span(node)` gives the node's place in the user's real file.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any

from ..errors import CompileError, Span
from . import sourcetext


@dataclass(frozen=True)
class Source:
    """The parsed source of one kernel and the environment its names resolve in."""

    func: Any
    tree: ast.FunctionDef
    file: str
    line_offset: int
    text: str

    @property
    def name(self) -> str:
        return self.tree.name

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1) + self.line_offset
        end_line = (getattr(node, "end_lineno", None) or line - self.line_offset) + self.line_offset
        col = getattr(node, "col_offset", 0) + self._indent
        end_col = (getattr(node, "end_col_offset", None) or col) + self._indent
        return Span(self.file, line, col, end_line, end_col, self.name)

    @property
    def _indent(self) -> int:
        first = self.text.splitlines()[0] if self.text else ""
        return len(first) - len(first.lstrip())

    def error(self, node: ast.AST, message: str) -> CompileError:
        return CompileError(message, self.span(node))

    def lookup(self, name: str) -> tuple[bool, Any]:
        """Resolve a free name as Python would: closure, then globals, then builtins."""
        code = self.func.__code__
        if name in code.co_freevars and self.func.__closure__:
            cell = self.func.__closure__[code.co_freevars.index(name)]
            try:
                return True, cell.cell_contents
            except ValueError:
                return False, None
        if name in self.func.__globals__:
            return True, self.func.__globals__[name]
        builtins = self.func.__globals__.get("__builtins__", __builtins__)
        table = builtins if isinstance(builtins, dict) else vars(builtins)
        return (name in table), table.get(name)


@dataclass(frozen=True)
class PinnedSource(Source):
    """The source of a prelude routine that raises (ember/prelude), specialized for one call
    site (frontend/prelude.py): every span is the user's call, so its errors and raise sites
    name that line."""

    at: Span | None = None

    @property
    def name(self) -> str:
        return self.at.func if self.at is not None else self.tree.name

    def span(self, node: ast.AST) -> Span:
        return self.at if self.at is not None else Source.span(self, node)


def load_source(func: Any) -> Source:
    """Parse the source of `func`; raise CompileError if it cannot be found or parsed."""
    found = _lines(func)
    if found is None and sourcetext.recover(func):  # `python -c`: its text, checked
        found = _lines(func)
    if found is None:
        raise CompileError(sourcetext.missing(func))
    lines, start, file = found
    text = "".join(lines)
    tree = ast.parse(textwrap.dedent(text))
    fdef = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
                None)
    if fdef is None:
        raise CompileError(f"'{func.__name__}' is not a plain function (def); cannot compile it")
    src = Source(func, fdef, file, max(start, 1) - 1, text)  # type: ignore[arg-type]
    if isinstance(fdef, ast.AsyncFunctionDef):
        at = ast.Name(fdef.name, lineno=fdef.lineno, col_offset=fdef.col_offset,
                      end_lineno=fdef.lineno, end_col_offset=fdef.col_offset + 9)
        raise src.error(at, "async functions cannot be kernels")
    fdef.decorator_list = []
    return src


def _lines(func: Any) -> tuple[list[str], int, str] | None:
    """inspect's (lines, first line, file) of `func`, or None (no file, not in linecache)."""
    try:
        lines, start = inspect.getsourcelines(func)
        file = inspect.getsourcefile(func) or "<unknown>"
    except (OSError, TypeError):
        return None
    return (lines, start, file) if sourcetext.trusted(func, file) else None


def pinned(src: Source, at: Span) -> PinnedSource:
    """`src` with every span pinned to `at`."""
    return PinnedSource(src.func, src.tree, src.file, src.line_offset, src.text, at)
