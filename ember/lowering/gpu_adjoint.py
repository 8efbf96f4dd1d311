"""Enzyme on the per-iteration bodies of GPU nests (ir/gpu_derivs.py), and the clean-up that
makes the derivative nests ready for the GPU stages (lowering/gpu.py).

`differentiate_bodies` guards the body module as for any Enzyme run (enzyme.prepare_for_enzyme)
and runs one `enzyme-wrap` per body: forward mode (`ForwardMode`), or reverse mode per
iteration (`ReverseModeCombined` with `atomicAdd=true`: no caches, every shadow update an
atomic add, since iterations run at the same time). Enzyme's `enzyme.atomic_rmw` has no
lowering of its own; it becomes `memref.atomic_rmw` (`atom.global.add` in the PTX).
`finish` inlines the bodies into the derivative nests and drops them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from mlir import ir
from mlir.passmanager import PassManager

from ..ir.context import ops_where
from .enzyme import _enzyme_error, _postprocess, _worker, prepare_for_enzyme
from .irquery import VIEWS, defining
from .remat import rematerialize_loads

_MODE: Final = {"forward": "ForwardMode", "reverse": "ReverseModeCombined"}
CLEANUP: Final = ("remove-unnecessary-enzyme-ops,canonicalize,remove-unnecessary-enzyme-ops,"
                  "flatten-enzyme-caches,canonicalize,cse")
_ATOMIC: Final = re.compile(r"enzyme\.atomic_rmw (\w+) (.*?) monotonic(?: fastmath<\w+>)? :")


@dataclass(frozen=True)
class BodySpec:
    """One body function to differentiate: its name, the Enzyme activity of each argument
    and of each result (enzyme_const, enzyme_dup, enzyme_active)."""

    name: str
    args: tuple[str, ...]
    results: tuple[str, ...]

    def shadows(self) -> frozenset[int]:
        """Positions of the shadow arguments of `<name>_d` (each after its primal)."""
        positions, k = set(), 0
        for activity in self.args:
            k += 1
            if activity == "enzyme_dup":
                positions.add(k)
                k += 1
        return frozenset(positions)

    def wrap(self, mode: str) -> str:
        return (f"enzyme-wrap{{infn={self.name} outfn={self.name}_d "
                f"argTys={','.join(self.args)} retTys={','.join(self.results)} "
                f"mode={_MODE[mode]} atomicAdd=true}}")


def differentiate_bodies(module: ir.Module, specs: list[BodySpec], mode: str) -> ir.Module:
    """The module with `<body>_d`, the derivative of each body of `specs`, added (parsed into
    the current context)."""
    prepare_for_enzyme(module, reverse=mode == "reverse")
    text = module.operation.get_asm(enable_debug_info=True)
    pipeline = ",".join([*(s.wrap(mode) for s in specs), CLEANUP])
    try:
        out = _worker().run(text, pipeline)
    except Exception as exc:
        raise _enzyme_error(str(exc)) from None
    derived = ir.Module.parse(_postprocess(_ATOMIC.sub(r"memref.atomic_rmw \1 \2 :", out)))
    if mode == "reverse":  # reload unchanged elements instead of caching them
        rematerialize_loads(derived, {f"{s.name}_d": s.shadows() for s in specs}, True)
        for spec in specs:
            drop_primal_stores(derived, f"{spec.name}_d", spec.shadows())
        PassManager.parse("builtin.module(canonicalize,cse)").run(derived.operation)
    return derived


def drop_primal_stores(module: ir.Module, name: str, shadows: frozenset[int]) -> None:
    """Erase the stores of reverse derivative `name` into primal (non-shadow) arguments: the
    kernel already ran them, and running them again after a later nest wrote the same array
    would undo its writes (driver/gpu_derivatives.py refuses the nests whose reads this
    changes)."""
    fn = next(op for op in module.body.operations if _name(op) == name)
    block = fn.regions[0].blocks[0]

    def primal(value: ir.Value) -> bool:
        while not isinstance(value.owner, ir.Block):
            op = defining(value)
            if op is None or op.name not in VIEWS:
                return False
            value = op.operands[0]
        return value.owner == block and ir.BlockArgument(value).arg_number not in shadows

    for store in ops_where(fn.operation, lambda op: op.name == "memref.store"):
        if primal(store.operands[1]):
            store.erase()


def taped(module: ir.Module, specs: list[BodySpec]) -> list[str]:
    """The bodies whose derivative still allocates (a tape: Enzyme's caches of values an
    inner loop computes), which device code cannot do."""
    names = {f"{s.name}_d": s.name for s in specs}
    out = []
    for op in module.body.operations:
        name = _name(op)
        if name in names and any(o.name in ("memref.alloc", "memref.alloca")
                                 for o in ops_where(op.operation, lambda o: True)):
            out.append(names[name])
    return out


def finish(module: ir.Module, bodies: list[str]) -> None:
    """Inline the bodies and their derivatives into the nests and drop them."""
    for op in module.body.operations:
        if _name(op).startswith(tuple(bodies)):
            op.attributes["sym_visibility"] = ir.StringAttr.get("private")
    # subviews (views for Enzyme, ir/types.for_enzyme) as the GPU stages expect them
    PassManager.parse("builtin.module(inline,symbol-dce,expand-strided-metadata,canonicalize,"
                      "cse)").run(module.operation)


def _name(op: ir.OpView) -> str:
    """The symbol name of a top-level op ('' if it has none)."""
    attrs = op.operation.attributes
    return ir.StringAttr(attrs["sym_name"]).value if "sym_name" in attrs else ""
