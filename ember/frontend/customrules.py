"""Frontend: `stop_gradient` and the call substitution of `ember.custom_jvp` rules.

`stop_gradient(x)` types as the op `stop_gradient` on a float scalar (ir/ops.py: the value;
ir/adrules.py: derivative zero) and, on a float array, as the array itself in primal builds
and as an elementwise copy through that op in derivative builds; a variable holding a
stopped array is read-only (`check_writes`), so both builds agree with plain Python.

A kernel `f` with a custom rule carries it as `f.__ember_jvp__` (api/custom.py). In
derivative builds (`Typer.ad`) a call of `f`, and `f` itself as the differentiated entry,
becomes a call of a generated *wrapper* kernel with f's flat parameters:

    s_x = stop_gradient(x); d_x = x - s_x          # each float scalar / read-only float array
    s_o = stop_gradient(o); d_o = np.zeros_like(o) # each written float array (out-parameter)
    t = jvp(<f's params, floats stopped>, <one tangent per float param, in order>)
    y = f(<floats stopped; written arrays as they are>)
    o += d_o                                       # the rule's out-tangents
    return y + t

`d_x` is zero in value but carries x's derivative, so for a rule LINEAR in its tangents the
values are f's and Enzyme differentiates only the rule: forward mode gets it directly, reverse
mode by transposing it. The rule's signature (checked here, CompileError at its `def`): f's
parameters, then one tangent per float parameter (same type; for a written array, the
out-tangent the rule writes), returning the tangent of f's result (None if f returns None);
its linearity in the tangents is checked by linearity.py.
"""

from __future__ import annotations

import ast
import dataclasses
import linecache
import types as pytypes
from typing import Any

import numpy as np

from .. import types as T
from ..adfuncs import stop_gradient as _stop
from ..errors import CompileError, Span
from . import aliasing, arrays, builtins, linearity, tir
from .operators import Typer, is_dotted, is_local
from .scope import Callees, Scope

RULE = "__ember_jvp__"
"""The attribute of a kernel's Python function naming its jvp rule (api/custom.py)."""
_WRAPPERS: dict[tuple[Any, ...], Any] = {}
"""(f, rule, flat parameters) -> the generated wrapper function, so it is typed once."""


def rule_of(func: Any) -> Any | None:
    return getattr(func, RULE, None)


# --- stop_gradient ---------------------------------------------------------------------------
def stop_gradient(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    if node.keywords or len(node.args) != 1:
        raise typer.error(node, "stop_gradient() takes one argument (a scalar or an array)")
    value = typer.expr(node.args[0])
    t, span = value.type, typer.src.span(node)
    dtype = t.dtype if isinstance(t, T.Array) else t
    if not isinstance(dtype, T.Scalar) or dtype.is_complex:
        raise typer.error(node.args[0], f"stop_gradient() takes a real scalar or array, "
                          f"not {t}")
    if not dtype.is_float or (isinstance(t, T.Array) and not typer.ad):
        return value  # nothing to stop (ints), or a primal build: the array itself
    if isinstance(t, T.Scalar):
        return tir.Call(t, span, "stop_gradient", (value,))
    return arrays.lift(typer, node, [value],
                       lambda e: tir.Call(e.type, span, "stop_gradient", (e,)))


def check_writes(typer: Typer, scope: Scope, fdef: ast.FunctionDef,
                 body: tuple[tir.Stmt, ...]) -> None:
    """Refuse stores into a variable assigned `stop_gradient(<array>)` (or a view of one), and
    passing `stop_gradient(<array>)` to a kernel that writes it: in plain Python it is the
    array itself, in derivative builds a copy."""
    stored = aliasing.written(scope)
    for node in ast.walk(fdef):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if (name in stored and isinstance(scope.vars.get(name), T.Array)
                and _is_stop(typer, node.value.func)):
            raise typer.error(node, f"'{name}' holds stop_gradient(...) of an array, which is "
                              "read-only in kernels, but it is written; write into a copy: "
                              f"{name} = stop_gradient(...).copy()")
    _check_written_args(typer, scope, fdef, body)


def _check_written_args(typer: Typer, scope: Scope, fdef: ast.FunctionDef,
                        body: tuple[tir.Stmt, ...]) -> None:
    stopped: dict[Span, list[tuple[int | str, ast.expr]]] = {}
    for node in ast.walk(fdef):
        if isinstance(node, ast.Call):
            args = [*enumerate(node.args), *((kw.arg, kw.value) for kw in node.keywords)]
            found: list[tuple[int | str, ast.expr]] = [
                (k, a) for k, a in args if k is not None and isinstance(a, ast.Call)
                and _is_stop(typer, a.func)]
            if found:
                stopped[typer.src.span(node)] = found
    for call in tir.walk(body):
        if isinstance(call, tir.KernelCall) and call.span in stopped:
            callee = scope.callees.functions.get(call.callee)
            if callee is not None:
                _refuse_written(typer, callee, stopped[call.span])


def _refuse_written(typer: Typer, callee: tir.Function,
                    args: list[tuple[int | str, ast.expr]]) -> None:
    names = [n for n, _ in callee.params]
    for k, arg in args:
        name = names[k] if isinstance(k, int) and k < len(names) else k
        if name in callee.written:
            raise typer.error(arg, f"stop_gradient(...) of an array is read-only in kernels, "
                              f"but '{callee.name}' writes its parameter '{name}'; pass a "
                              "copy: stop_gradient(...).copy()")


def _is_stop(typer: Typer, func: ast.expr) -> bool:
    if not is_dotted(func) or is_local(typer.scope, func):
        return False
    try:
        return typer.resolve(func) is _stop
    except CompileError:
        return False


# --- custom_jvp ------------------------------------------------------------------------------
def substitute(typer: Typer, func: Any, callee: tir.Function, span: Span) -> tir.Function:
    """The function a call of kernel `func` (typed as `callee`) calls: in derivative builds of
    a kernel with a custom rule, its wrapper."""
    rule = rule_of(func)
    if rule is None or not typer.ad:
        return callee
    found = wrapper(typer.scope.callees, func, rule, callee, span)
    return dataclasses.replace(found, ret=callee.ret)


def entry(callees: Callees, func: Any, primal: tir.Function) -> tir.Function:
    """The entry of a derivative build of `func`: its wrapper if it has a custom rule."""
    rule = rule_of(func)
    if rule is None:
        return primal
    found = wrapper(callees, func, rule, primal, primal.span)
    found = dataclasses.replace(found, binding=primal.binding)
    callees.functions[found.symbol] = found
    return found


def wrapper(callees: Callees, func: Any, rule: Any, primal: tir.Function,
            span: Span) -> tir.Function:
    _check_kernel(primal)
    floats = [(n, t) for n, t in primal.params if _is_float(t)]
    jvp = callees.signature(rule, span)
    want = [*primal.params, *floats]
    have = [t for _, t in jvp.params]
    ret = primal.ret if not isinstance(primal.ret, T.NoneType) else T.none
    if [_strong(t) for _, t in want] != [_strong(t) for t in have] \
            or _strong(jvp.ret) != _strong(ret):
        raise _bad_rule(primal, jvp, floats, ret)
    tangents = frozenset(n for n, _ in jvp.params[len(primal.params):])
    linearity.check_linear(jvp, tangents, callees.functions)
    key = (func, rule, primal.params)
    if key not in _WRAPPERS:
        _WRAPPERS[key] = _make_wrapper(func, rule, primal, {n for n, _ in floats})
    # typed per call site, every span pinned to the call: its errors and checks name that line
    return callees.specialize(_WRAPPERS[key], list(primal.params), span, span)


def _check_kernel(primal: tir.Function) -> None:
    b = primal.binding
    ret = primal.ret
    if b is not None and (b.none or any(p.items for p in b.params)):
        raise CompileError(f"custom_jvp kernel '{primal.name}' has a tuple or Optional "
                           "parameter; custom rules take scalars and arrays", primal.span)
    if not (isinstance(ret, T.NoneType) or _is_float(ret)):
        raise CompileError(f"custom_jvp kernel '{primal.name}' returns {ret}; a kernel with a "
                           "custom rule returns a float, a float array or None (write "
                           "other results into out-parameters)", primal.span)


def _bad_rule(primal: tir.Function, jvp: tir.Function, floats: list[tuple[str, T.Type]],
              ret: T.Type) -> CompileError:
    primals = ", ".join(f"{n}: {t}" for n, t in primal.params)
    tangents = ", ".join(f"d{n}: {t}" for n, t in floats)
    have = ", ".join(f"{n}: {t}" for n, t in jvp.params)
    return CompileError(
        f"the jvp rule '{jvp.name}' of custom_jvp kernel '{primal.name}' has the signature "
        f"({have}) -> {jvp.ret}; it must take the kernel's parameters, then one tangent per "
        f"float parameter, and return the tangent of the result: "
        f"({primals}, {tangents}) -> {ret}", jvp.span)


def _is_float(t: T.Type) -> bool:
    dtype = t.dtype if isinstance(t, T.Array) else t
    return isinstance(dtype, T.Scalar) and dtype.is_float


def _strong(t: T.Type) -> T.Type:
    return t.strong() if isinstance(t, T.Scalar) else t


def _make_wrapper(func: Any, rule: Any, primal: tir.Function, floats: set[str]) -> Any:
    """A Python kernel function computing f(stop(x)) + jvp(stop(x), x - stop(x))."""
    names = [n for n, _ in primal.params]
    written = {n for n in floats if n in primal.written}
    ns: dict[str, Any] = {"__ember_f": _Kernel(_clone(func)), "__ember_jvp": _Kernel(rule),
                          "__ember_sg": _stop, "__ember_np": np, "__ember_ret": primal.ret}
    ns.update({f"__ember_t{k}": t for k, (_, t) in enumerate(primal.params)})
    head = ", ".join(f"{n}: __ember_t{k}" for k, n in enumerate(names))
    ret = "None" if isinstance(primal.ret, T.NoneType) else "__ember_ret"
    lines = [f"def {primal.name}({head}) -> {ret}:"]
    lines += [f"    __cj_s_{n} = __ember_sg({n})" for n in names if n in floats]
    lines += [f"    __cj_d_{n} = __ember_np.zeros_like({n})" if n in written
              else f"    __cj_d_{n} = {n} - __cj_s_{n}"
              for n in names if n in floats]
    stopped = [f"__cj_s_{n}" if n in floats else n for n in names]
    tangents = [f"__cj_d_{n}" for n in names if n in floats]
    value = not isinstance(primal.ret, T.NoneType)
    lines.append(f"    {'__cj_t = ' if value else ''}__ember_jvp({', '.join(stopped + tangents)})")
    args = [n if n in written or n not in floats else f"__cj_s_{n}" for n in names]
    lines.append(f"    {'__cj_y = ' if value else ''}__ember_f({', '.join(_keywords(primal, args))})")
    lines += [f"    {n} += __cj_d_{n}" for n in names if n in written]
    lines.append("    return __cj_y + __cj_t" if value else "    return")
    return _define(primal.name, "\n".join(lines) + "\n", ns, func)


def _keywords(primal: tir.Function, args: list[str]) -> list[str]:
    """The arguments of the call of f, by keyword except positional-only parameters."""
    b = primal.binding
    positional = {p.name for p in b.params if p.positional_only} if b is not None else set()
    return [a if n in positional else f"{n}={a}"
            for (n, _), a in zip(primal.params, args, strict=True)]


def _define(name: str, text: str, ns: dict[str, Any], func: Any) -> Any:
    """Execute the wrapper's source under a file name linecache knows (frontend/source.py
    reads it back)."""
    file = f"<ember custom_jvp {func.__module__}.{func.__qualname__} {len(_WRAPPERS)}>"
    linecache.cache[file] = (len(text), None, text.splitlines(keepends=True), file)
    exec(compile(text, file, "exec"), ns)
    return ns[name]


class _Kernel:
    """What the typer calls as a kernel (frontend/calls.py reads `__ember_kernel__`)."""

    def __init__(self, func: Any) -> None:
        self.__ember_kernel__ = func


def _clone(func: Any) -> Any:
    """`func` without its rule: the wrapper calls the plain kernel."""
    copy = pytypes.FunctionType(func.__code__, func.__globals__, func.__name__,
                                func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__annotations__ = dict(func.__annotations__)
    copy.__qualname__, copy.__module__ = func.__qualname__, func.__module__
    return copy
