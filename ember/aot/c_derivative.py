"""The C wrapper of a derivative in an ahead-of-time library (aot/c_api.py).

`derivative_params` lists what a derivative takes after the kernel's parameters (tangents,
cotangents, gradient buffers); `DerivativeBody` writes its C body: memref fields from (data,
shape, strides), non-contiguous inputs copied (and written back), the while-loop trip counts
run on copies, shadows zeroed or seeded from the caller's buffers, the adapter called and the
scalar results stored. aot/second.py derives the hvp body from it.
"""

from __future__ import annotations

from .. import types as T
from ..runtime import abi
from ..runtime.derivcall import RETURN, DerivativeInfo
from .c_types import c_scalar, out_decl, scalar_args, strides_decl


def derivative_params(info: DerivativeInfo, primal: dict[str, T.Type],
                      result: T.Scalar | None) -> list[str]:
    out: list[str] = []
    if info.kind == "jvp":
        for w in info.wrt:
            t = primal[w]
            out.append(f"const {c_scalar(t.dtype)}* tan_{w}" if isinstance(t, T.Array)
                       else f"double tan_{w}")
        for o in output_names(info):
            out.append(f"{c_scalar(result)}* tan_return" if o == RETURN  # type: ignore[arg-type]
                       else f"{c_scalar(primal[o].dtype)}* {tangent_out(info, o)}")  # type: ignore[union-attr]
        return out
    if info.kind == "vjp":
        for o in output_names(info):
            out.append("double cot_return" if o == RETURN
                       else f"const {c_scalar(primal[o].dtype)}* cot_{o}")  # type: ignore[union-attr]
    for w in info.wrt:
        t = primal[w]
        out.append(f"{c_scalar(t.dtype)}* grad_{w}" if isinstance(t, T.Array)
                   else f"{c_scalar(t)}* grad_{w}")  # type: ignore[arg-type]
    return out


def tangent_out(info: DerivativeInfo, o: str) -> str:
    """The buffer receiving output o's tangent: `tan_<o>`, or `tan_out_<o>` where o is also
    differentiated (`tan_<o>` is then its tangent)."""
    return f"tan_out_{o}" if o in info.wrt else f"tan_{o}"


def output_names(info: DerivativeInfo) -> tuple[str, ...]:
    return info.outputs or ((RETURN,) if info.has_result else ())


# --- the C body ------------------------------------------------------------------------------
class DerivativeBody:
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
            self.lines.append(strides_decl(name, t).rstrip("\n"))
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
            self.emit(out_decl(self.count.ret).strip().replace(" out;", " count_out;"))
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
                args.append("cot_return" if info.kind == "vjp" and RETURN in output_names(info)
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
                args += scalar_args(name, t)
        if not isinstance(self.sig.ret, T.NoneType):
            self.emit(out_decl(self.sig.ret).strip())
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
                dest = tangent_out(info, name) if info.kind == "jvp" else f"grad_{name}"
                self.emit(f"memcpy({dest}, d_{name}, {self._size(name, t)} * "
                          f"sizeof({c_scalar(t.dtype)}));")

    def _scalar_results(self) -> None:
        info = self.info
        if info.kind == "jvp":
            if self.result is not None and RETURN in output_names(info):
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
