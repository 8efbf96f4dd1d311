"""Frontend step 1: reject everything outside the Ember subset, before any typing.

Input: the kernel's `ast.FunctionDef`. Output: nothing, or a `CompileError` at the first
construct Ember does not compile, naming it in the user's words.
"""

from __future__ import annotations

import ast
from typing import Final

from .list_scan import accepted_literals
from .source import Source

UNSUPPORTED: Final[dict[type, str]] = {
    ast.Try: "try/except statements are not supported in kernels; test the condition with "
    "'if' first (kernels can 'raise'), or catch the error around the kernel call",
    ast.With: "'with' statements are not supported in kernels; enter the context around the "
    "kernel call",
    ast.AsyncWith: "'async with' is not supported in kernels; kernels are synchronous: use it "
    "around the kernel call",
    ast.AsyncFor: "'async for' is not supported in kernels; kernels are synchronous: use a "
    "plain 'for'",
    ast.AsyncFunctionDef: "async functions cannot be kernels; write a plain 'def' (calls "
    "release the GIL, so threads or an executor can run them concurrently)",
    ast.Await: "'await' is not supported in kernels; await outside and pass the result in",
    ast.ClassDef: "class definitions are not supported in kernels; define the class at module "
    "level (a NamedTuple can be passed as a parameter)",
    ast.FunctionDef: "nested function definitions are not supported in kernels; "
    "define the helper at module level with @kernel",
    ast.Lambda: "lambda expressions are not supported in kernels; define a module-level "
    "@kernel function and call it",
    ast.Yield: "generators ('yield') are not supported in kernels; fill an array (or a list "
    "with .append) and return it",
    ast.YieldFrom: "generators ('yield from') are not supported in kernels; fill an array "
    "(or a list with .append) and return it",
    ast.Global: "'global' declarations are not supported in kernels; read module constants "
    "without it, and pass what the kernel changes as a parameter (arrays change in place)",
    ast.Nonlocal: "'nonlocal' declarations are not supported in kernels; pass what the "
    "kernel changes as a parameter (arrays change in place) or return it",
    ast.Delete: "'del' is not supported in kernels; leave the name unused (local arrays are "
    "freed after their last use)",
    ast.Import: "imports inside kernels are not supported; import at module level",
    ast.ImportFrom: "imports inside kernels are not supported; import at module level",
    ast.ListComp: "list comprehensions are not supported in kernels; use a loop and an array",
    ast.SetComp: "set comprehensions are not supported in kernels; build an array in a loop "
    "and take np.unique(...)",
    ast.DictComp: "dict comprehensions are not supported in kernels; use an array indexed "
    "by integer keys",
    ast.GeneratorExp: "generator expressions are not supported in kernels; use a loop, or a "
    "reduction of an array expression (np.sum(a * b))",
    ast.List: "a list display must be assigned to a name (b = [...]), iterated over, "
    "tested with 'in' or given to np.array(...) in kernels",
    ast.Dict: "dicts are not supported in kernels; use an array indexed by integer keys "
    "(or pass the values as parameters, a NamedTuple for a bundle)",
    ast.Set: "sets are not supported in kernels; use a tuple or list and 'in', or "
    "np.unique(...) of an array",
    ast.JoinedStr: "f-strings are only supported as messages of raise and assert in kernels; "
    "return the numbers and format them outside",
    ast.NamedExpr: "assignment expressions (':=') are not supported in kernels; assign the "
    "value on a line of its own first",
    ast.Starred: "starred expressions are not supported in kernels; pass or unpack the items "
    "one by one (a, b = t)",
    ast.Match: "'match' statements are not supported in kernels; use if/elif/else",
    ast.TryStar: "try/except* statements are not supported in kernels; test the condition "
    "with 'if' first, or catch the error around the kernel call",
}


def check_subset(src: Source) -> None:
    """Raise CompileError at the first node of `src` outside the subset."""
    fdef = src.tree
    _check_signature(src, fdef)
    messages = _exception_messages(fdef) | _array_literals(fdef) | accepted_literals(fdef)
    for stmt in fdef.body:
        for node in ast.walk(stmt):
            message = UNSUPPORTED.get(type(node))
            if message is not None and id(node) not in messages:
                raise src.error(node, message)
            _check_node(src, node)


def _exception_messages(fdef: ast.FunctionDef) -> set[int]:
    """The f-strings that are exception messages (`raise E(f"...")`, `assert c, f"..."`),
    the one place kernels accept them (frontend/raises.py)."""
    found: set[int] = set()
    for node in ast.walk(fdef):
        message = node.msg if isinstance(node, ast.Assert) else (
            node.exc.args[0] if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
            and node.exc.args else None)
        if isinstance(message, ast.JoinedStr):
            found |= {id(n) for n in ast.walk(message) if isinstance(n, ast.JoinedStr)}
    return found


def _array_literals(fdef: ast.FunctionDef) -> set[int]:
    """The (nested) lists given to `np.array`/`np.asarray` (frontend/creation.py) and the list
    of arrays given to np.concatenate/stack/hstack/vstack (selection.py): the places kernels
    accept them."""
    found: set[int] = set()
    for node in ast.walk(fdef):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.List):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("array", "asarray"):
                found |= {id(n) for n in ast.walk(node.args[0]) if isinstance(n, ast.List)}
            if name in ("concatenate", "stack", "hstack", "vstack"):  # selection.py
                found.add(id(node.args[0]))
    return found


def _check_signature(src: Source, fdef: ast.FunctionDef) -> None:
    args = fdef.args
    extra = args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults
    if extra:
        raise src.error(fdef, "kernels take plain positional parameters only "
                        "(no *args, **kwargs, keyword-only parameters or defaults)")
    for arg in args.args:
        if arg.annotation is None:
            raise src.error(arg, f"parameter '{arg.arg}' needs a type annotation, "
                            "e.g. 'x: float' or 'a: f64[:]'")


def _check_node(src: Source, node: ast.AST) -> None:
    if (isinstance(node, ast.Constant) and not isinstance(node.value, bool | int | float | complex)
            and node.value is not None and node.value is not Ellipsis
            and not isinstance(node.value, str)):
            raise src.error(node, f"constants of type {type(node.value).__name__} "
                            "are not supported in kernels; kernels compute with numbers and "
                            "arrays (strings only as raise/assert messages)")
    if isinstance(node, ast.For) and _is_prange(node.iter):
        for inner in _same_loop(node.body):
            if isinstance(inner, ast.Break | ast.Return):
                word = "break" if isinstance(inner, ast.Break) else "return"
                raise src.error(inner, f"a prange loop cannot {word}: its iterations run in "
                                "parallel; use range() for a loop that exits early")
    if isinstance(node, ast.ExceptHandler):
        raise src.error(node, "exception handling is not supported in kernels; test the "
                        "condition with 'if' first, or catch the error around the kernel call")


def _is_prange(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""
    return name == "prange"


def _same_loop(body: list[ast.stmt]) -> list[ast.AST]:
    """Statements of a loop body, not descending into nested loops (returns are kept)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.If):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.For | ast.While):
            stack.extend(n for n in ast.walk(node) if isinstance(n, ast.Return))
    return found
