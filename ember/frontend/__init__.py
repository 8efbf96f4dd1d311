"""Frontend stage: Python function -> checked, desugared, typed tree. Never imports mlir.

infer.py drives the typing (source, check, desugar, exits, exprs/calls/stmts, dataflow);
opt/ holds the loop-nest optimizations applied to the typed tree at opt_level >= 2; adprep.py,
on its own, prepares a typed program for reverse-mode differentiation (the count and replay
variants of `while` loops), for the driver to call after `build_program`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tir import Program


def build_program(func: Any, ad: bool = False, optimize: bool = False,
                  outline: bool = True, checks: Any = None) -> Program:
    """Type `func` and every kernel it calls (see infer.py); imported lazily, so that loading
    a kernel from the disk cache never pays for the typer's import."""
    from .infer import build_program as build

    return build(func, ad, optimize, outline, checks)


__all__ = ["build_program"]
