"""The tape arena of gradient libraries (runtime/arena.c): its object, linked into every
library whose IR releases the arena, and the per-thread cache control behind
`ember.release_tape_memory()` and `ember.tape_cached_bytes()`.

Each derivative library has its own arena (its state is hidden in the library); the JIT
registers every derivative library it loads here, so these functions reach all of them. They
act on the calling thread's cache only: a thread's cache is freed when the thread exits.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable
from typing import Final

from .cc import compile_object

_SOURCE: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arena.c")
RELEASE: Final = "ember_arena_release"
"""Called by every derivative entry at the end of a call: a library calling it links arena.c."""

_lock = threading.Lock()
_libraries: dict[int, tuple[Callable[[], None], Callable[[], int]]] = {}
"""dlopen handle -> (ember_tape_trim, ember_tape_cached_bytes) of each loaded library."""


@functools.cache
def runtime_object(exported: bool) -> bytes:
    """arena.c compiled for this machine (once per process); `exported`: for the JIT, with
    ember_tape_trim/ember_tape_cached_bytes visible to `register`."""
    return compile_object(_SOURCE, "Ember's tape arena",
                          ("-DEMBER_TAPE_EXPORT",) if exported else ())


def runtime_objects(ir_text: str) -> list[bytes]:
    """[the arena object] for a JIT library whose IR releases the arena, else []."""
    return [runtime_object(True)] if f"@{RELEASE}" in ir_text else []


def linked_objects(objects: list[bytes]) -> list[bytes]:
    """The same for an AOT library made of compiled `objects` (its C API wraps the arena's
    functions: aot/c_header.py)."""
    return [runtime_object(False)] if any(RELEASE.encode() in obj for obj in objects) else []


def register(library: ctypes.CDLL) -> None:
    """Make `library`'s arena reachable from release_tape_memory (libraries built before the
    arena existed have none)."""
    trim = getattr(library, "ember_tape_trim", None)
    cached = getattr(library, "ember_tape_cached_bytes", None)
    if trim is None or cached is None:
        return
    trim.restype, trim.argtypes = None, []
    cached.restype, cached.argtypes = ctypes.c_uint64, []
    with _lock:
        _libraries.setdefault(library._handle, (trim, cached))


def _entries() -> list[tuple[Callable[[], None], Callable[[], int]]]:
    with _lock:
        return list(_libraries.values())


def release_tape_memory() -> None:
    """Free the tape memory that the calling thread keeps between derivative calls, in every
    loaded derivative library (it is allocated again by the next call that needs it)."""
    for trim, _ in _entries():
        trim()


def tape_cached_bytes() -> int:
    """Bytes of tape memory the calling thread keeps between derivative calls, over all loaded
    derivative libraries (each library keeps at most $EMBER_TAPE_CACHE_MB MiB per thread)."""
    return sum(int(cached()) for _, cached in _entries())
