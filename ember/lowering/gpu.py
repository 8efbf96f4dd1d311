"""Lowering stage for `target="gpu"`: the host module of ir/gpu.py -> PTX, one per nest.

Steps: the libm calls of ir/ops.py (`LIBM`: no MLIR math op) become libdevice calls (`__nv_*`,
as `llvm.func` declarations: convert-gpu-to-nvvm would give a `func.func` declaration a C
interface wrapper, `_mlir_ciface_*`, that PTX cannot resolve) -> stages.GPU with the tile
sizes and the chip filled in -> for each nest function, the `gpu.launch_func` it now holds
names the kernel, its block sizes and its operands. Each operand is a function argument
(["arg", k]) or a constant (["const", value]); together with the argument kinds from
ir/gpu.py this is everything the launcher (runtime/cuda.py) needs to build the parameters in
the order the PTX `.param` list declares them.
"""

from __future__ import annotations

import os
import re
from typing import Final

from mlir import ir
from mlir.dialects import gpu, llvm

from ..ir.context import ops_where
from ..ir.ops import LIBM
from .pipeline import run_stages
from .rewrites import REWRITES
from .stages import GPU, Stage

TILES = (128, 2, 2)
"""Threads per block along grid x (the innermost prange loop), y and z: at most 512 threads,
and `.maxntid` lets ptxas keep register use within what such a block may have."""
DEFAULT_ARCH = "sm_90"
_PTX_FEATURES = {"sm_7": "+ptx70", "sm_8": "+ptx78", "sm_9": "+ptx80", "sm_10": "+ptx86",
                 "sm_12": "+ptx87"}
"""Lowest PTX ISA that LLVM accepts per chip family (sm_90 needs >= 7.8, see TOOLCHAIN.md)."""
LIBDEVICE: Final = frozenset(name for f64, f32, _ in LIBM.values() for name in (f64, f32))
"""The libm calls of ir/ops.py: libdevice has each as `__nv_<name>`."""


def gpu_arch(arch: str | None = None) -> str:
    """The chip to compile for: `arch`, else $EMBER_GPU_ARCH, else sm_90 (H100/H200)."""
    chip = arch or os.environ.get("EMBER_GPU_ARCH") or DEFAULT_ARCH
    if not re.fullmatch(r"sm_\d{2,3}a?", chip):
        raise ValueError(f"unknown GPU architecture {chip!r}; expected e.g. sm_80 or sm_90")
    return chip


def ptx_features(chip: str) -> str:
    family = chip[:5] if len(chip.rstrip("a")) == 6 else chip[:4]
    return os.environ.get("EMBER_GPU_FEATURES") or _PTX_FEATURES.get(family, "+ptx80")


def gpu_stages(chip: str) -> tuple[Stage, ...]:
    tiles = ",".join(map(str, TILES))
    fill = {"tiles": tiles, "chip": chip, "features": ptx_features(chip)}
    return tuple(Stage(s.name, tuple(_fill(p, fill) for p in s.passes), s.rewrites)
                 for s in GPU)


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def lower_to_ptx(module: ir.Module, name: str, chip: str) -> list[dict]:
    """Run the GPU stages on `module` (in place); per nest function (in module order):
    {"function", "kernel", "block", "params", "ptx"}."""
    libdevice_calls(module)
    run_stages(module, gpu_stages(chip), name)
    binaries = {str(op.sym_name.value): _assembly(op) for op in _ops(module, "gpu.binary")}
    out = []
    for fn in _ops(module, "func.func"):
        launch = _launch(fn)
        if launch is None:
            continue
        module_name, kernel = ir.SymbolRefAttr(launch.attributes["kernel"]).value
        out.append({"function": str(fn.sym_name.value),
                    "kernel": kernel,
                    "block": [_constant(v) for v in (launch.blockSizeX, launch.blockSizeY,
                                                     launch.blockSizeZ)],
                    "params": [_source(v) for v in launch.kernelOperands],
                    "ptx": binaries[module_name]})
    return out


def _ops(module: ir.Module, name: str) -> list:
    return [op for op in module.body.operations if op.operation.name == name]


def _launch(fn: ir.OpView) -> gpu.LaunchFuncOp | None:
    found = [op.opview for op in ops_where(fn.operation, lambda op: op.name == "gpu.launch_func")]
    assert len(found) <= 1, "one gpu.launch_func per nest function"
    return found[0] if found else None


def _source(value: ir.Value) -> list:
    owner = value.owner
    if isinstance(owner, ir.Block):
        return ["arg", ir.BlockArgument(value).arg_number, str(value.type)]
    return ["const", _constant(value), str(value.type)]


def _constant(value: ir.Value) -> int | float:
    op = value.owner
    assert isinstance(op, ir.Operation | ir.OpView) and op.name == "arith.constant", \
        f"launch operand is not a constant: {value}"
    attr = op.attributes["value"]
    return attr.value if isinstance(attr, ir.FloatAttr | ir.IntegerAttr) else \
        ir.IntegerAttr(attr).value


def _assembly(binary: ir.OpView) -> str:
    obj = gpu.ObjectAttr(binary.attributes["objects"][0])
    data = obj.object
    return data.decode() if isinstance(data, bytes) else str(data)


def libdevice_calls(module: ir.Module) -> None:
    """Calls of libm functions without an MLIR math op -> `llvm.call @__nv_<name>`."""
    decls = {str(op.sym_name.value): op for op in _ops(module, "func.func")
             if str(op.sym_name.value) in LIBDEVICE}
    if not decls:
        return

    def to_libdevice(op: ir.Operation) -> bool:
        return op.name == "func.call" and str(op.attributes["callee"]).lstrip("@") in decls

    for call in ops_where(module.operation, to_libdevice):
        callee = "__nv_" + str(call.attributes["callee"]).lstrip("@")
        with ir.InsertionPoint(call), call.location:
            new = llvm.CallOp(call.results[0].type, list(call.operands), [], [],
                              callee=ir.FlatSymbolRefAttr.get(callee))
        call.results[0].replace_all_uses_with(new.result)
        call.erase()
    for name, decl in decls.items():
        ftype = ir.FunctionType(ir.TypeAttr(decl.attributes["function_type"]).value)
        with ir.InsertionPoint(decl), decl.location:
            inputs = ", ".join(str(t) for t in ftype.inputs)
            llvm.LLVMFuncOp("__nv_" + name, ir.TypeAttr.get(
                ir.Type.parse(f"!llvm.func<{ftype.results[0]} ({inputs})>")))
        decl.operation.erase()


def assertions_end_threads(module: ir.Module) -> None:
    """After each `__assertfail` call (a failed device assertion, ir/raising.py), an
    `llvm.unreachable` instead of the branch back (the rewrite of stages.GPU_TO_PTX): the call
    never returns, so no value is live across it and LLVM merges the kernel's calls into
    one cold block."""
    def after_assert(op: ir.Operation) -> bool:
        if op.name != "llvm.br":
            return False
        previous = list(op.block.operations)
        k = next(i for i, o in enumerate(previous) if o == op)
        return k > 0 and previous[k - 1].name == "llvm.call" and \
            str(previous[k - 1].attributes["callee"]) == "@__assertfail"

    for br in ops_where(module.operation, after_assert):
        with ir.InsertionPoint(br), br.location:
            llvm.UnreachableOp()
        br.erase()


REWRITES.setdefault("assertions-end-threads", assertions_end_threads)
