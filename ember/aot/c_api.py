"""The C side of an ahead-of-time library: adapters (LLVM IR), wrappers (C) and the header.

Each exported function `f` gets
* an LLVM adapter `ember_x_f` (hidden): the lowered kernel's own expanded-memref signature,
  with results stored through a trailing pointer (MLIR returns aggregates in its own way);
* a C wrapper `f` with the documented convention: every array as (data, shape, strides in
  elements or NULL for C-contiguous); tuples and arrays returned as C structs; derivatives
  taking gradient/tangent/cotangent buffers. The wrapper builds the memref fields, dispatches
  to the contiguous variant, and for derivatives zeroes and seeds shadows, copies
  non-contiguous inputs, and runs the while-loop trip count on copies.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field, replace
from typing import Any

from .. import types as T
from ..runtime import abi, complex_abi, raising
from ..runtime.call import ERROR_ACCESSORS
from ..runtime.derivcall import RETURN, DerivativeInfo
from ..runtime.thunk import NDARRAY_TYPE_GLOBAL

_C_FIELD = {"ptr": "void*", "i64": T.i64.info.c}
"""The C type of each LLVM type in a memref descriptor (abi.MEMREF_LAYOUT)."""


def c_scalar(t: T.Scalar) -> str:
    return t.info.c


def _scalar_args(name: str, t: T.Type) -> list[str]:
    """The adapter arguments of scalar parameter `name` (a complex: its two parts)."""
    if isinstance(t, T.Scalar) and t.is_complex:
        return complex_abi.c_parts(name, t)
    return [name]


def array_struct(t: T.Array) -> str:
    return f"ember_array_{t.dtype.np_dtype.name}_{t.ndim}d"


# --- LLVM adapters ----------------------------------------------------------------------------
def _expanded(sig_params: tuple[tuple[str, T.Type], ...]) -> tuple[list[str], list[str],
                                                                 list[str]]:
    """(adapter parameters, kernel operands, conversion lines): C bools arrive as bytes."""
    params, operands, lines = [], [], []
    for k, (_, t) in enumerate(sig_params):
        if isinstance(t, T.Array):
            names = [f"{ty} %m{k}.{j}" for j, (_, ty) in enumerate(abi.memref_fields(t.ndim))]
            params += names
            operands += names
        elif isinstance(t, T.Scalar) and t.is_complex:  # two parts (runtime/complex_abi.py)
            names, operand, build = complex_abi.adapter_param(k, t)
            params += names
            operands.append(operand)
            lines += build
        elif isinstance(t, T.Scalar) and t.is_bool:
            params.append(f"i8 %a{k}")
            lines.append(f"  %c{k} = icmp ne i8 %a{k}, 0")
            operands.append(f"i1 %c{k}")
        else:
            assert isinstance(t, T.Scalar)
            params.append(f"{abi.llvm_scalar(t)} %a{k}")
            operands.append(f"{abi.llvm_scalar(t)} %a{k}")
    return params, operands, lines


def adapter(export: str, symbol: str, params: tuple[tuple[str, T.Type], ...],
            ret: T.Type, raises: bool = False, arena: bool = False) -> str:
    """`ember_x_<export>`: calls `symbol`, storing any result through `%out`. With `raises`,
    the call runs in an error frame (runtime/raising.py) and the adapter returns the status
    (0, or 2 when the kernel raised). `arena`: a derivative, which releases the tape arena
    (runtime/arena.c) at the end of each call, also when it raised."""
    args, operands, body = _expanded(params)
    ty = abi.llvm_result(ret)
    call = f"call {ty} @{symbol}({', '.join(operands)})"
    body += [f"  {call}" if ty == "void" else f"  %r = {call}"]
    if ty != "void":
        args = [*args, "ptr %out"]
        body.append(f"  store {ty} %r, ptr %out")
    release = ["  call void @ember_arena_release()"] if arena else []
    body += [*release, "  ret void"]
    name = f"ember_x_{export}"
    if not raises:
        return "\n".join([f"define hidden void @{name}({', '.join(args)}) {{", *body, "}", ""])
    framed = raising.framed(name, args, f"{name}.guarded", "ok",
                            [*release, f"  ret i32 {abi.STATUS_RAISED}"])
    return "\n".join([f"define internal void @{name}.guarded({', '.join(args)}) noinline {{",
                      *body, "}", framed.replace("define i32", "define hidden i32", 1)])


# --- C declarations ---------------------------------------------------------------------------
def _c_result(t: T.Type, export: str) -> str:
    if isinstance(t, T.NoneType):
        return "void"
    if isinstance(t, T.Tuple):
        return f"{export}_result"
    if isinstance(t, T.Array):
        return array_struct(t)
    assert isinstance(t, T.Scalar)
    return c_scalar(t)


def _array_params(name: str, t: T.Array, const: bool = False) -> list[str]:
    q = "const " if const else ""
    return [f"{q}{c_scalar(t.dtype)}* {name}", f"const int64_t* {name}_shape",
            f"const int64_t* {name}_strides"]


def _primal_params(params: tuple[tuple[str, T.Type], ...]) -> list[str]:
    out: list[str] = []
    for name, t in params:
        if isinstance(t, T.Array):
            out += _array_params(name, t)
        else:
            assert isinstance(t, T.Scalar)
            out.append(f"{c_scalar(t)} {name}")
    return out


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
        shown = _primal_params(_renamed(sig.params, _header_name)) + tail
        self.header.append(_doc_kernel(export, sig, raises) +
                           f"{head}({', '.join(shown) or 'void'});")
        inner = _signature(sig, _source_name)
        params = ", ".join(_primal_params(inner.params) + tail) or "void"
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
        shown_info = _renamed_info(info, _header_name)
        shown = _renamed(primal, _header_name)
        shown_params = (_primal_params(shown) + _derivative_params(shown_info, dict(shown), result)
                        + tail)
        self.header.append(_doc_derivative(export, info, raises) +
                           f"{head}({', '.join(shown_params) or 'void'});")
        inner_info = _renamed_info(info, _source_name)
        inner = _renamed(primal, _source_name)
        params = (_primal_params(inner) + _derivative_params(inner_info, dict(inner), result)
                  + tail)
        body = _DerivativeBody(export, inner_info, _signature(sig, _source_name), dict(inner),
                               _signature(count, _source_name) if count else None,
                               result, raises).render()
        self.source.append(f"{head}({', '.join(params) or 'void'}) {{\n{body}}}\n")


_C_KEYWORDS = frozenset(["auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false", "_Bool", "_Complex", "_Imaginary", "alignas", "alignof", "asm"])
_INTERNAL = ("__seed", "__ember_counts")


def _header_name(name: str) -> str:
    """A parameter's name in the header: the user's, unless it is a C keyword; `ret<k>` for
    the out-parameter `__ret<k>` holding leaf k of a converted result (aot/jacobian.py)."""
    if name.startswith("__ret"):
        return name[2:]
    return f"{name}_" if name in _C_KEYWORDS else name


def _source_name(name: str) -> str:
    """Parameter names in the C definitions are prefixed, so that no user name can collide
    with a wrapper's local variables or with C keywords."""
    if name in _INTERNAL:
        return name
    if name.startswith("__d_"):
        return "__d_u_" + name[4:]
    return f"u_{name}"


def _renamed(params: tuple[tuple[str, T.Type], ...], rename: Any) -> tuple[tuple[str, T.Type], ...]:
    return tuple((rename(n), t) for n, t in params)


def _signature(sig: abi.Signature, rename: Any) -> abi.Signature:
    return abi.Signature(_renamed(sig.params, rename), sig.ret,
                         frozenset(rename(n) for n in sig.written))


def _renamed_info(info: DerivativeInfo, rename: Any) -> DerivativeInfo:
    def r(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(n if n == RETURN else rename(n) for n in names)
    return replace(info, wrt=r(info.wrt), outputs=r(info.outputs),
                   activities=tuple((rename(n), a) for n, a in info.activities),
                   count_written=r(info.count_written), written=r(info.written))


_RAISES_DOC = ("\n   Can raise: returns 0, or 2 when the kernel raised an exception (the message is in "
               "<lib>_last_error()); any result is stored through `result`.")


def _doc_kernel(export: str, sig: abi.Signature, raises: bool = False) -> str:
    defaults = _defaults_doc(sig)
    params = ", ".join(f"{n}: {t}{defaults.get(n, '')}" for n, t in sig.params)
    return f"/* {export}({params}) -> {sig.ret}{_RAISES_DOC if raises else ''} */\n"


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


def _doc_derivative(export: str, info: DerivativeInfo, raises: bool = False) -> str:
    extra = f", outputs={[_header_name(o) for o in info.outputs]}" if info.outputs else ""
    return (f"/* {export}: {info.kind} with respect to {list(info.wrt)}{extra}"
            f"{_RAISES_DOC if raises else ''} */\n")


def _derivative_params(info: DerivativeInfo, primal: dict[str, T.Type],
                       result: T.Scalar | None) -> list[str]:
    out: list[str] = []
    if info.kind == "jvp":
        for w in info.wrt:
            t = primal[w]
            out.append(f"const {c_scalar(t.dtype)}* tan_{w}" if isinstance(t, T.Array)
                       else f"double tan_{w}")
        for o in _outputs(info):
            out.append(f"{c_scalar(result)}* tan_return" if o == RETURN  # type: ignore[arg-type]
                       else f"{c_scalar(primal[o].dtype)}* {_tangent_out(info, o)}")  # type: ignore[union-attr]
        return out
    if info.kind == "vjp":
        for o in _outputs(info):
            out.append("double cot_return" if o == RETURN
                       else f"const {c_scalar(primal[o].dtype)}* cot_{o}")  # type: ignore[union-attr]
    for w in info.wrt:
        t = primal[w]
        out.append(f"{c_scalar(t.dtype)}* grad_{w}" if isinstance(t, T.Array)
                   else f"{c_scalar(t)}* grad_{w}")  # type: ignore[arg-type]
    return out


def _tangent_out(info: DerivativeInfo, o: str) -> str:
    """The buffer receiving output o's tangent: `tan_<o>`, or `tan_out_<o>` where o is also
    differentiated (`tan_<o>` is then its tangent)."""
    return f"tan_out_{o}" if o in info.wrt else f"tan_{o}"


def _outputs(info: DerivativeInfo) -> tuple[str, ...]:
    return info.outputs or ((RETURN,) if info.has_result else ())


# --- C bodies ---------------------------------------------------------------------------------
def _memref_args(name: str, t: T.Array, data: str | None = None) -> list[str]:
    d = data or name
    return abi.memref_operands(f"(void*){d}", "0", [f"{name}_shape[{k}]" for k in range(t.ndim)],
                               [f"st_{name}[{k}]" for k in range(t.ndim)])


def _strides(name: str, t: T.Array) -> str:
    return (f"  int64_t st_{name}[{t.ndim}];\n"
            f"  ember_strides({t.ndim}, {name}_shape, {name}_strides, st_{name});\n")


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


def _descriptor_struct(t: T.Array) -> str:
    fields = " ".join(f"{_C_FIELD[ty]} {name}{f'[{t.ndim}]' if per_dim else ''};"
                      for name, ty, per_dim in abi.MEMREF_LAYOUT)
    return f"struct {{ {fields} }}"


def _out_decl(ret: T.Type) -> str:
    if isinstance(ret, T.Array):
        return f"  {_descriptor_struct(ret)} out;\n"
    if isinstance(ret, T.Tuple):
        fields = " ".join(f"{_descriptor_struct(i) if isinstance(i, T.Array) else c_scalar(i)} "  # type: ignore[arg-type]
                          f"v{k};" for k, i in enumerate(ret.items))
        return f"  struct {{ {fields} }} out;\n"
    assert isinstance(ret, T.Scalar)
    return f"  {c_scalar(ret)} out;\n"


def _kernel_body(export: str, sig: abi.Signature, has_contiguous: bool,
                 raises: bool = False) -> str:
    body, args, checks = "", [], []
    for name, t in sig.params:
        if isinstance(t, T.Array):
            body += _strides(name, t)
            args += _memref_args(name, t)
            checks.append(f"ember_is_contiguous({t.ndim}, {name}_shape, st_{name})")
        else:
            args += _scalar_args(name, t)
    has_out = not isinstance(sig.ret, T.NoneType)
    if has_out:
        body += _out_decl(sig.ret)
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


class _DerivativeBody:
    """The C body of a derivative wrapper (see the module docstring)."""

    def __init__(self, export: str, info: DerivativeInfo, sig: abi.Signature,
                 primal: dict[str, T.Type], count: abi.Signature | None,
                 result: T.Scalar | None, raises: bool = False) -> None:
        self.export, self.info, self.sig, self.primal = export, info, sig, primal
        self.count, self.result, self.raises = count, result, raises
        self.lines: list[str] = ["  int32_t status = 0;"] if raises else []
        self.cleanup: list[str] = ["done:"] if raises else []

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def render(self) -> str:
        arrays = [(n, t) for n, t in self.primal.items() if isinstance(t, T.Array)]
        for name, t in arrays:
            self.lines.append(_strides(name, t).rstrip("\n"))
            self._contiguous_copy(name, t)
        if self.info.loops:
            self._trip_counts(arrays)
        self._shadows()
        self._call()
        return "\n".join(self.lines + self.cleanup) + "\n" + self._return()

    def _size(self, name: str, t: T.Array) -> str:
        return f"ember_count({t.ndim}, {name}_shape)"

    def _contiguous_copy(self, name: str, t: T.Array) -> None:
        """c_<name>: the array, C-contiguous (a copy, written back, when it is not)."""
        ct, n = c_scalar(t.dtype), t.ndim
        self.emit(f"{ct}* c_{name} = {name};")
        self.emit(f"int copy_{name} = !ember_is_contiguous({n}, {name}_shape, st_{name});")
        self.emit(f"if (copy_{name}) {{ c_{name} = malloc({self._size(name, t)} * sizeof({ct})"
                  f" + 1); ember_gather({n}, {name}_shape, st_{name}, sizeof({ct}), {name}, "
                  f"c_{name}); }}")
        back = (f"ember_scatter({n}, {name}_shape, st_{name}, sizeof({ct}), c_{name}, {name}); "
                if name in self.info.written else "")
        self.cleanup.append(f"  if (copy_{name}) {{ {back}free(c_{name}); }}")

    def _trip_counts(self, arrays: list[tuple[str, T.Array]]) -> None:
        assert self.count is not None
        self.emit(f"int64_t counts[{self.info.loops}] = {{0}};")
        self.emit(f"const int64_t counts_shape[1] = {{{self.info.loops}}};")
        self.emit("const int64_t st_counts[1] = {1};")
        args: list[str] = []
        for name, t in self.count.params:
            if name == "__ember_counts":
                args += abi.memref_operands("(void*)counts", "0", ["counts_shape[0]"], ["1"])
            elif isinstance(t, T.Array):
                data = f"c_{name}"
                if name in self.info.count_written:
                    ct = c_scalar(t.dtype)
                    self.emit(f"{ct}* k_{name} = malloc({self._size(name, t)} * sizeof({ct}) + 1);"
                              f" memcpy(k_{name}, c_{name}, {self._size(name, t)} * "
                              f"sizeof({ct}));")
                    data = f"k_{name}"
                args += self._contiguous_memref(name, t, data)
            else:
                args.append(name)
        if not isinstance(self.count.ret, T.NoneType):
            self.emit(_out_decl(self.count.ret).strip().replace(" out;", " count_out;"))
            args.append("&count_out")
        self.emit(f"{self._status()}ember_x_{self.export}_count({', '.join(args)});")
        for name in self.info.count_written:
            if isinstance(self.primal.get(name), T.Array):
                self.emit(f"free(k_{name});")
        self._stop_if_raised()

    def _status(self) -> str:
        return "status = " if self.raises else ""

    def _stop_if_raised(self) -> None:
        if self.raises:
            self.emit("if (status) goto done;")

    def _contiguous_memref(self, name: str, t: T.Array, data: str) -> list[str]:
        sizes = [f"{name}_shape[{k}]" for k in range(t.ndim)]
        strides = [f"ember_cstride({t.ndim}, {name}_shape, {k})" for k in range(t.ndim)]
        return abi.memref_operands(f"(void*){data}", "0", sizes, strides)

    def _shadows(self) -> None:
        info = self.info
        forward = info.kind == "jvp"
        for name, act in info.activities:
            t = self.primal.get(name)
            if act != "dup" or not isinstance(t, T.Array):
                continue
            ct, size = c_scalar(t.dtype), self._size(name, t)
            user = self._user_buffer(name, forward)
            if user is None:
                self.emit(f"{ct}* d_{name} = calloc({size} + 1, sizeof({ct}));")
                self.cleanup.append(f"  free(d_{name});")
            elif user.startswith("const "):
                self.emit(f"{ct}* d_{name} = malloc({size} * sizeof({ct}) + 1); "
                          f"memcpy(d_{name}, {user[6:]}, {size} * sizeof({ct}));")
                self.cleanup.append(f"  free(d_{name});")
            else:
                self.emit(f"{ct}* d_{name} = {user}; memset(d_{name}, 0, {size} * sizeof({ct}));")

    def _user_buffer(self, name: str, forward: bool) -> str | None:
        """The caller's buffer serving as the shadow of `name` ('const ' if only read)."""
        info = self.info
        if forward:
            if name in info.wrt:
                return f"const tan_{name}"
            return f"tan_{name}" if name in info.outputs else None
        if info.kind == "vjp" and name in info.outputs:
            return f"const cot_{name}"
        return f"grad_{name}" if name in info.wrt else None

    def _call(self) -> None:
        info, args = self.info, []
        forward = info.kind == "jvp"
        for name, t in self.sig.params:
            if name == "__seed":
                args.append("cot_return" if info.kind == "vjp" and RETURN in _outputs(info)
                            else "1.0")
            elif name.startswith("__d_"):
                base = name[4:]
                if isinstance(t, T.Array):
                    args += self._contiguous_memref(base, t, f"d_{base}")
                else:
                    args.append(f"tan_{base}" if forward else "0.0")
            elif name == "__ember_counts":
                args += abi.memref_operands("(void*)counts", "0", ["counts_shape[0]"], ["1"])
            elif isinstance(t, T.Array):
                args += self._contiguous_memref(name, t, f"c_{name}")
            else:
                args += _scalar_args(name, t)
        if not isinstance(self.sig.ret, T.NoneType):
            self.emit(_out_decl(self.sig.ret).strip())
            args.append("&out")
        self.emit(f"{self._status()}ember_x_{self.export}({', '.join(args)});")
        self._stop_if_raised()
        self._scalar_results()
        self._both_ways()

    def _both_ways(self) -> None:
        """A parameter both differentiated and an output: its shadow, seeded from the
        caller's tangent or cotangent, ends holding the output tangent or the gradient."""
        info = self.info
        for name in info.outputs:
            t = self.primal.get(name)
            if name in info.wrt and isinstance(t, T.Array):
                dest = _tangent_out(info, name) if info.kind == "jvp" else f"grad_{name}"
                self.emit(f"memcpy({dest}, d_{name}, {self._size(name, t)} * "
                          f"sizeof({c_scalar(t.dtype)}));")

    def _scalar_results(self) -> None:
        info = self.info
        if info.kind == "jvp":
            if self.result is not None and RETURN in _outputs(info):
                self.emit("*tan_return = out.v1;")
            return
        k = 1 if self.result is not None else 0
        for name, act in info.activities:
            if act == "active":
                if name in info.wrt:
                    self.emit(f"*grad_{name} = out.v{k};")
                k += 1

    def _return(self) -> str:
        if self.raises:
            give = "  if (!status) *result = out.v0;\n" if self.result is not None else ""
            return give + "  return status;\n"
        return "  return out.v0;\n" if self.result is not None else ""


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
        *(_tape_header(lib.module) if lib.tape else []),
        *lib.header, "",
        *(line.replace("<module>", lib.module) for line in LOADER_SECTION), *lib.loader, "",
        "#ifdef __cplusplus", "}", "#endif", f"#endif /* {guard} */", ""])


def _tape_header(module: str) -> list[str]:
    return ["/* Derivatives keep their tape memory per thread between calls (at most",
            "   $EMBER_TAPE_CACHE_MB MiB, default 256): this frees the calling thread's, and",
            "   tells how many bytes it keeps. A thread's is freed when it exits. */",
            f"void {module}_release_tape_memory(void);",
            f"uint64_t {module}_tape_cached_bytes(void);", ""]


def _tape_source(module: str) -> str:
    return (f"void ember_tape_trim(void);\nuint64_t ember_tape_cached_bytes(void);\n"
            f"void {module}_release_tape_memory(void) {{ ember_tape_trim(); }}\n"
            f"uint64_t {module}_tape_cached_bytes(void) {{ return ember_tape_cached_bytes(); }}\n")


def _uses_complex(lib: CLibrary) -> bool:
    return any("_Complex" in line for line in (*lib.types.values(), *lib.header))


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


def source_text(lib: CLibrary, adapters: list[str]) -> str:
    """The C file: declarations of the adapters, helpers, and the wrappers."""
    last_error = (f"const char* ember_err_text(void);\n"
                  f"const char* {lib.module}_last_error(void) {{ return ember_err_text(); }}\n")
    return "\n".join([f'#include "{lib.module}.h"', PRELUDE_C, last_error,
                      *([_tape_source(lib.module)] if lib.tape else []), *adapters, *lib.source])


def adapter_declaration(export: str, params: tuple[tuple[str, T.Type], ...], ret: T.Type,
                        raises: bool = False) -> str:
    """The C prototype of an LLVM adapter (pointers and scalars only)."""
    args = []
    for _, t in params:
        if isinstance(t, T.Array):
            args += [_C_FIELD[ty] for _, ty in abi.memref_fields(t.ndim)]
        else:
            assert isinstance(t, T.Scalar)
            args += complex_abi.c_part_types(t) if t.is_complex else [c_scalar(t)]
    if not isinstance(ret, T.NoneType):
        args.append("void*")
    return f"{'int32_t' if raises else 'void'} ember_x_{export}({', '.join(args) or 'void'});"
