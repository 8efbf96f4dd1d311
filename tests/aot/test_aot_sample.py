"""Acceptance 5 (samples part): samples/c_demo/build_and_run.sh builds physics.py with the
CLI, compiles nbody.c against the header and runs it; the program checks itself (gradient vs
finite differences, energy conservation, return after one period) and prints OK."""

import os
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "c_demo"


def test_c_demo_builds_and_runs(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "BUILD": str(tmp_path / "build")}
    run = subprocess.run(["sh", str(SAMPLE / "build_and_run.sh")], env=env,
                         capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert run.stdout.rstrip().endswith("OK"), output
    assert "gradient check" in run.stdout
    assert (tmp_path / "build" / "physics.h").is_file()
