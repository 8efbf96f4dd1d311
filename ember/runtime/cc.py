"""The C compiler driver (`$CC`, cc, gcc or clang) that compiles Ember's C runtime and links
kernels; stdlib only, so code that needs it does not load llvmlite (runtime/native.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile


def compiler() -> str:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    raise RuntimeError("Ember needs a C compiler driver (cc, gcc or clang) to link kernels")


def compile_object(source: str, what: str, flags: tuple[str, ...] = ()) -> bytes:
    """One of Ember's C runtime files compiled for this machine: position-independent, every
    symbol hidden unless the source exports it; `flags`: more compiler flags (-D...)."""
    with tempfile.TemporaryDirectory(prefix="ember-rt-") as tmp:
        obj = os.path.join(tmp, "runtime.o")
        cmd = [compiler(), "-O2", "-fPIC", "-fvisibility=hidden", *flags, "-c", source,
               "-o", obj]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling {what} failed: {' '.join(cmd)}\n{proc.stderr}")
        with open(obj, "rb") as f:
            return f.read()
