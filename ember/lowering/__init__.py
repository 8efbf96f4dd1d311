"""Lowering stage: named MLIR pass stages from the frontend's module down to LLVM IR text."""

from __future__ import annotations

from mlir import ir
from mlir.dialects import llvm

from .pipeline import check_fully_lowered, dump, run_stages
from .stages import GRADIENT_CPU, PRIMAL_CPU, PRIMAL_CPU_FAST, Stage, gradient_stages, primal_stages


def lower_to_llvm_ir(module: ir.Module, name: str, stages: tuple[Stage, ...] = PRIMAL_CPU) -> str:
    """Run `stages` on `module` (in place) and translate the result to LLVM IR text."""
    run_stages(module, stages, name)
    check_fully_lowered(module, name)
    text = str(llvm.translate_module_to_llvmir(module.operation))
    dump(name, "llvm", len(stages) + 1, text, "ll")
    return text


__all__ = ["lower_to_llvm_ir", "run_stages", "Stage", "PRIMAL_CPU", "PRIMAL_CPU_FAST",
           "GRADIENT_CPU", "primal_stages", "gradient_stages"]
