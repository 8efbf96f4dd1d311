"""The compiler package passes ruff (pyflakes, isort, bugbear, complexity <= 10, layering)."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is installed with the test extra")
def test_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "ember"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
