"""Derivative builds of kernels that return arrays or tuples: results as out-parameters.

Enzyme differentiates Ember kernels whose result is a float or nothing; an array result is a
buffer the kernel allocates, which has no shadow. For a `jvp`/`vjp` build the driver therefore
rewrites the entry kernel: each leaf of its result (an array, or a float item of a tuple) is
copied into a new out-parameter `__ret<k>` (a float leaf into a 1-element array)
at the final `return`, which then returns nothing. The caller allocates those buffers with the
shapes of a primal call's result and reads values and derivatives from them and their shadows
(api/resultcall.py). `ResultLayout` records the leaves and how they nest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import types as T
from ..binding import Binding, Param
from ..errors import Span
from . import dataflow, tir

RETURN = "return"
PREFIX = "__ret"
TEMP = "__ember_result"
INTO = ("the result has shape {} where an earlier call with arguments of the same shapes "
        "gave {} (jacfwd/jacrev learn result shapes once per argument shapes: a result "
        "whose shape depends on array contents cannot be differentiated)")


@dataclass(frozen=True)
class ResultLayout:
    """The leaves of a converted result: `names[k]` holds leaf k (depth-first order) of
    `ret`, a float leaf in a 1-element array."""

    ret: T.Type
    names: tuple[str, ...]
    leaves: tuple[T.Type, ...]

    def expand(self, outputs: tuple[str, ...]) -> tuple[str, ...]:
        """Derivative outputs with 'return' (or none named: the default) as the leaves."""
        if not outputs:
            return self.names
        return tuple(n for o in outputs for n in (self.names if o == RETURN else (o,)))


def converts(fn: tir.Function) -> bool:
    """Whether `fn`'s result needs the conversion (an array, or a tuple)."""
    return isinstance(fn.ret, T.Array | T.Tuple)


def leaves(t: T.Type) -> tuple[T.Type, ...]:
    return tuple(x for i in t.items for x in leaves(i)) if isinstance(t, T.Tuple) else (t,)


def results_as_outputs(program: tir.Program) -> tuple[tir.Program, ResultLayout]:
    """`program` with its entry's result written into out-parameters (TypeError where a leaf
    of the result is not a float or float array)."""
    fn = program.functions[program.entry]
    found = leaves(fn.ret)
    for k, leaf in enumerate(found):
        dtype = leaf.dtype if isinstance(leaf, T.Array) else leaf
        if not (isinstance(dtype, T.Scalar) and dtype.is_float):
            where = f" (item {k} of {fn.ret})" if isinstance(fn.ret, T.Tuple) else ""
            raise TypeError(f"cannot differentiate '{fn.name}': it returns {leaf}{where}; "
                            "derivatives need float results (float arrays, or tuples of "
                            "floats and float arrays)")
    layout = ResultLayout(fn.ret, tuple(f"{PREFIX}{k}" for k in range(len(found))), found)
    bufs = tuple((n, _buffer(t)) for n, t in zip(layout.names, found, strict=True))
    writer = _Writer(fn, layout, len(program.sites))
    body = writer.body(fn.body)
    fast = writer.body(fn.fast_body) if fn.fast_body is not None else None
    types = {**fn.var_types, **dict(bufs), **writer.temps}
    entry = replace(fn, params=(*fn.params, *bufs), ret=T.none,
                    body=dataflow.annotate(body, types), var_types=types,
                    fast_body=dataflow.annotate(fast, types) if fast is not None else None,
                    written=fn.written | frozenset(layout.names),
                    binding=_binding(fn, layout.names), result_aliases=frozenset())
    functions = {**program.functions, program.entry: entry}
    return tir.Program(program.entry, functions, (*program.sites, *writer.sites)), layout


def _buffer(t: T.Type) -> T.Array:
    return t if isinstance(t, T.Array) else T.Array(t, 1)  # type: ignore[arg-type]


def _binding(fn: tir.Function, names: tuple[str, ...]) -> Binding:
    base = fn.binding or Binding(fn.name, tuple(Param(n) for n, _ in fn.params))
    return replace(base, params=(*base.params, *(Param(n) for n in names)))


class _Writer:
    """Rewrites the final `return value` into stores of its leaves."""

    def __init__(self, fn: tir.Function, layout: ResultLayout, first_site: int) -> None:
        self.fn, self.layout, self.first_site = fn, layout, first_site
        self.sites: list[tir.Site] = []
        self.temps: dict[str, T.Type] = {}

    def body(self, body: tuple[tir.Stmt, ...]) -> tuple[tir.Stmt, ...]:
        last = body[-1] if body else None
        if not isinstance(last, tir.Return) or last.value is None:
            raise TypeError(f"cannot differentiate '{self.fn.name}': no final return of "
                            f"its {self.fn.ret} result")
        span, value = last.span, last.value
        pre: list[tir.Stmt] = []
        if not isinstance(value, tir.Var | tir.TupleExpr):
            self.temps[TEMP] = value.type
            pre.append(tir.Assign(span, TEMP, value))
            value = tir.Var(value.type, span, TEMP)
        stores = [self.store(name, leaf, span) for name, leaf in
                  zip(self.layout.names, self.split(value), strict=True)]
        return (*body[:-1], *pre, *stores, tir.Return(span, None))

    def split(self, value: tir.Expr) -> list[tir.Expr]:
        """The leaves of `value` as expressions, depth-first."""
        if not isinstance(value.type, T.Tuple):
            return [value]
        items = value.items if isinstance(value, tir.TupleExpr) else tuple(
            tir.TupleGet(t, value.span, value, k) for k, t in enumerate(value.type.items))
        return [x for item in items for x in self.split(item)]

    def store(self, name: str, leaf: tir.Expr, span: Span) -> tir.Stmt:
        dest = tir.Var(_buffer(leaf.type), span, name)
        if not isinstance(leaf.type, T.Array):
            zero = tir.Const(T.i64, span, 0)
            return tir.Store(span, dest, (zero,), (False,), leaf)
        t = leaf.type
        mapped = leaf if isinstance(leaf, tir.ArrayMap) else tir.ArrayMap(
            t, span, (leaf,), tir.Elem(t.dtype, span, 0))
        template = INTO.format(_shape(t.ndim, 0), _shape(t.ndim, t.ndim))
        self.sites.append(tir.Site("ValueError", template, "q" * 2 * t.ndim, span.file,
                                   span.line, self.fn.name))
        return tir.ArrayStore(span, dest, mapped, self.first_site + len(self.sites) - 1,
                              exact=True)


def _shape(ndim: int, first: int) -> str:
    """A shape's message text over the message arguments first.. (as frontend/arrays.py)."""
    fields = ",".join(f"{{{first + k}}}" for k in range(ndim))
    return f"({fields}{',' if ndim == 1 else ''})"
