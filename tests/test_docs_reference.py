"""docs/python.md, the supported-subset reference, names every builtin function Ember types
(frontend/builtins.py) and every routine written in Ember (frontend/prelude_table.py), and the
README links to it: a builtin added without documenting it fails here."""

from pathlib import Path

from ember.frontend import builtins, prelude_table

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "python.md").read_text()


def _public_builtins() -> set[str]:
    internal = set(map(id, builtins.INTERNAL.values()))
    return {row.name for key, row in builtins.FUNCTIONS.items() if id(key) not in internal}


def test_every_builtin_is_named():
    missing = sorted(n for n in _public_builtins() if f"`{n}`" not in PAGE
                     and f"`{n.removeprefix('np.')}`" not in PAGE)
    assert not missing, f"docs/python.md does not name: {missing}"


def test_every_prelude_routine_is_named():
    missing = sorted(r.name for r in prelude_table.ROUTINES.values() if f"`{r.name}`" not in PAGE)
    assert not missing, f"docs/python.md does not name: {missing}"


def test_readme_links_the_reference():
    assert "docs/python.md" in (ROOT / "README.md").read_text()
