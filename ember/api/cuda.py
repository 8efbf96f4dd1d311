"""Public GPU helpers: `ember.cuda.to_device`, `from_device`, `is_available`, `DeviceArray`.

Kernels compiled with `@kernel(target="gpu")` accept numpy arrays (copied to the device and,
when the kernel writes them, back) and any object with `__cuda_array_interface__` (CuPy
arrays, PyTorch CUDA tensors, `DeviceArray`), which they use in place without copies. All of
this lives in ember/runtime/cuda.py; nothing here touches the driver before it is used.
"""

from __future__ import annotations

from ..runtime.cuda import DeviceArray, NoDeviceError, from_device, to_device
from ..runtime.cuda import available as is_available

__all__ = ["DeviceArray", "NoDeviceError", "from_device", "is_available", "to_device"]
