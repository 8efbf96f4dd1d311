"""The typer's explicit state: one `Scope` per kernel being typed.

Holds the variable types found so far, where each variable was first assigned (for conflict
notes), the lower bounds of integer variables (to skip negative-index wrap-around), the array
parameters the kernel writes, and access to the program builder for calls to other kernels.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import Span
from ..options import CompileOptions
from ..types import Type
from . import tir
from .source import Source


class Pending(Exception):
    """A variable's type is not known yet (raised only while inference iterates)."""


class Callees(Protocol):
    """What the typer uses of the program builder (infer._ProgramBuilder)."""

    functions: dict[str, tir.Function]
    """Every typed kernel of the program by symbol; outlined parallel workers are added here."""
    outline: bool
    """Whether prange loops are outlined into workers (False: the GPU target maps them)."""
    checks: CompileOptions | None
    """Run-time checks to insert (boundscheck, error_model), or None."""

    def signature(self, func: Any, span: Span | None,
                  none: tuple[str, ...] | None = None) -> tir.Function:
        """The typed `Function` of kernel `func`, typing it first if needed; `none` names its
        Optional parameters that are None (None: those whose default is None)."""
        ...

    def specialize(self, func: Any, params: list[tuple[str, Type]],
                   span: Span | None, pin: Span | None = None) -> tir.Function:
        """The typed `Function` of the generic (unannotated) prelude function `func` for
        parameters of types `params`, typing it once per distinct list (ember/prelude), and
        per call site `pin` if given (every span of the copy is `pin`: source.PinnedSource)."""
        ...

    def site(self, site: tir.Site) -> int:
        """The index of `site` in the program's site table (tir.Program.sites)."""
        ...


@dataclass
class Scope:
    src: Source
    callees: Callees
    params: dict[str, Type]
    vars: dict[str, Type] = field(default_factory=dict)
    declared: dict[str, Type] = field(default_factory=dict)
    """Annotated variables (parameters, `x: f32 = ...`): their type is fixed."""
    first_assigned: dict[str, Span] = field(default_factory=dict)
    assigned: set[str] = field(default_factory=set)
    """Every name the function assigns (so it is a local, even before typing)."""
    lower_bounds: dict[str, int] = field(default_factory=dict)
    nonneg_indices: set[ast.expr] = field(default_factory=set)
    """Subscript index nodes that enclosing range loops prove >= 0 (loopbounds.py)."""
    written: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)
    """Array variable -> the parameter it may alias."""
    alias_sets: dict[str, frozenset[str]] = field(default_factory=dict)
    """Variable -> the several arrays it may be (tuples, call results; frontend/aliasing.py)."""
    alias_edges: dict[str, set[str]] = field(default_factory=dict)
    """Variable -> the variables whose arrays were ever assigned to it (aliasing.written)."""
    stored: set[str] = field(default_factory=set)
    """Variables stored through (or passed to a callee that writes them)."""
    constants: dict[str, tir.GlobalArray] = field(default_factory=dict)
    """Module-level arrays the kernel reads, by the read-only variable bound to each
    (frontend/constants.py)."""
    final: bool = False
    """False while inference iterates: unknown variable types raise Pending."""

    def var_type(self, name: str) -> Type | None:
        return self.declared.get(name) or self.vars.get(name)
