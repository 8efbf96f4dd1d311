"""LLVM IR -> optimized object code (llvmlite) -> shared library (`cc -shared`).

The kernel's functions become internal so that LLVM inlines them into the entry thunk and the
library exports only `ember_*` symbols. Objects target the host CPU (all its features) unless
a CPU name is given; the target machine is created once per (cpu, features).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import threading

import llvmlite.binding as llvm

from . import exactmath, vecmath
from .cc import compiler
from .thunk import PRELUDE

_NUW = re.compile(r"\bnuw ")
_SYMBOL = re.compile(r"^(?:define|declare) [^@]*@([\w.$]+)\(", re.MULTILINE)
_DEFINE = re.compile(
    r"^define (?:(?:internal|private|linkonce_odr|weak_odr|linkonce|weak|external) )?",
    re.MULTILINE)


@functools.cache
def _init() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


_HOISTING = {"on": True}
"""Whether LLVM's process-wide `-hoist-runtime-checks` is on now (its default: on)."""
_OPTIONS_LOCK = threading.Lock()
"""Held while a module is optimized under the option it needs."""


def _hoist_runtime_checks(on: bool) -> None:
    """LLVM hoists a vectorized loop's overlap checks out of the loop around it, widened to
    that loop's whole range: right for a primal's stencil sweeps (one check per sweep, not
    per row), wrong for a derivative's jammed reverse rows of one array (`dw[j + r, i] +=
    d_r * x[i]`), which then always "overlap", so that its scalar loop always runs."""
    if _HOISTING["on"] != on:
        llvm.set_option("ember", f"-hoist-runtime-checks={'true' if on else 'false'}")
        _HOISTING["on"] = on


@functools.cache
def target_machine(cpu: str | None = None) -> llvm.TargetMachine:
    _init()
    target = llvm.Target.from_default_triple()
    if cpu is None:
        return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                            features=llvm.get_host_cpu_features().flatten(),
                                            opt=3, reloc="pic", codemodel="default")
    return target.create_target_machine(cpu=cpu, opt=3, reloc="pic", codemodel="default")


def host_id() -> str:
    """The CPU name and features objects are compiled for (part of cache keys)."""
    _init()
    return f"{llvm.get_host_cpu_name()}:{llvm.get_host_cpu_features().flatten()}"


def prepare_ir(kernel_ir: str, thunks: list[str]) -> str:
    """Join kernel and thunk IR. Kernel functions become internal, and `nuw` flags go: MLIR's
    memref lowering marks stride products `nuw`, which is poison for negative numpy strides."""
    body = _DEFINE.sub("define internal ", _NUW.sub("", kernel_ir))
    provided = set(_SYMBOL.findall("\n".join(thunks)))
    body = "\n".join(line for line in body.splitlines()
                     if not (line.startswith("declare ") and _declared(line) in provided))
    return "\n".join([body, PRELUDE, *thunks])


def _declared(line: str) -> str:
    found = _SYMBOL.search(line)
    return found.group(1) if found else ""


def optimize(ir_text: str, cpu: str | None = None, speed: int = 3,
             vector_math: bool = False, derivative: bool = False,
             exact_math: bool | None = None) -> llvm.ModuleRef:
    """Parse and optimize; with `vector_math` (fastmath kernels), the vectorized math
    intrinsics LLVM would scalarize call glibc's vector math library instead (vecmath.py);
    otherwise, with `exact_math` (default: host builds, `cpu` None), vectorized f64 `tanh`
    is computed in vector registers with libm's exact bits (exactmath.py).
    A `derivative` is optimized without the SLP vectorizer (the reverse of a stencil adds
    into neighbouring shadow elements, `du[i-1] += a; du[i] += b`, which it pairs into one
    16-byte load and store that then waits on the 8-byte store of the previous iteration: a
    store-forwarding stall, the heat-equation gradient ran 5x slower) and with its overlap
    checks kept inside their loops (`_hoist_runtime_checks`)."""
    tm = target_machine(cpu)
    mod = _parse(ir_text, tm)
    options = llvm.create_pipeline_tuning_options(speed_level=speed)
    options.loop_vectorization = True
    options.slp_vectorization = not derivative
    builder = llvm.create_pass_builder(tm, options)
    with _OPTIONS_LOCK:
        _hoist_runtime_checks(not derivative)
        builder.getModulePassManager().run(mod, builder)
    if vector_math and vecmath.VECTOR_INTRINSIC.search(text := str(mod)):
        mod = _parse(vecmath.use_libmvec(text), tm)
    elif not vector_math and (cpu is None if exact_math is None else exact_math):
        mod = _exact_tanh(mod, tm)
    return mod


def _exact_tanh(mod: llvm.ModuleRef, tm: llvm.TargetMachine) -> llvm.ModuleRef:
    """`mod` with its vectorized f64 `tanh` calls computing libm's bits inline, where this
    host allows it (exactmath.py)."""
    if not (any(exactmath.VECTOR_TANH.match("@" + f.name) for f in mod.functions)
            and exactmath.enabled()):
        return mod
    mod = _parse(exactmath.use_exact_tanh(str(mod)), tm)
    inliner = llvm.create_new_module_pass_manager()
    inliner.add_always_inliner_pass()
    inliner.run(mod, llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options()))
    return mod


def _parse(ir_text: str, tm: llvm.TargetMachine) -> llvm.ModuleRef:
    mod = llvm.parse_assembly(ir_text)
    mod.triple = llvm.get_process_triple()
    mod.data_layout = str(tm.target_data)
    mod.verify()
    return mod


def emit_object(mod: llvm.ModuleRef, cpu: str | None = None) -> bytes:
    return target_machine(cpu).emit_object(mod)


def emit_assembly(mod: llvm.ModuleRef, cpu: str | None = None) -> str:
    return target_machine(cpu).emit_assembly(mod)


def libraries(ir_text: str) -> list[str]:
    """Extra libraries code needs: libgomp for parallel loops (runtime/parallel.py)."""
    return ["-lgomp"] if "@GOMP_parallel" in ir_text else []


def link_shared(objects: list[bytes], out_path: str, libs: list[str] | None = None) -> None:
    """Link object files into a shared library at `out_path` (written atomically)."""
    with tempfile.TemporaryDirectory(prefix="ember-link-") as tmp:
        paths = []
        for k, obj in enumerate(objects):
            path = os.path.join(tmp, f"k{k}.o")
            with open(path, "wb") as f:
                f.write(obj)
            paths.append(path)
        out_tmp = os.path.join(tmp, "out.so")
        vector = ["-lmvec"] if any(vecmath.PREFIX in obj for obj in objects) else []
        cmd = [compiler(), "-shared", "-o", out_tmp, *paths, *(libs or []), *vector, "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"linking failed: {' '.join(cmd)}\n{proc.stderr}")
        shutil.move(out_tmp, out_path)
