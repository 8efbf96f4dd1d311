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

from dataclasses import dataclass

from .. import types as T
from ..frontend import tir
from ..runtime.derivcall import DerivativeInfo

RETURN = "return"


@dataclass(frozen=True)
class Request:
    mode: str
    """'reverse' (grad, value_and_grad, vjp) or 'forward' (jvp)."""
    wrt: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    """vjp/jvp outputs: names of written array parameters, and/or 'return'."""

    def key(self) -> str:
        return f"{self.mode}|{','.join(self.wrt)}|{','.join(self.outputs)}"


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

    @property
    def entry_ret(self) -> T.Type:
        return T.Tuple(self.results) if self.results else T.none


def shadow_name(name: str) -> str:
    return f"__d_{name}"


def _is_float(t: T.Type) -> bool:
    if isinstance(t, T.Array):
        return t.dtype.is_float
    return isinstance(t, T.Scalar) and t.is_float


def _activity(name: str, t: T.Type, fn: tir.Function, req: Request) -> str:
    if name in req.wrt and not _is_float(t):
        raise TypeError(f"cannot differentiate '{fn.name}' with respect to '{name}': it is "
                        f"{t}; integer and bool parameters are constants")
    if isinstance(t, T.Array):
        active = name in req.wrt or name in req.outputs or name in fn.written
        return "dup" if active and _is_float(t) else "const"
    return "active" if name in req.wrt else "const"


def _result(fn: tir.Function, req: Request) -> T.Scalar | None:
    ret = fn.ret
    if isinstance(ret, T.Scalar) and ret.is_float:
        return ret
    if not isinstance(ret, T.NoneType):
        raise TypeError(f"cannot differentiate '{fn.name}': it returns {ret}; derivatives need "
                        "a float (or no) result, with array outputs written into parameters")
    if RETURN in req.outputs:
        raise TypeError(f"'{fn.name}' has no float result to differentiate")
    return None


def plan(fn: tir.Function, req: Request) -> Plan:
    """The derivative entry point of `fn` for `req` (raises TypeError on a bad request)."""
    for name in (*req.wrt, *req.outputs):
        if name != RETURN and name not in dict(fn.params):
            raise TypeError(f"'{fn.name}' has no parameter '{name}'")
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
    return Plan(req, acts, tuple(params), tuple(results), frozenset(fn.written | shadows),
                result)


def describe(plan_: Plan, name: str, kind: str, single: bool, loops: int,
             count_written: frozenset[str], written: frozenset[str]) -> DerivativeInfo:
    """The plain-data description a derivative's call path needs (runtime/derivcall.py)."""
    req = plan_.request
    return DerivativeInfo(name, kind, req.wrt, single, req.outputs,
                          tuple((n, a) for n, _, a in plan_.activities),
                          plan_.result_type is not None, loops, tuple(sorted(count_written)),
                          tuple(sorted(written)))
