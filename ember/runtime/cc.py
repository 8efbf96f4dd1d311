"""The C compiler driver (`$CC`, cc, gcc or clang) that compiles Ember's C runtime and links
kernels; stdlib only, so code that needs it does not load llvmlite (runtime/native.py)."""

from __future__ import annotations

import os
import shutil


def compiler() -> str:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    raise RuntimeError("Ember needs a C compiler driver (cc, gcc or clang) to link kernels")
