"""Frontend: the source of a batched kernel, a loop over a new axis around calls of a core kernel.

Input: a `Lift`: the core kernel's parameters (`Operand`: core type, and the axis of the
argument the loop runs along, None for an argument every element shares), its results
(`Result`: core type and the axis the loop's results are stacked along), serial or `prange`.
Output: Python source of a kernel taking the batched arguments (`source`) and the annotation
objects its parameters name (`param_types`), for the API (ember/api/vmap.py) to compile as an
ordinary kernel. Element `b` calls the core on views, `x[b]` for axis 0, `x[:, b]` for axis 1,
`a[b]` for a batched scalar, and stores each result into `out[b]` / `out[:, b]`.

Why source that calls the core rather than a rewrite of the typed tree: Ember already types,
inlines and differentiates calls of kernels on views, so the batched kernel is a `Kernel`
like any other (one compile per signature, grad/jvp/vjp, `ember build`, caches) and every
construct the core may use (while, early return, raise, local arrays, calls, tuples) keeps
the semantics it has when called; a tree rewrite would have to re-prove each. The loop is
the outermost, so each element runs the core's own (vectorized) inner loops on contiguous rows.
The same shape serves elementwise lifting with core dimensions (`vectorize`/`guvectorize`):
the core's array dimensions are the core dimensions, the new axis the loop dimension.

`reduce=True` makes the kernel for per-example gradients: it returns the sum of the core's
float results over the batch and stores each element's value into an extra parameter, so its
gradient with respect to batched copies of the `wrt` arguments is one gradient per element.
Array and tuple results take their shapes from element 0, which runs before the loop; later
elements must give the same shapes (ValueError otherwise, as `np.stack` of a loop of calls).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import types as T
from ..errors import CompileError, Span


@dataclass(frozen=True)
class Operand:
    """One parameter of the core kernel, as the batched kernel takes it."""

    name: str
    core: T.Type
    axis: int | None
    """The axis of the batched argument the loop runs along (non-negative); None: unbatched."""
    default: str | None = None
    """Source text of the parameter's default value, if it keeps one."""
    keyword_only: bool = False

    @property
    def batched(self) -> T.Type:
        """The type of the batched kernel's parameter."""
        if self.axis is None:
            return self.core
        if isinstance(self.core, T.Array):
            return T.Array(self.core.dtype, self.core.ndim + 1)
        assert isinstance(self.core, T.Scalar)
        return T.Array(self.core.strong(), 1)

    def at(self, b: str) -> str:
        """The argument element `b` passes to the core."""
        value = self.name if self.axis is None else f"{self.name}[{_index(self.axis, b)}]"
        return f"{self.name}={value}" if self.keyword_only else value


@dataclass(frozen=True)
class Result:
    """One result of the core kernel and the axis its batch is stacked along."""

    core: T.Scalar | T.Array
    axis: int


@dataclass(frozen=True)
class Lift:
    """A batched kernel: `callee` (a global name of the core) mapped over one new axis."""

    name: str
    label: str
    """How messages name the transform, e.g. "vmap(f)"."""
    callee: str
    operands: tuple[Operand, ...]
    results: tuple[Result, ...] | None
    """The core's results, or None if it returns nothing; one item for a single result."""
    single: bool
    """The core returns one value (not a tuple)."""
    parallel: bool = False
    reduce: bool = False
    checked: bool = True
    """The kernel checks that the batched arguments have one size (False: the caller passes
    equal sizes, e.g. a ufunc's inner loop, so the kernel has no raise of its own)."""
    outputs: bool = False
    """Scalar results are stored into trailing parameters `_out<k>` (batched along axis 0)
    instead of new arrays, and the kernel returns None: a ufunc's inner loop (api/ufunc.py)."""
    serial_below: int = 0
    """With `parallel`: a batch whose first batched argument has fewer elements than this
    runs the serial loop (starting threads would cost more than they save)."""


def param_types(lift: Lift) -> dict[str, T.Type]:
    """Global name -> the type each parameter annotation names."""
    found = {_type_name(op.name): op.batched for op in lift.operands}
    if lift.reduce and lift.results:
        found[_type_name(values_name(lift))] = T.Array(_dtype(lift.results[0]), 1)
    for name, r in zip(output_names(lift), lift.results or (), strict=False):
        found[_type_name(name)] = T.Array(_dtype(r), 1)
    return found


def output_names(lift: Lift) -> list[str]:
    """The out-parameters of an `outputs` lift, one per result (none otherwise)."""
    if not lift.outputs or not lift.results:
        return []
    taken = {op.name for op in lift.operands} | {lift.callee}
    names = []
    for k in range(len(lift.results)):
        name = f"_out{k}"
        while name in taken:
            name += "_"
        names.append(name)
    return names


def source(lift: Lift) -> str:
    """The batched kernel's source text (a module with one `def`)."""
    n = _Names(lift)
    body = [*_sizes(lift, n), *(_reduce(lift, n) if lift.reduce else _map(lift, n))]
    return "\n".join([_signature(lift, n), *("    " + line for line in body)]) + "\n"


def check_parallel(lift: Lift, written: Iterable[str], span: Span | None) -> None:
    """Refuse a parallel lift whose core writes an array every element shares."""
    if not lift.parallel:
        return
    for op in lift.operands:
        if op.axis is None and op.name in written:
            raise CompileError(
                f"{lift.label} with parallel=True: '{op.name}' is written by the kernel but not "
                f"batched (its in_axes entry is None), so parallel elements would race on it; "
                f"batch '{op.name}' (in_axes 0) or use parallel=False", span)


class _Names:
    """The local names of the generated kernel, none equal to a parameter's."""

    def __init__(self, lift: Lift) -> None:
        taken = {op.name for op in lift.operands} | {lift.callee}
        for base in ("n", "b", "s", "v", "ok", "values"):
            name = "_" + base
            while name in taken:
                name += "_"
            taken.add(name)
            setattr(self, base, name)

    n: str
    b: str
    s: str
    v: str
    ok: str
    values: str


def values_name(lift: Lift) -> str:
    """The extra parameter a `reduce` lift stores each element's value into."""
    return _Names(lift).values


def _type_name(param: str) -> str:
    return f"_T_{param}"


def _index(axis: int, b: str) -> str:
    return ", ".join([":"] * axis + [b])


def _signature(lift: Lift, n: _Names) -> str:
    params = [f"{op.name}: {_type_name(op.name)}"  # the values parameter follows them
              + (f" = {op.default}" if op.default and not lift.reduce else "")
              for op in lift.operands if not op.keyword_only]
    if lift.reduce:
        params.append(f"{n.values}: {_type_name(n.values)}")
    params += [f"{name}: {_type_name(name)}" for name in output_names(lift)]
    keywords = [f"{op.name}: {_type_name(op.name)}" + (f" = {op.default}" if op.default else "")
                for op in lift.operands if op.keyword_only]
    return f"def {lift.name}({', '.join(params + (['*', *keywords] if keywords else []))}):"


def _sizes(lift: Lift, n: _Names) -> list[str]:
    """`_n = <batch size>`, and `_ok`: whether every batched argument has that size."""
    batched = _batched(lift)
    first = batched[0]
    lines = [f"{n.n} = {first.name}.shape[{first.axis}]"]
    if len(batched) > 1 and lift.checked:
        same = " and ".join(f"{op.name}.shape[{op.axis}] == {n.n}" for op in batched[1:])
        lines.append(f"{n.ok} = {same}")
    return lines


def _size_check(lift: Lift, n: _Names) -> list[str]:
    """The ValueError of differing batch sizes. It comes after the loop (which then runs no
    element) where it can: a `raise` before the loop would put the loop into the else branch
    of an `if` (exit lifting), where the callee's local arrays need lowering/temporaries.py
    to move them out for reverse mode."""
    batched = _batched(lift)
    if len(batched) == 1 or not lift.checked:
        return []
    sizes = ", ".join(f"'{op.name}' has {{{op.name}.shape[{op.axis}]}} along axis {op.axis}"
                      for op in batched)
    return [f"if not {n.ok}:",
            f"    raise ValueError(f\"{lift.label}: batch sizes differ: {sizes}\")"]


def _batched(lift: Lift) -> list[Operand]:
    values = [Operand(values_name(lift), T.f64, 0)] if lift.reduce else []
    return [op for op in lift.operands if op.axis is not None] + values


def _call(lift: Lift, b: str) -> str:
    return f"{lift.callee}({', '.join(op.at(b) for op in lift.operands)})"


def _loop(lift: Lift, n: _Names, start: str) -> str:
    rng = "prange" if lift.parallel else "range"
    first = "" if start == "0" else f"{start}, "
    plain = len(_batched(lift)) == 1 or start != "0" or not lift.checked
    stop = n.n if plain else f"{n.n} if {n.ok} else 0"
    return f"for {n.b} in {rng}({first}{stop}):"


def _reduce(lift: Lift, n: _Names) -> list[str]:
    return [f"{n.s} = 0.0", _loop(lift, n, "0"),
            f"    {n.v} = {_call(lift, n.b)}",
            f"    {n.values}[{n.b}] = {n.v}",
            f"    {n.s} += {n.v}",
            *_size_check(lift, n), f"return {n.s}"]


def _map(lift: Lift, n: _Names) -> list[str]:
    if lift.results is None:
        return [*_small_serial(lift, [_loop(lift, n, "0"), f"    {_call(lift, n.b)}"]),
                *_size_check(lift, n)]
    if lift.outputs:
        return _map_into(lift, lift.results, n)
    if all(isinstance(r.core, T.Scalar) for r in lift.results):
        return _map_scalars(lift, lift.results, n)
    return _map_peeled(lift, lift.results, n)


def _out(k: int) -> str:
    return f"_o{k}"


def _targets(prefix: str, count: int, single: bool) -> str:
    names = ", ".join(f"{prefix}{k}" for k in range(count))
    return names if single or count > 1 else names + ","


def _returned(results: tuple[Result, ...], single: bool) -> str:
    outs = ", ".join(_out(k) for k in range(len(results)))
    return f"return {outs}" if single else f"return ({outs},)" if len(results) == 1 \
        else f"return ({outs})"


def _empty(dims: list[str], dtype: T.Scalar) -> str:
    shape = dims[0] if len(dims) == 1 else f"({', '.join(dims)})"
    return f"_np.empty({shape}, _np.{dtype.np_dtype.name})"


def _store(k: int, result: Result, b: str, value: str) -> str:
    return f"{_out(k)}[{_index(result.axis, b)}] = {value}"


def _map_scalars(lift: Lift, results: tuple[Result, ...], n: _Names) -> list[str]:
    lines = [f"{_out(k)} = {_empty([n.n], _dtype(r))}" for k, r in enumerate(results)]
    lines += [_loop(lift, n, "0"),
              f"    {_targets('_q', len(results), lift.single)} = {_call(lift, n.b)}"]
    lines += ["    " + _store(k, r, n.b, f"_q{k}") for k, r in enumerate(results)]
    return [*lines, *_size_check(lift, n), _returned(results, lift.single)]


def _map_into(lift: Lift, results: tuple[Result, ...], n: _Names) -> list[str]:
    """Each element's scalar results stored into the out-parameters."""
    outs = output_names(lift)
    lines = [_loop(lift, n, "0"),
             f"    {_targets('_q', len(results), lift.single)} = {_call(lift, n.b)}"]
    lines += [f"    {out}[{n.b}] = _q{k}" for k, out in enumerate(outs)]
    return [*_small_serial(lift, lines), *_size_check(lift, n)]


def _small_serial(lift: Lift, loop: list[str]) -> list[str]:
    """`loop` (a prange loop), run as a range loop for small batches (`serial_below`)."""
    if not lift.parallel or not lift.serial_below:
        return loop
    serial = [loop[0].replace(" in prange(", " in range(", 1), *loop[1:]]
    first = _batched(lift)[0].name
    return [f"if {first}.size < {lift.serial_below}:", *("    " + ln for ln in serial),
            "else:", *("    " + ln for ln in loop)]


def _map_peeled(lift: Lift, results: tuple[Result, ...], n: _Names) -> list[str]:
    """Element 0 before the loop gives the result shapes; the loop checks the others'."""
    lines = [*_size_check(lift, n),
             f"if {n.n} == 0:",
             f"    raise ValueError(\"{lift.label}: cannot map over an empty batch (size 0): "
             f"the shape of an array result comes from its first element\")",
             f"{_targets('_p', len(results), lift.single)} = {_call(lift, '0')}"]
    for k, r in enumerate(results):
        dims = [f"_p{k}.shape[{d}]" for d in range(_ndim(r))]
        lines += [f"{_out(k)} = {_empty(dims[:r.axis] + [n.n] + dims[r.axis:], _dtype(r))}",
                  _store(k, r, "0", f"_p{k}")]
    lines += [_loop(lift, n, "1"),
              f"    {_targets('_q', len(results), lift.single)} = {_call(lift, n.b)}"]
    for k, r in enumerate(results):
        lines += [f"    {line}" for line in _same_shape(lift, k, r, n.b)]
        lines.append("    " + _store(k, r, n.b, f"_q{k}"))
    return [*lines, _returned(results, lift.single)]


def _same_shape(lift: Lift, k: int, r: Result, b: str) -> list[str]:
    if _ndim(r) == 0:
        return []
    differs = " or ".join(f"_q{k}.shape[{d}] != _p{k}.shape[{d}]" for d in range(_ndim(r)))
    which = "result" if lift.single else f"result {k}"
    return [f"if {differs}:",
            f"    raise ValueError(f\"{lift.label}: the {which} of batch element {{{b}}} has "
            f"another shape than that of element 0\")"]


def _ndim(r: Result) -> int:
    return r.core.ndim if isinstance(r.core, T.Array) else 0


def _dtype(r: Result) -> T.Scalar:
    return r.core.dtype if isinstance(r.core, T.Array) else r.core
