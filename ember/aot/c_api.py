"""The C side of an ahead-of-time library: adapters (LLVM IR), wrappers (C) and the header.

Each exported function `f` gets
* an LLVM adapter `ember_x_f` (hidden): the lowered kernel's own expanded-memref signature,
  with results stored through a trailing pointer (MLIR returns aggregates in its own way);
* a C wrapper `f` with the documented convention: every array as (data, shape, strides in
  elements or NULL for C-contiguous); tuples and arrays returned as C structs; derivatives
  taking gradient/tangent/cotangent buffers. The wrapper builds the memref fields, dispatches
  to the contiguous variant, and for derivatives zeroes and seeds shadows, copies
  non-contiguous inputs, and runs the while-loop trip count on copies.

The pieces: c_types.py (C types, parameter names), c_adapter.py (the LLVM adapters),
c_derivative.py (derivative bodies), c_header.py (doc comments, C prelude, loader section).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import types as T
from ..runtime import abi
from ..runtime.derivcall import DerivativeInfo
from .c_derivative import DerivativeBody, derivative_params
from .c_header import (
    LOADER_SECTION,
    PRELUDE_C,
    doc_derivative,
    doc_kernel,
    loader_declaration,
    tape_header,
    tape_source,
)
from .c_types import (
    array_struct,
    c_scalar,
    header_name,
    out_decl,
    primal_params,
    renamed,
    renamed_info,
    renamed_signature,
    scalar_args,
    source_name,
    strides_decl,
)


@dataclass
class CLibrary:
    """Accumulates the header and the C wrappers of one library."""

    module: str
    header: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    loader: list[str] = field(default_factory=list)
    """Declarations of the Python loader's entry thunks (`ember_py_*`)."""
    tape: bool = False
    """It has derivatives, so a tape arena (runtime/arena.c) and its C functions."""

    def need_array(self, t: T.Array) -> str:
        name = array_struct(t)
        n, ct = t.ndim, c_scalar(t.dtype)
        self.types.setdefault(name, (
            f"/* An array returned by a kernel: data[i*strides[0] + j*strides[1] + ...]\n"
            f"   (strides in elements). Free it with ember_release(owner) (NULL: it lies in\n"
            f"   an argument's memory). */\n"
            f"typedef struct {name} {{ {ct}* data; int64_t shape[{n}]; int64_t strides[{n}]; "
            f"void* owner; }} {name};"))
        return name

    def need_tuple(self, export: str, t: T.Tuple) -> str:
        fields = " ".join(f"{self.need_array(i) if isinstance(i, T.Array) else c_scalar(i)} "  # type: ignore[arg-type]
                          f"v{k};" for k, i in enumerate(t.items))
        self.types.setdefault(f"{export}_result",
                              f"typedef struct {export}_result {{ {fields} }} {export}_result;")
        return f"{export}_result"

    def kernel(self, export: str, sig: abi.Signature, has_contiguous: bool,
               raises: bool = False) -> None:
        ret = sig.ret
        if isinstance(ret, T.Array):
            self.need_array(ret)
        if isinstance(ret, T.Tuple):
            self.need_tuple(export, ret)
        self.loader.append(loader_declaration(export, sig))
        result = _c_result(ret, export)
        tail = [f"{result}* result"] if raises and result != "void" else []
        head = f"{'int32_t' if raises else result} {export}"
        shown = primal_params(renamed(sig.params, header_name)) + tail
        self.header.append(doc_kernel(export, sig, raises) +
                           f"{head}({', '.join(shown) or 'void'});")
        inner = renamed_signature(sig, source_name)
        params = ", ".join(primal_params(inner.params) + tail) or "void"
        body = _kernel_body(export, inner, has_contiguous, raises)
        self.source.append(f"{head}({params}) {{\n{body}}}\n")

    def derivative(self, export: str, info: DerivativeInfo, sig: abi.Signature,
                   primal: tuple[tuple[str, T.Type], ...], count: abi.Signature | None,
                   result: T.Scalar | None, raises: bool = False) -> None:
        self.tape = True
        self.loader.append(loader_declaration(export, sig))
        if count is not None:
            self.loader.append(loader_declaration(f"{export}_count", count))
        ret = c_scalar(result) if result is not None else "void"
        tail = [f"{ret}* result"] if raises and result is not None else []
        head = f"{'int32_t' if raises else ret} {export}"
        shown_info = renamed_info(info, header_name)
        shown = renamed(primal, header_name)
        shown_params = (primal_params(shown) + derivative_params(shown_info, dict(shown), result)
                        + tail)
        self.header.append(doc_derivative(export, info, raises) +
                           f"{head}({', '.join(shown_params) or 'void'});")
        inner_info = renamed_info(info, source_name)
        inner = renamed(primal, source_name)
        params = (primal_params(inner) + derivative_params(inner_info, dict(inner), result)
                  + tail)
        body = DerivativeBody(export, inner_info, renamed_signature(sig, source_name),
                              dict(inner), renamed_signature(count, source_name) if count else None,
                              result, raises).render()
        self.source.append(f"{head}({', '.join(params) or 'void'}) {{\n{body}}}\n")


# --- C bodies ---------------------------------------------------------------------------------
def _c_result(t: T.Type, export: str) -> str:
    if isinstance(t, T.NoneType):
        return "void"
    if isinstance(t, T.Tuple):
        return f"{export}_result"
    if isinstance(t, T.Array):
        return array_struct(t)
    assert isinstance(t, T.Scalar)
    return c_scalar(t)


def _memref_args(name: str, t: T.Array, data: str | None = None) -> list[str]:
    d = data or name
    return abi.memref_operands(f"(void*){d}", "0", [f"{name}_shape[{k}]" for k in range(t.ndim)],
                               [f"st_{name}[{k}]" for k in range(t.ndim)])


def _convert_result(ret: T.Type, ctype: str, give: str, arrays: list[str]) -> str:
    """Lines converting `out` into the C result `r` (of C type `ctype`), then `give`
    (returning or storing it). `arrays`: the data pointers of the array arguments (a result
    in one of them is a view of that argument and owns nothing)."""
    if isinstance(ret, T.Array):
        return f"  {{ {ctype} r; {_array_item('r', 'out', ret, arrays)} {give}; }}\n"
    if isinstance(ret, T.Tuple):
        items = " ".join(_array_item(f"r.v{k}", f"out.v{k}", t, arrays) if isinstance(t, T.Array)
                         else f"r.v{k} = out.v{k};" for k, t in enumerate(ret.items))
        return f"  {{ {ctype} r; {items} {give}; }}\n"
    return f"  {{ {ctype} r = out; {give}; }}\n"


def _array_item(r: str, out: str, t: T.Array, arrays: list[str]) -> str:
    """C statements filling array struct `r` from descriptor `out`."""
    borrowed = " || ".join(f"{out}.allocated == (void*){a}" for a in arrays) or "0"
    return (f"{r}.data = (void*)((char*){out}.aligned + {out}.offset * sizeof(*{r}.data)); "
            f"for (int k = 0; k < {t.ndim}; k++) {{ {r}.shape[k] = {out}.sizes[k]; "
            f"{r}.strides[k] = {out}.strides[k]; }} "
            f"{r}.owner = ({borrowed}) ? NULL : {out}.allocated;")


def _kernel_body(export: str, sig: abi.Signature, has_contiguous: bool,
                 raises: bool = False) -> str:
    body, args, checks = "", [], []
    for name, t in sig.params:
        if isinstance(t, T.Array):
            body += strides_decl(name, t)
            args += _memref_args(name, t)
            checks.append(f"ember_is_contiguous({t.ndim}, {name}_shape, st_{name})")
        else:
            args += scalar_args(name, t)
    has_out = not isinstance(sig.ret, T.NoneType)
    if has_out:
        body += out_decl(sig.ret)
        args.append("&out")
    call = ", ".join(args)
    status = "int32_t status = " if raises else ""
    if has_contiguous and checks:
        body += (f"  {'int32_t status; ' if raises else ''}if ({' && '.join(checks)}) "
                 f"{'status = ' if raises else ''}ember_x_{export}_c({call});\n"
                 f"  else {'status = ' if raises else ''}ember_x_{export}({call});\n")
    else:
        body += f"  {status}ember_x_{export}({call});\n"
    if raises:
        body += "  if (status) return status;\n"
    if has_out:
        arrays = [name for name, t in sig.params if isinstance(t, T.Array)]
        body += _convert_result(sig.ret, _c_result(sig.ret, export),
                                "*result = r" if raises else "return r", arrays)
    return body + ("  return 0;\n" if raises else "")


# --- the files --------------------------------------------------------------------------------
def header_text(lib: CLibrary) -> str:
    guard = f"EMBER_{lib.module.upper()}_H"
    return "\n".join([
        f"/* {lib.module}.h: C interface of lib{lib.module}.so, built by Ember.",
        "",
        "   Arrays: every array parameter `x` is passed as three arguments,",
        "     T* x, const int64_t* x_shape, const int64_t* x_strides,",
        "   where x_shape holds one size per dimension and x_strides the distance between",
        "   consecutive elements along each dimension, in ELEMENTS (not bytes); pass",
        "   x_strides = NULL for a C-contiguous array. Element (i, j) is x[i*s[0] + j*s[1]].",
        "   Arguments are not checked: shapes and strides must describe valid memory.",
        "",
        "   Results: scalars are returned; tuples are returned as <name>_result structs",
        "   (one field per item); arrays as ember_array_* structs: free the memory of an",
        "   array the kernel allocated with ember_release(result.owner); an array in an",
        "   argument's memory (the parameter returned, or a view of it) has owner NULL.",
        "",
        "   Derivatives take, after the kernel's parameters: for vjp, the cotangents of the",
        "   outputs (cot_<output>: C-contiguous, the output's shape; cot_return for the",
        "   result); for grad/value_and_grad/vjp, gradient buffers grad_<param> (C-contiguous,",
        "   the parameter's shape, overwritten; for a scalar parameter a pointer to one value);",
        "   for jvp, tangents tan_<param> and buffers tan_<output> / tan_return receiving the",
        "   output tangents. They return the kernel's float result and have the kernel's side",
        "   effects on its arguments. Calls are thread-safe. */",
        f"#ifndef {guard}", f"#define {guard}", "",
        "#include <stdbool.h>", "#include <stdint.h>",
        *(["#include <complex.h>  /* double _Complex, float _Complex (C99) */"]
          if _uses_complex(lib) else []), "",
        "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
        *lib.types.values(), "",
        "/* Frees an array returned by a kernel. */", "void ember_release(void* owner);", "",
        "/* After a function returned a nonzero status (it raised, see its comment): the",
        "   error as \"Kind: message (file, line N, in kernel)\" for this thread, valid until",
        "   this thread's next call into the library; NULL if it did not raise. */",
        f"const char* {lib.module}_last_error(void);", "",
        *(tape_header(lib.module) if lib.tape else []),
        *lib.header, "",
        *(line.replace("<module>", lib.module) for line in LOADER_SECTION), *lib.loader, "",
        "#ifdef __cplusplus", "}", "#endif", f"#endif /* {guard} */", ""])


def _uses_complex(lib: CLibrary) -> bool:
    return any("_Complex" in line for line in (*lib.types.values(), *lib.header))


def source_text(lib: CLibrary, adapters: list[str]) -> str:
    """The C file: declarations of the adapters, helpers, and the wrappers."""
    last_error = (f"const char* ember_err_text(void);\n"
                  f"const char* {lib.module}_last_error(void) {{ return ember_err_text(); }}\n")
    return "\n".join([f'#include "{lib.module}.h"', PRELUDE_C, last_error,
                      *([tape_source(lib.module)] if lib.tape else []), *adapters, *lib.source])
