"""The Python loader of an AOT library: a single .py needing only numpy and ctypes.

It embeds the source of the runtime modules the JIT itself uses on the call path (types,
runtime.complex_abi, runtime.abi, runtime.call, runtime.checks, runtime.derivcall), executed as a private
in-memory package, so calls, argument checks and derivative calls behave exactly as in the
JIT. A manifest lists the exported functions: one `KernelEntry` or `DerivativeEntry` each,
embedded as JSON (the generated loader reads that JSON as plain dicts, in `_BOOT`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from .._version import __version__
from ..runtime.abi import Signature, decode_signature, encode_signature
from ..runtime.derivcall import DerivativeInfo

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The ember package folder: RUNTIME_MODULES are read from it."""
RUNTIME_MODULES: Final = ("types", "binding", "runtime.complex_abi", "runtime.abi",
                          "runtime.call", "runtime.checks", "runtime.derivcall",
                          "runtime.aotderived")


@dataclass(frozen=True)
class KernelEntry:
    """An exported kernel: the loader's entry `ember_py_<name>` has `signature`."""

    name: str
    signature: Signature
    parallel: bool = False
    """The kernel has prange loops (the library links libgomp)."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": "kernel", "name": self.name, "parallel": self.parallel,
                "signature": encode_signature(self.signature)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> KernelEntry:
        return KernelEntry(data["name"], decode_signature(data["signature"]),
                           bool(data.get("parallel", False)))


@dataclass(frozen=True)
class DerivativeEntry:
    """An exported derivative: the entry `ember_py_<name>` has `signature`, the trip-counting
    entry `ember_py_<name>_count` (kernels with while loops) has `count_signature`."""

    name: str
    signature: Signature
    info: DerivativeInfo
    count_signature: Signature | None = None
    layout: dict[str, Any] | None = None
    """A jvp/vjp of a kernel returning an array or tuple: its result's leaves, written into
    out-parameters (aot/jacobian.layout_json); None otherwise."""
    primal: str | None = None
    """With `layout`: the export of the kernel whose call sizes those out-parameters."""
    batch: dict[str, Any] | None = None
    """A `vmap(grad(f))`: how its loader call batches (aot/jacobian.batch_json)."""

    def to_json(self) -> dict[str, Any]:
        count = self.count_signature
        return {"kind": "derivative", "name": self.name,
                "signature": encode_signature(self.signature),
                "count_signature": encode_signature(count) if count is not None else None,
                "info": self.info.to_json(),
                **({"layout": self.layout, "primal": self.primal} if self.layout else {}),
                **({"batch": self.batch} if self.batch else {})}

    @staticmethod
    def from_json(data: dict[str, Any]) -> DerivativeEntry:
        count = data.get("count_signature")
        return DerivativeEntry(data["name"], decode_signature(data["signature"]),
                               DerivativeInfo.from_json(data["info"]),
                               decode_signature(count) if count is not None else None,
                               data.get("layout"), data.get("primal"), data.get("batch"))


@dataclass(frozen=True)
class JacobianEntry:
    """An exported Jacobian: the C function `name` (aot/jacobian.py), called by the loader
    through ctypes as runtime/aotderived.JacobianCall describes `data`."""

    name: str
    data: dict[str, Any]

    @property
    def primal(self) -> str | None:
        """The export of the kernel whose call checks the arguments and sizes the result."""
        primal: str | None = self.data.get("primal")
        return primal

    def to_json(self) -> dict[str, Any]:
        return {**self.data, "kind": "jacobian", "name": self.name}

    @staticmethod
    def from_json(data: dict[str, Any]) -> JacobianEntry:
        return JacobianEntry(data["name"], {k: v for k, v in data.items()
                                            if k not in ("kind", "name")})


Entry = KernelEntry | DerivativeEntry | JacobianEntry
"""One exported function of an AOT library, as its loader's manifest lists it."""


def entry_from_json(data: dict[str, Any]) -> Entry:
    """The manifest entry `data` (from `to_json`) describes."""
    kinds: dict[str, Any] = {"kernel": KernelEntry, "derivative": DerivativeEntry,
                             "jacobian": JacobianEntry}
    if data.get("kind") not in kinds:
        raise ValueError(f"not an AOT manifest entry: kind {data.get('kind')!r}")
    entry: Entry = kinds[data["kind"]].from_json(data)
    return entry


PACKAGE_BOOT: Final = '''
def _runtime():
    """The embedded Ember runtime, as the private package _SOURCES names."""
    base = "_ember_rt_" + _DIGEST
    if base + "." + _SOURCES[-1][0] in _sys.modules:
        return _sys.modules[base + ".runtime"]
    package = _types.ModuleType(base)
    package.__path__ = []
    _sys.modules[base] = package
    runtime = _types.ModuleType(base + ".runtime")
    runtime.__path__ = []
    runtime.__package__ = base + ".runtime"
    _sys.modules[base + ".runtime"] = runtime
    package.runtime = runtime
    for rel, source in _SOURCES:
        full = base + "." + rel
        module = _types.ModuleType(full)
        module.__package__ = full.rpartition(".")[0]
        _sys.modules[full] = module
        exec(compile(source, "<ember " + rel + ">", "exec"), module.__dict__)
        setattr(package if "." not in rel else runtime, rel.rpartition(".")[2], module)
    return runtime
'''
"""Loader text defining `_runtime()`: the modules of `_SOURCES` (from `runtime_sources`) as a
private package named after `_DIGEST`; shared by the CPU loader and the GPU one (aot/gpu.py)."""

_BOOT = '''
def _load():
    rt = _runtime()
    lib = _ctypes.CDLL(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), _LIBRARY))
    rt.abi.verify_numpy_layout()
    _ctypes.c_void_p.in_dll(lib, "ember_py_ndarray_type").value = id(_np.ndarray)
    raise_error = rt.call.error_raiser(lib)

    def entry(name, data):
        sig = rt.abi.decode_signature(data)
        cfunc = getattr(lib, "ember_py_" + name)
        cfunc.argtypes = sig.argtypes()
        cfunc.restype = sig.restype()
        checker = rt.checks.Checker(name, sig)
        flat = rt.call.make_entry(name, cfunc, sig, checker.recheck, raise_error)
        binding = _sys.modules[rt.__name__.rpartition(".")[0] + ".binding"]
        return flat if sig.binding is None else binding.BoundEntry(sig.binding, flat)

    exported = {}
    for item in _MANIFEST:
        name = item["name"]
        if item["kind"] == "kernel":
            exported[name] = entry(name, item["signature"])
            continue
        if item["kind"] == "jacobian":
            continue
        count = item["count_signature"]
        info = rt.derivcall.DerivativeInfo.from_json(item["info"])
        main = entry(name, item["signature"])
        counting = entry(name + "_count", count) if count else None
        exported[name] = rt.derivcall.DerivativeCall(info, main, counting)
    return lib, rt.aotderived.finish(lib, exported, _MANIFEST, raise_error)


_lib, _exported = _load()
globals().update(_exported)
__all__ = sorted(_exported)
'''


def runtime_sources(modules: Sequence[str]) -> list[tuple[str, str]]:
    """(module, source) of each of `modules` ("types", "runtime.abi", ...): a loader's
    `_SOURCES`, dependencies first."""
    out = []
    for rel in modules:
        with open(os.path.join(_HERE, *rel.split(".")) + ".py") as f:
            out.append((rel, f.read()))
    return out


def loader_text(name: str, entries: Sequence[Entry]) -> str:
    """The generated loader of lib<name>.so exporting `entries`."""
    manifest = [e.to_json() for e in entries]
    sources = runtime_sources(RUNTIME_MODULES)
    digest = hashlib.sha256(json.dumps([sources, manifest]).encode()).hexdigest()[:16]
    names = ", ".join(item["name"] for item in manifest)
    return "\n".join([
        f'"""Loader of lib{name}.so (built by Ember {__version__}): {names}.',
        "",
        "Needs only numpy and ctypes. Functions have the same call signatures and argument",
        "checks as the @kernel / grad objects they were built from. Generated file.",
        '"""',
        "",
        "import ctypes as _ctypes",
        "import os as _os",
        "import sys as _sys",
        "import types as _types",
        "",
        "import numpy as _np",
        "",
        f"_LIBRARY = {f'lib{name}.so'!r}",
        f"_DIGEST = {digest!r}",
        f"_MANIFEST = {json.dumps(manifest)!r}",
        "_MANIFEST = __import__('json').loads(_MANIFEST)",
        f"_SOURCES = {sources!r}",
        PACKAGE_BOOT,
        _BOOT])
