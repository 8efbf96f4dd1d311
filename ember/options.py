"""Compile options (frozen, part of the cache key) and environment knobs.

EMBER_CACHE_DIR: disk cache folder (default ~/.cache/ember). EMBER_DUMP_IR=dir: write every
stage's IR. Both must be private to this user: Ember creates them (and missing parents)
owner-only (0o700), and refuses with an `UnsafePathWarning` (once per folder and process) a
folder or cache entry that is group- or world-writable or owned by another user (root aside),
then compiles without the cache or dumps nothing (ember/safedir.py). EMBER_DEBUG=1: keep
Ember-internal tracebacks on compile errors. EMBER_GPU_ARCH: the chip of target 'gpu' kernels
(default sm_90; EMBER_GPU_FEATURES overrides the PTX ISA). EMBER_BOUNDSCHECK=1: check array
indices in every CPU kernel that does not set `boundscheck` (read when it is decorated).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CompileOptions:
    opt_level: int = 3
    """LLVM optimization level of the generated code (0-3)."""
    cache: bool = True
    """Use the on-disk cache of compiled kernels."""
    fastmath: bool = False
    """Allow float reassociation, contraction and polynomial math (like Numba's fastmath):
    reductions vectorize, results may differ in the last bits."""
    target: str = "cpu"
    """'cpu', or 'gpu': prange nests run as CUDA kernels (ember/driver/gpu.py); the names are
    the keys of ember/driver/targets.py."""
    gpu_arch: str | None = None
    """GPU chip for target 'gpu' (default $EMBER_GPU_ARCH, else sm_90)."""
    boundscheck: bool | None = None
    """Check every array index (IndexError naming the array, axis, index and extent); None:
    $EMBER_BOUNDSCHECK (like NUMBA_BOUNDSCHECK), else off. CPU only."""
    error_model: str = "numpy"
    """'numpy': integer division by zero gives 0, float division inf/nan; 'python': division
    and modulo by zero raise ZeroDivisionError, and int ** negative raises (Numba's option)."""
    none: tuple[str, ...] | None = None
    """The Optional parameters that are None in the specialization compiled (ember/binding.py);
    None: those whose default is None."""
    parallel_grads: str = "deterministic"
    """How derivatives of prange loops add into the shadow of an array that several
    iterations update: 'deterministic' (a copy per thread, added in thread order: the same
    bits on every run) or 'atomic' (atomic additions: no copies, the order varies)."""

    def __post_init__(self) -> None:
        from .driver.targets import TARGETS, names  # a table only: loads no driver

        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}; choose {names()}")
        target = TARGETS[self.target]
        if self.parallel_grads not in ("deterministic", "atomic"):
            raise ValueError(f"unknown parallel_grads {self.parallel_grads!r}; choose "
                             "'deterministic' or 'atomic'")
        if self.error_model not in ("numpy", "python"):
            raise ValueError(f"unknown error_model {self.error_model!r}; choose 'numpy' or "
                             "'python'")
        if not target.raises and (self.boundscheck or self.error_model == "python"):
            raise ValueError("boundscheck=True and error_model='python' are CPU-only: GPU "
                             "kernels cannot raise")
        if self.boundscheck is None:
            object.__setattr__(self, "boundscheck", target.raises and
                               os.environ.get("EMBER_BOUNDSCHECK", "") not in ("", "0"))
        if self.gpu_arch is not None and not re.fullmatch(r"sm_\d{2,3}a?", self.gpu_arch):
            raise ValueError(f"unknown GPU architecture {self.gpu_arch!r}; expected e.g. "
                             "sm_80 or sm_90")

    @property
    def optimize_loops(self) -> bool:
        """opt_level 2-3: the loop-nest transformations (frontend/opt/: jam.py, matmul.py,
        interchange.py) and the lowering's OPTIMIZE stage."""
        return self.opt_level >= 2

    def key(self) -> str:
        base = (f"opt={self.opt_level}|fastmath={self.fastmath}|bounds={self.boundscheck}"
                f"|errors={self.error_model}"
                + ("" if self.none is None else f"|none={','.join(self.none)}")
                + ("" if self.parallel_grads == "deterministic" else "|atomic-grads"))
        from .driver.targets import TARGETS

        target = TARGETS[self.target]
        if target.chip_env is None:
            return base
        arch = self.gpu_arch or os.environ.get(target.chip_env) or target.default_chip
        return f"{base}|target={self.target}|arch={arch}"


@functools.cache
def host_cpu() -> tuple[str, ...]:
    """The host's CPU model and feature-flag lines from /proc/cpuinfo, once each (empty where
    there is none): part of cache keys, and the source of `vector_bytes`."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f.read().splitlines()
                     if ln.startswith(("model name", "flags", "Features"))]
    except OSError:
        return ()
    return tuple(dict.fromkeys(lines))


@functools.cache
def vector_bytes() -> int:
    """Width of the host's widest float vector registers: 64 with AVX-512, else 32 on x86
    (AVX2), 16 elsewhere."""
    flags = next((ln for ln in host_cpu() if ln.startswith(("flags", "Features"))), "").split()
    return 64 if "avx512f" in flags else 32 if "avx2" in flags else 16


def debug() -> bool:
    return os.environ.get("EMBER_DEBUG", "") not in ("", "0")
