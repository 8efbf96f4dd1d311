"""Expression half of the fuzzer: typed, side-effect-safe random expressions.

Every expression is built so that CPython can never raise on it and never leave Ember's
64-bit integer range:

* ints carry a static bound on |value|; an operation whose result could exceed `INT_HARD` first
  shrinks its operands (`% K`, `& M`, `>> s`, clamps), so CPython's unbounded ints and Ember's
  wrapping i64 always agree;
* floats carry no bound (inf and nan may appear); instead every operation that *raises* in
  CPython on some float (division, `math.sin(inf)`, `int(nan)`, `math.exp` overflow, `**`
  overflow, domain errors) gets its argument guarded so that it cannot;
* f32 values only meet f32 values and Python literals/range indices, so NEP 50 gives the same
  static type in Ember as the dynamic one CPython reaches on every path.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from tests.fuzz.complexes import complex_float
from tests.fuzz.defaults import arrange, call_text, tuple_items

INT_HARD = 2**62  # no int value, even intermediate, may exceed this
INT_SOFT = 2**40  # expressions are shrunk to this before being returned
INT_ASSIGN = 2**30  # plain assignments to int variables / int array elements
INT_READ = 2**31  # bound of an int array element (assign + aug growth budget)
INT_AUG = 2**16  # largest increment of `+=` on an int array element
DIM_MAX = 6  # input and local array dimensions are in [0, DIM_MAX]
COST_MAX = 3000  # statement executions per top-level call (bounds every aug growth)

SCALARS = ("int", "float", "f32", "bool")


@dataclass(frozen=True)
class Expr:
    text: str
    ty: str  # one of SCALARS
    bound: float = 0.0  # ints: max |value|
    atom: bool = False  # safe to use as an operand without parentheses
    weak: bool = False  # an int that is a plain Python int on every path (NEP 50 "weak")

    def p(self) -> str:
        return self.text if self.atom else f"({self.text})"


@dataclass
class Var:
    name: str
    ty: str
    read: float = 0.0  # int: bound of any value it may hold
    assign: float = 0.0  # int: bound a plain assignment must respect
    budget: float = 0.0  # int: growth left for `+=`-like statements (per call)
    mutable: bool = True
    weak: bool = False
    exact: bool = False  # float/f32: equal bit for bit under CPython and Ember (raises.py)


@dataclass
class ArrayVar:
    name: str
    dtype: str  # f64 | i64 | f32
    dims: tuple[str, ...]  # dimension symbols; "#k" is the constant k

    @property
    def elem_ty(self) -> str:
        return {"f64": "float", "i64": "int", "f32": "f32"}[self.dtype]


@dataclass
class Scope:
    vars: dict[str, Var] = field(default_factory=dict)
    arrays: dict[str, ArrayVar] = field(default_factory=dict)
    nonempty: set[str] = field(default_factory=set)  # dims known to be >= 1 here
    index: dict[str, list[str]] = field(default_factory=dict)  # dim -> valid index exprs
    loop: str | None = None  # "for" / "while" when directly inside a loop body
    mult: int = 1  # executions of this point per call of the function

    def child(self) -> Scope:
        return Scope(dict(self.vars), dict(self.arrays), set(self.nonempty),
                     {k: list(v) for k, v in self.index.items()}, self.loop, self.mult)


def lit_int(v: int) -> Expr:
    return Expr(str(v), "int", abs(v), atom=v >= 0, weak=True)


def lit_float(v: float) -> Expr:
    text = repr(v)
    return Expr(text, "float", atom=not text.startswith("-"))


def _consistent(mapping: dict[str, str], callee: tuple[str, ...], caller: tuple[str, ...]) -> bool:
    """Can the callee's dimension symbols map onto the caller's (a square stays square)?"""
    m = dict(mapping)
    return all(m.setdefault(s, t) == t for s, t in zip(callee, caller, strict=False))


@dataclass(frozen=True)
class Callee:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, kind): kind is a scalar or "f64[:]"-style
    dims: tuple[tuple[str, ...] | None, ...]  # per param: dim symbols of arrays
    ret: str
    cost: int
    exact: tuple[bool, ...] = ()  # per param: takes an exact value (raises.py)
    defaults: tuple[str | None, ...] = ()  # per param: its default's source (defaults.py)


class ExprGen:
    """Random typed expressions over the variables of `self.scope`."""

    def __init__(self, rng: random.Random, callees: list[Callee]):
        self.rng = rng
        self.scope = Scope()
        self.callees = callees
        self.cost = 0
        self.calls_allowed = True
        self.in_index = 0  # > 0 while building an index: keep it short, no guarded loads

    # --- helpers -------------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weighted: dict):
        keys = [k for k, w in weighted.items() if w > 0]
        return self.rng.choices(keys, [weighted[k] for k in keys])[0]

    def vars_of(self, ty: str, mutable: bool = False) -> list[Var]:
        return [v for v in self.scope.vars.values()
                if v.ty == ty and (v.mutable or not mutable)]

    def arrays_of(self, dtype: str | None = None) -> list[ArrayVar]:
        return [a for a in self.scope.arrays.values() if dtype is None or a.dtype == dtype]

    def expr(self, ty: str, depth: int = 2) -> Expr:
        return {"int": self.int_expr, "float": self.float_expr,
                "f32": self.f32_expr, "bool": self.bool_expr}[ty](depth)

    # --- int shrinking -------------------------------------------------------------------
    def shrink(self, e: Expr, limit: float) -> Expr:
        """An expression equal to a reduction of `e` with |value| <= limit."""
        if e.bound <= limit:
            return e
        kind = self.pick({"mod": 4, "and": 2, "shift": 1, "clamp": 2, "negmod": 1})
        k = max(2, min(int(limit), self.rng.choice([7, 10, 16, 97, 255, 1000, 4096, 65536])))
        if kind == "mod":
            return Expr(f"{e.p()} % {k}", "int", k - 1)
        if kind == "negmod":
            return Expr(f"{e.p()} % -{k}", "int", k - 1)
        if kind == "and":
            m = (1 << (k.bit_length() - 1)) - 1
            return Expr(f"{e.p()} & {hex(m) if self.chance(0.5) else m}", "int", m)
        if kind == "shift":
            s = max(1, math.ceil(math.log2(e.bound / limit)) + 1)
            if s < 63:
                return Expr(f"{e.p()} >> {s}", "int", math.ceil(e.bound / 2**s))
        return Expr(f"max(-{k}, min({e.text}, {k}))", "int", k, atom=True)

    # --- ints ----------------------------------------------------------------------------
    def int_atom(self) -> Expr:
        kinds = {"lit": 1.5, "var": 8, "len": 2, "load": 4, "call": 1}
        kind = self.pick(kinds)
        vs = self.vars_of("int")
        if kind == "var" and vs:
            v = self.rng.choice(vs)
            return Expr(v.name, "int", v.read, atom=True, weak=v.weak)
        if kind == "len" and self.scope.arrays:
            a = self.rng.choice(list(self.scope.arrays.values()))
            return self.dim_expr(a, self.rng.randrange(len(a.dims)))
        if kind == "load":
            e = self.load(self.arrays_of("i64"))
            if e is not None:
                return e
        if kind == "call":
            e = self.call_expr("int")
            if e is not None:
                return e
        return lit_int(self.rng.choice([0, 1, 2, 3, 5, 7, 10, -1, -3, 100, 255, -12]))

    def dim_expr(self, a: ArrayVar, axis: int) -> Expr:
        if a.dims[axis].startswith("#") and self.chance(0.3):
            return lit_int(int(a.dims[axis][1:]))
        options = [f"{a.name}.shape[{axis}]"]
        if axis == 0:
            options.append(f"len({a.name})")
        if len(a.dims) == 1:
            options.append(f"{a.name}.size")
        return Expr(self.rng.choice(options), "int", DIM_MAX * DIM_MAX, atom=True, weak=True)

    def int_expr(self, depth: int = 2) -> Expr:
        if depth <= 0 or self.chance(0.35 + 0.4 * bool(self.in_index)):
            return self.int_atom()
        op = self.pick({"+": 4, "-": 3, "*": 3, "//": 2, "%": 3, "&": 1, "|": 1, "^": 1,
                        "<<": 1, ">>": 1, "unary": 2, "minmax": 2, "pow": 1, "ifexp": 2,
                        "float": 2, "bool": 1})
        d = depth - 1
        if op in "+-&|^":
            a, b = self.int_expr(d), self.int_expr(d)
            bound = a.bound + b.bound + (1 if op in "&|^" else 0)
            e = Expr(f"{a.p()} {op} {b.p()}", "int", bound)
        elif op == "*":
            a, b = self.shrink(self.int_expr(d), 2**30), self.shrink(self.int_expr(d), 2**30)
            e = Expr(f"{a.p()} * {b.p()}", "int", a.bound * b.bound)
        elif op in ("//", "%"):
            a, dv = self.int_expr(d), self.int_divisor(d)
            bound = a.bound if op == "//" else dv.bound
            e = Expr(f"{a.p()} {op} {dv.p()}", "int", bound)
        elif op in ("<<", ">>"):
            a, s = self.shrink(self.int_expr(d), 2**40), self.rng.randrange(0, 9)
            e = Expr(f"{a.p()} {op} {s}", "int", a.bound * (2**s if op == "<<" else 1))
        elif op == "unary":
            a = self.int_expr(d)
            form = self.rng.choice(["-{}", "~{}", "abs({})", "+{}"])
            e = Expr(form.format(a.text if form == "abs({})" else a.p()), "int", a.bound + 1,
                     atom=form == "abs({})")
        elif op == "minmax":
            e = self.minmax([self.int_expr(d) for _ in range(self.rng.choice([2, 2, 2, 3]))])
        elif op == "pow":
            k = self.rng.choice([0, 1, 2, 2, 3])
            a = self.shrink(self.int_expr(d), 2**13)
            e = Expr(f"{a.p()} ** {k}", "int", max(1, a.bound) ** k)
        elif op == "ifexp":
            a, b, c = self.int_expr(d), self.int_expr(d), self.bool_expr(d)
            e = Expr(f"{a.p()} if {c.p()} else {b.p()}", "int", max(a.bound, b.bound))
        elif op == "float":
            e = self.int_of_float(d)
        else:
            c = self.bool_expr(d)
            e = Expr(f"int({c.text})", "int", 1, atom=True)
        return self.shrink(e, INT_SOFT)

    def int_divisor(self, depth: int, limit: float = INT_SOFT) -> Expr:
        """A nonzero int expression (possibly negative) with |value| <= limit."""
        form = self.pick({"lit": 3, "or1": 2, "ifz": 2, "abs1": 2, "mod1": 1})
        if form == "lit" or limit < 16:
            return lit_int(self.rng.choice([2, 3, 4, 7, 10, -2, -3, -5, 1, -1]))
        a = self.shrink(self.pure(form == "ifz", lambda: self.int_expr(depth)), limit - 1)
        if form == "or1":
            return Expr(f"{a.p()} | 1", "int", a.bound + 1)
        if form == "ifz":
            return Expr(f"{a.p()} if {a.p()} != 0 else 1", "int", max(a.bound, 1))
        if form == "abs1":
            return Expr(f"abs({a.text}) + 1", "int", a.bound + 1)
        k = self.rng.choice([3, 5, 8])
        return Expr(f"{a.p()} % {k} + 1", "int", k)

    def int_of_float(self, depth: int) -> Expr:
        x = self.float_expr(depth) if self.chance(0.85) else self.f32_expr(depth)
        lim = self.rng.choice([1000.0, 1e6, 1e9]) if x.ty == "float" else 1e6
        c = self.clamp(x, lim)
        fns = ["int", "int", "round", "math.floor", "math.ceil", "math.trunc"]
        fn = self.rng.choice(fns if x.ty == "float" else fns[:-1])  # no np.float32.__trunc__
        return Expr(f"{fn}({c.text})", "int", lim + 1, atom=True)

    def clamp(self, x: Expr, lim: float) -> Expr:
        """A finite float in [-lim, lim]; nan maps to lim (Python's min keeps its first arg)."""
        return Expr(f"max(-{lim!r}, min({lim!r}, {x.text}))", x.ty, atom=True)

    def minmax(self, items: list[Expr]) -> Expr:
        fn = self.rng.choice(["min", "max"])
        bound = max(e.bound for e in items)
        return Expr(f"{fn}({', '.join(e.text for e in items)})", items[0].ty, bound, atom=True)

    # --- floats --------------------------------------------------------------------------
    def float_atom(self) -> Expr:
        kind = self.pick({"lit": 1.5, "var": 8, "load": 5, "conv": 1, "const": 0.5, "call": 1})
        vs = self.vars_of("float")
        if kind == "var" and vs:
            return Expr(self.rng.choice(vs).name, "float", atom=True)
        if kind == "load":
            e = self.load(self.arrays_of("f64"))
            if e is not None:
                return e
        if kind == "conv":
            src = self.f32_atom() if self.chance(0.4) else self.int_atom()
            return Expr(f"float({src.text})", "float", atom=True)
        if kind == "const":
            return Expr(self.rng.choice(["math.pi", "math.e", "math.tau", "math.inf"]),
                        "float", atom=True)
        if kind == "call":
            e = self.call_expr("float")
            if e is not None:
                return e
        return lit_float(self.rng.choice([0.0, 1.0, 0.5, 2.0, -1.5, 0.25, 3.0, 1e-3, 10.0,
                                          -0.0, 0.1, 2.5, -4.0, 1e3]))

    def float_expr(self, depth: int = 2) -> Expr:
        if depth <= 0 or self.chance(0.35):
            return self.float_atom()
        op = self.pick({"+": 4, "-": 3, "*": 4, "/": 3, "//": 1, "%": 1, "mixed": 2,
                        "intdiv": 1, "unary": 2, "minmax": 2, "pow": 1, "math": 5, "np": 1,
                        "ifexp": 2, "boolmul": 1, "complex": 1})
        d = depth - 1
        if op in "+-*":
            a, b = self.float_expr(d), self.float_expr(d)
            return Expr(f"{a.p()} {op} {b.p()}", "float")
        if op in ("/", "//", "%"):
            a, dv = self.float_expr(d), self.float_divisor(d)
            return Expr(f"{a.p()} {op} {dv.p()}", "float")
        if op == "mixed":
            a, b = self.float_expr(d), self.shrink(self.int_expr(d), 2**52)
            sym = self.rng.choice("+-*")
            return Expr(f"{a.p()} {sym} {b.p()}" if self.chance(0.5) else
                        f"{b.p()} {sym} {a.p()}", "float")
        if op == "intdiv":
            a = self.shrink(self.int_expr(d), 2**52)
            b = self.int_divisor(d)
            return Expr(f"{a.p()} / {b.p()}", "float")
        if op == "unary":
            a = self.float_expr(d)
            return (Expr(f"-{a.p()}", "float") if self.chance(0.5)
                    else Expr(f"abs({a.text})", "float", atom=True))
        if op == "minmax":
            return self.minmax([self.float_expr(d) for _ in range(self.rng.choice([2, 2, 3]))])
        if op == "pow":
            return self.float_pow(d)
        if op == "math":
            return self.math_call(d)
        if op == "np":
            return self.np_call(d)
        if op == "complex":  # through complex intermediates (complexes.py)
            return complex_float(self, d)
        if op == "ifexp":
            a, b, c = self.float_expr(d), self.float_expr(d), self.bool_expr(d)
            return Expr(f"{a.p()} if {c.p()} else {b.p()}", "float")
        c = self.bool_expr(d)
        return Expr(f"{self.float_expr(d).p()} * {c.p()}", "float")

    def pure(self, needed: bool, make: Any) -> Expr:
        """An expression from `make`, without kernel calls when `needed`: the `ifz` guards
        evaluate their operand twice, and a call may mutate arrays between the two."""
        allowed = self.calls_allowed
        self.calls_allowed = allowed and not needed
        try:
            return make()
        finally:
            self.calls_allowed = allowed

    def float_divisor(self, depth: int) -> Expr:
        """A float expression that is never 0 (it may be nan or inf)."""
        form = self.pick({"abs": 3, "ifz": 2, "lit": 2, "copysign": 1})
        a = self.pure(form == "ifz", lambda: self.float_expr(depth))
        if form == "abs":
            return Expr(f"abs({a.text}) + {self.rng.choice(['1.0', '0.5', '1e-3'])}", "float")
        if form == "ifz":
            return Expr(f"{a.p()} if {a.p()} != 0.0 else 1.0", "float")
        if form == "copysign":
            return Expr(f"math.copysign(abs({a.text}) + 1.0, {a.text})", "float", atom=True)
        return lit_float(self.rng.choice([2.0, 3.0, -1.5, 0.5, 7.0, -4.0]))

    def float_pow(self, depth: int) -> Expr:
        a = self.float_expr(depth)
        form = self.rng.choice(["sqrt", "sq", "cube", "neg", "intexp", "mathpow"])
        if form == "sqrt":
            return Expr(f"abs({a.text}) ** 0.5", "float")
        if form == "sq":
            return Expr(f"{self.clamp(a, 1e100).text} ** 2", "float")
        if form == "cube":
            return Expr(f"{self.clamp(a, 1e6).text} ** 3.0", "float")
        if form == "neg":
            return Expr(f"(abs({a.text}) + 1.0) ** -1.5", "float")
        if form == "intexp":
            return Expr(f"{self.clamp(a, 1e3).text} ** {self.rng.choice([0, 1, 2, 3, 4])}",
                        "float")
        exp = self.rng.choice(["2.0", "3.0", "0.5", "1.5"])
        base = self.clamp(a, 1e3).text if exp in ("2.0", "3.0") else f"abs({a.text})"
        return Expr(f"math.pow({base}, {exp})", "float", atom=True)

    MATH_1 = {
        "sin": "c", "cos": "c", "tan": "c", "atan": "", "tanh": "", "asinh": "", "sinh": "s",
        "cosh": "s", "exp": "e", "expm1": "e", "log": "a1", "log1p": "a", "log2": "a1",
        "log10": "a1", "sqrt": "a", "cbrt": "", "fabs": "", "erf": "", "erfc": "",
        "asin": "u", "acos": "u", "acosh": "a1", "atanh": "h",
    }
    # CPython's math.gamma/lgamma are its own code, not libm's, and numpy's tanh is its own
    # SIMD code: they differ from libm by an ulp, which a later `%`, comparison or int()
    # can blow up. So they appear only in `terminal_call`, whose value nothing reuses.
    TERMINAL = {"math.lgamma": "a5", "math.gamma": "g", "np.tanh": ""}

    def guard(self, a: Expr, how: str) -> str:
        t = a.text
        return {
            "": t,
            "c": self.clamp(a, self.rng.choice([10.0, 1e3, 1e6])).text,  # sin(inf) raises
            "s": f"max(-30.0, min(30.0, {t}))",
            "e": f"min({t}, {self.rng.choice(['50.0', '20.0', '1.0'])})",
            "a": f"abs({t})",
            "a1": f"abs({t}) + 1.0",
            "a5": f"abs({t}) + 2.5",  # lgamma: past its zeros at 1 and 2 (relative error)
            "u": self.rng.choice([f"math.tanh({t})", f"max(-1.0, min(1.0, {t}))",
                                  f"math.sin({self.clamp(a, 100.0).text})"]),
            "h": f"math.tanh({t}) * 0.5",
            "g": f"max(-20.0, min(20.0, abs({t}))) + 0.25",
        }[how]

    def math_call(self, depth: int) -> Expr:
        kind = self.pick({"one": 8, "two": 2, "f32": 1})
        if kind == "two":
            fn = self.rng.choice(["atan2", "hypot", "copysign", "fmod"])
            a, b = self.float_expr(depth - 1), self.float_expr(depth - 1)
            if fn == "fmod":
                return Expr(f"math.fmod({self.clamp(a, 1e6).text}, abs({b.text}) + 1.0)",
                            "float", atom=True)
            return Expr(f"math.{fn}({a.text}, {b.text})", "float", atom=True)
        fn = self.rng.choice(sorted(self.MATH_1))
        a = self.f32_expr(depth - 1) if kind == "f32" else self.float_expr(depth - 1)
        return Expr(f"math.{fn}({self.guard(a, self.MATH_1[fn])})", "float", atom=True)

    NP_1 = {"sin": "", "cos": "", "exp": "e", "sqrt": "a", "log1p": "a",
            "floor": "", "ceil": "", "trunc": "", "fabs": "", "arctan": ""}

    def terminal_call(self) -> Expr:
        fn = self.rng.choice(sorted(self.TERMINAL))
        return Expr(f"{fn}({self.guard(self.float_expr(1), self.TERMINAL[fn])})", "float",
                    atom=True)

    def np_call(self, depth: int) -> Expr:
        fn = self.rng.choice(sorted(self.NP_1))
        a = self.float_expr(depth - 1)
        return Expr(f"np.{fn}({self.guard(a, self.NP_1[fn])})", "float", atom=True)

    # --- f32 -----------------------------------------------------------------------------
    def f32_atom(self) -> Expr:
        kind = self.pick({"var": 5, "load": 5, "cast": 1})
        vs = self.vars_of("f32")
        if kind == "var" and vs:
            return Expr(self.rng.choice(vs).name, "f32", atom=True)
        if kind == "load":
            e = self.load(self.arrays_of("f32"))
            if e is not None:
                return e
        if self.chance(0.3):
            return Expr(f"np.float32({self.rng.choice(['0.0', '1.0', '0.1', '2.5', '-3.0'])})",
                        "f32", atom=True)
        return Expr(f"np.float32({self.float_expr(1).text})", "f32", atom=True)

    def has_f32(self) -> bool:
        return bool(self.vars_of("f32") or self.arrays_of("f32"))

    def weak_operand(self) -> Expr:
        """A Python literal or range index: NEP 50 leaves an f32 partner f32."""
        weak = [v for v in self.vars_of("int") if v.weak]
        if weak and self.chance(0.4):
            return Expr(self.rng.choice(weak).name, "int", atom=True)
        if self.chance(0.5):
            return lit_int(self.rng.choice([1, 2, 3, -1, 10]))
        return lit_float(self.rng.choice([0.5, 2.0, -1.25, 0.1, 3.0]))

    def f32_expr(self, depth: int = 2) -> Expr:
        if depth <= 0 or self.chance(0.3):
            return self.f32_atom()
        d = depth - 1
        op = self.pick({"ff": 4, "fw": 3, "unary": 1, "minmax": 1, "div": 1, "ifexp": 1,
                        "pow": 1})
        a = self.f32_expr(d)
        if op in ("ff", "fw"):
            b = self.f32_expr(d) if op == "ff" else self.weak_operand()
            sym = self.rng.choice("+-*")
            return Expr(f"{a.p()} {sym} {b.p()}" if self.chance(0.6) else
                        f"{b.p()} {sym} {a.p()}", "f32")
        if op == "unary":
            return (Expr(f"-{a.p()}", "f32") if self.chance(0.5)
                    else Expr(f"abs({a.text})", "f32", atom=True))
        if op == "minmax":
            return self.minmax([a, self.f32_expr(d)])
        if op == "div":
            b = self.f32_expr(d)
            sym = self.rng.choice(["/", "/", "//", "%"])
            return Expr(f"{a.p()} {sym} (abs({b.text}) + 1.0)", "f32")
        if op == "pow":  # numpy float32 overflows to inf instead of raising
            return Expr(f"{a.p()} ** 2" if self.chance(0.6) else f"abs({a.text}) ** 0.5", "f32")
        b, c = self.f32_expr(d), self.bool_expr(d)
        return Expr(f"{a.p()} if {c.p()} else {b.p()}", "f32")

    # --- bools ---------------------------------------------------------------------------
    CMP = ["<", "<=", ">", ">=", "==", "!="]

    def compare(self, depth: int) -> Expr:
        kind = self.pick({"int": 4, "float": 4, "mixed": 1, "f32": 1 if self.has_f32() else 0.1,
                          "chain": 1})
        if kind == "f32":
            a, b = self.f32_expr(depth), (self.f32_expr(depth) if self.chance(0.5)
                                         else self.weak_operand())
        elif kind == "float":
            a, b = self.float_expr(depth), self.float_expr(depth)
        elif kind == "mixed":
            a, b = self.float_expr(depth), self.shrink(self.int_expr(depth), 2**52)
        else:
            a, b = self.int_expr(depth), self.int_expr(depth)
        text = f"{a.p()} {self.rng.choice(self.CMP)} {b.p()}"
        if kind == "chain":
            c = self.int_expr(depth)
            text += f" {self.rng.choice(['<', '<=', '!='])} {c.p()}"
        return Expr(text, "bool")

    def bool_expr(self, depth: int = 2) -> Expr:
        vs = self.vars_of("bool")
        if depth <= 0:
            if vs and self.chance(0.5):
                return Expr(self.rng.choice(vs).name, "bool", atom=True)
            return self.compare(0)
        op = self.pick({"cmp": 6, "var": 2 if vs else 0, "not": 1, "and": 2, "or": 2,
                        "isfn": 1, "bool": 1, "call": 1, "lit": 0.2})
        d = depth - 1
        if op == "var":
            return Expr(self.rng.choice(vs).name, "bool", atom=True)
        if op == "not":
            return Expr(f"not {self.bool_expr(d).p()}", "bool")
        if op in ("and", "or"):
            a, b = self.bool_expr(d), self.bool_expr(d)
            return Expr(f"{a.p()} {op} {b.p()}", "bool")
        if op == "isfn":
            fn = self.rng.choice(["isnan", "isinf", "isfinite"])
            return Expr(f"math.{fn}({self.float_expr(d).text})", "bool", atom=True)
        if op == "bool":
            return Expr(f"bool({self.int_expr(d).text})", "bool", atom=True)
        if op == "call":
            e = self.call_expr("bool")
            if e is not None:
                return e
        if op == "lit":
            return Expr(self.rng.choice(["True", "False"]), "bool", atom=True)
        return self.compare(d)

    # --- arrays --------------------------------------------------------------------------
    def index_text(self, a: ArrayVar, axis: int) -> str | None:
        """A valid index into axis `axis` of `a`, or None if the axis may be empty here."""
        sym = a.dims[axis]
        known = self.scope.index.get(sym, [])
        length = self.dim_expr(a, axis).text
        if known and self.chance(0.7):
            v = self.rng.choice(known)
            form = self.pick({"pos": 6, "neg": 1, "neg2": 1})
            if form == "neg":
                return f"{v} - {length}"
            if form == "neg2":
                return f"-1 - {v}" if v.isidentifier() else f"-1 - ({v})"
            return v
        if sym in self.scope.nonempty or (sym.startswith("#") and sym != "#0"):
            form = self.pick({"mod": 5, "zero": 1, "last": 1, "negmod": 1, "lenm1": 1})
            if form == "zero":
                return "0"
            if form == "last":
                return "-1"
            if form == "lenm1":
                return f"{length} - 1"
            self.in_index += 1
            e = self.int_expr(1)
            self.in_index -= 1
            if form == "negmod":
                return f"-({e.p()} % {length}) - 1"
            return f"{e.p()} % {length}"
        return None

    def nonempty_test(self, a: ArrayVar) -> str:
        if len(a.dims) == 1:
            return self.rng.choice([f"len({a.name}) > 0", f"{a.name}.size > 0",
                                    f"{a.name}.shape[0] != 0"])
        return self.rng.choice([f"{a.name}.size > 0",
                                f"{a.name}.shape[0] > 0 and {a.name}.shape[1] > 0"])

    def load(self, arrays: list[ArrayVar]) -> Expr | None:
        if not arrays:
            return None
        a = self.rng.choice(arrays)
        ty = a.elem_ty
        bound = INT_READ if ty == "int" else 0.0
        idx = [self.index_text(a, k) for k in range(len(a.dims))]
        if None not in idx:
            return Expr(f"{a.name}[{', '.join(idx)}]", ty, bound, atom=True)
        if self.in_index:
            return None
        # Unknown emptiness: guard with a conditional expression (must short-circuit).
        saved = self.scope.nonempty
        self.scope.nonempty = saved | set(a.dims)
        idx = [self.index_text(a, k) for k in range(len(a.dims))]
        self.scope.nonempty = saved
        default = {"int": "0", "float": "0.0", "f32": "np.float32(0.0)"}[ty]
        return Expr(f"{a.name}[{', '.join(idx)}] if {self.nonempty_test(a)} else {default}",
                    ty, bound)

    # --- calls ---------------------------------------------------------------------------
    def call_expr(self, ret: str) -> Expr | None:
        cands = [c for c in self.callees if c.ret == ret]
        if not cands or not self.calls_allowed:
            return None
        c = self.rng.choice(cands)
        args = self.call_args(c)
        if args is None:
            return None
        bound = INT_ASSIGN if ret == "int" else 0.0
        return Expr(f"{c.name}({', '.join(args)})", ret, bound, atom=True)

    def call_args(self, c: Callee) -> list[str] | None:
        """Arguments for a call of `c`, or None if it is too costly or no arrays fit."""
        if self.cost + c.cost * self.scope.mult > COST_MAX:
            return None
        mapping: dict[str, str] = {}
        args = []
        exact = c.exact or (False,) * len(c.params)
        for (_, kind), dims, ex in zip(c.params, c.dims, exact, strict=False):
            if kind.endswith(" | None") and self.chance(0.3):  # Optional (defaults.py)
                args.append("None")
                continue
            kind = kind.removesuffix(" | None")
            if dims is None:
                args.append(self.exact_expr(kind).text if ex else self.scalar_arg(kind))
                continue
            fits = [a for a in self.scope.arrays.values()
                    if f"{a.dtype}[{', '.join(':' * len(a.dims))}]" == kind
                    and _consistent(mapping, dims, a.dims)]
            if not fits:
                return None
            a = self.rng.choice(fits)
            mapping.update(zip(dims, a.dims, strict=False))
            args.append(a.name)
        self.cost += c.cost * self.scope.mult
        if any(c.defaults):  # positional, by keyword or left out (defaults.py)
            items = arrange(self.rng, [n for n, _ in c.params], list(c.defaults), args)
            return [call_text([x]) for x in items]
        return args

    def scalar_arg(self, kind: str) -> str:
        if kind == "int":
            return self.shrink(self.int_expr(1), 1000).text
        if kind in ("float", "bool", "f32"):
            return self.expr(kind, 1).text
        if kind.startswith("tuple["):
            return f"({', '.join(self.scalar_arg(k) for k in tuple_items(kind))})"
        raise AssertionError(kind)
