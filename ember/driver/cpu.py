"""Driver: one kernel through all four stages, with the disk cache in front.

frontend (typed tree, always run: it is cheap and gives the call signature) -> cache lookup
-> on a miss: ir (MLIR module) -> lowering (named stages to LLVM IR) -> runtime (entry thunk,
LLVM optimization, object, shared library) -> cache store. `inspect` runs the same stages and
returns the text of one of them.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import types as T
from ..binding import BoundEntry, plain
from ..errors import CompileError
from ..options import CompileOptions
from ..runtime import cache, tape
from ..runtime.abi import Signature, result_slots, verify_numpy_layout
from ..runtime.call import error_raiser, make_entry
from ..runtime.checks import Checker
from ..runtime.raising import program_ir, runtime_objects
from ..runtime.thunk import NDARRAY_TYPE_GLOBAL
from . import COMPILE_LOCK
from .cachekey import cache_key

if TYPE_CHECKING:
    from ..frontend import tir
    from ..frontend.adprep import Prepared
    from ..frontend.adresults import ResultLayout
    from ..lowering.secondorder import Then
    from .derivatives import Plan, Request

STAGES = ("mlir", "lowered", "llvm", "asm")


@dataclass(frozen=True)
class Compiled:
    """A loaded kernel: the library handle keeps the code alive; `entry` is the call path,
    `packed` the address of the packed thunk for the C dispatcher (None if it has none)."""

    name: str
    signature: Signature
    entry: Any
    library: ctypes.CDLL
    path: str
    cache_hit: bool
    packed: int | None = None
    fast_spec: tuple[str, str] = ("", "v")
    raise_error: Any = None
    """Raises the error a kernel of `library` raised in this thread (status 2)."""
    result_dtypes: tuple[np.dtype, ...] = ()
    """The dtype of each array in the result (the C dispatcher builds them)."""
    bound: tuple[str, tuple[str | None, ...], tuple[object, ...], int] | None = None
    """How the C dispatcher binds Python arguments (`bound_spec`), None: positionally."""


MAX_RESULT_SLOTS = 64
"""The 8-byte result slots of the C dispatcher (ember/_dispatch.c MAX_RESULT_SLOTS)."""
MAX_ARGS = 32
"""The parameters and argument slots of the C dispatcher (ember/_dispatch.c MAX_ARGS)."""


def fast_spec(sig: Signature) -> tuple[str, str] | None:
    """(argument codes, result codes) for the C dispatcher, or None if it cannot call `sig`:
    result "v" (None), one item (a scalar or an array) or "t" + one item per tuple item. A
    scalar item is its code; an array item its rank as a digit and its element's code
    ("2d" is f64[:, :]), whose descriptor the dispatcher turns into an ndarray."""
    ret = sig.ret
    items = ret.items if isinstance(ret, T.Tuple) else (ret,)
    if isinstance(ret, T.NoneType):
        items = ()
    elif not all(isinstance(t, T.Scalar) or (isinstance(t, T.Array) and t.ndim <= 9)
                 for t in items):
        return None
    slots = sum(result_slots(t) for t in items if isinstance(t, T.Scalar | T.Array))
    if len(sig.params) > 32 or len(items) > 16 or slots > MAX_RESULT_SLOTS:
        return None
    args = "".join("A" if isinstance(t, T.Array) else t.info.code  # type: ignore[attr-defined]
                   for _, t in sig.params)
    codes = "".join(f"{t.ndim}{t.dtype.info.code}" if isinstance(t, T.Array)
                    else t.info.code for t in items)  # type: ignore[attr-defined]
    return args, ("t" + codes if isinstance(ret, T.Tuple) else codes or "v")


def bound_spec(sig: Signature) -> tuple[str, tuple[str | None, ...], tuple[object, ...],
                                        int] | None:
    """The C dispatcher's binding of a kernel's parameters (ember/_dispatch.c): (one entry per
    parameter: its slot letter, 'N' for a None of this specialization, '(' letters ')' for a
    tuple; the names, interned, None for positional-only ones; the defaults, Ellipsis where
    there is none; how many may be passed by position)."""
    b = sig.binding or plain("", [n for n, _ in sig.params])  # keywords of plain kernels
    spec = fast_spec(sig)
    if spec is None or len(b.params) > MAX_ARGS:
        return None
    codes = dict(zip((n for n, _ in sig.params), spec[0], strict=True))
    parts = ["N" if p.name in b.none else f"({''.join(codes[n] for n in p.items)})"
             if p.items else codes[p.name] for p in b.params]
    return ("".join(parts), tuple(None if p.positional_only else sys.intern(p.name)
                                  for p in b.params),
            tuple(p.default if p.has_default else ... for p in b.params),
            sum(1 for p in b.params if not p.keyword_only))


def result_dtypes(sig: Signature) -> tuple[np.dtype, ...]:
    """The numpy dtype of each array in the result, in order (for the C dispatcher)."""
    items = sig.ret.items if isinstance(sig.ret, T.Tuple) else (sig.ret,)
    return tuple(t.dtype.np_dtype for t in items if isinstance(t, T.Array))


def signature_of(program: tir.Program) -> tuple[tir.Function, Signature]:
    fn = program.functions[program.entry]
    binding = fn.binding if fn.binding is not None and not fn.binding.simple else None
    return fn, Signature(fn.params, fn.ret, fn.written, binding)


def count_signature(prep: Prepared) -> Signature | None:
    """The signature of the trip-counting primal of a derivative (None without while loops):
    it is called with flat arguments (runtime/derivcall._trip_counts), so without binding."""
    if prep.count is None:
        return None
    return replace(signature_of(prep.count)[1], binding=None)


def compile_kernel(func: Callable[..., object], options: CompileOptions) -> Compiled:
    """Type, compile (or load from the cache) and wrap one kernel."""
    with COMPILE_LOCK, cache.Claim() as claim:  # one process builds, the others wait
        key = cache_key(func, options) if options.cache else None
        hit = claim.lookup(key) if key else None
        cached = hit[1].signature if hit is not None else None
        if hit is not None and cached is not None:  # no frontend work on a hit
            return _load(hit[1].name, cached, hit[0], True)
        from ..frontend import build_program  # typing runs only on a cache miss

        program = build_program(func, optimize=options.optimize_loops, checks=options)
        fn, sig = signature_of(program)
        with tempfile.TemporaryDirectory(prefix="ember-") as tmp:
            path = os.path.join(tmp, f"{fn.name}.so")
            _build(program, options, path)
            if key:
                path = cache.store(key, path, cache.Meta("kernel", fn.name, sig))
            return _load(fn.name, sig, path, False)


def _build(program: tir.Program, options: CompileOptions, path: str) -> None:
    from ..runtime import native

    text = _llvm_ir(program, options)
    mod = native.optimize(text, speed=options.opt_level, vector_math=options.fastmath)
    native.link_shared([native.emit_object(mod), *runtime_objects(text)], path,
                       native.libraries(text))


def lowered_kernel(program: tir.Program, options: CompileOptions | None = None) -> str:
    """LLVM IR of a kernel and its callees (and of its contiguous variant), without thunks."""
    from ..ir import emit_module, mlir_context
    from ..lowering import lower_to_llvm_ir, primal_stages

    options = options or CompileOptions()
    stages = primal_stages(options.optimize_loops, options.fastmath, bool(program.sites))
    with mlir_context():
        module = emit_module(program)
        return lower_to_llvm_ir(module, program.functions[program.entry].name, stages)


def contiguous_variant(fn: tir.Function) -> str | None:
    from ..ir.emitter import CONTIGUOUS_SUFFIX

    has_arrays = any(isinstance(t, T.Array) for _, t in fn.params)
    return fn.symbol + CONTIGUOUS_SUFFIX if has_arrays else None


def _llvm_ir(program: tir.Program, options: CompileOptions | None = None) -> str:
    from ..runtime import native
    from ..runtime.parallel import parallel_ir
    from ..runtime.thunk import entry_thunk, packed_thunk

    fn, sig = signature_of(program)
    raises = bool(program.sites)
    thunks = [entry_thunk(fn.name, fn.symbol, sig, contiguous_variant(fn), raises=raises)]
    if fast_spec(sig) is not None:
        thunks.append(packed_thunk(fn.name, fn.symbol, sig, contiguous_variant(fn), raises))
    return native.prepare_ir(lowered_kernel(program, options),
                             thunks + parallel_ir(program) + program_ir(program, tracked=True))


_layout_checked = False


def _load(name: str, sig: Signature, path: str, hit: bool) -> Compiled:
    global _layout_checked
    if not _layout_checked:
        verify_numpy_layout()
        _layout_checked = True
    lib = ctypes.CDLL(path)
    ctypes.c_void_p.in_dll(lib, NDARRAY_TYPE_GLOBAL).value = id(np.ndarray)
    cfunc = getattr(lib, f"ember_{name}")
    cfunc.argtypes = sig.argtypes()
    cfunc.restype = sig.restype()
    checker = Checker(name, sig)
    raise_error = error_raiser(lib)
    entry = make_entry(name, cfunc, sig, checker.recheck, raise_error)
    if sig.binding is not None:  # defaults, keywords, tuple and Optional parameters
        entry = BoundEntry(sig.binding, entry)
    spec, bound = fast_spec(sig), bound_spec(sig)
    if sig.binding is not None and bound is None:
        spec = None  # the dispatcher cannot bind these parameters: the Python entry binds
    packed = getattr(lib, f"ember_pk_{name}", None) if spec else None
    address = ctypes.cast(packed, ctypes.c_void_p).value if packed is not None else None
    return Compiled(name, sig, entry, lib, path, hit, address, spec or ("", "v"), raise_error,
                    result_dtypes(sig), bound)


def inspect_stage(func: Callable[..., object], stage: str, options: CompileOptions) -> str:
    """The text of one compilation stage: 'mlir', 'lowered', 'llvm' or 'asm'."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
    from ..frontend import build_program
    from ..ir import emit_module, mlir_context
    from ..lowering import primal_stages, run_stages
    from ..runtime import native

    with COMPILE_LOCK:
        program = build_program(func, optimize=options.optimize_loops, checks=options)
        if stage in ("mlir", "lowered"):
            with mlir_context():
                module = emit_module(program)
                if stage == "lowered":
                    run_stages(module, primal_stages(options.optimize_loops, options.fastmath,
                                                     bool(program.sites)), program.entry)
                return str(module)
        mod = native.optimize(_llvm_ir(program, options), speed=options.opt_level,
                              vector_math=options.fastmath)
        return str(mod) if stage == "llvm" else native.emit_assembly(mod)


# --- derivatives -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledDerivative:
    """A derivative entry, and for kernels with while loops the entry counting their trips."""

    main: Compiled
    count: Compiled | None
    loops: int
    plan: Plan
    layout: ResultLayout | None = None
    """frontend/adresults.ResultLayout where the kernel's array or tuple result became
    out-parameters (`results=True`), else None."""
    jacobian: Compiled | None = None
    """The native Jacobian loop of a `jacobian` request (driver/jacentry.py), else None."""


def compile_derivative(func: Callable[..., object], request: Request,
                       options: CompileOptions, results: bool = False) -> CompiledDerivative:
    """Compile (or load) the Enzyme derivative of kernel `func` for `request`."""
    from ..frontend import build_program
    from ..frontend.adprep import Prepared, prepare_reverse
    from ..frontend.opt.adjam import jam_entry
    from . import jacentry
    from .derivatives import plan

    with COMPILE_LOCK, cache.Claim() as claim:
        program = build_program(func, ad=True, checks=options)
        if options.optimize_loops:  # row loops jammed for the forward sweep (opt/adjam.py)
            program = jam_entry(program, request.wrt if request.mode == "reverse" else None)
        program, request, layout = _array_results(program, request, results)
        reverse = request.mode == "reverse"
        prep = prepare_reverse(program) if reverse else Prepared(program, None, 0)
        fn = prep.replay.functions[prep.replay.entry]
        p = plan(fn, request)
        name = f"{fn.name}_{request.mode}"
        sig = Signature(p.params, p.entry_ret, p.written)
        count_sig = count_signature(prep)
        key = None
        if options.cache:
            key = hashlib.sha256(f"{cache_key(func, options)}|{request.key()}".encode()).hexdigest()
        hit = claim.lookup(key) if key else None
        jac = jacentry.spec_of(p, name, layout)
        if hit is None:
            with tempfile.TemporaryDirectory(prefix="ember-") as tmp:
                path = os.path.join(tmp, f"{name}.so")
                _build_derivative(prep, p, name, sig, count_sig, options, path,
                                  jacentry.thunks(prep, jac, fast_spec))
                if key:
                    path = cache.store(key, path, cache.Meta("derivative", name))
                return replace(_derivative(name, sig, count_sig, prep.loops, p, path, False),
                               layout=layout, jacobian=jacentry.load(jac, path, False, _load))
        return replace(_derivative(name, sig, count_sig, prep.loops, p, hit[0], True),
                       layout=layout, jacobian=jacentry.load(jac, hit[0], True, _load))


def _array_results(program: tir.Program, request: Request,
                   results: bool) -> tuple[tir.Program, Request, ResultLayout | None]:
    """With `results` (jvp, vjp), an array or tuple result as out-parameters, the request's
    'return' output standing for them (frontend/adresults.py)."""
    from ..frontend.adresults import converts, results_as_outputs

    if not results or not converts(program.functions[program.entry]):
        return program, request, None
    program, layout = results_as_outputs(program)
    return program, replace(request, outputs=layout.expand(request.outputs)), layout


def _derivative(name: str, sig: Signature, count_sig: Signature | None, loops: int, p: Plan,
                path: str, hit: bool) -> CompiledDerivative:
    count = _load(f"{name}_count", count_sig, path, hit) if count_sig is not None else None
    main = _load(name, sig, path, hit)
    tape.register(main.library)  # ember.release_tape_memory() reaches its arena
    return CompiledDerivative(main, count, loops, p)


def lowered_derivative(prep: Prepared, p: Plan, name: str, optimize: bool = True,
                       then: Then | None = None, atomic: bool = False) -> str:
    """LLVM IR of the Enzyme derivative entry `ek_<name>` (and of the trip-counting primal
    for kernels with while loops), without thunks. `then(module, spec)`: a transformation of
    Enzyme's output before lowering (second order, driver/secondorder.py). `atomic`: prange
    loops update shared shadows atomically (lowering/paralleladjoint.py)."""
    from ..ir import emit_module, mlir_context
    from ..ir.types import contiguous_memref_type, to_mlir_type
    from ..lowering import adattrs, gradient_stages, lower_to_llvm_ir
    from ..lowering import checkpointing as cp
    from ..lowering.afterenzyme import rewrite_derivative
    from ..lowering.enzyme import ADSpec, differentiate, explain_crash, prepare_for_enzyme
    from ..lowering.preopt import optimize_for_enzyme
    from ..runtime.parlaunch import with_launchers

    fn = prep.replay.functions[prep.replay.entry]
    checkpoint = p.request.checkpoint
    with mlir_context():
        module = emit_module(prep.replay, ad=True)
        prepare_for_enzyme(module, reverse=p.request.mode == "reverse")
        if optimize:  # a smaller tape, the same values (lowering/preopt.py)
            optimize_for_enzyme(module)
        marked = cp.mark_loops(module, checkpoint, p.request.snapshots) if checkpoint else []
        text = module.operation.get_asm(enable_debug_info=True)
        spec = ADSpec(f"ek_{name}", fn.symbol, p.request.mode,
                      tuple((n, str(contiguous_memref_type(t) if isinstance(t, T.Array)
                                    else to_mlir_type(t)), a) for n, t, a in p.activities),
                      str(to_mlir_type(p.result_type)) if p.result_type else None,
                      None if p.result_type is None
                      else ("active" if p.request.mode == "reverse" else "dup"))
        try:
            derived = differentiate(text, [spec], checkpoint)
            if marked:
                cp.verify(derived, marked)
        except CompileError as err:
            if marked:
                raise _locate(cp.refusal(err, marked), prep.replay) from None
            raise _locate(explain_crash(err, module), prep.replay) from None
        shadows = rewrite_derivative(derived, spec, optimize, then is not None, atomic)
        if then is not None:
            derived = then(derived, spec)
    with mlir_context():
        if prep.count is not None:  # the primal that counts while-loop trips, no AD rules
            emit_module(prep.count, ad=False, module=derived)
        text = lower_to_llvm_ir(derived, name, gradient_stages(optimize))
        return with_launchers(adattrs.annotate(text, shadows))  # lowering/adattrs.py


def derivative_thunks(prep: Prepared, name: str, sig: Signature, count_sig: Signature | None,
                      prefix: str = "", packed: bool = False,
                      broadcast: tuple[str, ...] = ()) -> list[str]:
    from ..runtime.thunk import ARENA, entry_thunk

    raises = bool(prep.replay.sites)
    thunks = [ARENA, entry_thunk(prefix + name, f"ek_{name}", sig, contiguous_only=True,
                                 arena=True, raises=raises, broadcast=frozenset(broadcast))]
    if packed and fast_spec(sig) is not None:  # for the C dispatcher
        thunks.append(entry_thunk(prefix + name, f"ek_{name}", sig, contiguous_only=True,
                                  arena=True, packed=True, raises=raises,
                                  broadcast=frozenset(broadcast)))
    if count_sig is not None and prep.count is not None:
        thunks.append(entry_thunk(f"{prefix}{name}_count", prep.count.entry, count_sig,
                                  arena=True, raises=raises))
    return thunks + program_ir(prep.replay, tracked=False)


def _build_derivative(prep: Prepared, p: Plan, name: str, sig: Signature,
                      count_sig: Signature | None,
                      options: CompileOptions, path: str, extra: list[str] | None = None) -> None:
    from ..runtime import native

    atomic = options.parallel_grads == "atomic"
    ir_text = native.prepare_ir(lowered_derivative(prep, p, name, options.optimize_loops,
                                                   atomic=atomic),
                                [*derivative_thunks(prep, name, sig, count_sig, packed=True,
                                                    broadcast=p.request.broadcast),
                                 *(extra or [])])
    mod = native.optimize(ir_text, speed=options.opt_level, derivative=True)
    native.link_shared([native.emit_object(mod), *runtime_objects(ir_text)], path,
                       native.libraries(ir_text))


def _locate(err: CompileError, program: tir.Program) -> CompileError:
    """Give an Enzyme error about a library call (no location) the span of that call."""
    from ..frontend import tir as t
    from ..ir.ops import LIBM

    callee = getattr(err, "callee", None)
    if err.span is not None or callee is None:
        return err
    ops = {op for op, names in LIBM.items() if callee in names[:2]}
    for fn in program.functions.values():
        for node in t.walk(fn.body):
            if isinstance(node, t.Call) and node.op in ops:
                err.span = node.span
                return err
    return err
