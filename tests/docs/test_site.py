"""The docs site (issue 17): `mkdocs build --strict` of mkdocs.yml succeeds with no warning (broken
links, pages left out of the nav, API entries mkdocstrings cannot resolve are all errors), every
nav page is in the output, and the pages that promise completeness keep it: the API reference
names every public name, Troubleshooting every `@kernel` option and `EMBER_*` variable."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ember

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The site built once for this module: (output folder, mkdocs' log)."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}"
    return out, proc.stdout + proc.stderr


def _nav_pages(nav: list) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_site_builds_without_warnings(site: tuple[Path, str]):
    out, log = site
    assert "WARNING" not in log, log
    assert (out / "index.html").is_file() and (out / "search" / "search_index.json").is_file()


def test_every_nav_page_is_built(site: tuple[Path, str]):
    out, _ = site
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = _nav_pages(config["nav"])
    assert "index.md" in pages and "api.md" in pages
    for page in pages:
        html = out / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert html.is_file(), f"{page} is in the nav but {html} was not built"
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(pages)


def test_api_reference_names_every_public_name(site: tuple[Path, str]):
    page = (DOCS / "api.md").read_text()
    missing = [n for n in ember.__all__
               if f"::: ember.{n}\n" not in page and f"`ember.{n}`" not in page]
    assert not missing, f"docs/api.md does not document: {missing}"
    out, _ = site
    html = (out / "api" / "index.html").read_text()
    for name in ("kernel", "grad", "jacrev", "vmap", "build"):
        assert f'id="ember.{name}"' in html  # rendered from the docstrings


def test_troubleshooting_names_every_option_and_variable():
    page = (DOCS / "troubleshooting.md").read_text()
    options = [p for p in inspect.signature(ember.kernel).parameters if p != "func"]
    sources = [p for ext in ("*.py", "*.c") for p in (ROOT / "ember").rglob(ext)]
    read = re.compile(r'"(EMBER_[A-Z0-9_]+)"')  # os.environ.get("EMBER_X"), getenv("EMBER_X")
    variables = {v for p in sources for v in read.findall(p.read_text())}
    assert len(options) >= 8 and {"EMBER_CACHE_DIR", "EMBER_DEBUG"} <= variables
    missing = [n for n in options + sorted(variables) if f"`{n}`" not in page]
    assert not missing, f"docs/troubleshooting.md does not name: {missing}"


def test_readme_points_to_the_site():
    readme = (ROOT / "README.md").read_text()
    assert "mkdocs serve" in readme and "mkdocs build" in readme
