"""Driver of `target="gpu"` kernels: frontend -> GPU plan -> MLIR -> PTX -> manifest.

`gpu_manifest` builds the JSON-able manifest that runtime/cuda.py's `GpuFunction` runs (the
AOT GPU build writes the same manifest into its loader). `compile_gpu` adds the disk cache
(the manifest, PTX included, is the cached file) and returns a `CompiledGpu` for `Kernel`.
`inspect_gpu` shows a stage: 'mlir' (host functions with scf.parallel), 'lowered' (after the
GPU stages: gpu.binary ops), 'ptx' (the PTX of every nest).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from .. import types as T
from ..errors import CompileError
from ..options import CompileOptions
from ..runtime import cache
from ..runtime.cuda import GpuFunction
from . import COMPILE_LOCK
from .cachekey import cache_key

GPU_STAGES = ("mlir", "lowered", "ptx")


@dataclass(frozen=True)
class CompiledGpu:
    """What `Kernel.compile()` keeps for a GPU kernel (no native library, no fast path)."""

    name: str
    entry: Any
    manifest: dict
    cache_hit: bool
    packed: None = None


def _plan(func: Any) -> Any:
    from ..frontend import build_program
    from ..frontend.gpu import plan_gpu

    program = build_program(func, outline=False)
    return plan_gpu(program.functions[program.entry])


def gpu_manifest(func: Any, options: CompileOptions) -> dict:
    """Compile `func` for the GPU: the manifest with the PTX of each prange nest."""
    from ..ir import mlir_context
    from ..ir.gpu import emit_gpu_module
    from ..lowering.gpu import gpu_arch, lower_to_ptx

    plan = _plan(func)
    chip = gpu_arch(options.gpu_arch)
    with mlir_context():
        module, kinds = emit_gpu_module(plan)
        launches = {item["function"]: item for item in lower_to_ptx(module, plan.fn.name, chip)}
    nests = [_nest(n, kinds[k], launches[n.name]) for k, n in enumerate(plan.nests)]
    return {"name": plan.fn.name, "arch": chip, "params": _params(plan.fn),
            "steps": list(plan.steps), "nests": nests, "ret": _ret(plan.fn.ret)}


def _nest(nest: Any, kinds: list, launch: dict) -> dict:
    from ..ir.gpu import is_strided

    strided = is_strided(nest)
    depth = 1 if strided else len(nest.loops)
    if launch["block"][depth:] != [1] * (3 - depth):
        raise CompileError(f"internal compiler error: unexpected GPU block {launch['block']}")
    return {"kernel": launch["kernel"], "ptx": launch["ptx"],
            "bounds": [list(b) for b in nest.bounds], "args": kinds, "params": launch["params"],
            "block": launch["block"], "strided": strided,
            "reductions": [[name, t.np_dtype.name] for name, t in nest.reductions]}


def _params(fn: Any) -> list[dict]:
    out = []
    for name, t in fn.params:
        if isinstance(t, T.Array):
            out.append({"name": name, "kind": "array", "dtype": t.dtype.np_dtype.name,
                        "ndim": t.ndim, "written": name in fn.written})
        else:
            out.append({"name": name, "kind": "scalar", "dtype": t.np_dtype.name})
    return out


def _ret(ret: T.Type) -> dict | None:
    if isinstance(ret, T.NoneType):
        return None
    items = ret.items if isinstance(ret, T.Tuple) else (ret,)
    if not all(isinstance(t, T.Scalar) for t in items):
        raise CompileError("a GPU kernel can return scalars only")
    return {"tuple": isinstance(ret, T.Tuple), "kinds": [t.kind for t in items]}  # type: ignore[union-attr]


def compile_gpu(func: Any, options: CompileOptions) -> CompiledGpu:
    """The manifest of `func` from the disk cache or compiled, wrapped for calls."""
    with COMPILE_LOCK:
        return _compile_gpu(func, options)


def _compile_gpu(func: Any, options: CompileOptions) -> CompiledGpu:
    key = cache_key(func, options) if options.cache else None
    hit = cache.lookup(key) if key else None
    if hit is not None:
        with open(hit[0]) as f:
            manifest = json.load(f)
        return CompiledGpu(manifest["name"], GpuFunction(manifest), manifest, True)
    manifest = gpu_manifest(func, options)
    if key:
        with tempfile.TemporaryDirectory(prefix="ember-gpu-") as tmp:
            path = os.path.join(tmp, "manifest.json")
            with open(path, "w") as f:
                json.dump(manifest, f)
            cache.store(key, path, {"kernel": manifest["name"], "kind": "gpu"})
    return CompiledGpu(manifest["name"], GpuFunction(manifest), manifest, False)


def inspect_gpu(func: Any, stage: str, options: CompileOptions) -> str:
    """The text of one stage of a GPU kernel: 'mlir', 'lowered' or 'ptx'."""
    with COMPILE_LOCK:
        return _inspect_gpu(func, stage, options)


def _inspect_gpu(func: Any, stage: str, options: CompileOptions) -> str:
    if stage not in GPU_STAGES:
        raise ValueError(f"unknown stage {stage!r} for a GPU kernel; choose one of "
                         f"{', '.join(GPU_STAGES)}")
    if stage == "ptx":
        manifest = gpu_manifest(func, options)
        return "\n".join(f"// ----- kernel {n['kernel']}\n{n['ptx']}" for n in manifest["nests"])
    from ..ir import mlir_context
    from ..ir.gpu import emit_gpu_module
    from ..lowering.gpu import gpu_arch, lower_to_ptx

    plan = _plan(func)
    with mlir_context():
        module, _ = emit_gpu_module(plan)
        if stage == "lowered":
            lower_to_ptx(module, plan.fn.name, gpu_arch(options.gpu_arch))
        return str(module)
