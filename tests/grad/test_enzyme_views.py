"""Array views under Enzyme 0.0.16 (issue 13): which MLIR forms of a view Ember's derivative
builds may emit. Hand-written MLIR modules, shaped like Ember's emission, go through Ember's
real derivative path (`prepare_for_enzyme`, `enzyme.differentiate` with `enzyme.PIPELINE`,
`gradient_stages`) or its primal stages (`PRIMAL_CPU`, buffer deallocation included), are
JIT-compiled (llvmlite MCJIT, `llvm.emit_c_interface` entries) and run on numpy arrays,
numpy views included; derivatives are compared with central finite differences.

Facts (docs/enzyme-views.md):
* fully dynamic strided memref parameters (`memref<?x?xf64, strided<[?, ?], offset: ?>>`)
  differentiate correctly in both modes, with shadows of any layout;
* `memref.subview` (dynamic offsets/sizes/strides, negative strides, rank-reducing rows and
  columns, views of local allocs, views yielded by scf.if, views passed to inlined callees)
  works in both modes;
* reverse mode has no rule for memref.cast, reinterpret_cast, extract_strided_metadata,
  transpose or expand_shape (forward mode has, except extract_strided_metadata); broadcasts
  (expand_shape + stride-0 subview) work after `fold-memref-alias-ops`, transposes after
  folding the permutation into the indices of their loads and stores;
* linalg.generic on strided views is correct once `convert-linalg-to-loops` ran before Enzyme;
* the primal stages accept every form, and buffer deallocation frees a view returned from a
  callee through its base buffer in the caller, after the last use.
"""

import ctypes
import re

import numpy as np
import pytest

pytest.importorskip("mlir")
pytest.importorskip("llvmlite")

from mlir import ir  # noqa: E402
from mlir.passmanager import PassManager  # noqa: E402

from ember.errors import CompileError  # noqa: E402
from ember.ir import mlir_context  # noqa: E402
from ember.lowering import PRIMAL_CPU, gradient_stages, lower_to_llvm_ir, run_stages  # noqa: E402
from ember.lowering.enzyme import ADSpec, differentiate, prepare_for_enzyme  # noqa: E402
from ember.lowering.stages import CLEANUP, DEALLOC  # noqa: E402

# --- harness: compile MLIR text through Ember's stages, call it with numpy arrays ------------

_ALLOC = """
declare ptr @malloc(i64)
declare void @free(ptr)
define ptr @_mlir_memref_to_llvm_alloc(i64 %n) {
  %p = call ptr @malloc(i64 %n)
  ret ptr %p
}
define void @_mlir_memref_to_llvm_free(ptr %p) {
  call void @free(ptr %p)
  ret void
}
"""
_SCALAR = {"f64": ctypes.c_double, "index": ctypes.c_int64, "i1": ctypes.c_bool}
_ENGINES: list = []


def _desc(a: np.ndarray):
    """A memref descriptor of a numpy view: its first element, offset 0, element strides."""
    rank = a.ndim
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    d = type("Desc", (ctypes.Structure,), {"_fields_": fields})()
    d.allocated = d.aligned = a.ctypes.data
    for k in range(rank):
        d.sizes[k] = a.shape[k]
        d.strides[k] = a.strides[k] // a.itemsize
    return d


def _mark(module: ir.Module, names: set[str]) -> dict:
    types = {}
    for op in module.body.operations:
        op = op.operation
        if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value in names:
            op.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            name = ir.StringAttr(op.attributes["sym_name"]).value
            types[name] = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
    return types


def _jit(ll: str, name: str, ftype: ir.FunctionType, extra: str = ""):
    import llvmlite.binding as llvm

    from ember.runtime import native

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    text = native.prepare_ir(ll, [extra] if extra else [])
    text = re.sub(r"define internal ([^@]*@_mlir_ciface_)", r"define \1", text)
    mod = llvm.parse_assembly(text)
    mod.verify()
    tm = llvm.Target.from_default_triple().create_target_machine(opt=1)
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    _ENGINES.append(engine)
    addr = engine.get_function_address(f"_mlir_ciface_{name}")
    ins = [str(t) for t in ftype.inputs]
    outs = [str(t) for t in ftype.results]
    argtypes = [ctypes.c_void_p if t.startswith("memref") else _SCALAR[t] for t in ins]
    if len(outs) > 1:
        res = type("Res", (ctypes.Structure,),
                   {"_fields_": [(f"r{i}", _SCALAR[t]) for i, t in enumerate(outs)]})
        fn = ctypes.CFUNCTYPE(None, ctypes.POINTER(res), *argtypes)(addr)
    else:
        fn = ctypes.CFUNCTYPE(_SCALAR[outs[0]] if outs else None, *argtypes)(addr)

    def call(*args):
        keep, cargs = [], []
        for a, t in zip(args, ins, strict=True):
            if t.startswith("memref"):
                keep.append(_desc(a))
                cargs.append(ctypes.cast(ctypes.pointer(keep[-1]), ctypes.c_void_p))
            else:
                cargs.append(a)
        if len(outs) > 1:
            r = res()
            fn(ctypes.byref(r), *cargs)
            return tuple(getattr(r, f"r{i}") for i in range(len(outs)))
        return fn(*cargs)
    return call


def _run_pre(module: ir.Module, pre: str | None, rewrite=None) -> None:
    if pre:
        PassManager.parse(f"builtin.module({pre})").run(module.operation)
    if rewrite is not None:
        rewrite(module)


def derivative(text: str, fn: str, mode: str, params, pre=None, prepare=True, rewrite=None):
    """Ember's derivative path for `fn` (entry `ek`): [pre passes], prepare_for_enzyme,
    differentiate (enzyme.PIPELINE), gradient_stages, JIT."""
    spec = ADSpec("ek", fn, mode, tuple(params), "f64",
                  "active" if mode == "reverse" else "dup")
    with mlir_context():
        module = ir.Module.parse(text)
        _run_pre(module, pre, rewrite)
        if prepare:
            prepare_for_enzyme(module)
        derived = differentiate(str(module), [spec])
        types = _mark(derived, {"ek"})
        ll = lower_to_llvm_ir(derived, "views", gradient_stages(False))
    return _jit(ll, "ek", types["ek"], _ALLOC)


def primal(text: str, fn: str, pre=None):
    """Ember's primal CPU stages (deallocation included), JIT."""
    with mlir_context():
        module = ir.Module.parse(text)
        _run_pre(module, pre)
        types = _mark(module, {fn})
        ll = lower_to_llvm_ir(module, "views", PRIMAL_CPU)
    return _jit(ll, fn, types[fn])


def _same_layout(a: np.ndarray) -> np.ndarray:
    """A copy of `a` with the same strides (a view into a copy of its whole buffer)."""
    b = a
    while isinstance(b.base, np.ndarray):
        b = b.base
    if b is a:
        return a.copy()
    flat = np.ascontiguousarray(b).copy().reshape(-1)
    offset = (a.ctypes.data - b.ctypes.data) // a.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:], a.shape, a.strides)


def _fd(ref, args, k, h=1e-6):
    x = np.array(args[k], dtype=float)
    g = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        for sign in (1, -1):
            xs = x.copy()
            xs[idx] += sign * h
            a = [np.array(v) if isinstance(v, np.ndarray) else v for v in args]
            a[k] = xs
            g[idx] += sign * ref(*a) / (2 * h)
    return g


def _rel(got, want) -> float:
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want)) / max(1e-12, float(np.max(np.abs(want)))))


def check(case, mode: str, shadow=None, tol=1e-6) -> None:
    """Run `case` in `mode` ('primal', 'reverse', 'forward') against `case.ref` and FD."""
    text, fn, params, args, ref = case["text"], case["fn"], case["params"], case["args"], case["ref"]
    pre, rewrite = case.get("pre"), case.get("rewrite")
    shadow = shadow or (lambda a: _same_layout(a) * 0.0 if a.base is None else _zeroed(a))
    fresh = [_same_layout(a) if isinstance(a, np.ndarray) else a for a in args]
    want = ref(*[np.array(a) if isinstance(a, np.ndarray) else a for a in args])
    if mode == "primal":
        assert _rel(primal(text, fn, pre)(*fresh), want) < 1e-12
        return
    dup = [k for k, p in enumerate(params) if p[2] == "dup"]
    fds = {k: _fd(ref, args, k) for k in dup}
    entry = derivative(text, fn, mode, params, pre=pre, rewrite=rewrite)
    call, shadows = [], {}
    rng = np.random.default_rng(7)
    tangent = 0.0
    for k, (p, a) in enumerate(zip(params, fresh, strict=True)):
        call.append(a)
        if p[2] == "dup":
            shadows[k] = shadow(a)
            if mode == "forward":
                shadows[k][...] = rng.normal(size=a.shape)
                tangent += float(np.sum(fds[k] * shadows[k]))
            call.append(shadows[k])
    if mode == "reverse":
        value = entry(*call, 1.0)
        for k in dup:
            assert _rel(shadows[k], fds[k]) < tol, (params[k][0], shadows[k], fds[k])
    else:
        value, tan = entry(*call)
        assert _rel(tan, tangent) < tol, (tan, tangent)
    assert _rel(value, want) < 1e-12


def _zeroed(a):
    z = _same_layout(a)
    z[...] = 0.0
    return z


def contiguous_shadow(a):
    return np.zeros(a.shape)


# --- kernels ---------------------------------------------------------------------------------

M1, M2 = "memref<?xf64>", "memref<?x?xf64>"
S1 = "memref<?xf64, strided<[?], offset: ?>>"
S2 = "memref<?x?xf64, strided<[?, ?], offset: ?>>"
R1 = "memref<?xf64, strided<[1], offset: ?>>"
HEAD = """
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %z = arith.constant 0.0 : f64"""


def mlir(text: str) -> str:
    for k, v in (("S1", S1), ("S2", S2), ("M1", M1), ("M2", M2), ("R1", R1), ("HEAD", HEAD)):
        text = text.replace(k, v)
    return text


def sum_sin(view_type: str) -> str:
    """`s += sin(v[i])` over %v (1-D, bound %len)."""
    return f"""
    %len = memref.dim %v, %c0 : {view_type}
    %s = scf.for %i = %c0 to %len step %c1 iter_args(%acc = %z) -> (f64) {{
      %e = memref.load %v[%i] : {view_type}
      %t = math.sin %e : f64
      %ii = arith.index_cast %i : index to i64
      %fi = arith.sitofp %ii : i64 to f64
      %fi1 = arith.addf %fi, %t : f64
      %wt = arith.mulf %t, %fi1 : f64
      %a = arith.addf %acc, %wt : f64
      scf.yield %a : f64
    }}
    return %s : f64"""


def ref_sum_sin(v):
    """numpy twin of `sum_sin` (weights depend on the position, so order matters)."""
    t = np.sin(v)
    return float(np.sum(t * (np.arange(len(v)) + t)))


def weighted_2d(view_type: str) -> str:
    """`s += sin(t[i, j]) * B[i, j]` over %t with bounds %d0 x %d1."""
    return f"""
    %s = scf.for %i = %c0 to %d0 step %c1 iter_args(%acc = %z) -> (f64) {{
      %r = scf.for %j = %c0 to %d1 step %c1 iter_args(%acc2 = %acc) -> (f64) {{
        %e = memref.load %t[%i, %j] : {view_type}
        %sn = math.sin %e : f64
        %b = memref.load %B[%i, %j] : M2
        %p = arith.mulf %sn, %b : f64
        %a = arith.addf %acc2, %p : f64
        scf.yield %a : f64
      }}
      scf.yield %r : f64
    }}
    return %s : f64"""


RNG = np.random.default_rng(0)
BIG = RNG.normal(size=40)
IDX = "index"

CASES = {
    # (a) subview of an identity-layout argument, dynamic offset/size/stride; read
    "subview_read": dict(fn="k", text=mlir("""module {
  func.func @k(%x: M1, %off: index, %n: index, %st: index) -> f64 {HEAD
    %v = memref.subview %x[%off][%n][%st] : M1 to S1""" + sum_sin(S1) + "\n  }\n}"),
        params=[("x", M1, "dup"), ("off", IDX, "const"), ("n", IDX, "const"),
                ("st", IDX, "const")],
        args=[BIG[:10].copy(), 1, 4, 2], ref=lambda x, o, n, s: ref_sum_sin(x[o:o + n * s:s])),
    # (a) store through a subview, then read the base
    "subview_store": dict(fn="k", text=mlir("""module {
  func.func @k(%x: M1, %y: M1, %off: index, %n: index, %st: index) -> f64 {HEAD
    %v = memref.subview %y[%off][%n][%st] : M1 to S1
    scf.for %i = %c0 to %n step %c1 {
      %e = memref.load %x[%i] : M1
      %t = math.sin %e : f64
      memref.store %t, %v[%i] : S1
    }
    %m = memref.dim %y, %c0 : M1
    %s = scf.for %i = %c0 to %m step %c1 iter_args(%acc = %z) -> (f64) {
      %e = memref.load %y[%i] : M1
      %q = arith.mulf %e, %e : f64
      %a = arith.addf %acc, %q : f64
      scf.yield %a : f64
    }
    return %s : f64
  }
}"""), params=[("x", M1, "dup"), ("y", M1, "dup"), ("off", IDX, "const"), ("n", IDX, "const"),
               ("st", IDX, "const")],
        args=[BIG[:5].copy(), BIG[10:20].copy(), 1, 4, 2],
        ref=lambda x, y, o, n, s: float(np.sum(np.where(
            np.isin(np.arange(len(y)), np.arange(o, o + n * s, s)),
            np.sin(x[(np.arange(len(y)) - o) // s % len(x)]), y) ** 2))),
    # x[::-1]: subview with a dynamic negative stride
    "subview_reversed": dict(fn="k", text=mlir("""module {
  func.func @k(%x: M1) -> f64 {HEAD
    %cm1 = arith.constant -1 : index
    %sz = memref.dim %x, %c0 : M1
    %last = arith.subi %sz, %c1 : index
    %v = memref.subview %x[%last][%sz][%cm1] : M1 to S1""" + sum_sin(S1) + "\n  }\n}"),
        params=[("x", M1, "dup")], args=[BIG[:10].copy()], ref=lambda x: ref_sum_sin(x[::-1])),
    # (c) fully dynamic strided parameter (a numpy view) and a subview of it
    "strided_param": dict(fn="k", text=mlir("""module {
  func.func @k(%x: S1, %off: index, %n: index, %st: index) -> f64 {HEAD
    %v = memref.subview %x[%off][%n][%st] : S1 to S1""" + sum_sin(S1) + "\n  }\n}"),
        params=[("x", S1, "dup"), ("off", IDX, "const"), ("n", IDX, "const"),
                ("st", IDX, "const")],
        args=[BIG[::-3], 1, 4, 2], ref=lambda x, o, n, s: ref_sum_sin(x[o:o + n * s:s])),
    # (c) 2-D strided parameters (a transposed numpy array, column slices), written output
    "strided_params_2d": dict(fn="k", text=mlir("""module {
  func.func @k(%A: S2, %B: M2, %Y: S2) -> f64 {HEAD
    %d0 = memref.dim %A, %c0 : S2
    %d1 = memref.dim %A, %c1 : S2
    scf.for %i = %c0 to %d0 step %c1 {
      scf.for %j = %c0 to %d1 step %c1 {
        %e = memref.load %A[%i, %j] : S2
        %q = arith.mulf %e, %e : f64
        memref.store %q, %Y[%i, %j] : S2
      }
    }
    %t = memref.subview %Y[0, 0][%d0, %d1][1, 1] : S2 to S2""" + weighted_2d(S2) + "\n  }\n}"),
        params=[("A", S2, "dup"), ("B", M2, "const"), ("Y", S2, "dup")],
        args=[RNG.normal(size=(4, 3)).T, RNG.normal(size=(3, 4)), np.zeros((6, 8))[::2, 1::2]],
        ref=lambda A, B, Y: float(np.sum(np.sin(A * A) * B))),
    # (c) a local alloc brought to the strided type by a full-size subview ("cast by subview")
    "alloc_cast_by_subview": dict(fn="k", text=mlir("""module {
  func.func @k(%x: S1) -> f64 {HEAD
    %n = memref.dim %x, %c0 : S1
    %buf = memref.alloc(%n) : M1
    %w = memref.subview %buf[%c0][%n][%c1] : M1 to S1
    scf.for %i = %c0 to %n step %c1 {
      %e = memref.load %x[%i] : S1
      %t = math.cos %e : f64
      memref.store %t, %w[%i] : S1
    }
    %v = memref.subview %w[%c0][%n][%c1] : S1 to S1""" + sum_sin(S1) + "\n  }\n}"),
        params=[("x", S1, "dup")], args=[BIG[::3]], ref=lambda x: ref_sum_sin(np.cos(x))),
    # (d) rank-reducing subviews: row A[k] and column A[:, k] of identity and strided arrays
    "row_identity": dict(fn="k", text=mlir("""module {
  func.func @k(%A: M2, %k: index) -> f64 {HEAD
    %n = memref.dim %A, %c1 : M2
    %v = memref.subview %A[%k, 0][1, %n][1, 1] : M2 to R1""" + sum_sin(R1) + "\n  }\n}"),
        params=[("A", M2, "dup"), ("k", IDX, "const")], args=[RNG.normal(size=(3, 5)), 1],
        ref=lambda A, k: ref_sum_sin(A[k])),
    "column_identity": dict(fn="k", text=mlir("""module {
  func.func @k(%A: M2, %k: index) -> f64 {HEAD
    %m = memref.dim %A, %c0 : M2
    %v = memref.subview %A[0, %k][%m, 1][1, 1] : M2 to S1""" + sum_sin(S1) + "\n  }\n}"),
        params=[("A", M2, "dup"), ("k", IDX, "const")], args=[RNG.normal(size=(4, 3)), 2],
        ref=lambda A, k: ref_sum_sin(A[:, k])),
    "column_strided": dict(fn="k", text=mlir("""module {
  func.func @k(%A: S2, %k: index) -> f64 {HEAD
    %m = memref.dim %A, %c0 : S2
    %v = memref.subview %A[0, %k][%m, 1][1, 1] : S2 to S1""" + sum_sin(S1) + "\n  }\n}"),
        params=[("A", S2, "dup"), ("k", IDX, "const")], args=[RNG.normal(size=(6, 5)).T, 2],
        ref=lambda A, k: ref_sum_sin(A[:, k])),
    # (d) stores through row views made inside a loop, then a read of the whole array
    "row_views_store": dict(fn="k", text=mlir("""module {
  func.func @k(%X: S2, %x: S1, %A: S2) -> f64 {HEAD
    %m = memref.dim %A, %c0 : S2
    %n = memref.dim %A, %c1 : S2
    scf.for %i = %c0 to %m step %c1 {
      %r = memref.subview %A[%i, 0][1, %n][1, 1] : S2 to S1
      scf.for %j = %c0 to %n step %c1 {
        %e = memref.load %X[%i, %j] : S2
        %t = math.sin %e : f64
        %f = memref.load %x[%j] : S1
        %p = arith.mulf %t, %f : f64
        memref.store %p, %r[%j] : S1
      }
    }
    %s = scf.for %i = %c0 to %m step %c1 iter_args(%acc = %z) -> (f64) {
      %q = scf.for %j = %c0 to %n step %c1 iter_args(%acc2 = %acc) -> (f64) {
        %e = memref.load %A[%i, %j] : S2
        %e2 = arith.mulf %e, %e : f64
        %a = arith.addf %acc2, %e2 : f64
        scf.yield %a : f64
      }
      scf.yield %q : f64
    }
    return %s : f64
  }
}"""), params=[("X", S2, "dup"), ("x", S1, "dup"), ("A", S2, "dup")],
        args=[RNG.normal(size=(3, 4)), RNG.normal(size=8)[::2], np.zeros((4, 3)).T],
        ref=lambda X, x, A: float(np.sum((np.sin(X) * x) ** 2))),
    # views yielded by scf.if
    "views_from_if": dict(fn="k", text=mlir("""module {
  func.func @k(%x: S1, %c: i1) -> f64 {HEAD
    %c2 = arith.constant 2 : index
    %n = memref.dim %x, %c0 : S1
    %h = arith.divui %n, %c2 : index
    %v = scf.if %c -> (S1) {
      %a = memref.subview %x[%c1][%h][%c1] : S1 to S1
      scf.yield %a : S1
    } else {
      %b = memref.subview %x[%c0][%h][%c2] : S1 to S1
      scf.yield %b : S1
    }""" + sum_sin(S1) + "\n  }\n}"),
        params=[("x", S1, "dup"), ("c", "i1", "const")], args=[BIG[:10].copy(), False],
        ref=lambda x, c: ref_sum_sin(x[1:6] if c else x[0:10:2])),
    # (e) views passed to callees (Ember inlines before Enzyme: prepare_for_enzyme)
    "view_to_callee": dict(fn="k", text=mlir("""module {
  func.func private @g(%v: S1) -> f64 {HEAD""" + sum_sin(S1) + """
  }
  func.func private @h(%v: S1, %x: S1) {HEAD
    %len = memref.dim %v, %c0 : S1
    scf.for %i = %c0 to %len step %c1 {
      %e = memref.load %x[%i] : S1
      %t = math.cos %e : f64
      memref.store %t, %v[%i] : S1
    }
    return
  }
  func.func @k(%A: S2, %x: S1) -> f64 {HEAD
    %m = memref.dim %A, %c0 : S2
    %n = memref.dim %A, %c1 : S2
    %xs = memref.subview %x[0][%n][2] : S1 to S1
    %r0 = memref.subview %A[0, 0][1, %n][1, 1] : S2 to S1
    func.call @h(%r0, %xs) : (S1, S1) -> ()
    %s = scf.for %i = %c0 to %m step %c1 iter_args(%acc = %z) -> (f64) {
      %r = memref.subview %A[%i, 0][1, %n][1, 1] : S2 to S1
      %g = func.call @g(%r) : (S1) -> f64
      %a = arith.addf %acc, %g : f64
      scf.yield %a : f64
    }
    return %s : f64
  }
}"""), params=[("A", S2, "dup"), ("x", S1, "dup")],
        args=[RNG.normal(size=(3, 4)), RNG.normal(size=9)],
        ref=lambda A, x: sum(ref_sum_sin(np.cos(x[:8:2]) if i == 0 else A[i])
                             for i in range(A.shape[0]))),
    # stride-0 broadcast x[newaxis, :] = expand_shape + subview; needs fold-memref-alias-ops
    "broadcast_folded": dict(fn="k", pre="fold-memref-alias-ops", text=mlir("""module {
  func.func @k(%x: S1, %B: M2) -> f64 {HEAD
    %d0 = memref.dim %B, %c0 : M2
    %d1 = memref.dim %x, %c0 : S1
    %e1 = memref.expand_shape %x [[0, 1]] output_shape [1, %d1]
        : S1 into memref<1x?xf64, strided<[?, ?], offset: ?>>
    %t = memref.subview %e1[0, 0][%d0, %d1][%c0, 1]
        : memref<1x?xf64, strided<[?, ?], offset: ?>> to S2""" + weighted_2d(S2) + "\n  }\n}"),
        params=[("x", S1, "dup"), ("B", M2, "const")],
        args=[RNG.normal(size=8)[::2], RNG.normal(size=(3, 4))],
        ref=lambda x, B: float(np.sum(np.sin(x[None, :]) * B))),
    # (f) linalg.generic (broadcast map, reduction into a 0-d alloc) on strided views,
    # lowered to loops before Enzyme
    "linalg_on_views": dict(fn="k", pre="convert-linalg-to-loops", text=mlir("""
#id = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (j)>
#none = affine_map<(i, j) -> ()>
module {
  func.func @k(%X0: S2, %w: S1, %Y: S2) -> f64 {HEAD
    %m = memref.dim %Y, %c0 : S2
    %n = memref.dim %Y, %c1 : S2
    %X = memref.subview %X0[1, 0][%m, %n][1, 2] : S2 to S2
    linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
        ins(%X, %w : S2, S1) outs(%Y : S2) {
      ^bb0(%a: f64, %b: f64, %o: f64):
        %s = math.sin %a : f64
        %p = arith.mulf %s, %b : f64
        linalg.yield %p : f64
    }
    %acc = memref.alloc() : memref<f64>
    linalg.fill ins(%z : f64) outs(%acc : memref<f64>)
    linalg.generic {indexing_maps = [#id, #none], iterator_types = ["parallel", "reduction"]}
        ins(%Y : S2) outs(%acc : memref<f64>) {
      ^bb0(%a: f64, %o: f64):
        %q = arith.mulf %a, %a : f64
        %r = arith.addf %o, %q : f64
        linalg.yield %r : f64
    }
    %s = memref.load %acc[] : memref<f64>
    return %s : f64
  }
}""").replace("module {", "module {", 1),
        params=[("X0", S2, "dup"), ("w", S1, "dup"), ("Y", S2, "dup")],
        args=[RNG.normal(size=(5, 8)).T, RNG.normal(size=6)[::2], np.zeros((3, 6))[:, ::2]],
        ref=lambda X0, w, Y: float(np.sum((np.sin(X0[1:1 + Y.shape[0], 0:2 * Y.shape[1]:2])
                                           * w) ** 2))),
}


def fold_transposes(module: ir.Module) -> None:
    """The recipe for transposes in derivative builds: the loads, stores and dims of a
    `memref.transpose` result address its source with permuted indices (any other user is
    left alone, and Enzyme then rejects the transpose in reverse mode)."""
    from mlir.dialects import memref

    from ember.ir.context import ops_where

    for op in ops_where(module.operation, lambda o: o.name == "memref.transpose"):
        perm = ir.AffineMapAttr(op.attributes["permutation"]).value
        where = [ir.AffineDimExpr(e).position for e in perm.results]  # result k = source where[k]
        source = op.operands[0]
        for use in list(op.result.uses):
            user = use.owner
            with ir.InsertionPoint(user), user.location:
                if user.name == "memref.load":
                    idx = list(user.operands[1:])
                    new = memref.load(source, [idx[where.index(d)] for d in range(len(idx))])
                    user.result.replace_all_uses_with(new)
                    user.erase()
                elif user.name == "memref.store":
                    idx = list(user.operands[2:])
                    memref.store(user.operands[0], source,
                                 [idx[where.index(d)] for d in range(len(idx))])
                    user.erase()
        if not list(op.result.uses):
            op.erase()


TRANSPOSE = mlir("""module {
  func.func @k(%A: S2, %B: M2) -> f64 {HEAD
    %d0 = memref.dim %A, %c1 : S2
    %d1 = memref.dim %A, %c0 : S2
    %t = memref.transpose %A (i, j) -> (j, i) : S2 to S2""" + weighted_2d(S2) + "\n  }\n}")
CASES["transpose_folded"] = dict(
    fn="k", text=TRANSPOSE, rewrite=fold_transposes,
    params=[("A", S2, "dup"), ("B", M2, "const")],
    args=[RNG.normal(size=(3, 4)), RNG.normal(size=(4, 3))],
    ref=lambda A, B: float(np.sum(np.sin(A.T) * B)))


@pytest.mark.parametrize("mode", ["primal", "reverse", "forward"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_view_form_matches_finite_differences(name, mode):
    if mode == "primal" and "rewrite" in CASES[name]:
        pytest.skip("derivative-only recipe")
    check(CASES[name], mode)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", ["strided_param", "strided_params_2d", "row_views_store"])
def test_shadows_need_not_share_the_primal_layout(name, mode):
    """Shadows are separate descriptors: contiguous shadows of strided primals are fine."""
    check(CASES[name], mode, shadow=contiguous_shadow)


# --- what Enzyme 0.0.16 rejects in reverse mode (and accepts in forward mode) ----------------

def _reader(view: str, arg_type: str = M1, view_type: str = S1) -> str:
    return mlir(f"""module {{
  func.func @k(%x: {arg_type}) -> f64 {{HEAD
    %cm1 = arith.constant -1 : index
    %sz = memref.dim %x, %c0 : {arg_type}
    %last = arith.subi %sz, %c1 : index
    {view}""" + sum_sin(view_type) + "\n  }\n}")


REJECTED = {
    "memref.cast": (_reader("%v = memref.cast %x : M1 to S1"), True),
    "memref.reinterpret_cast": (_reader(
        "%v = memref.reinterpret_cast %x to offset: [%last], sizes: [%sz], strides: [%cm1]"
        " : M1 to S1"), True),
    "memref.extract_strided_metadata": (_reader(
        "%mb, %mo, %ms, %mst = memref.extract_strided_metadata %x : M1 -> memref<f64>,"
        " index, index, index\n    %v = memref.reinterpret_cast %mb to offset: [%mo],"
        " sizes: [%ms], strides: [%mst] : memref<f64> to S1"), False),
    "memref.expand_shape": (_reader(
        "%ex = memref.expand_shape %x [[0, 1]] output_shape [1, %sz] : M1 into memref<1x?xf64>\n"
        "    %v = memref.subview %ex[0, 0][1, %sz][1, 1] : memref<1x?xf64> to"
        " memref<?xf64, strided<[1]>>", view_type="memref<?xf64, strided<[1]>>"), True),
    "memref.transpose": (TRANSPOSE, True),
}


@pytest.mark.parametrize("op", sorted(REJECTED))
def test_reverse_mode_rejects(op):
    text, _ = REJECTED[op]
    params = ([("A", S2, "dup"), ("B", M2, "const")] if op == "memref.transpose"
              else [("x", M1, "dup")])
    # with both ops present Enzyme reports both; Ember's message names the first one
    ops = "memref\\.(extract_strided_metadata|reinterpret_cast)" if "metadata" in op else re.escape(op)
    # Enzyme's own behaviour: prepare_for_enzyme now folds transposes (lowering/views.py)
    with pytest.raises(CompileError, match=f"cannot differentiate '{ops}'"):
        derivative(text, "k", "reverse", params, prepare=op != "memref.transpose")


@pytest.mark.parametrize("op", sorted(REJECTED))
def test_forward_mode(op):
    text, works = REJECTED[op]
    if op == "memref.transpose":
        case = dict(CASES["transpose_folded"], rewrite=None)
    else:
        case = dict(fn="k", text=text, params=[("x", M1, "dup")], args=[BIG[:7].copy()],
                    ref={"memref.cast": ref_sum_sin,
                         "memref.reinterpret_cast": lambda x: ref_sum_sin(x[::-1]),
                         "memref.extract_strided_metadata": ref_sum_sin,
                         "memref.expand_shape": ref_sum_sin}[op])
    if works:
        check(case, "forward")
        check(case, "primal")
    else:
        with pytest.raises(CompileError, match=f"cannot differentiate '{re.escape(op)}'"):
            check(case, "forward")


def test_broadcast_without_folding_is_rejected_in_reverse():
    case = CASES["broadcast_folded"]
    with pytest.raises(CompileError, match="cannot differentiate 'memref.expand_shape'"):
        derivative(case["text"], "k", "reverse", case["params"])


def test_reverse_needs_inlined_callees():
    case = CASES["view_to_callee"]
    with pytest.raises(CompileError, match="callee touches memory"):
        derivative(case["text"], "k", "reverse", case["params"], prepare=False)


# --- primal deallocation of views ------------------------------------------------------------

RETURNED_VIEW = mlir("""module {
  func.func private @mk(%n: index) -> S1 {HEAD
    %a = memref.alloc(%n) : M1
    scf.for %i = %c0 to %n step %c1 {
      %ii = arith.index_cast %i : index to i64
      %f = arith.sitofp %ii : i64 to f64
      memref.store %f, %a[%i] : M1
    }
    %cm1 = arith.constant -1 : index
    %last = arith.subi %n, %c1 : index
    %v = memref.subview %a[%last][%n][%cm1] : M1 to S1
    return %v : S1
  }
  func.func @k(%n: index) -> f64 {HEAD
    %v = func.call @mk(%n) : (index) -> S1""" + sum_sin(S1) + "\n  }\n}")


def test_returned_view_of_local_alloc_is_freed_by_the_caller():
    with mlir_context():
        module = ir.Module.parse(RETURNED_VIEW)
        run_stages(module, (CLEANUP, DEALLOC), "views")
        funcs = {ir.StringAttr(op.operation.attributes["sym_name"]).value: str(op)
                 for op in module.body.operations}
    assert "dealloc" not in funcs["mk"]
    caller = funcs["k"]
    assert "bufferization.dealloc (%base_buffer" in caller
    assert caller.index("extract_strided_metadata") > caller.index("scf.for")
    assert primal(RETURNED_VIEW, "k")(7) == pytest.approx(ref_sum_sin(np.arange(7.0)[::-1]),
                                                           rel=1e-14)
