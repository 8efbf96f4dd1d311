"""`custom_jvp`: a kernel with a user-written derivative rule, itself an Ember kernel.

    @ember.custom_jvp
    @ember.kernel
    def safe_log(x: float) -> float:
        return math.log(max(x, 1e-300))

    @safe_log.defjvp
    def safe_log_jvp(x: float, dx: float) -> float:
        return dx / max(x, 1e-300)

The rule takes the kernel's parameters, then one tangent per float parameter in order (a
float scalar's tangent is a scalar of its type; a float array's an array of its type and
shape; integer and bool parameters have none), and returns the tangent of the result (an
array for an array result). For a float array the kernel WRITES (an out-parameter), the
tangent argument is a zeroed array the rule writes the out-tangent into (the incoming values
of that array reach the rule as its primal argument; their own derivative flows through the
kernel's code). A kernel returning None has a rule returning None.

The rule must be LINEAR in the tangents (sums of tangents scaled by tangent-free values,
sum/mean reductions, products with one tangent operand, branches on tangent-free conditions):
derivative builds substitute `f(x)` by `f(stop(x)) + jvp(stop(x), x - stop(x))`
(frontend/customrules.py), which forward mode differentiates directly and reverse mode by
transposing the rule, and which would drop a nonlinear term, so one (`dx * dx`, `abs(dx)`,
`if dx > 0`) is a CompileError at that expression (frontend/linearity.py); so is a rule
whose signature does not match. Calls of the kernel from other kernels' derivatives (grad,
jvp, vjp, and second order) and derivatives of the kernel itself use the rule; primal builds
and plain Python calls run the kernel unchanged. The rule is part of the disk-cache key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..frontend.customrules import RULE
from .kernel import Kernel, kernel


class CustomJVP(Kernel):
    """A kernel with a custom jvp rule; call it like the kernel, attach the rule with
    `@f.defjvp` (the rule is compiled as a kernel too)."""

    jvp: Kernel | None = None

    def defjvp(self, rule: Callable[..., Any]) -> Kernel:
        """Attach `rule` (a function or kernel) as this kernel's jvp; returns it as a kernel."""
        k = rule if isinstance(rule, Kernel) else kernel(rule)
        setattr(self.py_func, RULE, k.py_func)
        self.jvp = k
        return k

    def __repr__(self) -> str:
        return f"<ember.custom_jvp {self.__qualname__}>"


def custom_jvp(f: Callable[..., Any]) -> CustomJVP:
    """`@custom_jvp` over a kernel (or a plain function, compiled as one): a `CustomJVP`."""
    k = f if isinstance(f, Kernel) else kernel(f)
    if isinstance(k, CustomJVP):
        return k
    return CustomJVP(k.py_func, k.options)
