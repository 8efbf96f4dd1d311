"""A CPU stand-in for the GPU, so the launch path runs without one.

`EmulatedDevice` replaces `ember.runtime.cuda.device()`: device memory is host memory, and
`launch` (1) checks the parameters the launcher built against the `.param` list the PTX
declares (count and byte sizes), (2) checks that the grid covers the trip counts exactly
(no block lies wholly outside), then (3) runs the nest: the same host module ir/gpu.py
emits for the PTX, lowered for the CPU instead (scf.parallel runs as a loop nest, atomics as
LLVM atomics), called with the host-function arguments recovered from the kernel parameters.
"""

import ctypes
import math
import os
import re
import tempfile

import numpy as np

from ember.driver.gpu import gpu_manifest
from ember.frontend import build_program
from ember.frontend.gpu import plan_gpu
from ember.ir import mlir_context
from ember.ir.gpu import emit_gpu_module
from ember.lowering import lower_to_llvm_ir
from ember.lowering.stages import CLEANUP, LINALG, TO_LLVM
from ember.runtime import abi, native

_PTX_BYTES = {"u8": 1, "b8": 1, "u16": 2, "b16": 2, "u32": 4, "b32": 4, "f32": 4, "u64": 8,
              "b64": 8, "f64": 8}


def ptx_params(ptx: str, entry: str) -> list[str]:
    """The `.param` types of `.entry entry` (u64, f32, ...)."""
    match = re.search(rf"\.visible \.entry {entry}\(([^)]*)\)", ptx)
    assert match, f"no .entry {entry} in the PTX"
    return re.findall(r"\.param \.(\w+)", match.group(1))


class _CpuKernel:
    """The nests of one GPU kernel compiled for the CPU."""

    def __init__(self, func, manifest, tmp):
        program = build_program(func, outline=False)
        plan = plan_gpu(program.functions[program.entry], program.sites)
        with mlir_context():
            module, _ = emit_gpu_module(plan, device=False)
            text = lower_to_llvm_ir(module, plan.fn.name, (LINALG, CLEANUP, TO_LLVM))
        fd, path = tempfile.mkstemp(prefix=f"{plan.fn.name}.", suffix=".so", dir=tmp)
        os.close(fd)  # a new file each time: a loaded library is never rewritten
        native.link_shared([native.emit_object(native.optimize(text))], path)
        self.library = ctypes.CDLL(path)
        self.functions = [n.name for n in plan.nests]
        self.manifest = manifest


class EmulatedDevice:
    """Implements the `Device` methods GpuFunction and DeviceArray use."""

    def __init__(self):
        self.buffers = {}
        self.kernels = {}
        self.launches = []
        self._tmp = tempfile.mkdtemp(prefix="ember-gpu-emu-")

    def add(self, kernel):
        """Make `kernel` (a target="gpu" Kernel) runnable here."""
        manifest = gpu_manifest(kernel.py_func, kernel.options)
        cpu = _CpuKernel(kernel.py_func, manifest, self._tmp)
        for nest, fname in zip(manifest.nests, cpu.functions, strict=True):
            self.kernels[(nest.ptx, nest.kernel)] = (nest, getattr(cpu.library, fname), manifest)

    def add_derivative(self, derivative):
        """Make `derivative` (grad/jvp/vjp/value_and_grad of a target="gpu" kernel) runnable
        here: its derivative nests compiled for the CPU (the primal nests a reverse-mode
        derivative launches first come from `add` of the kernel)."""
        from ember.driver.gpu_derivatives import derivative_module, prepare

        added = self.__dict__.setdefault("primals", set())
        if derivative.kernel.py_func not in added:  # its library is loaded: never rewrite it
            added.add(derivative.kernel.py_func)
            self.add(derivative.kernel)
        manifest = derivative.compile().main.manifest
        gp, plan, versions = prepare(derivative.kernel.py_func, derivative.request)
        with mlir_context():
            module, nests = derivative_module(gp, plan, versions, device=False)
            text = lower_to_llvm_ir(module, manifest.name, (LINALG, CLEANUP, TO_LLVM))
        path = os.path.join(self._tmp, f"{manifest.name}.{len(self.kernels)}.so")  # a new file
        native.link_shared([native.emit_object(native.optimize(text))], path)
        library = ctypes.CDLL(path)
        derived = manifest.nests[len(manifest.nests) - len(nests):]
        for nest, (_, fname, _) in zip(derived, nests, strict=True):
            self.kernels[(nest.ptx, nest.kernel)] = (nest, getattr(library, fname), manifest)

    # --- Device interface ---------------------------------------------------------------
    def activate(self):
        pass

    def function(self, ptx, name):
        assert (ptx, name) in self.kernels, f"unknown kernel {name}"
        return (ptx, name)

    def alloc(self, nbytes):
        buf = np.zeros(max(nbytes, 1), np.uint8)
        self.buffers[buf.ctypes.data] = buf
        return buf.ctypes.data

    def free(self, ptr):
        del self.buffers[ptr]

    def to_device(self, ptr, host):
        ctypes.memmove(ptr, host.ctypes.data, host.nbytes)

    def to_host(self, host, ptr):
        ctypes.memmove(host.ctypes.data, ptr, host.nbytes)

    def synchronize(self):
        pass

    def resident_threads(self):
        return 3 * 128  # few, so that the threads of strided nests walk many iterations

    def launch(self, function, grid, block, params):
        ptx, name = function
        nest, cfunc, manifest = self.kernels[function]
        declared = ptx_params(ptx, name)
        assert len(params) == len(declared), f"{name}: {len(params)} params, PTX {declared}"
        for k, (p, t) in enumerate(zip(params, declared, strict=True)):
            assert ctypes.sizeof(p) == _PTX_BYTES[t], f"{name} param {k}: {type(p)} vs .{t}"
        args = _host_arguments(nest, manifest, params)
        counts = [a.value for a in args[:len(nest.bounds)]][::-1]
        if nest.strided:  # whole warps; no more threads than iterations need
            threads = args[-1].value
            assert threads == grid[0] * block[0] and threads % 32 == 0, (grid, threads)
            assert threads <= self.resident_threads() and threads < math.prod(counts) + block[0]
        else:
            for c, g, b in zip(counts, grid, block, strict=False):
                assert (g - 1) * b < c <= g * b, f"{name}: grid {grid} x {block} for {counts}"
        self.launches.append((name, grid, block))
        cfunc.argtypes = [type(a) for a in args]
        cfunc.restype = None
        cfunc(*args)


def _host_arguments(nest, manifest, params):
    """The nest function's arguments (memrefs expanded) from the kernel parameters."""
    widths = [_width(kind, manifest) for kind in nest.args]
    given = {}
    it = iter(params)
    for source in nest.params:
        if source.source == "arg":
            given[source.value] = [next(it) for _ in range(len(widths[source.value]))]
        else:
            next(it)
    args = []
    for k, types in enumerate(widths):
        values = given.get(k) or [t(0) for t in types]
        args += [t(v.value) for t, v in zip(types, values, strict=True)]
    return args


def _width(kind, manifest):
    """The ctypes of the fields of one nest-function argument, from its MLIR type."""
    mtype = kind.mtype
    if mtype.startswith("memref<"):
        rank = len(mtype[len("memref<"):].split(",")[0].split("x")) - 1
        return [ctypes.c_uint64] * len(abi.memref_fields(rank))
    return [getattr(ctypes, abi.mlir_kind(mtype).launch_ctype)]


class FakeCudaArray:
    """A host buffer advertised through `__cuda_array_interface__` (as CuPy would)."""

    def __init__(self, array):
        self.array = array

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.array.shape, "typestr": self.array.dtype.str,
                "data": (self.array.ctypes.data, False), "strides": self.array.strides,
                "version": 3}


def grid_for(counts, block):
    return tuple(math.ceil(c / b) for c, b in zip(counts, block, strict=False))
