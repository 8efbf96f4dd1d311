"""Runtime: the LLVM IR of a Jacobian's native loop, `jk_<name>`, over a derivative entry.

Input: a `LoopSpec` (the derivative entry `ek_<name>`'s parameters and results, its mode, the
Jacobian's outputs and `wrt`). Output: `signature` (what the thunks `ember_jac_<name>` and
`ember_pk_jac_<name>` take: the entry's primal parameters, a result leaf's buffer replaced by
its sizes, then one array per Jacobian block (output o, input w) shaped O + I) and
`function_ir`, the body those thunks call. It does what runtime/jacquick.py does from
Python, in one native call: per output element (reverse) or
input element (forward) it restores the arrays the kernel writes from a copy taken on entry,
zeroes the shadows (scratch from the tape arena), sets one seed to 1, calls the entry and
copies the row (column) into every block of that output (input). The same calls on the same
values in the same order: the blocks are bitwise those of the Python loop. The AOT build has
the same loop as generated C (aot/jacobian.py).

`applies` is False where the loop does not serve a Jacobian (a block whose dtype differs
from its output's or input's, complex values, a parameter it cannot place); the Python loop
serves those (driver/jacentry.py then builds none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import types as T
from . import abi

RETURN = "return"
SHADOW = "__d_"
SEED = "__seed"
LEAF = "__ret"
BLOCK = "__jac"
ALLOC = "_mlir_memref_to_llvm_alloc"
FREE = "_mlir_memref_to_llvm_free"
_DECLS = ("declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)\n"
          "declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)\n")


@dataclass(frozen=True)
class LoopSpec:
    """What the loop needs of a derivative build (driver/jacentry.py fills it)."""

    name: str
    forward: bool
    activities: tuple[tuple[str, T.Type, str], ...]
    params: tuple[tuple[str, T.Type], ...]
    """The entry's parameters (primal ones, shadows `__d_<x>`, the seed `__seed`)."""
    results: tuple[T.Type, ...]
    written: frozenset[str]
    wrt: tuple[str, ...]
    outs: tuple[str, ...]
    floats: frozenset[str]
    """Outputs the user sees as floats (the result, float leaves): no dimension in a block."""
    result: T.Scalar | None

    def kind(self, name: str) -> T.Type:
        if name == RETURN:
            assert self.result is not None
            return self.result
        return next(t for n, t, _ in self.activities if n == name)

    @property
    def blocks(self) -> tuple[tuple[str, str], ...]:
        return tuple((o, w) for o in self.outs for w in self.wrt)

    @property
    def picks(self) -> dict[str, int]:
        """Reverse mode: the entry's result item holding each active scalar's gradient."""
        active = [n for n, _, a in self.activities if a == "active"]
        first = 1 if self.result is not None else 0
        return {w: first + active.index(w) for w in self.wrt if w in active}


def scalar_of(t: T.Type) -> T.Scalar:
    s = t.dtype if isinstance(t, T.Array) else t
    assert isinstance(s, T.Scalar)
    return s


def ndim(spec: LoopSpec, name: str) -> int:
    """The dimensions `name` gives a block (0: a float)."""
    t = spec.kind(name)
    return 0 if name in spec.floats or not isinstance(t, T.Array) else t.ndim


def applies(spec: LoopSpec) -> bool:
    """Whether the native loop serves this Jacobian (see the module's docstring)."""
    if RETURN in spec.outs and spec.result is None:
        return False
    acts = {n: a for n, _, a in spec.activities}
    for o, w in spec.blocks:
        so, sw = scalar_of(spec.kind(o)), scalar_of(spec.kind(w))
        if so.np_dtype != sw.np_dtype or not so.is_float or so.is_complex:
            return False
        if isinstance(spec.kind(w), T.Scalar) and acts.get(w) != "active":
            return False
        if o != RETURN and (acts.get(o) != "dup" or not isinstance(spec.kind(o), T.Array)):
            return False
    known = {n for n, _, _ in spec.activities}
    for name, _ in spec.params:
        base = name[len(SHADOW):] if name.startswith(SHADOW) else None
        if name in known or name == SEED or base in known:
            continue
        return False
    return all(not (isinstance(t, T.Scalar) and t.is_complex) for _, t, _ in spec.activities)


def signature(spec: LoopSpec) -> abi.Signature:
    """The thunks' parameters: the primal ones (a result leaf `__ret<k>` as its sizes
    `__ret<k>_s<d>`: the loop allocates it), then one array per block."""
    primal = tuple(p for n, t, _ in spec.activities for p in (
        [(f"{n}_s{d}", T.i64) for d in range(t.ndim)]
        if n.startswith(LEAF) and isinstance(t, T.Array) else [(n, t)]))
    blocks = tuple((f"{BLOCK}{k}", T.Array(scalar_of(spec.kind(o)), ndim(spec, o) + ndim(spec, w)))
                   for k, (o, w) in enumerate(spec.blocks))
    return abi.Signature(primal + blocks, T.none, frozenset(spec.written | {n for n, _ in blocks}))


class _Body:
    """The statements of `jk_<name>`: fields of each parameter, scratch, the seed loops."""

    def __init__(self, spec: LoopSpec) -> None:
        self.spec = spec
        self.sig = signature(spec)
        self.index = {n: k for k, (n, _) in enumerate(self.sig.params)}
        self.lines: list[str] = ["entry:"]
        self.params: list[str] = []
        self.arrays: dict[str, tuple[str, str, str, list[str]]] = {}
        """Per array: its element count, bytes, data pointer, memref fields."""
        self.leaves: list[str] = []
        self.scratch: dict[str, str] = {}
        self.saved: dict[str, str] = {}
        self.temp = 0

    def emit(self, line: str) -> None:
        self.lines.append(("" if line.endswith(":") else "  ") + line)

    def fresh(self) -> str:
        self.temp += 1
        return f"%t{self.temp}"

    def declare(self) -> None:
        """The parameters (memref fields of arrays), each array's count, bytes and fields;
        the result leaves (sizes given) allocated."""
        for k, (name, t) in enumerate(self.sig.params):
            if isinstance(t, T.Array):
                names = [f"p{k}a", f"p{k}d", f"p{k}o", *(f"p{k}s{d}" for d in range(t.ndim)),
                         *(f"p{k}t{d}" for d in range(t.ndim))]
                types = ["ptr", "ptr", "i64"] + ["i64"] * (2 * t.ndim)
                fields = [f"{ty} %{n}" for ty, n in zip(types, names, strict=True)]
                self.params += fields
                self.array(name, t, f"p{k}", fields)
            else:
                s = scalar_of(t)
                self.params.append(f"{'i1' if s.is_bool else abi.llvm_scalar(s)} %p{k}")
        for name, t, _ in self.spec.activities:
            if name.startswith(LEAF) and isinstance(t, T.Array):
                self.leaf(name, t)

    def array(self, name: str, t: T.Array, tag: str, fields: list[str]) -> None:
        count = "1"
        for d in range(t.ndim):
            nxt = f"%{tag}n{d}"
            self.emit(f"{nxt} = mul i64 {count}, {fields[3 + d].split()[1]}")
            count = nxt
        self.emit(f"%{tag}n = add i64 {count}, 0")
        self.emit(f"%{tag}b = mul i64 %{tag}n, {t.dtype.np_dtype.itemsize}")
        self.arrays[name] = (f"%{tag}n", f"%{tag}b", fields[1].split()[1], fields)

    def leaf(self, name: str, t: T.Array) -> None:
        """A result leaf: C-contiguous scratch of the given sizes."""
        tag = f"l{len(self.leaves)}"
        sizes = [f"i64 %p{self.index[f'{name}_s{d}']}" for d in range(t.ndim)]
        strides = ["i64 1"]
        for d in range(t.ndim - 1, 0, -1):
            self.emit(f"%{tag}st{d - 1} = mul {strides[0]}, {sizes[d].split()[1]}")
            strides.insert(0, f"i64 %{tag}st{d - 1}")
        ptr = f"%{tag}p"
        fields = [f"ptr {ptr}", f"ptr {ptr}", "i64 0", *sizes, *strides]
        self.array(name, t, tag, fields)
        self.emit(f"%{tag}z = add i64 %{tag}b, 8")
        self.emit(f"{ptr} = call ptr @{ALLOC}(i64 %{tag}z)")
        self.leaves.append(ptr)

    def count(self, name: str) -> str:
        found = self.arrays.get(name)
        return found[0] if found is not None else "1"

    def data(self, name: str) -> str:
        return self.arrays[name][2]

    def bytes(self, name: str) -> str:
        return self.arrays[name][1]

    def prepare(self) -> None:
        """Scratch shadows of the duplicated arrays; copies of the arrays the kernel writes."""
        for name, _, act in self.spec.activities:
            if act != "dup":
                continue
            k = len(self.scratch)
            self.emit(f"%sz{k} = add i64 {self.bytes(name)}, 8")
            self.emit(f"%sh{k} = call ptr @{ALLOC}(i64 %sz{k})")
            self.scratch[name] = f"%sh{k}"
        for name, t, _ in self.spec.activities:
            if name in self.spec.written and not name.startswith(LEAF) \
                    and isinstance(t, T.Array):
                k = len(self.saved)
                self.emit(f"%svz{k} = add i64 {self.bytes(name)}, 8")
                self.emit(f"%sv{k} = call ptr @{ALLOC}(i64 %svz{k})")
                self.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr %sv{k}, ptr {self.data(name)}, "
                          f"i64 {self.bytes(name)}, i1 false)")
                self.saved[name] = f"%sv{k}"

    def operands(self, seed: str) -> list[str]:
        """The entry's arguments in a call seeding `seed` (reverse: an output; forward: an
        input): primal fields, scratch shadows viewed with the primal's sizes, seed slots."""
        out: list[str] = []
        for name, t in self.spec.params:
            if name in self.arrays:
                out += self.arrays[name][3]
            elif name in self.index:
                out.append(self.params[self._param_pos(name)])
            elif name == SEED:
                out.append(f"{abi.llvm_scalar(scalar_of(t))} {1.0 if seed == RETURN else 0.0}")
            elif isinstance(t, T.Array):
                base = name[len(SHADOW):]
                f = self.arrays[base][3]
                out += [f"ptr {self.scratch[base]}", f"ptr {self.scratch[base]}", "i64 0",
                        *f[3:]]
            else:
                base = name[len(SHADOW):]
                out.append(f"{abi.llvm_scalar(scalar_of(t))} {1.0 if seed == base else 0.0}")
        return out

    def _param_pos(self, name: str) -> int:
        """The position of scalar parameter `name` among the function's parameters."""
        pos = 0
        for n, t in self.sig.params:
            if n == name:
                return pos
            pos += 3 + 2 * t.ndim if isinstance(t, T.Array) else 1
        raise KeyError(name)

    def store(self, t: T.Type, base: str, index: str, value: str) -> None:
        ty = abi.llvm_scalar(scalar_of(t))
        p = self.fresh()
        self.emit(f"{p} = getelementptr {ty}, ptr {base}, i64 {index}")
        self.emit(f"store {ty} {value}, ptr {p}")

    def reset(self) -> None:
        """Before each call: the written arrays restored, the shadows zeroed."""
        for name, copy in self.saved.items():
            self.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr {self.data(name)}, ptr {copy}, "
                      f"i64 {self.bytes(name)}, i1 false)")
        for name, sh in self.scratch.items():
            self.emit(f"call void @llvm.memset.p0.i64(ptr {sh}, i8 0, i64 {self.bytes(name)}, "
                      "i1 false)")

    def loop(self, j: int, seed: str, body: Callable[[str], None]) -> None:
        n = self.count(seed)
        self.emit(f"br label %s{j}pre")
        self.emit(f"s{j}pre:")
        self.emit(f"br label %s{j}head")
        self.emit(f"s{j}head:")
        self.emit(f"%e{j} = phi i64 [0, %s{j}pre], [%e{j}n, %s{j}latch]")
        self.emit(f"%c{j} = icmp slt i64 %e{j}, {n}")
        self.emit(f"br i1 %c{j}, label %s{j}body, label %s{j}exit")
        self.emit(f"s{j}body:")
        body(f"%e{j}")
        self.emit(f"br label %s{j}latch")
        self.emit(f"s{j}latch:")
        self.emit(f"%e{j}n = add i64 %e{j}, 1")
        self.emit(f"br label %s{j}head")
        self.emit(f"s{j}exit:")

    def invoke(self, seed: str) -> str:
        """Call the entry; the result's name ('' for none)."""
        ret = abi.llvm_result(T.Tuple(self.spec.results) if self.spec.results else T.none)
        args = ", ".join(self.operands(seed))
        if ret == "void":
            self.emit(f"call void @ek_{self.spec.name}({args})")
            return ""
        r = self.fresh()
        self.emit(f"{r} = call {ret} @ek_{self.spec.name}({args})")
        return r

    def reverse(self) -> None:
        spec = self.spec
        for j, o in enumerate(spec.outs):
            def body(e: str, o: str = o) -> None:
                self.reset()
                if o != RETURN:
                    self.store(spec.kind(o), self.scratch[o], e, "1.0")
                r = self.invoke(o)
                for w in spec.wrt:
                    blk = f"{BLOCK}{spec.blocks.index((o, w))}"
                    off = self.fresh()
                    self.emit(f"{off} = mul i64 {e}, {self.count(w)}")
                    if w in self.scratch:
                        ty = abi.llvm_scalar(scalar_of(spec.kind(w)))
                        dst = self.fresh()
                        self.emit(f"{dst} = getelementptr {ty}, ptr {self.data(blk)}, i64 {off}")
                        self.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr {dst}, ptr "
                                  f"{self.scratch[w]}, i64 {self.bytes(w)}, i1 false)")
                    else:
                        v = self.fresh()
                        ret = abi.llvm_result(T.Tuple(spec.results))
                        self.emit(f"{v} = extractvalue {ret} {r}, {spec.picks[w]}")
                        self.store(spec.kind(w), self.data(blk), off, v)
            self.loop(j, o, body)

    def forward(self) -> None:
        spec = self.spec
        for j, w in enumerate(spec.wrt):
            def body(e: str, w: str = w, j: int = j) -> None:
                self.reset()
                if w in self.scratch:
                    self.store(spec.kind(w), self.scratch[w], e, "1.0")
                r = self.invoke(w)
                for i, o in enumerate(spec.outs):
                    blk = f"{BLOCK}{spec.blocks.index((o, w))}"
                    if o == RETURN:
                        v = self.fresh()
                        ret = abi.llvm_result(T.Tuple(spec.results))
                        self.emit(f"{v} = extractvalue {ret} {r}, 1")
                        self.store(spec.kind(o), self.data(blk), e, v)
                    else:
                        self.column(f"{j}_{i}", o, w, blk, e)
            self.loop(j, w, body)

    def column(self, tag: str, o: str, w: str, blk: str, e: str) -> None:
        """Column e of block `blk` (rows: output o's elements) from o's tangent."""
        ty = abi.llvm_scalar(scalar_of(self.spec.kind(o)))
        n = self.count(o)
        self.emit(f"br label %c{tag}pre")
        self.emit(f"c{tag}pre:")
        self.emit(f"br label %c{tag}head")
        self.emit(f"c{tag}head:")
        self.emit(f"%i{tag} = phi i64 [0, %c{tag}pre], [%i{tag}n, %c{tag}body]")
        self.emit(f"%ci{tag} = icmp slt i64 %i{tag}, {n}")
        self.emit(f"br i1 %ci{tag}, label %c{tag}body, label %c{tag}exit")
        self.emit(f"c{tag}body:")
        src, v, at, dst = self.fresh(), self.fresh(), self.fresh(), self.fresh()
        self.emit(f"{src} = getelementptr {ty}, ptr {self.scratch[o]}, i64 %i{tag}")
        self.emit(f"{v} = load {ty}, ptr {src}")
        self.emit(f"{at} = mul i64 %i{tag}, {self.count(w)}")
        self.emit(f"{at}e = add i64 {at}, {e}")
        self.emit(f"{dst} = getelementptr {ty}, ptr {self.data(blk)}, i64 {at}e")
        self.emit(f"store {ty} {v}, ptr {dst}")
        self.emit(f"%i{tag}n = add i64 %i{tag}, 1")
        self.emit(f"br label %c{tag}head")
        self.emit(f"c{tag}exit:")

    def finish(self) -> None:
        for ptr in [*self.scratch.values(), *self.saved.values(), *self.leaves]:
            self.emit(f"call void @{FREE}(ptr {ptr})")
        self.emit("ret void")


def function_ir(spec: LoopSpec) -> str:
    """`define internal void @jk_<name>(...)`: the loop (see the module's docstring)."""
    b = _Body(spec)
    b.declare()
    b.prepare()
    if spec.forward:
        b.forward()
    else:
        b.reverse()
    b.finish()
    head = f"define internal void @jk_{spec.name}({', '.join(b.params)}) {{"
    return "\n".join([_DECLS, head, *b.lines, "}", ""])
