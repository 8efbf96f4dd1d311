"""Ember's modules import one way: base -> frontend -> ir -> lowering -> runtime -> driver -> api
-> aot -> top (the package, cli), with no import circles.

Every import counts, also one inside a function or under `if TYPE_CHECKING:`: the AST of each
module is walked whole, so a circle cannot hide behind a lazy import.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "ember"

BASE = frozenset({"ember._version", "ember.errors", "ember.types", "ember.options",
                  "ember.binding",
                  "ember.safedir", "ember.parallel", "ember.adfuncs", "ember.driver.targets"})
"""Modules every layer may use: they import no other part of Ember (the target registry is a
table of names; the drivers it names are imported by their callers' layers)."""
LAYERS = ("base", "frontend", "ir", "lowering", "runtime", "driver", "api", "aot", "top")
"""A module may import modules of its own layer and of the layers before it. Every layer but
base and top is the folder of its name; top is `ember` itself, `ember.cli` and `__main__`."""
EXTERNAL = {
    "base": ("mlir", "llvmlite", "enzyme_ad"),
    "frontend": ("mlir", "llvmlite", "enzyme_ad"),
    "ir": ("llvmlite", "enzyme_ad"),
    "lowering": ("llvmlite",),
}
"""Outside packages a layer must not import."""

KNOWN_CIRCLES: list[set[str]] = []
"""Circles not yet removed (none since issue 12). The test fails on any other circle, and on a
circle listed here that has gone (then delete its entry)."""


def modules(root: pathlib.Path) -> dict[str, pathlib.Path]:
    """Dotted name -> file, for every module of the package at `root`."""
    found = {}
    for path in root.rglob("*.py"):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: pathlib.Path, known: dict[str, pathlib.Path]) -> set[str]:
    """Every module `name` imports, anywhere in the file: Ember modules resolved to their
    dotted names (`from . import x` names the submodule x if there is one), others as written."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
            found |= subs
            if len(subs) < len(node.names):
                found.add(base)
    found.discard(name)
    return found


def graph(root: pathlib.Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def layer(name: str) -> str:
    parts = name.split(".")
    if name in BASE or parts[:2] == ["ember", "prelude"]:  # the prelude imports only numpy
        return "base"
    if len(parts) > 1 and parts[1] in LAYERS[1:-1]:
        return parts[1]
    return "base" if name in BASE else "top"


def violations(edges: dict[str, set[str]]) -> list[str]:
    """`a imports b` for each import against the layer order or of a banned outside package."""
    package = next(iter(edges)).split(".")[0]
    bad = []
    for name, targets in sorted(edges.items()):
        rank = LAYERS.index(layer(name))
        for target in sorted(targets):
            top = target.split(".")[0]
            if top == package and target in edges:
                wrong = LAYERS.index(layer(target)) > rank
            else:
                wrong = top in EXTERNAL.get(layer(name), ())
            if wrong:
                bad.append(f"{name} ({layer(name)}) imports {target}")
    return bad


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start] & edges.keys())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(edges[child] & edges.keys()))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def test_every_module_follows_the_layer_order():
    assert violations(graph(ROOT)) == []


def test_no_new_import_circles():
    found = circles(graph(ROOT))
    new = [sorted(c) for c in found if not any(c <= known for known in KNOWN_CIRCLES)]
    assert not new, f"import circles among Ember modules: {new}"


def test_known_circles_are_still_there():
    found = circles(graph(ROOT))
    gone = [sorted(k) for k in KNOWN_CIRCLES if not any(c & k for c in found)]
    assert not gone, f"no longer circles, delete from KNOWN_CIRCLES: {gone}"


def _package(tmp_path: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    root = tmp_path / "ember"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_checker_reports_a_layer_violation(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "errors.py": "",
        "frontend/__init__.py": "",
        "frontend/a.py": "from ..errors import E\n\ndef f():\n    from ..ir import b\n",
        "frontend/c.py": "import mlir.ir\n",
        "ir/__init__.py": "",
        "ir/b.py": "from ..frontend import a\n",
    })
    assert violations(graph(root)) == ["ember.frontend.a (frontend) imports ember.ir.b",
                                       "ember.frontend.c (frontend) imports mlir.ir"]


def test_checker_reports_a_circle_through_a_lazy_import(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "from . import x\n",
        "x.py": "from .y import g\n",
        "y.py": "def g():\n    from .z import h\n",
        "z.py": "from . import x\n",
        "w.py": "from .x import f\n",
    })
    assert circles(graph(root)) == [{"ember.x", "ember.y", "ember.z"}]


@pytest.mark.parametrize("name, expected", [
    ("ember.frontend.exprs", "frontend"), ("ember.runtime.cuda", "runtime"),
    ("ember.types", "base"), ("ember.driver.cpu", "driver"), ("ember", "top"),
    ("ember.lowering", "lowering"), ("ember.__main__", "top"), ("ember.cli", "top"),
    ("ember.api.kernel", "api"), ("ember.aot.library", "aot"), ("ember.driver", "driver"),
    ("ember.driver.targets", "base"),
])
def test_layer_of_a_module(name, expected):
    assert layer(name) == expected
