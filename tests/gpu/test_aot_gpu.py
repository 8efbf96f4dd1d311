"""AOT GPU build: `ember build --target gpu` writes one PTX file per prange nest and a loader
that imports with only numpy and cuda-python on the path (no ember, no mlir), raises the
JIT's clear RuntimeError without a GPU, and on the CPU stand-in gives the CPU build's
results."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import gpu_kernels
import pytest
from cases import CASES, compare
from emulator import EmulatedDevice
from isolated import CUDA_PACKAGES, package_site, run_isolated
from test_ptx import EXPECTED

import ember

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODULE = HERE / "gpu_kernels.py"
NESTS = sum(len(entries) for entries in EXPECTED.values())
"""PTX files of the build: one per nest of every kernel in gpu_kernels.py."""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-build")
    proc = subprocess.run([sys.executable, "-m", "ember", "build", str(MODULE), "-o", str(out),
                           "--target", "gpu"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and f"{NESTS} PTX file(s)" in proc.stdout
    return out


def test_files(built):
    ptx = sorted(p.name for p in built.glob("*.ptx"))
    assert len(ptx) == NESTS and "gpu_kernels.two_pass.1.ptx" in ptx
    assert ".visible .entry heat_step_kernel(" in (built / "gpu_kernels.heat_step.0.ptx").read_text()
    loader = (built / "gpu_kernels.py").read_text()
    assert "import ember" not in loader and "mlir" not in loader.split("_SOURCES =")[0]


_ISOLATED = """
import numpy as np
import gpu_kernels as m
print(sorted(n for n in m.__all__))
try:
    m.heat_step(np.zeros((4, 4)), np.zeros((4, 4)), 0.1)
except RuntimeError as err:
    print("RuntimeError |", err)
"""
NO_GPU = {"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}


def test_loader_in_an_isolated_interpreter(built, tmp_path):
    site = package_site(tmp_path / "site", CUDA_PACKAGES)
    names, error = run_isolated(_ISOLATED, [built], site, tmp_path, NO_GPU).splitlines()
    assert eval(names) == sorted([*CASES, "from_device", "is_available", "to_device"])
    assert error.startswith("RuntimeError | no CUDA driver/GPU found: ")


def _import_loader(built):
    spec = importlib.util.spec_from_file_location("_gpu_kernels_loader", built / "gpu_kernels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def loader_on_emulator(built):
    loader = _import_loader(built)
    device = EmulatedDevice()
    for name in CASES:
        device.add(getattr(gpu_kernels, name))
    return loader, device


@pytest.mark.parametrize("name", sorted(CASES))
def test_loader_same_as_cpu(name, loader_on_emulator, monkeypatch):
    loader, device = loader_on_emulator
    monkeypatch.setattr(loader._runtime, "device", lambda: device)
    device.launches.clear()
    compare(getattr(loader, name), ember.kernel(getattr(gpu_kernels, name).py_func), name)
    assert device.launches


def test_python_api(tmp_path):
    result = ember.build([gpu_kernels.saxpy, gpu_kernels.total], str(tmp_path), target="gpu")
    assert result["compiled"] == ["saxpy", "total"]
    assert sorted(Path(p).name for p in result["ptx"]) == ["kernels.saxpy.0.ptx",
                                                         "kernels.total.0.ptx"]
    assert Path(result["loader"]).name == "kernels.py"


def test_cli_gpu_arch(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ember", "build", str(MODULE), "-o",
                           str(tmp_path), "--target", "gpu", "--gpu-arch", "sm_80"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert ".target sm_80" in (tmp_path / "gpu_kernels.saxpy.0.ptx").read_text()
    bad = subprocess.run([sys.executable, "-m", "ember", "build", str(MODULE), "-o",
                          str(tmp_path), "--target", "gpu", "--gpu-arch", "volta"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1 and "unknown GPU architecture 'volta'" in bad.stderr
