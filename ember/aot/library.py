"""The CPU library writer (the AOT writer of target "cpu"): kernels and derivative objects ->
a C library.

`build_cpu(source, out_dir)` writes lib<name>.so (C functions, and `ember_py_*` entries for
the loader), <name>.h (the C interface, documented in the header itself) and <name>.py (a
loader needing only numpy and ctypes, with the JIT's call signatures and argument checks). Each
function's object code is cached on disk, so rebuilding an unchanged module only links. Ember
never reads back from `out_dir` (it may be shared): the C interface compiles against a private
copy of the header, and cached objects obey the disk cache's private-folder rule.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from ..api.autodiff import Derivative
from ..api.kernel import Kernel
from ..driver.cachekey import cache_key
from ..driver.cpu import (
    contiguous_variant,
    derivative_thunks,
    lowered_derivative,
    lowered_kernel,
    signature_of,
)
from ..driver.derivatives import describe, plan
from ..errors import CompileError
from ..options import CompileOptions
from ..runtime import cache, native, tape
from ..runtime.abi import Signature
from ..runtime.parallel import parallel_ir
from ..runtime.raising import program_ir, runtime_object
from ..runtime.thunk import entry_thunk
from . import c_api as aot_c
from . import loader as aot_loader
from .collect import collect
from .loader import DerivativeEntry, Entry, KernelEntry


@dataclass(frozen=True)
class _Part:
    """One exported function: its object code and its entry in the loader's manifest."""

    export: str
    obj: bytes
    entry: Entry
    reused: bool


def build_cpu(source: Any, out_dir: str, target_cpu: str | None = None,
              gpu_arch: str | None = None) -> dict:
    """The CPU library of `source` (`gpu_arch` is unused)."""
    name, exports = collect(source)
    os.makedirs(out_dir, exist_ok=True)
    lib = aot_c.CLibrary(name)
    adapters: list[str] = []
    parts = [_part(export, obj, target_cpu, lib, adapters) for export, obj in exports]
    parallel = any(isinstance(p.entry, KernelEntry) and p.entry.parallel for p in parts)
    libs = ["-lgomp"] if parallel else []
    header = os.path.join(out_dir, f"{name}.h")
    header_text = aot_c.header_text(lib)
    with open(header, "w") as f:
        f.write(header_text)
    library = os.path.join(out_dir, f"lib{name}.so")
    _link([p.obj for p in parts], aot_c.source_text(lib, adapters), (f"{name}.h", header_text),
          library, libs)
    loader = os.path.join(out_dir, f"{name}.py")
    with open(loader, "w") as f:
        f.write(aot_loader.loader_text(name, [p.entry for p in parts]))
    return {"library": library, "header": header, "loader": loader,
            "reused": [p.export for p in parts if p.reused],
            "compiled": [p.export for p in parts if not p.reused]}


def _part(export: str, obj: Any, cpu: str | None, lib: aot_c.CLibrary,
          adapters: list[str]) -> _Part:
    if isinstance(obj, Kernel):
        return _kernel_part(export, obj, cpu, lib, adapters)
    return _derivative_part(export, obj, cpu, lib, adapters)


def _key(func: Any, options: Any, what: str, cpu: str | None) -> str:
    text = f"{cache_key(func, options)}|aot|{what}|{cpu or 'host'}"
    return hashlib.sha256(text.encode()).hexdigest()


def _object(key: str, export: str, make_ir: Any, cpu: str | None,
            vector_math: bool = False, slp: bool = True) -> tuple[bytes, bool]:
    """Object code for `key` from the cache, or compiled from `make_ir()` and cached
    (`slp=False` for derivatives, as in the JIT: runtime/native.optimize)."""
    hit = cache.lookup(key)
    if hit is not None:
        with open(hit[0], "rb") as f:
            return f.read(), True
    obj = native.emit_object(native.optimize(make_ir(), cpu, vector_math=vector_math, slp=slp),
                             cpu)
    with tempfile.NamedTemporaryFile(suffix=".o", delete=False) as tmp:
        tmp.write(obj)
    try:
        cache.store(key, tmp.name, cache.Meta("aot-object", export))
    finally:
        os.unlink(tmp.name)
    return obj, False


def exported_options(options: CompileOptions) -> CompileOptions:
    """An export is the build where no Optional parameter is None: the C API takes every
    parameter (docs/aot.md)."""
    return dataclasses.replace(options, none=())


def _kernel_part(export: str, k: Kernel, cpu: str | None, lib: aot_c.CLibrary,
                 adapters: list[str]) -> _Part:
    from ..frontend import build_program

    options = exported_options(k.options)
    program = build_program(k.py_func, optimize=options.optimize_loops, checks=options)
    fn, sig = signature_of(program)
    variant = contiguous_variant(fn)
    raises = bool(program.sites)

    def make_ir() -> str:
        thunks = [entry_thunk(f"py_{export}", fn.symbol, sig, variant, raises=raises),
                  aot_c.adapter(export, fn.symbol, sig.params, sig.ret, raises)]
        if variant:
            thunks.append(aot_c.adapter(f"{export}_c", variant, sig.params, sig.ret, raises))
        return native.prepare_ir(lowered_kernel(program, k.options),
                                 thunks + parallel_ir(program) + program_ir(program, True))

    obj, reused = _object(_key(k.py_func, options, f"kernel:{export}", cpu), export, make_ir,
                          cpu, k.options.fastmath)
    adapters.append(aot_c.adapter_declaration(export, sig.params, sig.ret, raises))
    if variant:
        adapters.append(aot_c.adapter_declaration(f"{export}_c", sig.params, sig.ret, raises))
    lib.kernel(export, sig, variant is not None, raises)
    parallel = bool(parallel_ir(program))
    return _Part(export, obj, KernelEntry(export, sig, parallel), reused)


def _derivative_part(export: str, d: Derivative, cpu: str | None, lib: aot_c.CLibrary,
                     adapters: list[str]) -> _Part:
    from ..frontend import build_program
    from ..frontend.adprep import COUNTS, Prepared, prepare_reverse

    options = exported_options(d.kernel.options)
    program = build_program(d.kernel.py_func, ad=True, checks=options)
    raises = bool(program.sites)
    reverse = d.request.mode == "reverse"
    prep = prepare_reverse(program) if reverse else Prepared(program, None, 0)
    fn = prep.replay.functions[prep.replay.entry]
    p = plan(fn, d.request)
    sig = Signature(p.params, p.entry_ret, p.written)
    count_sig = signature_of(prep.count)[1] if prep.count is not None else None

    def make_ir() -> str:
        thunks = derivative_thunks(prep, export, sig, count_sig, prefix="py_")
        thunks.append(aot_c.adapter(export, f"ek_{export}", sig.params, sig.ret, raises, True))
        if count_sig is not None and prep.count is not None:
            thunks.append(aot_c.adapter(f"{export}_count", prep.count.entry, count_sig.params,
                                        count_sig.ret, raises, True))
        lowered = lowered_derivative(prep, p, export, d.kernel.options.optimize_loops)
        return native.prepare_ir(lowered, thunks)

    what = f"derivative:{export}:{d.kind}:{d.request.key()}"
    obj, reused = _object(_key(d.kernel.py_func, options, what, cpu), export, make_ir, cpu,
                          slp=False)
    adapters.append(aot_c.adapter_declaration(export, sig.params, sig.ret, raises))
    if count_sig is not None:
        adapters.append(aot_c.adapter_declaration(f"{export}_count", count_sig.params,
                                                  count_sig.ret, raises))
    info = describe(p, export, d.kind, d.single, prep.loops,
                    count_sig.written if count_sig else frozenset(), sig.written)
    primal = tuple((n, t) for n, t in fn.params if n != COUNTS)
    lib.derivative(export, info, sig, primal, count_sig, p.result_type, raises)
    return _Part(export, obj, DerivativeEntry(export, sig, info, count_sig), reused)


def _link(objects: list[bytes], c_source: str, header: tuple[str, str], library: str,
          libs: list[str]) -> None:
    """Compile the C interface and link it with `objects`. Everything the compiler reads (the
    source and the (name, text) of the header it includes) is written to a private temporary
    folder, never read back from the output folder, which other users might be able to write."""
    with tempfile.TemporaryDirectory(prefix="ember-aot-") as tmp:
        for file_name, text in (("capi.c", c_source), header):
            with open(os.path.join(tmp, file_name), "w") as f:
                f.write(text)
        c_path = os.path.join(tmp, "capi.c")
        c_obj = os.path.join(tmp, "capi.o")
        cmd = [native.compiler(), "-O2", "-fPIC", "-w", "-I", tmp, "-c", c_path, "-o", c_obj]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise CompileError(f"compiling the C interface failed:\n{proc.stderr}")
        with open(c_obj, "rb") as f:
            native.link_shared([*objects, f.read(), runtime_object(),
                                *tape.linked_objects(objects)], library, libs)
