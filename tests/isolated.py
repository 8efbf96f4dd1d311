"""A runner for an isolated interpreter (`python -I -S`) whose path holds the standard library
and chosen packages of the venv (numpy; cuda-python for GPU loaders) and nothing else, so that
`ember`, `mlir` and `enzyme_ad` cannot be imported in it. Shared by tests/aot and tests/gpu."""

import subprocess
import sys
from pathlib import Path

import numpy as np

CUDA_PACKAGES = ("numpy", "cuda", "cuda_bindings", "cuda_pathfinder", "cuda_python")


def package_site(dest: Path, packages: tuple[str, ...] = ("numpy",)) -> Path:
    """Make `dest` a directory holding only `packages` (symlinks into the venv's
    site-packages, with their .libs and .dist-info folders)."""
    real = Path(np.__file__).resolve().parent.parent
    dest.mkdir(parents=True, exist_ok=True)
    for entry in real.iterdir():
        if entry.name.split("-")[0].split(".")[0] in packages and not (dest / entry.name).exists():
            (dest / entry.name).symlink_to(entry)
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


def run_isolated(script: str, front: list[Path], site: Path, cwd: Path,
                 env: dict[str, str] | None = None) -> str:
    """Run `script` under `python -I -S` with `front` prepended and `site` appended to
    sys.path; returns its stdout. The prologue checks that ember, mlir and enzyme_ad all
    raise ImportError; the epilogue that none of them was imported after all. `env`
    replaces the environment (e.g. to hide GPUs)."""
    prologue = _PROLOGUE.format(front=[str(p) for p in front], site=str(site))
    path = cwd / "isolated_main.py"
    path.write_text(prologue + script + _EPILOGUE)
    proc = subprocess.run([sys.executable, "-I", "-S", str(path)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"isolated run failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout
