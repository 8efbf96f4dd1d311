"""The GPU manifest: what the GPU driver compiles a kernel into and runtime/cuda.py runs.

Records are frozen dataclasses; `to_json()`/`from_json()` give the JSON form the disk cache
stores and the AOT GPU loader embeds. Like runtime/cuda.py, this module imports only the
standard library, so the AOT loader embeds its source.

Host expressions (in set/return steps and loop bounds) keep their JSON form, nested lists that
runtime/cuda.py's `evaluate` reads: ["const", v], ["var", name], ["dim", array, axis],
["bin", op, a, b], ["neg", a], ["cast", kind, bits, a], ["call", name, [a, ...]],
["tuple", [a, ...]]. The frontend's GPU planner writes steps in their JSON form too (the
frontend may not import the runtime): `step_from_json` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Expr = list
"""A host expression, in the JSON form above."""


@dataclass(frozen=True)
class Param:
    """A parameter of the kernel, as the caller passes it."""

    name: str
    kind: str
    """'array' or 'scalar'."""
    dtype: str
    """The numpy dtype name (of the elements, for an array)."""
    ndim: int = 0
    written: bool = False
    """An array the kernel stores into (copied back to a numpy argument)."""

    def to_json(self) -> dict[str, Any]:
        if self.kind == "scalar":
            return {"name": self.name, "kind": self.kind, "dtype": self.dtype}
        return {"name": self.name, "kind": self.kind, "dtype": self.dtype, "ndim": self.ndim,
                "written": self.written}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Param:
        return Param(data["name"], data["kind"], data["dtype"], data.get("ndim", 0),
                     data.get("written", False))


# --- host steps ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SetStep:
    """`name = value` on the host."""

    name: str
    value: Expr

    def to_json(self) -> list:
        return ["set", self.name, self.value]


@dataclass(frozen=True)
class LaunchStep:
    """Launch nest number `nest`."""

    nest: int

    def to_json(self) -> list:
        return ["launch", self.nest]


@dataclass(frozen=True)
class ReturnStep:
    """Return `value` (None: return None)."""

    value: Expr | None

    def to_json(self) -> list:
        return ["return", self.value]


Step = SetStep | LaunchStep | ReturnStep
_STEPS: dict[str, Any] = {"set": SetStep, "launch": LaunchStep, "return": ReturnStep}


def step_from_json(data: list) -> Step:
    """The step of JSON form ["set", name, expr], ["launch", k] or ["return", expr | None]."""
    step: Step = _STEPS[data[0]](*data[1:])
    return step


# --- device nests -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NestArg:
    """One argument of a nest's function (ir/gpu.py): `what` is 'count', 'start', 'step' or
    'threads' (key: the loop), 'reduction' (key: its number) or 'value' (key: the host
    variable or array parameter); `mtype` is its MLIR type."""

    what: str
    key: int | str
    mtype: str

    def to_json(self) -> list:
        return [self.what, self.key, self.mtype]


@dataclass(frozen=True)
class KernelParam:
    """The source of one kernel operand (lowering/gpu.py): `source` 'arg' (value: the number
    of the nest argument) or 'const' (value: the constant); `mtype` is its MLIR type. An
    array operand becomes its memref descriptor's fields."""

    source: str
    value: int | float
    mtype: str

    def to_json(self) -> list:
        return [self.source, self.value, self.mtype]


@dataclass(frozen=True)
class Reduction:
    """A scalar reduction of a strided nest: the host variable and its numpy dtype name."""

    name: str
    dtype: str

    def to_json(self) -> list:
        return [self.name, self.dtype]


@dataclass(frozen=True)
class Nest:
    """One kernel launch: the PTX, the loop bounds (host expressions, (start, stop, step) per
    loop, outermost first), the nest function's arguments, the kernel operands in `.param`
    order and the block shape. A `strided` nest runs on a 1-D grid of threads that walk the
    iterations (runtime/cuda.py)."""

    kernel: str
    ptx: str
    bounds: tuple[tuple[Expr, Expr, Expr], ...]
    args: tuple[NestArg, ...]
    params: tuple[KernelParam, ...]
    block: tuple[int, int, int]
    strided: bool
    reductions: tuple[Reduction, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kernel": self.kernel, "ptx": self.ptx,
                "bounds": [list(b) for b in self.bounds],
                "args": [a.to_json() for a in self.args],
                "params": [p.to_json() for p in self.params], "block": list(self.block),
                "strided": self.strided, "reductions": [r.to_json() for r in self.reductions]}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Nest:
        x, y, z = data["block"]
        return Nest(data["kernel"], data["ptx"],
                    tuple((b[0], b[1], b[2]) for b in data["bounds"]),
                    tuple(NestArg(*a) for a in data["args"]),
                    tuple(KernelParam(*p) for p in data["params"]),
                    (x, y, z), data["strided"],
                    tuple(Reduction(*r) for r in data["reductions"]))


@dataclass(frozen=True)
class Result:
    """What a kernel returns: scalars of these kinds ('f', 'i', 'u', 'b'), as a tuple or one."""

    is_tuple: bool
    kinds: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"tuple": self.is_tuple, "kinds": list(self.kinds)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Result:
        return Result(data["tuple"], tuple(data["kinds"]))


@dataclass(frozen=True)
class GpuManifest:
    """A compiled GPU kernel: parameters, host steps, one `Nest` per launch, the result."""

    name: str
    arch: str
    params: tuple[Param, ...]
    steps: tuple[Step, ...]
    nests: tuple[Nest, ...]
    ret: Result | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "arch": self.arch,
                "params": [p.to_json() for p in self.params],
                "steps": [s.to_json() for s in self.steps],
                "nests": [n.to_json() for n in self.nests],
                "ret": self.ret.to_json() if self.ret is not None else None}

    @staticmethod
    def from_json(data: dict[str, Any]) -> GpuManifest:
        ret = data["ret"]
        return GpuManifest(data["name"], data["arch"],
                           tuple(Param.from_json(p) for p in data["params"]),
                           tuple(step_from_json(s) for s in data["steps"]),
                           tuple(Nest.from_json(n) for n in data["nests"]),
                           Result.from_json(ret) if ret is not None else None)
