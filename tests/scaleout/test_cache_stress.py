"""The shared disk cache under concurrency (issue 17, acceptance 5): 8 processes started at
once compile the same kernels (a kernel, an array-returning kernel, a grad) into ONE
EMBER_CACHE_DIR, 5 rounds: cold, warm, entries corrupted in between (a truncated library, a
garbage record, a deleted library), warm again, then every entry deleted and the kernels'
source changed. Every process checks its results against NumPy; `ember.runtime.cache.stats`
shows what each loaded: a cold entry is built by one process while the others wait for it
(`cache.Claim`), a refused entry is counted; afterwards every entry's record vouches for its
library and no temporary file is left. Also, in this process: a truncated or foreign entry is
never loaded; a build lock held by another process makes a lookup wait for its entry, and is
released when that process dies."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ember.driver.cachekey import _ember_sources
from ember.runtime import cache

PROCESSES = 8
TIMEOUT = 180
COMPILER = _ember_sources()
"""The part of every key naming the compiler's own sources, computed once and given to the
workers: other engineers editing ember/ while the test runs would otherwise (rightly) change
the keys between rounds."""

WORKER = '''
import json
import sys
import time

import numpy as np

import ember
from ember import f64
from ember.driver import cachekey
from ember.runtime import cache

SCALE = float(sys.argv[3])
cachekey._ember_sources = lambda: sys.argv[4]  # the compiler's version, pinned by the test


@ember.kernel
def poly(x: f64[:]) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += SCALE * x[i] * x[i] + x[i]
    return s


@ember.kernel
def axpy(a: float, x: f64[:], y: f64[:]) -> f64[:]:
    return a * x + y + SCALE


dpoly = ember.grad(poly)

start = float(sys.argv[1])
while time.time() < start:  # every process starts compiling at the same moment
    time.sleep(0.001)
x = np.linspace(-1.0, 1.0, 7) * (1 + int(sys.argv[2]))
y = np.arange(7.0)
ok = (abs(poly(x) - float(np.sum(SCALE * x * x + x))) < 1e-9
      and np.allclose(dpoly(x), 2 * SCALE * x + 1, rtol=1e-12)
      and np.allclose(axpy(1.5, x, y), 1.5 * x + y + SCALE, rtol=1e-12))
print(json.dumps({"ok": bool(ok), "stats": cache.stats}))
'''


def _round(script: Path, folder: Path, scale: float) -> list[dict]:
    """Start PROCESSES workers, all compiling at one moment; their reports."""
    env = {**os.environ, "EMBER_CACHE_DIR": str(folder)}
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, str(script), str(start), str(k), str(scale),
                               COMPILER],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for k in range(PROCESSES)]
    reports = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=TIMEOUT)
            assert p.returncode == 0, err.decode()
            reports.append(json.loads(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(r["ok"] for r in reports), reports
    return reports


def _total(reports: list[dict], what: str) -> int:
    return sum(r["stats"][what] for r in reports)


def _entries(folder: Path) -> dict[str, dict]:
    """Every record in the cache, by the name of its library."""
    return {str(p.with_suffix(".so")): json.loads(p.read_text()) for p in folder.rglob("*.json")}


def _audit(folder: Path) -> int:
    """Every record vouches for its library (size, SHA-256, key); no temporary file is left."""
    records = _entries(folder)
    for lib, record in records.items():
        data = Path(lib).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (record["size"], record["sha256"])
        assert Path(lib).stem == record["key"]
    assert not [p for p in folder.rglob(".tmp-*")]
    return len(records)


def _corrupt(folder: Path) -> None:
    """Truncate the kernel's library, garble the derivative's record, delete axpy's library."""
    for lib, record in _entries(folder).items():
        name, kind = record["meta"]["name"], record["meta"]["kind"]
        if kind == "derivative":
            Path(lib).with_suffix(".json").write_text('{"key": "garbage')
        elif "axpy" in name:
            os.unlink(lib)
        else:
            data = Path(lib).read_bytes()
            Path(lib).write_bytes(data[: len(data) // 2])


def test_eight_processes_five_rounds_one_cache(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    folder = tmp_path / "cache"  # created by the first of the 8 processes to get there
    cold = _round(script, folder, 1.0)
    assert _total(cold, "misses") == 3 and _audit(folder) == 3  # each built once (Claim)
    warm = _round(script, folder, 1.0)
    assert _total(warm, "misses") == 0 and _total(warm, "hits") == 3 * PROCESSES
    _corrupt(folder)
    repaired = _round(script, folder, 1.0)
    assert _total(repaired, "rejected") >= 3  # each broken entry was seen and refused
    assert _total(repaired, "misses") == 3
    assert _audit(folder) == 3
    again = _round(script, folder, 1.0)
    assert _total(again, "rejected") == 0 and _total(again, "hits") == 3 * PROCESSES
    for p in folder.rglob("*"):
        if p.is_file():
            p.unlink()
    changed = _round(script, folder, 2.0)  # new source, empty cache: nothing stale is loaded
    assert _total(changed, "misses") == 3 and _audit(folder) == 3


def test_truncated_or_foreign_entries_are_never_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    library = tmp_path / "lib.so"
    library.write_bytes(b"\x7fELF" + bytes(range(256)) * 8)
    key = "ab" * 32
    path = cache.store(key, str(library), cache.Meta("kernel", "k"))
    assert cache.lookup(key) == (path, cache.Meta("kernel", "k"))
    before = dict(cache.stats)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[:100])  # truncated
    assert cache.lookup(key) is None
    Path(path).write_bytes(data[:-1] + b"\0")  # same size, other bytes
    assert cache.lookup(key) is None
    Path(path).write_bytes(data)
    other = "cd" * 32  # a record copied under another key
    other_dir = tmp_path / "cache" / other[:2]
    other_dir.mkdir(mode=0o700)
    (other_dir / f"{other}.so").write_bytes(data)
    (other_dir / f"{other}.json").write_bytes(Path(path).with_suffix(".json").read_bytes())
    assert cache.lookup(other) is None
    assert cache.stats["rejected"] - before["rejected"] == 3
    assert cache.lookup(key) is not None


@pytest.fixture(autouse=True)
def _fresh_stats():
    saved = dict(cache.stats)
    yield
    cache.stats.update(saved)


HOLDER = '''
import sys, time
from ember.runtime import cache
with cache.Claim() as claim:
    assert claim.lookup(sys.argv[1]) is None
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
    if sys.argv[2] == "store":
        cache.store(sys.argv[1], sys.argv[4], cache.Meta("kernel", "k"))
    else:
        time.sleep(60)  # killed before it stores anything
'''


def _holder(tmp_path: Path, key: str, mode: str, pause: float) -> subprocess.Popen:
    library = tmp_path / "lib.so"
    library.write_bytes(b"\x7fELF" + bytes(range(256)))
    env = {**os.environ, "EMBER_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, key, mode, str(pause), str(library)],
                            stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdout.readline() == b"holding\n"
    return proc


def test_a_claim_makes_others_wait_and_dies_with_its_process(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    key = "ef" * 32
    holder = _holder(tmp_path, key, "store", 1.0)
    try:
        with cache.Claim() as claim:
            found = claim.lookup(key)  # waits for the holder, then loads what it stored
        assert found is not None and found[1] == cache.Meta("kernel", "k")
    finally:
        holder.kill()
        holder.wait(TIMEOUT)
    other = "0f" * 32
    holder = _holder(tmp_path, other, "die", 0.0)
    holder.kill()  # dies holding the lock: the system releases it
    holder.wait(TIMEOUT)
    started = time.monotonic()
    with cache.Claim() as claim:
        assert claim.lookup(other) is None  # the entry is ours to build now
    assert time.monotonic() - started < 10
