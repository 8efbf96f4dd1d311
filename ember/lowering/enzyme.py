"""The Enzyme stage: differentiate a kernel's MLIR with real Enzyme (enzyme-ad's enzyme_call).

Input: the frontend module (primal functions, user locations) and an `ADSpec` saying which
arguments are active, duplicated (with shadow buffers) or constant. Output: MLIR text, parsed
back into the MLIR 22 context, in which `@<entry>` calls Enzyme's derivative of the kernel.

Before every Enzyme run (`prepare_for_enzyme`), callees are inlined, dead code is removed
(`PREPARE`) and the module is guarded against Enzyme 0.0.16's wrong-derivative traps (`GUARDS`,
described in rewrites.py).
enzyme_call.so embeds its own MLIR; it is loaded directly (not through jax) in a worker process
(enzyme_worker.py: an Enzyme crash must not kill the user's process), fed text with the
wrapper in generic op form, and its output is post-processed:
* `enzyme.fill_zero` (zeroing of shadows of local arrays) becomes `ember.zero_fill`, lowered
  to a loop by `rewrites.zero_fills`;
* derivative arithmetic comes out with `fastmath<fast>`; Ember restores IEEE semantics;
* "could not compute the adjoint" failures become CompileErrors at the user's line.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Final

from mlir import ir

from ..errors import CompileError, Span
from . import checkpointing, complexes, paralleladjoint, parallelforms, reshapes, rewrites, views
from .enzyme_worker import Worker
from .temporaries import hoist_allocations

PIPELINE: Final = ",".join((
    "enzyme",                           # generate the derivative functions
    # drop caches whose values are never read back; once before canonicalize too, which
    # folds constant sizes into the types of cached views (memref<1x?xf64>) behind casts
    # that the pass then cannot see through (unlowered enzyme.init; test_creation_grads.py)
    "remove-unnecessary-enzyme-ops",
    "canonicalize",
    "remove-unnecessary-enzyme-ops",
    "flatten-enzyme-caches",            # 2-D caches of nested loops -> plain memref ops
    "canonicalize",
    "cse",
))

_ACTIVITY: Final = {
    "active": "enzyme_active", "dup": "enzyme_dup", "const": "enzyme_const",
    "activenoneed": "enzyme_activenoneed", "dupnoneed": "enzyme_dupnoneed",
}


@functools.cache
def _worker() -> Worker:
    return Worker()


@dataclass(frozen=True)
class ADSpec:
    """One derivative entry point: `entry` calls Enzyme's derivative of `fn`."""

    entry: str
    fn: str
    mode: str
    """'reverse' (enzyme.autodiff) or 'forward' (enzyme.fwddiff)."""
    params: tuple[tuple[str, str, str], ...]
    """Per primal parameter: (name, MLIR type, activity: active | dup | const)."""
    result: str | None
    """MLIR type of the kernel's (scalar) result, or None."""
    ret_activity: str | None
    """Activity of the result: 'active' (reverse), 'dup' (forward) or None."""

    def shadowed(self, activity: str) -> bool:
        """Whether a parameter of `activity` is followed by its shadow (forward mode: a
        differentiated scalar by its tangent)."""
        return activity == "dup" or (activity == "active" and self.mode == "forward")

    def shadows(self) -> frozenset[int]:
        """Positions of the shadow arguments of the derivative function (`_wrapper`'s order)."""
        positions, k = set(), 0
        for _, _, activity in self.params:
            k += 1
            if self.shadowed(activity):
                positions.add(k)
                k += 1
        return frozenset(positions)


def _wrapper(spec: ADSpec) -> str:
    """The entry function calling enzyme.autodiff / enzyme.fwddiff, in generic op form."""
    args, operands, types = [], [], []
    for k, (_, ty, act) in enumerate(spec.params):
        args.append(f"%a{k}: {ty}")
        operands.append(f"%a{k}")
        types.append(ty)
        if spec.shadowed(act):
            args.append(f"%d{k}: {ty}")
            operands.append(f"%d{k}")
            types.append(ty)
    results: list[str] = []
    if spec.mode == "reverse":
        if spec.result is not None and spec.ret_activity:
            args.append(f"%seed: {spec.result}")
            operands.append("%seed")
            types.append(spec.result)
            results.append(spec.result)
        results += [ty for _, ty, act in spec.params if act == "active"]
        op = "enzyme.autodiff"
    else:
        if spec.result is not None and spec.ret_activity:
            results += [spec.result, spec.result]
        op = "enzyme.fwddiff"
    # forward mode: a differentiated scalar is duplicated (value, tangent), not active
    forward = {"active": "dup"} if spec.mode == "forward" else {}
    acts = ", ".join(f"#enzyme<activity<{_ACTIVITY[forward.get(a, a)]}>>"
                     for _, _, a in spec.params)
    ret = f"#enzyme<activity<{_ACTIVITY[spec.ret_activity]}>>" if spec.ret_activity else ""
    names = ", ".join(f"%r#{k}" for k in range(len(results))) if len(results) > 1 else "%r"
    defined = f"%r:{len(results)}" if len(results) > 1 else "%r"
    call = (f'"{op}"({", ".join(operands)}) <{{fn = @{spec.fn}, activity = [{acts}], '
            f'ret_activity = [{ret}]}}> : ({", ".join(types)}) -> ({", ".join(results)})')
    lines = [f"  func.func @{spec.entry}({', '.join(args)}) -> ({', '.join(results)}) {{"]
    lines.append(f"    {defined} = {call}" if results else f"    {call}")
    lines.append(f"    func.return {names} : {', '.join(results)}" if results else "    func.return")
    lines.append("  }")
    return "\n".join(lines)


_FILL_ZERO = re.compile(r"enzyme\.fill_zero\s+(%[\w#]+)\s*:\s*(memref<([^<>]|<[^<>]*>)*>)")
_LOC = re.compile(r'loc\((?:callsite\()?"(?P<file>[^"]+)":(?P<line>\d+):(?P<col>\d+)[) ]')
"""A file location, also the innermost one of an inlined call's `callsite(... at ...)`."""


# Before every Enzyme run, in this order (arrays first: `use_loop_results` follows the
# selections it leaves to the arrays a loop writes).
GUARDS: Final = (rewrites.select_carried_arrays, rewrites.activate_stores,
                 rewrites.activate_loop_inits, rewrites.use_loop_results)


PREPARE: Final = ",".join((
    # Enzyme cannot reverse a call whose callee touches memory. The inliner's clean-up pipeline
    # is off: canonicalization would fold away the stop-gradients of ir/adrules.py.
    "inline{default-pipeline=}",
))

DEAD_VALUES: Final = (
    # Dead code (a loop whose results nobody reads, e.g. of a variable overwritten after it)
    # makes the values it reads constant to Enzyme's activity analysis but used to the
    # guards, which then cannot make both sides of a loop agree.
    "remove-dead-values")


def prepare_for_enzyme(module: ir.Module, reverse: bool = True) -> None:
    """Run `PREPARE`, then guard against Enzyme's wrong-derivative traps (lowering/rewrites.py)
    in both modes: arrays carried by loops become indices, stores of constants reach the
    shadow, loop initial values and loop values unused on one side become active."""
    from mlir.passmanager import PassManager

    PassManager.parse(f"builtin.module({PREPARE})").run(module.operation)
    stuck_complex = complexes.prepare(module, reverse)  # atan2; forward mode: no complex
    if stuck_complex:
        error = complexes.refusal()
        _point_at(error, stuck_complex)
        raise error
    # remove-dead-values erases the values that a never-taken raise branch reads and leaves
    # the branch with null operands; such branches go first (sccp would find them, but it
    # folds some loop results wrongly: tests/grad/test_creation_grads.py)
    rewrites.drop_dead_raises(module)
    PassManager.parse(f"builtin.module({DEAD_VALUES})").run(module.operation)
    # Enzyme has no reverse rule for memref.transpose nor memref.expand_shape (new axes);
    # transposes again after new axes: a transpose under a new axis (a.T[None]) is then free
    views.fold_transposes(module)
    views.fold_new_axes(module)
    views.fold_transposes(module)
    reshapes.fold_reshapes(module)  # may expose loads of transposes and new axes
    views.fold_transposes(module)
    views.fold_new_axes(module)
    views.static_new_axes(module)  # what is left: views picked by an `if` (forward mode)
    stuck_reshapes = reshapes.unfolded_reshapes(module)
    if stuck_reshapes:
        error = CompileError("cannot differentiate a reshaped array that an `if` chooses or "
                             "a loop carries")
        _point_at(error, stuck_reshapes)
        raise error.with_note("reshape it where it is used, or copy it (a.flatten(), "
                              "a.reshape(...).copy())")
    parallelforms.serialize_allocating(module)  # hoisting would share their buffers
    stuck = hoist_allocations(module)  # Enzyme never zeroes the shadows of allocs in loops
    if reverse and stuck:
        error = CompileError("cannot differentiate (reverse mode) an array allocated inside a "
                             "loop with a size that changes from one iteration to the next")
        _point_at(error, stuck)
        raise error.with_note(
            "Enzyme 0.0.16 would give wrong gradients for it: allocate the array before the "
            "loop (with its largest size) and use a slice of it in each iteration")
    for guard in GUARDS:
        guard(module)


def explain_crash(error: CompileError, module: ir.Module) -> CompileError:
    """Point an Enzyme crash at a loop that still carries arrays, the known cause, and a
    rejected transpose at the view that could not be folded into indices."""
    if error.message.startswith("cannot differentiate 'memref.transpose'"):
        _point_at(error, views.unfolded_transposes(module))
        return error.with_note(
            "in reverse mode a transposed view (.T, .transpose) can only be indexed, sliced, "
            "filled or passed to a kernel; one chosen by an `if` or carried by a loop is not "
            "supported yet: index the array itself with its indices swapped")
    new_axes = views.unfolded_new_axes(module)
    if new_axes and error.message.startswith(("cannot differentiate 'memref.expand_shape'",
                                              "cannot differentiate 'memref.cast'")):
        _point_at(error, new_axes)
        return error.with_note(
            "in reverse mode a view with new axes (None, np.newaxis) can only be indexed, "
            "sliced, used in array expressions, filled or passed to a kernel; one chosen by "
            "an `if` or carried by a loop is not supported yet: add the axes where it is used")
    where = rewrites.carried_arrays(module)
    if not error.message.startswith("differentiation failed: Enzyme crashed") or not where:
        return error
    _point_at(error, where)
    return error.with_note(
        "this loop gives an array variable a new array in each iteration (Enzyme 0.0.16 "
        "cannot differentiate loops that carry arrays in reverse mode): allocate the arrays "
        "before the loop and swap them (`a, b = b, a`) or copy into them")


def _point_at(error: CompileError, where: list[ir.Location]) -> None:
    """Give `error` the first of `where` as its span, unless it has one."""
    found = _LOC.search(str(where[0])) if where else None
    if found and error.span is None:
        line, col = int(found["line"]), int(found["col"])
        error.span = Span(found["file"], line, col - 1, line, col, "")


def differentiate(module_text: str, specs: list[ADSpec],
                  checkpoint: str | None = None) -> ir.Module:
    """Add the derivative entry points of `specs` to `module_text`, run Enzyme, and parse the
    result into the current (MLIR 22) context. `checkpoint`: the checkpointing scheme of the
    loops lowering/checkpointing.mark_loops marked (None: none)."""
    end = module_text.rindex("\n}")  # the module's closing brace (location aliases follow)
    wrappers = "\n".join(_wrapper(s) for s in specs)
    text = module_text[:end] + "\n" + wrappers + module_text[end:]
    pipeline = checkpointing.pipeline(PIPELINE, checkpoint)
    try:
        out = _worker().run(text, pipeline)
    except Exception as exc:  # ValueError with Enzyme's diagnostics, or a crash
        error = _enzyme_error(str(exc))
        fd, path = tempfile.mkstemp(prefix="ember-enzyme-", suffix=".mlir")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        error.notes.append(f"Enzyme's input was saved to {path} (pipeline: {pipeline})")
        raise error from None
    if checkpoint is not None:  # the revolve schedule's progress ops
        out = checkpointing.lower_progress(out)
    derived = ir.Module.parse(_postprocess(out))
    if checkpoint is not None:
        checkpointing.lower_copies(derived)  # the snapshots' copies
    return derived


def _postprocess(text: str) -> str:
    text = paralleladjoint.atomics_as_ops(_FILL_ZERO.sub(_fill, text))
    return text.replace("fastmath<fast>", "fastmath<none>")


def _fill(match: re.Match[str]) -> str:
    """`enzyme.fill_zero` as a generic op the MLIR 22 side can parse (rewrites.zero_fills)."""
    return f'"ember.zero_fill"({match.group(1)}) : ({match.group(2)}) -> ()'


def _enzyme_error(message: str) -> CompileError:
    what = re.search(r'could not compute the adjoint for this operation .*?"([\w.]+)"\(', message)
    where = _LOC.search(message)
    span = None
    if where:
        line, col = int(where["line"]), int(where["col"])
        span = Span(where["file"], line, col - 1, line, col, "")
    if what:
        op = what.group(1)
        callee = re.search(r"callee = @([\w.]+)", message)
        if op == "func.call" and callee:
            op = callee.group(1)
    library = re.search(r'without a registered derivative: "([\w.]+)"', message)
    if library:
        error = CompileError(f"cannot differentiate '{library.group(1)}': Ember has no "
                             "derivative for it (it is fine on values that do not depend on "
                             "the differentiated arguments)")
        error.callee = library.group(1)  # type: ignore[attr-defined]
        return error
    if what:
        return CompileError(f"cannot differentiate '{op}': Enzyme has no derivative rule for "
                            "it", span)
    if message.startswith("Enzyme crashed"):
        return CompileError(f"differentiation failed: {message}", span)
    first = next((ln for ln in message.splitlines() if "error" in ln), message[:300])
    return CompileError(f"differentiation failed: {first.strip()}", span)
