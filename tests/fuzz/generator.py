"""Seeded random-program generator: small annotated modules inside Ember's subset.

`generate(seed)` returns a `Program`: the source of one to three `@kernel` functions (the later
ones may call the earlier ones) plus their signatures, from which `inputs.py` draws arguments.
The programs use for-range loops (constant, negative and run-time steps), nested loops, bounded
`while` loops, if/elif/else, break/continue, early returns, augmented, tuple and chained
assignment, in-place array mutation, local arrays, int/float/f32/bool arithmetic, complex
arithmetic inside float expressions (complexes.py), `math`/`np` functions on safe domains,
min/max/abs/round, conditional expressions and kernel-to-kernel calls; and issue 14's
features: tuple locals mixing arrays and scalars, loops over tuple literals, unpacking of
small arrays, results like `tuple[f64[:], float]` returning locals, parameters or views of
them (tuples.py); trailing parameters with defaults, `f64[:] | None` / `float | None`
parameters with `is None` branches and tuple parameters, called positionally, by keyword or
leaving defaults out (defaults.py); complex locals and arrays (complex_stmts.py); local lists
with append, indexing, iteration and `in` (lists.py). In
`RAISING` (60%) of the programs, `assert` and guarded `raise` statements may appear at every
depth (raises.py), with literal, scalar and f-string messages; about one program in six raises
on its inputs.

Invariants (checked by `python -m tests.fuzz --python-only`): every program runs in CPython on its
inputs without raising anything but its own `raise`/`assert` statements, without an int ever
leaving the signed 64-bit range, and in well under a second (at most `COST_MAX` statement
executions per call). Indices are always in bounds, divisors never zero; a message formats only
values that are bit-identical in both runs (see raises.py). The same seed always gives the
same program. Functions whose CPython result is not libm's (math.gamma, math.lgamma, np.tanh
differ by an ulp) only produce a function's final result, where the comparison tolerance
(rtol 1e-9) absorbs the ulp.

Run the fuzzer (Ember vs CPython), from the repository root:

    python -m tests.fuzz --count 5000 --seed 0          # thousands of programs, all cores
    python -m tests.fuzz --seed 1234 --count 1 --show   # print one program and its result
    python -m tests.fuzz --count 2000 --python-only     # check the generator itself
    python -m tests.fuzz --reduce 1234                  # minimize the failure of seed 1234
    pytest tests/test_fuzz.py --fuzz-count 1000 --fuzz-seed 7

Every mismatch found becomes a test in tests/e2e/test_fuzz_regressions.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from tests.fuzz.complex_stmts import ComplexMixin
from tests.fuzz.defaults import DefaultsMixin
from tests.fuzz.exprs import (
    COST_MAX,
    DIM_MAX,
    INT_ASSIGN,
    INT_AUG,
    ArrayVar,
    Callee,
    Expr,
    ExprGen,
    Var,
    lit_int,
)
from tests.fuzz.lists import ListInfo, ListMixin
from tests.fuzz.loops import LoopMixin
from tests.fuzz.raises import RaiseMixin
from tests.fuzz.tuples import TUPLE_RETS, TupleMixin, is_tuple_ret

EMBER_HEADER = "import cmath\nimport math\n\nimport numpy as np\n\nfrom ember import f32, f64, i64, kernel\n"
RAISING = 0.6  # share of programs with assert/raise statements
PYTHON_HEADER = ("import cmath\nimport math\n\nimport numpy as np\n\nfrom ember.types import f32, f64, i64\n\n"
                 "def kernel(fn):\n    return fn\n")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int" | "float" | "bool" | "f32" | "f64[:]" | "i64[:, :]" ...
    dims: tuple[str, ...] | None = None  # arrays: one dimension symbol per axis
    default: str | None = None  # the default value's source (defaults.py)


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    ret: str  # "int" | "float" | "bool" | "None" | "tuple" | "f64[:]"
    cost: int


@dataclass(frozen=True)
class Program:
    seed: int
    body: str  # the functions, each decorated with @kernel
    functions: tuple[Function, ...]
    EMBER_HEADER: ClassVar[str] = EMBER_HEADER  # the imports above the functions
    PYTHON_HEADER: ClassVar[str] = PYTHON_HEADER

    @property
    def ember_source(self) -> str:
        return self.EMBER_HEADER + "\n\n" + self.body

    @property
    def python_source(self) -> str:
        return self.PYTHON_HEADER + "\n\n" + self.body


RET_ANNOTATION = {"int": "int", "float": "float", "bool": "bool", "None": "None",
                  "tuple": "tuple[float, int]", "f64[:]": "f64[:]", "i64[:]": "i64[:]"}


class FunctionGen(ExprGen):
    """Generates one function: signature, then statements under a line and cost budget."""

    def __init__(self, rng: random.Random, name: str, callees: list[Callee], max_lines: int):
        super().__init__(rng, callees)
        self.name = name
        self.lines: list[str] = []
        self.indent = 1
        self.max_lines = max_lines
        self.counter = 0
        self.depth = 0  # loop nesting
        self.ret = "None"
        self.out: str | None = None  # the local array returned by array-returning functions
        self.params: list[Param] = []
        self.last = False  # the program's last function: nothing calls it
        self.raising = False  # may contain assert and raise statements (raises.py)

    # --- plumbing ------------------------------------------------------------------------
    def emit(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def fresh(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def full(self) -> bool:
        return len(self.lines) >= self.max_lines or self.cost + self.scope.mult > COST_MAX

    def block(self, n: int, **scope_changes) -> None:
        """Run `n` statement generators in a child scope, one indentation level deeper."""
        saved = self.scope
        self.scope = saved.child()
        for key, value in scope_changes.items():
            setattr(self.scope, key, value)
        self.indent += 1
        start = len(self.lines)
        for _ in range(n):
            if self.full() or self.statement():
                break
        if len(self.lines) == start:
            self.emit("pass")
        self.indent -= 1
        self.scope = saved

    # --- signature -----------------------------------------------------------------------
    def signature(self) -> None:
        n_arrays = self.rng.choice([0, 1, 1, 2, 2, 2, 3])
        n_scalars = self.rng.choice([0, 1, 1, 2, 2, 3]) if n_arrays else self.rng.choice([1, 2, 3])
        dims: list[str] = []
        for i in range(n_arrays):
            dtype = self.pick({"f64": 5, "i64": 3, "f32": 2})
            ndim = 1 if self.chance(0.75) else 2
            shape = []
            for _ in range(ndim):
                if dims and self.chance(0.5):
                    shape.append(self.rng.choice(dims))
                else:
                    dims.append(f"d{len(dims)}")
                    shape.append(dims[-1])
            name = "abcm"[i] if ndim == 1 else "mpq"[i]
            name = name if name not in [p.name for p in self.params] else f"{name}{i}"
            kind = f"{dtype}[{', '.join(':' * ndim)}]"
            self.params.append(Param(name, kind, tuple(shape)))
            self.scope.arrays[name] = ArrayVar(name, dtype, tuple(shape))
        names = {"int": ["n", "k", "j0"], "float": ["x", "y", "z"], "bool": ["flag", "g", "h"],
                 "f32": ["s", "t", "u"]}
        for _ in range(n_scalars):
            ty = self.pick({"int": 4, "float": 4, "bool": 2, "f32": 1})
            name = names[ty].pop(0) if names[ty] else self.fresh("q")
            self.params.append(Param(name, ty))
            if ty == "int":
                self.scope.vars[name] = Var(name, ty, read=2000, assign=1000, budget=1000,
                                            weak=False)
            else:
                self.scope.vars[name] = Var(name, ty)
                if self.raising and ty in ("float", "f32") and self.chance(0.5):
                    self.freeze(self.scope.vars[name])

    def exact_param(self, name: str) -> bool:
        """Whether callers must pass parameter `name` an exact value (raises.py)."""
        var = self.scope.vars.get(name)
        return var is not None and var.exact

    def header(self) -> str:
        args = ", ".join(f"{p.name}: {p.kind}" + (f" = {p.default}" if p.default else "")
                         for p in self.params)
        return f"def {self.name}({args}) -> {RET_ANNOTATION.get(self.ret, self.ret)}:"

    # --- statements ----------------------------------------------------------------------
    def statement(self) -> bool:
        """Emit one statement; True when it ends the block (unconditional jump)."""
        self.cost += self.scope.mult
        in_loop = self.scope.loop is not None
        kinds = {"new": 10, "assign": 4, "aug": 6, "store": 6, "astore": 3, "if": 5,
                 "for": 5 if self.depth < 3 else 0, "while": 2 if self.depth < 3 else 0,
                 "jump": 3 if in_loop else 0, "guard": 1.5 if self.scope.arrays else 0,
                 "ret": 2 if in_loop or self.indent > 1 else 0.3,
                 "call": 2 if self.callees else 0, "tuple": 1,
                 "local": 1 if self.depth == 0 else 0, "pass": 0.1,
                 "raise": 3 * self.raising, "assert": 2 * self.raising,
                 **self.tuple_kinds(), **self.complex_kinds(), **self.opt_kinds(),
                 **self.list_kinds()}
        return bool(getattr(self, "st_" + self.pick(kinds))())

    def st_pass(self) -> None:
        self.emit("pass")

    def st_new(self) -> None:
        ty = self.pick({"int": 4, "float": 5, "bool": 1.5, "f32": 1.5 if self.has_f32() else 0.3})
        e = self.expr(ty, self.rng.choice([1, 1, 2, 2, 3]))
        self.define(ty, e)

    def define(self, ty: str, e: Expr, name: str | None = None) -> Var:
        name = name or self.fresh()
        var = Var(name, ty)
        if ty == "int":
            e = self.shrink(e, INT_ASSIGN)
            var.assign = min(INT_ASSIGN, max(e.bound, 2**20))
            var.budget = var.assign
            var.read = 2 * var.assign
        annot = {"int": "int", "float": "float", "bool": "bool", "f32": "f32"}[ty]
        if self.chance(0.08):
            self.emit(f"{name}: {annot} = {e.text}")
        else:
            self.emit(f"{name} = {e.text}")
        self.scope.vars[name] = var
        return var

    def st_assign(self) -> None:
        vs = [v for v in self.scope.vars.values() if v.mutable]
        if not vs:
            return self.st_new()
        v = self.rng.choice(vs)
        e = self.expr(v.ty, self.rng.choice([1, 2, 2, 3]))
        if v.ty == "int":
            e = self.shrink(e, v.assign)
        self.emit(f"{v.name} = {e.text}")

    def st_aug(self) -> None:
        vs = [v for v in self.scope.vars.values() if v.mutable and v.ty != "bool"]
        if not vs:
            return self.st_new()
        v = self.rng.choice(vs)
        op, e = self.int_aug(v) if v.ty == "int" else self.float_aug(v.ty)
        self.emit(f"{v.name} {op}= {e.text}")

    def int_aug(self, v: Var) -> tuple[str, Expr]:
        op = self.pick({"+": 4, "-": 3, "//": 1, "%": 1, "&": 1, "|": 1, "^": 1, ">>": 1,
                        "*": 0.5})
        limit = v.budget / self.scope.mult - 1
        if op in "+-&|^" and limit >= 1:
            e = self.shrink(self.int_expr(2), limit) if limit >= 16 else lit_int(1)
            v.budget -= self.scope.mult * (e.bound + 1)
            return op, e
        if op in ("//", "%"):
            return op, self.int_divisor(1, v.assign)
        if op == "*":
            return op, lit_int(-1)
        return ">>", lit_int(self.rng.randrange(1, 5))

    def float_aug(self, ty: str) -> tuple[str, Expr]:
        op = self.pick({"+": 4, "-": 3, "*": 3, "/": 2, "//": 0.5, "%": 0.5})
        if ty == "f32":
            e = self.f32_expr(1) if self.chance(0.6) else self.weak_operand()
            if op in ("/", "//", "%"):
                e = Expr(f"abs({e.text}) + 1.0", "f32")
            return op, e
        if op in ("/", "//", "%"):
            return op, self.float_divisor(1)
        return op, self.float_expr(self.rng.choice([1, 2]))

    def store_value(self, a: ArrayVar, aug: bool) -> tuple[str, Expr]:
        if a.dtype == "i64":
            if aug:
                op = self.pick({"+": 4, "-": 3, "//": 1, "%": 1})
                if op in ("//", "%"):
                    return op, lit_int(self.rng.choice([2, 3, -2, 5, 7]))
                return op, self.shrink(self.int_expr(2), INT_AUG)
            return "", self.shrink(self.int_expr(2), INT_ASSIGN)
        if a.dtype == "f32":
            if aug:
                return self.float_aug("f32")
            e = self.f32_expr(2) if self.chance(0.6) else self.float_expr(2)
            return "", e
        if aug:
            return self.float_aug("float")
        if self.chance(0.15):
            return "", self.shrink(self.int_expr(1), 2**52)
        return "", self.float_expr(self.rng.choice([1, 2, 3]))

    def store(self, aug: bool) -> None:
        arrays = list(self.scope.arrays.values())
        if not arrays:
            return self.st_new()
        a = self.rng.choice(arrays)
        idx = [self.index_text(a, k) for k in range(len(a.dims))]
        if None in idx:  # the array may be empty here: guard the store
            self.emit(f"if {self.nonempty_test(a)}:")
            self.indent += 1
            saved = set(self.scope.nonempty)
            self.scope.nonempty |= set(a.dims)
            idx = [self.index_text(a, k) for k in range(len(a.dims))]
            op, e = self.store_value(a, aug)
            self.emit(f"{a.name}[{', '.join(idx)}] {op}= {e.text}")
            self.scope.nonempty = saved
            self.indent -= 1
            return None
        op, e = self.store_value(a, aug)
        self.emit(f"{a.name}[{', '.join(idx)}] {op}= {e.text}")

    def st_store(self) -> None:
        self.store(aug=False)

    def st_astore(self) -> None:
        self.store(aug=True)

    def st_if(self) -> None:
        self.emit(f"if {self.bool_expr(self.rng.choice([1, 2, 2])).text}:")
        self.block(self.rng.randint(1, 3))
        while self.chance(0.3) and not self.full():
            self.emit(f"elif {self.bool_expr(2).text}:")
            self.block(self.rng.randint(1, 2))
        if self.chance(0.4) and not self.full():
            self.emit("else:")
            self.block(self.rng.randint(1, 2))

    def st_guard(self) -> None:
        """`if len(a) > 0:` around a block that may then index `a` freely."""
        a = self.rng.choice(list(self.scope.arrays.values()))
        self.emit(f"if {self.nonempty_test(a)}:")
        self.block(self.rng.randint(1, 3), nonempty=self.scope.nonempty | set(a.dims))

    def st_jump(self) -> bool:
        word = "break" if self.chance(0.55) else "continue"
        if self.chance(0.2):
            self.emit(word)
            return True
        self.emit(f"if {self.bool_expr(2).text}:")
        self.indent += 1
        self.emit(word)
        self.indent -= 1
        return False

    def st_ret(self) -> bool:
        if self.chance(0.15) and self.indent > 1:
            self.emit(self.return_stmt())
            return True
        self.emit(f"if {self.bool_expr(2).text}:")
        self.indent += 1
        self.emit(self.return_stmt())
        self.indent -= 1
        return False

    def return_stmt(self) -> str:
        if self.ret == "None":
            return self.rng.choice(["return", "return None"])
        if self.out is not None:
            return f"return {self.out}"
        if is_tuple_ret(self.ret):
            return self.tuple_return()
        if self.ret == "float" and self.sinks and self.indent == 1:  # complex_stmts.py
            return f"return {self.float_expr(2).p()}{self.sink_terms()}"
        if self.ret == "tuple":
            f, i = self.float_expr(2), self.shrink(self.int_expr(2), INT_ASSIGN)
            return f"return {f.text}, {i.text}"
        if self.ret == "float" and self.last and self.chance(0.15):  # no caller reuses it
            return f"return {self.terminal_call().text}"
        if self.ret == "float" and self.chance(0.15):  # float(): CPython would return f32
            return f"return float({self.f32_expr(2).text})"
        e = self.expr(self.ret, 2)
        if self.ret == "int":
            e = self.shrink(e, INT_ASSIGN)
        return f"return {e.text}"

    def st_call(self) -> None:
        c = self.rng.choice(self.callees)
        args = self.call_args(c)
        if args is None:
            return self.st_new()
        call = f"{c.name}({', '.join(args)})"
        if is_tuple_ret(c.ret):
            self.unpack_call(c, call)
        elif c.ret == "tuple":
            p, q = self.fresh(), self.fresh()
            self.emit(f"{p}, {q} = {call}")
            self.scope.vars[p] = Var(p, "float")
            self.scope.vars[q] = Var(q, "int", read=2 * INT_ASSIGN, assign=INT_ASSIGN,
                                     budget=INT_ASSIGN)
        elif c.ret in ("None",) or self.chance(0.3):
            self.emit(call)
        elif c.ret in ("int", "float", "bool"):
            self.define(c.ret, Expr(call, c.ret, INT_ASSIGN, atom=True))
        else:
            self.emit(call)

    def st_tuple(self) -> None:
        fs = self.vars_of("float", mutable=True)
        if len(fs) >= 2 and self.chance(0.6):
            p, q = self.rng.sample(fs, 2)
            rhs = self.rng.choice([f"{q.name}, {p.name}",
                                   f"{q.name}, {p.name} + {q.name}",
                                   f"{self.float_expr(1).text}, {p.name}"])
            self.emit(f"{p.name}, {q.name} = {rhs}")
            return None
        ty1, ty2 = self.rng.choice(["int", "float", "bool"]), self.rng.choice(["int", "float"])
        e1, e2 = self.expr(ty1, 1), self.expr(ty2, 1)
        e1 = self.shrink(e1, INT_ASSIGN) if ty1 == "int" else e1
        e2 = self.shrink(e2, INT_ASSIGN) if ty2 == "int" else e2
        p, q = self.fresh(), self.fresh()
        self.emit(f"{p}, {q} = {e1.text}, {e2.text}")
        for name, ty in ((p, ty1), (q, ty2)):
            self.scope.vars[name] = Var(name, ty, read=2 * INT_ASSIGN, assign=INT_ASSIGN,
                                        budget=INT_ASSIGN)

    def st_local(self) -> None:
        name = self.fresh("t")
        text, arr = self.allocation(name)
        self.emit(f"{name} = {text}")
        self.scope.arrays[name] = arr

    def allocation(self, name: str, dtype: str | None = None,
                   ndim: int | None = None) -> tuple[str, ArrayVar]:
        """A local array: np.zeros/ones/full/zeros_like with a known or symbolic shape."""
        dtype = dtype or self.pick({"f64": 5, "i64": 3, "f32": 1})
        like = [a for a in self.scope.arrays.values()
                if a.dtype == dtype and ndim in (None, len(a.dims))]
        if like and self.chance(0.25):
            a = self.rng.choice(like)
            return f"np.zeros_like({a.name})", ArrayVar(name, dtype, a.dims)
        ndim = ndim or (1 if self.chance(0.8) else 2)
        dims, texts = [], []
        for _ in range(ndim):
            arrays = list(self.scope.arrays.values())
            if arrays and self.chance(0.6):
                a = self.rng.choice(arrays)
                axis = self.rng.randrange(len(a.dims))
                dims.append(a.dims[axis])
                texts.append(self.dim_expr(a, axis).text)
            else:
                k = self.rng.randint(0 if self.chance(0.1) else 1, DIM_MAX)
                dims.append(f"#{k}")
                texts.append(str(k))
        shape = texts[0] if ndim == 1 and self.chance(0.7) else f"({', '.join(texts)},)" \
            if ndim == 1 else f"({', '.join(texts)})"
        np_dtype = {"f64": "np.float64", "i64": "np.int64", "f32": "np.float32"}[dtype]
        fn = self.pick({"zeros": 4, "ones": 2, "full": 2})
        if fn == "full":
            value = {"f64": "1.5", "i64": "3", "f32": "0.5"}[dtype]
            return (f"np.full({shape}, {value}, dtype={np_dtype})",
                    ArrayVar(name, dtype, tuple(dims)))
        if dtype == "f64" and self.chance(0.5):
            return f"np.{fn}({shape})", ArrayVar(name, dtype, tuple(dims))
        return f"np.{fn}({shape}, dtype={np_dtype})", ArrayVar(name, dtype, tuple(dims))


class Generator(LoopMixin, RaiseMixin, TupleMixin, ComplexMixin, DefaultsMixin, ListMixin,
                FunctionGen):
    """A FunctionGen with loop, raising, tuple, complex and list statements and defaulted
    parameters (loops.py, raises.py, tuples.py, complex_stmts.py, defaults.py, lists.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tuple_meta: dict[str, list] = {}  # tuple name -> its (kind, item) elements
        self.cinfo: dict[str, tuple] = {}  # complex name -> (bound, exact, dims)
        self.sinks: list[str] = []  # inexact floats for the final return (complex_stmts.py)
        self.optionals: dict[str, tuple] = {}  # Optional parameter -> (kind, dims)
        self.list_info: dict[str, ListInfo] = {}  # list name -> what is known of it

    def function(self) -> Function:
        self.signature()
        self.extra_params()
        self.ret = self.pick({"float": 5, "int": 3, "bool": 1, "None": 2, "tuple": 1,
                              "f64[:]": 0.7, "i64[:]": 0.3, **TUPLE_RETS})
        if self.ret in ("f64[:]", "i64[:]") or is_tuple_ret(self.ret):
            self.out = None if is_tuple_ret(self.ret) else "out"
            text, arr = self.allocation("out", self.ret[:3] if self.out else "f64", ndim=1)
            self.emit(f"out = {text}")
            self.scope.arrays["out"] = arr
        for _ in range(self.rng.randint(2, 8)):
            if self.full() or self.statement():
                break
        else:
            if self.ret != "None" or self.chance(0.3):
                self.emit(self.return_stmt())
        if self.ret != "None" and not self.lines[-1].startswith("    return"):
            self.emit(self.return_stmt())
        return Function(self.name, tuple(self.params), self.ret, self.cost)


def generate(seed: int) -> Program:
    """The program of `seed`: deterministic, always valid Python inside Ember's subset."""
    rng = random.Random(seed)
    raising = rng.random() < RAISING
    n_funcs = rng.choice([1, 1, 2, 2, 2, 3])
    functions: list[Function] = []
    callees: list[Callee] = []
    chunks = []
    for i in range(n_funcs):
        g = Generator(rng, f"f{i}", list(callees), max_lines=rng.randint(5, 36 // n_funcs + 2))
        g.last = i == n_funcs - 1
        g.raising = raising
        fn = g.function()
        chunks.append("@kernel\n" + g.header() + "\n" + "\n".join(g.lines) + "\n")
        functions.append(fn)
        callees.append(Callee(fn.name, tuple((p.name, p.kind) for p in fn.params),
                              tuple(p.dims for p in fn.params), fn.ret, max(fn.cost, 1),
                              tuple(g.exact_param(p.name) for p in fn.params),
                              tuple(p.default for p in fn.params)))
    return Program(seed, "\n\n".join(chunks), tuple(functions))
