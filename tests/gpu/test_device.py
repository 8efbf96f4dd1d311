"""On a real GPU (`pytest -m gpu`; skipped when the runtime finds none): the JIT GPU kernels
and the AOT loader's kernels give the CPU build's results on the same inputs, and CuPy /
PyTorch CUDA arrays are used in place."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import check_gpu
import gpu_kernels
import pytest
from cases import CASES, compare

import ember

pytestmark = pytest.mark.gpu
HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("name", sorted(CASES))
def test_jit_same_as_cpu(name, cuda_device):
    kernel = getattr(gpu_kernels, name)
    compare(kernel, ember.kernel(kernel.py_func), name)


@pytest.fixture(scope="module")
def loader(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-device-build")
    proc = subprocess.run([sys.executable, "-m", "ember", "build", str(HERE / "gpu_kernels.py"),
                           "-o", str(out), "--target", "gpu"], capture_output=True, text=True,
                          cwd=HERE.parents[1], timeout=600)
    assert proc.returncode == 0, proc.stderr
    import importlib.util

    spec = importlib.util.spec_from_file_location("_gpu_device_loader", out / "gpu_kernels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(CASES))
def test_aot_same_as_cpu(name, cuda_device, loader):
    compare(getattr(loader, name), ember.kernel(getattr(gpu_kernels, name).py_func), name)


def _jit_module():
    """The JIT kernels with the loader's helpers, as check_gpu's extra checks expect."""
    names = {n: getattr(gpu_kernels, n) for n in CASES}
    return SimpleNamespace(**names, to_device=ember.cuda.to_device,
                           from_device=ember.cuda.from_device)


@pytest.mark.parametrize("name", list(check_gpu.extra_checks(None)))
def test_extra(name, cuda_device):
    """Device arrays in place (ember.cuda, CuPy, PyTorch) and large inputs."""
    note = check_gpu.extra_checks(_jit_module())[name]()
    if note:
        pytest.skip(note)
