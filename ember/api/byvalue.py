"""Plain functions by value (api/pickling.py): what a kernel that pickle cannot find by name
carries to another process, and how it is made again there.

`reference(obj)` says whether `obj` is reachable as `module.qualname` of an imported module
other than `__main__` (and not one registered with `cloudpickle.register_pickle_by_value`).
`freeze(func)` is the `FrozenFunction` of anything else: the source text, its file name and
first line, the compiler flags (`from __future__ import annotations`) and the values of the
free names it reads (frontend/source.py resolves them as the compiler does): numbers, tuples,
NumPy arrays and other picklable values as they are, kernels as themselves (their own
`__reduce__`), modules by import name, NamedTuple classes of `__main__` by their fields and
annotations. A value that cannot be pickled is a `pickle.PicklingError` at pickling time
naming the kernel and the name. `thaw` executes the `def` in a fresh globals dict, its text
registered in `linecache` (frontend/sourcetext.py) under the original file name where that
file holds the same lines, else under `'<file> (pickled)'`, at the same line numbers: errors
in the new process point at the user's lines, and the disk-cache key (module, qualified name,
text, constants) is the sender's, so a process sharing the cache loads instead of compiling.
`by_value(func)` is a picklable stand-in that unpickles as a copy of the plain function.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import hashlib
import importlib
import linecache
import os
import pickle
import sys
import textwrap
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

MAIN = frozenset({"__main__", "__mp_main__"})
"""Module names of the main script: its kernels pickle by value (a fresh interpreter, or a
worker started with another main, has no such names)."""


_FUTURE = 0

for _feature in __future__.all_feature_names:
    _FUTURE |= getattr(__future__, _feature).compiler_flag

_IDENTITY = "__ember_pickled_decorator__"


_SIMPLE = (bool, int, float, complex, str, bytes, type(None), np.generic)


def reference(obj: Any) -> str | None:
    """The qualified name under which `obj` is found in its (imported, non-main) module, or
    None where `module.qualname` does not lead to `obj` itself."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or module in MAIN:
        return None
    found: Any = sys.modules.get(module)
    if found is None or _cloudpickle_by_value(found):
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return qualname if found is obj and found is not None else None


def _cloudpickle_by_value(module: types.ModuleType) -> bool:
    """Whether `cloudpickle.register_pickle_by_value(module)` asked to send the module's
    functions by value (e.g. to Dask workers that cannot import it): its kernels go so too."""
    cp = sys.modules.get("cloudpickle.cloudpickle")
    registered = getattr(cp, "_is_registered_pickle_by_value", None)
    return bool(registered(module)) if registered is not None else False


def is_kernel(value: Any) -> bool:
    """A kernel (it pickles itself), asked without running a vmap's lazy `__ember_kernel__`."""
    return hasattr(type(value), "__ember_kernel__") or \
        "__ember_kernel__" in getattr(value, "__dict__", {})


@dataclass(frozen=True)
class FrozenFunction:
    """A plain function by value: what `thaw` needs to make it again in another process."""

    module: str
    qualname: str
    file: str
    first_line: int
    """The 1-based line of the first line of `text` (its first decorator) in `file`."""
    text: str
    """The source as `inspect` gives it: decorators and indentation included."""
    flags: int
    """The `__future__` compiler flags the function was compiled with."""
    names: dict[str, Any]
    """The free names the function reads (globals and closure cells), frozen."""


def freeze(func: Any) -> FrozenFunction:
    """`func` by value; PicklingError if its source is unavailable or a name it reads is not
    picklable."""
    from ..errors import CompileError
    from ..frontend.source import load_source

    label = getattr(func, "__qualname__", repr(func))
    try:
        src = load_source(func)
    except CompileError as err:
        raise pickle.PicklingError(f"cannot pickle kernel '{label}' by value: "
                                   f"{err.message}") from None
    names = {name: _freeze_value(label, name, value) for name, value in _names_read(src, func)}
    return FrozenFunction(func.__module__, func.__qualname__, src.file, src.line_offset + 1,
                          src.text, func.__code__.co_flags & _FUTURE, names)


def _names_read(src: Any, func: Any) -> list[tuple[str, Any]]:
    """The free names (globals, closure cells) the function's code reads, with their values:
    names in the body, annotations (also string annotations) and defaults."""
    code = func.__code__
    local = set(code.co_varnames) | set(code.co_cellvars)
    found = {n.id for n in ast.walk(src.tree)
             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for note in _annotations(src.tree):
        found |= {name for n in ast.walk(note) if isinstance(n, ast.Constant)
                  and isinstance(n.value, str) for name in _names_in_text(n.value)}
    free = set(code.co_freevars) | set(func.__globals__)
    out = []
    for name in sorted(found - local):
        ok, value = src.lookup(name)
        if ok and name in free:
            out.append((name, value))
    return out


def _annotations(tree: ast.FunctionDef) -> list[ast.expr]:
    """The parameter, result and variable annotations of a function."""
    a = tree.args
    params = [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, (a.vararg, a.kwarg))]
    notes = [p.annotation for p in params if p.annotation is not None]
    notes += [n.annotation for n in ast.walk(tree) if isinstance(n, ast.AnnAssign)]
    return notes + ([tree.returns] if tree.returns is not None else [])


def _names_in_text(text: str) -> set[str]:
    """The names a string annotation such as 'f64[:]' reads (none for other strings)."""
    if len(text) > 200 or not text.strip():
        return set()
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _freeze_value(label: str, name: str, value: Any) -> Any:
    """`value` as it travels: modules by name, main-module NamedTuple classes by fields,
    kernels and plain data as they are; anything else must pickle."""
    if isinstance(value, types.ModuleType):
        return _Module(value.__name__)
    if is_kernel(value) or isinstance(value, _SIMPLE):
        return value
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value
    if _namedtuple_class(value) and reference(value) is None:
        return _NamedTupleClass.of(label, value)
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:
        raise pickle.PicklingError(
            f"cannot pickle kernel '{label}': the name '{name}' it reads is a "
            f"{type(value).__name__} that cannot be pickled ({err}); kernels travel with the "
            "values they read, so bind it to a number, tuple, NumPy array, kernel or module, "
            "or pass it as an argument") from None
    return value


def _namedtuple_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields")


class _Module:
    """A module read by a kernel: unpickles as the module, imported by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return importlib.import_module, (self.name,)


@dataclass(frozen=True)
class _NamedTupleClass:
    """A NamedTuple class that cannot be imported by name: rebuilt from its fields, their
    annotations (evaluated here) and defaults."""

    name: str
    module: str
    fields: tuple[str, ...]
    hints: dict[str, Any]
    defaults: dict[str, Any]

    @staticmethod
    def of(label: str, cls: Any) -> _NamedTupleClass:
        import typing

        try:
            hints = typing.get_type_hints(cls)
        except Exception:
            hints = dict(getattr(cls, "__annotations__", {}))
        fields = tuple(cls._fields)
        return _NamedTupleClass(cls.__name__, cls.__module__, fields,
                                {f: _freeze_value(label, f, hints[f]) for f in fields
                                 if f in hints},
                                dict(getattr(cls, "_field_defaults", {})))

    def __reduce__(self) -> tuple[Any, ...]:
        return _make_namedtuple, (self.name, self.module, self.fields, self.hints, self.defaults)


def _make_namedtuple(name: str, module: str, fields: tuple[str, ...], hints: dict[str, Any],
                     defaults: dict[str, Any]) -> Any:
    import collections

    known = [defaults[f] for f in fields if f in defaults]
    cls = collections.namedtuple(name, fields, defaults=known or None)  # type: ignore[misc]
    cls.__annotations__ = dict(hints)
    cls.__module__ = module
    return cls


def thaw(frozen: FrozenFunction) -> types.FunctionType:
    """The function `frozen` describes, defined in a fresh globals dict (its free names) with
    its text in `linecache` at its own line numbers."""
    file = _register(frozen)
    tree = ast.parse(textwrap.dedent(frozen.text))
    fdef = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    tree.body = [fdef]
    if fdef.decorator_list:  # the first decorator's line stays co_firstlineno (as inspect reads)
        first = fdef.decorator_list[0]
        fdef.decorator_list = [ast.copy_location(ast.Name(_IDENTITY, ast.Load()), first)]
    ast.increment_lineno(tree, frozen.first_line - 1)
    scope: dict[str, Any] = {"__name__": frozen.module, "__builtins__": builtins,
                             **frozen.names, _IDENTITY: _undecorated}
    exec(compile(tree, file, "exec", flags=frozen.flags, dont_inherit=True), scope)  # noqa: S102
    func: types.FunctionType = scope[fdef.name]
    del scope[_IDENTITY]
    if fdef.name in frozen.names:  # the name reads the kernel (recursion), not the function
        scope[fdef.name] = frozen.names[fdef.name]
    else:
        del scope[fdef.name]
    func.__qualname__ = frozen.qualname
    return func


def _undecorated(func: Any) -> Any:
    """What a thawed function's decorators become: it is defined plain (the kernel is
    rebuilt around it by its own `__reduce__`)."""
    return func


def _register(frozen: FrozenFunction) -> str:
    """The file name the function's text is read from: the original file where it holds the
    same lines there, else a derived name registered in `linecache` (merged with the other
    functions of the same file, padded so the lines keep their numbers)."""
    lines = frozen.text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = frozen.first_line - 1
    if os.path.isfile(frozen.file) and \
            linecache.getlines(frozen.file)[start:start + len(lines)] == lines:
        return frozen.file
    digest = hashlib.sha256(f"{start}:{frozen.text}".encode()).hexdigest()[:10]
    own = f"{frozen.file} (pickled {digest})"
    # top-level functions share one entry per file; an indented one (defined in a function)
    # gets its own, else inspect would read it as the end of the function above it
    for name in (own,) if lines[0][:1].isspace() else (f"{frozen.file} (pickled)", own):
        merged = _merge(linecache.cache.get(name), start, lines)
        if merged is not None:
            from ..frontend.sourcetext import register_source

            return register_source("".join(merged), name)
    raise AssertionError("a digest-named linecache entry holds other lines")


def _merge(entry: Any, start: int, lines: list[str]) -> list[str] | None:
    """The lines of `entry` (a linecache entry or None) with `lines` placed at `start`, or
    None where other text already sits there."""
    if entry is not None and len(entry) != 4:
        return None
    old = list(entry[2]) if entry is not None else []
    old += ["\n"] * (start + len(lines) - len(old))
    for k, line in enumerate(lines):
        if old[start + k].strip() and old[start + k] != line:
            return None
        old[start + k] = line
    return old


class by_value:  # noqa: N801 - used like a function: `by_value(func)`
    """A picklable stand-in for the plain function `func` (by value, as kernels are):
    unpickling it gives a copy of the function, its text registered in `linecache`."""

    def __init__(self, func: Any) -> None:
        self.frozen = freeze(func)

    def __reduce__(self) -> tuple[Any, ...]:
        return thaw, (self.frozen,)
