"""IR stage: typed tree -> MLIR (func/scf/memref/arith/math), with user source locations."""

from .context import mlir_context
from .emitter import emit_module

__all__ = ["emit_module", "mlir_context"]
