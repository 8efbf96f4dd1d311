"""Every ```python block of docs/*.md and README.md runs (issue 17): the docs cannot drift.

One test per page. A page's python blocks run in order in one namespace, as one module written
to a temporary `.py` file (kernels need their source in a file) in which each block sits at its
own line numbers of the page, so a traceback's `line N` is line N of the Markdown file. After
the last block, every `@kernel` the page defines is compiled (`Kernel.compile()`; the PTX of a
`target="gpu"` kernel, which needs no GPU), so an example that is only defined is type-checked
too. Each page runs in a fresh interpreter under a time limit, sharing the session's disk cache
(tests/conftest.py). Expected output is written as `assert` statements in the blocks.

Conventions, each on the line right before a fence:
- ```` ```python ```` blocks run; every other block names its language: ```` ```text ````
  (output, diagrams, fragments), ```` ```console ```` / ```` ```bash ```` (shell), ```` ```c ````.
  An unlabelled fence is an error (it could be Python nobody runs).
- `<!-- skip: why -->` before a python block: not run (a fragment that cannot be made to run,
  e.g. a summary of signatures). Use sparingly; the reason is required.
- `<!-- gpu -->` before a python block: run only where a GPU is available (like tests marked
  `gpu`); without one the block is left out.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^(?P<indent>\s*)(?P<ticks>```+|~~~+)\s*(?P<lang>[\w+-]*)\s*$")
MARK = re.compile(r"^\s*<!--\s*(?P<kind>skip|gpu)\s*(?::\s*(?P<why>.*?))?\s*-->\s*$")
LANGUAGES = {"python", "text", "console", "bash", "c", "mlir", "llvm", "toml", "yaml", "ini"}
TIMEOUT_S = 300

EPILOGUE = '''

def _compile_page_kernels():
    import ember
    for value in list(globals().values()):
        code = getattr(getattr(value, "py_func", None), "__code__", None)
        if isinstance(value, ember.Kernel) and code is not None and code.co_filename == __file__:
            if value.options.target == "gpu":
                value.inspect("ptx")
            else:
                value.compile()


if __name__ == "__main__":  # not again in the children of a spawn-started pool
    _compile_page_kernels()
'''


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    line: int
    """Line number (1-based) of the block's first code line."""
    lang: str
    code: tuple[str, ...]
    mark: str | None
    """'skip', 'gpu' or None: the marker comment on the line before the fence."""
    why: str | None


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with their markers."""
    lines = path.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == m["ticks"]),
                   len(lines))
        mark = MARK.match(lines[i - 1]) if i else None
        code = tuple(ln[len(m["indent"]):] for ln in lines[i + 1:end])
        found.append(Block(i + 2, m["lang"], code, mark and mark["kind"], mark and mark["why"]))
        i = end + 1
    return found


def module_text(path: Path, gpu: bool) -> str:
    """The page's runnable python blocks as one module, each at its own line numbers."""
    out = [""] * len(path.read_text().splitlines())
    for b in blocks(path):
        if b.lang != "python" or b.mark == "skip" or (b.mark == "gpu" and not gpu):
            continue
        out[b.line - 1:b.line - 1 + len(b.code)] = b.code
    return "\n".join(out) + EPILOGUE


@functools.cache
def _has_gpu() -> bool:
    from ember.runtime import cuda

    return cuda.available()


def _runnable(path: Path) -> bool:
    return any(b.lang == "python" and b.mark != "skip" for b in blocks(path))


def run_page(page: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run the page's module in a fresh interpreter (a crash or a hang cannot take pytest down)."""
    script = folder / f"{page.stem.replace('-', '_')}_md.py"
    script.write_text(module_text(page, _has_gpu()))
    return subprocess.run([sys.executable, str(script)], cwd=folder, capture_output=True,
                          text=True, timeout=TIMEOUT_S, env=dict(os.environ))


@pytest.mark.parametrize("page", [p for p in PAGES if _runnable(p)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_code_runs(page: Path, tmp_path: Path):
    proc = run_page(page, tmp_path)
    assert proc.returncode == 0, (f"a code block of {page.relative_to(ROOT)} failed (line "
                                  f"numbers are the page's):\n{proc.stderr[-6000:]}")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_block_names_its_language(page: Path):
    for b in blocks(page):
        where = f"{page.relative_to(ROOT)}, line {b.line - 1}"
        assert b.lang in LANGUAGES, f"{where}: fence a block as ```python, ```text, ```bash ..."
        assert b.mark is None or b.lang == "python", f"{where}: a marker before a non-python block"
        assert b.mark != "skip" or b.why, f"{where}: `<!-- skip: why -->` needs its reason"


def test_module_text_keeps_line_numbers(tmp_path: Path):
    page = tmp_path / "p.md"
    page.write_text("# t\n\n```python\nx = 1\n```\n<!-- skip: a fragment -->\n```python\n"
                    "f(\n```\n<!-- gpu -->\n```python\ny = 2\n```\n```text\nz\n```\n")
    kinds = [(b.lang, b.mark, b.why) for b in blocks(page)]
    assert kinds == [("python", None, None), ("python", "skip", "a fragment"),
                     ("python", "gpu", None), ("text", None, None)]
    text = module_text(page, gpu=False).splitlines()
    assert text[3] == "x = 1" and "f(" not in text and "y = 2" not in text
    assert module_text(page, gpu=True).splitlines()[11] == "y = 2"


def test_a_kernel_only_defined_is_compiled(tmp_path: Path):
    page = tmp_path / "bad.md"
    page.write_text("```python\nfrom ember import kernel\n\n@kernel\ndef f(x: float) -> float:\n"
                    "    return undefined_name + x\n```\n")
    proc = run_page(page, tmp_path)
    assert proc.returncode != 0 and "undefined_name" in proc.stderr
    assert 'bad_md.py", line 6' in proc.stderr  # the page's line
