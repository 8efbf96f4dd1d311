"""How call arguments bind to a kernel's parameters: one fact shared by every stage.

The frontend reads a kernel's parameters into a `Binding` (frontend/params.py): names,
keyword-only parameters, default values (numbers, bools, None, tuples of numbers), tuple and
NamedTuple parameters (flattened: the native entry takes their items as separate parameters,
`Param.flat`) and Optional parameters (a None argument selects a specialization compiled
without that parameter, `Binding.none`). The JIT's call path (runtime/call.py), derivative
calls (runtime/derivcall.py), the C dispatcher's spec (driver/cpu.py) and the AOT loader (which
embeds this module) bind with it: `bind` follows CPython's rules and error wording, `flatten`
gives the native entry's arguments. Plain data and JSON-able (disk-cache metadata, loaders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter as Python sees it."""

    name: str
    items: tuple[str, ...] = ()
    """The flat names of a tuple parameter's items (empty for any other parameter)."""
    fields: tuple[str, ...] = ()
    """The field names of a NamedTuple parameter (one per item), else empty."""
    keyword_only: bool = False
    has_default: bool = False
    default: Any = None
    optional: bool = False
    """The parameter admits None (`X | None`, `Optional[X]`, or a default of None)."""
    positional_only: bool = False

    @property
    def flat(self) -> tuple[str, ...]:
        """The native entry's parameters for this one."""
        return self.items or (self.name,)

    def to_json(self) -> list[Any]:
        default = list(self.default) if isinstance(self.default, tuple) else self.default
        return [self.name, list(self.items), list(self.fields), self.keyword_only,
                self.has_default, default, self.optional, self.positional_only]

    @staticmethod
    def from_json(data: list[Any]) -> Param:
        name, items, fields, kwonly, has_default, default, optional, posonly = data[:8]
        default = tuple(default) if isinstance(default, list) else default
        return Param(name, tuple(items), tuple(fields), kwonly, has_default, default, optional,
                     posonly)


@dataclass(frozen=True)
class Binding:
    """A kernel's parameters, and which Optional ones are None in one compiled specialization."""

    func: str
    params: tuple[Param, ...]
    none: tuple[str, ...] = ()
    """The Optional parameters that are None in this specialization (not passed natively)."""

    @property
    def simple(self) -> bool:
        """Plain positional parameters only: the entry takes exactly the call's arguments."""
        return not self.none and not any(p.items or p.keyword_only or p.has_default
                                         or p.optional or p.positional_only
                                         for p in self.params)

    def shown(self, flat: str) -> str:
        """How errors name native parameter `flat`: 'x', 'pair' item 1, 'p' field 'k'."""
        for p in self.params:
            if flat in p.items:
                k = p.items.index(flat)
                return f"'{p.name}' field '{p.fields[k]}'" if p.fields else \
                    f"'{p.name}' item {k}"
        return f"'{flat}'"

    def default_pattern(self) -> tuple[str, ...]:
        """The Optional parameters whose default is None (the specialization of a call that
        passes none of them)."""
        return tuple(p.name for p in self.params if p.has_default and p.default is None)

    def bind(self, args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any]:
        """One value per parameter, as CPython binds them (TypeError with its wording)."""
        positional = [p for p in self.params if not p.keyword_only]
        if len(args) > len(positional):
            raise TypeError(self._too_many(positional, len(args)))
        values: dict[str, Any] = {p.name: a for p, a in zip(positional, args, strict=False)}
        names = {p.name for p in self.params if not p.positional_only}
        posonly = [k for k in kwargs if k in {p.name for p in self.params} - names]
        if posonly:
            raise TypeError(f"{self.func}() got some positional-only arguments passed as "
                            f"keyword arguments: '{', '.join(posonly)}'")
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{self.func}() got an unexpected keyword argument '{key}'")
            if key in values:
                raise TypeError(f"{self.func}() got multiple values for argument '{key}'")
            values[key] = value
        self._check_missing(values)
        return [values.get(p.name, p.default) for p in self.params]

    def _too_many(self, positional: list[Param], given: int) -> str:
        most = len(positional)
        least = sum(1 for p in positional if not p.has_default)
        takes = f"from {least} to {most}" if least != most else str(most)
        noun = "argument" if most == 1 and least == most else "arguments"
        was = "was" if given == 1 else "were"
        return f"{self.func}() takes {takes} positional {noun} but {given} {was} given"

    def _check_missing(self, values: dict[str, Any]) -> None:
        for kwonly, what in ((False, "positional"), (True, "keyword-only")):
            missing = [p.name for p in self.params if p.keyword_only == kwonly
                       and not p.has_default and p.name not in values]
            if missing:
                noun = "argument" if len(missing) == 1 else "arguments"
                raise TypeError(f"{self.func}() missing {len(missing)} required {what} "
                                f"{noun}: {_listing(missing)}")

    def pattern(self, values: Sequence[Any]) -> tuple[str, ...]:
        """The Optional parameters that `values` (from `bind`) pass None."""
        return tuple(p.name for p, v in zip(self.params, values, strict=True)
                     if p.optional and v is None)

    def flatten(self, values: Sequence[Any]) -> list[Any]:
        """The native entry's arguments: tuple parameters unpacked into their items, the None
        parameters of this specialization left out."""
        out: list[Any] = []
        for p, v in zip(self.params, values, strict=True):
            if p.name in self.none:
                continue
            if not p.items:
                out.append(v)
                continue
            if not isinstance(v, tuple) or len(v) != len(p.items):
                got = f"{len(v)} items" if isinstance(v, tuple) else type(v).__name__
                raise TypeError(f"{self.func}() argument '{p.name}' must be a tuple of "
                                f"{len(p.items)} items, got {got}")
            out.extend(v)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"func": self.func, "params": [p.to_json() for p in self.params],
                "none": list(self.none)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Binding:
        return Binding(data["func"], tuple(Param.from_json(p) for p in data["params"]),
                       tuple(data["none"]))


def _listing(names: list[str]) -> str:
    """CPython's list of missing names: 'x', 'x' and 'y', 'x', 'y', and 'z'."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def plain(func: str, names: Sequence[str]) -> Binding:
    """The binding of a kernel whose parameters are plain positional ones."""
    return Binding(func, tuple(Param(n) for n in names))


class BoundEntry:
    """A compiled specialization's entry called with Python arguments: binds them, and calls
    the flat entry `flat` if their None-pattern is this specialization's; otherwise the entry
    `specialize(pattern)` gives (the JIT compiles it), or a TypeError if there is none."""

    def __init__(self, binding: Binding, flat: Any, specialize: Any = None) -> None:
        self.binding, self.flat, self.specialize = binding, flat, specialize
        self.__name__ = binding.func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        b = self.binding
        values = b.bind(args, kwargs)
        pattern = b.pattern(values)
        if pattern == b.none:
            return self.flat(*b.flatten(values))
        if self.specialize is None:
            shown = ", ".join(b.none) or "no parameter"
            raise TypeError(f"{b.func}() is built for calls where {shown} is None; got None "
                            f"for {', '.join(pattern) or 'no parameter'}")
        return self.specialize(pattern)(*args, **kwargs)
