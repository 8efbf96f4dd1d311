"""Launchers of the parallel loops of derivative libraries (lowering/paralleladjoint.py).

Input: the LLVM IR of a derivative in which each outlined worker
`W(lo, hi, thread, *operands)` is launched by a call of the declared
`__ember_padj_W(trips, *operands) -> threads used`. Output: the same IR with each launcher
defined (the declaration removed): it packs its operands into a context and runs
`GOMP_parallel` (libgomp, as runtime/parallel.py does for primal prange loops); thread t of n
runs W on the contiguous chunk [t*c, min((t+1)*c, trips)) with c = ceil(trips / n), so the
split, and with it every partial sum, depends only on the thread count. The types come from
the declaration, so the launcher fits whatever the lowering made of the operands.
In a derivative that can raise (it calls `__ember_raise`), each thread runs its chunk in an
error frame and the launcher re-raises the error of the lowest chunk that raised, as
runtime/parallel.py does for primal prange loops (a raise on a worker thread has no frame of
its own otherwise, and aborts the process).
"""

from __future__ import annotations

import re
from typing import Final

from ..lowering.paralleladjoint import LAUNCHER
from . import raising
from .parallel import framed_thread, launcher_ir, thread_chunk

_DECLARED: Final = re.compile(r"^declare i32 @" + LAUNCHER + r"([\w.$]+)\(([^()]*)\)[^\n]*$",
                              re.M)
_NEEDED: Final = (("@GOMP_parallel(", "declare void @GOMP_parallel(ptr, ptr, i32, i32)"),
                  ("@omp_get_thread_num(", "declare i32 @omp_get_thread_num()"),
                  ("@omp_get_num_threads(", "declare i32 @omp_get_num_threads()"),
                  ("@llvm.smin.i64(", "declare i64 @llvm.smin.i64(i64, i64)"))
_RAISING: Final = tuple((line[line.index("@"):line.index("(") + 1], line)
                       for line in raising.DECLARATIONS.strip().splitlines())


def with_launchers(llvm_ir: str) -> str:
    """`llvm_ir` with every declared launcher defined (unchanged if there is none)."""
    found = _DECLARED.findall(llvm_ir)
    if not found:
        return llvm_ir
    text = _DECLARED.sub("", llvm_ir)
    raises = "@__ember_raise(" in text
    defined = [_launcher(w, [_type(p) for p in _split(params)[1:]], raises)
               for w, params in found]
    needed = _NEEDED + (_RAISING if raises else ())
    extra = [decl for symbol, decl in needed
             if not re.search(r"^declare [^\n]*" + re.escape(symbol), text, re.M)]
    return "\n".join([text, *extra, *defined])


def _split(params: str) -> list[str]:
    """The parameters of a declaration, split at the commas outside `{ }`, `[ ]`, `< >`."""
    out, depth, start = [], 0, 0
    for k, ch in enumerate(params):
        depth += (ch in "{[<") - (ch in "}]>")
        if ch == "," and depth == 0:
            out.append(params[start:k].strip())
            start = k + 1
    return [*out, params[start:].strip()] if params.strip() else out


def _type(param: str) -> str:
    """A parameter's type (a struct such as a complex value's `{ double, double }` whole),
    without the attributes after it."""
    if param.startswith(("{", "[", "<")):
        depth = 0
        for k, ch in enumerate(param):
            depth += (ch in "{[<") - (ch in "}]>")
            if depth == 0:
                return param[:k + 1]
    return param.split()[0]


def _launcher(w: str, operands: list[str], raises: bool) -> str:
    fields = ["i64", *operands, *(["ptr"] if raises else []), "i32"]
    ctx = "{ " + ", ".join(fields) + " }"
    stored = len(fields) - 1 - raises
    last = len(fields) - 1
    out = launcher_ir(f"{LAUNCHER}{w}", fields, f"{LAUNCHER}{w}.thread", raises)
    body = f"{LAUNCHER}{w}.thread" + (".guarded" if raises else "")
    out.append(f"define internal void @{body}(ptr %ctx){' noinline' if raises else ''} {{")
    out += thread_chunk(ctx, fields)
    args = ["i64 %lo", "i64 %hi", "i64 %t", *(f"{fields[j]} %v{j}" for j in range(1, stored))]
    out += [f"  call void @{w}({', '.join(args)})",
            "  %first = icmp eq i32 %tid, 0", "  br i1 %first, label %count, label %done",
            "count:", f"  %nf = getelementptr {ctx}, ptr %ctx, i32 0, i32 {last}",
            "  store i32 %nt, ptr %nf", "  br label %done", "done:", "  ret void", "}"]
    return "\n".join(out + (framed_thread(f"{LAUNCHER}{w}.thread", ctx, last - 1)
                            if raises else []))
