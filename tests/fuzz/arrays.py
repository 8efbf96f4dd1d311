"""Seeded generator of whole-array programs: the array counterpart of generator.py.

`generate(seed)` returns an `ArrayProgram`: one `@kernel` over 1-D to 3-D array parameters
(f64/f32/i64/i32/bool, shapes with 0- and 1-length axes, passed as strided, reversed,
transposed or offset views) and Python scalars, whose statements use basic slicing (negative
starts/stops/steps, integer+slice mixes, `None`, `...`, `.T`), broadcasting, arithmetic,
comparison and bitwise operators, elementwise NumPy functions, `np.where/clip/maximum`,
`astype`, reductions with `axis`/`keepdims`, cumsum, `@`/`np.dot`, creation functions,
in-place updates (augmented, `a[...] = expr`, overlapping `a[1:] = a[:-1] * 2`, `fill`) and
for loops over a leading axis mixing element views with array operations. The result is a
fresh array or a scalar (a view is returned as a copy). In `BAD_BROADCAST` of the programs the
last statement adds two arrays of incompatible shapes: both sides must raise NumPy's ValueError.

The argument shapes are fixed by the seed, so the generator *runs* every candidate statement
under NumPy on the argument sets of all trials (warnings and floating-point errors raised) and
keeps it only when it runs clean: no NumPy warning (overflow, division by zero, invalid
value), no exception, ints within +-2**40 (i32 within +-2**24), no array over `SIZE_MAX`.
Constructs Ember documents as differing from NumPy (docs/numpy.md) are not generated:
unsafe-cast assignments, in-place broadcasts larger than the target, broadcast errors of
three or more operands, returning views. Nor are those Ember refuses at compile time (3-D or
bool `@`, reductions and `.astype` of scalars or 0-d arrays, an array stored into one
element, `a[:] = b` where b has more axes) or NumPy types outside f64/f32/i64/i32/bool
(float16 from `np.sin` of bools, int8 from `bool // bool`). `EXCLUDED` lists constructs left
out because of known Ember bugs (none at present).
Most programs compile with `opt_level=0` (LLVM's optimizer is most of the compile time and is
not what this fuzzer tests); every `O3_EVERY`-th seed uses the default -O3.

    python -m tests.fuzz --arrays --count 5000 --seed 0 --jobs 2
    python -m tests.fuzz --arrays --seed 12 --count 1 --show
    python -m tests.fuzz --arrays --reduce 12
"""

from __future__ import annotations

import random
import re
import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tests.fuzz.generator import Function, Param, Program
from tests.fuzz.inputs import VIEWS, ArrayArg

EMBER_HEADER = ("import numpy as np\n\nfrom ember import boolean, f32, f64, i32, i64, kernel\n")
PYTHON_HEADER = ("import numpy as np\n\nfrom ember.types import boolean, f32, f64, i32, i64\n\n"
                 "def kernel(fn=None, **options):\n    return fn if fn else kernel\n")
TRIALS = 2
O3_EVERY = 5  # one program in 5 compiles at the default -O3, the others at -O0 (3x faster)
BAD_BROADCAST = 0.05
SIZE_MAX = 400
INT_LIMIT = {"int64": 2**40, "int32": 2**24}
ANNOT = {"f64": "f64", "f32": "f32", "i64": "i64", "i32": "i32", "bool": "boolean"}
NP = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "i32": np.int32, "bool": np.bool_}
DTYPE_CODE = {"float64": "np.float64", "float32": "np.float32", "int64": "np.int64",
              "int32": "np.int32", "bool": "np.bool_"}

# Constructs not generated because of known Ember bugs: name -> regex on a statement.
EXCLUDED: dict[str, str] = {}

UNARY = {"np.abs({})": 3, "-({})": 2, "np.exp({})": 1, "np.sqrt(np.abs({}))": 1,
         "np.sin({})": 1, "np.cos({})": 0.5, "np.tanh({})": 0.5, "np.log1p(np.abs({}))": 0.5,
         "np.floor({})": 0.5, "~({})": 0.5}
BINARY = {"+": 5, "-": 4, "*": 4, "/": 2, "//": 1, "%": 1, "**": 0.5, "<": 1, "<=": 0.5,
          ">": 1, ">=": 0.5, "==": 0.5, "!=": 0.5, "&": 0.7, "|": 0.7, "^": 0.5, "<<": 0.3,
          ">>": 0.3}
REDUCE = {"sum": 4, "mean": 2, "min": 2, "max": 2, "argmax": 1, "argmin": 0.5, "prod": 1,
          "any": 1, "all": 1, "cumsum": 1.5}


@dataclass(frozen=True)
class ArrayProgram(Program):
    args: tuple = ()  # per trial: the argument recipes (ArrayArg or scalar)
    raises: bool = False  # the program ends in an incompatible broadcast
    EMBER_HEADER: ClassVar[str] = EMBER_HEADER
    PYTHON_HEADER: ClassVar[str] = PYTHON_HEADER


class Rejected(Exception):
    """A candidate statement that does not run clean under NumPy."""


def _values(rng: random.Random, dtype: str, n: int, nan: bool) -> list:
    if dtype == "bool":
        return [rng.random() < 0.5 for _ in range(n)]
    if dtype in ("i64", "i32"):
        return [rng.randint(-6, 6) for _ in range(n)]
    out = [round(rng.uniform(-3, 3), rng.choice([0, 1, 2])) for _ in range(n)]
    if nan and n:
        out[rng.randrange(n)] = float("nan")
    return out


def _array(rng: random.Random, dtype: str, shape: tuple[int, ...], nan: bool) -> ArrayArg:
    views = ["", "[::-1]", "[::2]", "[1:]"] + [".T"] * (len(shape) >= 2) \
        + ["[:, ::2]"] * (len(shape) == 2)
    view = "" if rng.random() < 0.5 else rng.choice(views)
    base_shape = VIEWS[view][0](shape)
    values = _values(rng, dtype, int(np.prod(base_shape)), nan)
    return ArrayArg(np.array(values, dtype=NP[dtype]).reshape(base_shape), view)


class ArrayGen:
    """Generates one kernel, statement by statement, each checked by running it."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(f"arrays:{seed}")
        self.params: list[Param] = []
        self.args: list[list] = [[] for _ in range(TRIALS)]
        self.lines: list[str] = []
        self.env: dict = {}  # names -> values after the current lines (trial 0)
        self.counter = 0
        self.loop_atoms: list[str] = []  # element views usable inside the current loop body

    # --- plumbing ------------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weights: dict) -> str:
        keys = [k for k, w in weights.items() if w > 0]
        return self.rng.choices(keys, [weights[k] for k in keys])[0]

    def fresh(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def run(self, lines: list[str], expect_error: bool = False) -> list[dict]:
        """Every trial's namespace after `lines`; Rejected unless they run clean."""
        out = []
        for trial in range(TRIALS):
            env = {"np": np}
            env.update({p.name: a.make() if isinstance(a, ArrayArg) else a
                        for p, a in zip(self.params, self.args[trial], strict=True)})
            with warnings.catch_warnings(), np.errstate(all="raise"):
                warnings.simplefilter("error")
                try:
                    exec("\n".join(lines), env)  # noqa: S102 - generated test program
                except ValueError as e:
                    if expect_error and "could not be broadcast" in str(e):
                        out.append(env)
                        continue
                    raise Rejected(str(e)) from None
                except Exception as e:  # noqa: BLE001
                    raise Rejected(f"{type(e).__name__}: {e}") from None
            if expect_error:
                raise Rejected("no error")
            _check_env(env)
            out.append(env)
        return out

    def accept(self, candidate: list[str], expect_error: bool = False) -> bool:
        text = "\n".join(candidate)
        if any(re.search(rx, text) for rx in EXCLUDED.values()):
            return False
        try:
            envs = self.run(self.lines + candidate, expect_error)
        except Rejected:
            return False
        self.lines += candidate
        self.env = envs[0]
        return True

    def arrays(self) -> list[str]:
        """Names of arrays of one or more axes (parameters, locals, views: all writable)."""
        return [n for n, v in self.env.items() if isinstance(v, np.ndarray) and v.ndim > 0]

    def scalars(self) -> list[str]:
        hidden = {"np", "i", "return_value"} - ({"i"} if self.loop_atoms else set())
        return [n for n, v in self.env.items() if n not in hidden and not n.startswith("__")
                and (isinstance(v, int | float | np.generic) or np.ndim(v) == 0 and
                     isinstance(v, np.ndarray))]

    # --- signature -----------------------------------------------------------------------
    def signature(self) -> None:
        dims: list[int] = []
        for i in range(self.rng.choice([1, 2, 2, 2, 3])):
            dtype = self.pick({"f64": 5, "f32": 2, "i64": 3, "i32": 1.5, "bool": 1})
            ndim = self.rng.choice([1, 1, 2, 2, 2, 3])
            shape = []
            for _ in range(ndim):
                if dims and self.chance(0.5):
                    shape.append(self.rng.choice(dims))
                else:
                    dims.append(self.rng.choice([0, 1, 1, 2, 3, 3, 4, 4, 5, 6]))
                    shape.append(dims[-1])
            if i == 0 and 0 in shape and self.chance(0.7):  # mostly non-empty first operand
                shape = [d or 3 for d in shape]
            name = "abc"[i]
            self.params.append(Param(name, f"{ANNOT[dtype]}[{', '.join(':' * ndim)}]",
                                     tuple(str(d) for d in shape)))
            nan = self.chance(0.15) and dtype in ("f64", "f32")
            for t in range(TRIALS):
                self.args[t].append(_array(self.rng, dtype, tuple(shape), nan and t == 1))
        for name, ty in (("x", "float"), ("n", "int")):
            if self.chance(0.35):
                self.params.append(Param(name, ty))
                for t in range(TRIALS):
                    self.args[t].append(round(self.rng.uniform(-3, 3), 1) if ty == "float"
                                        else self.rng.randint(-3, 4))
        self.env = self.run([])[0]

    def header(self) -> str:
        return "def f(" + ", ".join(f"{p.name}: {p.kind}" for p in self.params) + "):"

    # --- expressions ---------------------------------------------------------------------
    def literal(self) -> str:
        if self.chance(0.5):
            return str(self.rng.choice([0, 1, 2, 3, -1, -2, 5]))
        return str(self.rng.choice([0.5, 1.5, -2.0, 0.25, 3.0, -0.5, 2.0]))

    def atom(self) -> str:
        scalars = self.scalars()
        if self.loop_atoms and self.chance(0.5):
            return self.rng.choice(self.loop_atoms)
        if scalars and self.chance(0.15):
            return self.rng.choice(scalars)
        if self.chance(0.1):
            return self.literal()
        name = self.rng.choice(self.arrays())
        return self.view(name) if self.chance(0.45) else name

    def slice_text(self, n: int) -> str:
        def bound() -> str:
            if "n" in self.env and self.chance(0.1):
                return "n"
            return str(self.rng.randint(-n - 1, n + 1))
        form = self.pick({":": 2, "a:": 2, ":b": 2, "a:b": 2, "::s": 2, "a:b:s": 2, "a::s": 1})
        text = form.replace("a", bound()).replace("b", bound())
        return text.replace("s", str(self.rng.choice([1, 2, 3, -1, -1, -2])))

    def view(self, name: str) -> str:
        shape = self.env[name].shape
        if self.chance(0.12) and len(shape) >= 2:
            return f"{name}.T"
        items: list[str] = []
        for n in shape[:self.rng.randint(1, max(1, len(shape)))]:
            if self.chance(0.12):
                items.append("None")
            if n > 0 and self.chance(0.25):
                items.append(str(self.rng.randint(-n, n - 1)))
            else:
                items.append(self.slice_text(n))
        if self.chance(0.1):
            items.append("None")
        if self.chance(0.1) and len(items) < len(shape):
            items.insert(0, "...")
        return f"{name}[{', '.join(items)}]"

    def expr(self, depth: int) -> str:
        if depth <= 0:
            return self.atom()
        kind = self.pick({"atom": 2, "binary": 6, "unary": 2, "where": 0.6, "clip": 0.5,
                          "maxmin": 0.7, "astype": 0.7, "reduce": 1.5, "matmul": 0.5,
                          "create": 0.6, "method": 0.4})
        text = getattr(self, "ex_" + kind)(depth)
        value = self._value(text)
        if value is not None and np.result_type(value).name not in DTYPE_CODE:
            return self.atom()  # NumPy's float16/int8 (np.sin of bools, bool // bool)
        return text

    def ex_atom(self, depth: int) -> str:
        return self.atom()

    def ex_binary(self, depth: int) -> str:
        op = self.pick(BINARY)
        right = self.expr(depth - 1)
        if op == "**":
            return f"np.abs({self.expr(depth - 1)}) ** {self.rng.choice(['2', '3', '0.5'])}"
        if op in ("<<", ">>"):
            right = str(self.rng.randint(0, 3))
        elif op in ("//", "%", "/") and self.chance(0.7):
            right = f"(np.abs({right}) + 1)"
        return f"({self.expr(depth - 1)} {op} {right})"

    def ex_unary(self, depth: int) -> str:
        return self.pick(UNARY).format(self.expr(depth - 1))

    def ex_where(self, depth: int) -> str:
        return (f"np.where({self.expr(depth - 1)} > {self.literal()}, {self.expr(depth - 1)}, "
                f"{self.expr(depth - 1)})")

    def ex_clip(self, depth: int) -> str:
        lo = self.rng.choice([-2, -1, 0, -1.5])
        return f"np.clip({self.expr(depth - 1)}, {lo}, {lo + self.rng.choice([1, 2, 3])})"

    def ex_maxmin(self, depth: int) -> str:
        fn = self.rng.choice(["np.maximum", "np.minimum"])
        return f"{fn}({self.expr(depth - 1)}, {self.expr(depth - 1)})"

    def ex_astype(self, depth: int) -> str:
        dtype = self.rng.choice(list(DTYPE_CODE.values()))
        operand = self.expr(depth - 1)
        if not self._is_array(operand):
            return operand  # Ember: np.float32(x), not x.astype, for scalars
        return f"({operand}).astype({dtype})"

    def ex_reduce(self, depth: int) -> str:
        fn = self.pick(REDUCE)
        operand = self.expr(depth - 1)
        args = [operand]
        if not self._is_array(operand):
            return operand  # Ember reduces arrays only
        ndim = self._ndim(operand)
        if ndim and self.chance(0.7):
            axis = self.rng.randrange(-ndim, ndim)
            args.append(f"axis={axis}")
            if fn not in ("cumsum",) and self.chance(0.3):
                args.append("keepdims=True")
        if self.chance(0.25) and fn not in ("argmax", "argmin", "cumsum"):
            return f"({operand}).{fn}({', '.join(args[1:])})"
        return f"np.{fn}({', '.join(args)})"

    def ex_matmul(self, depth: int) -> str:
        left, right = self.expr(depth - 1), self.expr(depth - 1)
        for side in (left, right):  # Ember: 1-D and 2-D numeric operands only
            value = self._value(side)
            if not self._is_array(side) or value.ndim > 2 or value.dtype == bool:
                return left
        if self.chance(0.3):
            return f"np.dot({left}, {right})"
        return f"({left} @ {right})"

    def ex_create(self, depth: int) -> str:
        arrays = self.arrays()
        name = self.rng.choice(arrays)
        shape = self.env[name].shape
        dtype = self.rng.choice(["", ", dtype=np.float32", ", dtype=np.int64", ", dtype=bool"])
        kind = self.pick({"zeros": 1, "ones": 1, "full": 1, "like": 1, "arange": 1})
        if kind == "arange":
            if self.chance(0.5):
                return f"np.arange({self.rng.randint(0, 6)})"
            return (f"np.arange({self.rng.randint(-3, 3)}, {self.rng.randint(-3, 6)}, "
                    f"{self.rng.choice([1, 2, -1, 0.5])})")
        if kind == "like":
            fn = self.rng.choice(["np.zeros_like", "np.ones_like"])
            return f"{fn}({name}{dtype})"
        shape_text = self.rng.choice([f"{name}.shape", repr(tuple(int(d) for d in shape))])
        if kind == "full":
            return f"np.full({shape_text}, {self.literal()}{dtype})"
        return f"np.{kind}({shape_text}{dtype})"

    def ex_method(self, depth: int) -> str:
        name = self.rng.choice(self.arrays())
        return self.rng.choice([f"{name}.copy()", f"np.copy({name})", f"{name}.T.copy()"])

    def _value(self, text: str) -> object:
        """The value of `text` in trial 0 (None if it fails: the candidate is rejected later)."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return eval(text, dict(self.env))  # noqa: S307
        except Exception:  # noqa: BLE001
            return None

    def _is_array(self, text: str) -> bool:
        """An array of one or more axes (NumPy gives 0-d arrays where Ember has scalars)."""
        value = self._value(text)
        return isinstance(value, np.ndarray) and value.ndim > 0

    def _ndim(self, text: str) -> int:
        return int(np.ndim(self._value(text)))

    # --- statements ----------------------------------------------------------------------
    def statement(self) -> None:
        kind = self.pick({"new": 6, "aug": 3, "assign": 3, "overlap": 1.5, "fill": 0.5,
                          "loop": 1.5})
        for _ in range(30):  # a candidate that does not run clean is replaced
            try:
                candidate = getattr(self, "st_" + kind)()
            except Exception:  # noqa: BLE001 - e.g. a reduction of an empty array
                continue
            if candidate and self.accept(candidate):
                return

    def st_new(self, indent: str = "") -> list[str]:
        value = self.expr(self.rng.choice([1, 1, 2, 2, 3]))
        if not re.search(r"\b(" + "|".join(self.arrays()) + r")\b", value):
            return []  # nothing but scalars: not what this fuzzer is for
        return [f"{indent}{self.fresh()} = {value}"]

    def target(self) -> str:
        name = self.rng.choice(self.arrays())
        return self.view(name) if self.chance(0.6) else name

    def st_aug(self, indent: str = "") -> list[str]:
        op = self.pick({"+": 4, "-": 3, "*": 3, "/": 1, "//": 0.5, "%": 0.5, "&": 0.3,
                        "|": 0.3})
        value = self.expr(self.rng.choice([0, 1, 2]))
        if op in ("/", "//", "%"):
            value = f"(np.abs({value}) + 1)"
        target = self.target()
        if np.ndim(self._value(value)) > np.ndim(self._value(target)):
            return []  # an array into an element: NumPy allows size 1, Ember refuses
        return [f"{indent}{target} {op}= {value}"]

    def st_assign(self, indent: str = "") -> list[str]:
        target = self.target()
        if "[" not in target:
            target += self.rng.choice(["[...]", "[:]"])
        value = self.expr(self.rng.choice([0, 1, 2]))
        if not self._same_kind(value, target):
            return []
        return [f"{indent}{target} = {value}"]

    def st_overlap(self) -> list[str]:
        name = self.rng.choice(self.arrays())
        k = self.rng.randint(1, 2)
        dst, src = (f"{name}[{k}:]", f"{name}[:-{k}]")
        if self.chance(0.5):
            dst, src = src, dst
        if self.chance(0.3):
            dst, src = f"{name}[::-1]", name
        op = self.rng.choice([" * 2", " + 1", "", " - " + self.atom()])
        value = f"{src}{op}"
        if not self._same_kind(value, dst):
            return []
        return [f"{dst} = {value}" if self.chance(0.6) else f"{dst} += {value}"]

    def st_fill(self) -> list[str]:
        name = self.rng.choice(self.arrays())
        new = self.fresh()
        return [f"{new} = np.empty_like({name})", f"{new}.fill({self.literal()})"]

    def st_loop(self) -> list[str]:
        arrays = [n for n in self.arrays() if self.env[n].shape[0] > 0]
        if not arrays:
            return []
        name = self.rng.choice(arrays)
        n = self.env[name].shape[0]
        peers = [a for a in arrays if self.env[a].shape[0] == n]
        i = "i"
        self.env = dict(self.env, i=0)
        self.loop_atoms = [f"{p}[{i}]" for p in peers] + [i]
        lines = [f"for {i} in range({name}.shape[0]):"]
        try:
            if self.chance(0.4):
                acc = self.fresh()
                operand = self.expr(1)
                if not self._is_array(operand):
                    return []
                term = f"np.{self.rng.choice(['sum', 'max', 'min', 'prod'])}({operand})"
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    kind = np.result_type(eval(term, dict(self.env))).kind  # noqa: S307
                lines.insert(0, f"{acc} = {'0.0' if kind == 'f' else '0'}")
                lines.append(f"    {acc} += {term}")
                return lines
            body = self.rng.choice([self.st_aug, self.st_assign])
            for _ in range(self.rng.randint(1, 2)):
                lines += body("    ")
            return lines if len(lines) > 1 else []
        finally:
            self.loop_atoms = []
            del self.env["i"]

    def _same_kind(self, value: str, target: str) -> bool:
        """NumPy casts assignments unsafely; only same-kind ones are compared."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                v, t = eval(value, dict(self.env)), eval(target, dict(self.env))  # noqa: S307
        except Exception:  # noqa: BLE001
            return False
        if np.ndim(v) > np.ndim(t):  # NumPy drops leading 1s; Ember refuses
            return False
        return np.can_cast(np.result_type(v), np.result_type(t), "same_kind") and (
            np.result_type(t) != np.int32 or np.result_type(v) == np.int32 or
            isinstance(v, int))

    def ret(self) -> None:
        """Return the last local value (a copy if it is a view), or a reduction of it."""
        locals_ = [n for n in self.env if re.fullmatch(r"v\d+", n)]
        name = locals_[-1] if locals_ else self.rng.choice(self.arrays())
        value = self.env[name]
        text = name
        params = [self.env[p.name] for p in self.params if p.dims is not None]
        if isinstance(value, np.ndarray) and (value.base is not None or any(
                value is p or np.shares_memory(value, p) for p in params)):
            text = f"{name}.copy()"
        if isinstance(value, np.ndarray) and self.chance(0.2):
            text = f"np.{self.rng.choice(['sum', 'max', 'mean'])}({name})"
        if not self.accept([f"return_value = {text}"]):
            text = "None"
        else:
            self.lines.pop()
        self.lines.append(f"return {text}")

    def bad_broadcast(self) -> bool:
        """End with `x + y` of incompatible shapes (both raise NumPy's ValueError)."""
        arrays = self.arrays()
        for _ in range(20):
            x, y = self.rng.choice(arrays), self.rng.choice(arrays)
            x = self.view(x) if self.chance(0.4) else x
            op = self.rng.choice(["+", "*", "-", "<"])
            if self.accept([f"{self.fresh()} = {x} {op} {y}"], expect_error=True):
                return True
        return False


def _check_env(env: dict) -> None:
    for name, value in env.items():
        if not isinstance(value, np.ndarray | np.generic | int | float) or name == "np":
            continue
        array = np.asarray(value).ravel()
        if array.dtype.kind not in "biuf" or array.dtype == np.float16:
            raise Rejected(f"{name} has dtype {array.dtype}")
        if array.size > SIZE_MAX:
            raise Rejected(f"{name} too large")
        limit = INT_LIMIT.get(array.dtype.name, 2**40)
        if array.dtype.kind in "iu" and array.size and np.abs(array).max() > limit:
            raise Rejected(f"{name} leaves the int range")
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array[:0]
        if finite.size and np.abs(finite.astype(np.float64)).max() > 1e30:
            raise Rejected(f"{name} too large")


def generate(seed: int) -> ArrayProgram:
    """The array program of `seed`: deterministic, runs clean under NumPy."""
    g = ArrayGen(seed)
    g.signature()
    for _ in range(g.rng.randint(2, 6)):
        g.statement()
    raises = g.chance(BAD_BROADCAST) and g.bad_broadcast()
    if not raises:
        g.ret()
    decorator = "@kernel" if seed % O3_EVERY == 0 else "@kernel(opt_level=0)"
    body = decorator + "\n" + g.header() + "\n" + "\n".join("    " + ln for ln in g.lines) + "\n"
    fn = Function("f", tuple(g.params), "any", 0)
    return ArrayProgram(seed, body, (fn,), tuple(tuple(a) for a in g.args), raises)
