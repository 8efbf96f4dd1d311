"""Differential fuzzing of Ember's whole-array operations against NumPy (tests/fuzz/arrays.py).

CI checks 60 programs, in chunks of 20 so that a failure names its seeds; more with
`pytest tests/test_fuzz_arrays.py --fuzz-count 5000 --fuzz-seed 1000`, or, faster and on every
core, `python -m tests.fuzz --arrays --count 5000 --seed 1000`. Each chunk runs in a subprocess
(the machinery of tests/fuzz/__main__.py), so a crash or a hang fails that chunk, naming the
seed, instead of killing pytest.
"""

import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.fuzz.__main__ import run_seeds  # noqa: E402
from tests.fuzz.arrays import EXCLUDED, generate  # noqa: E402
from tests.fuzz.arrays_run import check_python, difference  # noqa: E402

DEFAULT_COUNT = 60
CHUNK = 20


def pytest_generate_tests(metafunc):
    if "seeds" in metafunc.fixturenames:
        count = metafunc.config.getoption("--fuzz-count") or DEFAULT_COUNT
        first = metafunc.config.getoption("--fuzz-seed") or 0
        chunks = [range(s, min(s + CHUNK, first + count)) for s in range(first, first + count,
                                                                          CHUNK)]
        metafunc.parametrize("seeds", chunks, ids=[f"seeds{c.start}-{c.stop - 1}" for c in chunks])


def test_ember_matches_numpy(seeds):
    failures = run_seeds(list(seeds), jobs=1, timeout=120.0, chunk=len(seeds), arrays=True)
    if failures:
        lines = [f.summary() for f in failures]
        lines += ["", "First reproducer:", failures[0].report or failures[0].message]
        pytest.fail("\n".join(lines), pytrace=False)


def test_programs_run_in_numpy(seeds):
    """The generator's invariant: each program runs under NumPy without a warning, raising
    only when it is meant to (an incompatible broadcast at the end)."""
    for seed in seeds:
        failures, seconds, _ = check_python(seed)
        assert not failures, failures[0].message
        assert seconds < 1.0, f"seed {seed}: NumPy took {seconds:.1f}s"


def test_generator_is_deterministic_and_varied():
    programs = [generate(s) for s in range(40)]
    assert [p.body for p in programs] == [generate(s).body for s in range(40)]
    text = "\n".join(p.body for p in programs)
    for construct in ("np.sum(", "+= ", "[...] = ", "::-1", "None", ".T", "for i in range(",
                      "np.where(", ".astype(", "axis=", "boolean[", "i32[", "f32["):
        assert construct in text, construct
    assert any(p.raises for p in (generate(s) for s in range(200)))
    assert all(isinstance(rx, str) for rx in EXCLUDED.values())


def test_difference_is_dtype_aware():
    a = np.array([1.0, np.nan, 3.0])
    assert difference(a + 1e-12, a) is None
    assert "Ember" in difference(a + 1e-6, a)
    f = a.astype(np.float32)
    assert difference(f + np.float32(1e-5), f) is None
    assert "float64" in difference(a, f)  # dtype
    assert "(2,)" in difference(a[:2], a)  # shape
    assert difference(np.array([1, 2]), np.array([1, 3])) is not None  # ints exactly
    assert difference(np.array([np.nan, 1.0]), np.array([1.0, np.nan])) is not None  # NaN places
    assert difference(2.0, np.float32(2.0)) is None  # scalars: the kind, not the width
    assert difference(2, np.float64(2.0)) is not None
