"""Helpers of the AOT tests: the build input's names, and (from tests/isolated.py) a runner
for an isolated interpreter whose path holds the standard library and numpy only."""

import re
import subprocess
from pathlib import Path

from isolated import package_site, run_isolated  # noqa: F401 - re-exported to the AOT tests

HERE = Path(__file__).resolve().parent
MODULE = HERE / "physics_mod.py"
NAME = "physics_mod"
KERNELS = ("kinetic", "advance", "energy", "nearest", "center", "scale32", "relax", "spring")
DERIVATIVES = ("dforce", "energy_and_grads", "drelax", "spring_vjp", "spring_jvp")
FUNCTIONS = KERNELS + DERIVATIVES


def artifacts(out: Path, name: str = NAME) -> tuple[Path, Path, Path]:
    """The three files `ember.build` writes for module `name`: library, header, loader."""
    return out / f"lib{name}.so", out / f"{name}.h", out / f"{name}.py"


def numpy_only_site(dest: Path) -> Path:
    """Make `dest` a directory holding only numpy (symlinks into the venv's site-packages)."""
    return package_site(dest)


_LINKER = frozenset(["_init", "_fini", "_edata", "_end", "__bss_start"])


def declared_symbols(header: str) -> set[str]:
    """The names of the functions and variables a generated header declares."""
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.DOTALL)
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("typedef", "#")) or not line.endswith(";"):
            continue
        found = re.match(r"(?:extern\s+)?[\w\s*]*?(\w+)\s*(?:\(.*\))?;$", line)
        if found:
            names.add(found.group(1))
    return names


def exported_symbols(library: Path) -> set[str]:
    """The dynamic symbols `library` defines (`nm -D --defined-only`), less the linker's."""
    nm = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True,
                        text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in nm.splitlines() if line.strip()} - _LINKER
