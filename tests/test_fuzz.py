"""Differential fuzzing of Ember against CPython on seeded random programs (tests/fuzz).

CI checks 200 programs, in chunks of 20 so that a failure names its seeds; more with
`pytest tests/test_fuzz.py --fuzz-count 5000 --fuzz-seed 1000`, or, faster and on every core,
`python -m tests.fuzz --count 5000 --seed 1000`. Each chunk runs in a subprocess, so a crash
or a hang in compiled code fails that chunk (naming the seed) instead of killing pytest.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.fuzz.__main__ import run_seeds  # noqa: E402
from tests.fuzz.generator import generate  # noqa: E402
from tests.fuzz.runner import Outcome, call, compare, load, own_raise  # noqa: E402
from tests.fuzz.selfcheck import check_python  # noqa: E402

DEFAULT_COUNT = 200
CHUNK = 20


def _seeds(config) -> list[range]:
    count = config.getoption("--fuzz-count") or DEFAULT_COUNT
    first = config.getoption("--fuzz-seed") or 0
    return [range(s, min(s + CHUNK, first + count)) for s in range(first, first + count, CHUNK)]


def pytest_generate_tests(metafunc):
    if "seeds" in metafunc.fixturenames:
        chunks = _seeds(metafunc.config)
        metafunc.parametrize("seeds", chunks, ids=[f"seeds{c.start}-{c.stop - 1}" for c in chunks])


def _report(failures) -> str:
    lines = [f.summary() for f in failures]
    lines += ["", "First reproducer:", failures[0].report or failures[0].message]
    return "\n".join(lines)


def test_ember_matches_cpython(seeds):
    failures = run_seeds(list(seeds), jobs=1, timeout=120.0, chunk=len(seeds))
    if failures:
        pytest.fail(_report(failures), pytrace=False)


def test_programs_run_in_cpython(seeds):
    """The generator's own invariant: no CPython exception but the program's own raise and
    assert statements, ints inside i64, fast."""
    for seed in seeds:
        failures, seconds, _ = check_python(seed)
        if failures:
            pytest.fail(_report(failures), pytrace=False)
        assert seconds < 2.0, f"seed {seed}: CPython took {seconds:.1f}s"


def test_generator_is_deterministic():
    for seed in (0, 1, 17, 123456):
        assert generate(seed).ember_source == generate(seed).ember_source
        assert generate(seed).functions == generate(seed).functions


def test_generator_is_deterministic_across_processes():
    """No dependence on hash randomization: the same seed gives the same text everywhere."""
    code = "from tests.fuzz.generator import generate; print(generate(4242).ember_source)"
    outputs = set()
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout
        outputs.add(out)
    assert outputs == {generate(4242).ember_source + "\n"}


def test_seeds_differ():
    assert len({generate(s).body for s in range(20)}) == 20


def test_programs_raise_now_and_then():
    """A share of the programs has assert/raise statements, and some of them do raise."""
    seeds = range(300)
    with_raise = sum("raise " in generate(s).body or "assert " in generate(s).body
                     for s in seeds)
    raised = sum(check_python(s, trace=False)[2] > 0 for s in seeds)
    assert with_raise >= 90 and 30 <= raised <= 120, (with_raise, raised)


RAISING = """
def f(n: int, x: float) -> int:
    assert n != 1
    assert n != 2, f"n={n:03d}"
    if n == 3:
        raise KeyError
    if n == 4:
        raise ValueError(x)
    return 10 // (n - 5)
"""


def test_own_raise_tells_program_raises_from_other_exceptions():
    fn = load(RAISING, "own").f
    for n in (1, 2, 3, 4):
        assert own_raise(call(fn, [n, 0.5]).error), n
    assert not own_raise(call(fn, [5, 0.5]).error)  # ZeroDivisionError: a generator bug
    assert not own_raise(call(fn, [6, 0.5]).error)  # returned


def test_compare_checks_exception_type_message_and_arrays():
    a, b = np.zeros(2), np.ones(2)
    want = Outcome(None, [a], ValueError("x=1"))
    assert compare(want, Outcome(None, [a.copy()], ValueError("x=1")), ["a"]) is None
    assert "exception" in compare(want, Outcome(None, [a], ValueError("x=2")), ["a"])
    assert "exception" in compare(want, Outcome(None, [a], KeyError("x=1")), ["a"])
    assert "exception" in compare(want, Outcome(1, [a]), ["a"])
    assert "argument a" in compare(want, Outcome(None, [b], ValueError("x=1")), ["a"])
    assert "result" in compare(Outcome(1, [a]), Outcome(2, [a]), ["a"])
