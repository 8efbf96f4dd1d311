"""Frontend step 4b: calls -> typed tree (builtins by table rule, and other kernels).

`call()` resolves the callee to a Python object, then either types a call of another kernel
(its parameters and return type come from its own typed `Function`) or applies the typing
rule that `builtins.py` names for that object. Each rule is one small function in `RULES`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from .. import types as T
from . import (
    aliasing,
    arrays,
    builtins,
    complex_calls,
    constants,
    creation,
    customrules,
    kernelargs,
    list_rules,
    params,
    prelude,
    prelude_table,
    products,
    reductions,
    scalars,
    selection,
    sugar,
    tir,
    ufunccall,
    ufuncs,
    views,
)
from .annotations import describe
from .operators import (
    Typer,
    array_attribute,
    binary,
    cast,
    is_dotted,
    is_local,
    narrowing,
    truth,
)
from .source import load_source
from .unsupported import function_message, method_message, module_function_message, node_kind

Rule = Callable[[Typer, ast.Call, builtins.Builtin, list[tir.Expr]], tir.Expr]


def call(typer: Typer, node: ast.Call) -> tir.Expr:
    func = node.func
    if is_local(typer.scope, func) or not is_dotted(func) or (
            isinstance(func, ast.Attribute) and constants.is_constant(typer, func.value)):
        return _method_call(typer, node)  # W.sum() of a module-level array W too
    target = typer.resolve(node.func)
    inner = getattr(target, "__ember_kernel__", None)
    if inner is not None:
        return kernel_call(typer, node, inner)
    elementwise = ufunccall.hook(target)  # an ember.vectorize ufunc called on scalars
    if elementwise is not None:
        return ufunccall.call(typer, node, elementwise, kernel_call)
    routine = prelude_table.lookup(target)
    if routine is not None or prelude.is_prelude_function(target):
        return (prelude.call(typer, node, routine) if routine is not None
                else prelude.helper_call(typer, node, target))
    row = builtins.lookup(target)
    if row is None:
        raise typer.error(node.func, _not_callable(typer, node.func, target))
    literal = scalars.float_literal(typer, node, target)  # float('inf')
    if literal is not None:
        return literal
    special = _SPECIAL_FORMS.get(row.rule)
    if special is not None:
        return special(typer, node, row)
    if node.keywords:
        raise typer.error(node, f"{row.name}() takes no keyword arguments in kernels")
    low, high = row.arity
    if not low <= len(node.args) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        raise typer.error(node, f"{row.name}() takes {count} argument(s), got {len(node.args)}")
    return _apply(typer, node, row, [typer.expr(a) for a in node.args])


def _apply(typer: Typer, node: ast.Call, row: builtins.Builtin,
           args: list[tir.Expr]) -> tir.Expr:
    """Row `row`'s typing rule on typed arguments (elementwise if one is an array)."""
    rule = complex_calls.gate(row, RULES[row.rule])
    if row.rule != "len" and arrays.any_array(args):
        return arrays.lift_call(typer, node, row, args, rule)
    if row.rule != "len":
        for arg, a in zip(args, node.args, strict=True):
            if not isinstance(arg.type, T.Scalar):
                raise typer.error(a, f"{row.name}() needs scalar arguments, not {arg.type}")
    result = rule(typer, node, row, args)
    t = result.type
    if row.name.startswith("np.") and isinstance(t, T.Scalar) and t.weak \
            and not complex_calls.keeps_python_number(row):
        return tir.Cast(t.strong(), result.span, result)  # np.tanh(0.5) is an np.float64
    return result


def _method_call(typer: Typer, node: ast.Call) -> tir.Expr:
    """`a.transpose(...)` of an array; any other call of a value is refused."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in complex_calls.METHODS and not node.args:
        return complex_calls.method(typer, node, typer.expr(func.value))
    if isinstance(func, ast.Attribute) and func.attr == "transpose" and not node.keywords:
        base = typer.expr(func.value)
        if isinstance(base.type, T.Array):
            return views.transpose(typer, node, base, list(node.args))
    for names, rule in _METHOD_FAMILIES:
        if isinstance(func, ast.Attribute) and func.attr in names:
            base = typer.expr(func.value)
            if isinstance(base.type, T.Array):
                return rule(typer, node, base)
    if isinstance(func, ast.Attribute) and func.attr == "astype":
        base = typer.expr(func.value)
        if isinstance(base.type, T.Array):
            if len(node.args) != 1 or node.keywords:
                raise typer.error(node, "astype() takes one dtype argument in kernels")
            return arrays.astype(typer, node, base, _dtype(typer, node.args[0]))
    return scalars.method(typer, node) or _refuse_call(typer, node)  # n.bit_length()


def _refuse_call(typer: Typer, node: ast.Call) -> NoReturn:
    raise typer.error(node, _value_call(typer, node.func))


def _reduction_method(typer: Typer, node: ast.Call, base: tir.Expr) -> tir.Expr:
    assert isinstance(node.func, ast.Attribute)
    return reductions.method(typer, node, node.func.attr, base, _dtype)


_METHOD_FAMILIES: tuple[tuple[frozenset[str], Callable[[Typer, ast.Call, tir.Expr], tir.Expr]],
                        ...] = ((reductions.METHODS, _reduction_method),
                                (selection.METHODS, selection.method),
                                (creation.METHODS, creation.method))
"""Array methods by family: the names each module types, and its typing function."""


def _value_call(typer: Typer, func: ast.expr) -> str:
    """Calling a method of a value (`n.bit_length()`, `a.sum()`) or any other value."""
    if isinstance(func, ast.Attribute):
        base = typer.expr(func.value)
        return method_message(func.attr, str(base.type), isinstance(base.type, T.Array))
    if isinstance(func, ast.Name):
        t = typer.expr(func).type
        return f"'{func.id}' is a local variable of type {t}; it cannot be called"
    return (f"calling {node_kind(func)} ('{ast.unparse(func)}') is not supported in kernels; "
            "kernels call functions and other kernels by name")


def _not_callable(typer: Typer, func: ast.expr, target: Any) -> str:
    name = ast.unparse(func)
    found = function_message(name, target) or module_function_message(name, target)
    if found is not None:
        return found
    if isinstance(func, ast.Attribute):
        owner = typer.resolve(func.value)
        if isinstance(owner, bool | int | float | np.generic):
            return method_message(func.attr, describe(owner), False)
    if callable(target) and hasattr(target, "__code__"):
        return (f"cannot call Python function '{name}' from a kernel; "
                "decorate it with @ember.kernel")
    return f"'{name}' ({describe(target)}) cannot be called in a kernel"


def kernel_call(typer: Typer, node: ast.Call, func: Any) -> tir.Expr:
    span = typer.src.span(node)
    none, flat = kernelargs.bind_call(typer.src, node, params.binding_of(load_source(func)),
                                      func.__name__, lambda a: typer.expr(a).type)
    callee = typer.scope.callees.signature(func, span, none)
    args = [_kernel_arg(typer, callee, pname, ptype, a)
            for (pname, ptype), a in zip(callee.params, flat, strict=True)]
    callee = customrules.substitute(typer, func, callee, span)  # custom_jvp rules
    return tir.KernelCall(callee.ret, span, callee.symbol, tuple(args))


def _kernel_arg(typer: Typer, callee: tir.Function, pname: str, ptype: T.Type,
                node: ast.expr) -> tir.Expr:
    arg = typer.expr(node)
    what = f"argument '{pname}' of kernel '{callee.name}'"
    if isinstance(ptype, T.Array) or not isinstance(arg.type, T.Scalar):
        if arg.type != ptype:
            raise typer.error(node, f"{what} must be {ptype}, got {arg.type}")
        if pname in callee.written:
            _mark_written(typer, node)
    fix = narrowing(arg.type, ptype)
    if fix is not None:
        raise typer.error(node, f"{what} is declared {ptype}, but this value has type "
                          f"{arg.type}; write {fix}(...) to convert it explicitly")
    return cast(arg, ptype)


def _mark_written(typer: Typer, node: ast.expr) -> None:
    name = views.root_name(node)  # a view passed on: its base is written
    if name is not None:
        aliasing.mark_written(typer.scope, name)


# --- rules ------------------------------------------------------------------------------------
def _call(t: T.Scalar, node: ast.Call, typer: Typer, op: str, *args: tir.Expr) -> tir.Expr:
    return tir.Call(t, typer.src.span(node), op, tuple(cast(a, t) for a in args))


def _scalar(e: tir.Expr) -> T.Scalar:
    assert isinstance(e.type, T.Scalar)
    return e.type


def _math1(typer: Typer, node: ast.Call, row: builtins.Builtin,
           args: list[tir.Expr]) -> tir.Expr:
    return _call(T.py_float, node, typer, row.op, args[0])


def _log(typer: Typer, node: ast.Call, row: builtins.Builtin,
         args: list[tir.Expr]) -> tir.Expr:
    if len(args) == 1:
        return _call(T.py_float, node, typer, "log", args[0])
    num = _call(T.py_float, node, typer, "log", args[0])
    den = _call(T.py_float, node, typer, "log", args[1])
    return tir.BinOp(T.py_float, typer.src.span(node), "truediv", num, den)


def _math2(typer: Typer, node: ast.Call, row: builtins.Builtin,
           args: list[tir.Expr]) -> tir.Expr:
    return _call(T.py_float, node, typer, row.op, *args)


def _to_int(typer: Typer, node: ast.Call, row: builtins.Builtin,
            args: list[tir.Expr]) -> tir.Expr:
    arg = args[0]
    if not _scalar(arg).is_float:
        return cast(arg, T.py_int)
    rounded = _call(T.py_float, node, typer, row.op, arg)
    return tir.Cast(T.py_int, rounded.span, rounded)


def _pred(typer: Typer, node: ast.Call, row: builtins.Builtin,
          args: list[tir.Expr]) -> tir.Expr:
    arg = cast(args[0], T.py_float)
    return tir.Call(T.py_bool, typer.src.span(node), row.op, (arg,))


def _np_pred(typer: Typer, node: ast.Call, row: builtins.Builtin,
             args: list[tir.Expr]) -> tir.Expr:
    t = T.float_of(T.arith_operand(_scalar(args[0])))
    return tir.Call(T.boolean, typer.src.span(node), row.op, (cast(args[0], t),))


def _ufunc1(typer: Typer, node: ast.Call, row: builtins.Builtin,
            args: list[tir.Expr]) -> tir.Expr:
    if row.op in ("floor", "ceil", "trunc") and not _scalar(args[0]).is_float:
        return cast(args[0], _scalar(args[0]).strong())  # NumPy 2 keeps int and bool dtypes
    t = T.float_of(T.arith_operand(_scalar(args[0])))
    return _call(t, node, typer, row.op, args[0])


def _ufunc2(typer: Typer, node: ast.Call, row: builtins.Builtin,
            args: list[tir.Expr]) -> tir.Expr:
    t = T.promote(T.arith_operand(_scalar(args[0])), T.arith_operand(_scalar(args[1])))
    if row.op == "pow" and t.is_int:
        return binary(typer, node, "pow", args[0], args[1])
    return _call(T.float_of(t), node, typer, row.op, *args)


def _fold(typer: Typer, node: ast.Call, op: str, args: list[tir.Expr]) -> tir.Expr:
    t = _scalar(args[0])
    for a in args[1:]:
        t = T.promote(t, _scalar(a))  # NumPy: np.maximum of bools is a bool
    result = cast(args[0], t)
    for a in args[1:]:
        result = tir.Call(t, typer.src.span(node), op, (result, cast(a, t)))
    return result


def _minmax(typer: Typer, node: ast.Call, row: builtins.Builtin,
            args: list[tir.Expr]) -> tir.Expr:
    return _fold(typer, node, row.op, args)


def _abs(typer: Typer, node: ast.Call, row: builtins.Builtin,
         args: list[tir.Expr]) -> tir.Expr:
    if row.name == "np.abs" and _scalar(args[0]).is_bool:
        return cast(args[0], T.boolean)  # np.abs(True) is np.True_, abs(True) is 1
    t = T.arith_operand(_scalar(args[0]))
    return _call(t, node, typer, "fabs" if t.is_float else "abs", args[0])


def _sign(typer: Typer, node: ast.Call, row: builtins.Builtin,
          args: list[tir.Expr]) -> tir.Expr:
    return _call(T.arith_operand(_scalar(args[0])), node, typer, "sign", args[0])


def _cast(typer: Typer, node: ast.Call, row: builtins.Builtin,
          args: list[tir.Expr]) -> tir.Expr:
    target = builtins.CAST_TARGETS[row.op]
    if target.is_bool:
        return cast(truth(args[0]), target)
    return cast(args[0], target)


def _round(typer: Typer, node: ast.Call, row: builtins.Builtin,
           args: list[tir.Expr]) -> tir.Expr:
    arg = args[0]
    t = _scalar(arg)
    if len(args) == 1 and row.rule == "round":
        if not t.is_float:
            return cast(arg, T.py_int)
        return tir.Cast(T.py_int, arg.span, _call(t, node, typer, "roundeven", arg))
    if not t.is_float:
        return cast(arg, T.arith_operand(t))
    digits = cast(args[1], T.i64) if len(args) == 2 else tir.Const(T.i64, arg.span, 0)
    # Python's round() rounds the exact binary value; numpy (and numpy scalars) scale first
    op = "pyround_n" if row.rule == "round" and t.weak else "round_n"
    return tir.Call(t, typer.src.span(node), op, (arg, digits))


def _len(typer: Typer, node: ast.Call, row: builtins.Builtin,
         args: list[tir.Expr]) -> tir.Expr:
    arg = args[0]
    if isinstance(arg.type, T.Tuple):
        return tir.Const(T.py_int, arg.span, len(arg.type.items))
    if not isinstance(arg.type, T.Array):
        raise typer.error(node, f"len() needs an array, not {arg.type}")
    return tir.Dim(T.py_int, typer.src.span(node), arg, 0)


def _range_len(typer: Typer, node: ast.Call, row: builtins.Builtin,
               args: list[tir.Expr]) -> tir.Expr:
    for a, arg in zip(node.args, args, strict=True):
        t = _scalar(arg)
        if not (t.is_int or t.is_bool):
            raise typer.error(a, f"range() arguments must be integers, not {t}")
    return _call(T.py_int, node, typer, "range_len", *args)


RULES: dict[str, Rule] = {
    "math1": _math1, "log": _log, "math2": _math2, "to_int": _to_int, "pred": _pred,
    "np_pred": _np_pred, "ufunc1": _ufunc1, "ufunc2": _ufunc2, "minmax": _minmax,
    "np_minmax": _minmax, "abs": _abs, "sign": _sign, "cast": _cast, "round": _round,
    "np_round": _round, "len": _len, "range_len": _range_len, "where": arrays.where,
    "clip": arrays.clip, **complex_calls.RULES,
}


# --- allocation ------------------------------------------------------------------------------
def _alloc(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    like = row.rule == "alloc_like"
    want = 2 if row.op == "full" else 1
    kwargs = {k.arg: k.value for k in node.keywords}
    extra = set(kwargs) - {"dtype", "fill_value", "shape" if not like else "dtype"}
    if extra or len(node.args) not in (want, want + 1) or None in kwargs:
        raise typer.error(node, f"{row.name}() is supported as {row.name}("
                          f"{'a' if like else 'shape'}{', fill_value' if want == 2 else ''}"
                          ", dtype=...)")
    positional = list(node.args)
    if len(positional) == want + 1:
        kwargs["dtype"] = positional.pop()
    first = typer.expr(positional[0])
    fill = typer.expr(positional[1]) if want == 2 else None
    shape: tuple[tir.Expr, ...]
    if like:
        if not isinstance(first.type, T.Array):
            raise typer.error(positional[0], f"{row.name}() needs an array, not {first.type}")
        shape = tuple(tir.Dim(T.py_int, first.span, first, k) for k in range(first.type.ndim))
        default = first.type.dtype
    else:
        shape = _shape(typer, positional[0], first)
        default = _default_dtype(fill)
    dtype = _dtype(typer, kwargs["dtype"]) if "dtype" in kwargs else default
    value = {"zeros": 0, "ones": 1}.get(row.op)
    span = typer.src.span(node)
    filler = tir.Const(dtype, span, value) if value is not None else fill
    filler = cast(filler, dtype) if filler is not None else None
    return tir.Alloc(T.Array(dtype, len(shape)), span, shape, filler)


def _shape(typer: Typer, node: ast.expr, value: tir.Expr) -> tuple[tir.Expr, ...]:
    items = value.items if isinstance(value, tir.TupleExpr) else (value,)
    if isinstance(value.type, T.Tuple) and not isinstance(value, tir.TupleExpr):
        items = tuple(tir.TupleGet(t, value.span, value, k)
                      for k, t in enumerate(value.type.items))
    for item in items:
        t = item.type
        if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
            raise typer.error(node, f"array shapes must be integers, not {t}")
    return tuple(cast(i, T.i64) for i in items)


def _default_dtype(fill: tir.Expr | None) -> T.Scalar:
    if fill is None or not isinstance(fill.type, T.Scalar):
        return T.f64
    return fill.type.strong()


def _dtype(typer: Typer, node: ast.expr) -> T.Scalar:
    if is_local(typer.scope, node):
        return _dtype_of(typer, node)
    if not (is_dotted(node) or isinstance(node, ast.Constant)):
        raise typer.error(node, f"unsupported dtype '{ast.unparse(node)}'; write np.float64, "
                          "'f8' or a.dtype")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            found = T.from_dtype(np.dtype(node.value))
        except TypeError:
            found = None
    else:
        obj = typer.resolve(node)
        found = builtins.DTYPE_NAMES.get(obj) if _hashable(obj) else None
        found = found or T.from_dtype(obj) if not isinstance(obj, T.Array) else None
    if found is None:
        raise typer.error(node, f"unsupported dtype '{ast.unparse(node)}'")
    return found


def _dtype_of(typer: Typer, node: ast.expr) -> T.Scalar:
    """`dtype=a.dtype`: the dtype of a local array."""
    if isinstance(node, ast.Attribute) and node.attr == "dtype":
        base = typer.expr(node.value)
        if isinstance(base.type, T.Array):
            return base.type.dtype
    raise typer.error(node, f"dtype must be a dtype (np.float64, 'f8', a.dtype, ...), "
                      f"not the value '{ast.unparse(node)}'")


def _hashable(obj: Any) -> bool:
    try:
        hash(obj)
        return True
    except TypeError:
        return False


# --- element loops (iteration.py) ------------------------------------------------------------
def _iterated(typer: Typer, node: ast.expr) -> tir.Expr:
    """The array a `for` loop iterates over (directly, or inside enumerate/zip)."""
    value = typer.expr(node)
    t = value.type
    if isinstance(t, T.Array | T.Tuple):  # a tuple: sugar.py picks its items
        return value
    name = ast.unparse(node)
    what = "this value" if name.startswith("__ember") else f"'{name}'"
    raise typer.error(node, f"cannot iterate over {what} of type {t}; for loops iterate over "
                      "range(...), arrays, tuples, enumerate(...) and zip(...)")


def _iter_len(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    array = _iterated(typer, node.args[0])
    if isinstance(array.type, T.Tuple):
        return tir.Const(T.py_int, array.span, len(array.type.items))
    return tir.Dim(T.py_int, array.span, array, 0)


def _item(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    array = _iterated(typer, node.args[0])
    index = cast(typer.expr(node.args[1]), T.i64)  # in [0, len): no wrap-around
    if isinstance(array.type, T.Tuple):
        return sugar.choose(typer, node, index, sugar.tuple_items(array))
    assert isinstance(array.type, T.Array)
    if array.type.ndim > 1:  # the items of an n-D array are its rows (views)
        return tir.View(T.Array(array.type.dtype, array.type.ndim - 1), typer.src.span(node),
                        array, (index,))
    return tir.Load(array.type.dtype, typer.src.span(node), array, (index,), (False,))


_SPECIAL_FORMS: dict[str, Callable[[Typer, ast.Call, builtins.Builtin], tir.Expr]] = {
    "alloc": _alloc, "alloc_like": _alloc, "iter_len": _iter_len,
    "item": _item, "inplace": arrays.inplace_value, "product": products.call,
    "reduce": lambda typer, node, row: reductions.call(typer, node, row, _dtype),
    "create": lambda typer, node, row: creation.create(typer, node, row, _dtype),
    "select": selection.call, "ufunc_operator": ufuncs.call,
    "list": list_rules.call, "stop_gradient": customrules.stop_gradient,
    **sugar.SPECIAL_FORMS, **scalars.SPECIAL_FORMS,
}


# --- attributes of calls ---------------------------------------------------------------------
def attribute_of_call(typer: Typer, node: ast.Attribute) -> tir.Expr:
    """`f(...).attr`: np.finfo/np.iinfo constants, or an attribute of the call's value."""
    call_node = node.value
    assert isinstance(call_node, ast.Call)
    func = call_node.func
    if is_dotted(func) and not is_local(typer.scope, func):
        target = typer.resolve(func)
        if target is np.finfo or target is np.iinfo:
            return _type_info(typer, node, call_node, target)
    value = typer.expr(call_node)
    if node.attr in complex_calls.PARTS and isinstance(value.type, T.Scalar | T.Array):
        return complex_calls.attribute(typer, node, value)
    return array_attribute(typer, node, value)


def _type_info(typer: Typer, node: ast.Attribute, call_node: ast.Call,
               info: Any) -> tir.Expr:
    """`np.finfo(dtype).eps`, `np.iinfo(dtype).max`, ...: a constant of the dtype (an
    integer that fits int64 stays a Python int, as NumPy returns one)."""
    name = ast.unparse(call_node.func)
    if len(call_node.args) != 1 or call_node.keywords:
        raise typer.error(call_node, f"{name}() takes one dtype argument in kernels")
    dtype = _dtype(typer, call_node.args[0])
    try:
        value = getattr(info(dtype.np_dtype), node.attr, None)
    except ValueError:
        kind = "a float" if info is np.finfo else "an integer"
        raise typer.error(call_node.args[0], f"{name}() needs {kind} dtype, not {dtype}") \
            from None
    span = typer.src.span(node)
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        return tir.Const(dtype, span, value.item())
    if isinstance(value, int) and not isinstance(value, bool):
        fits = -(1 << 63) <= value < 1 << 63
        return tir.Const(T.py_int if fits else dtype, span, value)
    raise typer.error(node, f"'{node.attr}' of {name}(...) is not supported in kernels; use "
                      "a numeric attribute such as .max, .min" + (", .eps or .tiny" if info
                                                                 is np.finfo else ""))
