"""Loop statements of the fuzzer: for-range loops of every shape and bounded while loops.

Each loop knows an upper bound on its trip count, which multiplies the cost of its body
(`Scope.mult`), and which facts hold inside: a dimension that is >= 1, and index expressions
that are in range for it (`i`, `i - 1`, `w - 1`, ...).
"""

from __future__ import annotations

from tests.fuzz.exprs import COST_MAX, DIM_MAX, Var


class LoopMixin:
    """Mixed into FunctionGen: st_for and st_while."""

    def loop_var(self) -> tuple[str, Var | None]:
        """A fresh name, or (rarely) an existing int variable reused as the loop variable."""
        reuse = [v for v in self.vars_of("int", mutable=True) if v.read >= 64]
        if reuse and self.chance(0.1):
            v = self.rng.choice(reuse)
            return v.name, v
        name = self.fresh("i")
        if self.chance(0.15):  # assigned before the loop, read after it (zero-trip case)
            self.emit(f"{name} = -1")
            var = Var(name, "int", read=2**20, assign=2**20, budget=0)
            self.scope.vars[name] = var
            return name, var
        return name, None

    def dim_range(self, kind: str, length: str) -> tuple[str, list[str]]:
        """range(...) arguments over a dimension and the index expressions valid inside."""
        step = self.rng.choice(["2", "3", f"{self.int_expr(1).p()} % 3 + 1",
                                f"abs({self.int_expr(1).text}) % 4 + 1"])
        return {
            "dim": (length, ["{i}"]),
            "dimrev": (f"{length} - 1, -1, -1", ["{i}"]),
            "dimfrom": (f"1, {length}", ["{i}", "{i} - 1"]),
            "dimupto": (f"{length} - 1", ["{i}", "{i} + 1"]),
            "dimstep": (f"0, {length}, {step}", ["{i}"]),
            "dimnegstep": (f"{length} - 1, -1, -({step})", ["{i}"]),
            "dimneg2": (f"{length} - 1, 0, -2", ["{i}", "{i} - 1"]),
        }[kind]

    def other_range(self, kind: str) -> tuple[str, int]:
        """range(...) arguments not tied to an array, and a bound on the trip count."""
        if kind == "const":
            k = self.rng.choice([0, 1, 2, 3, 4, 5])
            return (str(k), k) if self.chance(0.7) else (f"0, {k}", k)
        if kind == "literal":
            return self.rng.choice([("-3, 4", 7), ("5, -2, -2", 4), ("10, 0, -3", 4),
                                    ("2, 9, 3", 3), ("-1, -6, -1", 5), ("4, 4", 0)])
        e = self.int_expr(1)
        if kind == "expr":
            return self.rng.choice([(f"{e.p()} % 5", 4), (f"abs({e.text}) % 6", 5),
                                    (f"min({e.text}, 4)", 4), (f"max(0, min({e.text}, 5))", 5)])
        if kind == "bounded":
            return self.rng.choice([(f"{e.p()} % 4, 6", 6), (f"-2, {e.p()} % 5", 6),
                                    (f"{e.p()} % 6, -1, -1", 6), (f"6, {e.p()} % 4, -2", 4)])
        c = self.bool_expr(1)
        return f"-5, 6, (1 if {c.text} else -1) * ({e.p()} % 3 + 1)", 11

    def st_for(self) -> None:
        kind = self.pick({"dim": 6, "dimrev": 2, "dimfrom": 2, "dimupto": 1, "dimstep": 2,
                          "dimnegstep": 1, "dimneg2": 1, "const": 2, "literal": 1, "expr": 2,
                          "bounded": 1, "varstep": 1})
        arrays = list(self.scope.arrays.values())
        index: dict[str, list[str]] = {}
        nonempty: set[str] = set()
        if kind.startswith("dim") and arrays:
            a = self.rng.choice(arrays)
            axis = self.rng.randrange(len(a.dims))
            sym = a.dims[axis]
            args, idx = self.dim_range(kind, self.dim_expr(a, axis).text)
            trips = int(sym[1:]) if sym.startswith("#") else DIM_MAX
            nonempty.add(sym)
        else:
            args, trips = self.other_range(kind if not kind.startswith("dim") else "const")
            idx, sym = [], ""
        trips = max(trips, 1)
        mult = self.scope.mult * trips
        if self.cost + 2 * mult > COST_MAX:
            return self.st_new()
        name, reused = self.loop_var()
        self.emit(f"for {name} in range({args}):")
        if sym:
            index[sym] = [t.format(i=name) for t in idx]
        self.loop_body(name, reused, mult, "for", index, nonempty)

    def loop_body(self, name, reused, mult, loop, index, nonempty) -> None:
        """The body of a loop whose variable `name` is read-only inside it."""
        if reused is not None:
            reused.mutable = False
        saved = self.scope.vars.get(name)
        weak = loop == "for" and reused is None  # a reused variable may hold an i64
        self.scope.vars[name] = Var(name, "int", read=64, weak=weak, mutable=False)
        saved_index = self.scope.index
        merged = {k: list(v) for k, v in self.scope.index.items()}
        for sym, exprs in index.items():
            merged.setdefault(sym, []).extend(exprs)
        self.scope.index = merged
        self.depth += 1
        self.block(self.rng.randint(1, 4), loop=loop, mult=mult,
                   nonempty=self.scope.nonempty | nonempty)
        self.depth -= 1
        self.scope.index = saved_index
        if saved is not None:
            self.scope.vars[name] = saved
        else:
            del self.scope.vars[name]
        if reused is not None:
            reused.mutable = True

    def st_while(self) -> None:
        name = self.fresh("w")
        arrays = list(self.scope.arrays.values())
        index: dict[str, list[str]] = {}
        nonempty: set[str] = set()
        kind = self.pick({"up": 4, "down": 2, "true": 1, "len": 2 if arrays else 0})
        k = self.rng.randint(1, 5)
        trips = DIM_MAX if kind == "len" else k
        if self.cost + 2 * self.scope.mult * trips > COST_MAX:
            return self.st_new()
        cond = self.bool_expr(1).p() if self.chance(0.4) else None
        self.emit(f"{name} = {k if kind == 'down' else 0}")
        if kind == "down":
            test, step = f"{name} > 0", f"{name} -= 1"
        elif kind == "len":
            a = self.rng.choice(arrays)
            test, step = f"{name} < {self.dim_expr(a, 0).text}", f"{name} += 1"
            index[a.dims[0]] = [f"{name} - 1"]
            nonempty.add(a.dims[0])
        else:
            test, step = f"{name} < {k}", f"{name} += 1"
        if kind == "true":
            self.emit("while True:")
            self.indent += 1
            self.emit(step)
            self.emit(f"if {name} > {k}:")
            self.emit("    break")
            self.indent -= 1
        else:
            if cond is not None:
                test = f"{test} and {cond}" if self.chance(0.5) else f"{cond} and {test}"
            self.emit(f"while {test}:")
            self.indent += 1
            self.emit(step)
            self.indent -= 1
        self.loop_body(name, None, self.scope.mult * trips, "while", index, nonempty)
