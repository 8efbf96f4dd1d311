"""The four layers import one way: frontend -> ir -> lowering -> runtime."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "ember"
FORBIDDEN = {
    "frontend": ("mlir", "ember.ir", "ember.lowering", "ember.runtime", "llvmlite"),
    "ir": ("ember.runtime", "ember.lowering", "llvmlite"),
    "lowering": ("ember.runtime", "llvmlite"),
}


def _imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    layer = path.relative_to(ROOT).parts[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
            elif node.level == 2 and node.module:  # from ..x import y
                names.append(f"ember.{node.module}")
            elif node.level == 1:
                names.append(f"ember.{layer}.{node.module or ''}")
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_go_one_way(layer):
    for path in (ROOT / layer).rglob("*.py"):
        for name in _imports(path):
            bad = [f for f in FORBIDDEN[layer] if name == f or name.startswith(f + ".")]
            assert not bad, f"{path.relative_to(ROOT)} imports {name}"


def test_detector_sees_a_violation(tmp_path):
    fake = ROOT / "frontend" / "source.py"
    assert "ember.errors" in _imports(fake)
