"""The manifest a generated loader embeds is the typed records' JSON: every entry reads back
as a `KernelEntry` or `DerivativeEntry` whose derivative info is the one the JIT describes."""

import ast
import json

import physics_mod
from aot_support import DERIVATIVES, FUNCTIONS, KERNELS, artifacts

from ember.aot.loader import DerivativeEntry, KernelEntry, entry_from_json


def _manifest(loader_text: str) -> list[dict]:
    """The `_MANIFEST` JSON a generated loader holds, parsed."""
    for node in ast.parse(loader_text).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "_MANIFEST":
            return json.loads(ast.literal_eval(node.value))
    raise AssertionError("the loader has no _MANIFEST")


def test_loader_manifest_reads_back_as_records(build):
    out, _ = build
    data = _manifest(artifacts(out)[2].read_text())
    entries = {e.name: e for e in map(entry_from_json, data)}
    assert set(entries) == set(FUNCTIONS)
    assert all(isinstance(entries[n], KernelEntry) for n in KERNELS)
    assert all(isinstance(entries[n], DerivativeEntry) for n in DERIVATIVES)
    assert [e.to_json() for e in map(entry_from_json, data)] == data
    dforce = entries["dforce"]
    assert isinstance(dforce, DerivativeEntry)
    jit = physics_mod.dforce.info()
    assert dforce.info.activities == jit.activities and dforce.info.wrt == jit.wrt == ("pos",)
