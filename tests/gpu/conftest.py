"""GPU tests: kernels compile to PTX everywhere; `gpu`-marked tests run them on a device and
are skipped (never failed) when the runtime finds no CUDA driver or GPU."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def cuda_device():
    """The runtime's device; skips the test when there is none."""
    from ember.runtime import cuda

    if not cuda.available():
        pytest.skip("no CUDA driver/GPU on this machine")
    return cuda.device()


@pytest.fixture(scope="module")
def emu():
    """The CPU stand-in (emulator.py) with every kernel of gpu_kernels.py's CASES added."""
    import gpu_kernels
    from cases import CASES
    from emulator import EmulatedDevice

    device = EmulatedDevice()
    for name in CASES:
        device.add(getattr(gpu_kernels, name))
    return device


@pytest.fixture
def on_emulator(emu, monkeypatch):
    """The runtime's `cuda.device()` is the stand-in for the test."""
    from ember.runtime import cuda

    monkeypatch.setattr(cuda, "device", lambda: emu)
    emu.launches.clear()
    return emu
