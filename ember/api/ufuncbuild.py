"""The inner loops of an Ember ufunc (api/ufunc.py): the user's function typed by a signature.

`annotated` re-types the user's function with a signature's types: its source with annotated
parameters, at the same lines, errors pointing at the user's file. `vector_loop`/`gu_loop`
check the signature against the function (and the layout) and compile a loop kernel from
frontend/batching.py over one new axis (`prange` for target="parallel") with NumPy's
inner-loop entry (driver/ufuncs.py, runtime/ufuncloop.py); `finish` makes the `numpy.ufunc`
of the loops.
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable, Sequence
from dataclasses import replace
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
from .ufuncsig import Layout, Signature

SERIAL_BELOW = 16384
"""target="parallel": an inner loop over fewer elements of its first operand (loop and core
dimensions together) runs on the calling thread."""


def finish(py: Any, loops: list[tuple[Loop, int]], layout: Layout | None, identity: Any,
           spec: Any = None) -> np.ufunc:
    """The ufunc of `loops`; `spec`: its api/ufunc.py UFuncSpec (None for a DynamicUFunc's),
    which pickling by value rebuilds it from (api/pickling.py)."""
    nin = len(layout.inputs) if layout is not None else len(_param_names(py))
    nout = loops[0][1]
    u = make_ufunc([lp for lp, _ in loops], nin, nout, py.__name__, py.__doc__ or "",
                   None if layout is None else layout.text.replace(" ", ""), identity)
    u.__module__ = py.__module__  # pickled by (module, name) lookup
    setattr(u, "__qualname__", py.__qualname__)  # noqa: B010 - read-only in the stubs
    if spec is not None:
        u.__ember_ufunc__ = spec  # type: ignore[attr-defined]
        install_ufunc_reducer()  # not importable by name: pickled by value (api/pickling.py)
    return u


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


def annotated(py: Any, types: Sequence[T.Type], options: CompileOptions, tag: str) -> Kernel:
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


def vector_loop(py: Any, options: CompileOptions, sig: Signature,
                 parallel: bool) -> tuple[Loop, int]:
    arrays = [t for t in sig.args if isinstance(t, T.Array)]
    if arrays or sig.void:
        raise _refuse(py, f"vectorize signature {sig.text!r}: vectorize maps scalars to "
                          "scalars, e.g. 'float64(float64, float64)'; for array arguments or "
                          "outputs written in place use guvectorize with a layout")
    scalars = [t for t in sig.args if isinstance(t, T.Scalar)]
    core = annotated(py, scalars, options, "vectorize")
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


def gu_loop(py: Any, options: CompileOptions, sig: Signature, layout: Layout,
             parallel: bool) -> tuple[Loop, int]:
    names = _param_names(py)
    if len(sig.args) != len(layout.operands):
        raise _refuse(py, f"guvectorize: signature {sig.text!r} has {len(sig.args)} "
                          f"argument(s) but layout {layout.text!r} has "
                          f"{len(layout.operands)} operand(s); give one type per operand "
                          "(inputs, then outputs)")
    operands = _gu_operands(py, sig, layout, names)
    core = annotated(py, sig.args, options, "guvectorize")
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
