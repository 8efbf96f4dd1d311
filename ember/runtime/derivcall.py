"""The per-call path of a compiled derivative (shared by the JIT and the AOT loader).

Input: a `DerivativeInfo` (plain data: which parameters are active, duplicated or constant,
what is differentiated) and the entries of the derivative and, for kernels with while loops,
of the trip-counting primal. A call zeroes or seeds the shadow buffers, runs the trip count on
copies of the arrays the kernel writes, passes C-contiguous arrays (copying writes back into
non-contiguous views), and packs the results as grad/value_and_grad/jvp/vjp return them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..binding import Binding, plain

RETURN = "return"
KINDS = ("grad", "value_and_grad", "jvp", "vjp")
ACTIVITIES = ("active", "dup", "const")


@dataclass(frozen=True)
class DerivativeInfo:
    """What a derivative's call path needs (driver/derivatives.py `describe` writes it; the
    JIT's `Derivative` and the AOT loader, from its manifest's JSON, read it)."""

    name: str
    kind: str
    """'grad', 'value_and_grad', 'jvp' or 'vjp'."""
    wrt: tuple[str, ...]
    single: bool
    """`wrt` was one name (the gradient is returned alone, not as a tuple)."""
    outputs: tuple[str, ...]
    activities: tuple[tuple[str, str], ...]
    """(parameter, 'active' | 'dup' | 'const'); the last may be the trip-count buffer."""
    has_result: bool
    loops: int
    """How many while loops have their trips counted (0: no counting entry)."""
    count_written: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    binding: Binding | None = None
    """How Python arguments bind to the kernel's flat parameters (None: positionally)."""
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(name, flat names) per name given as `wrt` when one is a tuple parameter (`wrt` holds
    the flat names; its gradient, tangent, is a tuple of its items'), else empty."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown derivative kind {self.kind!r}")
        for name, activity in self.activities:
            if activity not in ACTIVITIES:
                raise ValueError(f"unknown activity {activity!r} of parameter {name!r}")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "wrt": list(self.wrt),
                "single": self.single, "outputs": list(self.outputs),
                "activities": [list(a) for a in self.activities],
                "has_result": self.has_result, "loops": self.loops,
                "count_written": list(self.count_written), "written": list(self.written),
                "binding": self.binding.to_json() if self.binding is not None else None,
                "groups": [[n, list(items)] for n, items in self.groups]}

    @staticmethod
    def from_json(data: dict[str, Any]) -> DerivativeInfo:
        return DerivativeInfo(
            str(data["name"]), str(data["kind"]), tuple(data["wrt"]), bool(data["single"]),
            tuple(data["outputs"]), tuple((str(n), str(a)) for n, a in data["activities"]),
            bool(data["has_result"]), int(data["loops"]), tuple(data.get("count_written", ())),
            tuple(data.get("written", ())),
            Binding.from_json(data["binding"]) if data.get("binding") else None,
            tuple((str(n), tuple(items)) for n, items in data.get("groups", ())))

    def regroup(self, flat: Sequence[Any]) -> Any:
        """Values per flat `wrt` name -> what the user gets: one per name given (a tuple for
        a tuple parameter), alone if `wrt` was one name."""
        values = iter(flat)
        grouped = [next(values) if items == (n,) else tuple(next(values) for _ in items)
                   for n, items in self.groups] if self.groups else list(flat)
        return grouped[0] if self.single else tuple(grouped)

    def flat_tangents(self, given: Sequence[Any] | None) -> Sequence[Any] | None:
        """Tangents per name given -> per flat `wrt` name (a tuple parameter's: a tuple)."""
        if not self.groups or given is None or len(given) != len(self.groups):
            return given
        out: list[Any] = []
        for (name, items), value in zip(self.groups, given, strict=True):
            out.extend([value] if items == (name,) else value)
        return out


class DerivativeCall:
    """Callable like the derivative object: `(*args, tangents=..., cotangents=...)`."""

    def __init__(self, info: DerivativeInfo, main: Any, count: Any = None) -> None:
        self.info, self.main, self.count = info, main, count
        self.specialize: Any = None
        """pattern -> the DerivativeCall of the kernel's build where those Optional
        parameters are None (the JIT compiles it); None: only this one."""
        self.native: Any = None
        """The JIT's compiled derivative (api/autodiff.py serves the common call from the C
        dispatcher with it, see `dispatch_plan`); None: AOT."""
        self.__name__ = info.name
        # The common call (grad/value_and_grad, no while loop, contiguous arrays) is planned
        # once: which arguments get a zeroed shadow, and where each gradient comes from.
        self._quick = info.kind in ("grad", "value_and_grad") and not info.loops
        self._dups = tuple(a == "dup" for _, a in info.activities)
        active = [n for n, a in info.activities if a == "active"]
        shadowed = [n for n, a in info.activities if a == "dup"]
        first = 1 if info.has_result else 0
        self._picks = tuple(("s", shadowed.index(n)) if n in shadowed
                            else ("r", first + active.index(n)) for n in info.wrt)

    def dispatch_plan(self, entry_spec: str) -> tuple[str, tuple[Any, ...]] | None:
        """How the C dispatcher makes the common call (ember/_dispatch.c run_derivative), from
        the derivative entry's slot letters `entry_spec` (each primal argument's, its
        shadow's after it, then the seed's): (the primal arguments' letters, (kind, 'S' per
        primal argument that gets a zeroed shadow else '.', the seed's letter or '', per
        gradient result item k or shadow -1 - j, single)); None where only this path serves
        (jvp, vjp, while loops, tuple parameters in `wrt`)."""
        names = {n for n, _ in self.info.activities}
        if not self._quick or self.info.groups or names & {"tangents", "cotangents"}:
            return None  # (a parameter named like a keyword of this path: this path binds)
        primal, k = [], 0
        for dup in self._dups:
            primal.append(entry_spec[k])
            k += 2 if dup else 1
        seed = entry_spec[k:]
        if seed not in (("d", "f") if self.info.has_result else ("",)):
            return None
        picks = tuple(-1 - k if kind == "s" else k for kind, k in self._picks)
        shadowed = "".join("S" if dup else "." for dup in self._dups)
        return "".join(primal), (self.info.kind, shadowed, seed, picks, self.info.single)

    def __call__(self, *args: Any, tangents: Sequence[Any] | None = None,
                 cotangents: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        b = self.info.binding
        if kwargs or b is not None:
            b = b or plain(self.info.name, [n for n, _ in self.info.activities][
                :len(self.info.activities) - (1 if self.info.loops else 0)])
            values = b.bind(args, kwargs)
            pattern = b.pattern(values)
            if pattern != b.none:
                if self.specialize is None:
                    raise TypeError(f"{self.info.name}() is built for calls where "
                                    f"{', '.join(b.none) or 'no parameter'} is None")
                return self.specialize(pattern)(*args, tangents=tangents,
                                                cotangents=cotangents, **kwargs)
            args = tuple(b.flatten(values))
        if self._quick and len(args) == len(self._dups):
            done, result = self._quick_call(args)
            if done:
                return result
        return self._call(args, tangents, cotangents)

    def _quick_call(self, args: tuple) -> tuple[bool, Any]:
        entry: list[Any] = []
        shadows = []
        for value, dup in zip(args, self._dups, strict=True):
            if not (isinstance(value, np.ndarray) and value.flags.c_contiguous) and (
                    dup or isinstance(value, np.ndarray)):
                return False, None
            entry.append(value)
            if dup:
                shadow = np.zeros(value.shape, dtype=value.dtype)
                shadows.append(shadow)
                entry.append(shadow)
        if self.info.has_result:
            entry.append(1.0)
        results = self.main(*entry) or ()
        grad = self.info.regroup([shadows[k] if kind == "s" else results[k]
                                  for kind, k in self._picks])
        if self.info.kind == "value_and_grad":
            return True, (results[0] if self.info.has_result else None, grad)
        return True, grad

    def _call(self, args: tuple, tangents: Sequence[Any] | None,
              cotangents: Sequence[Any] | None) -> Any:
        info = self.info
        names = [n for n, _ in info.activities][:len(info.activities) - (1 if info.loops else 0)]
        if len(args) != len(names):
            plain(info.name, names).bind(args, {})  # raises CPython's TypeError
        if info.loops:
            args = (*args, self._trip_counts(args))
        given = args
        args = tuple(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args)
        seeds = _Seeds(info, tangents, cotangents)
        entry_args, shadows = seeds.arguments(args)
        results = self.main(*entry_args)
        results = () if results is None else results
        for (name, _), original, used in zip(info.activities, given, args, strict=False):
            if used is not original and name in info.written:
                original[...] = used  # the kernel's writes, into the caller's view
        return self._outputs(shadows, results)

    def _trip_counts(self, args: tuple) -> np.ndarray:
        """Run the primal on copies of the arrays it writes, recording while-loop trips."""
        counts = np.zeros(self.info.loops, dtype=np.int64)
        copies = [np.array(a, copy=True)
                  if n in self.info.count_written and isinstance(a, np.ndarray) else a
                  for (n, _), a in zip(self.info.activities, args, strict=False)]
        self.count(*copies, counts)
        return counts

    def _outputs(self, shadows: dict[str, Any], results: tuple) -> Any:
        info = self.info
        if info.kind == "jvp":
            return self._jvp_outputs(shadows, results)
        value = results[0] if info.has_result else None
        scalar = iter(results[1:] if info.has_result else results)
        active = {n: next(scalar) for n, a in info.activities if a == "active"}
        grad = info.regroup([shadows[n] if n in shadows else active[n] for n in info.wrt])
        return (value, grad) if info.kind == "value_and_grad" else grad

    def _jvp_outputs(self, shadows: dict[str, Any], results: tuple) -> Any:
        info = self.info
        outs = info.outputs or ((RETURN,) if info.has_result else ())
        if not outs:
            raise TypeError(f"{info.name}: the kernel has no float result; name the array "
                            "outputs to differentiate with outputs=...")
        tangent_of = {RETURN: results[1] if results else None, **shadows}
        tans = [tangent_of[o] for o in outs]
        value = results[0] if results else None
        return value, (tans[0] if len(tans) == 1 else tuple(tans))


class _Seeds:
    """Builds the derivative entry's arguments: shadows, tangents, cotangents, seed."""

    def __init__(self, info: DerivativeInfo, tangents: Any, cotangents: Any) -> None:
        self.info = info
        self.tangents = self._by_name(info.wrt, info.flat_tangents(tangents), "tangents") \
            if info.kind == "jvp" else {}
        outs = info.outputs or ((RETURN,) if info.has_result else ())
        if info.kind == "vjp":
            self.cotangents = self._by_name(outs, cotangents, "cotangents")
        else:
            self.cotangents = {RETURN: 1.0} if info.has_result else {}

    def _by_name(self, names: Sequence[str], values: Any, what: str) -> dict[str, Any]:
        if values is None or len(values) != len(names):
            raise TypeError(f"{self.info.name}() needs {what}=(...) with one value for each "
                            f"of {', '.join(names)}")
        return dict(zip(names, values, strict=True))

    def arguments(self, args: tuple) -> tuple[list[Any], dict[str, Any]]:
        out: list[Any] = []
        shadows: dict[str, Any] = {}
        forward = self.info.kind == "jvp"
        for (name, act), value in zip(self.info.activities, args, strict=True):
            out.append(value)
            if act == "dup":
                shadows[name] = self._shadow(name, value)
                out.append(shadows[name])
            elif act == "active" and forward:
                out.append(float(self.tangents[name]))
        if self.info.has_result and not forward:
            out.append(float(self.cotangents.get(RETURN, 0.0)))
        return out, shadows

    def _shadow(self, name: str, value: Any) -> np.ndarray:
        if not isinstance(value, np.ndarray):
            return value  # the entry rejects the primal before it with the kernel's error
        seed = (self.tangents if self.info.kind == "jvp" else self.cotangents).get(name)
        if seed is None:
            return np.zeros(value.shape, dtype=value.dtype)
        seed = np.asarray(seed)
        if seed.shape != value.shape:
            raise ValueError(f"{self.info.name}(): the seed for '{name}' has shape "
                             f"{seed.shape}, expected {value.shape}")
        return np.array(seed, dtype=value.dtype, copy=True)
