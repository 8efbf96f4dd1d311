"""Arguments for generated functions: deterministic recipes that can be rebuilt and printed.

An argument is a scalar or an `ArrayArg` (a base array plus a view: strided, reversed,
transposed, Fortran-ordered or offset), so that each side of a differential run gets its own
fresh copy with the same strides, and a reproducer can print it as Python source.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from tests.fuzz.defaults import KwArg, arrange, tuple_items
from tests.fuzz.exprs import DIM_MAX
from tests.fuzz.generator import Function, Param

TRIALS = 3  # argument sets per function: typical, random, edge (empty / length-1 arrays)

NP_DTYPES = {"f64": np.float64, "i64": np.int64, "f32": np.float32}

# view name -> (how the base shape relates to the wanted shape, how to take the view)
VIEWS = {
    "": (lambda s: s, lambda a: a),
    "[::2]": (lambda s: (2 * s[0],) + s[1:], lambda a: a[::2]),
    "[::-1]": (lambda s: s, lambda a: a[::-1]),
    "[1:]": (lambda s: (s[0] + 1,) + s[1:], lambda a: a[1:]),
    ".T": (lambda s: s[::-1], lambda a: a.T),
    "[:, ::2]": (lambda s: (s[0], 2 * s[1]), lambda a: a[:, ::2]),
}


@dataclass(frozen=True)
class ArrayArg:
    base: np.ndarray
    view: str

    def make(self) -> np.ndarray:
        out = VIEWS[self.view][1](self.base.copy())
        return out

    def code(self) -> str:
        items = ", ".join(_float_code(v) if isinstance(v, float) else repr(v)
                          for v in self.base.ravel().tolist())
        base = (f"np.array([{items}], dtype=np.{self.base.dtype.name})"
                f".reshape({self.base.shape!r})")
        return base + self.view


def make(arg):
    """A fresh copy of one argument (arrays get new memory, same strides)."""
    if isinstance(arg, KwArg):
        return KwArg(arg.name, make(arg.value))
    return arg.make() if isinstance(arg, ArrayArg) else arg


def split(args: list) -> tuple[list, dict]:
    """Positional arguments and keyword arguments of a call."""
    return ([a for a in args if not isinstance(a, KwArg)],
            {a.name: a.value for a in args if isinstance(a, KwArg)})


def code(arg) -> str:
    if isinstance(arg, tuple):
        return f"({''.join(code(x) + ', ' for x in arg)})"
    if isinstance(arg, ArrayArg):
        return arg.code()
    if isinstance(arg, np.float32):
        return f"np.float32({_float_code(float(arg))})"
    return _float_code(arg) if isinstance(arg, float) else repr(arg)


def _float_code(v: float) -> str:
    return repr(v) if math.isfinite(v) else f"float('{v}')"


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-8, 1e3, -7.25, 2.0, 3.0, 2.5, -0.5]
NONFINITE = [math.nan, math.inf, -math.inf]


def _float(rng: random.Random, scale: float, nonfinite: bool = False) -> float:
    if nonfinite and rng.random() < 0.15:
        return rng.choice(NONFINITE)
    if rng.random() < 0.12:
        return rng.choice(SPECIAL)
    v = rng.uniform(-scale, scale)
    digits = rng.choice([0, 1, 2, None])
    return v if digits is None else round(v, digits)


def _int(rng: random.Random) -> int:
    if rng.random() < 0.1:
        return rng.randint(-1000, 1000)
    return rng.randint(-20, 20)


def _array(rng: random.Random, dtype: str, shape: tuple[int, ...],
           nonfinite: bool = False) -> ArrayArg:
    ndim = len(shape)
    views = [v for v in VIEWS if v in ("", "[::2]", "[::-1]", "[1:]")] if ndim == 1 \
        else ["", ".T", "[:, ::2]", "[::-1]"]
    view = "" if rng.random() < 0.6 else rng.choice(views)
    base_shape = VIEWS[view][0](shape)
    n = int(np.prod(base_shape))
    if dtype == "i64":
        values = [_int(rng) for _ in range(n)]
    else:
        values = [_float(rng, 10.0, nonfinite) for _ in range(n)]
    base = np.array(values, dtype=NP_DTYPES[dtype]).reshape(base_shape)
    arg = ArrayArg(base, view)
    assert arg.make().shape == shape, (view, shape)
    return arg


def _scalar(rng: random.Random, kind: str, edge: bool, nonfinite: bool = False):
    kind = kind.removesuffix(" | None")
    if kind.startswith("tuple["):
        return tuple(_scalar(rng, k, edge, nonfinite) for k in tuple_items(kind))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 7, -1000]) if edge else _int(rng)
    value = rng.choice([0.0, -0.0, -1.0, 1e-3]) if edge else _float(rng, 5.0, nonfinite)
    return np.float32(value) if kind == "f32" else value


def make_args(program_seed: int, fn: Function, trial: int) -> list:
    """The argument recipes for trial `trial` of `fn` (deterministic)."""
    rng = random.Random(f"{program_seed}:{fn.name}:{trial}")
    edge = trial == TRIALS - 1
    nonfinite = trial == 1 and rng.random() < 0.3  # nan and +-inf in some random sets
    sizes: dict[str, int] = {}
    args = []
    for p in fn.params:
        if p.kind.endswith(" | None") and rng.random() < 0.35:
            args.append(None)
            continue
        if p.dims is None:
            args.append(_scalar(rng, p.kind, edge and rng.random() < 0.6, nonfinite))
            continue
        for sym in p.dims:
            if sym not in sizes:
                low = 2 if trial == 0 else 0
                sizes[sym] = rng.choice([0, 1]) if edge else rng.randint(low, DIM_MAX)
        args.append(_array(rng, p.kind[:3], tuple(sizes[s] for s in p.dims), nonfinite))
    if any(p.default for p in fn.params):  # positional, by keyword (KwArg) or left out
        return arrange(rng, [p.name for p in fn.params], [p.default for p in fn.params], args)
    return args


def params_code(params: tuple[Param, ...], args: list) -> str:
    """`name = value` lines; keyword arguments under their own names, omitted ones absent."""
    pos, kw = split(args)
    named = [(p.name, a) for p, a in zip(params, pos, strict=False)] + list(kw.items())
    return "\n".join(f"{name} = {code(a)}" for name, a in named)


def call_args_code(params: tuple[Param, ...], args: list) -> str:
    """The argument list of a reproducer's call: `a, x, p=p`."""
    pos, kw = split(args)
    return ", ".join([p.name for p, _ in zip(params, pos, strict=False)]
                     + [f"{name}={name}" for name in kw])
