"""Second-order derivatives: plan and compile the forward derivative of a kernel's gradient.

Input: a kernel and a `SecondRequest` (the parameters whose gradient is differentiated, `out`,
and those along which it is, `dirs`; both are `wrt` for `hvp`/`hessian`). Output: a library
whose entry `ek_<name>` computes the tangents of the gradients of `out`
along a direction in `dirs`, a Hessian-vector product (lowering/secondorder.py runs Enzyme's
forward mode over the reverse derivative that driver/cpu.py's derivative path builds, through
its `then` hook; the thunks, the trip-counting primal of while loops, the tape arena and the
disk cache are that path's).

The entry's arguments are those of the gradient entry (`Plan.params`: primal arguments,
shadow buffers, the seed), each differentiable one followed by its tangent (`tangent_name`):
* a float array is dup if it is a direction or the kernel writes it (its elements may come to
  depend on a direction), else const; every shadow buffer is dup (the tangent of a gradient
  buffer is where H·v lands);
* a float scalar is dup if it is a direction, else const; the seed and integers are const.
Results: the tangent of each gradient of a scalar in `out` (not the kernel's value: Enzyme
0.0.16 may map the value of a while loop's replay one result off, `ForwardTransform`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import types as T
from ..frontend import tir
from ..options import CompileOptions
from .derivatives import Plan, Request, _no_parameter, plan, shadow_name

if TYPE_CHECKING:
    from ..frontend.adprep import Prepared
    from ..lowering.secondorder import ForwardTransform
    from ..runtime.abi import Signature
    from .cpu import CompiledDerivative


@dataclass(frozen=True)
class SecondRequest:
    out: tuple[str, ...]
    """The parameters whose gradient is differentiated (flat names)."""
    dirs: tuple[str, ...]
    """The parameters along which it is differentiated (flat names)."""

    def key(self) -> str:
        return f"second|{','.join(self.out)}|{','.join(self.dirs)}"


@dataclass(frozen=True)
class SecondPlan:
    first: Plan
    """The gradient (run 1)."""
    request: SecondRequest
    args: tuple[tuple[str, T.Type, str], ...]
    """(name, type, 'dup' | 'const') per argument of the gradient entry."""
    params: tuple[tuple[str, T.Type], ...]
    """The parameters of the second-order entry."""
    results: tuple[T.Type, ...]
    """The tangents of the gradients of the scalars in `out` (the gradient entry's results
    but the kernel's value)."""

    @property
    def entry_ret(self) -> T.Type:
        return T.Tuple(self.results) if self.results else T.none


def tangent_name(name: str) -> str:
    return f"__t_{name}"


def _is_float(t: T.Type) -> bool:
    dtype = t.dtype if isinstance(t, T.Array) else t
    return isinstance(dtype, T.Scalar) and dtype.is_float


def _check(fn: tir.Function, req: SecondRequest) -> None:
    if not (isinstance(fn.ret, T.Scalar) and fn.ret.is_float):
        raise TypeError(f"second derivatives (hvp, hessian) need a kernel that returns a "
                        f"float scalar; '{fn.name}' returns {fn.ret}")
    params = dict(fn.params)
    for name in req.dirs:
        if name not in params:
            raise TypeError(_no_parameter(fn, name))
        if not _is_float(params[name]):
            raise TypeError(f"cannot differentiate '{fn.name}' with respect to '{name}': it "
                            f"is {params[name]}; integer and bool parameters are constants")


def _activity(name: str, t: T.Type, fn: tir.Function, dirs: tuple[str, ...]) -> str:
    if not _is_float(t) or name == "__seed":
        return "const"
    if name.startswith(shadow_name("")) or name in dirs:
        return "dup"
    return "dup" if isinstance(t, T.Array) and name in fn.written else "const"


def second_plan(fn: tir.Function, req: SecondRequest) -> SecondPlan:
    """The second-order entry of `fn` for `req` (TypeError on a bad request)."""
    _check(fn, req)
    first = plan(fn, Request("reverse", req.out))
    if first.groups:
        raise TypeError("second derivatives with respect to a tuple parameter are not "
                        "supported: name its items (e.g. wrt='t_0')")
    args = tuple((n, t, _activity(n, t, fn, req.dirs)) for n, t in first.params)
    params: list[tuple[str, T.Type]] = []
    for name, t, act in args:
        params += [(name, t), (tangent_name(name), t)] if act == "dup" else [(name, t)]
    return SecondPlan(first, req, args, tuple(params), first.results[1:])


def _forward(sp: SecondPlan, entry: str) -> ForwardTransform:
    """driver/cpu.lowered_derivative's `then`: run 2 on the gradient module."""
    from ..lowering.secondorder import ForwardTransform

    assert sp.first.result_type is not None
    return ForwardTransform(entry, tuple((t, a) for _, t, a in sp.args),
                            ((sp.first.result_type, "constnoneed"),
                             *((t, "dupnoneed") for t in sp.results)))


@dataclass(frozen=True)
class CompiledSecond:
    compiled: CompiledDerivative
    """driver/cpu.CompiledDerivative: main (the entry), count (while loops), loops."""
    plan: SecondPlan


def compile_second(func: Callable[..., object], req: SecondRequest,
                   options: CompileOptions) -> CompiledSecond:
    """Compile (or load) the second-order entry of kernel `func` for `req`."""
    from ..frontend import build_program
    from ..frontend.adprep import prepare_reverse
    from ..runtime import cache
    from ..runtime.abi import Signature
    from . import COMPILE_LOCK
    from .cachekey import cache_key
    from .cpu import _derivative, count_signature

    with COMPILE_LOCK, cache.Claim() as claim:
        prep = prepare_reverse(build_program(func, ad=True, checks=options))
        fn = prep.replay.functions[prep.replay.entry]
        sp = second_plan(fn, req)
        name = f"{fn.name}_second"
        sig = Signature(sp.params, sp.entry_ret, frozenset(n for n, _ in sp.params))
        count_sig = count_signature(prep)
        key = hashlib.sha256(f"{cache_key(func, options)}|{req.key()}".encode()).hexdigest() \
            if options.cache else None
        hit = claim.lookup(key) if key else None
        if hit is not None:
            return CompiledSecond(_derivative(name, sig, count_sig, prep.loops, sp.first,
                                              hit[0], True), sp)
        with tempfile.TemporaryDirectory(prefix="ember-") as tmp:
            path = os.path.join(tmp, f"{name}.so")
            _build(prep, sp, name, sig, count_sig, options, path)
            if key:
                path = cache.store(key, path, cache.Meta("derivative", name))
            return CompiledSecond(_derivative(name, sig, count_sig, prep.loops, sp.first,
                                              path, False), sp)


def lowered_second(prep: Prepared, sp: SecondPlan, name: str, optimize: bool) -> str:
    """LLVM IR of the second-order entry `ek_<name>` (without thunks): the reverse
    derivative, then Enzyme's forward mode over it; refused where a tangent was left
    uncomputed (lowering/secondorder.check_computed). Shared by the JIT and `ember build`."""
    from ..errors import CompileError
    from ..lowering.secondorder import check_computed
    from .cpu import _locate, lowered_derivative

    forward = _forward(sp, f"ek_{name}")
    try:
        lowered = lowered_derivative(prep, sp.first, f"{name}_grad", optimize, then=forward)
        check_computed(lowered, forward.placeholders)
    except CompileError as err:
        raise _locate(err, prep.replay) from None
    return lowered


def _build(prep: Prepared, sp: SecondPlan, name: str, sig: Signature,
           count_sig: Signature | None,
           options: CompileOptions, path: str) -> None:
    from ..runtime import native
    from ..runtime.raising import runtime_objects
    from .cpu import derivative_thunks

    lowered = lowered_second(prep, sp, name, options.optimize_loops)
    ir_text = native.prepare_ir(lowered, derivative_thunks(prep, name, sig, count_sig))
    mod = native.optimize(ir_text, speed=options.opt_level, derivative=True)
    native.link_shared([native.emit_object(mod), *runtime_objects(ir_text)], path,
                       native.libraries(ir_text))
