"""Module-level `hvp` and `hessian` objects (api/secondorder.py) in an ahead-of-time library.

The second-order entry is built as the JIT builds it (driver/secondorder.py: Enzyme's forward
mode over the reverse derivative). An `hvp` export `hv` is the C function
`hv(<kernel parameters>, tan_<d>..., hvp_<o>...)`: the tangents along the directions `d` (a
`const T*` shaped like the parameter, or a `double`), and buffers receiving H·v for each
differentiated parameter `o` (shaped like it, or a pointer to one value). A `hessian` export
`H` is `H_hvp`, that function, and `H`, one `H_hvp` call per unit direction writing blocks
`jac_<o>_<d>` of shape (o's shape) + (d's shape), as a Jacobian export does (aot/jacobian.py).
"""

from __future__ import annotations

from typing import Any

from .. import types as T
from ..runtime.abi import Signature
from ..runtime.derivcall import DerivativeInfo
from . import c_adapter, c_derivative, c_types
from . import c_api as aot_c
from .jacobian import Derived, JacobianC, jacobian_entry
from .loader import JacobianEntry

HVP_DOC = ("/* {name}: Hessian-vector product of {kernel} with respect to {wrt}: H·v for the "
           "tangents tan_<p>,\n   into hvp_<p> (the parameter's shape, or one value).{raises} */\n")


def second_part(export: str, obj: Any, options: Any, lib: aot_c.CLibrary,
                adapters: list[str], primal: str | None, obj_code: Any) -> tuple[Any, Any]:
    """(object code and reuse, loader entry) of an hvp or hessian export built with `options`
    (aot/library.exported_options): `obj_code(key, make_ir)` is aot/library.py's cached
    compilation."""
    from ..api.secondorder import HVP
    from ..driver.cpu import count_signature
    from ..driver.derivatives import describe
    from ..driver.secondorder import second_plan
    from ..frontend import build_program
    from ..frontend.adprep import COUNTS, prepare_reverse
    second = obj.second
    hvp = isinstance(obj, HVP)
    inner = export if hvp else f"{export}_hvp"
    prep = prepare_reverse(build_program(second.kernel.py_func, ad=True, checks=options))
    fn = prep.replay.functions[prep.replay.entry]
    sp = second_plan(fn, second.request)
    sig = Signature(sp.params, sp.entry_ret, frozenset(n for n, _ in sp.params))
    count_sig = count_signature(prep)
    raises = bool(prep.replay.sites)
    info = describe(sp.first, inner, "grad", True, prep.loops,
                    count_sig.written if count_sig else frozenset(), fn.written)
    made = obj_code(f"second:{inner}:{second.request.key()}",
                    lambda: _ir(prep, sp, inner, sig, count_sig, raises, options))
    adapters.append(c_adapter.adapter_declaration(inner, sig.params, sig.ret, raises))
    if count_sig is not None:
        adapters.append(c_adapter.adapter_declaration(f"{inner}_count", count_sig.params,
                                                      count_sig.ret, raises))
    lib.tape = True
    primal_params = tuple((n, t) for n, t in fn.params if n != COUNTS)
    body = _HvpC(inner, info, sp, primal_params, count_sig, raises, second.kernel.__name__)
    lib.header.append(body.header())
    lib.source.append(body.source())
    if hvp:
        return made, _hvp_entry(export, primal, info, sp, primal_params, raises, obj.single)
    d = Derived(_as_jvp(info, sp, obj.singles[1]), primal_params, None, raises, None)
    c = JacobianC(export, inner, d, title="hessian")
    lib.header.append(c.header())
    lib.source.append(c.source())
    return made, jacobian_entry(c, primal, sp.request.out, obj.singles[0], scalar="float")


def _ir(prep: Any, sp: Any, inner: str, sig: Signature, count_sig: Signature | None,
        raises: bool, options: Any) -> str:
    from ..driver.secondorder import lowered_second
    from ..runtime import native
    from ..runtime.raising import program_ir
    from ..runtime.thunk import ARENA

    lowered = lowered_second(prep, sp, inner, options.optimize_loops)
    thunks = [ARENA, *program_ir(prep.replay, tracked=False)]  # (no loader entry thunks)
    thunks.append(c_adapter.adapter(inner, f"ek_{inner}", sig.params, sig.ret, raises, True))
    if count_sig is not None and prep.count is not None:
        thunks.append(c_adapter.adapter(f"{inner}_count", prep.count.entry, count_sig.params,
                                        count_sig.ret, raises, True))
    return native.prepare_ir(lowered, thunks)


def _as_jvp(info: DerivativeInfo, sp: Any, single: bool) -> DerivativeInfo:
    """The hvp seen as a jvp of the gradients of `out` along `dirs` (for JacobianC)."""
    from dataclasses import replace

    return replace(info, kind="jvp", wrt=sp.request.dirs, single=single,
                   outputs=sp.request.out, has_result=False, groups=())


def _hvp_entry(export: str, primal: str | None, info: DerivativeInfo, sp: Any,
               params: tuple[tuple[str, T.Type], ...], raises: bool,
               single: bool) -> JacobianEntry:
    types = dict(params)
    return JacobianEntry(export, {
        "kind_of": "hvp", "primal": primal, "raises": raises, "single": single,
        "info": info.to_json(),
        "args": [[n, "array", t.dtype.np_dtype.name] if isinstance(t, T.Array) else
                 [n, c_types.c_scalar(t), None] for n, t in params],  # type: ignore[arg-type]
        "dirs": [[d, _dtype_name(types[d])] for d in sp.request.dirs],
        "outs": [[o, _dtype_name(types[o])] for o in sp.request.out]})


def _dtype_name(t: T.Type) -> str:
    return _scalar(t).np_dtype.name


def _scalar(t: T.Type) -> T.Scalar:
    """The element type of an array, or the scalar type itself."""
    scalar = t.dtype if isinstance(t, T.Array) else t
    assert isinstance(scalar, T.Scalar)
    return scalar


class _HvpC:
    """The C function `name` of an hvp (see the module docstring)."""

    def __init__(self, name: str, info: DerivativeInfo, sp: Any,
                 primal: tuple[tuple[str, T.Type], ...], count: Signature | None, raises: bool,
                 kernel: str) -> None:
        self.name, self.info, self.sp, self.primal = name, info, sp, primal
        self.count, self.raises, self.kernel = count, raises, kernel

    def params(self, rename: Any) -> list[str]:
        types = dict(self.primal)
        out = c_types.primal_params(c_types.renamed(self.primal, rename))
        for d in self.sp.request.dirs:
            t = types[d]
            out.append(f"const {c_types.c_scalar(t.dtype)}* tan_{rename(d)}"
                       if isinstance(t, T.Array) else f"double tan_{rename(d)}")
        for o in self.sp.request.out:
            t = types[o]
            out.append(f"{c_types.c_scalar(_scalar(t))}* hvp_{rename(o)}")
        return out

    def head(self, rename: Any) -> str:
        ret = "int32_t" if self.raises else "void"
        return f"{ret} {self.name}({', '.join(self.params(rename)) or 'void'})"

    def header(self) -> str:
        raises = "\n   Can raise: returns 0, or 2 when the kernel raised." if self.raises else ""
        doc = HVP_DOC.format(name=self.name, kernel=self.kernel,
                             wrt=list(self.sp.request.dirs), raises=raises)
        return doc + self.head(c_types.header_name) + ";"

    def source(self) -> str:
        src = c_types.source_name
        info = c_types.renamed_info(self.info, src)
        count = c_types.renamed_signature(self.count, src) if self.count is not None else None
        body = _HvpBody(self.name, info, Signature(self.sp.params, self.sp.entry_ret, frozenset()),
                        dict(c_types.renamed(self.primal, src)), count, None, self.raises)
        body.sp = self.sp
        return f"{self.head(src)} {{\n{body.render()}}}\n"


class _HvpBody(c_derivative.DerivativeBody):
    """The wrapper's body: primal values, zeroed shadows and their tangents (the caller's
    hvp_<o> buffers for the gradients of `out`), the caller's tangents along `dirs`."""

    sp: Any

    def _shadows(self) -> None:
        src = c_types.source_name
        req = self.sp.request
        for name, t, act in self.sp.args:
            if not isinstance(t, T.Array) or name == "__ember_counts":
                continue
            base = name[4:] if name.startswith("__d_") else None
            if base is not None:
                self._scratch(f"d_{src(base)}", src(base), t)
            if act != "dup":
                continue
            if base is not None:
                if base in req.out:
                    self.emit(f"{c_types.c_scalar(t.dtype)}* td_{src(base)} = hvp_{src(base)}; "
                              f"memset(td_{src(base)}, 0, {self._size(src(base), t)} * "
                              f"sizeof({c_types.c_scalar(t.dtype)}));")
                else:
                    self._scratch(f"td_{src(base)}", src(base), t)
            else:
                self._scratch(f"t_{src(name)}", src(name), t,
                              f"tan_{src(name)}" if name in req.dirs else None)

    def _scratch(self, local: str, param: str, t: T.Array, source: str | None = None) -> None:
        ct, size = c_types.c_scalar(t.dtype), self._size(param, t)
        self.emit(f"{ct}* {local} = calloc({size} + 1, sizeof({ct}));")
        if source is not None:
            self.emit(f"memcpy({local}, {source}, {size} * sizeof({ct}));")
        self.cleanup.append(f"  free({local});")

    def _call(self) -> None:
        from ..runtime import abi

        src, args = c_types.source_name, []
        for name, t in self.sig.params:
            if name == "__seed":
                args.append("1.0")
            elif name == "__ember_counts":
                args += abi.memref_operands("(void*)counts", "0", ["counts_shape[0]"], ["1"])
            elif isinstance(t, T.Array):
                base, local = _local(name)
                args += self._contiguous_memref(src(base), t, f"{local}{src(base)}")
            elif name.startswith("__t_"):
                args.append(f"tan_{src(name[4:])}" if name[4:] in self.sp.request.dirs
                            else "0.0")
            else:
                args += c_types.scalar_args(src(name), t)
        if not isinstance(self.sig.ret, T.NoneType):
            self.emit(c_types.out_decl(self.sig.ret).strip())
            args.append("&out")
        self.emit(f"{self._status()}ember_x_{self.export}({', '.join(args)});")
        self._stop_if_raised()
        active = [n for n, _, a in self.sp.first.activities if a == "active"]
        for k, n in enumerate(active):
            if n in self.sp.request.out:
                self.emit(f"*hvp_{src(n)} = out.v{k};")

    def _return(self) -> str:
        return "  return status;\n" if self.raises else ""


def _local(name: str) -> tuple[str, str]:
    """(primal parameter, local buffer prefix) of an array argument of the entry."""
    if name.startswith("__t___d_"):
        return name[8:], "td_"
    if name.startswith("__t_"):
        return name[4:], "t_"
    if name.startswith("__d_"):
        return name[4:], "d_"
    return name, "c_"
