"""Greedy test-case reducer for fuzzer failures (delta debugging on the AST).

`reduce_seed(seed)` finds the first failure of the program of `seed` and then repeatedly tries
smaller variants: delete a function or a statement, replace an if/for/while by one of its
bodies, replace an expression by one of its operands or by a constant, drop a piece of an
f-string message. A variant is kept when CPython still runs it without error (other than the
program's own raise/assert) and Ember still fails the same way on the same arguments.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import os
import re
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator

from tests.fuzz.generator import Program, generate
from tests.fuzz.runner import Failure, check_call, load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CANDIDATE_SECONDS = 10.0
_SIMPLE = [ast.Constant(0), ast.Constant(1), ast.Constant(0.0), ast.Constant(1.0),
           ast.Constant(True)]


def _stmt_lists(tree: ast.AST) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _statement_variants(tree: ast.Module, keep: str) -> Iterator[ast.Module]:
    """Each variant is a fresh deep copy with one statement-level edit applied."""
    n_blocks = sum(1 for _ in _stmt_lists(tree))
    for b in range(n_blocks):
        size = len(list(_stmt_lists(tree))[b])
        for i in range(size):
            for how in ("delete", "body", "orelse"):
                new = copy.deepcopy(tree)
                block = list(_stmt_lists(new))[b]
                stmt = block[i]
                if how == "delete":
                    if isinstance(stmt, ast.FunctionDef) and stmt.name == keep:
                        continue
                    replacement: list[ast.stmt] = []
                else:
                    replacement = getattr(stmt, how, None) or []
                    if not replacement or not isinstance(replacement[0], ast.stmt) or \
                            isinstance(stmt, ast.FunctionDef):
                        continue
                block[i:i + 1] = replacement
                if not block:
                    block.append(ast.Pass())
                yield new


def _body_exprs(tree: ast.Module) -> list[ast.expr]:
    """Expressions inside function bodies, except callees, annotations and attribute bases."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            skip.update(id(n) for n in ast.walk(node.args))
            skip.update(id(n) for d in node.decorator_list for n in ast.walk(d))
            if node.returns:  # array programs have no return annotation
                skip.update(id(n) for n in ast.walk(node.returns))
        elif isinstance(node, ast.AnnAssign):
            skip.update(id(n) for n in ast.walk(node.annotation))
        elif isinstance(node, ast.Call):
            skip.update(id(n) for n in ast.walk(node.func))
            skip.update(id(n) for k in node.keywords for n in ast.walk(k))
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            skip.update(id(n) for n in ast.walk(node.format_spec))
    return [n for n in ast.walk(tree) if isinstance(n, ast.expr) and id(n) not in skip
            and not isinstance(n, ast.Name | ast.Constant | ast.Slice | ast.FormattedValue)
            and not isinstance(getattr(n, "ctx", None), ast.Store)]


def _expr_variants(tree: ast.Module, keep: str) -> Iterator[ast.Module]:
    for k, node in enumerate(_body_exprs(tree)):
        if isinstance(node, ast.JoinedStr):  # drop one piece of an f-string
            for i in range(len(node.values)):
                new = copy.deepcopy(tree)
                del _body_exprs(new)[k].values[i]  # type: ignore[attr-defined]
                yield new
        options: list[ast.expr] = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)
                                   and not isinstance(c, ast.FormattedValue)] + _SIMPLE
        for option in options:
            new = copy.deepcopy(tree)
            target = _body_exprs(new)[k]
            replacement = copy.deepcopy(option)
            if not _replace(new, target, replacement):
                continue
            yield new


def _replace(tree: ast.AST, target: ast.expr, replacement: ast.expr) -> bool:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, replacement)
                return True
            if isinstance(value, list) and any(v is target for v in value):
                value[[i for i, v in enumerate(value) if v is target][0]] = replacement
                return True
    return False


def same_failure(a: Failure, b: Failure | None) -> bool:
    if b is None or a.kind != b.kind:
        return False
    if a.kind == "mismatch":  # of the result, an argument or the exception
        return a.message.split()[:1] == b.message.split()[:1]
    last = lambda f: f.message.strip().splitlines()[-1].split(":")[0]  # noqa: E731
    return last(a) == last(b)


def _crash_key(message: str) -> str:
    """The part of a crash message that identifies it: an assertion or an MLIR/LLVM error."""
    m = re.search(r"Assertion `.*' failed|error: [^\n]*", message)
    key = m.group(0) if m else message.strip().splitlines()[0]
    return re.sub(r'"[^"]*":\d+:\d+', "", key)


def crashes_like(program: Program, failure: Failure, timeout: float = 60.0) -> bool:
    """Run `program` in a subprocess: does it crash (or hang) as `failure` did?"""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(program.body)
    cmd = [sys.executable, "-m", "tests.fuzz", "--check-body", f.name,
           "--seed", str(program.seed)]
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return failure.kind == "timeout"
    finally:
        os.unlink(f.name)
    key = _crash_key(failure.message.split("\n", 1)[-1])
    return failure.kind == "crash" and r.returncode < 0 and \
        key == _crash_key(r.stderr.strip() or "?")


def reduce(program: Program, failure: Failure, log: Callable[[str], None] = print) -> Program:
    """The smallest variant of `program` found that still fails like `failure`."""
    if failure.kind in ("crash", "timeout"):
        def fails(body: str) -> bool:
            return crashes_like(Program(program.seed, body, program.functions), failure)
        return _greedy(program, failure.function, fails, log)
    fn = next(f for f in program.functions if f.name == failure.function)

    def fails(body: str) -> bool:
        candidate = Program(program.seed, body, program.functions)
        try:
            warnings.simplefilter("ignore", SyntaxWarning)
            py_mod = load(candidate.python_source, "rpy")
            em_mod = load(candidate.ember_source, "rem")
        except Exception:  # noqa: BLE001 - e.g. a deleted callee: not interesting
            return False
        if not hasattr(py_mod, fn.name):
            return False
        with _time_limit(CANDIDATE_SECONDS):  # a deleted `w += 1` loops forever
            result = check_call(candidate, fn, failure.trial, getattr(py_mod, fn.name),
                                getattr(em_mod, fn.name))
        return same_failure(failure, result)

    return _greedy(program, fn.name, fails, log)


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the Python code of a candidate that runs longer than `seconds` (its CPython
    run then raises TimeoutError, a python-error, so the candidate is dropped)."""
    def expired(signum, frame):
        raise TimeoutError(f"candidate ran over {seconds}s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _greedy(program: Program, keep: str, fails: Callable[[str], bool],
            log: Callable[[str], None]) -> Program:
    tree = ast.parse(program.body)
    for variants in (_statement_variants, _expr_variants, _statement_variants):
        changed = True
        while changed:
            changed = False
            for new in variants(tree, keep):
                body = ast.unparse(new)
                if len(body) < len(ast.unparse(tree)) and fails(_decorate(body)):
                    tree, changed = new, True
                    log(f"... {len(body)} chars")
                    break
    return Program(program.seed, _decorate(ast.unparse(tree)), program.functions)


def _decorate(body: str) -> str:
    """Two blank lines between functions, as in generated programs."""
    return re.sub(r"\n+@kernel", "\n\n\n@kernel", body) + "\n"


def crashes_like_any(program: Program, failure: Failure) -> bool:
    """Does `program` crash its process? If so, fill in `failure.message` with the reason."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(program.body)
    cmd = [sys.executable, "-m", "tests.fuzz", "--check-body", f.name,
           "--seed", str(program.seed)]
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    failure.message = f"exit code {r.returncode}\n{r.stderr.strip()[-2000:]}"
    return r.returncode < 0


def reduce_seed(seed: int) -> str:
    """Minimize the first failure of `seed`; the reproducer of the minimized program."""
    from tests.fuzz.runner import check_program
    program = generate(seed)
    crash = Failure(seed, "crash", "?", 0, "")
    if crashes_like_any(program, crash):
        small = reduce(program, crash)
        return f"# seed {seed}: crash, reduced to:\n{small.ember_source}\n# {crash.message}"
    failures = check_program(program)
    if not failures or failures[0].function == "<module>":
        return f"seed {seed}: nothing to reduce ({failures[0].summary() if failures else 'passes'})"
    small = reduce(program, failures[0])
    fn = next(f for f in small.functions if f.name == failures[0].function)
    py_mod, em_mod = load(small.python_source, "rpy"), load(small.ember_source, "rem")
    final = check_call(small, fn, failures[0].trial, getattr(py_mod, fn.name),
                       getattr(em_mod, fn.name))
    return final.report if final else "reduction lost the failure (flaky?)"
