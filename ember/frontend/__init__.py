"""Frontend stage: Python function -> checked, desugared, typed tree. Never imports mlir."""

from .infer import build_program

__all__ = ["build_program"]
