"""Helpers of the AOT tests: the build input's names, and (from tests/isolated.py) a runner
for an isolated interpreter whose path holds the standard library and numpy only."""

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
