"""Public `vectorize` and `guvectorize`: kernels as real NumPy ufuncs, Numba-style.

`@vectorize(["float64(float64, float64)", ...])` on a scalar kernel returns a `numpy.ufunc`
with one native inner loop per signature, so broadcasting, `out=`, `dtype=`, `where=`,
casting and `reduce`/`accumulate`/`reduceat`/`outer` (2-in/1-out ufuncs, with `identity=`)
all come from NumPy itself. `@guvectorize([...], "(n),(n)->()")` on a kernel writing its
outputs (the last parameters; a "()" output is a 1-element array written as `out[0] = ...`)
returns a generalized ufunc. `@vectorize` without signatures returns a `DynamicUFunc`, which
compiles a loop for each new combination of input dtypes at call time (like Numba's DUFunc)
and exposes the ufunc built so far (`.ufunc`): a `numpy.ufunc` cannot grow loops after
creation, so the object in front of it is not one; give signatures where a real ufunc is
needed up front (Dask, xarray, pickling by name).

Each loop is one Ember kernel: the kernel's source annotated with the signature's types (the
signature decides, as in Numba; the body is the user's, with its own line numbers), called by
a loop kernel from frontend/batching.py (`outputs=True`, no size checks) over one new axis,
with `prange` for `target="parallel"`. driver/ufuncs.py compiles it with NumPy's inner-loop
entry (runtime/ufuncloop.py), which also makes the ufunc.
"""

from __future__ import annotations

import copyreg
import hashlib
import linecache
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import types as T
from ..errors import CompileError, Span
from ..frontend import batching
from ..frontend.batching import Lift, Operand, Result
from ..options import CompileOptions
from ..parallel import prange
from ..runtime.ufuncloop import Loop, LoopOperand, make_ufunc
from .kernel import Kernel, _user_facing
from .pickling import install_ufunc_reducer
from .ufunckernel import Elementwise
from .ufuncopts import extra_options
from .ufuncsig import Layout, Signature, is_type_list, parse_layout, parse_signature

__all__ = ["DynamicUFunc", "UFuncSpec", "guvectorize", "vectorize"]

_TARGETS = {"cpu": False, "parallel": True}
SERIAL_BELOW = 16384
"""target="parallel": an inner loop over fewer elements of its first operand (loop and core
dimensions together) runs on the calling thread."""


def _options(target: str, cache: bool, fastmath: Any,
             extra: dict[str, Any]) -> tuple[CompileOptions, bool]:
    if target not in _TARGETS:
        raise ValueError(f"target={target!r} is not a ufunc target; use 'cpu' or 'parallel' "
                         "(for the GPU, write a kernel with target='gpu')")
    # Numba's fastmath flag sets ({"nnan", "contract"}) turn Ember's one switch on
    return CompileOptions(cache=cache, fastmath=bool(fastmath), **extra), _TARGETS[target]


def _signatures(signatures: Any) -> list[Signature]:
    single = isinstance(signatures, str) or is_type_list(signatures) or not isinstance(
        signatures, tuple | list)  # one string, type tuple or Numba signature object
    items = [signatures] if single else list(signatures)
    if not items:
        raise ValueError("the list of signatures is empty; give at least one, e.g. "
                         "['float64(float64, float64)'], or none at all for a DynamicUFunc")
    return [parse_signature(s) for s in items]


def vectorize(signatures: Any = None, *, target: str = "cpu", identity: Any = None,
              cache: bool = True, fastmath: Any = False, nopython: bool = True,
              **numba_options: Any) -> Any:
    """Turn a scalar kernel into a NumPy ufunc: `@vectorize`, `@vectorize(["float64(float64,
    float64)", "float32(float32, float32)"])`. With signatures: a real `numpy.ufunc` compiled
    now, one loop per signature (in that order: NumPy picks the first its inputs cast to
    safely). Without: a `DynamicUFunc` compiling one loop per new input dtypes. `target=
    "parallel"` splits each loop over threads; `identity` (0, 1, "reorderable", None or a
    value) is the ufunc's identity for `reduce`. Numba's other keywords (nopython,
    boundscheck, error_model, ...) are read by api/ufuncopts.py."""
    if callable(signatures) and not isinstance(signatures, str | list | tuple):
        return vectorize(target=target, identity=identity, cache=cache, fastmath=fastmath,
                         nopython=nopython, **numba_options)(signatures)
    if not nopython:
        raise ValueError("vectorize(nopython=False): Ember compiles every kernel; drop it")
    extra = extra_options("vectorize", numba_options)
    options, parallel = _options(target, cache, fastmath, extra)
    sigs = None if signatures is None else _signatures(signatures)

    def wrap(func: Any) -> Any:
        py, opts = _unwrap(func, options)
        if sigs is None:
            return DynamicUFunc(py, opts, identity, parallel)
        loops = [_vector_loop(py, opts, s, parallel) for s in sigs]
        u = _finish(py, loops, None, UFuncSpec(func, tuple(s.text for s in sigs), None,
                                               target, identity, cache, bool(fastmath),
                                               tuple(extra.items())))
        u.__ember_elementwise__ = Elementwise(py, opts, sigs, _annotated)  # type: ignore[attr-defined]
        return u
    return wrap


def guvectorize(signatures: Any, layout: str | None = None, *, target: str = "cpu",
                identity: Any = None, cache: bool = True, fastmath: Any = False,
                nopython: bool = True, **numba_options: Any) -> Callable[[Any], np.ufunc]:
    """Turn a kernel on core dimensions into a generalized NumPy ufunc (Numba's form):
    `@guvectorize(["void(float64[:], float64[:], float64[:])"], "(n),(n)->()")`. The outputs
    are the last parameters and are written by the kernel (a "()" output is a 1-element
    array: `out[0] = ...`); a "()" input may be a scalar or a 1-element array."""
    if layout is None and isinstance(signatures, str) and "->" in signatures:
        raise TypeError(f"guvectorize({signatures!r}): Ember needs the type signatures too "
                        "(no dynamic gufuncs), e.g. @guvectorize(['void(float64[:], "
                        f"float64[:])'], {signatures!r})")
    if layout is None:
        raise TypeError("guvectorize needs the signatures and the layout, e.g. "
                        "@guvectorize(['void(float64[:], float64[:])'], '(n)->()')")
    if not nopython:
        raise ValueError("guvectorize(nopython=False): Ember compiles every kernel; drop it")
    extra = extra_options("guvectorize", numba_options)
    options, parallel = _options(target, cache, fastmath, extra)
    sigs, lay = _signatures(signatures), parse_layout(layout)

    def wrap(func: Any) -> np.ufunc:
        py, opts = _unwrap(func, options)
        loops = [_gu_loop(py, opts, s, lay, parallel) for s in sigs]
        return _finish(py, loops, lay, UFuncSpec(func, tuple(s.text for s in sigs), lay.text,
                                                 target, identity, cache, bool(fastmath),
                                                 tuple(extra.items())))
    return wrap


@dataclass(frozen=True)
class UFuncSpec:
    """How an Ember ufunc was made (its `__ember_ufunc__`): enough to make it again in another
    process (`build()`), for pickling by value where the ufunc is not importable by name."""

    func: Any
    signatures: tuple[str, ...]
    layout: str | None
    target: str
    identity: Any
    cache: bool
    fastmath: bool
    extra: tuple[tuple[str, Any], ...] = ()
    """CompileOptions fields from Numba's other keywords (boundscheck, error_model)."""

    def portable(self) -> UFuncSpec:
        """This spec with a plain function as a by-value stand-in (api/pickling.py)."""
        from .pickling import by_value

        return replace(self, func=self.func if isinstance(self.func, Kernel)
                       else by_value(self.func))

    def build(self) -> np.ufunc:
        options = {"target": self.target, "identity": self.identity, "cache": self.cache,
                   "fastmath": self.fastmath, **dict(self.extra)}
        if self.layout is None:
            made: np.ufunc = vectorize(list(self.signatures), **options)(self.func)
            return made
        return guvectorize(list(self.signatures), self.layout, **options)(self.func)


def _unwrap(func: Any, options: CompileOptions) -> tuple[Any, CompileOptions]:
    if isinstance(func, Kernel):
        return func.py_func, replace(options, fastmath=options.fastmath
                                     or func.options.fastmath,
                                     opt_level=func.options.opt_level)
    if not callable(func) or not hasattr(func, "__code__"):
        raise TypeError(f"vectorize/guvectorize decorate a function (def), not "
                        f"{type(func).__name__}")
    return func, options


def _finish(py: Any, loops: list[tuple[Loop, int]], layout: Layout | None,
            spec: UFuncSpec | Any) -> np.ufunc:
    """The ufunc of `loops`; `spec`: its UFuncSpec, or the identity (a DynamicUFunc's)."""
    identity = spec.identity if isinstance(spec, UFuncSpec) else spec
    nin = len(layout.inputs) if layout is not None else len(py.__code__.co_varnames[
        :py.__code__.co_argcount])
    nout = loops[0][1]
    u = make_ufunc([lp for lp, _ in loops], nin, nout, py.__name__, py.__doc__ or "",
                   None if layout is None else layout.text.replace(" ", ""), identity)
    u.__module__ = py.__module__  # pickled by (module, name) lookup
    setattr(u, "__qualname__", py.__qualname__)  # noqa: B010 - read-only in the stubs
    if isinstance(spec, UFuncSpec):
        u.__ember_ufunc__ = spec  # type: ignore[attr-defined]
        install_ufunc_reducer()  # not importable by name: pickled by value (api/pickling.py)
    return u


def _rebuild(spec: UFuncSpec) -> np.ufunc:
    return spec.build()


def _reduce_ufunc(u: np.ufunc) -> Any:
    """Pickling of every `numpy.ufunc` once Ember's ufuncs exist: NumPy's by-name reduction,
    except for an Ember ufunc not reachable by its module and name (defined in `__main__`, a
    notebook or a function), which travels by value and compiles (or loads) again."""
    from .pickling import reference

    spec = getattr(u, "__ember_ufunc__", None)
    if isinstance(spec, UFuncSpec) and reference(u) is None:
        return _rebuild, (spec.portable(),)
    return _NUMPY_REDUCE(u) if _NUMPY_REDUCE is not None else u.__name__


_NUMPY_REDUCE = copyreg.dispatch_table.get(np.ufunc)
if _NUMPY_REDUCE is not _reduce_ufunc:  # a reload keeps NumPy's
    copyreg.pickle(np.ufunc, _reduce_ufunc)


# --- the kernels ------------------------------------------------------------------------------
def _param_names(py: Any) -> list[str]:
    code = py.__code__
    return list(code.co_varnames[:code.co_argcount])


def _def_span(py: Any) -> Span:
    """The `def` keyword of `py` (after its decorators)."""
    code = py.__code__
    file, first = code.co_filename, code.co_firstlineno
    for line in range(first, first + 40):
        text = linecache.getline(file, line)
        if text.lstrip().startswith("def "):
            col = len(text) - len(text.lstrip())
            return Span(file, line, col, line, col + 3, py.__name__)
    return Span(file, first, 0, first, 3, py.__name__)


def _refuse(py: Any, message: str) -> CompileError:
    return CompileError(message, _def_span(py))


def _annotated(py: Any, types: Sequence[T.Type], options: CompileOptions, tag: str) -> Kernel:
    """A kernel of `py`'s body with its parameters annotated `types` (signatures decide)."""
    from ..frontend.source import load_source

    src = load_source(py)
    names = _param_names(py)
    if len(names) != len(types):
        raise _refuse(py, f"the signature has {len(types)} argument type(s) but "
                          f"'{py.__name__}' takes {len(names)} parameter(s) "
                          f"({', '.join(names)}); give one type per parameter")
    fdef = src.tree
    lines = src.text.splitlines(True)
    first_body = fdef.body[0].lineno - 1  # 0-based in src.text
    if first_body <= fdef.lineno - 1:
        raise _refuse(py, f"'{py.__name__}' has its body on the 'def' line; put the body on "
                          "its own lines for vectorize/guvectorize")
    line = src.line_offset + first_body  # the file's line of the new header (1-based)
    at = lines[fdef.lineno - 1]
    indent = at[:len(at) - len(at.lstrip())]
    header = f"{indent}def {fdef.name}({', '.join(f'{n}: _T_{n}' for n in names)}):\n"
    pad = ["\n"] * (line - 1)
    if indent and pad:  # a nested def keeps its columns inside an `if True:` block
        pad[-1] = "if True:\n"
    text = "".join([*pad, header, *lines[first_body:]])
    scope = dict(py.__globals__)
    if py.__closure__:
        scope.update(zip(py.__code__.co_freevars,
                         (c.cell_contents for c in py.__closure__), strict=True))
    scope.update({f"_T_{n}": t for n, t in zip(names, types, strict=True)})
    func = _exec(text, f"{tag} {fdef.name}", fdef.name, scope)
    _REAL_FILES[func.__code__.co_filename] = src.file
    return Kernel(func, options)


_REAL_FILES: dict[str, str] = {}
"""The generated file of an annotated kernel -> the user's file (error spans point there:
the body keeps its lines and columns)."""


def _located(err: Exception) -> Exception:
    """A CompileError in an annotated copy, pointing at the user's file."""
    span = getattr(err, "span", None)
    if isinstance(err, CompileError) and span is not None and span.file in _REAL_FILES:
        err.span = replace(span, file=_REAL_FILES[span.file])
    return err


def _exec(text: str, label: str, name: str, scope: dict[str, Any]) -> Any:
    file = f"<ember {label} {hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    linecache.cache[file] = (len(text), None, text.splitlines(True), file)
    exec(compile(text, file, "exec"), scope)  # noqa: S102 - our own generated source
    func = scope[name]
    func.__qualname__ = name
    return func


def _typed(core: Kernel, qualname: str) -> Any:
    from ..frontend import build_program

    try:
        program = build_program(core.py_func)
    except Exception as err:
        raise _located(_user_facing(err, qualname)) from None
    return program.functions[program.entry]


def _dtype(t: T.Scalar | T.Array) -> np.dtype[Any]:
    return (t.dtype if isinstance(t, T.Array) else t).np_dtype


def _code(types: Sequence[T.Scalar | T.Array]) -> str:
    return "_".join(_dtype(t).str[1:] + ("x" * t.ndim if isinstance(t, T.Array) else "")
                    for t in types)


def _loop_kernel(lift: Lift, core: Kernel, options: CompileOptions,
                 operands: list[LoopOperand], raises_data: bool = True) -> Loop:
    from ..driver.ufuncs import compile_loop

    scope: dict[str, Any] = {"_np": np, "prange": prange, lift.callee: core,
                             "__name__": core.__module__, **batching.param_types(lift)}
    func = _exec(batching.source(lift), lift.name, lift.name, scope)
    try:
        compiled = compile_loop(func, options, operands)
    except Exception as err:
        raise _located(_user_facing(err, core.__qualname__)) from None
    data = _ErrorMaker(compiled.raise_error) if compiled.raises else None
    dtypes = tuple(_dtype(_item(op.core)) for op in lift.operands)
    outs = tuple(_dtype(r.core) for r in lift.results or ()) if lift.outputs else ()
    return Loop(compiled.address, data, dtypes + outs)


def _item(t: T.Type) -> T.Scalar | T.Array:
    assert isinstance(t, T.Scalar | T.Array)
    return t


class _ErrorMaker:
    """The `data` of a loop whose kernel can raise: returns the kernel's exception."""

    def __init__(self, raise_error: Callable[[], Any]) -> None:
        self.raise_error = raise_error

    def __call__(self) -> BaseException:
        try:
            self.raise_error()
        except Exception as err:  # noqa: BLE001 - handed to NumPy's caller
            return err
        return RuntimeError("an Ember ufunc loop failed")


def _vector_loop(py: Any, options: CompileOptions, sig: Signature,
                 parallel: bool) -> tuple[Loop, int]:
    arrays = [t for t in sig.args if isinstance(t, T.Array)]
    if arrays or sig.void:
        raise _refuse(py, f"vectorize signature {sig.text!r}: vectorize maps scalars to "
                          "scalars, e.g. 'float64(float64, float64)'; for array arguments or "
                          "outputs written in place use guvectorize with a layout")
    scalars = [t for t in sig.args if isinstance(t, T.Scalar)]
    core = _annotated(py, scalars, options, "vectorize")
    fn = _typed(core, py.__qualname__)
    items = fn.ret.items if isinstance(fn.ret, T.Tuple) else (fn.ret,)
    if not items or not all(isinstance(t, T.Scalar) for t in items):
        raise _refuse(py, f"vectorize: '{py.__name__}' must return a scalar (or a tuple of "
                          f"scalars), not {fn.ret}; write the element's value as `return x`, "
                          "or use guvectorize for array results")
    rets = [sig.ret or t.strong() for t in items if isinstance(t, T.Scalar)]
    if sig.ret is not None and len(rets) > 1:
        raise _refuse(py, f"vectorize signature {sig.text!r} names one return type but "
                          f"'{py.__name__}' returns {len(rets)} values")
    name = f"ufunc_{py.__name__}_{_code([*scalars, *rets])}" + ("_par" if parallel else "")
    lift = Lift(name, f"vectorize({py.__name__})", "_core_" + py.__name__,
                tuple(Operand(n, t, 0) for n, t in zip(_param_names(py), scalars,
                                                        strict=True)),
                tuple(Result(r, 0) for r in rets), not isinstance(fn.ret, T.Tuple),
                parallel, checked=False, outputs=True, serial_below=SERIAL_BELOW)
    operands = [LoopOperand(_dtype(t).itemsize) for t in [*scalars, *rets]]
    return _loop_kernel(lift, core, options, operands), len(rets)


def _gu_loop(py: Any, options: CompileOptions, sig: Signature, layout: Layout,
             parallel: bool) -> tuple[Loop, int]:
    names = _param_names(py)
    if len(sig.args) != len(layout.operands):
        raise _refuse(py, f"guvectorize: signature {sig.text!r} has {len(sig.args)} "
                          f"argument(s) but layout {layout.text!r} has "
                          f"{len(layout.operands)} operand(s); give one type per operand "
                          "(inputs, then outputs)")
    operands = _gu_operands(py, sig, layout, names)
    core = _annotated(py, sig.args, options, "guvectorize")
    fn = _typed(core, py.__qualname__)
    if not isinstance(fn.ret, T.NoneType):
        raise _refuse(py, f"guvectorize: '{py.__name__}' returns {fn.ret}; a guvectorize "
                          "kernel writes its outputs into its last parameters and returns "
                          "nothing (a '()' output is a 1-element array: out[0] = ...)")
    written = [n for n in names[:len(layout.inputs)] if n in fn.written]
    if written and parallel:
        raise _refuse(py, f"guvectorize(target='parallel'): input '{written[0]}' is written")
    name = f"gufunc_{py.__name__}_{_code(sig.args)}" + ("_par" if parallel else "")
    lift = Lift(name, f"guvectorize({py.__name__})", "_core_" + py.__name__,
                tuple(Operand(n, t, 0) for n, t in zip(names, sig.args, strict=True)),
                None, True, parallel, checked=False, serial_below=SERIAL_BELOW)
    return _loop_kernel(lift, core, options, operands), len(layout.outputs)


def _gu_operands(py: Any, sig: Signature, layout: Layout,
                 names: list[str]) -> list[LoopOperand]:
    index = layout.dim_index()
    nargs, offset, found = len(layout.operands), 0, []
    for k, (t, dims) in enumerate(zip(sig.args, layout.operands, strict=True)):
        ndim = t.ndim if isinstance(t, T.Array) else 0
        output = k >= len(layout.inputs)
        where = f"parameter '{names[k]}' ({'output' if output else 'input'} {k})"
        if isinstance(t, T.Scalar) and (dims or output):
            what = ("outputs are arrays the kernel writes; type it 'float64[:]' and write "
                    "out[0]" if output else f"its layout operand {'(' + ','.join(dims) + ')'} "
                    f"has {len(dims)} core dimension(s); type it as an array with that many")
            raise _refuse(py, f"guvectorize: {where} is a scalar in {sig.text!r}, but {what}")
        if isinstance(t, T.Array) and ndim != len(dims) and not (ndim == 1 and not dims):
            raise _refuse(py, f"guvectorize: {where} has {ndim} dimension(s) in "
                              f"{sig.text!r} but {len(dims)} core dimension(s) "
                              f"({','.join(dims)}) in layout {layout.text!r}; make them "
                              "agree")
        core: tuple[tuple[int, int] | None, ...] = tuple(
            (index[d], nargs + offset + j) for j, d in enumerate(dims))
        if isinstance(t, T.Array) and not dims:
            core = (None,)
        found.append(LoopOperand(_dtype(t).itemsize, core))
        offset += len(dims)
    return found


# --- without signatures -------------------------------------------------------------------
_ORDER = np.typecodes["All"]


def _rank(dtypes: tuple[np.dtype[Any], ...]) -> tuple[int, ...]:
    return tuple(_ORDER.find(dt.char) for dt in dtypes)


def _dtype_of(value: Any) -> np.dtype[Any]:
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype
    return np.asarray(value).dtype


def _scalar(name: str, dt: np.dtype[Any]) -> T.Scalar:
    found = T.from_dtype(dt)
    if found is None:
        raise TypeError(f"{name}: no loop for inputs of dtype {dt}; Ember ufuncs take bool, "
                        "integer, float and complex arrays")
    return found


class DynamicUFunc:
    """`@vectorize` without signatures: compiles one inner loop per new combination of input
    dtypes at call time and calls the ufunc holding every loop compiled so far (`.ufunc`,
    None before the first call). `reduce`, `accumulate`, `reduceat`, `outer` and `at` compile
    the loop their inputs need first. Loops are ordered from the smallest dtypes up, so
    NumPy picks the exact one."""

    def __init__(self, py: Any, options: CompileOptions, identity: Any, parallel: bool) -> None:
        self.py_func = py
        self.options = options
        self.identity_arg = identity
        self.parallel = parallel
        self.ufunc: np.ufunc | None = None
        self._loops: dict[tuple[np.dtype[Any], ...], tuple[Loop, int]] = {}
        self._lock = threading.Lock()
        self.__name__ = py.__name__
        self.__qualname__ = py.__qualname__
        self.__module__ = py.__module__
        self.__doc__ = py.__doc__
        self.nin = py.__code__.co_argcount
        self.__ember_elementwise__ = Elementwise(py, options, None, _annotated)  # kernels call it

    def _ufunc_for(self, dtypes: tuple[np.dtype[Any], ...]) -> np.ufunc:
        with self._lock:
            if dtypes not in self._loops or self.ufunc is None:
                sig = Signature(str(dtypes), tuple(_scalar(self.__name__, dt)
                                                   for dt in dtypes), None, False)
                self._loops[dtypes] = _vector_loop(self.py_func, self.options, sig,
                                                   self.parallel)
                ordered = sorted(self._loops.items(), key=lambda kv: _rank(kv[0]))
                self.ufunc = _finish(self.py_func, [v for _, v in ordered], None,
                                     self.identity_arg)
            return self.ufunc

    def _inputs(self, args: tuple[Any, ...]) -> np.ufunc:
        if len(args) < self.nin:
            raise TypeError(f"{self.__name__}() takes {self.nin} input(s), got {len(args)}")
        return self._ufunc_for(tuple(_dtype_of(a) for a in args[:self.nin]))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._inputs(args)(*args, **kwargs)

    def reduce(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._same(array).reduce(array, *args, **kwargs)

    def accumulate(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._same(array).accumulate(array, *args, **kwargs)

    def reduceat(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._same(array).reduceat(array, *args, **kwargs)

    def outer(self, a: Any, b: Any, **kwargs: Any) -> Any:
        return self._inputs((a, b)).outer(a, b, **kwargs)

    def at(self, a: Any, indices: Any, b: Any = None) -> None:
        u = self._inputs((a,) if b is None else (a, b))
        u.at(a, indices) if b is None else u.at(a, indices, b)

    def _same(self, array: Any) -> np.ufunc:
        dt = _dtype_of(array)
        return self._ufunc_for((dt,) * self.nin)

    @property
    def types(self) -> list[str]:
        return [] if self.ufunc is None else list(self.ufunc.types)

    @property
    def ntypes(self) -> int:
        return len(self.types)

    @property
    def nout(self) -> int:
        """1 before the first call (Numba's DUFunc says 1 too), then the loops' count."""
        return 1 if self.ufunc is None else int(self.ufunc.nout)

    @property
    def nargs(self) -> int:
        return int(self.nin) + self.nout

    @property
    def identity(self) -> Any:
        return self.identity_arg if self.ufunc is None else self.ufunc.identity

    def __reduce__(self) -> str | tuple[Any, ...]:
        """By reference where importable, else the function by value (api/pickling.py)."""
        from .pickling import by_value, reference

        if reference(self) is not None:
            return str(self.__qualname__)
        return DynamicUFunc, (by_value(self.py_func), self.options, self.identity_arg,
                              self.parallel)

    def __copy__(self) -> DynamicUFunc:
        return self

    def __deepcopy__(self, memo: Any) -> DynamicUFunc:
        return self

    def __repr__(self) -> str:
        return f"<ember.vectorize {self.__qualname__} (dynamic, {len(self._loops)} loop(s))>"
