"""Build side of kernel errors: the site table and `__ember_raise` (LLVM IR), the frames that
entry thunks and prange workers open, and the C runtime object (kernel_errors.c).

Only programs with sites (`tir.Program.sites`: a `raise`, `assert` or run-time check) get
any of this; other kernels keep thunks without frames, so they pay nothing per call.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Final

from . import tape
from .cc import compile_object

if TYPE_CHECKING:
    from ..frontend import tir

FRAME_BYTES: Final = 512
"""Stack bytes of one frame (kernel_errors.c frame_t: the previous frame, the allocation
mark and a jmp_buf)."""
SLOT_BYTES: Final = 1536
"""Bytes of the error slot a prange launch gives its workers (kernel_errors.c record_t)."""
_SOURCE: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_errors.c")

DECLARATIONS: Final = """
declare ptr @ember_err_enter(ptr)
declare void @ember_err_leave(ptr, i32)
declare i32 @_setjmp(ptr) returns_twice
declare void @ember_raise_at(ptr) noreturn cold
declare void @ember_err_slot_init(ptr)
declare void @ember_err_publish(ptr, i32)
declare void @ember_err_rethrow(ptr)
"""

TRACKED: Final = """
declare ptr @ember_tracked_alloc(i64)
declare void @ember_tracked_free(ptr)

define internal ptr @_mlir_memref_to_llvm_alloc(i64 %size) {
  %p = call ptr @ember_tracked_alloc(i64 %size)
  ret ptr %p
}

define internal void @_mlir_memref_to_llvm_free(ptr %p) {
  call void @ember_tracked_free(ptr %p)
  ret void
}
"""
"""Allocator of primal kernels that can raise: kept in a per-thread list, so that a frame
frees what its kernel allocated when it raises (gradient libraries use the arena). Internal
to the object: an AOT library may also hold derivative objects allocating from the arena."""


def _cstring(name: str, text: str) -> str:
    data = text.encode() + b"\0"
    body = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:02X}"
                   for b in data)
    return f'@{name} = private unnamed_addr constant [{len(data)} x i8] c"{body}"'


def site_ir(sites: tuple[tir.Site, ...]) -> str:
    """The site table of one program and `__ember_raise(i32 site)` (internal to its object,
    so the programs of an AOT library keep their own tables)."""
    lines, rows = [DECLARATIONS], []
    for k, s in enumerate(sites):
        names = [f"@__ember_s{k}.{part}" for part in ("kind", "text", "tags", "file", "func")]
        for name, text in zip(names, (s.kind, s.template, s.tags, s.file, s.func), strict=True):
            lines.append(_cstring(name[1:], text))
        rows.append(f"%ember.site {{ ptr {names[0]}, i32 {s.line}, ptr {names[1]}, "
                    f"ptr {names[2]}, ptr {names[3]}, ptr {names[4]} }}")
    lines.insert(0, "%ember.site = type { ptr, i32, ptr, ptr, ptr, ptr }")
    lines.append(f"@__ember_sites = internal constant [{len(sites)} x %ember.site] "
                 f"[{', '.join(rows)}]")
    lines.append(f"""
define internal void @__ember_raise(i32 %site) noreturn cold {{
  %k = sext i32 %site to i64
  %p = getelementptr [{len(sites)} x %ember.site], ptr @__ember_sites, i64 0, i64 %k
  call void @ember_raise_at(ptr %p)
  unreachable
}}""")
    return "\n".join(lines) + "\n"


def program_ir(program: tir.Program, tracked: bool) -> list[str]:
    """What a raising program adds to its library's IR (nothing for other programs);
    `tracked`: primal code, whose allocations the frames must be able to free."""
    if not program.sites:
        return []
    return [site_ir(program.sites), *([TRACKED] if tracked else [])]


def open_frame(body: list[str], failed: list[str]) -> None:
    """Thunk lines opening a frame: a raise lands in `raised:`, which closes the frame
    (freeing what the kernel allocated) and runs `failed` (returning status 2)."""
    body += [f"  %frame = alloca [{FRAME_BYTES} x i8], align 16",
             "  %jb = call ptr @ember_err_enter(ptr %frame)",
             "  %sj = call i32 @_setjmp(ptr %jb) returns_twice",
             "  %didraise = icmp ne i32 %sj, 0",
             "  br i1 %didraise, label %raised, label %run",
             "raised:", "  call void @ember_err_leave(ptr %frame, i32 1)", *failed, "run:"]


CLOSE_FRAME: Final = "  call void @ember_err_leave(ptr %frame, i32 0)"


_RETURNS: Final = {"status": ("i32", "  ret i32 %status"), "ok": ("i32", "  ret i32 0"),
                   "void": ("void", "  ret void")}


def framed(name: str, params: list[str], guarded: str, returns: str,
           failed: list[str]) -> str:
    """`@name(params)`: opens a frame and calls `guarded` (same parameters, kept out of line:
    noinline, so that the kernel inlined into it is not compiled inside a function that
    calls setjmp, which limits LLVM's optimizations); a raise runs `failed`. `returns`:
    "status" (guarded returns it), "ok" (guarded is void, 0 is returned) or "void"."""
    args = ", ".join(params)
    ty, ret = _RETURNS[returns]
    body = ["entry:"]
    open_frame(body, failed)
    call = f"call {'i32' if returns == 'status' else 'void'} @{guarded}({args})"
    body += [f"  %status = {call}" if returns == "status" else f"  {call}", CLOSE_FRAME, ret]
    return "\n".join([f"define {ty} @{name}({args}) {{", *body, "}", ""])


@functools.cache
def runtime_object() -> bytes:
    """kernel_errors.c compiled for this machine (once per process)."""
    return compile_object(_SOURCE, "Ember's error runtime")


def runtime_objects(ir_text: str) -> list[bytes]:
    """The objects a library's IR needs besides its own: the error runtime if it raises, the
    tape arena (runtime/tape.py) if it is a derivative."""
    return [*([runtime_object()] if "@ember_err_enter" in ir_text else []),
            *tape.runtime_objects(ir_text)]
