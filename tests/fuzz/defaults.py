"""Default parameter values, keyword arguments and tuple parameters in the fuzzer.

A function may end with parameters that have defaults (`p: float = 2.5`, `flag: bool = True`,
`k: int = 3`) and take a tuple parameter (`t: tuple[int, float]`, its elements read as
`t[0]`, `t[1]`). Every call, from the runner and from other kernels, passes each defaulted
parameter positionally, by keyword (keywords in any order) or not at all (`arrange`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULTS = {"int": ["0", "1", "3", "-2", "7"], "float": ["0.5", "1.0", "-2.0", "2.5", "0.0"],
            "bool": ["True", "False"]}
TUPLE_KINDS = ["tuple[int, float]", "tuple[float, float]", "tuple[int, int]",
               "tuple[float, bool]"]


@dataclass(frozen=True)
class KwArg:
    """An argument passed by keyword."""
    name: str
    value: object


class Omitted:
    """A defaulted parameter the call leaves out."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT = Omitted()


def tuple_items(kind: str) -> list[str]:
    return [s.strip() for s in kind[len("tuple["):-1].split(",")]


def arrange(rng: random.Random, names: list[str], defaults: list[str | None],
            args: list) -> list:
    """`args` (one per parameter, in order) with each defaulted one kept positional, turned
    into a KwArg or OMIT; positional ones never follow the others."""
    out: list = []
    keywords: list = []
    positional = True
    for name, default, arg in zip(names, defaults, args, strict=True):
        how = "pos" if default is None else rng.choice(["pos", "kw", "omit"])
        if how == "pos" and not positional:
            how = rng.choice(["kw", "omit"])
        if how == "pos":
            out.append(arg)
            continue
        positional = False
        if how == "kw":
            keywords.append(KwArg(name, arg))
    if len(keywords) > 1 and rng.random() < 0.4:
        rng.shuffle(keywords)
    return out + keywords


def call_text(items: list) -> str:
    return ", ".join(f"{x.name}={x.value}" if isinstance(x, KwArg) else x for x in items)


class DefaultsMixin:
    """Mixed into FunctionGen: defaulted and tuple parameters in the signature."""

    def extra_params(self) -> None:
        from tests.fuzz.exprs import Var
        from tests.fuzz.generator import Param
        taken = {p.name for p in self.params}
        if self.chance(0.15):
            name = next(n for n in ("tq", "tr", "tt1") if n not in taken)
            kind = self.rng.choice(TUPLE_KINDS)
            self.params.append(Param(name, kind))
            self.scope.vars[name] = Var(name, "tuple", mutable=False)
            self.tuple_meta[name] = [(ty, None) for ty in tuple_items(kind)]
            for k, ty in enumerate(tuple_items(kind)):
                elem = f"{name}[{k}]"
                self.scope.vars[elem] = (Var(elem, ty, read=2000, mutable=False)
                                         if ty == "int" else Var(elem, ty, mutable=False))
        if self.chance(0.25):
            self.optional_param()
        if not self.chance(0.35):
            return
        for i in range(self.rng.choice([1, 1, 2, 3])):
            ty = self.pick({"float": 3, "int": 2, "bool": 1.5})
            name = f"dp{i}"
            self.params.append(Param(name, ty, default=self.rng.choice(DEFAULTS[ty])))
            if ty == "int":
                self.scope.vars[name] = Var(name, ty, read=2000, assign=1000, budget=1000)
            else:
                self.scope.vars[name] = Var(name, ty)

    # --- Optional parameters -------------------------------------------------------------
    def optional_param(self) -> None:
        """`w: f64[:] | None = None`, `p: float | None = None`: usable inside `is not None`
        branches only (`st_opt`)."""
        from tests.fuzz.generator import Param
        base = self.pick({"f64[:]": 3, "float": 2, "int": 1})
        name = {"f64[:]": "ow", "float": "op", "int": "ok"}[base]
        dims = None
        if base == "f64[:]":
            known = [a.dims[0] for a in self.scope.arrays.values() if len(a.dims) == 1]
            dims = (self.rng.choice(known) if known and self.chance(0.5) else "dopt",)
        self.params.append(Param(name, f"{base} | None", dims, default="None"))
        self.optionals[name] = (base, dims)

    def opt_kinds(self) -> dict[str, float]:
        return {"opt": 2 if self.optionals else 0}

    def st_opt(self) -> None:
        from tests.fuzz.exprs import ArrayVar, Expr, Var
        name = self.rng.choice(sorted(self.optionals))
        base, dims = self.optionals[name]
        if base != "f64[:]" and self.chance(0.3):  # a conditional expression
            other = self.expr(base, 1)
            other = self.shrink(other, 1000) if base == "int" else other
            return self.define(base, Expr(f"{name} if {name} is not None else {other.p()}",
                                          base, max(other.bound, 2000)))
        present = (ArrayVar(name, "f64", dims) if base == "f64[:]" else
                   Var(name, base, read=2000, mutable=False))
        first_none = self.chance(0.4)
        self.emit(f"if {name} is {'' if first_none else 'not '}None:")
        self.opt_block(present if not first_none else None)
        if first_none or self.chance(0.4):
            self.emit("else:")
            self.opt_block(present if first_none else None)

    def opt_block(self, present) -> None:
        saved = self.scope
        self.scope = saved.child()
        if present is not None and hasattr(present, "dims"):
            self.scope.arrays[present.name] = present
        elif present is not None:
            self.scope.vars[present.name] = present
        self.block(self.rng.randint(1, 3))
        self.scope = saved
