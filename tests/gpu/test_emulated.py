"""The GPU launch path on the CPU stand-in (emulator.py): every kernel of gpu_kernels.py gives
the CPU build's results; parameters match the PTX declarations; grids cover the loops;
arrays are copied in, written arrays back, and device arrays are used in place."""

import gpu_kernels
import numpy as np
import pytest
from cases import CASES, compare
from emulator import FakeCudaArray

import ember


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_cpu(name, on_emulator):
    kernel = getattr(gpu_kernels, name)
    compare(kernel, ember.kernel(kernel.py_func), name)
    assert on_emulator.launches, "no kernel was launched"


def test_grid_of_a_2d_stencil(on_emulator):
    u = np.zeros((33, 47))
    gpu_kernels.heat_step(u, np.zeros_like(u), 0.1)
    # 31 x 45 interior points: the inner loop (45) on x in blocks of 128, the outer on y by 2
    assert on_emulator.launches == [("heat_step_kernel", (1, 16, 1), (128, 2, 1))]


def test_grid_of_a_3d_nest(on_emulator):
    x = np.zeros((5, 6, 7), np.float32)
    gpu_kernels.scale3(x, x.copy(), np.float32(1))
    assert on_emulator.launches == [("scale3_kernel", (1, 3, 3), (128, 2, 2))]


def test_empty_loop_launches_nothing(on_emulator):
    assert gpu_kernels.total(np.zeros(0)) == 0.0
    assert on_emulator.launches == []


def test_only_written_arrays_come_back(on_emulator, monkeypatch):
    copies = []
    real = on_emulator.to_host
    monkeypatch.setattr(on_emulator, "to_host", lambda host, ptr: (copies.append(host.shape),
                                                                    real(host, ptr)))
    x, y = np.ones(10, np.float32), np.ones(10, np.float32)
    gpu_kernels.saxpy(np.float32(2), x, y)
    assert copies == [(10,)] and y[0] == 3.0


def test_non_contiguous_views(on_emulator):
    x = np.arange(40, dtype=np.float32)[::2]
    y = np.zeros(40, np.float32)[1::2]
    gpu_kernels.saxpy(np.float32(3), x, y)
    np.testing.assert_array_equal(y, 3 * np.arange(40, dtype=np.float32)[::2])


def test_device_arrays_in_place(on_emulator):
    """__cuda_array_interface__ objects are not copied: the kernel writes their memory."""
    x = np.arange(8, dtype=np.float32)
    y = np.ones(8, np.float32)
    dx, dy = FakeCudaArray(x), FakeCudaArray(y)
    gpu_kernels.saxpy(np.float32(2), dx, dy)
    np.testing.assert_array_equal(y, 1 + 2 * x)


def test_to_device_and_back(on_emulator):
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    d = ember.cuda.to_device(x)
    assert d.__cuda_array_interface__["shape"] == (3, 4)
    out = ember.cuda.to_device(np.zeros((3, 4)))
    gpu_kernels.heat_step(d, out, 0.5)
    back = ember.cuda.from_device(out)
    want = np.zeros((3, 4))
    ember.kernel(gpu_kernels.heat_step.py_func)(x, want, 0.5)
    np.testing.assert_array_equal(back, want)


def test_argument_errors(on_emulator):
    with pytest.raises(TypeError, match="argument 'x' must be a 1-D float32 array"):
        gpu_kernels.saxpy(np.float32(1), np.ones(3), np.ones(3, np.float32))
    with pytest.raises(TypeError, match="missing argument 'y'"):
        gpu_kernels.saxpy(1.0, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="must be an int"):
        gpu_kernels.count_above(np.ones(3, np.int64), 1.5)
    with pytest.raises(ValueError, match="read-only"):
        y = np.ones(3, np.float32)
        y.flags.writeable = False
        gpu_kernels.saxpy(np.float32(1), np.ones(3, np.float32), y)


def test_keyword_arguments(on_emulator):
    y = np.zeros(4, np.float32)
    gpu_kernels.saxpy(x=np.ones(4, np.float32), y=y, a=np.float32(2))
    assert list(y) == [2, 2, 2, 2]
