"""Differential fuzzing of Ember against CPython on seeded random programs (tests/fuzz).

CI checks 200 programs, in chunks of 20 so that a failure names its seeds; more with
`pytest tests/test_fuzz.py --fuzz-count 5000 --fuzz-seed 1000`, or, faster and on every core,
`python -m tests.fuzz --count 5000 --seed 1000`. Each chunk runs in a subprocess, so a crash
or a hang in compiled code fails that chunk (naming the seed) instead of killing pytest.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.fuzz.__main__ import run_seeds  # noqa: E402
from tests.fuzz.generator import generate  # noqa: E402
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
    """The generator's own invariant: no CPython exception, ints inside i64, fast."""
    for seed in seeds:
        failures, seconds = check_python(seed)
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
