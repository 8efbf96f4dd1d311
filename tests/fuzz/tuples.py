"""Tuple statements of the fuzzer: tuple locals, tuple results holding arrays, chained
assignment, loops over tuple literals and unpacking of small arrays.

A tuple local `t = (a, x)` registers its elements under the names `t[0]`, `t[1]`: an array
element as an array of the scope (so every load, store, `len`, loop and call may go through
it, aliasing `a` as in CPython) and a scalar one as a read-only variable. Functions may return
`tuple[f64[:], float]`-like results whose arrays are local arrays, parameters or views of
parameters (`a[1:]`, `a[::-1]`): the caller gets arrays that share the argument's memory, and
the runner checks `np.shares_memory` against CPython's result. A caller unpacks such a result;
its arrays get a fresh dimension symbol (unknown length, so every index is guarded).
"""

from __future__ import annotations

from tests.fuzz.exprs import INT_ASSIGN, INT_READ, ArrayVar, Callee, Expr, Var, lit_float

# result kinds of functions returning arrays inside a tuple (their annotations)
TUPLE_RETS = {"tuple[f64[:], float]": 1, "tuple[f64[:], int]": 0.4,
              "tuple[f64[:], f64[:], float]": 0.4, "tuple[float, f64[:]]": 0.3}
VIEWS = ["", "", "", "[1:]", "[::-1]", "[::2]", "[:-1]"]
# Two arrays of one result may lie in one kernel-allocated buffer (`return out, out[1:]`;
# seeds 45/58 once freed it twice: tests/e2e/test_fuzz_regressions.py). False limits a result
# to one array that is not a parameter.
SAME_BUFFER_TWICE = True


def tuple_items(ret: str) -> list[str]:
    """The element kinds of a tuple result annotation: "f64[:]", "float", "int"."""
    return [s.strip() for s in ret[len("tuple["):-1].replace("f64[:]", "arr").split(",")]


def is_tuple_ret(ret: str) -> bool:
    return ret in TUPLE_RETS


class TupleMixin:
    """Mixed into FunctionGen: tuple statements (kinds in `tuple_kinds`)."""

    def tuple_kinds(self) -> dict[str, float]:
        top = self.depth == 0
        return {"tlocal": 1.5, "tunpack": 1 if self.tuple_vars() else 0, "chain": 1.5,
                "tfor": 1.5 if self.depth < 3 else 0, "aunpack": 1 if top else 0.3}

    def tuple_vars(self) -> list[Var]:
        return [v for v in self.scope.vars.values() if v.ty == "tuple"]

    def int_var(self, name: str, read: float = 2 * INT_ASSIGN, mutable: bool = True) -> Var:
        return Var(name, "int", read=read, assign=INT_ASSIGN, budget=INT_ASSIGN,
                   mutable=mutable)

    def scalar_item(self) -> tuple[str, Expr]:
        ty = self.pick({"float": 5, "int": 3, "bool": 1})
        e = self.expr(ty, self.rng.choice([0, 1, 2]))
        return ty, self.shrink(e, INT_ASSIGN) if ty == "int" else e

    # --- tuple locals --------------------------------------------------------------------
    def st_tlocal(self) -> None:
        """`t = (a, x + 1.0, b)`: its elements become `t[0]`... names of the scope."""
        name = self.fresh("tp")
        items: list[tuple[str, object]] = []
        arrays = list(self.scope.arrays.values())
        for _ in range(self.rng.choice([1, 2, 2, 3])):
            if arrays and self.chance(0.5):
                items.append(("arr", self.rng.choice(arrays)))
            else:
                items.append(self.scalar_item())
        if len(items) == 1 and self.chance(0.7):
            items.append(self.scalar_item())
        texts = [x.name if k == "arr" else x.text for k, x in items]
        self.emit(f"{name} = ({', '.join(texts)}{',' if len(texts) == 1 else ''})")
        if self.chance(0.2):  # rebound in one branch: the two values merge after the `if`
            items = self.rebind(name, items)
        self.scope.vars[name] = Var(name, "tuple", mutable=False)
        self.tuple_meta[name] = items
        for k, (kind, x) in enumerate(items):
            elem = f"{name}[{k}]"
            if kind == "arr":
                self.scope.arrays[elem] = ArrayVar(elem, x.dtype, x.dims)
            elif kind == "int":
                self.scope.vars[elem] = self.int_var(elem, read=x.bound, mutable=False)
            else:
                self.scope.vars[elem] = Var(elem, kind, mutable=False)
        if self.chance(0.3):
            n = self.int_expr(1)
            self.define("int", Expr(f"len({name}) * {n.p()}" if self.chance(0.5)
                                    else f"len({name})", "int", len(items) * max(n.bound, 1)))

    def rebind(self, name: str, items: list) -> list:
        """`if c: t = (b, y)` after `t = (a, x)`: b has a's dtype and rank (maybe not its
        shape, then the element's length is unknown), y has x's type."""
        new, texts = [], []
        for kind, x in items:
            if kind == "arr":
                same = [b for b in self.scope.arrays.values()
                        if b.dtype == x.dtype and len(b.dims) == len(x.dims)]
                b = self.rng.choice(same)
                dims = x.dims if b.dims == x.dims else tuple(self.fresh("r") for _ in x.dims)
                new.append((kind, ArrayVar(b.name, x.dtype, dims)))
                texts.append(b.name)
            else:
                e = self.expr(kind, 1)
                e = self.shrink(e, INT_ASSIGN) if kind == "int" else e
                new.append((kind, e if kind != "int" or e.bound >= x.bound else x))
                texts.append(e.text)
        self.emit(f"if {self.bool_expr(1).text}:")
        self.emit(f"    {name} = ({', '.join(texts)}{',' if len(texts) == 1 else ''})")
        return new

    def st_tunpack(self) -> None:
        """`b, y = t` of a tuple local: new names for its elements."""
        t = self.rng.choice(self.tuple_vars())
        names = [self.fresh() for _ in self.tuple_meta[t.name]]
        self.emit(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {t.name}")
        for name, (kind, x) in zip(names, self.tuple_meta[t.name], strict=True):
            self.bind_item(name, kind, x)

    def bind_item(self, name: str, kind: str, x) -> None:
        if kind == "arr":
            self.scope.arrays[name] = ArrayVar(name, x.dtype, x.dims)
        elif kind == "int":
            self.scope.vars[name] = self.int_var(name)
        else:
            self.scope.vars[name] = Var(name, kind)

    # --- chained assignment --------------------------------------------------------------
    def st_chain(self) -> None:
        """`p = q = expr` (new names, or an existing variable), `a[i] = b[j] = expr`."""
        arrays = [a for a in self.scope.arrays.values()
                  if all(self.index_text(a, k) is not None for k in range(len(a.dims)))]
        if arrays and self.chance(0.3):
            a = self.rng.choice(arrays)
            same = [b for b in arrays if b.dtype == a.dtype]
            b = self.rng.choice(same)
            _, e = self.store_value(a, aug=False)
            ia = ", ".join(self.index_text(a, k) for k in range(len(a.dims)))
            ib = ", ".join(self.index_text(b, k) for k in range(len(b.dims)))
            self.emit(f"{a.name}[{ia}] = {b.name}[{ib}] = {e.text}")
            return None
        ty = self.pick({"float": 4, "int": 3, "bool": 1})
        e = self.expr(ty, self.rng.choice([1, 2]))
        e = self.shrink(e, INT_ASSIGN) if ty == "int" else e
        p, q = self.fresh(), self.fresh()
        old = [v for v in self.vars_of(ty, mutable=True) if ty != "int" or v.assign >= INT_ASSIGN]
        targets = [p, q] if not old or self.chance(0.5) else [p, self.rng.choice(old).name]
        self.rng.shuffle(targets)
        self.emit(f"{targets[0]} = {targets[1]} = {e.text}")
        for name in (p, q):
            if name in targets:
                self.scope.vars[name] = self.int_var(name) if ty == "int" else Var(name, ty)

    # --- loops over tuple literals -------------------------------------------------------
    def st_tfor(self) -> None:
        ty = self.pick({"float": 3, "int": 2})
        n = self.rng.choice([1, 2, 3, 3, 4])
        mult = self.scope.mult * n
        if self.cost + 2 * mult > 3000:
            return self.st_new()
        items = []
        for _ in range(n):
            if ty == "float":
                e = self.float_expr(1) if self.chance(0.5) else lit_float(
                    self.rng.choice([0.5, 1.5, -2.0, 0.0]))
            else:
                e = self.shrink(self.int_expr(1), INT_ASSIGN)
            items.append(e.text)
        name = self.fresh("w")
        self.emit(f"for {name} in ({', '.join(items)}{',' if n == 1 else ''}):")
        saved = self.scope.vars.get(name)
        self.scope.vars[name] = (self.int_var(name, INT_ASSIGN, mutable=False) if ty == "int"
                                 else Var(name, "float", mutable=False))
        self.depth += 1
        self.block(self.rng.randint(1, 3), loop="for", mult=mult)
        self.depth -= 1
        if saved is None:
            del self.scope.vars[name]

    # --- unpacking arrays ----------------------------------------------------------------
    def st_aunpack(self) -> None:
        """`u, v = t3` of a local array of known length, `u, v = np.zeros(2)`, or
        `if len(a) == 2: u, v = a` of a parameter."""
        known = [a for a in self.scope.arrays.values() if len(a.dims) == 1
                 and a.dims[0] in ("#1", "#2", "#3")]
        kind = self.pick({"known": 3 if known else 0, "fresh": 2,
                          "guard": 1 if self.scope.arrays else 0})
        if kind == "guard":
            a = self.rng.choice([a for a in self.scope.arrays.values()])
            if len(a.dims) != 1:
                return self.st_new()
            k = self.rng.choice([1, 2, 3])
            self.emit(f"if len({a.name}) == {k}:")
            self.indent += 1
            saved = self.scope
            self.scope = saved.child()
            self.unpack_into(a.name, a.dtype, k)
            for _ in range(self.rng.randint(1, 2)):
                if self.full() or self.statement():
                    break
            self.scope = saved
            self.indent -= 1
            return None
        if kind == "known":
            a = self.rng.choice(known)
            return self.unpack_into(a.name, a.dtype, int(a.dims[0][1:]))
        k = self.rng.choice([1, 2, 3])
        dtype = self.pick({"f64": 3, "i64": 1})
        fn = self.rng.choice(["np.zeros({})", "np.ones({})", "np.full({}, 2.5)"])
        text = fn.format(k) if dtype == "f64" else f"np.ones({k}, dtype=np.int64)"
        self.unpack_into(text, dtype, k)

    def unpack_into(self, source: str, dtype: str, k: int) -> None:
        names = [self.fresh() for _ in range(k)]
        self.emit(f"{', '.join(names)}{',' if k == 1 else ''} = {source}")
        for name in names:
            if dtype == "i64":
                self.scope.vars[name] = Var(name, "int", read=INT_READ + INT_ASSIGN,
                                            assign=INT_ASSIGN, budget=INT_ASSIGN)
            else:
                self.scope.vars[name] = Var(name, {"f64": "float", "f32": "f32"}[dtype])

    # --- results holding arrays ----------------------------------------------------------
    def tuple_return(self) -> str:
        """`return a[1:], s`: arrays from the scope (1-D f64: locals, parameters, views)."""
        arrays = [a for a in self.scope.arrays.values() if a.dtype == "f64" and len(a.dims) == 1]
        params = [a for a in arrays if a.name in {p.name for p in self.params}]
        parts = []
        for kind in tuple_items(self.ret):
            if kind == "arr" and not arrays:  # a fresh array (see SAME_BUFFER_TWICE)
                parts.append(f"np.full({self.rng.randint(0, 3)}, 0.5)")
            elif kind == "arr":
                a = self.rng.choice(arrays)
                parts.append(a.name + self.rng.choice(VIEWS))
                if not SAME_BUFFER_TWICE and a not in params:
                    arrays = params
            elif kind == "int":
                parts.append(self.shrink(self.int_expr(2), INT_ASSIGN).text)
            else:
                parts.append(self.float_expr(2).text)
        return "return " + ", ".join(parts)

    def unpack_call(self, c: Callee, call: str) -> None:
        """`b, s = f0(a, x)`: the arrays of the result have unknown lengths."""
        names = [self.fresh() for _ in tuple_items(c.ret)]
        self.emit(f"{', '.join(names)} = {call}")
        for name, kind in zip(names, tuple_items(c.ret), strict=True):
            if kind == "arr":
                self.scope.arrays[name] = ArrayVar(name, "f64", (self.fresh("r"),))
            elif kind == "int":
                self.scope.vars[name] = self.int_var(name)
            else:
                self.scope.vars[name] = Var(name, "float")
