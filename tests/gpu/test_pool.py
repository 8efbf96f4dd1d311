"""The device memory pool of runtime/cuda.Device, against a fake driver: freed small buffers
are reused by size class without driver calls, the pool stays within its bounds, big buffers
go straight back, and an allocation that fails for lack of memory empties the pool first."""

import pytest

from ember.runtime import cuda


class FakeDriver:
    """cuMemAlloc / cuMemFree with a memory limit; counts the calls."""

    def __init__(self, limit=1 << 40):
        self.limit, self.used, self.next = limit, 0, 1 << 20
        self.live, self.calls = {}, []

    def cuMemAlloc(self, size):  # noqa: N802 - the driver's name
        self.calls.append(("alloc", size))
        if self.used + size > self.limit:
            return (2, None)  # CUDA_ERROR_OUT_OF_MEMORY
        ptr, self.next = self.next, self.next + size
        self.live[ptr] = size
        self.used += size
        return (0, ptr)

    def cuMemFree(self, ptr):  # noqa: N802
        self.calls.append(("free", ptr))
        self.used -= self.live.pop(ptr)
        return (0,)


def _device(driver):
    dev = cuda.Device.__new__(cuda.Device)  # no cuInit: only the memory methods are used
    dev.drv = driver
    dev._sizes, dev._kept, dev._kept_bytes = {}, {}, 0
    return dev


def test_small_buffers_are_reused_by_size_class():
    drv = FakeDriver()
    dev = _device(drv)
    a = dev.alloc(1000)
    dev.free(a)
    assert dev.alloc(700) == a  # 1000 and 700 bytes share the 1024-byte class
    assert drv.calls == [("alloc", 1024)]
    b = dev.alloc(5000)
    dev.free(b)
    dev.free(a)
    assert {dev.alloc(1000), dev.alloc(5000)} == {a, b}
    assert [c for c, _ in drv.calls] == ["alloc", "alloc"]


def test_big_buffers_and_a_full_pool_go_back_to_the_driver():
    drv = FakeDriver()
    dev = _device(drv)
    big = dev.alloc(cuda.POOL_BLOCK + 1)
    dev.free(big)
    assert drv.calls[-1] == ("free", big) and not dev._kept
    blocks = [dev.alloc(cuda.POOL_BLOCK) for _ in range(cuda.POOL_BYTES // cuda.POOL_BLOCK + 2)]
    for p in blocks:
        dev.free(p)
    assert dev._kept_bytes == cuda.POOL_BYTES
    assert sum(1 for c, _ in drv.calls if c == "free") == 1 + 2
    assert drv.used == cuda.POOL_BYTES  # what the pool keeps, nothing leaked


def test_out_of_memory_releases_the_pool_and_retries():
    drv = FakeDriver(limit=3 << 20)
    dev = _device(drv)
    kept = [dev.alloc(1 << 20) for _ in range(3)]
    for p in kept:
        dev.free(p)
    ptr = dev.alloc(2 << 20)  # fits only once the three kept buffers are freed
    assert drv.live == {ptr: 2 << 20} and dev._kept_bytes == 0
    with pytest.raises(RuntimeError, match="CUDA error in cuMemAlloc"):
        dev.alloc(2 << 20)
