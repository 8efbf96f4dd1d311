"""The on-disk cache of compiled kernels: `<root>/<key[:2]>/<key>.so` plus `<key>.json`.

The key (built by the caller) covers sources, types, options and toolchain/CPU. Writes are
atomic (temporary file + rename, metadata last), and a hit is trusted only if the metadata
names the same key and the library's size and SHA-256 match: a truncated, corrupt or
foreign entry is discarded and rebuilt, never loaded blindly. `stats` counts hits and misses.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

stats = {"hits": 0, "misses": 0, "rejected": 0}


def root() -> str:
    return os.environ.get("EMBER_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "ember")


def _paths(key: str) -> tuple[str, str]:
    folder = os.path.join(root(), key[:2])
    return os.path.join(folder, f"{key}.so"), os.path.join(folder, f"{key}.json")


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def lookup(key: str) -> tuple[str, dict] | None:
    """(library path, metadata) of a valid entry for `key`, or None."""
    lib, meta_path = _paths(key)
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        valid = (isinstance(meta, dict) and meta.get("key") == key and os.path.getsize(lib) == meta.get("size")
                 and _digest(lib) == meta.get("sha256"))
    except (OSError, ValueError, TypeError):
        valid = False
        meta = {}
    if not valid:
        if os.path.exists(meta_path) or os.path.exists(lib):
            stats["rejected"] += 1
        stats["misses"] += 1
        return None
    stats["hits"] += 1
    return lib, meta


def _atomic_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store(key: str, library: str, meta: dict) -> str:
    """Copy the built `library` into the cache under `key`; return the cached path."""
    lib, meta_path = _paths(key)
    with open(library, "rb") as f:
        data = f.read()
    _atomic_write(lib, data)
    record = {**meta, "key": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _atomic_write(meta_path, json.dumps(record).encode())
    return lib
