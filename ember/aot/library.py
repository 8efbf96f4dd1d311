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
    count_signature,
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
from . import c_adapter
from . import c_api as aot_c
from . import jacobian as aot_jac
from . import loader as aot_loader
from .collect import collect
from .loader import DerivativeEntry, Entry, KernelEntry
from .progress import Progress, run_steps


@dataclass(frozen=True)
class _Part:
    """One exported function: its object code and its entry in the loader's manifest."""

    export: str
    obj: bytes
    entry: Entry
    reused: bool
    derived: Any = None
    """A derivative's aot/jacobian.Derived (for the Jacobian built on it)."""


def build_cpu(source: Any, out_dir: str, target_cpu: str | None = None,
              gpu_arch: str | None = None, progress: Progress | None = None) -> dict:
    """The CPU library of `source` (`gpu_arch` is unused), each export reported to
    `progress` (aot/progress.py)."""
    name, exports = collect(source)
    primals = aot_jac.with_primals(exports)
    os.makedirs(out_dir, exist_ok=True)
    lib = aot_c.CLibrary(name)
    adapters: list[str] = []

    def outcome(part: _Part) -> str:
        return "reused" if part.reused else "compiled"

    parts = run_steps(exports, lambda export, obj: _part(
        export, obj, target_cpu, lib, adapters, primals.get(id(aot_jac.kernel_of(obj)))),
        outcome, progress, len(exports))
    parts += run_steps(_primal_exports(parts, exports), lambda export, k: _kernel_part(
        export, k, target_cpu, lib, adapters), outcome, progress, len(exports), first=0)
    parallel = any(isinstance(p.entry, KernelEntry) and p.entry.parallel for p in parts) or \
        any(b"GOMP_parallel" in p.obj for p in parts)  # derivatives of prange loops
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
          adapters: list[str], primal: str | None = None) -> _Part:
    if isinstance(obj, Kernel):
        return _kernel_part(export, obj, cpu, lib, adapters)
    if not isinstance(obj, Derivative):  # the objects of issue 16, told apart by attribute
        make = next(f for attribute, f in _DERIVED if hasattr(obj, attribute))
        return make(export, obj, cpu, lib, adapters, primal)
    part = _derivative_part(export, obj, cpu, lib, adapters)
    if part.derived.layout is None or not isinstance(part.entry, DerivativeEntry):
        return part
    return dataclasses.replace(part, entry=dataclasses.replace(part.entry, primal=primal))


def _jacobian_part(export: str, obj: Any, cpu: str | None, lib: aot_c.CLibrary,
                   adapters: list[str], primal: str | None) -> _Part:
    """A jacfwd/jacrev export: its jvp/vjp, and the C Jacobian over it (aot/jacobian.py)."""
    inner = _derivative_part(f"{export}_{obj.derivative.kind}", obj.derivative, cpu, lib,
                             adapters)
    entry = aot_jac.jacobian(export, inner.entry.name, inner.derived, lib, primal,
                             obj.derivative.request.outputs, obj.single_output)
    return _Part(export, inner.obj, entry, inner.reused)


def _batched_part(export: str, obj: Any, cpu: str | None, lib: aot_c.CLibrary,
                  adapters: list[str], primal: str | None) -> _Part:
    """A `vmap(grad(f))` export: the gradient of its batched kernel's sum (api/vmap.py)."""
    inner, plan = obj._prepare()
    part = _derivative_part(export, inner, cpu, lib, adapters)
    batch = aot_jac.batch_json(obj, plan)
    aot_jac.note_batch(lib, obj)
    assert isinstance(part.entry, DerivativeEntry)
    return dataclasses.replace(part, entry=dataclasses.replace(part.entry, batch=batch))


def _second_part(export: str, obj: Any, cpu: str | None, lib: aot_c.CLibrary,
                 adapters: list[str], primal: str | None) -> _Part:
    """An hvp or hessian export (aot/second.py)."""
    from .second import second_part

    k = obj.second.kernel
    options = exported_options(k.options)

    def compiled(what: str, make_ir: Any) -> tuple[bytes, bool]:
        return _object(_key(k.py_func, options, what, cpu), export, make_ir, cpu,
                       derivative=True)

    (obj_code, reused), entry = second_part(export, obj, options, lib, adapters, primal,
                                            compiled)
    return _Part(export, obj_code, entry, reused)


_DERIVED = (("second", _second_part), ("batched", _batched_part),
            ("derivative", _jacobian_part))
"""(attribute, part maker) of the derived objects: hvp/hessian (api/secondorder.py),
vmap(grad(f)) (api/vmap.py), jacfwd/jacrev (api/jacobians.py)."""


def _primal_exports(parts: list[_Part], exports: list[tuple[str, Any]]
                    ) -> list[tuple[str, Kernel]]:
    """Exports `<name>_primal` of the kernels whose Jacobian or jvp/vjp loader entries need a
    primal call (aot/jacobian.py) and that the module does not export itself."""
    have = {export for export, obj in exports if isinstance(obj, Kernel)}
    out = []
    for part, (_, obj) in zip(parts, exports, strict=True):
        primal = getattr(part.entry, "primal", None)
        if primal is not None and primal not in have:
            have.add(primal)
            out.append((primal, aot_jac.kernel_of(obj)))
    return out


def _key(func: Any, options: Any, what: str, cpu: str | None) -> str:
    text = f"{cache_key(func, options)}|aot|{what}|{cpu or 'host'}"
    return hashlib.sha256(text.encode()).hexdigest()


def _object(key: str, export: str, make_ir: Any, cpu: str | None,
            vector_math: bool = False, derivative: bool = False) -> tuple[bytes, bool]:
    """Object code for `key` from the cache, or compiled from `make_ir()` and cached
    (`derivative` as in the JIT: runtime/native.optimize)."""
    hit = cache.lookup(key)
    if hit is not None:
        with open(hit[0], "rb") as f:
            return f.read(), True
    obj = native.emit_object(native.optimize(make_ir(), cpu, vector_math=vector_math,
                                             derivative=derivative, exact_math=False),
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
                  c_adapter.adapter(export, fn.symbol, sig.params, sig.ret, raises)]
        if variant:
            thunks.append(c_adapter.adapter(f"{export}_c", variant, sig.params, sig.ret, raises))
        return native.prepare_ir(lowered_kernel(program, k.options),
                                 thunks + parallel_ir(program) + program_ir(program, True))

    obj, reused = _object(_key(k.py_func, options, f"kernel:{export}", cpu), export, make_ir,
                          cpu, k.options.fastmath)
    adapters.append(c_adapter.adapter_declaration(export, sig.params, sig.ret, raises))
    if variant:
        adapters.append(c_adapter.adapter_declaration(f"{export}_c", sig.params, sig.ret, raises))
    lib.kernel(export, sig, variant is not None, raises)
    parallel = bool(parallel_ir(program))
    return _Part(export, obj, KernelEntry(export, sig, parallel), reused)


def _derivative_part(export: str, d: Derivative, cpu: str | None, lib: aot_c.CLibrary,
                     adapters: list[str]) -> _Part:
    from ..frontend import build_program
    from ..frontend.adprep import COUNTS, Prepared, prepare_reverse

    options = exported_options(d.kernel.options)
    program = build_program(d.kernel.py_func, ad=True, checks=options)
    program, request, layout = aot_jac.results(program, d.request, d.kind)
    raises = bool(program.sites)
    reverse = request.mode == "reverse"
    prep = prepare_reverse(program) if reverse else Prepared(program, None, 0)
    fn = prep.replay.functions[prep.replay.entry]
    p = plan(fn, request)
    sig = Signature(p.params, p.entry_ret, p.written)
    count_sig = count_signature(prep)

    def make_ir() -> str:
        thunks = derivative_thunks(prep, export, sig, count_sig, prefix="py_")
        thunks.append(c_adapter.adapter(export, f"ek_{export}", sig.params, sig.ret, raises, True))
        if count_sig is not None and prep.count is not None:
            thunks.append(c_adapter.adapter(f"{export}_count", prep.count.entry, count_sig.params,
                                            count_sig.ret, raises, True))
        lowered = lowered_derivative(prep, p, export, d.kernel.options.optimize_loops)
        return native.prepare_ir(lowered, thunks)

    what = f"derivative:{export}:{d.kind}:{request.key()}"
    obj, reused = _object(_key(d.kernel.py_func, options, what, cpu), export, make_ir, cpu,
                          derivative=True)
    adapters.append(c_adapter.adapter_declaration(export, sig.params, sig.ret, raises))
    if count_sig is not None:
        adapters.append(c_adapter.adapter_declaration(f"{export}_count", count_sig.params,
                                                      count_sig.ret, raises))
    info = describe(p, export, d.kind, d.single, prep.loops,
                    count_sig.written if count_sig else frozenset(), sig.written)
    primal = tuple((n, t) for n, t in fn.params if n != COUNTS)
    lib.derivative(export, info, sig, primal, count_sig, p.result_type, raises)
    aot_jac.note_results(lib, layout)
    derived = aot_jac.Derived(info, primal, p.result_type, raises, layout)
    entry = DerivativeEntry(export, sig, info, count_sig,
                            aot_jac.layout_json(layout, d.request.outputs))
    return _Part(export, obj, entry, reused, derived)


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
