"""The on-disk cache of compiled kernels: `<root>/<key[:2]>/<key>.so` plus `<key>.json`.

The key (built by the caller) covers sources, types, options and toolchain/CPU. Writes are
atomic (temporary file + rename, metadata last), and a hit is trusted only if the metadata
names the same key and the library's size and SHA-256 match: a truncated, corrupt or
foreign entry is discarded and rebuilt, never loaded blindly. `stats` counts hits and misses.
The metadata is a `Record`: the integrity facts and the driver's `Meta`. A build holds
`<key>.lock` (`Claim`), so processes missing the same entry at once compile it once.

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
import time
from dataclasses import dataclass
from typing import Any

from .. import safedir
from .abi import Signature, decode_signature, encode_signature

try:
    import fcntl
except ImportError:  # no flock (Windows): concurrent builds of one entry each compile
    fcntl = None  # type: ignore[assignment]

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
    found, rejected = _find(key)
    _count(found, rejected)
    return found


def _find(key: str) -> tuple[tuple[str, Meta] | None, bool]:
    """`lookup` without counting: (the entry or None, whether an entry was refused)."""
    folder = _folder(key, create=False)
    if folder is None:
        return None, False
    lib, meta_path = _paths(folder, key)
    if not _private_entry((lib, meta_path)):
        return None, True
    record = _valid_record(lib, meta_path, key)
    if record is None:
        return None, os.path.exists(meta_path) or os.path.exists(lib)
    return (lib, record.meta), False


def _count(found: tuple[str, Meta] | None, rejected: bool) -> None:
    stats["rejected"] += int(rejected)
    stats["hits" if found is not None else "misses"] += 1


class Claim:
    """`with cache.Claim() as claim: hit = claim.lookup(key)`: on a miss, wait while another
    process builds `key`, and where the entry is still missing hold its build lock until the
    `with` ends (after `store`, or on an error). Processes compiling the same kernel at once
    (a pool or a cluster starting cold) so build it once and the others load it. The lock is
    an flock on `<key>.lock` beside the entry: the system drops it if its process dies, and a
    waiter past `WAIT_S` builds the entry itself."""

    def __init__(self) -> None:
        self._fd: int | None = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None

    def lookup(self, key: str) -> tuple[str, Meta] | None:
        found, rejected = _find(key)
        if found is None and self._fd is None:
            self._fd = _lock(key)
            if self._fd is not None:
                found, again = _find(key)
                rejected = rejected or again
        _count(found, rejected)
        return found


WAIT_S = 300.0
"""How long a process waits for another one building the same entry."""


def _lock(key: str) -> int | None:
    """A descriptor holding the exclusive flock of `key`'s build, or None (no flock on this
    system, no private folder, or `WAIT_S` passed)."""
    folder = _folder(key, create=True) if fcntl is not None else None
    if folder is None:
        return None
    try:
        fd = os.open(os.path.join(folder, f"{key}.lock"),
                     os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return None
    deadline = time.monotonic() + WAIT_S
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
            except OSError:
                pass
            os.close(fd)
            return None
    except BaseException:  # interrupted while waiting
        os.close(fd)
        raise


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
