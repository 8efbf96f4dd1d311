"""Module-level Jacobians (`jacfwd`/`jacrev`) and `jvp`/`vjp` of array- or tuple-result kernels
in an ahead-of-time library.

A Jacobian export `J` is two C functions: `J_jvp` (jacfwd) or `J_vjp` (jacrev), the derivative
it is made of, and `J`, which calls it once per input element (forward) or output element
(reverse), restoring the arrays the kernel writes before each call, and writes block
(output o, input w) into a caller buffer `jac_<o>_<w>` of shape O + I (C-contiguous). A
kernel result that is an array or a tuple is written into out-parameters `ret<k>` (one per
leaf, frontend/adresults.py): `J` takes their shapes (`ret<k>_shape`), jvp/vjp exports take
the buffers themselves. The loader calls `J` through ctypes (runtime/aotderived.py) after a
primal call on copies of the arguments, which checks them and gives the result's shapes; that
primal is the module's export of the kernel, else an extra export `<name>_primal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import types as T
from ..errors import CompileError
from ..frontend.adresults import PREFIX, ResultLayout
from ..runtime.derivcall import RETURN, DerivativeInfo
from . import c_api as aot_c
from . import c_types
from .loader import JacobianEntry


@dataclass(frozen=True)
class Derived:
    """What a derivative part tells the Jacobian built on it (aot/library.py)."""

    info: DerivativeInfo
    primal: tuple[tuple[str, T.Type], ...]
    """The kernel's flat parameters, with the result's leaves `__ret<k>` (not the counts)."""
    result: T.Scalar | None
    raises: bool
    layout: ResultLayout | None


def with_primals(exports: list[tuple[str, Any]]) -> dict[int, str]:
    """{id(kernel): export name of its primal} for the kernel of every Jacobian and jvp/vjp
    export: the kernel's own export, else `<first such export>_primal` (aot/library.py adds
    that export where a loader entry needs it)."""
    from ..api.autodiff import Derivative
    from ..api.kernel import Kernel

    primals = {id(obj): name for name, obj in exports if isinstance(obj, Kernel)}
    names = {name for name, _ in exports}
    derived = [(name, kernel_of(obj)) for name, obj in exports if not isinstance(obj, Kernel)
               and kernel_of(obj) is not None
               and not (isinstance(obj, Derivative) and obj.kind not in ("jvp", "vjp"))]
    for name, k in derived:
        if id(k) in primals:
            continue
        if f"{name}_primal" in names:
            raise CompileError(f"cannot export '{name}': its kernel's primal would be exported "
                               f"as '{name}_primal', a name already taken")
        primals[id(k)] = f"{name}_primal"
    return primals


def c_type(dtype: np.dtype) -> str:
    return "float" if dtype == np.float32 else "double"


def block_dtype(o: T.Type, w: T.Type) -> np.dtype:
    """The dtype of Jacobian block (o, w): the result type of the two (JIT: api/jacobians.py)."""
    def scalar(t: T.Type) -> np.dtype:
        s = t.dtype if isinstance(t, T.Array) else t
        assert isinstance(s, T.Scalar)
        return s.np_dtype
    return np.result_type(scalar(o), scalar(w))


class JacobianC:
    """The C function `export` of a Jacobian over derivative `inner` (see the docstring)."""

    def __init__(self, export: str, inner: str, d: Derived, title: str | None = None) -> None:
        self.export, self.inner, self.d = export, inner, d
        self.forward = d.info.kind == "jvp"
        self.title = title or ("jacfwd" if self.forward else "jacrev")
        self.prefix = "hess" if title == "hessian" else "jac"
        self.types = dict(d.primal)
        for name, t in d.primal:
            if isinstance(t, T.Scalar) and t.is_complex:
                raise CompileError(f"cannot export the Jacobian '{export}': parameter '{name}' "
                                   "is complex; export jvp/vjp objects instead")
        self.outs = d.info.outputs or ((RETURN,) if d.info.has_result else ())
        if not self.outs:
            raise CompileError(f"cannot export '{export}': the kernel has no float result; name "
                               "the array outputs with outputs=...")
        self.leaves = [n for n, _ in d.primal if n.startswith(PREFIX)]
        layout = d.layout
        self.array_leaf = {n: isinstance(t, T.Array) for n, t in
                           zip(layout.names, layout.leaves, strict=True)} if layout else {}

    def out_type(self, o: str) -> T.Type:
        if o == RETURN:
            assert self.d.result is not None
            return self.d.result
        return self.types[o]

    def blocks(self) -> list[tuple[str, str, np.dtype]]:
        return [(o, w, block_dtype(self.out_type(o), self.types[w]))
                for o in self.outs for w in self.d.info.wrt]

    def user_params(self) -> tuple[tuple[str, T.Type], ...]:
        return tuple((n, t) for n, t in self.d.primal if not n.startswith(PREFIX))

    def shown_name(self, o: str) -> str:
        """How the header names output `o` in `jac_<o>_<w>`: `return` is the float result."""
        return o if o == RETURN else c_types.header_name(o)

    def prototype(self, rename: Callable[[str], str], shape: Callable[[str], str],
                  buffer: Callable[[int, int, str, str], str]) -> str:
        params = c_types.primal_params(c_types.renamed(self.user_params(), rename))
        params += [f"const int64_t* {shape(n)}" for n in self.leaves if self.array_leaf[n]]
        wrt = self.d.info.wrt
        params += [f"{c_type(dt)}* {buffer(k // len(wrt), k % len(wrt), o, w)}"
                   for k, (o, w, dt) in enumerate(self.blocks())]
        ret = "int32_t" if self.d.raises else "void"
        return f"{ret} {self.export}({', '.join(params) or 'void'})"

    def header(self) -> str:
        info = self.d.info
        blocks = ", ".join(f"{self.prefix}_{self.shown_name(o)}_{c_types.header_name(w)}"
                           for o, w, _ in self.blocks())
        note = (f"/* {self.export}: {self.title} with respect to "
                f"{list(info.wrt)} of outputs {[self.shown_name(o) for o in self.outs]}, one "
                f"{self.inner}() call per {'input' if self.forward else 'output'} element.\n"
                f"   Writes {blocks}: C-contiguous, shaped (output shape) + (input shape),"
                f"\n   J[o..., i...] = d output[o...] / d input[i...]."
                + ("\n   ret<k>_shape: the shape of array leaf k of the kernel's result."
                   if self.leaves else "")
                + ("\n   Can raise: returns 0, or 2 when the kernel raised." if self.d.raises
                   else "") + " */\n")
        return note + self.prototype(
            c_types.header_name, lambda n: f"{n[2:]}_shape",
            lambda j, i, o, w: f"{self.prefix}_{self.shown_name(o)}_{c_types.header_name(w)}") + ";"

    def source(self) -> str:
        head = self.prototype(c_types.source_name, lambda n: f"jshape{n[len(PREFIX):]}",
                              lambda j, i, o, w: f"jb{j}_{i}")
        return f"{head} {{\n{_Body(self).render()}}}\n"


class _Body:
    """The statements of a Jacobian's C function."""

    def __init__(self, c: JacobianC) -> None:
        self.c, self.d = c, c.d
        self.lines: list[str] = ["  int32_t status = 0;"]
        self.free: list[str] = []
        self.wrt = list(self.d.info.wrt)

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def size(self, name: str) -> str:
        """The element count of parameter, leaf or output `name` (1: a float)."""
        t = self.c.types.get(name)
        if not isinstance(t, T.Array):
            return "1"
        if name.startswith(PREFIX):
            return f"ember_count({t.ndim}, jshape{name[len(PREFIX):]})"
        return f"ember_count({t.ndim}, {c_types.source_name(name)}_shape)"

    def buffer(self, local: str, t: T.Type, size: str, zero: bool = True) -> None:
        ct = c_types.c_scalar(t.dtype if isinstance(t, T.Array) else t)  # type: ignore[arg-type]
        alloc = f"calloc({size} + 1, sizeof({ct}))" if zero else \
            f"malloc(({size}) * sizeof({ct}) + 1)"
        self.emit(f"{ct}* {local} = {alloc};")
        self.free.append(f"  free({local});")

    def render(self) -> str:
        self.saves()
        for k, name in enumerate(self.c.leaves):
            if not self.c.array_leaf[name]:
                self.emit(f"const int64_t jshape{k}[1] = {{1}};")
            self.buffer(f"jr{k}", self.c.types[name], self.size(name), zero=False)
        self.seeds()
        self.emit("int64_t calls = 0;")
        if self.c.forward:
            self.forward()
        else:
            self.reverse()
        ret = "  return status;\n" if self.d.raises else "  (void)status;\n"
        return "\n".join([*self.lines, "done:", *self.free]) + "\n" + ret

    def saves(self) -> None:
        """A copy of each array the kernel writes, restored before every call but the first."""
        self.restores: list[str] = []
        for m, (name, t) in enumerate(self.c.user_params()):
            if name not in self.d.info.written or not isinstance(t, T.Array):
                continue
            u, ct = c_types.source_name(name), c_types.c_scalar(t.dtype)
            self.emit(f"int64_t jst{m}[{t.ndim}]; ember_strides({t.ndim}, {u}_shape, "
                      f"{u}_strides, jst{m});")
            self.buffer(f"js{m}", t, self.size(name), zero=False)
            self.emit(f"ember_gather({t.ndim}, {u}_shape, jst{m}, sizeof({ct}), {u}, js{m});")
            self.restores.append(f"ember_scatter({t.ndim}, {u}_shape, jst{m}, sizeof({ct}), "
                                 f"js{m}, {u});")

    def seeds(self) -> None:
        """Tangent and output-tangent buffers (forward), cotangent and gradient buffers."""
        types = self.c.types
        ins = [(f"jt{i}" if self.c.forward else f"jg{i}", w) for i, w in enumerate(self.wrt)]
        outs = [(f"jo{j}" if self.c.forward else f"jc{j}", o) for j, o in enumerate(self.c.outs)]
        for local, name in ins + outs:
            t = self.c.out_type(name) if name == RETURN else types[name]
            if isinstance(t, T.Array):
                self.buffer(local, t, self.size(name))
            else:
                seed = local.startswith(("jt", "jc"))
                assert isinstance(t, T.Scalar)
                self.emit(f"{'double' if seed else c_types.c_scalar(t)} {local} = 0;")
        if self.d.raises and self.d.result is not None:
            self.emit(f"{c_types.c_scalar(self.d.result)} jres;")

    def call(self) -> None:
        args: list[str] = []
        for name, t in self.d.primal:
            if name.startswith(PREFIX):
                k = self.c.leaves.index(name)
                args += [f"jr{k}", f"jshape{k}", "NULL"]
            elif isinstance(t, T.Array):
                u = c_types.source_name(name)
                args += [u, f"{u}_shape", f"{u}_strides"]
            else:
                args.append(c_types.source_name(name))
        ins = [f"jt{i}" if self.c.forward else
               (f"&jg{i}" if not isinstance(self.c.types[w], T.Array) else f"jg{i}")
               for i, w in enumerate(self.wrt)]
        outs = [(f"jo{j}" if isinstance(self.c.out_type(o), T.Array) else f"&jo{j}")
                if self.c.forward else f"jc{j}" for j, o in enumerate(self.c.outs)]
        args += ins + outs if self.c.forward else outs + ins
        if self.d.raises and self.d.result is not None:
            args.append("&jres")
        self.emit("if (calls++) { " + " ".join(self.restores) + " }")
        status = "status = " if self.d.raises else ""
        self.emit(f"{status}{self.c.inner}({', '.join(args)});")
        if self.d.raises:
            self.emit("if (status) goto done;")

    def element(self, local: str, name: str) -> str:
        """Element `i` of buffer `local` of `name` (a float: the value)."""
        t = self.c.out_type(name) if name == RETURN else self.c.types[name]
        return f"{local}[i]" if isinstance(t, T.Array) else local

    def set_seed(self, local: str, name: str, value: str) -> None:
        t = self.c.out_type(name) if name == RETURN else self.c.types[name]
        self.emit(f"{local}[e] = {value};" if isinstance(t, T.Array) else f"{local} = {value};")

    def forward(self) -> None:
        """One jvp per input element e: column e of every block of that input."""
        for i, w in enumerate(self.wrt):
            self.emit(f"for (int64_t e = 0, nw = {self.size(w)}; e < nw; e++) {{")
            self.set_seed(f"jt{i}", w, "1")
            self.call()
            for j, o in enumerate(self.c.outs):
                self.emit(f"  for (int64_t i = 0, no = {self.size(o)}; i < no; i++) "
                          f"jb{j}_{i}[i * nw + e] = {self.element(f'jo{j}', o)};")
            self.set_seed(f"jt{i}", w, "0")
            self.emit("}")

    def reverse(self) -> None:
        """One vjp per output element e: row e of every block of that output."""
        for j, o in enumerate(self.c.outs):
            self.emit(f"for (int64_t e = 0, no = {self.size(o)}; e < no; e++) {{")
            self.set_seed(f"jc{j}", o, "1")
            self.call()
            for i, w in enumerate(self.wrt):
                self.emit(f"  for (int64_t i = 0, nw = {self.size(w)}; i < nw; i++) "
                          f"jb{j}_{i}[e * nw + i] = {self.element(f'jg{i}', w)};")
            self.set_seed(f"jc{j}", o, "0")
            self.emit("}")


def results(program: Any, request: Any, kind: str) -> tuple[Any, Any, ResultLayout | None]:
    """For jvp/vjp (and the Jacobians over them), an array or tuple result as out-parameters,
    as the JIT does (driver/cpu.py `_array_results`)."""
    from ..frontend.adresults import converts, results_as_outputs

    if kind not in ("jvp", "vjp") or not converts(program.functions[program.entry]):
        return program, request, None
    program, layout = results_as_outputs(program)
    return program, replace(request, outputs=layout.expand(request.outputs)), layout


def layout_json(layout: ResultLayout | None,
                outputs: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The loader's description of a converted result, and of the outputs as the user named
    them (runtime/aotderived.py)."""
    if layout is None:
        return None
    return {"ret": T.encode(layout.ret), "names": list(layout.names),
            "leaves": [T.encode(t) for t in layout.leaves], "outputs": list(outputs)}


def note_results(lib: aot_c.CLibrary, layout: ResultLayout | None) -> None:
    """Say in the header comment of the derivative just added what its `ret<k>` are."""
    if layout is None:
        return
    floats = [n[2:] for n, t in zip(layout.names, layout.leaves, strict=True)
              if not isinstance(t, T.Array)]
    text = ("\n   ret<k>: leaf k of the kernel's result (C-contiguous, caller-allocated with the "
            "shape a\n   kernel call returns; receives the value)"
            + (f"; {', '.join(floats)}: one element" if floats else "") + ".")
    doc, _, proto = lib.header[-1].rpartition(" */\n")
    lib.header[-1] = f"{doc}{text} */\n{proto}"


def note_batch(lib: aot_c.CLibrary, obj: Any) -> None:
    """Say in the header comment of the `vmap(grad(f))` just added what it computes."""
    axes = list(obj.batched.spec.in_axes)
    text = (f"\n   {obj.__name__}: the gradient of sum_b {obj.derivative.kernel.__name__}(args_b) "
            f"(in_axes={axes}; an\n   unbatched wrt argument is passed broadcast to (B, ...)); "
            "_values (B,) receives each element's value.")
    doc, _, proto = lib.header[-1].rpartition(" */\n")
    lib.header[-1] = f"{doc}{text} */\n{proto}"


def jacobian(export: str, inner: str, d: Derived, lib: aot_c.CLibrary, primal: str | None,
             outputs: tuple[str, ...], single_output: bool) -> JacobianEntry:
    """Add Jacobian `export` over the derivative export `inner` to `lib`; its loader entry."""
    c = JacobianC(export, inner, d)
    lib.header.append(c.header())
    lib.source.append(c.source())
    return jacobian_entry(c, primal, outputs, single_output)


def jacobian_entry(c: JacobianC, primal: str | None, outputs: tuple[str, ...],
                   single_output: bool, scalar: str | None = None) -> JacobianEntry:
    """The loader's entry of Jacobian `c` (`scalar`: 'float' gives 0-d blocks as Python
    floats, as `hessian` does; else as NumPy scalars, as jacfwd/jacrev do)."""
    d = c.d
    return JacobianEntry(c.export, {
        "primal": primal, "info": d.info.to_json(), "raises": d.raises, "scalar": scalar,
        "args": [[n, "array", t.dtype.np_dtype.name] if isinstance(t, T.Array) else
                 [n, c_types.c_scalar(t), None] for n, t in c.user_params()],  # type: ignore[arg-type]
        "layout": layout_json(d.layout, outputs),
        "blocks": [[o, w, dt.name] for o, w, dt in c.blocks()],
        "outputs": list(outputs), "single_output": single_output})


def kernel_of(obj: Any) -> Any:
    """The kernel of a derivative, Jacobian, hvp or hessian object (None: a kernel, or a
    `vmap(grad(f))`, whose loader entry needs no primal)."""
    second = getattr(obj, "second", None)
    return second.kernel if second is not None else getattr(obj, "kernel", None)


def batch_json(obj: Any, plan: Any) -> dict[str, Any]:
    """What the loader's runtime/aotderived.BatchedCall needs of a `vmap(grad(f))` (or
    value_and_grad) object `obj` whose api/vmap._CallPlan is `plan`."""
    import inspect

    d = obj.derivative
    if d.kind == "jvp":
        raise CompileError(f"cannot export '{obj.__name__}': vmap(jvp(f)) is not exported; "
                           "export jvp(vmap(f)), which is the same function")
    params = []
    for p in plan.signature.parameters.values():
        default = None if p.default is inspect.Parameter.empty else p.default
        if type(default) not in (int, float, bool, type(None)):
            raise CompileError(f"cannot export '{obj.__name__}': the default of '{p.name}' "
                               "is not an int, float or bool")
        params.append([p.name, p.kind == inspect.Parameter.KEYWORD_ONLY,
                       p.default is not inspect.Parameter.empty, default])
    return {"kind": d.kind, "kernel": d.kernel.__name__, "in_axes": list(obj.in_axes),
            "out_axis": obj.out_axis, "params": params, "values": plan.values.name,
            "broadcast": [[i, dt.name] for i, dt in plan.broadcast],
            "moves": list(plan.moves), "keywords": list(plan.keywords)}
