"""GPU runtime: CUDA context, PTX modules, device memory (with a small pool of freed
buffers) and the launcher of GPU kernels.

Imports numpy, ctypes, cuda-python's driver bindings and, of Ember, only types, runtime.abi,
runtime.checks and runtime.gpu_manifest (which import nothing else of Ember, and no mlir), so
the AOT loader of a GPU build embeds these sources (aot/loader.py's private package). The driver is
touched only on the first call: without cuda-python, a driver or a GPU, calls raise
`RuntimeError("no CUDA driver/GPU found: ...")`, and importing stays free.

A GPU kernel is described by a `GpuManifest` (runtime/gpu_manifest.py, made by
driver/gpu.py). A call binds the arguments (scalars checked by the CPU's rule,
runtime/checks.py), copies numpy arrays to the device (objects with
`__cuda_array_interface__` are used in place), runs the host steps (expressions are nested
lists, evaluated with Python's semantics), launches each nest on a grid of
ceil(trips / block) blocks (the innermost loop on x; a "strided" nest, one with scalar
reductions or element sums, on a 1-D grid of at most as many threads as the GPU keeps
resident, each walking the iterations with that stride), copies back the numpy arrays the
kernel writes and returns the result. Kernel parameters are the function arguments the
kernel uses, with each array expanded to its memref descriptor fields (runtime/abi.py's
MEMREF_LAYOUT, in elements) and each scalar as its kind's `launch_ctype` (types.SCALAR_KINDS).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import threading
from typing import Any

import numpy as np

from .. import types as T
from . import abi, checks
from .gpu_manifest import GpuManifest, LaunchStep, Nest, NestArg, Param, Result, SetStep

_MAX_GRID = (2**31 - 1, 65535, 65535)
_GRAIN = 512
"""Device buffers are allocated in multiples of this many bytes (the pool's size classes)."""
POOL_BYTES = 256 << 20
POOL_BLOCK = 32 << 20
"""Freed buffers of at most POOL_BLOCK bytes are kept for reuse, up to POOL_BYTES in all:
a call with small numpy arguments then costs no cuMemAlloc/cuMemFree (a free synchronizes
the device); big buffers go back to the driver at once."""
_lock = threading.RLock()
_device: Device | None = None
_failure: str | None = None


class NoDeviceError(RuntimeError):
    """No CUDA driver, no GPU, or no cuda-python."""


# --- driver and device ----------------------------------------------------------------------
def _driver() -> Any:
    try:
        from cuda.bindings import driver
    except ImportError as err:
        raise NoDeviceError(f"no CUDA driver/GPU found: cuda-python is not installed ({err}); "
                            "pip install cuda-python") from None
    return driver


def _check(result: Any, what: str) -> Any:
    """The values of a driver call's result tuple, or a RuntimeError naming the error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError(f"CUDA error in {what}: {getattr(err, 'name', err)}")
    return values[0] if len(values) == 1 else values


class Device:
    """The primary context of GPU 0, its stream and the PTX modules loaded into it."""

    def __init__(self) -> None:
        drv = self.drv = _driver()
        try:
            (err,) = drv.cuInit(0)
        except Exception as exc:  # DynamicLibNotFoundError when libcuda.so is absent
            raise NoDeviceError(f"no CUDA driver/GPU found: {exc}") from None
        if int(err) != 0:
            raise NoDeviceError(f"no CUDA driver/GPU found: cuInit returned "
                                f"{getattr(err, 'name', err)}")
        if _check(drv.cuDeviceGetCount(), "cuDeviceGetCount") < 1:
            raise NoDeviceError("no CUDA driver/GPU found: the driver sees no device")
        self.handle = _check(drv.cuDeviceGet(0), "cuDeviceGet")
        self.context = _check(drv.cuDevicePrimaryCtxRetain(self.handle), "cuDevicePrimaryCtxRetain")
        self.activate()
        self.stream = _check(drv.cuStreamCreate(0), "cuStreamCreate")
        self.functions: dict[tuple[str, str], Any] = {}
        self.modules: list[Any] = []
        self._resident: int | None = None
        self._sizes: dict[int, int] = {}
        self._kept: dict[int, list[int]] = {}
        self._kept_bytes = 0

    def activate(self) -> None:
        _check(self.drv.cuCtxSetCurrent(self.context), "cuCtxSetCurrent")

    def function(self, ptx: str, name: str) -> Any:
        key = (ptx, name)
        if key not in self.functions:
            module = _check(self.drv.cuModuleLoadData(ptx.encode() + b"\0"), "cuModuleLoadData")
            self.modules.append(module)
            self.functions[key] = _check(self.drv.cuModuleGetFunction(module, name.encode()),
                                         f"cuModuleGetFunction({name})")
        return self.functions[key]

    def alloc(self, nbytes: int) -> int:
        """A device buffer of at least `nbytes`, reused from the pool when one of that size
        class was freed (no driver call, no implicit synchronization)."""
        size = -(-max(nbytes, 1) // _GRAIN) * _GRAIN
        with _lock:  # DeviceArrays are freed by the garbage collector, on any thread
            kept = self._kept.get(size)
            if kept:
                self._kept_bytes -= size
                return kept.pop()
            result = self.drv.cuMemAlloc(size)
            if int(result[0]) != 0 and self._kept_bytes:  # out of memory: empty the pool
                self.release_pool()
                result = self.drv.cuMemAlloc(size)
            ptr = int(_check(result, "cuMemAlloc"))
            self._sizes[ptr] = size
            return ptr

    def free(self, ptr: int) -> None:
        """Return a buffer: kept for reuse while the pool stays small, else freed."""
        with _lock:
            size = self._sizes[ptr]
            if size <= POOL_BLOCK and self._kept_bytes + size <= POOL_BYTES:
                self._kept.setdefault(size, []).append(ptr)
                self._kept_bytes += size
                return
            del self._sizes[ptr]
            _check(self.drv.cuMemFree(ptr), "cuMemFree")

    def release_pool(self) -> None:
        """Free every buffer the pool keeps."""
        with _lock:
            for ptrs in self._kept.values():
                for ptr in ptrs:
                    del self._sizes[ptr]
                    _check(self.drv.cuMemFree(ptr), "cuMemFree")
            self._kept.clear()
            self._kept_bytes = 0

    def to_device(self, ptr: int, host: np.ndarray) -> None:
        if host.nbytes:
            _check(self.drv.cuMemcpyHtoD(ptr, host.ctypes.data, host.nbytes), "cuMemcpyHtoD")

    def to_host(self, host: np.ndarray, ptr: int) -> None:
        if host.nbytes:
            _check(self.drv.cuMemcpyDtoH(host.ctypes.data, ptr, host.nbytes), "cuMemcpyDtoH")

    def synchronize(self) -> None:
        _check(self.drv.cuStreamSynchronize(self.stream), "cuStreamSynchronize")

    def launch(self, function: Any, grid: tuple, block: tuple, params: list) -> None:
        pointers = (ctypes.c_void_p * max(len(params), 1))(
            *[ctypes.addressof(p) for p in params])
        _check(self.drv.cuLaunchKernel(function, *grid, *block, 0, self.stream,
                                       ctypes.addressof(pointers), 0), "cuLaunchKernel")

    def attribute(self, name: str) -> int:
        attr = getattr(self.drv.CUdevice_attribute, name)
        return int(_check(self.drv.cuDeviceGetAttribute(attr, self.handle), name))

    def resident_threads(self) -> int:
        """How many threads the GPU runs at once (multiprocessors x threads per one)."""
        if self._resident is None:
            self._resident = (self.attribute("CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT")
                              * self.attribute("CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR"))
        return self._resident


def device() -> Device:
    """The process's GPU (created on first use); NoDeviceError (a RuntimeError) if none."""
    global _device, _failure
    with _lock:
        if _device is None:
            if _failure is not None:
                raise NoDeviceError(_failure)
            try:
                _device = Device()
            except NoDeviceError as err:
                _failure = str(err)
                raise
        _device.activate()
        return _device


def available() -> bool:
    """Whether a CUDA GPU can be used (cuda-python, driver and device present)."""
    try:
        device()
    except RuntimeError:
        return False
    return True


# --- device arrays -----------------------------------------------------------------------------
class DeviceArray:
    """A device buffer with `__cuda_array_interface__` (what `to_device` returns); freed when
    garbage collected. `copy_to_host()` returns a numpy array."""

    def __init__(self, shape: tuple, dtype: Any) -> None:
        self.shape, self.dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        self.size = math.prod(self.shape)
        self.nbytes = self.size * self.dtype.itemsize
        self._device = device()
        self.ptr = self._device.alloc(self.nbytes)

    @property
    def __cuda_array_interface__(self) -> dict:
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.ptr, False),
                "strides": None, "version": 3}

    def copy_to_host(self) -> np.ndarray:
        out = np.empty(self.shape, self.dtype)
        self._device.synchronize()
        self._device.to_host(out, self.ptr)
        return out

    def __del__(self) -> None:
        ptr, self.ptr = getattr(self, "ptr", 0), 0
        if ptr:
            with contextlib.suppress(Exception):  # at shutdown the context may be gone
                self._device.free(ptr)


def to_device(array: Any) -> DeviceArray:
    """A device copy of a numpy array (or anything np.asarray accepts)."""
    host = np.ascontiguousarray(array)
    out = DeviceArray(host.shape, host.dtype)
    out._device.to_device(out.ptr, host)
    return out


def from_device(array: Any) -> np.ndarray:
    """A numpy copy of a device array (`DeviceArray`, CuPy, PyTorch CUDA tensor...)."""
    if isinstance(array, DeviceArray):
        return array.copy_to_host()
    if isinstance(array, np.ndarray):
        return array.copy()
    cai = _interface(array)
    dtype = np.dtype(cai["typestr"])
    shape = tuple(cai["shape"])
    strides = cai.get("strides")
    if strides is not None and strides != _c_strides(shape, dtype.itemsize):
        raise ValueError("from_device needs a C-contiguous device array")
    out = np.empty(shape, dtype)
    dev = device()
    dev.synchronize()
    dev.to_host(out, int(cai["data"][0]))
    return out


def _interface(obj: Any) -> dict:
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is None:
        raise TypeError(f"{type(obj).__name__} is not a device array")
    return cai


def _c_strides(shape: tuple, itemsize: int) -> tuple:
    out, step = [], itemsize
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


# --- host expressions ------------------------------------------------------------------------
_BIN = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b,
        "truediv": lambda a, b: a / b}
_CALL = {"min": min, "max": max, "abs": abs}
_CAST = {"f": float, "i": int, "u": int, "b": bool}


_EVAL = {
    "const": lambda e, env, shapes: e[1],
    "var": lambda e, env, shapes: env[e[1]],
    "dim": lambda e, env, shapes: shapes[e[1]][e[2]],
    "bin": lambda e, env, shapes: _BIN[e[1]](evaluate(e[2], env, shapes),
                                             evaluate(e[3], env, shapes)),
    "neg": lambda e, env, shapes: -evaluate(e[1], env, shapes),
    "cast": lambda e, env, shapes: _CAST[e[1]](evaluate(e[3], env, shapes)),
    "call": lambda e, env, shapes: _CALL[e[1]](*(evaluate(a, env, shapes) for a in e[2])),
    "tuple": lambda e, env, shapes: tuple(evaluate(a, env, shapes) for a in e[1]),
}


def evaluate(expr: list, env: dict, shapes: dict) -> Any:
    """The value of host expression `expr` (see the module docstring)."""
    return _EVAL[expr[0]](expr, env, shapes)


# --- kernel calls --------------------------------------------------------------------------------
class _Array:
    """One array argument on the device: its descriptor fields and, for a numpy array, the
    host array to copy back."""

    def __init__(self, ptr: int, shape: tuple, strides: tuple, host: np.ndarray | None,
                 owned: bool) -> None:
        self.ptr, self.shape, self.strides, self.host, self.owned = (ptr, shape, strides, host,
                                                                     owned)

    def fields(self) -> list:
        """The launch parameters of this array: its memref descriptor's fields."""
        values = abi.memref_operands(self.ptr, 0, list(self.shape), list(self.strides))
        return [_word(ty, v) for (_, ty), v in zip(abi.memref_fields(len(self.shape)), values,
                                                   strict=True)]


class GpuFunction:
    """The callable of one GPU kernel, built from its manifest."""

    def __init__(self, manifest: GpuManifest) -> None:
        self.manifest = manifest
        self.__name__ = manifest.name
        self.params = manifest.params
        self.names = [p.name for p in self.params]

    def __repr__(self) -> str:
        return f"<ember gpu kernel {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        values = self._bind(args, kwargs)
        dev = device()
        with _lock:
            arrays: dict[str, _Array] = {}
            try:
                for p in self.params:
                    if p.kind == "array":
                        arrays[p.name] = _upload(dev, p, values[p.name], arrays, self)
                result = self._run(dev, values, arrays)
                dev.synchronize()
                for p in self.params:
                    if p.kind == "array":
                        _download(dev, p, arrays[p.name])
            finally:
                for a in arrays.values():
                    if a.owned:
                        a.owned = False
                        dev.free(a.ptr)
        return result

    def _bind(self, args: tuple, kwargs: dict) -> dict:
        if len(args) > len(self.names):
            raise TypeError(f"{self.__name__}() takes {len(self.names)} arguments "
                            f"but {len(args)} were given")
        values = dict(zip(self.names, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.names or key in values:
                raise TypeError(f"{self.__name__}() got an unexpected or repeated argument "
                                f"'{key}'")
            values[key] = value
        missing = [n for n in self.names if n not in values]
        if missing:
            raise TypeError(f"{self.__name__}() missing argument '{missing[0]}'")
        for p in self.params:
            if p.kind == "scalar":
                values[p.name] = _scalar(self.__name__, p, values[p.name])
        return values

    def _run(self, dev: Device, values: dict, arrays: dict[str, _Array]) -> Any:
        env = dict(values)
        shapes = {n: a.shape for n, a in arrays.items()}
        for step in self.manifest.steps:
            if isinstance(step, SetStep):
                env[step.name] = evaluate(step.value, env, shapes)
            elif isinstance(step, LaunchStep):
                _launch(dev, self.manifest.nests[step.nest], env, shapes, arrays)
            else:
                return _result(self.manifest.ret, None if step.value is None
                               else evaluate(step.value, env, shapes))
        return None


class GpuDerivativeFunction(GpuFunction):
    """The entry of a derivative of a GPU kernel (driver/gpu_derivatives.py), called by
    runtime/derivcall.py with each differentiated or written array followed by its shadow
    `__d_<name>`. derivcall makes shadows of numpy arrays only and passes any other object
    on as its own shadow: such an array (a device array) is refused, never written twice."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for k, p in enumerate(self.params[:len(args)]):
            if p.kind == "array" and p.name.startswith("__d_") and args[k] is args[k - 1]:
                raise TypeError(f"{self.__name__}() argument '{self.names[k - 1]}' must be a "
                                "numpy array: a derivative of a GPU kernel takes device arrays "
                                "only for the arrays it neither differentiates nor writes")
        return super().__call__(*args, **kwargs)


def _scalar(kernel: str, p: Param, value: Any) -> Any:
    """The Python value of scalar argument `value` as the kernel sees it (a float32 rounded),
    accepted by the CPU's rule (runtime/checks.py)."""
    t = T.from_dtype(p.dtype)
    assert t is not None, p.dtype
    value = checks.scalar(f"{kernel}() argument '{p.name}'", t, value)
    return _CAST[t.kind](t.np_dtype.type(value))


def _upload(dev: Device, p: Param, value: Any, done: dict, fn: GpuFunction) -> _Array:
    """`value` on the device: device arrays in place, numpy arrays copied (once per object)."""
    where = f"{fn.__name__}() argument '{p.name}'"
    dtype = np.dtype(p.dtype)
    for other in done.values():
        if other.host is value:  # the same numpy array twice: one device copy
            return _Array(other.ptr, other.shape, other.strides, None, False)
    if isinstance(value, np.ndarray):
        _check_array(where, value.dtype, value.ndim, p, dtype)
        if p.written and not value.flags.writeable:
            raise ValueError(f"{where} is read-only but the kernel writes it")
        host = np.ascontiguousarray(value)
        ptr = dev.alloc(host.nbytes)
        dev.to_device(ptr, host)
        strides = tuple(s // dtype.itemsize for s in host.strides)
        return _Array(ptr, host.shape, strides, value, True)
    cai = getattr(value, "__cuda_array_interface__", None)
    if cai is None:
        raise TypeError(f"{where} must be a numpy array or a device array "
                        f"(__cuda_array_interface__), not {type(value).__name__}")
    got = np.dtype(cai["typestr"])
    _check_array(where, got, len(cai["shape"]), p, dtype)
    shape = tuple(cai["shape"])
    strides = cai.get("strides") or _c_strides(shape, dtype.itemsize)
    if any(s % dtype.itemsize for s in strides):
        raise ValueError(f"{where} has strides that are not multiples of its item size")
    ptr = int(cai["data"][0]) or 0
    return _Array(ptr, shape, tuple(s // dtype.itemsize for s in strides), None, False)


def _check_array(where: str, got: np.dtype, ndim: int, p: Param, want: np.dtype) -> None:
    if got != want or ndim != p.ndim:
        raise TypeError(f"{where} must be a {p.ndim}-D {want} array, "
                        f"got a {ndim}-D {got} array")


def _download(dev: Device, p: Param, array: _Array) -> None:
    if not p.written or array.host is None:
        return
    host = array.host
    if host.flags.c_contiguous:
        dev.to_host(host, array.ptr)
        return
    tmp = np.empty(host.shape, host.dtype)
    dev.to_host(tmp, array.ptr)
    host[...] = tmp


def _launch(dev: Device, nest: Nest, env: dict, shapes: dict, arrays: dict) -> None:
    counts = []
    for bounds in nest.bounds:
        start, stop, step = (int(evaluate(b, env, shapes)) for b in bounds)
        if step == 0:
            raise ValueError("range() arg 3 must not be zero")
        counts.append(len(range(start, stop, step)))
        env[("start", len(counts) - 1)], env[("step", len(counts) - 1)] = start, step
    if 0 in counts:
        return
    block = nest.block
    grid_counts = list(reversed(counts))
    if nest.strided:
        grid_counts = [_threads(dev, math.prod(counts), block[0])]
        env[("threads", 0)] = grid_counts[0]
    buffers = [_reduction_buffer(dev, r.name, r.dtype, env) for r in nest.reductions]
    try:
        args = [_argument(kind, counts, env, arrays, buffers) for kind in nest.args]
        params = [p for s in nest.params for p in _parameter(s.source, s.value, s.mtype, args)]
        grid = tuple(-(-c // b) for c, b in zip(grid_counts, block, strict=False))
        grid += (1,) * (3 - len(grid))
        if any(g > most for g, most in zip(grid, _MAX_GRID, strict=True)):
            raise ValueError(f"prange nest too large for one GPU launch: grid {grid}")
        dev.launch(dev.function(nest.ptx, nest.kernel), grid, block, params)
        for r, buffer in zip(nest.reductions, buffers, strict=True):
            out = np.empty(1, r.dtype)
            dev.synchronize()
            dev.to_host(out, buffer.ptr)
            env[r.name] = out[0].item()
    finally:
        for buffer in buffers:
            dev.free(buffer.ptr)


def _threads(dev: Device, total: int, block: int) -> int:
    """Threads of a strided launch: enough for `total` iterations, at most what the GPU
    keeps resident at once, in whole blocks (so every warp is full)."""
    most = max(dev.resident_threads() // block, 1) * block
    return min(-(-total // block) * block, most)


def _reduction_buffer(dev: Device, name: str, dtype: str, env: dict) -> _Array:
    start = np.array([env.get(name, 0)], dtype)
    ptr = dev.alloc(start.nbytes)
    dev.to_device(ptr, start)
    return _Array(ptr, (1,), (1,), None, True)


def _argument(kind: NestArg, counts: list, env: dict, arrays: dict, buffers: list) -> Any:
    what, key = kind.what, kind.key
    if isinstance(key, str):  # 'value': a host variable or an array parameter
        return arrays[key] if key in arrays else env[key]
    if what == "count":
        return counts[key]
    if what == "reduction":
        return buffers[key]
    return env[(what, key)]  # 'start', 'step', 'threads'


def _parameter(source: str, value: Any, mtype: str, args: list) -> list:
    """The launch parameters of one kernel operand: a nest argument ('arg', value = its
    number) or a constant ('const')."""
    if source == "arg":
        value = args[value]
    if isinstance(value, _Array):
        return value.fields()
    return [_word(mtype, value)]


def _word(mtype: str, value: Any) -> Any:
    """`value` as a launch parameter of MLIR type `mtype`: its kind's `launch_ctype`,
    integers as their bit pattern."""
    row = abi.mlir_kind(mtype)
    ctype = getattr(ctypes, row.launch_ctype)
    if row.kind == "f":
        return ctype(value)
    return ctype(int(value) & ((1 << (8 * ctypes.sizeof(ctype))) - 1))


def _result(ret: Result | None, value: Any) -> Any:
    if ret is None:
        return None
    items = value if ret.is_tuple else (value,)
    out = tuple(_CAST[k](v) for k, v in zip(ret.kinds, items, strict=True))
    return out if ret.is_tuple else out[0]
