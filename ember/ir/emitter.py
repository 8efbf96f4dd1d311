"""IR stage: a typed `tir.Program` -> one MLIR module (func/scf/memref/arith/math).

`emit_module` creates one `func.func` per kernel (callees private), and `Emitter` walks each
typed body with an SSA environment (variable name -> value, or a tuple of values for tuple
variables). Control flow maps one-to-one onto `scf.if` / `scf.for` / `scf.while`, with the
frontend's `carried` lists as results and iteration arguments. Every op is built under the
user's source location. Statement and expression rules live in stmts.py and exprs.py; they
see the emitter through the `protocols.Emitter` protocol and never import this module.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, func, memref

from .. import types as T
from ..frontend import tir
from . import exprs, loops, ops, stmts
from .context import location
from .types import contiguous_memref_type, flat_types, for_enzyme, to_mlir_type

Env = dict[str, Any]


def emit_module(program: tir.Program, ad: bool = False,
                module: ir.Module | None = None) -> ir.Module:
    """Build the module for `program` in the current (entered) MLIR context (or add it to
    `module`). With `ad`, the code is prepared for Enzyme (derivative rules for the math ops
    it lacks, adrules.py) and the entry takes C-contiguous arrays (`Emitter.declare`)."""
    if ad:
        with for_enzyme():
            return _emit(program, True, module)
    return _emit(program, False, module)


def _emit(program: tir.Program, ad: bool, module: ir.Module | None) -> ir.Module:
    module = module or ir.Module.create()
    emitter = Emitter(module, program, ad)
    for fn in program.functions.values():
        emitter.declare(fn)
    entry = program.functions[program.entry]
    contiguous = not ad and any(isinstance(t, T.Array) for _, t in entry.params)
    if contiguous:
        emitter.declare(entry, CONTIGUOUS_SUFFIX)
    for fn in program.functions.values():
        # The general (strided) variant of an entry with a contiguous one serves the rarer
        # non-contiguous views: its loops are left to LLVM unvectorized and not unrolled
        # (strided accesses rarely vectorize), which cuts compile time by about a fifth.
        emitter.plain_loops = contiguous and fn is entry
        emitter.emit_function(fn)
    emitter.plain_loops = False
    if contiguous:
        emitter.emit_function(entry, CONTIGUOUS_SUFFIX)
    return module


CONTIGUOUS_SUFFIX = "_c"
"""The entry kernel's variant for C-contiguous array arguments (static inner strides); the
runtime's thunk calls it when every array argument is C-contiguous."""


class Emitter:
    """Builds function bodies; holds the SSA environment of the function being emitted."""

    def __init__(self, module: ir.Module, program: tir.Program, ad: bool = False) -> None:
        self.module = module
        self.ad = ad
        self.program = program
        self.funcs: dict[str, func.FuncOp] = {}
        self.libm_decls: set[str] = set()
        self.externs: set[str] = set()
        self.env: Env = {}
        self.plain_loops = False
        """Mark every loop cold (see tir.For.cold) while emitting the current function."""

    def declare(self, fn: tir.Function, suffix: str = "") -> None:
        """Declare `fn` (+ `suffix`). The contiguous variant, and a derivative build's entry
        (the runtime passes it C-contiguous arrays), take identity-layout arrays."""
        param = contiguous_memref_type if suffix or self._enzyme_entry(fn) else to_mlir_type
        inputs = [param(t) if isinstance(t, T.Array) else to_mlir_type(t) for _, t in fn.params]
        with ir.InsertionPoint(self.module.body), location(fn.span):
            op = func.FuncOp(fn.symbol + suffix,
                             ir.FunctionType.get(inputs, flat_types(fn.ret)))
        if fn.symbol != self.program.entry:
            op.attributes["sym_visibility"] = ir.StringAttr.get("private")
        self.funcs[fn.symbol + suffix] = op

    def emit_function(self, fn: tir.Function, suffix: str = "") -> None:
        op = self.funcs[fn.symbol + suffix]
        block = op.add_entry_block()
        self.env = {name: arg for (name, _), arg in zip(fn.params, block.arguments, strict=True)}
        body = fn.fast_body if suffix == CONTIGUOUS_SUFFIX and fn.fast_body else fn.body
        with ir.InsertionPoint(block):
            if self._enzyme_entry(fn):
                self._view_params(fn)
            self.block(body)
            if not body or not isinstance(body[-1], tir.Return):
                with location(fn.span):
                    func.ReturnOp(self.zeros(fn.ret))

    def _enzyme_entry(self, fn: tir.Function) -> bool:
        return self.ad and fn.symbol == self.program.entry

    def _view_params(self, fn: tir.Function) -> None:
        """Rebind the identity-layout array parameters to strided views of them (a full-size
        subview: Enzyme has no rule for `memref.cast`). Known unit strides keep the
        derivative's loops vectorizable."""
        with location(fn.span):
            for name, t in fn.params:
                if isinstance(t, T.Array):
                    array = self.env[name]
                    self.env[name] = loops.strided_view(
                        array, [self.dim(array, k) for k in range(t.ndim)])

    # --- dispatch ----------------------------------------------------------------------------
    def block(self, body: tuple[tir.Stmt, ...]) -> None:
        for s in body:
            with location(s.span):
                stmts.RULES[type(s)](self, s)

    def expr(self, e: tir.Expr) -> Any:
        with location(e.span):
            return exprs.RULES[type(e)](self, e)

    # --- values --------------------------------------------------------------------------------
    def flatten(self, names: tuple[tuple[str, T.Type], ...]) -> list[ir.Value]:
        """Current values of `names` as a flat list (zeros for names not yet defined)."""
        out: list[ir.Value] = []
        for name, t in names:
            value = self.env.get(name)
            out.extend(self.zeros(t) if value is None else self.conform(_as_list(value), t))
        return out

    def conform(self, values: list[ir.Value], t: T.Type) -> list[ir.Value]:
        """`values` with contiguous arrays (parameters of the contiguous variant) cast to the
        generic strided type that block arguments, results and callees use."""
        return [memref.cast(want, v) if v.type != want else v
                for v, want in zip(values, flat_types(t), strict=True)]

    def bind(self, names: tuple[tuple[str, T.Type], ...], values: Any) -> None:
        """Set `names` from a flat sequence of values (the inverse of `flatten`)."""
        it = iter(list(values))
        for name, t in names:
            n = len(flat_types(t))
            items = [next(it) for _ in range(n)]
            self.env[name] = tuple(items) if isinstance(t, T.Tuple) else items[0]

    def zeros(self, t: T.Type) -> list[ir.Value]:
        if isinstance(t, T.NoneType):
            return []
        if isinstance(t, T.Tuple):
            return [v for item in t.items for v in self.zeros(item)]
        if isinstance(t, T.Array):
            zero = arith.constant(ir.IndexType.get(), 0)
            return [loops.allocate(t, [zero] * t.ndim)]
        assert isinstance(t, T.Scalar)
        return [ops.const(t, 0)]

    def extern(self, name: str, inputs: list[ir.Type], results: list[ir.Type]) -> str:
        """Declare external function `name` once per module (which may already hold it, from
        a second program emitted into the same module); returns its name."""
        if not self.externs:
            self.externs = {str(op.sym_name.value) for op in self.module.body.operations
                            if hasattr(op, "sym_name")} | {""}
        if name not in self.externs:
            self.externs.add(name)
            with ir.InsertionPoint.at_block_begin(self.module.body), ir.Location.unknown():
                decl = func.FuncOp(name, ir.FunctionType.get(inputs, results))
                decl.attributes["sym_visibility"] = ir.StringAttr.get("private")
        return name

    def libm(self, name: str, arity: int, mt: ir.Type) -> str:
        if not self.libm_decls:  # the module may already hold declarations (second program)
            self.libm_decls = {str(op.sym_name.value) for op in self.module.body.operations
                               if hasattr(op, "sym_name")}
            self.libm_decls.add("")
        if name not in self.libm_decls:
            self.libm_decls.add(name)
            with ir.InsertionPoint.at_block_begin(self.module.body):
                decl = func.FuncOp(name, ir.FunctionType.get([mt] * arity, [mt]))
                decl.attributes["sym_visibility"] = ir.StringAttr.get("private")
                decl.attributes["memory_effects"] = ir.Attribute.parse(_PURE)
        return name

    def index(self, value: ir.Value) -> ir.Value:
        return arith.index_cast(ir.IndexType.get(), value)

    def dim(self, array: ir.Value, axis: int) -> ir.Value:
        return memref.dim(array, arith.constant(ir.IndexType.get(), axis))


_PURE = ("#llvm.memory_effects<other = none, argMem = none, inaccessibleMem = none, "
         "errnoMem = none, targetMem0 = none, targetMem1 = none>")
"""The libm functions' memory effects: none. They only write errno (and lgamma `signgam`),
which kernels never read; declared pure, LLVM may vectorize loops that call them (as it does
the math intrinsics, scalarizing the call) and hoist or merge calls, with the same results."""


def _as_list(value: Any) -> list[ir.Value]:
    return list(value) if isinstance(value, tuple) else [value]
