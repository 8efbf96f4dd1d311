"""The targets: name -> `Target`, the driver entry points and the facts the options need.

Callers look a target up here instead of testing its name: `Kernel` compiles and inspects
through `entry(options.target, "compile")`, the AOT build runs `TARGETS[name].aot`, the CLI
offers `TARGETS`' keys and `CompileOptions` validates against them. Entry points are written as
"module:function" and imported on first use, so reading this table loads no driver (it is data,
imported by the options at the ground). Adding a target: a driver module here, an AOT writer
in ember/aot, and one row below; an offload target (kernels run on a device) also names its
stage modules in an `Offload` row, which its driver reaches through `stage()`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Offload:
    """The stages of a target whose kernels run on a device, as "module:function" in ember."""

    plan: str
    """frontend: `f(tir.Function) -> plan` (`.fn`, `.nests`, `.steps`): host steps and nests."""
    emit: str
    """ir: `f(plan) -> (mlir module, argument kinds per nest)`."""
    lower: str
    """lowering: `f(module, name, chip) -> [launch]`, the device code of each nest."""
    chip: str
    """lowering: `f(requested or None) -> chip`, the chip to compile for (checked)."""
    launcher: str
    """runtime: `f(manifest) -> callable`, what calls the compiled kernel."""


@dataclass(frozen=True)
class Target:
    name: str
    compile: str
    """`f(py_func, options) -> compiled` (with `.entry`, `.cache_hit`), in ember.driver."""
    inspect: str
    """`f(py_func, stage, options) -> str`, in ember.driver."""
    aot: str
    """`f(source, out_dir, target_cpu, gpu_arch, progress=None) -> dict`, in ember.aot
    (imported there); `progress` receives an aot/progress.Step per export."""
    raises: bool = True
    """Kernels can raise (bounds checks, error_model='python')."""
    chip_env: str | None = None
    """The variable naming the default chip, for targets with a chip in their cache key."""
    default_chip: str | None = None
    offload: Offload | None = None
    """The device stages, for an offload target."""


TARGETS: dict[str, Target] = {
    "cpu": Target("cpu", "cpu:compile_kernel", "cpu:inspect_stage", "library:build_cpu"),
    "gpu": Target("gpu", "gpu:compile_gpu", "gpu:inspect_gpu", "gpu:build_gpu", raises=False,
                  chip_env="EMBER_GPU_ARCH", default_chip="sm_90",
                  offload=Offload("frontend.gpu:plan_gpu", "ir.gpu:emit_gpu_module",
                                  "lowering.gpu:lower_to_ptx", "lowering.gpu:gpu_arch",
                                  "runtime.cuda:GpuFunction")),
}
"""Every target, by the name `@kernel(target=...)` and `ember build --target` take."""
DEFAULT = "cpu"
"""The target of `CompileOptions()` and `ember build` without `--target`."""


def names() -> str:
    """The target names for an error message: "'cpu' or 'gpu'"."""
    return " or ".join(repr(n) for n in TARGETS)


def resolve(ref: str, package: str) -> Any:
    """The function "module:function" names, in `package` (imported now)."""
    module, _, function = ref.partition(":")
    return getattr(importlib.import_module(f"{package}.{module}"), function)


def entry(target: str, what: str) -> Any:
    """The driver function `what` ('compile' or 'inspect') of `target`."""
    return resolve(getattr(TARGETS[target], what), __package__)


def stage(target: str, what: str) -> Any:
    """The offload stage `what` ('plan', 'emit', 'lower', 'chip' or 'launcher') of `target`."""
    offload = TARGETS[target].offload
    if offload is None:
        raise ValueError(f"target {target!r} has no device stages")
    return resolve(getattr(offload, what), __package__.rpartition(".")[0])
