"""The disk cache, measured by counters (never timers): a second process hits it, editing a
called kernel or a global constant invalidates it, `cache=False` never writes, and corrupt,
truncated or foreign entries are detected, ignored and rebuilt.

Every test runs with its own temporary EMBER_CACHE_DIR. Cross-process tests write a module to
`tmp_path` and run it in fresh interpreters, which print `entry.cache_hit`,
`ember.runtime.cache.stats` and the kernel's result as JSON.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.runtime import cache

REPO = Path(__file__).resolve().parent.parent

MODULE = '''
import numpy as np
from ember import f64, kernel

SCALE = {scale}


@kernel
def helper(x: float) -> float:
    return {helper_body}


@kernel{options}
def entry(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += helper(a[i]) * SCALE
    return s
'''

OTHER = '''
import numpy as np
from ember import f64, kernel


@kernel
def entry(a: f64[:]) -> float:
    return a[0] - 100.0
'''

MAIN = '''
import json
import numpy as np
import ember.runtime.cache
import mod

result = mod.entry(np.arange(5.0))
print(json.dumps({"hit": mod.entry.cache_hit, "stats": ember.runtime.cache.stats,
                  "result": result}))
'''


def write_module(folder: Path, scale="2.0", helper_body="x * x", options="", prefix=""):
    (folder / "mod.py").write_text(prefix + MODULE.format(scale=scale, helper_body=helper_body,
                                                          options=options))
    (folder / "main.py").write_text(MAIN)


def expected(scale=2.0, helper=lambda x: x * x):
    return sum(helper(float(x)) * scale for x in range(5))


def run_process(folder: Path) -> dict:
    """Run main.py in a fresh interpreter (inheriting EMBER_CACHE_DIR); return what it printed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a same-size edit must not reuse a stale .pyc
    proc = subprocess.run([sys.executable, "main.py"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("EMBER_CACHE_DIR", str(root))
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def entries(root: Path, suffix: str) -> list[Path]:
    return sorted(root.rglob(f"*{suffix}")) if root.exists() else []


def assert_miss(out: dict, *, rejected: int = 0):
    assert out["hit"] is False
    assert out["stats"] == {"hits": 0, "misses": 1, "rejected": rejected}


def assert_hit(out: dict):
    assert out["hit"] is True
    assert out["stats"] == {"hits": 1, "misses": 0, "rejected": 0}


# --- a second process ---------------------------------------------------------------------------

def test_second_process_hits_the_cache(cache_dir, project):
    write_module(project)
    first = run_process(project)
    assert_miss(first)
    assert first["result"] == expected()
    assert len(entries(cache_dir, ".so")) == 1 and len(entries(cache_dir, ".json")) == 1
    assert not [p for p in cache_dir.rglob(".tmp-*")], "a temporary file was left behind"
    second = run_process(project)
    assert_hit(second)
    assert second["result"] == expected()


def test_unrelated_edit_above_the_kernel_still_hits(cache_dir, project):
    write_module(project)
    assert_miss(run_process(project))
    write_module(project, prefix="# a comment\n\n\ndef unrelated():\n    return 1\n")
    out = run_process(project)
    assert_hit(out)
    assert out["result"] == expected()


def test_editing_a_called_kernel_invalidates_the_caller(cache_dir, project):
    write_module(project)
    assert_miss(run_process(project))
    assert_hit(run_process(project))
    write_module(project, helper_body="x + x")  # only the callee's body changes
    out = run_process(project)
    assert_miss(out)
    assert out["result"] == expected(helper=lambda x: x + x)
    assert_hit(run_process(project))


def test_changing_a_global_constant_invalidates(cache_dir, project):
    write_module(project, scale="2.0")
    assert_miss(run_process(project))
    write_module(project, scale="3.0")
    out = run_process(project)
    assert_miss(out)
    assert out["result"] == expected(scale=3.0)
    write_module(project, scale="2.0")  # back to the first value: its entry is still there
    assert_hit(run_process(project))


def test_changing_a_global_constant_type_invalidates(cache_dir, project):
    write_module(project, scale="2.0")
    assert_miss(run_process(project))
    write_module(project, scale="2")  # int instead of float: same value, other type
    out = run_process(project)
    assert_miss(out)
    assert out["result"] == expected(scale=2)


def test_changing_options_invalidates(cache_dir, project):
    write_module(project)
    assert_miss(run_process(project))
    write_module(project, options="(opt_level=1)")
    out = run_process(project)
    assert_miss(out)
    assert out["result"] == expected()


# --- cache=False --------------------------------------------------------------------------------

def test_cache_false_never_writes(cache_dir, project):
    write_module(project, options="(cache=False)")
    for _ in range(2):
        out = run_process(project)
        assert out["hit"] is False
        assert out["stats"] == {"hits": 0, "misses": 0, "rejected": 0}
        assert out["result"] == expected()
    assert not cache_dir.exists() or not any(cache_dir.rglob("*"))


def test_cache_false_ignores_an_existing_entry(cache_dir, project):
    write_module(project)
    assert_miss(run_process(project))
    before = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*")}
    write_module(project, options="(cache=False)")
    out = run_process(project)
    assert out["hit"] is False and out["stats"]["hits"] == 0
    assert {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*")} == before


# --- corrupt entries ----------------------------------------------------------------------------

def _only(root: Path, suffix: str) -> Path:
    found = entries(root, suffix)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("keep", [0.5, 0.0], ids=["half", "empty"])
def test_truncated_library_is_rebuilt(cache_dir, project, keep):
    write_module(project)
    assert_miss(run_process(project))
    lib = _only(cache_dir, ".so")
    size = lib.stat().st_size
    with open(lib, "r+b") as f:
        f.truncate(int(size * keep))
    out = run_process(project)
    assert_miss(out, rejected=1)
    assert out["result"] == expected()
    assert _only(cache_dir, ".so").stat().st_size == size  # rebuilt in place
    assert_hit(run_process(project))


def test_corrupted_library_bytes_are_rebuilt(cache_dir, project):
    write_module(project)
    assert_miss(run_process(project))
    lib = _only(cache_dir, ".so")
    data = bytearray(lib.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    lib.write_bytes(bytes(data))
    out = run_process(project)
    assert_miss(out, rejected=1)
    assert out["result"] == expected()
    assert_hit(run_process(project))


@pytest.mark.parametrize("garbage", ["not json {", "", "[1, 2, 3]", '{"key": "x"}', "\x00\xff"],
                         ids=["text", "empty", "list", "wrong-key", "binary"])
def test_garbage_metadata_is_ignored(cache_dir, project, garbage):
    write_module(project)
    assert_miss(run_process(project))
    _only(cache_dir, ".json").write_text(garbage, errors="surrogateescape")
    out = run_process(project)
    assert_miss(out, rejected=1)
    assert out["result"] == expected()
    assert_hit(run_process(project))


def test_foreign_library_is_not_loaded(cache_dir, project, tmp_path):
    """Another kernel's library under this kernel's key is rejected, never run."""
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "mod.py").write_text(OTHER)
    (other_dir / "main.py").write_text(MAIN)
    foreign_out = run_process(other_dir)
    assert foreign_out["result"] == -100.0
    foreign = _only(cache_dir, ".so")

    write_module(project)
    assert_miss(run_process(project))
    mine = [p for p in entries(cache_dir, ".so") if p != foreign]
    assert len(mine) == 1
    mine[0].write_bytes(foreign.read_bytes())
    out = run_process(project)
    assert_miss(out, rejected=1)
    assert out["result"] == expected()


def test_missing_library_with_metadata_is_rebuilt(cache_dir, project):
    write_module(project)
    assert_miss(run_process(project))
    _only(cache_dir, ".so").unlink()
    out = run_process(project)
    assert_miss(out, rejected=1)
    assert out["result"] == expected()
    assert_hit(run_process(project))


# --- the cache directory ------------------------------------------------------------------------

def test_cache_dir_is_created_if_missing(tmp_path, monkeypatch, project):
    root = tmp_path / "does" / "not" / "exist"
    monkeypatch.setenv("EMBER_CACHE_DIR", str(root))
    write_module(project)
    assert_miss(run_process(project))
    assert root.is_dir()
    assert len(entries(root, ".so")) == 1
    assert_hit(run_process(project))


def test_env_var_is_read_at_compile_time(cache_dir, tmp_path, monkeypatch):
    """In-process: a new Kernel for the same function finds the entry the first one wrote."""
    write_module(tmp_path)
    spec = importlib.util.spec_from_file_location("_ember_cache_mod", tmp_path / "mod.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = dict(cache.stats)
    assert module.entry(np.arange(5.0)) == expected()
    assert module.entry.cache_hit is False
    assert cache.stats["misses"] == before["misses"] + 1
    again = ember.kernel(module.entry.py_func)
    assert again(np.arange(5.0)) == expected()
    assert again.cache_hit is True
    assert cache.stats["hits"] == before["hits"] + 1
    assert len(entries(cache_dir, ".so")) == 1
