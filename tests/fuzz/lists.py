"""List statements of the fuzzer: local lists of floats or ints (literals or `[]` plus
appends), `.append`, `len`, indexing (loads, stores, `+=`), iteration and `in`.

Each list knows how many elements it has for sure (`known`, so `L[k]` for k < known and
`L[-1]` are in range; other indices are `e % len(L)`) and a budget of appends left, so that a
loop over it runs at most `known + APPENDS` times whatever appended to it before.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.fuzz.exprs import COST_MAX, INT_ASSIGN, Expr, Var

APPENDS = 12  # appends a list may receive per call (bounds the trips of a loop over it)


@dataclass
class ListInfo:
    ty: str  # "float" | "int": the element type
    known: int  # elements it surely has
    appends: int = APPENDS  # appends left


class ListMixin:
    """Mixed into FunctionGen: list statements (kinds in `list_kinds`)."""

    def list_kinds(self) -> dict[str, float]:
        has = bool(self.lists_here())
        return {"lnew": 1 if self.depth == 0 else 0, "lappend": 1.5 if has else 0,
                "luse": 2 if has else 0, "lfor": 1 if has and self.depth < 3 else 0}

    def lists_here(self) -> list[Var]:
        return [v for v in self.scope.vars.values() if v.ty == "list"]

    def elem(self, ty: str) -> Expr:
        e = self.expr(ty, self.rng.choice([0, 1, 2]))
        return self.shrink(e, INT_ASSIGN) if ty == "int" else e

    def st_lnew(self) -> None:
        ty = self.pick({"float": 3, "int": 2})
        name = self.fresh("L")
        if self.chance(0.25):
            self.emit(f"{name}: list[{ty}] = []")
            self.emit(f"{name}.append({self.elem(ty).text})")
            known = 1
        else:
            known = self.rng.randint(1, 4)
            self.emit(f"{name} = [{', '.join(self.elem(ty).text for _ in range(known))}]")
        self.scope.vars[name] = Var(name, "list", mutable=False)
        self.list_info[name] = ListInfo(ty, known)

    def pick_list(self) -> tuple[str, ListInfo]:
        v = self.rng.choice(self.lists_here())
        return v.name, self.list_info[v.name]

    def list_index(self, name: str, info: ListInfo) -> str:
        form = self.pick({"lit": 2, "neg": 1, "mod": 2})
        if form == "lit":
            return str(self.rng.randrange(info.known))
        if form == "neg":
            return str(-self.rng.randint(1, info.known))
        return f"{self.int_expr(1).p()} % len({name})"

    def st_lappend(self) -> None:
        name, info = self.pick_list()
        if info.appends < self.scope.mult:
            return self.st_new()
        info.appends -= self.scope.mult
        self.emit(f"{name}.append({self.elem(info.ty).text})")

    def st_luse(self) -> None:
        name, info = self.pick_list()
        form = self.pick({"load": 4, "store": 2, "aug": 1 if info.ty == "float" else 0,
                          "len": 1, "in": 1 if info.ty == "int" else 0})  # nan is x: `in`
        idx = self.list_index(name, info)
        if form == "load":
            self.define(info.ty, Expr(f"{name}[{idx}]", info.ty, INT_ASSIGN, atom=True))
        elif form == "store":
            self.emit(f"{name}[{idx}] = {self.elem(info.ty).text}")
        elif form == "aug":
            op, e = self.float_aug("float")
            self.emit(f"{name}[{idx}] {op}= {e.text}")
        elif form == "len":
            self.define("int", Expr(f"len({name})", "int", info.known + APPENDS, atom=True))
        else:
            probe = self.elem(info.ty)
            word = self.rng.choice(["in", "not in"])
            self.define("bool", Expr(f"{probe.p()} {word} {name}", "bool"))

    def st_lfor(self) -> None:
        name, info = self.pick_list()
        mult = self.scope.mult * (info.known + APPENDS)
        if self.cost + 2 * mult > COST_MAX:
            return self.st_new()
        var = self.fresh("e")
        self.emit(f"for {var} in {name}:")
        self.scope.vars[var] = Var(var, info.ty, read=INT_ASSIGN, mutable=False)
        saved, info.appends = info.appends, 0  # no appends while iterating
        self.depth += 1
        self.block(self.rng.randint(1, 3), loop="for", mult=mult)
        self.depth -= 1
        info.appends = saved
        del self.scope.vars[var]
