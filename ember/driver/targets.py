"""The targets: name -> `Target`, the driver entry points and the facts the options need.

Callers look a target up here instead of testing its name: `Kernel` compiles and inspects
through `entry(options.target, "compile")`, the AOT build runs `TARGETS[name].aot`, the CLI
offers `TARGETS`' keys and `CompileOptions` validates against them. Entry points are written as
"module:function" and imported on first use, so reading this table loads no driver (it is data,
imported by the options at the ground). Adding a target: a driver module here, an AOT writer
in ember/aot, and one row below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    compile: str
    """`f(py_func, options) -> compiled` (with `.entry`, `.cache_hit`), in ember.driver."""
    inspect: str
    """`f(py_func, stage, options) -> str`, in ember.driver."""
    aot: str
    """`f(source, out_dir, target_cpu, gpu_arch) -> dict`, in ember.aot (imported there)."""
    raises: bool = True
    """Kernels can raise (bounds checks, error_model='python')."""
    chip_env: str | None = None
    """The variable naming the default chip, for targets with a chip in their cache key."""
    default_chip: str | None = None


TARGETS: dict[str, Target] = {
    "cpu": Target("cpu", "cpu:compile_kernel", "cpu:inspect_stage", "build:build_cpu"),
    "gpu": Target("gpu", "gpu:compile_gpu", "gpu:inspect_gpu", "gpu:build_gpu", raises=False,
                  chip_env="EMBER_GPU_ARCH", default_chip="sm_90"),
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
