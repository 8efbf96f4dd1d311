"""Error goldens: one file per compile diagnostic, the expected message in its `_ERRORS` block.

Each `*.py` file next to this one (other than `test_*.py`) defines a kernel `f` with exactly
one error, followed by a trailing `_ERRORS = \"\"\"...\"\"\"` block holding the exact rendered
`CompileError`: `File "...", line N, in f:`, the source line, the caret line, `error: ...` and
any `note:` lines. Absolute paths are shown as the file's base name, so goldens do not depend
on where the checkout lives. `pytest --update-goldens` rewrites the blocks from the compiler's
real output; review the diff before committing it.

`pending/` holds diagnostics Ember gets wrong today (no location, a misleading message, or
invalid code accepted); each file's docstring says what is observed and what is expected. They
are not collected: move one up here and run `--update-goldens` once the compiler is fixed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import traceback
from pathlib import Path

import pytest

import ember

HERE = Path(__file__).resolve().parent
CASES = sorted(p for p in HERE.glob("*.py") if not p.name.startswith(("test_", "conftest")))
EMBER_DIR = Path(ember.__file__).resolve().parent
_BLOCK = re.compile(r'^_ERRORS = """\n.*?"""\n', re.S | re.M)


def _load(path: Path):
    name = f"_ember_error_golden_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _normalize(text: str, path: Path) -> str:
    for p in {str(path), os.path.realpath(path)}:
        text = text.replace(p, path.name)
    return text


def render_error(path: Path) -> str:
    """Compile the kernel `f` of one golden file and return its normalized error message."""
    module = _load(path)
    kernel = module.f
    assert isinstance(kernel, ember.Kernel), f"{path.name}: `f` is not an @kernel"
    try:
        kernel.compile()
    except ember.CompileError as err:
        return _normalize(str(err), path)
    pytest.fail(f"{path.name}: Ember accepted a kernel that should not compile")


def _expected(path: Path) -> str:
    match = _BLOCK.search(path.read_text())
    assert match, f'{path.name}: no trailing _ERRORS = """...""" block'
    return match.group(0)[len('_ERRORS = """\n'):-len('"""\n')].rstrip("\n")


def _rewrite(path: Path, message: str) -> None:
    block = f'_ERRORS = """\n{message}\n"""\n'
    path.write_text(_BLOCK.sub(lambda _: block, path.read_text()))


def test_enough_goldens():
    assert len(CASES) >= 25


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path, update_goldens: bool):
    actual = render_error(path)
    if update_goldens:
        _rewrite(path, actual)
        return
    assert actual == _expected(path)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_no_internal_file_names(path: Path):
    """A user-facing error names the user's file, never a file of the Ember package."""
    message = str(_raw_error(path))
    for needle in (str(EMBER_DIR), "ember/frontend", "ember/ir", "ember/lowering",
                   "ember/runtime", "ember/driver", "ember/api/", "Traceback"):
        assert needle not in message, f"{path.name}: {needle!r} in\n{message}"
    assert f'File "{path}"' in message or f'File "{os.path.realpath(path)}"' in message, \
        f"{path.name}: the message does not name the user's file:\n{message}"


def _raw_error(path: Path) -> ember.CompileError:
    kernel = _load(path).f
    try:
        kernel.compile()
    except ember.CompileError as err:
        inner = [f for f in _internal_frames(err)
                 if Path(f).resolve() != EMBER_DIR / "api" / "kernel.py"]
        assert not inner, f"{path.name}: the traceback goes inside Ember: {inner}"
        return err
    pytest.fail(f"{path.name}: Ember accepted a kernel that should not compile")


def _internal_frames(err: BaseException) -> list[str]:
    """Ember files in the traceback; only the public entry (api/kernel.py) may appear."""
    frames = traceback.extract_tb(err.__traceback__)
    return [f.filename for f in frames if Path(f.filename).resolve().is_relative_to(EMBER_DIR)]
