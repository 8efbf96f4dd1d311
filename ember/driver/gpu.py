"""Driver of `target="gpu"` kernels: frontend -> GPU plan -> MLIR -> PTX -> manifest.

The stages are the gpu row's `Offload` entries of driver/targets.py (`stage("gpu", ...)`):
the planner (frontend), the IR emitter (ir), the lowering to PTX and the chip check
(lowering) and the launcher (runtime). `gpu_manifest` builds the `GpuManifest`
(runtime/gpu_manifest.py) that the launcher runs (the AOT GPU build writes the same manifest
into its loader). `compile_gpu` adds the disk cache
(the manifest, PTX included, is the cached file) and returns a `CompiledGpu` for `Kernel`.
`inspect_gpu` shows a stage: 'mlir' (host functions with scf.parallel), 'lowered' (after the
GPU stages: gpu.binary ops), 'ptx' (the PTX of every nest).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import types as T
from ..errors import CompileError
from ..options import CompileOptions
from ..runtime import cache
from ..runtime.gpu_manifest import (
    GpuManifest,
    KernelParam,
    Nest,
    NestArg,
    Param,
    Reduction,
    Result,
    step_from_json,
)
from . import COMPILE_LOCK
from .cachekey import cache_key
from .targets import stage

GPU_STAGES = ("mlir", "lowered", "ptx")


@dataclass(frozen=True)
class CompiledGpu:
    """What `Kernel.compile()` keeps for a GPU kernel (no native library, no fast path)."""

    name: str
    entry: Any
    manifest: GpuManifest
    cache_hit: bool
    packed: None = None


def _plan(func: Callable[..., object]) -> Any:
    from ..frontend import build_program

    program = build_program(func, outline=False)
    fn = program.functions[program.entry]
    if fn.binding is not None and not fn.binding.simple:
        raise CompileError(f"GPU kernel '{fn.name}' takes plain positional parameters only "
                           "(no defaults, keyword-only, tuple or Optional parameters); pass "
                           "each value as a parameter of its own", fn.span)
    return stage("gpu", "plan")(program.functions[program.entry], program.sites)


def gpu_manifest(func: Callable[..., object], options: CompileOptions) -> GpuManifest:
    """Compile `func` for the GPU: the manifest with the PTX of each prange nest."""
    from ..ir import mlir_context

    plan = _plan(func)
    chip = stage("gpu", "chip")(options.gpu_arch)
    with mlir_context():
        module, kinds = stage("gpu", "emit")(plan)
        lowered = stage("gpu", "lower")(module, plan.fn.name, chip)
        launches = {item["function"]: item for item in lowered}
    nests = tuple(_nest(n, kinds[k], launches[n.name]) for k, n in enumerate(plan.nests))
    return GpuManifest(plan.fn.name, chip, _params(plan.fn),
                       tuple(step_from_json(s) for s in plan.steps), nests, _ret(plan.fn.ret))


def _nest(nest: Any, kinds: list, launch: dict) -> Nest:
    args = tuple(NestArg(*kind) for kind in kinds)
    strided = any(a.what == "threads" for a in args)  # a strided nest takes its thread count
    depth = 1 if strided else len(nest.loops)
    x, y, z = launch["block"]
    if launch["block"][depth:] != [1] * (3 - depth):
        raise CompileError(f"internal compiler error: unexpected GPU block {launch['block']}")
    return Nest(launch["kernel"], launch["ptx"], tuple(tuple(b) for b in nest.bounds), args,
                tuple(KernelParam(*p) for p in launch["params"]), (x, y, z), strided,
                tuple(Reduction(name, t.np_dtype.name) for name, t in nest.reductions))


def _params(fn: Any) -> tuple[Param, ...]:
    out = []
    for name, t in fn.params:
        if isinstance(t, T.Array):
            out.append(Param(name, "array", t.dtype.np_dtype.name, t.ndim, name in fn.written))
        else:
            out.append(Param(name, "scalar", t.np_dtype.name))
    return tuple(out)


def _ret(ret: T.Type) -> Result | None:
    if isinstance(ret, T.NoneType):
        return None
    items = ret.items if isinstance(ret, T.Tuple) else (ret,)
    kinds = tuple(t.kind for t in items if isinstance(t, T.Scalar))
    if len(kinds) != len(items):
        raise CompileError("a GPU kernel can return scalars only")
    return Result(isinstance(ret, T.Tuple), kinds)


def compile_gpu(func: Callable[..., object], options: CompileOptions) -> CompiledGpu:
    """The manifest of `func` from the disk cache or compiled, wrapped for calls."""
    with COMPILE_LOCK, cache.Claim() as claim:
        return _compile_gpu(func, options, claim)


def _compile_gpu(func: Callable[..., object], options: CompileOptions,
                 claim: cache.Claim) -> CompiledGpu:
    key = cache_key(func, options) if options.cache else None
    hit = claim.lookup(key) if key else None
    launcher = stage("gpu", "launcher")
    if hit is not None:
        with open(hit[0]) as f:
            manifest = GpuManifest.from_json(json.load(f))
        return CompiledGpu(manifest.name, launcher(manifest), manifest, True)
    manifest = gpu_manifest(func, options)
    if key:
        with tempfile.TemporaryDirectory(prefix="ember-gpu-") as tmp:
            path = os.path.join(tmp, "manifest.json")
            with open(path, "w") as f:
                json.dump(manifest.to_json(), f)
            cache.store(key, path, cache.Meta("gpu", manifest.name))
    return CompiledGpu(manifest.name, launcher(manifest), manifest, False)


def inspect_gpu(func: Callable[..., object], stage: str, options: CompileOptions) -> str:
    """The text of one stage of a GPU kernel: 'mlir', 'lowered' or 'ptx'."""
    with COMPILE_LOCK:
        return _inspect_gpu(func, stage, options)


def _inspect_gpu(func: Callable[..., object], what: str, options: CompileOptions) -> str:
    if what not in GPU_STAGES:
        raise ValueError(f"unknown stage {what!r} for a GPU kernel; choose one of "
                         f"{', '.join(GPU_STAGES)}")
    if what == "ptx":
        manifest = gpu_manifest(func, options)
        return "\n".join(f"// ----- kernel {n.kernel}\n{n.ptx}" for n in manifest.nests)
    from ..ir import mlir_context

    plan = _plan(func)
    with mlir_context():
        module, _ = stage("gpu", "emit")(plan)
        if what == "lowered":
            stage("gpu", "lower")(module, plan.fn.name, stage("gpu", "chip")(options.gpu_arch))
        return str(module)
