"""Issue 11, nobody else's code in your process: Ember loads cached libraries only from folders
and entries no other user can write. It creates the cache (and EMBER_DUMP_IR) folders
owner-only; a group- or world-writable folder, or a folder or entry owned by another user, is
refused with one UnsafePathWarning per path and process, the kernel is then built in a private
temporary folder (right result, nothing cached there), and an entry planted there never runs.

The planted entry is a real one: the library of another kernel (`entry` returning a[0] - 1000)
stored, with valid metadata and SHA-256, under the key of the kernel under test (returning
a[0] + 1), so a cache that trusted the folder would run it. "Another user" is uid 65534
(nobody), given with os.chown; those cases are skipped where the test cannot chown.
"""

import importlib.util
import json
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import safedir
from ember.driver.cachekey import cache_key
from ember.runtime import cache
from ember.safedir import UnsafePathWarning

NOBODY = 65534
X = np.array([2.0, 3.0])
GOOD_RESULT = 3.0  # a[0] + 1.0
EVIL_RESULT = -998.0  # a[0] - 1000.0

SOURCE = '''
from ember import f64, kernel


@kernel
def entry(a: f64[:]) -> float:
    return a[0] {body}
'''


def _module(folder: Path, name: str, body: str):
    path = folder / f"{name}.py"
    path.write_text(SOURCE.format(body=body))
    spec = importlib.util.spec_from_file_location(f"_ember_perm_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _give_away(path: Path) -> None:
    """Make `path` owned by uid 65534; skip the test where this process cannot."""
    try:
        os.chown(path, NOBODY, -1)
    except PermissionError:
        pytest.skip("os.chown to another uid needs root")


def _unsafe_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, UnsafePathWarning)]


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """(cache root, key, kernel function): a private cache root whose valid entry for
    `entry` (+ 1.0) holds the library of the other `entry` (- 1000.0)."""
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "build"))
    good = _module(tmp_path, "good", "+ 1.0").entry
    evil = _module(tmp_path, "evil", "- 1000.0").entry
    good_path, evil_path = good.compile().path, evil.compile().path
    record = json.loads(Path(good_path).with_suffix(".json").read_text())
    key = cache_key(good.py_func, good.options)
    root = tmp_path / "cache"
    monkeypatch.setenv("EMBER_CACHE_DIR", str(root))
    cache.store(key, evil_path, cache.Record.from_json(record).meta)
    return root, key, good.py_func


def _entry(root: Path, key: str, suffix: str) -> Path:
    return root / key[:2] / f"{key}{suffix}"


def _assert_built_privately(func, root: Path) -> ember.Kernel:
    """A new Kernel of `func` gives the right result from a library outside `root`."""
    fresh = ember.kernel(func)
    assert fresh(X) == GOOD_RESULT
    assert fresh.cache_hit is False
    assert not fresh.compile().path.startswith(str(root))
    return fresh


def test_a_planted_entry_in_a_private_folder_would_run(planted):
    """The control: the planted entry is valid, so only the permission rule keeps it out."""
    root, _, func = planted
    fresh = ember.kernel(func)
    assert fresh(X) == EVIL_RESULT
    assert fresh.cache_hit is True


@pytest.mark.parametrize(("where", "mode", "reason"), [
    ("root", 0o770, "group-writable"), ("root", 0o777, "world-writable"),
    ("subfolder", 0o730, "group-writable"), ("subfolder", 0o703, "world-writable"),
], ids=["root-group", "root-world", "subfolder-group", "subfolder-world"])
def test_writable_cache_folder_is_refused(planted, where, mode, reason):
    root, key, func = planted
    folder = root if where == "root" else root / key[:2]
    folder.chmod(mode)
    planted_bytes = _entry(root, key, ".so").read_bytes()
    with pytest.warns(UnsafePathWarning) as record:
        _assert_built_privately(func, root)
    (message,) = _unsafe_warnings(record)
    assert repr(str(folder)) in message and reason in message, message
    assert _entry(root, key, ".so").read_bytes() == planted_bytes  # nothing stored there
    assert _mode(folder) == mode


def test_refusal_warns_once_per_folder(planted):
    root, _, func = planted
    root.chmod(0o777)
    with pytest.warns(UnsafePathWarning):
        _assert_built_privately(func, root)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _assert_built_privately(func, root)
        _assert_built_privately(func, root)
    assert _unsafe_warnings(record) == []


def test_cache_root_owned_by_another_user_is_refused(planted):
    root, _, func = planted
    _give_away(root)
    with pytest.warns(UnsafePathWarning, match=f"owned by another user \\(uid {NOBODY}"):
        _assert_built_privately(func, root)


@pytest.mark.parametrize("suffix", [".so", ".json"])
@pytest.mark.parametrize("change", ["owner", "group-writable"])
def test_foreign_entry_is_refused_and_rebuilt(planted, suffix, change):
    root, key, func = planted
    path = _entry(root, key, suffix)
    if change == "owner":
        _give_away(path)
    else:
        path.chmod(0o664)
    before = cache.stats["rejected"]
    with pytest.warns(UnsafePathWarning) as record:
        fresh = ember.kernel(func)
        assert fresh(X) == GOOD_RESULT and fresh.cache_hit is False
    (message,) = _unsafe_warnings(record)
    assert repr(str(path)) in message
    assert ("owned by another user" if change == "owner" else "group-writable") in message
    assert cache.stats["rejected"] == before + 1
    for entry in (_entry(root, key, ".so"), _entry(root, key, ".json")):  # rebuilt, ours
        assert (entry.stat().st_uid, _mode(entry)) == (os.geteuid(), 0o600)
    again = ember.kernel(func)
    assert again(X) == GOOD_RESULT and again.cache_hit is True


def test_fresh_default_cache_folder_is_owner_only(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.delenv("EMBER_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(home))
    func = _module(tmp_path, "fresh_default", "+ 1.0").entry.py_func
    old = os.umask(0o002)  # a permissive umask must not loosen Ember's own folders
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnsafePathWarning)
            assert ember.kernel(func)(X) == GOOD_RESULT
    finally:
        os.umask(old)
    root = home / ".cache" / "ember"
    assert cache.root() == str(root)
    (lib,) = root.glob("*/*.so")
    for folder in (home, home / ".cache", root, lib.parent):
        assert _mode(folder) == 0o700, folder
    assert _mode(lib) == _mode(lib.with_suffix(".json")) == 0o600
    assert ember.kernel(func).compile().cache_hit is True


def test_cache_folder_that_cannot_be_created_is_refused(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "a_file" / "cache"))
    func = _module(tmp_path, "uncreatable", "+ 1.0").entry.py_func
    with pytest.warns(UnsafePathWarning, match="a_file"):
        _assert_built_privately(func, tmp_path)


# --- EMBER_DUMP_IR --------------------------------------------------------------------------

def test_dump_ir_to_a_writable_folder_warns_and_dumps_nothing(tmp_path, monkeypatch):
    dump = tmp_path / "dump"
    dump.mkdir()
    dump.chmod(0o777)
    monkeypatch.setenv("EMBER_DUMP_IR", str(dump))
    func = _module(tmp_path, "dumped_unsafe", "+ 1.0").entry.py_func
    with pytest.warns(UnsafePathWarning, match="EMBER_DUMP_IR folder .*world-writable"):
        assert ember.kernel(func, cache=False)(X) == GOOD_RESULT
    assert list(dump.iterdir()) == []


def test_dump_ir_folder_is_created_owner_only(tmp_path, monkeypatch):
    dump = tmp_path / "new" / "dump"
    monkeypatch.setenv("EMBER_DUMP_IR", str(dump))
    func = _module(tmp_path, "dumped_safe", "+ 1.0").entry.py_func
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsafePathWarning)
        assert ember.kernel(func, cache=False)(X) == GOOD_RESULT
    assert _mode(dump) == _mode(dump.parent) == 0o700
    assert any(p.suffix == ".mlir" for p in dump.iterdir())


# --- the rule itself ------------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "reason"), [
    (0o700, None), (0o755, None), (0o600, None), (0o720, "group-writable"),
    (0o702, "world-writable"), (0o1777, "world-writable"),
], ids=lambda v: oct(v) if isinstance(v, int) else str(v))
def test_check_private_modes(tmp_path, mode, reason):
    path = tmp_path / "folder"
    path.mkdir()
    path.chmod(mode)
    got = safedir.check_private(str(path))
    assert got is None if reason is None else reason in got


def test_check_private_owner_and_missing(tmp_path):
    assert safedir.check_private(str(tmp_path / "missing")) is None
    path = tmp_path / "theirs"
    path.write_text("")
    _give_away(path)
    assert "owned by another user" in safedir.check_private(str(path))
