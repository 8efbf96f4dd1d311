"""The GPU test suite from prebuilt artefacts (check_gpu.py): the bundle builds here, its
checks pass on the CPU stand-in (every kernel against the CPU build, device arrays, large
inputs), and in an interpreter with only numpy and cuda-python it reports the missing GPU."""

import pickle
import subprocess
import sys
from pathlib import Path

import check_gpu
import gpu_kernels
import pytest
from cases import CASES
from emulator import EmulatedDevice
from isolated import CUDA_PACKAGES, package_site, run_isolated
from test_aot_gpu import NESTS, NO_GPU

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-bundle")
    proc = subprocess.run([sys.executable, str(HERE / "check_gpu.py"), "build", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(CASES)} cases" in proc.stdout
    return out


def test_bundle_files(bundle):
    assert (bundle / "check_gpu.py").read_text() == (HERE / "check_gpu.py").read_text()
    with open(bundle / "cases.pkl", "rb") as f:
        data = pickle.load(f)
    assert sorted(data) == sorted(CASES)
    assert len(list(bundle.glob("*.ptx"))) == NESTS


def test_checks_pass_on_the_stand_in(bundle, monkeypatch):
    loader = check_gpu.load(bundle)
    device = EmulatedDevice()
    for name in CASES:
        device.add(getattr(gpu_kernels, name))
    monkeypatch.setattr(loader._runtime, "device", lambda: device)
    with open(bundle / "cases.pkl", "rb") as f:
        outcomes = dict(check_gpu.run_checks(loader, pickle.load(f)))
    assert len(outcomes) == len(CASES) + 6
    failed = {k: v for k, v in outcomes.items() if v != "ok" and not v.startswith("skipped")}
    assert not failed, failed
    assert outcomes["strided reductions, 10M elements and 3001x2003"] == "ok"


def test_a_wrong_result_is_reported(bundle, monkeypatch):
    loader = check_gpu.load(bundle)
    with open(bundle / "cases.pkl", "rb") as f:
        data = pickle.load(f)
    data["total"]["result"] += 1.0
    device = EmulatedDevice()
    device.add(gpu_kernels.total)
    monkeypatch.setattr(loader._runtime, "device", lambda: device)
    outcomes = dict(check_gpu.run_checks(loader, {"total": data["total"]}))
    assert outcomes["same as CPU: total"].startswith("FAILED: AssertionError")


def test_without_a_gpu(bundle, tmp_path):
    site = package_site(tmp_path / "site", CUDA_PACKAGES)
    script = (f"import runpy\nsys.argv = ['check_gpu.py']\ntry:\n"
              f"    runpy.run_path({str(bundle / 'check_gpu.py')!r}, run_name='__main__')\n"
              f"except SystemExit as done:\n    print('exit', done.code)\n")
    out = run_isolated(script, [], site, tmp_path, NO_GPU)
    assert "no CUDA driver/GPU found" in out and "nothing checked" in out
    assert out.splitlines()[-1] == "exit 2"
