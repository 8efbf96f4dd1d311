"""Run named stages over a module, dumping each stage and writing reproducers on failure.

`EMBER_DUMP_IR=dir` writes `<kernel>.<n>.<stage>.mlir` after every stage. When a pass fails,
the module before that stage is saved and the error names an `mlir-opt` command that
reproduces the failure. The dump folder must be private (ember/safedir.py: created owner-only,
refused with a warning when another user owns or can write it, and then nothing is dumped).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from mlir import ir
from mlir.passmanager import PassManager

from .. import safedir
from ..errors import CompileError
from ..ir.context import ops_where
from .rewrites import REWRITES
from .stages import Stage


def dump(name: str, stage: str, index: int, text: str, ext: str = "mlir") -> None:
    folder = os.environ.get("EMBER_DUMP_IR")
    if not folder or not safedir.trusted(folder, "the EMBER_DUMP_IR folder", "no IR is dumped",
                                         create=True):
        return
    with open(os.path.join(folder, f"{name}.{index}.{stage}.{ext}"), "w") as f:
        f.write(text)


def run_stages(module: ir.Module, stages: Sequence[Stage], name: str) -> None:
    """Run `stages` in order on `module` (in place), in the current context."""
    dump(name, "frontend", 0, str(module))
    for index, stage in enumerate(stages, start=1):
        for rewrite in stage.rewrites:
            REWRITES[rewrite](module)
        spec = f"builtin.module({','.join(stage.passes)})"
        before = str(module) if os.environ.get("EMBER_DEBUG") else None
        try:
            PassManager.parse(spec).run(module.operation)
        except Exception as exc:  # MLIRError carries the diagnostics
            raise _failure(name, stage, spec, before or str(module), exc) from None
        dump(name, stage.name, index, str(module))


def _failure(name: str, stage: Stage, spec: str, text: str, exc: Exception) -> CompileError:
    fd, path = tempfile.mkstemp(prefix=f"ember-{name}-{stage.name}-", suffix=".mlir")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return CompileError(
        f"internal compiler error in stage '{stage.name}' while compiling '{name}': {exc}",
        notes=[f"reproduce with: mlir-opt --pass-pipeline='{spec}' {path}",
               "please report this: Ember should reject unsupported code before this stage"])


def check_fully_lowered(module: ir.Module, name: str) -> None:
    """Refuse to translate a module with ops LLVM translation would choke on (it can crash)."""
    leftovers = [f"{op.name} at {op.location}" for op in ops_where(
        module.operation, lambda op: not op.name.startswith(("llvm.", "builtin.module")))]
    if leftovers:
        raise _failure(name, Stage("translate", ()), "builtin.module()", str(module),
                       RuntimeError("not lowered to LLVM: " + "; ".join(leftovers[:3])))
