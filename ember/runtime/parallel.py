"""Parallel loops on CPU: launchers for the workers the frontend outlined from `prange`.

For each worker `W(lo, hi, start, step, *captured) -> partials`, the kernel calls
`__ember_par_W(trips, start, step, *captured, *partial_buffers) -> threads used`. This module
writes that launcher in LLVM IR: it packs its arguments into a context, runs
`GOMP_parallel(trampoline, context)` (GNU libgomp, linked with -lgomp), and each thread's
trampoline runs `W` on one contiguous chunk of [0, trips) and stores its partial reductions
in slot `thread` of each buffer. The kernel then combines the slots in thread order.
"""

from __future__ import annotations

from .. import types as T
from ..frontend import tir
from . import abi, raising

DECLARATIONS = """
declare void @GOMP_parallel(ptr, ptr, i32, i32)
declare i32 @omp_get_thread_num()
declare i32 @omp_get_num_threads()
declare i64 @llvm.smin.i64(i64, i64)
"""
BUFFER = [ty for _, ty in abi.memref_fields(1)]
"""The expanded descriptor of a buffer of partial results (one slot per thread)."""


def _expanded(t: T.Type) -> list[str]:
    if isinstance(t, T.Array):
        return [ty for _, ty in abi.memref_fields(t.ndim)]
    assert isinstance(t, T.Scalar)
    return [abi.llvm_scalar(t)]


def _reductions(worker: tir.Function) -> tuple[T.Scalar, ...]:
    ret = worker.ret
    return tuple(ret.items) if isinstance(ret, T.Tuple) else ()  # type: ignore[arg-type]


def _result_type(reds: tuple[T.Scalar, ...]) -> str:
    if not reds:
        return "void"
    items = [abi.llvm_scalar(t) for t in reds]
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def launcher(worker: tir.Function, raises: bool | None = None) -> str:
    """The LLVM IR of `__ember_par_<worker>` and its trampoline. A worker that can raise
    gets an error slot in the context: each thread runs its chunk in its own frame, and the
    launcher raises the error of the lowest chunk that raised (runtime/kernel_errors.c)."""
    w = worker.symbol
    captured = [ty for _, t in worker.params[4:] for ty in _expanded(t)]
    reds = _reductions(worker)
    raises = tir.raises(worker.body) if raises is None else raises
    fields = ["i64", "i64", "i64", *captured, *(BUFFER * len(reds)), *(["ptr"] if raises else []),
              "i32"]
    ctx = "{ " + ", ".join(fields) + " }"
    launch = launcher_ir(f"__ember_par_{w}", fields, f"__ember_tramp_{w}", raises)
    return "\n".join(launch + _trampoline(w, ctx, fields, len(captured), reds, raises)) + "\n"


def launcher_ir(name: str, fields: list[str], thread: str, raises: bool) -> list[str]:
    """`define internal i32 @name(...)`: stores its parameters (and, where the threads can
    raise, an error slot) into a context of `fields`, runs `@thread(ctx)` on every thread
    with GOMP_parallel, re-raises the error of the lowest chunk that raised, and returns the
    thread count that thread 0 stored in the last field."""
    ctx = "{ " + ", ".join(fields) + " }"
    stored = len(fields) - 1 - raises
    params = ", ".join(f"{ty} %p{j}" for j, ty in enumerate(fields[:stored]))
    out = [f"define internal i32 @{name}({params}) {{", f"  %ctx = alloca {ctx}"]
    values = [f"%p{j}" for j in range(stored)]
    if raises:
        out += [f"  %slot = alloca [{raising.SLOT_BYTES} x i8], align 16",
                "  call void @ember_err_slot_init(ptr %slot)"]
        values.append("%slot")
    for j, (ty, value) in enumerate(zip(fields, values, strict=False)):
        out += [f"  %f{j} = getelementptr {ctx}, ptr %ctx, i32 0, i32 {j}",
                f"  store {ty} {value}, ptr %f{j}"]
    out += [f"  call void @GOMP_parallel(ptr @{thread}, ptr %ctx, i32 0, i32 0)",
            *(["  call void @ember_err_rethrow(ptr %slot)"] if raises else []),
            f"  %nf = getelementptr {ctx}, ptr %ctx, i32 0, i32 {len(fields) - 1}",
            "  %n = load i32, ptr %nf", "  ret i32 %n", "}"]
    return out


def thread_chunk(ctx: str, fields: list[str]) -> list[str]:
    """LLVM IR that loads a launch context's fields (`%v0`: the trip count, up to the last
    field) and computes this thread's contiguous chunk [`%lo`, `%hi`) of the trips (`%t`,
    `%tid`: the thread's number)."""
    out = [f"  %f{j} = getelementptr {ctx}, ptr %ctx, i32 0, i32 {j}\n  %v{j} = load {ty}, "
           f"ptr %f{j}" for j, ty in enumerate(fields[:-1])]
    return out + ["  %tid = call i32 @omp_get_thread_num()",
                  "  %nt = call i32 @omp_get_num_threads()",
                  "  %t = sext i32 %tid to i64", "  %n = sext i32 %nt to i64",
                  "  %span = add i64 %v0, %n", "  %span1 = sub i64 %span, 1",
                  "  %chunk = sdiv i64 %span1, %n", "  %lo0 = mul i64 %t, %chunk",
                  "  %lo = call i64 @llvm.smin.i64(i64 %lo0, i64 %v0)",
                  "  %hi0 = add i64 %lo, %chunk",
                  "  %hi = call i64 @llvm.smin.i64(i64 %hi0, i64 %v0)"]


def _trampoline(w: str, ctx: str, fields: list[str], ncaptured: int,
                reds: tuple[T.Scalar, ...], raises: bool) -> list[str]:
    last = len(fields) - 1
    name = f"__ember_tramp_{w}" + (".guarded" if raises else "")
    out = [f"define internal void @{name}(ptr %ctx){' noinline' if raises else ''} {{"]
    out += thread_chunk(ctx, fields)
    args = ["i64 %lo", "i64 %hi", "i64 %v1", "i64 %v2"]
    args += [f"{fields[j]} %v{j}" for j in range(3, 3 + ncaptured)]
    ret = _result_type(reds)
    call = f"call {ret} @{w}({', '.join(args)})"
    out.append(f"  {call}" if ret == "void" else f"  %r = {call}")
    for k, t in enumerate(reds):
        aligned = 3 + ncaptured + len(BUFFER) * k + abi.MEMREF_ALIGNED
        value = "%r" if len(reds) == 1 else f"%r{k}"
        if len(reds) > 1:
            out.append(f"  %r{k} = extractvalue {ret} %r, {k}")
        ty = abi.llvm_scalar(t)
        if t.is_bool:
            out.append(f"  %b{k} = zext i1 {value} to i8")
            value, ty = f"%b{k}", "i8"
        out += [f"  %slot{k} = getelementptr {ty}, ptr %v{aligned}, i64 %t",
                f"  store {ty} {value}, ptr %slot{k}"]
    out += ["  %first = icmp eq i32 %tid, 0", "  br i1 %first, label %count, label %done",
            "count:", f"  %nf = getelementptr {ctx}, ptr %ctx, i32 0, i32 {last}",
            "  store i32 %nt, ptr %nf", "  br label %done", "done:", "  ret void", "}"]
    return out + (framed_thread(f"__ember_tramp_{w}", ctx, last - 1) if raises else [])


def framed_thread(name: str, ctx: str, slot: int) -> list[str]:
    """`@name(ptr %ctx)`, which runs `@name.guarded` (a thread's chunk) in an error frame; a
    raise publishes the error to the launch's slot, field `slot` of the context (the lowest
    chunk wins), and skips the partial results."""
    published = ["  %tid = call i32 @omp_get_thread_num()",
                 f"  %sp = getelementptr {ctx}, ptr %ctx, i32 0, i32 {slot}",
                 "  %slot = load ptr, ptr %sp",
                 "  call void @ember_err_publish(ptr %slot, i32 %tid)", "  ret void"]
    framed = raising.framed(name, ["ptr %ctx"], f"{name}.guarded", "void", published)
    return [framed.replace("define void", "define internal void", 1)]


def workers(program: tir.Program) -> list[tir.Function]:
    launched = {n.worker for f in program.functions.values() for n in tir.walk(f.body)
                if isinstance(n, tir.ParallelLaunch)}
    return [program.functions[w] for w in sorted(launched)]


def parallel_ir(program: tir.Program) -> list[str]:
    """Launchers for every prange loop of `program` (empty if it has none)."""
    found = workers(program)
    if not found:
        return []
    return [DECLARATIONS, *(launcher(w, _raises(program, w, set())) for w in found)]


def _raises(program: tir.Program, fn: tir.Function, seen: set[str]) -> bool:
    """Whether `fn` or a kernel it calls can raise (a worker whose callee raises on another
    thread needs its own frame there)."""
    if tir.raises(fn.body):
        return True
    calls = {n.callee for n in tir.walk(fn.body) if isinstance(n, tir.KernelCall)} - seen
    seen |= calls
    return any(_raises(program, program.functions[c], seen) for c in calls
               if c in program.functions)
