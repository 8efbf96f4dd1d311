"""Derivatives of `target="gpu"` kernels: `jvp` (forward mode) and `grad`/`value_and_grad`/
`vjp` (reverse mode), compiled into a `GpuManifest` that runtime/cuda.py runs like any GPU
kernel, called by runtime/derivcall.py like a CPU derivative entry (primal parameters with
their shadows, then the seed; results as driver/derivatives.Plan says).

The host steps are put in single-assignment form first (`_Versions`: a host variable assigned
again, or summed by a nest, gets a new name such as `s#2`), so every value the derivative
needs is still there at the end. Then:
* forward: each nest is replaced by its forward derivative nest (ir/gpu_derivs.py), which
  does the primal work too; each host `set` is followed by the set of its tangent
  (driver/gpu_host_ad.py); the result is (value, tangent);
* reverse: the primal nests run first (the kernel's own PTX), then the host steps and nests
  backwards: the adjoint of each host variable is a host variable `__d_<name>`, each nest's
  reverse recomputes every iteration from the arrays as the kernel left them, adds the
  adjoints of arrays atomically and sums those of the scalars it reads into one-element
  buffers. That is valid only when no nest overwrites what it or an earlier nest reads
  (`x[i] = f(x[i])`); such kernels are refused (driver/gpu_adchecks.py), as are nests with
  atomic array updates (`h[idx[i]] += v`, no Enzyme rule).
Activities: float arrays as driver/derivatives.plan says (dup or const); float scalars are
active when they depend on a differentiated parameter or on a nest that reads an active value.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import types as T
from ..frontend.gpu import GpuPlan
from ..options import CompileOptions
from ..runtime import cache
from ..runtime.abi import Signature
from ..runtime.gpu_manifest import (
    GpuManifest,
    KernelParam,
    Nest,
    NestArg,
    Param,
    Reduction,
    Result,
    step_from_json,
)
from . import COMPILE_LOCK
from . import gpu_adchecks as adchecks
from . import gpu_host_ad as had
from .cachekey import cache_key
from .derivatives import Plan, Request, plan, shadow_name
from .targets import stage

if TYPE_CHECKING:
    from ..ir.gpu_derivs import Activity


@dataclass(frozen=True)
class GpuDerivativeMain:
    """The derivative's entry as api/autodiff.py's `Derivative` uses it (no C fast path)."""

    name: str
    entry: Callable[..., object]
    manifest: GpuManifest
    signature: Signature
    packed: None = None


@dataclass(frozen=True)
class CompiledGpuDerivative:
    main: GpuDerivativeMain
    plan: Plan
    count: None = None
    loops: int = 0
    layout: None = None
    """No array or tuple results (see driver/cpu.CompiledDerivative)."""


# --- host steps in single-assignment form ------------------------------------------------------
@dataclass(frozen=True)
class Launch:
    nest: int
    names: dict[str, str]
    """The version of each host variable at the launch."""
    sums: tuple[tuple[str, str, str, T.Scalar], ...]
    """(name, version before, version after, type) per float reduction."""


class _Versions:
    """The host steps of a GPU plan with every assignment to a new name."""

    def __init__(self, gp: GpuPlan, active: frozenset[str]) -> None:
        fn = gp.fn
        self.types: dict[str, T.Type] = {**fn.var_types, **dict(fn.params)}
        for n in gp.nests:  # the host sums of `np.sum(...)` are not variables of `fn`
            self.types.update({name: t for name, t in n.reductions if name not in self.types})
        self.current = {n: n for n, _ in fn.params}
        self.kinds: dict[str, T.Type] = dict(fn.params)
        self.active = set(active)
        self.steps: list[tuple] = []
        self.all_sums: dict[int, list[tuple[str, str, str, T.Scalar]]] = {}
        """Per nest: (name, version before, version after, type) of every reduction."""
        for step in gp.steps:
            self._step(gp, step)

    def _new(self, name: str) -> str:
        version = name if name not in self.current else f"{name}#{len(self.steps)}"
        self.current[name] = version
        self.kinds[version] = self.types[name]
        return version

    def _step(self, gp: GpuPlan, step: list) -> None:
        if step[0] == "set":
            expr = had.rename(step[2], self.current)
            version = self._new(step[1])
            if had.variables(expr) & self.active and _is_float(self.kinds[version]):
                self.active.add(version)
            self.steps.append(("set", version, expr))
        elif step[0] == "launch":
            n = gp.nests[step[1]]
            names = dict(self.current)
            hot = any(names.get(c, c) in self.active for c, _ in n.captured)
            sums = []
            self.all_sums[step[1]] = []
            for name, t in n.reductions:
                old = self.current[name]
                new = self._new(name)
                self.all_sums[step[1]].append((name, old, new, t))
                if t.is_float:
                    sums.append((name, old, new, t))
                    if hot or old in self.active:
                        self.active.add(new)
            self.steps.append(("launch", Launch(step[1], names, tuple(sums))))
        else:
            value = None if step[1] is None else had.rename(step[1], self.current)
            self.steps.append(("return", value))

    def is_float(self, version: str) -> bool:
        return _is_float(self.kinds.get(version, T.none))


def _is_float(t: T.Type) -> bool:
    return isinstance(t, T.Scalar) and t.is_float


# --- host steps of the derivative ---------------------------------------------------------------
def _d(name: str) -> str:
    return shadow_name(name)


def _pre_launch(launch: Launch, sums: list[tuple[str, str, str, T.Scalar]],
                forward: bool, active: set[str]) -> list[list]:
    steps: list[list] = []
    for _, old, new, _ in sums:
        steps.append(["set", new, ["var", old]])
        if forward and new in active:
            steps.append(["set", _d(new), ["var", _d(old)] if old in active else had.const(0.0)])
    return steps


def _forward_steps(v: _Versions) -> list[list]:
    def d(name: str) -> list | None:
        return ["var", _d(name)] if name in v.active else None

    steps: list[list] = []
    for step in v.steps:
        if step[0] == "set":
            steps.append(["set", step[1], step[2]])
            if step[1] in v.active:
                steps.append(["set", _d(step[1]), had.tangent(step[2], d) or had.const(0.0)])
        elif step[0] == "launch":
            launch = step[1]
            steps += _pre_launch(launch, v.all_sums[launch.nest], True, v.active)
            steps.append(["launch", launch.nest])
        elif step[1] is None:
            steps.append(["return", None])
        else:
            steps.append(["return", ["tuple", [step[1], had.tangent(step[1], d)
                                               or had.const(0.0)]]])
    return steps


def _accumulate(scale: list, e: list, active: set[str]) -> list[list]:
    """Steps adding `scale * d e / d u` to the adjoint of each active variable u of `e`."""
    steps = []
    for u in sorted(had.variables(e) & active):
        term = had.mul(scale, had.partial(e, u))
        if term is not None:
            steps.append(["set", _d(u), had.add(["var", _d(u)], term)])
    return steps


def _primal_steps(v: _Versions) -> tuple[list[list], list | None]:
    """The kernel's own steps and nests (in single-assignment form), its result kept in
    `__ret`; and the returned expression."""
    steps: list[list] = []
    returned = None
    for step in v.steps:
        if step[0] == "set":
            steps.append(["set", step[1], step[2]])
        elif step[0] == "launch":
            steps += _pre_launch(step[1], v.all_sums[step[1].nest], False, v.active)
            steps.append(["launch", step[1].nest])
        elif step[1] is not None:
            returned = step[1]
            steps.append(["set", "__ret", returned])
    return steps, returned


def _reverse_steps(v: _Versions, p: Plan, nests: int) -> list[list]:
    """The primal, then the adjoints: of the result (seeded), back through the host steps
    and the reverse nests (`nests`: the number of the first one)."""
    steps, returned = _primal_steps(v)
    steps += [["set", _d(a), had.const(0.0)] for a in sorted(v.active) if v.is_float(a)]
    if returned is not None and p.result_type is not None:
        steps += _accumulate(["var", "__seed"], returned, v.active)
    for step in reversed(v.steps):
        if step[0] == "set" and step[1] in v.active:
            steps += _accumulate(["var", _d(step[1])], step[2], v.active)
        elif step[0] == "launch":
            steps.append(["launch", nests + step[1].nest])
            steps += [["set", _d(old), ["bin", "add", ["var", _d(old)], ["var", _d(new)]]]
                      for _, old, new, _ in step[1].sums
                      if old in v.active and new in v.active]
    items = [["var", "__ret"]] if p.result_type is not None else []
    items += [["var", _d(n)] for n, _, a in p.activities if a == "active"]
    steps.append(["return", ["tuple", items] if items else None])
    return steps


# --- derivative nests ---------------------------------------------------------------------------
_ENZYME = {("dup", "forward"): "enzyme_dup", ("dup", "reverse"): "enzyme_dup",
           ("active", "forward"): "enzyme_dup", ("active", "reverse"): "enzyme_active"}
_SUFFIX = {"forward": "jvp", "reverse": "vjp"}
_DTYPE = {"f64": "float64", "f32": "float32"}


def _activities(gp: GpuPlan, p: Plan, v: _Versions, launch: Launch) -> list[Activity]:
    from ..ir.gpu_derivs import Activity

    acts = {n: a for n, _, a in p.activities}
    out = []
    for c, t in gp.nests[launch.nest].captured:
        if isinstance(t, T.Array):
            act = "dup" if acts.get(c) == "dup" else "const"
        else:
            act = "active" if _is_float(t) and launch.names.get(c, c) in v.active else "const"
        out.append(Activity(c, t, act))
    return out


def derivative_module(gp: GpuPlan, p: Plan, v: _Versions,
                      device: bool = True) -> tuple[object, list[tuple]]:
    """The module of the derivative nests (in the current MLIR context) and, per nest in
    launch order, (Launch, function name, argument description). `device=False`: sums
    per thread instead of per warp (for running the module on the CPU)."""
    from ..ir.gpu_derivs import body_name, emit_bodies, emit_nest, float_sums
    from ..lowering.gpu_adjoint import BodySpec, differentiate_bodies, finish, taped

    mode = p.request.mode
    launches = [s[1] for s in v.steps if s[0] == "launch"]
    acts = {lc.nest: _activities(gp, p, v, lc) for lc in launches}
    specs = []
    for lc in launches:
        n = gp.nests[lc.nest]
        args = ["enzyme_const"] * len(n.loops) + [_ENZYME.get((a.activity, mode), "enzyme_const")
                                                  for a in acts[lc.nest]]
        ret = "enzyme_dup" if mode == "forward" else "enzyme_active"
        specs.append(BodySpec(body_name(lc.nest), tuple(args),
                              tuple(ret for _ in float_sums(n))))
    module = differentiate_bodies(emit_bodies(gp), specs, mode)
    adchecks.refuse_tapes(gp, taped(module, specs))
    out = []
    for lc in launches:
        name = f"{gp.nests[lc.nest].name}_{_SUFFIX[mode]}"
        out.append((lc, name, emit_nest(module, gp, lc.nest, mode, acts[lc.nest], name,
                                        device)))
    finish(module, ["__body"])
    return module, out


def _nest_args(kinds: list[list], lc: Launch, v: _Versions) -> tuple[tuple[NestArg, ...],
                                                                       tuple[Reduction, ...]]:
    new_of = {name: new for name, _, new, _ in v.all_sums[lc.nest]}
    args: list[NestArg] = []
    reductions: list[Reduction] = []
    for tag, key, mtype in kinds:
        if tag in ("count", "start", "step", "threads"):
            args.append(NestArg(tag, key, mtype))
            continue
        if tag in ("buffer", "dbuffer"):
            name = new_of[key] if key in new_of else lc.names.get(key, key)
            reductions.append(Reduction(name if tag == "buffer" else _d(name),
                                        _DTYPE[mtype.split("x")[1].rstrip(">")]))
            args.append(NestArg("reduction", len(reductions) - 1, mtype))
            continue
        name = new_of[key] if tag == "seed" else lc.names.get(key, key)
        args.append(NestArg("value", name if tag == "primal" else _d(name), mtype))
    return tuple(args), tuple(reductions)


def _bounds(gp: GpuPlan, lc: Launch) -> tuple:
    return tuple(tuple(had.rename(b, lc.names) for b in bounds)
                 for bounds in gp.nests[lc.nest].bounds)


def _manifest_nest(gp: GpuPlan, lc: Launch, kinds: list[list], launch: dict,
                   v: _Versions) -> Nest:
    args, reductions = _nest_args(kinds, lc, v)
    x, y, z = launch["block"]
    strided = any(a.what == "threads" for a in args)  # sums: ir/gpu_derivs.py
    return Nest(launch["kernel"], launch["ptx"], _bounds(gp, lc), args,
                tuple(KernelParam(*q) for q in launch["params"]), (x, y, z), strided,
                reductions)


def _primal_nest(nest: Nest, gp: GpuPlan, lc: Launch, v: _Versions) -> Nest:
    """A nest of the kernel's own manifest, reading the host values of launch `lc`."""
    args = tuple(NestArg(a.what, lc.names.get(a.key, a.key) if isinstance(a.key, str)
                         else a.key, a.mtype) for a in nest.args)
    news = [new for _, _, new, _ in v.all_sums[lc.nest]]
    reductions = tuple(Reduction(new, r.dtype) for new, r in zip(news, nest.reductions,
                                                                  strict=True))
    return Nest(nest.kernel, nest.ptx, _bounds(gp, lc), args, nest.params, nest.block,
                nest.strided, reductions)


# --- the derivative's manifest ------------------------------------------------------------------
def prepare(func: Callable[..., object], request: Request) -> tuple[GpuPlan, Plan, _Versions]:
    """The GPU plan of `func`, the derivative plan of `request` and the host steps in
    single-assignment form, with the refusals checked."""
    from .gpu import _plan

    gp = _plan(func)
    p = plan(gp.fn, request)
    adchecks.refuse_atomics(gp)
    if request.mode == "reverse":
        adchecks.refuse_whiles(gp)
        adchecks.check_reverse(gp)
    else:
        adchecks.refuse_int_sums(gp)
    if request.checkpoint is not None:
        raise TypeError("checkpoint= is for CPU kernels: a GPU kernel's derivative keeps no "
                        "tape")
    active = frozenset(n for n, t, a in p.activities if a in ("active", "dup"))
    return gp, p, _Versions(gp, active)


def derivative_manifest(func: Callable[..., object], request: Request,
                        options: CompileOptions) -> tuple[GpuManifest, Plan]:
    """The manifest of the derivative of GPU kernel `func` for `request`, and its plan."""
    from ..ir import mlir_context
    from .gpu import compile_gpu

    gp, p, v = prepare(func, request)
    chip = stage("gpu", "chip")(options.gpu_arch)
    name = f"{gp.fn.name}_{_SUFFIX[request.mode]}"
    with mlir_context():
        module, nests = derivative_module(gp, p, v)
        launches = {item["function"]: item for item in stage("gpu", "lower")(module, name, chip)}
    derived = [_manifest_nest(gp, lc, kinds, launches[fname], v) for lc, fname, kinds in nests]
    if request.mode == "forward":
        steps, all_nests = _forward_steps(v), derived
    else:
        primal = compile_gpu(func, options).manifest.nests  # the kernel's own (cached)
        launched = [lc for lc, _, _ in nests]
        all_nests = [_primal_nest(primal[lc.nest], gp, lc, v) for lc in launched] + derived
        steps = _reverse_steps(v, p, len(primal))
    kinds = tuple(t.kind for t in p.results if isinstance(t, T.Scalar))
    ret = Result(True, kinds) if kinds else None
    manifest = GpuManifest(name, chip, _params(p), tuple(step_from_json(s) for s in steps),
                           tuple(all_nests), ret)
    return manifest, p


def _params(p: Plan) -> tuple[Param, ...]:
    out = []
    for name, t in p.params:
        if isinstance(t, T.Array):
            out.append(Param(name, "array", t.dtype.np_dtype.name, t.ndim, name in p.written))
        elif isinstance(t, T.Scalar):
            out.append(Param(name, "scalar", t.np_dtype.name))
    return tuple(out)


def compile_gpu_derivative(func: Callable[..., object], request: Request,
                           options: CompileOptions) -> CompiledGpuDerivative:
    """The derivative of GPU kernel `func` for `request`, from the disk cache or compiled."""
    with COMPILE_LOCK, cache.Claim() as claim:
        key = None
        if options.cache:
            text = f"{cache_key(func, options)}|gpu-derivative|{request.key()}"
            key = hashlib.sha256(text.encode()).hexdigest()
        hit = claim.lookup(key) if key else None
        if hit is not None:
            _, p, _ = prepare(func, request)
            with open(hit[0]) as f:
                manifest = GpuManifest.from_json(json.load(f))
        else:
            manifest, p = derivative_manifest(func, request, options)
            if key:
                with tempfile.TemporaryDirectory(prefix="ember-gpu-") as tmp:
                    path = os.path.join(tmp, "manifest.json")
                    with open(path, "w") as f:
                        json.dump(manifest.to_json(), f)
                    cache.store(key, path, cache.Meta("gpu", manifest.name))
    from ..runtime.cuda import GpuDerivativeFunction

    entry = GpuDerivativeFunction(manifest)
    sig = Signature(p.params, p.entry_ret, p.written)
    return CompiledGpuDerivative(GpuDerivativeMain(manifest.name, entry, manifest, sig), p)
