"""Loop attributes shared by the statement rules."""

from __future__ import annotations

from mlir import ir


def cold_loop() -> ir.Attribute:
    """LLVM loop metadata for a rarely run loop: no vectorization, no unrolling (its code
    stays small and compiles fast). Survives scf-to-cf as the latch's `llvm.loop`."""
    return ir.Attribute.parse(
        "#llvm.loop_annotation<vectorize = <disable = true>, unroll = <disable = true>>")
