"""Derivative planning: which arguments Enzyme sees as active, duplicated or constant.

Input: the typed entry `Function` of a kernel and a `Request` (mode, wrt, outputs). Output: a
`Plan`: the Enzyme activities (lowering/enzyme.py), the parameter list of the derivative entry
point (primal parameters, interleaved with shadow buffers, then the seed) and its results.

Rules, chosen so a gradient is never silently wrong:
* a float array is duplicated (given a shadow) if it is differentiated, is an output, or is
  written by the kernel (it may carry intermediate values); read-only inputs are constant;
* a float scalar is active if differentiated, constant otherwise (scalars are passed by value);
* integer and bool parameters are constants; differentiating with respect to one is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import types as T
from ..binding import Binding
from ..frontend import tir
from ..runtime.derivcall import DerivativeInfo

RETURN = "return"
CHECKPOINTS = ("binomial",)
"""The `checkpoint=` schemes (lowering/checkpointing.PIPELINE has a row for each)."""
SNAPSHOTS = 0
"""Default `snapshots=`: chosen per time loop (lowering/checkpointing.default_snapshots)."""


@dataclass(frozen=True)
class Request:
    mode: str
    """'reverse' (grad, value_and_grad, vjp) or 'forward' (jvp)."""
    wrt: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    """vjp/jvp outputs: names of written array parameters, and/or 'return'."""
    checkpoint: str | None = None
    """Checkpointing scheme of the time loops (lowering/checkpointing.py), or None."""
    snapshots: int = 0
    """Snapshots the scheme keeps (with `checkpoint`; 0: each loop's default)."""
    jacobian: bool = False
    """jvp/vjp builds of `jacfwd`/`jacrev`: also the native Jacobian loop (driver/jacentry.py)."""
    broadcast: tuple[str, ...] = ()
    """Read-only array parameters the entry also takes as one block repeated along axis 0
    with stride 0 (runtime/thunk.py `entry_thunk`): `vmap(grad(f))`'s unbatched `wrt`."""

    def key(self) -> str:
        key = f"{self.mode}|{','.join(self.wrt)}|{','.join(self.outputs)}"
        key += "|jacobian" if self.jacobian else ""
        key += f"|broadcast:{','.join(self.broadcast)}" if self.broadcast else ""
        return key + (f"|{self.checkpoint}:{self.snapshots}" if self.checkpoint else "")


@dataclass(frozen=True)
class Plan:
    request: Request
    activities: tuple[tuple[str, T.Type, str], ...]
    """(name, type, activity) per primal parameter."""
    params: tuple[tuple[str, T.Type], ...]
    """Parameters of the derivative entry point."""
    results: tuple[T.Type, ...]
    written: frozenset[str]
    result_type: T.Scalar | None
    """The kernel's float result (active/dup), or None."""
    binding: Binding | None = None
    """How Python arguments bind to the kernel's flat parameters (None: positionally)."""
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(name, items) per `wrt` name given when one was a tuple parameter (its gradient is a
    tuple of its items'), else empty."""

    @property
    def entry_ret(self) -> T.Type:
        return T.Tuple(self.results) if self.results else T.none


def shadow_name(name: str) -> str:
    return f"__d_{name}"


def checkpointing(kind: str, checkpoint: object, snapshots: object) -> tuple[str | None, int]:
    """The (scheme, snapshots) of `grad(..., checkpoint=, snapshots=)` for derivative `kind`,
    validated: (None, 0) without checkpointing."""
    if checkpoint is None:
        if snapshots is not None:
            raise ValueError("snapshots= needs checkpoint= (e.g. checkpoint='binomial')")
        return None, 0
    if kind == "jvp":
        raise TypeError("jvp() does not take checkpoint=: forward mode keeps no tape (it "
                        "applies to grad, value_and_grad and vjp)")
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint={checkpoint!r}; choose one of "
                         f"{', '.join(map(repr, CHECKPOINTS))}")
    if snapshots is None:
        return str(checkpoint), SNAPSHOTS
    count = snapshots
    if not isinstance(count, int) or isinstance(count, bool):
        raise TypeError(f"snapshots must be an int, not {type(count).__name__}")
    if count < 2:
        raise ValueError(f"snapshots must be at least 2, got {count}")
    return str(checkpoint), count


def _is_float(t: T.Type) -> bool:
    if isinstance(t, T.Array):
        return t.dtype.is_float
    return isinstance(t, T.Scalar) and t.is_float


def _is_complex(t: T.Type) -> bool:
    dtype = t.dtype if isinstance(t, T.Array) else t
    return isinstance(dtype, T.Scalar) and dtype.is_complex


def _activity(name: str, t: T.Type, fn: tir.Function, req: Request) -> str:
    if name in req.wrt and _is_complex(t):
        raise TypeError(f"cannot differentiate '{fn.name}' with respect to complex parameter "
                        f"'{name}' ({t}): Ember differentiates with respect to real inputs "
                        "only (JAX's convention for complex inputs differs from others); pass "
                        "the real and imaginary parts as float parameters")
    if name in req.outputs and _is_complex(t):
        raise TypeError(f"cannot differentiate '{fn.name}' with complex output '{name}' "
                        f"({t}): derivatives need float outputs; write the real and imaginary "
                        "parts into float arrays")
    if name in req.wrt and not _is_float(t):
        raise TypeError(f"cannot differentiate '{fn.name}' with respect to '{name}': it is "
                        f"{t}; integer and bool parameters are constants")
    if isinstance(t, T.Array):
        active = name in req.wrt or name in req.outputs or name in fn.written
        # a complex array the kernel writes carries derivatives (shadowed, never a wrt)
        written = _is_complex(t) and name in fn.written
        return "dup" if active and (_is_float(t) or written) else "const"
    return "active" if name in req.wrt else "const"


def _result(fn: tir.Function, req: Request) -> T.Scalar | None:
    ret = fn.ret
    if isinstance(ret, T.Scalar) and ret.is_float:
        return ret
    if not isinstance(ret, T.NoneType):
        raise TypeError(f"cannot differentiate '{fn.name}': it returns {ret}; derivatives need "
                        "a float (or no) result, with array outputs written into parameters "
                        "(jvp, vjp, jacfwd and jacrev also take array and tuple results)")
    if RETURN in req.outputs:
        raise TypeError(f"'{fn.name}' has no float result to differentiate")
    return None


def plan(fn: tir.Function, req: Request) -> Plan:
    """The derivative entry point of `fn` for `req` (raises TypeError on a bad request); a
    tuple parameter in `wrt` stands for its items (`Plan.groups`)."""
    groups = _groups(fn, req.wrt)
    req = replace(req, wrt=tuple(n for _, items in groups for n in items))
    for name in (*req.wrt, *req.outputs):
        if name != RETURN and name not in dict(fn.params):
            raise TypeError(_no_parameter(fn, name))
    result = _result(fn, req)
    acts = tuple((n, t, _activity(n, t, fn, req)) for n, t in fn.params)
    params: list[tuple[str, T.Type]] = []
    for name, t, act in acts:
        params.append((name, t))
        if act == "dup" or (act == "active" and req.mode == "forward"):
            params.append((shadow_name(name), t))
    results: list[T.Type] = []
    if req.mode == "reverse":
        if result is not None:
            params.append(("__seed", result))
            results.append(result)
        results += [t for _, t, act in acts if act == "active"]
    elif result is not None:
        results += [result, result]
    shadows = {n for n, _ in params if n.startswith("__d_")}
    binding = fn.binding if fn.binding is not None and not fn.binding.simple else None
    return Plan(req, acts, tuple(params), tuple(results), frozenset(fn.written | shadows),
                result, binding, groups if any(g != (n,) for n, g in groups) else ())


def _groups(fn: tir.Function, wrt: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, flat names) of each `wrt` name: a tuple parameter's items, else itself."""
    items = {p.name: p.items for p in fn.binding.params if p.items and p.name not in
             fn.binding.none} if fn.binding is not None else {}
    return tuple((n, items.get(n) or (n,)) for n in wrt)


def _no_parameter(fn: tir.Function, name: str) -> str:
    b = fn.binding
    p = next((p for p in b.params if p.name == name), None) if b is not None else None
    if p is not None and p.name in b.none:  # type: ignore[union-attr]
        return (f"cannot differentiate '{fn.name}' with respect to '{name}': it is None in "
                "this call")
    return f"'{fn.name}' has no parameter '{name}'"


def describe(plan_: Plan, name: str, kind: str, single: bool, loops: int,
             count_written: frozenset[str], written: frozenset[str]) -> DerivativeInfo:
    """The plain-data description a derivative's call path needs (runtime/derivcall.py)."""
    req = plan_.request
    return DerivativeInfo(name, kind, req.wrt, single, req.outputs,
                          tuple((n, a) for n, _, a in plan_.activities),
                          plan_.result_type is not None, loops, tuple(sorted(count_written)),
                          tuple(sorted(written)), plan_.binding, plan_.groups)
