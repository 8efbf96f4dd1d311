"""Ahead-of-time GPU build: a module's kernels -> PTX files and a loader needing only numpy
and cuda-python.

`build_gpu(source, out_dir)` compiles every `@kernel` of `source` for the GPU (whatever its
own target), writes `<name>.<kernel>.<k>.ptx` per prange nest and `<name>.py`, a loader that
embeds the source of ember/runtime/cuda.py and the modules it imports (GPU_RUNTIME_MODULES,
as a private package, the CPU loader's mechanism: aot/loader.py) -- the JIT's own launcher,
so calls behave the same: numpy arrays copied in and, when written, out;
`__cuda_array_interface__` arrays used in place -- and the kernels' manifests (the JSON form
of `GpuManifest`, each nest's PTX replaced by the name of its file). It imports neither mlir nor ember, so a machine that has
a GPU but not Ember's toolchain can run the kernels. Module-level derivatives of kernels
(`grad`, `value_and_grad`, `jvp`, `vjp`; driver/gpu_derivatives.py) are exported too: their
manifest with the `DerivativeInfo` that runtime/derivcall.py (embedded) calls it with, so
they take the same arguments and return the same values as in the JIT. Other objects, and
derivatives that cannot run on the GPU (the CompileError says why), are skipped.
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
from .progress import Progress, run_steps

GPU_RUNTIME_MODULES: Final = ("types", "binding", "runtime.complex_abi", "runtime.abi",
                              "runtime.checks",
                              "runtime.gpu_manifest",
                              "runtime.cuda", "runtime.derivcall")
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
        if "derivative" in item:  # called with shadows and seeds made by derivcall
            info = rt.derivcall.DerivativeInfo.from_json(item["derivative"])
            entry = rt.cuda.GpuDerivativeFunction(manifest)
            exported[manifest.name] = rt.derivcall.DerivativeCall(info, entry)
    return rt.cuda, exported


_runtime, _exported = _load()
globals().update(_exported)
to_device, from_device = _runtime.to_device, _runtime.from_device
is_available = _runtime.available
__all__ = sorted(_exported) + ["from_device", "is_available", "to_device"]
'''


def build_gpu(source: Any, out_dir: str, target_cpu: str | None = None,
              gpu_arch: str | None = None, progress: Progress | None = None) -> dict:
    """Build the kernels of `source` (a .py path or a list of kernels) for the GPU
    (`target_cpu` is unused), each export reported to `progress` (aot/progress.py)."""
    name, exports = collect(source)
    os.makedirs(out_dir, exist_ok=True)
    infos: dict[str, dict] = {}
    built = run_steps(exports, lambda export, obj: _export(obj, export, gpu_arch, infos),
                      lambda m: "skipped" if m is None else "compiled", progress, len(exports))
    manifests = [m for m in built if m is not None]
    skipped = [export for (export, _), m in zip(exports, built, strict=True) if m is None]
    files = []
    for manifest in manifests:
        for k, nest in enumerate(manifest.nests):
            files.append(os.path.join(out_dir, ptx_file(name, manifest.name, k)))
            with open(files[-1], "w") as f:
                f.write(nest.ptx)
    loader = os.path.join(out_dir, f"{name}.py")
    with open(loader, "w") as f:
        f.write(loader_text(name, manifests, infos))
    return {"loader": loader, "ptx": files, "compiled": [m.name for m in manifests],
            "skipped": skipped}


def _export(obj: Any, export: str, gpu_arch: str | None,
            infos: dict[str, dict]) -> GpuManifest | None:
    """The manifest of one export (a derivative's info JSON into `infos`), None if skipped."""
    if not isinstance(obj, Kernel):
        built = _derivative(obj, export, gpu_arch)
        if built is None:
            return None
        manifest, infos[export] = built
        return manifest
    options = replace(obj.options, target="gpu", gpu_arch=gpu_arch or obj.options.gpu_arch)
    return replace(gpu_manifest(obj.py_func, options), name=export)


def _derivative(obj: Any, export: str, gpu_arch: str | None) -> tuple[GpuManifest, dict] | None:
    """The manifest and `DerivativeInfo` JSON of derivative `obj` built for the GPU, or None
    (not a derivative, or refused on the GPU)."""
    from ..api.autodiff import Derivative
    from ..driver.gpu_derivatives import compile_gpu_derivative
    from ..errors import CompileError

    if not isinstance(obj, Derivative):
        return None
    k = obj.kernel
    options = replace(k.options, target="gpu", gpu_arch=gpu_arch or k.options.gpu_arch)
    try:
        compiled = compile_gpu_derivative(k.py_func, obj.request, options)
    except (CompileError, TypeError):
        return None
    info = replace(obj.info(compiled), name=export)
    return replace(compiled.main.manifest, name=export), info.to_json()


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


def loader_text(name: str, manifests: Sequence[GpuManifest],
                infos: dict[str, dict] | None = None) -> str:
    """The generated loader of the GPU build of module `name` (`infos`: the DerivativeInfo
    JSON of the derivatives among `manifests`, by name)."""
    sources = runtime_sources(GPU_RUNTIME_MODULES)
    items = [_loader_json(name, m) for m in manifests]
    for item in items:
        if item["name"] in (infos or {}):
            item["derivative"] = (infos or {})[item["name"]]
    text = json.dumps(items)
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
