"""The on-disk cache of compiled kernels: `<root>/<key[:2]>/<key>.so` plus `<key>.json`.

The key (built by the caller) covers sources, types, options and toolchain/CPU. Writes are
atomic (temporary file + rename, metadata last), and a hit is trusted only if the metadata
names the same key and the library's size and SHA-256 match: a truncated, corrupt or
foreign entry is discarded and rebuilt, never loaded blindly. `stats` counts hits and misses.
The metadata is a `Record`: the integrity facts and the driver's `Meta`.

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
from dataclasses import dataclass
from typing import Any

from .. import safedir
from .abi import Signature, decode_signature, encode_signature

stats = {"hits": 0, "misses": 0, "rejected": 0}


@dataclass(frozen=True)
class Meta:
    """What a cached file is, as the driver that stored it describes it."""

    kind: str
    """'kernel' (a CPU kernel's library), 'derivative', 'gpu' (a GPU manifest) or
    'aot-object' (one exported function's object code)."""
    name: str = ""
    """The entry's name inside the file (`ember_<name>` in a kernel library)."""
    signature: Signature | None = None
    """A CPU kernel's entry signature: a hit loads it without running the frontend."""

    def to_json(self) -> dict[str, Any]:
        sig = self.signature
        return {"kind": self.kind, "name": self.name,
                "signature": encode_signature(sig) if sig is not None else None}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Meta:
        sig = data.get("signature")
        return Meta(str(data["kind"]), str(data.get("name", "")),
                    decode_signature(sig) if sig is not None else None)


@dataclass(frozen=True)
class Record:
    """The metadata file of an entry: its key, the size and SHA-256 of its library, and the
    driver's `Meta`. Written last, so a complete record vouches for the library."""

    key: str
    size: int
    sha256: str
    meta: Meta

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "sha256": self.sha256,
                "meta": self.meta.to_json()}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Record:
        return Record(str(data["key"]), int(data["size"]), str(data["sha256"]),
                      Meta.from_json(data["meta"]))


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


def lookup(key: str) -> tuple[str, Meta] | None:
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
    record = _valid_record(lib, meta_path, key)
    if record is None:
        if os.path.exists(meta_path) or os.path.exists(lib):
            stats["rejected"] += 1
        stats["misses"] += 1
        return None
    stats["hits"] += 1
    return lib, record.meta


def _valid_record(lib: str, meta_path: str, key: str) -> Record | None:
    """The record of the entry, if it is well formed and vouches for `lib` under `key`."""
    try:
        with open(meta_path) as f:
            record = Record.from_json(json.load(f))
        valid = (record.key == key and os.path.getsize(lib) == record.size
                 and _digest(lib) == record.sha256)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return record if valid else None


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


def store(key: str, library: str, meta: Meta) -> str:
    """Copy the built `library` into the cache under `key`; return the cached path, or
    `library` itself where the cache folder is not private."""
    folder = _folder(key, create=True)
    if folder is None:
        return library
    lib, meta_path = _paths(folder, key)
    with open(library, "rb") as f:
        data = f.read()
    _atomic_write(lib, data)
    record = Record(key, len(data), hashlib.sha256(data).hexdigest(), meta)
    _atomic_write(meta_path, json.dumps(record.to_json()).encode())
    return lib
