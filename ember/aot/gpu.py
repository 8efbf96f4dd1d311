"""Ahead-of-time GPU build: a module's kernels -> PTX files and a loader needing only numpy
and cuda-python.

`build_gpu(source, out_dir)` compiles every `@kernel` of `source` for the GPU (whatever its
own target), writes `<name>.<kernel>.<k>.ptx` per prange nest and `<name>.py`, a loader that
embeds the source of ember/runtime/cuda.py and the modules it imports (GPU_RUNTIME_MODULES,
as a private package, the CPU loader's mechanism: aot/loader.py) -- the JIT's own launcher,
so calls behave the same: numpy arrays copied in and, when written, out;
`__cuda_array_interface__` arrays used in place -- and the kernels' manifests (the JSON form
of `GpuManifest`, each nest's PTX replaced by the name of its file). It imports neither mlir nor ember, so a machine that has
a GPU but not Ember's toolchain can run the kernels. Derivative objects are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from .._version import __version__
from ..api.kernel import Kernel
from ..driver.gpu import gpu_manifest
from ..runtime.gpu_manifest import GpuManifest
from .collect import collect
from .loader import PACKAGE_BOOT, runtime_sources

GPU_RUNTIME_MODULES: Final = ("types", "binding", "runtime.complex_abi", "runtime.abi",
                              "runtime.checks",
                              "runtime.gpu_manifest",
                              "runtime.cuda")
"""The modules the GPU loader embeds: runtime/cuda.py and what it imports (none imports mlir)."""

_BOOT = '''
def _load():
    rt = _runtime()
    here = _os.path.dirname(_os.path.abspath(__file__))
    exported = {}
    for item in _json.loads(_MANIFEST):
        for nest in item["nests"]:
            with open(_os.path.join(here, nest.pop("ptx_file"))) as f:
                nest["ptx"] = f.read()
        manifest = rt.gpu_manifest.GpuManifest.from_json(item)
        exported[manifest.name] = rt.cuda.GpuFunction(manifest)
    return rt.cuda, exported


_runtime, _exported = _load()
globals().update(_exported)
to_device, from_device = _runtime.to_device, _runtime.from_device
is_available = _runtime.available
__all__ = sorted(_exported) + ["from_device", "is_available", "to_device"]
'''


def build_gpu(source: Any, out_dir: str, target_cpu: str | None = None,
              gpu_arch: str | None = None) -> dict:
    """Build the kernels of `source` (a .py path or a list of kernels) for the GPU
    (`target_cpu` is unused)."""
    name, exports = collect(source)
    os.makedirs(out_dir, exist_ok=True)
    manifests: list[GpuManifest] = []
    files, skipped = [], []
    for export, obj in exports:
        if not isinstance(obj, Kernel):
            skipped.append(export)
            continue
        options = replace(obj.options, target="gpu", gpu_arch=gpu_arch or obj.options.gpu_arch)
        manifest = replace(gpu_manifest(obj.py_func, options), name=export)
        for k, nest in enumerate(manifest.nests):
            files.append(os.path.join(out_dir, ptx_file(name, export, k)))
            with open(files[-1], "w") as f:
                f.write(nest.ptx)
        manifests.append(manifest)
    loader = os.path.join(out_dir, f"{name}.py")
    with open(loader, "w") as f:
        f.write(loader_text(name, manifests))
    return {"loader": loader, "ptx": files, "compiled": [m.name for m in manifests],
            "skipped": skipped}


def ptx_file(name: str, export: str, k: int) -> str:
    """The file of the PTX of nest `k` of kernel `export` in the build of module `name`."""
    return f"{name}.{export}.{k}.ptx"


def _loader_json(name: str, manifest: GpuManifest) -> dict:
    """The JSON form of `manifest` with each nest's PTX replaced by its file's name."""
    data = manifest.to_json()
    for k, nest in enumerate(data["nests"]):
        del nest["ptx"]
        nest["ptx_file"] = ptx_file(name, manifest.name, k)
    return data


def loader_text(name: str, manifests: Sequence[GpuManifest]) -> str:
    """The generated loader of the GPU build of module `name`."""
    sources = runtime_sources(GPU_RUNTIME_MODULES)
    text = json.dumps([_loader_json(name, m) for m in manifests])
    digest = hashlib.sha256(json.dumps([sources, text]).encode()).hexdigest()[:16]
    names = ", ".join(m.name for m in manifests)
    arch = ", ".join(sorted({m.arch for m in manifests})) or "-"
    return "\n".join([
        f'"""GPU kernels of {name} (built by Ember {__version__} for {arch}): {names}.',
        "",
        "Needs only numpy and cuda-python. Call the kernels like the @kernel(target=\"gpu\")",
        "functions they were built from; to_device/from_device move arrays. Generated file.",
        '"""',
        "",
        "import json as _json",
        "import os as _os",
        "import sys as _sys",
        "import types as _types",
        "",
        f"_DIGEST = {digest!r}",
        f"_MANIFEST = {text!r}",
        f"_SOURCES = {sources!r}",
        PACKAGE_BOOT,
        _BOOT])
