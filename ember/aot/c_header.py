"""The fixed text of an ahead-of-time library's header and C file (aot/c_api.py).

The doc comment above each exported function, the C prelude of array helpers (strides,
contiguity, gather/scatter), the tape-memory functions of a library with derivatives, and
the section declaring the Python loader's entry thunks (`ember_py_*`, runtime/thunk.py).
"""

from __future__ import annotations

import ctypes

from .. import types as T
from ..runtime import abi
from ..runtime.call import ERROR_ACCESSORS
from ..runtime.derivcall import DerivativeInfo
from ..runtime.thunk import NDARRAY_TYPE_GLOBAL
from .c_types import c_scalar, header_name

RAISES_DOC = ("\n   Can raise: returns 0, or 2 when the kernel raised an exception (the message is in "
               "<lib>_last_error()); any result is stored through `result`.")


def doc_kernel(export: str, sig: abi.Signature, raises: bool = False) -> str:
    defaults = _defaults_doc(sig)
    params = ", ".join(f"{n}: {t}{defaults.get(n, '')}" for n, t in sig.params)
    return f"/* {export}({params}) -> {sig.ret}{RAISES_DOC if raises else ''} */\n"


def _defaults_doc(sig: abi.Signature) -> dict[str, str]:
    """What the header says after a parameter: its Python default (each item of a tuple
    default), or that Python callers may pass None (this build takes a value)."""
    out: dict[str, str] = {}
    for p in sig.binding.params if sig.binding is not None else ():
        values = p.default if isinstance(p.default, tuple) else (p.default,)
        for name, value in zip(p.flat, values, strict=False):
            if p.has_default and value is not None:
                out[name] = f" = {value!r}"
        if p.optional:
            out.update({n: out.get(n, "") + " (None in Python: not in this build)"
                        for n in p.flat})
    return out


def doc_derivative(export: str, info: DerivativeInfo, raises: bool = False) -> str:
    extra = f", outputs={[header_name(o) for o in info.outputs]}" if info.outputs else ""
    return (f"/* {export}: {info.kind} with respect to {list(info.wrt)}{extra}"
            f"{RAISES_DOC if raises else ''} */\n")


def tape_header(module: str) -> list[str]:
    return ["/* Derivatives keep their tape memory per thread between calls (at most",
            "   $EMBER_TAPE_CACHE_MB MiB, default 256): this frees the calling thread's, and",
            "   tells how many bytes it keeps. A thread's is freed when it exits. */",
            f"void {module}_release_tape_memory(void);",
            f"uint64_t {module}_tape_cached_bytes(void);", ""]


def tape_source(module: str) -> str:
    return (f"void ember_tape_trim(void);\nuint64_t ember_tape_cached_bytes(void);\n"
            f"void {module}_release_tape_memory(void) {{ ember_tape_trim(); }}\n"
            f"uint64_t {module}_tape_cached_bytes(void) {{ return ember_tape_cached_bytes(); }}\n")


_C_ACCESSOR = {ctypes.c_char_p: "const char*", ctypes.c_int32: T.i32.info.c}


LOADER_SECTION = [
    "/* ---- Entry points of the Python loader (<module>.py); not for C callers. ----",
    "   ember_py_<f>(...) takes numpy arrays as PyObject*, checks them and returns a status",
    "   (0 ok, 1 an argument was rejected, 2 the kernel raised), storing any result through",
    "   the trailing pointer; ember_error_* read the error of the last raise on this thread;",
    "   the loader stores the address of numpy.ndarray in ember_py_ndarray_type. */",
    f"extern void* {NDARRAY_TYPE_GLOBAL};",
    *(f"{_C_ACCESSOR[ctype]} {name}(void);" for name, ctype in ERROR_ACCESSORS),
]


def loader_declaration(export: str, sig: abi.Signature) -> str:
    """The C prototype of the loader's entry thunk `ember_py_<export>` (runtime/thunk.py)."""
    args: list[str] = []
    for _, t in sig.params:
        if isinstance(t, T.Scalar) and t.is_complex:
            args += ["double", "double"]  # runtime/complex_abi.py
        else:
            args.append("void*" if isinstance(t, T.Array) else c_scalar(t))  # type: ignore[arg-type]
    args += ["void*"] if sig.result_kind != "none" else []
    return f"int32_t ember_py_{export}({', '.join(args) or 'void'});"


PRELUDE_C = r"""
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void ember_release(void* owner) { free(owner); }

static void ember_strides(int n, const int64_t* shape, const int64_t* given, int64_t* out) {
  int64_t s = 1;
  for (int k = n - 1; k >= 0; k--) { out[k] = given ? given[k] : s; s *= shape[k]; }
}
static int64_t ember_cstride(int n, const int64_t* shape, int k) {
  int64_t s = 1;
  for (int j = n - 1; j > k; j--) s *= shape[j];
  return s;
}
static int ember_is_contiguous(int n, const int64_t* shape, const int64_t* st) {
  for (int k = 0; k < n; k++) if (shape[k] > 1 && st[k] != ember_cstride(n, shape, k)) return 0;
  return 1;
}
static int64_t ember_count(int n, const int64_t* shape) {
  int64_t c = 1;
  for (int k = 0; k < n; k++) c *= shape[k];
  return c;
}
/* Copy between a strided array and a C-contiguous buffer of the same shape. */
static void ember_walk(int n, const int64_t* shape, const int64_t* st, size_t size, char* strided,
                       char* packed, int gather) {
  int64_t total = ember_count(n, shape), index[32] = {0};
  for (int64_t i = 0; i < total; i++) {
    int64_t off = 0;
    for (int k = 0; k < n; k++) off += index[k] * st[k];
    if (gather) memcpy(packed + i * size, strided + off * (int64_t)size, size);
    else memcpy(strided + off * (int64_t)size, packed + i * size, size);
    for (int k = n - 1; k >= 0; k--) { if (++index[k] < shape[k]) break; index[k] = 0; }
  }
}
static void ember_gather(int n, const int64_t* shape, const int64_t* st, size_t size,
                         const void* strided, void* packed) {
  ember_walk(n, shape, st, size, (char*)strided, (char*)packed, 1);
}
static void ember_scatter(int n, const int64_t* shape, const int64_t* st, size_t size,
                          const void* packed, void* strided) {
  ember_walk(n, shape, st, size, (char*)strided, (char*)packed, 0);
}
"""
