"""Ahead-of-time builds: collect (the kernels of a module) -> the AOT writer of the target: the
CPU library (library.py, with the C API and header in c_api.py and the Python loader in
loader.py) or the GPU bundle (PTX + loader, gpu.py).

`build` only looks the writer up in the target registry (driver/targets.py), so importing this
package loads no compiler.
"""

from __future__ import annotations

from typing import Any

from ..driver.targets import TARGETS, names, resolve
from .progress import reporter


def build(source: Any, out_dir: str, target_cpu: str | None = None, target: str = "cpu",
          gpu_arch: str | None = None, progress: Any = None) -> dict[str, Any]:
    """Build `source` (a .py path, or a list of kernels/derivatives) into `out_dir` with the
    AOT writer of `target`: for "cpu" a C library (library.py), for "gpu" PTX files and a
    numpy + cuda-python loader instead (gpu.py). Silent unless asked: `progress=True` prints
    one line per export on stderr (as `ember build` does), a callable receives each
    `ember.aot.progress.Step` (when an export starts and when it is compiled or reused)."""
    if target not in TARGETS:
        raise ValueError(f"ember.build: unknown target={target!r}; choose {names()}")
    report = reporter(progress)
    writer = resolve(TARGETS[target].aot, __name__)
    result: dict[str, Any] = writer(source, out_dir, target_cpu, gpu_arch, progress=report)
    return result


__all__ = ["build"]
