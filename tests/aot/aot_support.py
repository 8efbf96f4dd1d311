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


def load_file(path: Path, name: str):
    """Import the Python file `path` as module `name` (a build input, or a generated loader,
    which needs only numpy and ctypes)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_c_program(build_dir: Path, library: str, text: str, work: Path) -> dict[str, list[str]]:
    """Compile `text` against `build_dir`'s header and lib`library`.so with warnings as errors,
    run it, and return its output as {first word of a line: the other words}."""
    source = work / "prog.c"
    source.write_text(text)
    cc = subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", f"-I{build_dir}", str(source),
                         f"-L{build_dir}", f"-l{library}", f"-Wl,-rpath,{build_dir}", "-o",
                         str(work / "prog"), "-lm"], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    run = subprocess.run([str(work / "prog")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return {w[0]: w[1:] for w in (line.split() for line in run.stdout.splitlines()) if w}


def build_module(tmp_path_factory, name: str) -> Path:
    """`ember.build` of tests/aot/<name>.py into a fresh folder; that folder."""
    import ember

    out = tmp_path_factory.mktemp(f"aot-{name}")
    ember.build(str(HERE / f"{name}.py"), str(out))
    return out
