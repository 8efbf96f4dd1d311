"""What the rule modules (exprs.py, stmts.py, matmul.py, raising.py) use of the emitter.

`emitter.Emitter` dispatches each typed node to a rule in those modules, and each rule calls
back into the emitter. The rules see it through this protocol, so they import nothing from
emitter.py and the imports point one way: emitter.py -> rules -> protocols.py.
"""

from __future__ import annotations

from typing import Any, Protocol

from mlir import ir

from .. import types as T
from ..frontend import tir


class Emitter(Protocol):
    """The emitter state and helpers that statement and expression rules build on."""

    ad: bool
    """Whether the code is prepared for Enzyme (derivative rules for the math ops)."""
    env: dict[str, Any]
    """SSA environment: variable name -> value (a tuple of values for tuple variables)."""
    plain_loops: bool
    """Mark every loop cold (see tir.For.cold) while emitting the current function."""

    def block(self, body: tuple[tir.Stmt, ...]) -> None: ...

    def expr(self, e: tir.Expr) -> Any: ...

    def flatten(self, names: tuple[tuple[str, T.Type], ...]) -> list[ir.Value]: ...

    def conform(self, values: list[ir.Value], t: T.Type) -> list[ir.Value]: ...

    def bind(self, names: tuple[tuple[str, T.Type], ...], values: Any) -> None: ...

    def zeros(self, t: T.Type) -> list[ir.Value]: ...

    def extern(self, name: str, inputs: list[ir.Type], results: list[ir.Type]) -> str: ...

    def libm(self, name: str, arity: int, mt: ir.Type) -> str: ...

    def index(self, value: ir.Value) -> ir.Value: ...

    def dim(self, array: ir.Value, axis: int) -> ir.Value: ...
