"""On a real GPU (`pytest -m gpu`; skipped when the runtime finds none): the JIT GPU kernels
and the AOT loader's kernels give the CPU build's results on the same inputs, and CuPy /
PyTorch CUDA arrays are used in place."""

import subprocess
import sys
from pathlib import Path

import gpu_kernels
import numpy as np
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


def test_large_saxpy(cuda_device):
    n = 10_000_019
    x = np.random.default_rng(0).random(n, np.float32)
    y = np.ones(n, np.float32)
    want = y + np.float32(3) * x
    gpu_kernels.saxpy(np.float32(3), x, y)
    np.testing.assert_allclose(y, want, rtol=1e-6)


def test_device_arrays(cuda_device):
    x = np.arange(1000, dtype=np.float32)
    dx, dy = ember.cuda.to_device(x), ember.cuda.to_device(np.ones(1000, np.float32))
    gpu_kernels.saxpy(np.float32(2), dx, dy)
    np.testing.assert_array_equal(ember.cuda.from_device(dy), 1 + 2 * x)


def test_cupy_in_place(cuda_device):
    cp = pytest.importorskip("cupy")
    x = cp.arange(1000, dtype=cp.float32)
    y = cp.ones(1000, dtype=cp.float32)
    gpu_kernels.saxpy(np.float32(2), x, y)
    np.testing.assert_array_equal(cp.asnumpy(y), 1 + 2 * np.arange(1000, dtype=np.float32))


def test_torch_in_place(cuda_device):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    u = torch.rand(64, 80, dtype=torch.float64, device="cuda")
    out = torch.zeros_like(u)
    gpu_kernels.heat_step(u, out, 0.1)
    torch.cuda.synchronize()
    want = np.zeros((64, 80))
    ember.kernel(gpu_kernels.heat_step.py_func)(u.cpu().numpy(), want, 0.1)
    np.testing.assert_allclose(out.cpu().numpy(), want, rtol=1e-12, atol=1e-12)
