"""Compile options (frozen, part of the cache key) and environment knobs.

EMBER_CACHE_DIR: disk cache folder (default ~/.cache/ember). EMBER_DUMP_IR=dir: write every
stage's IR. EMBER_DEBUG=1: keep Ember-internal tracebacks on compile errors.
"""

from __future__ import annotations

import functools
import os
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

    def key(self) -> str:
        return f"opt={self.opt_level}|fastmath={self.fastmath}"


@functools.cache
def vector_bytes() -> int:
    """Width of the host's widest float vector registers: 64 with AVX-512, else 32 on x86
    (AVX2), 16 elsewhere."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln for ln in f if ln.startswith(("flags", "Features"))), "").split()
    except OSError:
        flags = []
    return 64 if "avx512f" in flags else 32 if "avx2" in flags else 16


def debug() -> bool:
    return os.environ.get("EMBER_DEBUG", "") not in ("", "0")
