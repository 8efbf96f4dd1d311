"""Complex statements of the fuzzer: complex locals and arrays built from float expressions,
complex arithmetic, and the floats that come back (`z.real`, `z.imag`, `abs(z)`).
(complexes.py puts complex intermediates inside float expressions.)

Every complex value has a static bound on its modulus: its sources are clamped floats
(`complex(max(-1e3, min(1e3, x)), ...)`), so no value is ever inf or nan and CPython never
raises (no zero divisor, no overflow in `**` or `cmath.exp`). A variable keeps the bound it
was declared with; a reassignment (also in a loop, also `z = z * 0.5 + w`) must fit it.

Exactness: `+ - *`, `-z`, `.conjugate()`, `complex(x, y)`, `x + 1j * y`, `.real`, `.imag`,
`abs` (hypot) and `==` give bit-identical results in CPython and Ember, so their floats flow
into the program's float variables like any other. Division (CPython divides, NumPy's
algorithm multiplies by a reciprocal), `**` and `cmath.exp/sqrt` may differ in the last ulp:
values built with them ("inexact") are made only at the function's top level, and the floats
taken from them (`SINKS`) only reach the final `return` of a float function, where the
comparison tolerance absorbs an ulp (as for generator.py's terminal calls).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.fuzz.exprs import ArrayVar, Expr, Var

LIMIT = 1e3  # |float| going into a complex value
BOUND_MAX = 1e60  # no complex modulus bound may exceed this (products stay finite)
CLITS = {"1j": 1.0, "(0.5-2j)": 2.1, "(1.5+0.25j)": 1.6, "-1j": 1.0, "(0.6+0.8j)": 1.01}


@dataclass(frozen=True)
class CExpr:
    text: str
    bound: float
    exact: bool
    atom: bool = False

    def p(self) -> str:
        return self.text if self.atom else f"({self.text})"


class ComplexMixin:
    """Mixed into FunctionGen: st_complex (kinds in `complex_kinds`)."""

    def complex_kinds(self) -> dict[str, float]:
        has = bool(self.cvars())
        return {"cnew": 1.5, "cback": 2 if has else 0, "cset": 1 if has else 0,
                "carr": 0.6 if self.depth == 0 else 0,
                "cstore": 1.5 if self.carrays() else 0}

    def cvars(self, exact: bool = False) -> list[Var]:
        return [v for v in self.scope.vars.values() if v.ty == "complex"
                and (self.cinfo[v.name][1] or not exact)]

    def carrays(self) -> list[Var]:
        return [v for v in self.scope.vars.values() if v.ty == "c128[:]"]

    def top(self) -> bool:
        return self.indent == 1 and self.depth == 0

    # --- expressions ---------------------------------------------------------------------
    def cfloat(self) -> Expr:
        return self.clamp(self.float_expr(self.rng.choice([0, 1, 1])), LIMIT)

    def catom(self, exact: bool) -> CExpr:
        vs = self.cvars(exact)
        kind = self.pick({"var": 4 if vs else 0, "make": 2, "plus": 1.5, "lit": 1, "one": 0.5,
                          "load": 1.5 if self.carrays() else 0})
        if kind == "var":
            v = self.rng.choice(vs)
            bound, ex, _ = self.cinfo[v.name]
            return CExpr(v.name, bound, ex, atom=True)
        if kind == "load":
            v = self.rng.choice(self.carrays())
            arr = ArrayVar(v.name, "f64", self.cinfo[v.name][2])
            idx = self.index_text(arr, 0)
            return CExpr(f"{v.name}[{idx}]", self.cinfo[v.name][0], True, atom=True)
        if kind == "lit":
            text = self.rng.choice(sorted(CLITS))
            return CExpr(text, CLITS[text], True, atom=not text.startswith("-"))
        x, y = self.cfloat(), self.cfloat()
        if kind == "make":
            return CExpr(f"complex({x.text}, {y.text})", 2 * LIMIT, True, atom=True)
        if kind == "one":
            return CExpr(f"complex({x.text})", LIMIT, True, atom=True)
        return CExpr(f"{x.text} + 1j * {y.text}", 2 * LIMIT, True)

    def cexpr(self, depth: int, exact: bool) -> CExpr:
        if depth <= 0 or self.chance(0.35):
            return self.catom(exact)
        d = depth - 1
        ops = {"+": 3, "-": 2, "*": 3, "neg": 1, "conj": 1, "fmul": 1.5,
               "/": 0 if exact else 1.5, "pow": 0 if exact else 1,
               "exp": 0 if exact else 1, "sqrt": 0 if exact else 1}
        op = self.pick(ops)
        a = self.cexpr(d, exact)
        if op in "+-*":
            b = self.cexpr(d, exact)
            bound = a.bound * b.bound if op == "*" else a.bound + b.bound
            if bound > BOUND_MAX:
                return a
            return CExpr(f"{a.p()} {op} {b.p()}", bound, a.exact and b.exact)
        if op == "neg":
            return CExpr(f"-{a.p()}", a.bound, a.exact)
        if op == "conj":
            return CExpr(f"{a.p()}.conjugate()", a.bound, a.exact, atom=True)
        if op == "fmul":
            x = self.cfloat()
            return CExpr(f"{a.p()} * {x.text}" if self.chance(0.5) else f"{x.text} * {a.p()}",
                         a.bound * LIMIT, a.exact)
        return self.inexact(op, a, d)

    def inexact(self, op: str, a: CExpr, d: int) -> CExpr:
        if op == "/":  # the divisor's real part is >= 1
            b = self.cexpr(d, False)
            div = f"({b.p()} + (2.0 * abs({b.text}) + 1.0))"
            return CExpr(f"{a.p()} / {div}", a.bound, False)
        if op == "pow":
            k = self.rng.choice([2, 2, 3, -1, 0, 1])
            if k == -1 or a.bound ** max(k, 1) > BOUND_MAX:
                return CExpr(f"{a.p()} ** 2", a.bound ** 2, False) if a.bound ** 2 < \
                    BOUND_MAX else a
            return CExpr(f"{a.p()} ** {k}", max(a.bound ** k, 1.0), False)
        if op == "exp":
            return CExpr(f"cmath.exp(complex(min({a.p()}.real, 20.0), {a.p()}.imag))",
                         5e8, False, atom=True)
        return CExpr(f"cmath.sqrt({a.text})", a.bound ** 0.5 + 1.0, False, atom=True)

    # --- statements ----------------------------------------------------------------------
    def declare(self, name: str, e: CExpr) -> None:
        bound = max(e.bound, 4 * LIMIT * LIMIT)
        self.scope.vars[name] = Var(name, "complex", mutable=False)
        self.cinfo[name] = (bound, e.exact, ())

    def rooted(self, depth: int, exact: bool) -> CExpr:
        """A complex expression; when not `exact`, often one whose last step is inexact."""
        if exact or self.chance(0.5):
            return self.cexpr(depth, exact)
        op = self.rng.choice(["/", "pow", "exp", "sqrt"])
        return self.inexact(op, self.cexpr(depth - 1, False), depth - 1)

    def st_cnew(self) -> None:
        e = self.rooted(self.rng.choice([1, 2, 2, 3]), exact=not self.top())
        name = self.fresh("z")
        self.emit(f"{name}: complex = {e.text}" if self.chance(0.1) else f"{name} = {e.text}")
        self.declare(name, e)
        if not e.exact:
            sink = self.fresh("sk")
            self.emit(f"{sink} = {self.rng.choice(['abs({})', '{}.real', '{}.imag'])}"
                      .format(name))
            self.sinks.append(sink)

    def st_cset(self) -> None:
        """Reassign (or augment) an exact complex variable with a value inside its bound."""
        vs = self.cvars(exact=True)
        if not vs:
            return self.st_cnew()
        v = self.rng.choice(vs)
        bound = self.cinfo[v.name][0]
        e = self.cexpr(self.rng.choice([1, 2]), exact=True)
        if self.chance(0.3) and e.bound + bound <= bound * 1.0:
            return None
        forms = [(f"{v.name} = {e.text}", e.bound),
                 (f"{v.name} = {v.name} * 0.5 + {e.p()}", 0.5 * bound + e.bound),
                 (f"{v.name} *= {self.rng.choice(['0.5', '1j', '-0.25'])}", bound),
                 (f"{v.name} = {v.name}.conjugate()", bound)]
        text, b = self.rng.choice(forms)
        if b <= bound:
            self.emit(text)

    def st_cback(self) -> None:
        """A float (or bool) from a complex value: into the float variables if exact, else
        into a sink the final return adds."""
        exact = not self.top() or self.chance(0.6)
        e = self.rooted(self.rng.choice([0, 1, 2]), exact)
        form = self.pick({"real": 3, "imag": 3, "abs": 2, "eq": 0.5 if e.exact else 0})
        if form == "eq":
            b = self.cexpr(1, True)
            return self.define("bool", Expr(f"{e.p()} {self.rng.choice(['==', '!='])} {b.p()}",
                                            "bool"))
        text = f"abs({e.text})" if form == "abs" else f"{e.p()}.{form}"
        if not e.exact:
            name = self.fresh("sk")
            self.emit(f"{name} = {text}")
            self.sinks.append(name)
            return None
        fs = self.vars_of("float", mutable=True)
        if fs and self.chance(0.4):
            self.emit(f"{self.rng.choice(fs).name} = {text}")
        else:
            self.define("float", Expr(text, "float", atom=True))

    def st_carr(self) -> None:
        k = self.rng.choice([1, 2, 3, 4])
        name = self.fresh("ca")
        self.emit(f"{name} = np.zeros({k}, dtype=np.complex128)")
        self.scope.vars[name] = Var(name, "c128[:]", mutable=False)
        self.cinfo[name] = (4 * LIMIT * LIMIT, True, (f"#{k}",))

    def st_cstore(self) -> None:
        v = self.rng.choice(self.carrays())
        bound = self.cinfo[v.name][0]
        idx = self.index_text(ArrayVar(v.name, "f64", self.cinfo[v.name][2]), 0)
        e = self.cexpr(self.rng.choice([1, 2]), exact=True)
        if self.chance(0.2):
            self.emit(f"{v.name}[{idx}] = {self.cfloat().text}")
        elif self.chance(0.2):
            self.emit(f"{v.name}[{idx}] *= {self.rng.choice(['0.5', '1j', '-1.0'])}")
        elif e.bound <= bound:
            self.emit(f"{v.name}[{idx}] = {e.text}")

    def sink_terms(self) -> str:
        """` + sk3 + sk7`: the inexact floats, for the final return of a float function."""
        return "".join(f" + {name}" for name in self.sinks)
