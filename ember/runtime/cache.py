"""The on-disk cache of compiled kernels: `<root>/<key[:2]>/<key>.so` plus `<key>.json`.

The key (built by the caller) covers sources, types, options and toolchain/CPU. Writes are
atomic (temporary file + rename, metadata last), and a hit is trusted only if the metadata
names the same key and the library's size and SHA-256 match: a truncated, corrupt or
foreign entry is discarded and rebuilt, never loaded blindly. `stats` counts hits and misses.

Only private folders and entries are used (ember/safedir.py): Ember creates the root and its
subfolders owner-only (0o700), and a root, subfolder or entry that another user owns or can
write is refused with a warning; kernels then build in a private temporary folder and are not
cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from .. import safedir

stats = {"hits": 0, "misses": 0, "rejected": 0}


def root() -> str:
    return os.environ.get("EMBER_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "ember")


_REFUSED = ("kernels are compiled in a private temporary folder and not cached; make it "
            "yours and writable by you only (chmod 700), or set EMBER_CACHE_DIR to such a folder")


def _folder(key: str, create: bool) -> str | None:
    """The folder of `key`'s entry, or None where the root or that folder is not private
    (created owner-only first where `create`)."""
    base = root()
    folder = os.path.join(base, key[:2])
    for path in (base, folder):
        if not safedir.trusted(path, "the kernel cache folder", _REFUSED, create=create):
            return None
    return folder


def _paths(folder: str, key: str) -> tuple[str, str]:
    return os.path.join(folder, f"{key}.so"), os.path.join(folder, f"{key}.json")


def _private_entry(paths: tuple[str, str]) -> bool:
    return all(safedir.trusted(p, "the cache entry", "it is rebuilt", create=False)
               for p in paths)


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def lookup(key: str) -> tuple[str, dict] | None:
    """(library path, metadata) of a valid entry for `key`, or None."""
    folder = _folder(key, create=False)
    if folder is None:
        stats["misses"] += 1
        return None
    lib, meta_path = _paths(folder, key)
    if not _private_entry((lib, meta_path)):
        stats["rejected"] += 1
        stats["misses"] += 1
        return None
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
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store(key: str, library: str, meta: dict) -> str:
    """Copy the built `library` into the cache under `key`; return the cached path, or
    `library` itself where the cache folder is not private."""
    folder = _folder(key, create=True)
    if folder is None:
        return library
    lib, meta_path = _paths(folder, key)
    with open(library, "rb") as f:
        data = f.read()
    _atomic_write(lib, data)
    record = {**meta, "key": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _atomic_write(meta_path, json.dumps(record).encode())
    return lib
