"""Acceptance 3 and 4 of the AOT build: a second build of an unchanged module reuses every
compiled object and an edit recompiles only the edited kernel; a kernel with an unannotated
parameter, or a module with no kernels, is a CompileError from ember.build and, from the CLI,
a clear message and a non-zero exit with no traceback. Also the CLI's happy path and
`--target-cpu`, and ember.build on a list of kernels."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest
from aot_support import artifacts, run_isolated

import ember

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SMALL = textwrap.dedent("""
    from ember import f64, grad, kernel


    @kernel
    def cube(x: float) -> float:
        return x * x * x


    @kernel
    def norm2(a: f64[:]) -> float:
        s = 0.0
        for i in range(len(a)):
            s += a[i] * a[i]
        return s


    @kernel
    def tally(n: int) -> int:
        return n * 7 + 1


    dnorm2 = grad(norm2)
    """)
SMALL_NAMES = {"cube", "norm2", "tally", "dnorm2"}

CHECK_SMALL = """
import numpy as np
import {name} as m
assert m.cube(1.5) == 3.375, m.cube(1.5)
assert m.tally(3) == {tally}, m.tally(3)
assert list(m.dnorm2(np.array([1.0, -2.0]))) == [2.0, -4.0]
print("ok")
"""


def _write(path, text):
    path.write_text(text)
    return path


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.run([sys.executable, "-m", "ember", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _check_small(out, name, tally, site, work):
    assert run_isolated(CHECK_SMALL.format(name=name, tally=tally), [out], site, work) == "ok\n"


# --- the cache --------------------------------------------------------------------------------

def test_unchanged_module_reuses_everything_and_an_edit_recompiles_one(tmp_path, numpy_site):
    source = _write(tmp_path / "small_cached.py", SMALL)
    out = tmp_path / "build"
    first = ember.build(str(source), str(out))
    assert set(first["compiled"]) | set(first["reused"]) == SMALL_NAMES

    second = ember.build(str(source), str(out))
    assert (sorted(second["reused"]), list(second["compiled"])) == (sorted(SMALL_NAMES), [])
    assert all(p.is_file() for p in artifacts(out, "small_cached"))

    _write(source, SMALL.replace("n * 7 + 1", "n * 7 + 2"))
    third = ember.build(str(source), str(out))
    assert list(third["compiled"]) == ["tally"]
    assert sorted(third["reused"]) == sorted(SMALL_NAMES - {"tally"})
    _check_small(out, "small_cached", 23, numpy_site, tmp_path)


CALLEE = textwrap.dedent("""
    from ember import kernel

    SCALE = 3.0


    @kernel
    def sq(x: float) -> float:
        return x * x


    @kernel
    def use(x: float) -> float:
        return sq(x) + 1.0


    @kernel
    def scaled(x: float) -> float:
        return SCALE * x
    """)

CHECK_CALLEE = """
import {name} as m
print(m.sq(2.0), m.use(2.0), m.scaled(2.0))
"""


def _build_and_run(source, out, site, work):
    result = ember.build(str(source), str(out))
    printed = run_isolated(CHECK_CALLEE.format(name=source.stem), [out], site, work)
    return result, printed


def test_editing_a_callee_recompiles_its_callers(tmp_path, numpy_site):
    source = _write(tmp_path / "callee_edit.py", CALLEE)
    out = tmp_path / "build"
    assert _build_and_run(source, out, numpy_site, tmp_path)[1] == "4.0 5.0 6.0\n"
    _write(source, CALLEE.replace("return x * x", "return x * x * x"))
    result, printed = _build_and_run(source, out, numpy_site, tmp_path)
    assert printed == "8.0 9.0 6.0\n"
    assert sorted(result["compiled"]) == ["sq", "use"]


def test_editing_a_global_constant_recompiles_its_users(tmp_path, numpy_site):
    source = _write(tmp_path / "global_edit.py", CALLEE)
    out = tmp_path / "build"
    assert _build_and_run(source, out, numpy_site, tmp_path)[1] == "4.0 5.0 6.0\n"
    _write(source, CALLEE.replace("SCALE = 3.0", "SCALE = 5.0"))
    result, printed = _build_and_run(source, out, numpy_site, tmp_path)
    assert printed == "4.0 5.0 10.0\n"
    assert list(result["compiled"]) == ["scaled"]


def test_target_cpu_is_part_of_the_cache_key(tmp_path):
    source = _write(tmp_path / "small_cpu.py", SMALL)
    ember.build(str(source), str(tmp_path / "host"))
    baseline = ember.build(str(source), str(tmp_path / "v2"), target_cpu="x86-64-v2")
    assert sorted(baseline["compiled"]) == sorted(SMALL_NAMES)
    again = ember.build(str(source), str(tmp_path / "v2"), target_cpu="x86-64-v2")
    assert sorted(again["reused"]) == sorted(SMALL_NAMES)


# --- the CLI ------------------------------------------------------------------------------------

def test_cli_builds_the_three_artifacts(tmp_path, numpy_site):
    _write(tmp_path / "small_cli.py", SMALL)
    run = _cli("build", "small_cli.py", "-o", "build", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert all(p.is_file() for p in artifacts(tmp_path / "build", "small_cli"))
    _check_small(tmp_path / "build", "small_cli", 22, numpy_site, tmp_path)


def test_cli_target_cpu_baseline(tmp_path, numpy_site):
    _write(tmp_path / "small_v3.py", SMALL)
    run = _cli("build", "small_v3.py", "-o", "build", "--target-cpu", "x86-64-v3", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    _check_small(tmp_path / "build", "small_v3", 22, numpy_site, tmp_path)


def test_build_a_list_of_kernels(tmp_path, numpy_site):
    source = _write(tmp_path / "small_list.py", SMALL)
    spec = importlib.util.spec_from_file_location("small_list", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "build"
    result = ember.build([module.cube, module.tally], str(out))
    assert set(result["compiled"]) | set(result["reused"]) == {"cube", "tally"}
    (lib,) = out.glob("lib*.so")
    name = lib.name[3:-3]
    assert all(p.is_file() for p in artifacts(out, name))
    script = f"import {name} as m\nprint(m.cube(2.0), m.tally(2))\n"
    assert run_isolated(script, [out], numpy_site, tmp_path) == "8.0 15\n"


# --- errors -----------------------------------------------------------------------------------

UNANNOTATED = textwrap.dedent("""
    from ember import kernel


    @kernel
    def fine(x: float) -> float:
        return x


    @kernel
    def halfway(x: float, y) -> float:
        return x + y
    """)

NO_KERNELS = textwrap.dedent("""
    import math


    def plain(x):
        return math.sqrt(x)
    """)

ERRORS = {  # module text -> words the message must contain
    "unannotated": (UNANNOTATED, ("halfway", "'y'", "annotat")),
    "no_kernels": (NO_KERNELS, ("no_kernels", "kernel")),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_build_raises_compile_error(tmp_path, case):
    text, words = ERRORS[case]
    source = _write(tmp_path / f"{case}.py", text)
    with pytest.raises(ember.CompileError) as info:
        ember.build(str(source), str(tmp_path / "out"))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_cli_reports_error_without_traceback(tmp_path, case):
    text, words = ERRORS[case]
    _write(tmp_path / f"{case}.py", text)
    run = _cli("build", f"{case}.py", "-o", "out", cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output, output
    for word in words:
        assert word in output, (word, output)
    assert not list(tmp_path.glob("out/*.so")), "a failed build left a library behind"


def test_cli_missing_file_without_traceback(tmp_path):
    run = _cli("build", "does_not_exist.py", "-o", "out", cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in output, output
    assert "does_not_exist.py" in output, output


def test_unknown_target_is_a_value_error(tmp_path):
    source = _write(tmp_path / "small_tpu.py", SMALL)
    with pytest.raises(ValueError, match="target='tpu'.*'cpu' or 'gpu'"):
        ember.build(str(source), str(tmp_path / "out"), target="tpu")
    assert not (tmp_path / "out").exists()


def test_cli_rejects_an_unknown_target(tmp_path):
    run = _cli("build", "small.py", "-o", "out", "--target", "tpu", cwd=tmp_path)
    assert run.returncode == 2 and "invalid choice: 'tpu'" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
