"""Helpers of the AOT tests: the build input's names, and a runner for an isolated interpreter
(`python -I -S`) whose path holds the standard library, numpy and nothing else of the venv,
so that `ember`, `mlir` and `enzyme_ad` cannot be imported in it."""

import subprocess
import sys
from pathlib import Path

import numpy as np

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
    real = Path(np.__file__).resolve().parent.parent
    dest.mkdir(parents=True, exist_ok=True)
    for entry in ("numpy", "numpy.libs"):
        if (real / entry).exists() and not (dest / entry).exists():
            (dest / entry).symlink_to(real / entry)
    return dest


_PROLOGUE = """\
import sys
sys.path[:0] = {front!r}
sys.path.append({site!r})
for blocked in ("ember", "mlir", "enzyme_ad"):
    try:
        __import__(blocked)
    except ImportError:
        pass
    else:
        raise SystemExit("the isolated interpreter can import " + blocked)
"""

_EPILOGUE = """
leaked = sorted(n for n in sys.modules if n.split(".")[0] in ("ember", "mlir", "enzyme_ad"))
if leaked:
    raise SystemExit(f"imported by the loader: {leaked}")
"""


def run_isolated(script: str, front: list[Path], site: Path, cwd: Path) -> str:
    """Run `script` under `python -I -S` (no site-packages, no PYTHONPATH, no script dir) with
    `front` prepended and the numpy-only `site` appended to sys.path; returns its stdout.
    The prologue checks that ember, mlir and enzyme_ad all raise ImportError; the epilogue
    that none of them was imported after all."""
    prologue = _PROLOGUE.format(front=[str(p) for p in front], site=str(site))
    path = cwd / "isolated_main.py"
    path.write_text(prologue + script + _EPILOGUE)
    proc = subprocess.run([sys.executable, "-I", "-S", str(path)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"isolated run failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout
