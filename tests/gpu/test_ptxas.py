"""NVIDIA's own assembler accepts the PTX: every nest of every kernel in gpu_kernels.py goes
through `ptxas` (from the `nvidia-cuda-nvcc` wheel of the test extras; no GPU or driver
needed) for the chip it was built for, with no register spills. This is the check closest
to the driver's JIT (cuModuleLoadData) that a machine without a GPU can make."""

import importlib.util
import os
import re
import shutil
import subprocess

import gpu_kernels
import pytest
from test_ptx import EXPECTED

import ember


def _ptxas() -> str:
    found = shutil.which("ptxas")
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations if spec else []):
        path = os.path.join(root, "cu13", "bin", "ptxas")
        if found is None and os.access(path, os.X_OK):
            found = path
    assert found, "ptxas not found: pip install -e '.[test]' (nvidia-cuda-nvcc)"
    return found


def assemble(ptx: str, chip: str, tmp_path) -> str:
    """ptxas's report (-v) on `ptx`; fails the test with ptxas's message on an error."""
    src = tmp_path / "kernel.ptx"
    src.write_text(ptx)
    run = subprocess.run([_ptxas(), f"-arch={chip}", "-v", str(src), "-o", str(tmp_path / "k")],
                         capture_output=True, text=True)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    return report


def _nests(kernel):
    manifest = kernel.compile().manifest
    return manifest.arch, manifest.nests


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ptxas_accepts_every_nest(name, tmp_path):
    chip, nests = _nests(getattr(gpu_kernels, name))
    for nest in nests:
        report = assemble(nest.ptx, chip, tmp_path)
        assert f"Compiling entry function '{nest.kernel}' for '{chip}'" in report
        assert re.search(rf"Function properties for {nest.kernel}\n\s+\d+ bytes stack frame, "
                         r"0 bytes spill stores, 0 bytes spill loads", report), report


@pytest.mark.parametrize("chip", ["sm_80", "sm_89", "sm_90a"])
def test_other_chips(chip, tmp_path):
    """The PTX ISA version chosen per chip family is one ptxas accepts for that chip."""
    k = ember.kernel(gpu_kernels.math32.py_func, target="gpu", gpu_arch=chip)
    _, nests = _nests(k)
    assert f".target {chip}" in nests[0].ptx
    assemble(nests[0].ptx, chip, tmp_path)
