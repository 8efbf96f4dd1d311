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
