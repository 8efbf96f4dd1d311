"""Second order: Enzyme's forward mode over the reverse derivative (Hessian-vector products).

Input: the module of a reverse derivative (lowering/enzyme.differentiate's output, run 1) and
a `ForwardSpec` naming its entry, the activity of each of its arguments and of each of its
results. Output: the module with a new entry `@<spec.entry>` that calls Enzyme's forward
derivative of that gradient function (run 2): the tangent of the gradient along a direction
is a Hessian-vector product.

Forward-over-reverse, not reverse-over-forward: one forward sweep over the gradient costs
about two gradients and reuses the reverse derivative exactly as `grad` builds it (same
guards, tape optimizations and error messages), and forward mode keeps no second tape. Enzyme
0.0.16 cannot do it in one pipeline (its forward pass meets the reverse's cache push/pop:
"could not compute the adjoint for this operation enzyme.push"), so it takes two runs, and
before the second (`prepare_forward`):
* the `memref.dealloc`s of run 1's caches go (forward mode has no rule for them; gradient
  libraries allocate through the per-call arena, which frees them at the end of the call);
* `ember.zero_fill`s (shadow zeroing) become loops, as after every Enzyme run;
* complex adjoints become arithmetic on their parts (complexes.py; refused where the tape
  keeps complex numbers in arrays);
* ops Enzyme's forward mode has no rule for (erf, tan, sinh, atan2, hypot, abs, copysign, ...:
  run 1 folded away the stop-gradients of ir/adrules.py's forms) take those forms again;
* the guards of lowering/enzyme.GUARDS run again: Enzyme's reverse loops carry adjoints that
  nobody reads after the loop, which forward mode would map one slot off (silently wrong:
  ../shared/TOOLCHAIN-AD.md sections 0 and 2).
After it, the `enzyme.placeholder`s Enzyme leaves for tangents it did not compute become
marked NaNs; the dead ones disappear in the lowering, and a build whose LLVM IR still holds a
mark is refused (`check_computed`), never run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as m
from mlir.passmanager import PassManager

from .. import types as T
from ..errors import CompileError
from ..ir import adrules
from ..ir.context import ops_where
from ..ir.ops import LIBM
from ..ir.types import contiguous_memref_type, to_mlir_type
from . import complexes, rewrites
from .enzyme import (
    GUARDS,
    PIPELINE,
    ADSpec,
    _enzyme_error,
    _point_at,
    _postprocess,
    _worker,
)

Then: TypeAlias = Callable[[ir.Module, ADSpec], ir.Module]
"""A transformation of a reverse derivative's module (of the entry `ADSpec`) before it is
lowered: driver/cpu.lowered_derivative's `then`."""

ACTIVITIES: Final = ("dup", "const", "dupnoneed", "constnoneed")
"""Of an argument: dup (with a tangent) or const; of a result dupnoneed (its tangent only) or
constnoneed (nothing)."""


@dataclass(frozen=True)
class ForwardSpec:
    """The run-2 entry `entry`: Enzyme's forward derivative of function `fn`."""

    entry: str
    fn: str
    params: tuple[tuple[str, str], ...]
    """Per argument of `fn`: (MLIR type, 'dup' | 'const'); a dup one is followed by its
    tangent in `entry`'s arguments."""
    results: tuple[tuple[str, str], ...]
    """Per result of `fn`: (MLIR type, 'dupnoneed': `entry` returns its tangent |
    'constnoneed': nothing)."""


def prepare_forward(module: ir.Module) -> None:
    """Make run 1's output fit for forward mode (see the module docstring)."""
    for op in ops_where(module.operation, lambda op: op.name == "memref.dealloc"):
        op.erase()
    rewrites.lower_deallocs(module)  # run 1 left only ember.zero_fill placeholders
    stuck = complexes.prepare(module, reverse=False)  # complex adjoints: arith on the parts
    if stuck:
        error = CompileError("cannot compute a second derivative through this complex value: "
                             "its gradient keeps complex numbers in arrays (Enzyme 0.0.16 has "
                             "no forward rule for them)")
        _point_at(error, stuck)
        raise error.with_note("compute with the real and imaginary parts as floats; grad, "
                              "jvp and vjp of this kernel work")
    rule_forms(module)
    for guard in GUARDS:
        guard(module)


def _sign(x: ir.Value) -> ir.Value:
    return m.copysign(arith.constant(x.type, ir.FloatAttr.get(x.type, 1.0)), x)


_RULES: Final[dict[str, adrules.Rule]] = {
    **adrules.RULES,
    # the sign of copysign(a, b) is piecewise constant: d/da = sign(a) * sign(b), d/db = 0
    "copysign": lambda xs, v: [arith.mulf(_sign(xs[0]), _sign(xs[1])), None],
    "absf": lambda xs, v: [_sign(xs[0])],
}
"""Ops Enzyme has no forward rule for that a reverse derivative may compute on active values
(run 1 folds the stop-gradients of ir/adrules.py's forms away): by MLIR op or libm name."""
_NAMES: Final = {**{f"math.{n}": n for n in _RULES if hasattr(m, n)},
                 **{name: op for op, (f64, f32, _) in LIBM.items() if op in _RULES
                    for name in (f64, f32)}}


def _ruled(op: ir.Operation) -> str | None:
    if op.name == "func.call":
        return _NAMES.get(ir.FlatSymbolRefAttr(op.attributes["callee"]).value)
    return _NAMES.get(op.name)


def rule_forms(module: ir.Module) -> None:
    """Each op of `_NAMES` becomes `f(sg(x)) + sum_i f_i'(sg(x)) * (x_i - sg(x_i))` (as in
    ir/adrules.py): Enzyme's forward mode differentiates the linear terms."""
    for op in ops_where(module.operation, lambda o: _ruled(o) is not None):
        name = _ruled(op)
        assert name is not None
        with ir.InsertionPoint(op), op.location:
            args = list(op.operands)
            stopped = [adrules.stop_gradient(a) for a in args]
            clone = op.clone()
            for k, value in enumerate(stopped):
                clone.operands[k] = value
            result = clone.results[0]
            for arg, sg, partial in zip(args, stopped, _RULES[name](stopped, result),
                                        strict=True):
                if partial is not None:
                    result = arith.addf(result, arith.mulf(partial, arith.subf(arg, sg)))
        op.results[0].replace_all_uses_with(result)
        op.erase()


def _activity(name: str) -> str:
    return f"#enzyme<activity<enzyme_{name}>>"


def _wrapper(spec: ForwardSpec) -> str:
    """The entry function calling enzyme.fwddiff, in generic op form."""
    args, operands, types = [], [], []
    for k, (ty, act) in enumerate(spec.params):
        for prefix in ("a", "t")[:2 if act == "dup" else 1]:
            args.append(f"%{prefix}{k}: {ty}")
            operands.append(f"%{prefix}{k}")
            types.append(ty)
    results = [ty for ty, a in spec.results if a != "constnoneed"]
    acts = ", ".join(_activity(a) for _, a in spec.params)
    rets = ", ".join(_activity(a) for _, a in spec.results)
    names = ", ".join(f"%r#{k}" for k in range(len(results)))
    call = (f'"enzyme.fwddiff"({", ".join(operands)}) <{{fn = @{spec.fn}, activity = [{acts}], '
            f'ret_activity = [{rets}]}}> : ({", ".join(types)}) -> ({", ".join(results)})')
    lines = [f"  func.func @{spec.entry}({', '.join(args)}) -> ({', '.join(results)}) {{"]
    if results:
        lines += [f"    %r:{len(results)} = {call}", f"    func.return {names} : "
                  f"{', '.join(results)}"]
    else:
        lines += [f"    {call}", "    func.return"]
    return "\n".join([*lines, "  }"])


def forward_over(module: ir.Module, spec: ForwardSpec) -> tuple[ir.Module, list[str]]:
    """Run 2: `module` (run 1's output, prepared in place) with the entry of `spec` added and
    differentiated, parsed into the current context; and where Enzyme left placeholders."""
    prepare_forward(module)
    text = module.operation.get_asm(enable_debug_info=True)
    end = text.rindex("\n}")  # the module's closing brace (location aliases follow)
    text = text[:end] + "\n" + _wrapper(spec) + text[end:]
    try:
        out = _worker().run(text, PIPELINE)
    except Exception as exc:  # ValueError with Enzyme's diagnostics, or a crash
        error: CompileError = _enzyme_error(str(exc))
        raise error.with_note("while differentiating the gradient again (forward mode, for "
                              "a second derivative)") from None
    derived = ir.Module.parse(_postprocess(out))
    return derived, _mark_placeholders(derived)


_MARKS: Final = {64: (0x7FF8DEADBEEF0001, "0x7FF8DEADBEEF0001"),
                 32: (0x7FC0BEEF, "0x7FF817DDE0000000")}
"""NaNs with a payload nothing else has (bits; as LLVM IR prints them): the stand-ins of
Enzyme's placeholders."""


def _mark_placeholders(module: ir.Module) -> list[str]:
    """Enzyme's forward mode leaves `enzyme.placeholder`s for the tangents of some `scf.if`
    results of a reverse derivative (loops with `break`, `while` loops) that nothing needs:
    each becomes a marked NaN that the lowering's clean-ups erase with the dead values; one
    left in the LLVM IR (`check_computed`) is a value Enzyme failed to compute."""
    found = ops_where(module.operation, lambda o: o.name == "enzyme.placeholder")
    where = [str(op.location) for op in found]
    for op in found:
        t = op.results[0].type
        if not isinstance(t, ir.FloatType) or t.width not in _MARKS:
            _uncomputed(where)
        with ir.InsertionPoint(op), op.location:
            bits = arith.constant(ir.IntegerType.get_signless(t.width), _MARKS[t.width][0])
            op.results[0].replace_all_uses_with(arith.bitcast(t, bits))
        op.erase()
    if found:  # inlined, the tangents nobody reads are dead within one function
        PassManager.parse("builtin.module(inline,canonicalize)").run(module.operation)
        for loop in ops_where(module.operation, lambda o: o.name == "scf.for"):
            _cut_dead_carried(loop)
        PassManager.parse("builtin.module(canonicalize)").run(module.operation)
    return where


def _cut_dead_carried(loop: ir.Operation) -> None:
    """Each value `loop` carries only into itself (its result unused but by dead arithmetic;
    in the body only passed on by selects and the yields of `scf.if`s back to its own yield)
    is yielded unchanged, so that canonicalization removes it (it keeps such cycles)."""
    body = loop.regions[0].blocks[0]
    yielded = list(body.operations)[-1]
    for k, result in enumerate(loop.results):
        argument = body.arguments[1 + k]
        if rewrites._unused(result) and _only_carried(argument, loop, k):
            yielded.operands[k] = argument


def _only_carried(value: ir.Value, loop: ir.Operation, k: int) -> bool:
    for use in value.uses:
        owner = use.owner.operation
        parent = owner.parent.operation
        if owner.name == "arith.select" and use.operand_number > 0:
            passed_on = owner.results[0]  # one of the two choices
        elif owner.name != "scf.yield":
            return False
        elif parent == loop.operation:
            if use.operand_number != k:
                return False
            continue
        elif parent.name == "scf.if":
            passed_on = parent.results[use.operand_number]
        else:
            return False
        if not _only_carried(passed_on, loop, k):
            return False
    return True


def check_computed(llvm_ir: str, where: list[str]) -> None:
    """Refuse the LLVM IR of a second derivative that still uses a placeholder's NaN."""
    if where and any(text in llvm_ir for _, text in _MARKS.values()):
        _uncomputed(where)


def _uncomputed(where: list[str]) -> None:
    error = CompileError("cannot compute the second derivative here: Enzyme 0.0.16's forward "
                         "mode fails on the reverse derivative of this code (a value of its "
                         "tangent is left uncomputed)")
    _point_at(error, where)  # type: ignore[arg-type]
    raise error.with_note("grad, jvp and vjp of this kernel work; for a Hessian, jacfwd of "
                          "its grad by finite differences of the gradient is a workaround")


def _mlir(t: T.Type) -> str:
    return str(contiguous_memref_type(t) if isinstance(t, T.Array) else to_mlir_type(t))


class ForwardTransform:
    """The `Then` adding `entry`: the forward derivative of the reverse entry it is given,
    with these activities of its arguments and results (`ForwardSpec`); `placeholders`: where
    Enzyme left values uncomputed (for `check_computed`)."""

    def __init__(self, entry: str, args: tuple[tuple[T.Type, str], ...],
                 results: tuple[tuple[T.Type, str], ...]) -> None:
        self.entry, self.args, self.results = entry, args, results
        self.placeholders: list[str] = []

    def __call__(self, module: ir.Module, first: ADSpec) -> ir.Module:
        spec = ForwardSpec(self.entry, first.entry, tuple((_mlir(t), a) for t, a in self.args),
                           tuple((_mlir(t), a) for t, a in self.results))
        derived, self.placeholders = forward_over(module, spec)
        return derived
