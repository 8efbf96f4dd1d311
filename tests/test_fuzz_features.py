"""The fuzzer's coverage of issue 14's features (tests/fuzz: tuples.py, defaults.py,
complex_stmts.py, lists.py) and the runner checks they need: keyword and omitted arguments,
and a returned array sharing memory with an argument exactly when CPython's does."""

import os
import re
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.fuzz.defaults import KwArg  # noqa: E402
from tests.fuzz.generator import generate  # noqa: E402
from tests.fuzz.runner import Outcome, call, compare, load  # noqa: E402

FEATURES = {
    "tuple result with arrays": r"-> tuple\[(f64\[:\]|float), f64",
    "returned parameter view": r"return [a-c]\[(1:|::-1|::2|:-1)\]",
    "tuple local": r"tp\d+ = \(",
    "tuple element array": r"tp\d+\[\d\]\[",
    "chained assignment": r"\n\s+[\w\[\], %-]+ = [\w\[\], %-]+ = ",
    "loop over a tuple literal": r"for w\d+ in \(",
    "array unpacking": r"v\d+, v\d+ = np\.",
    "default value": r": (int|float|bool) = ",
    "keyword argument in a kernel call": r"f\d\([^\n]*dp\d=",
    "Optional parameter": r"\| None = None",
    "is None branch": r"is (not )?None",
    "tuple parameter": r": tuple\[(int|float), ",
    "complex local": r"z\d+ = ",
    "complex array": r"np\.complex128",
    "cmath": r"cmath\.",
    "inexact complex sink": r"return .* \+ sk\d+\n",
    "list": r"L\d+ = \[|L\d+: list",
    "list append": r"L\d+\.append\(",
}


def test_generator_covers_the_features():
    bodies = [generate(s).body for s in range(400)]
    missing = [name for name, pattern in FEATURES.items()
               if not any(re.search(pattern, b) for b in bodies)]
    assert not missing, missing


DEFAULTS = """
def f(a, x, p=2.0, flag=True):
    a[0] += p if flag else -p
    return a[1:], x
"""


def test_call_passes_keywords_and_leaves_out_defaults():
    fn = load(DEFAULTS, "defaults").f
    out = call(fn, [np.zeros(3), 1.0, KwArg("flag", False)])
    assert out.error is None and out.args[0][0] == -2.0 and out.args[2] is False
    assert call(fn, [np.zeros(3), 1.0]).args[0][0] == 2.0


def test_compare_checks_that_returned_arrays_share_memory_like_cpython():
    a = np.arange(4.0)
    want = Outcome((a[1:], 1.0), [a])
    b = np.arange(4.0)
    assert compare(want, Outcome((b[1:], 1.0), [b]), ["a"]) is None
    problem = compare(want, Outcome((b[1:].copy(), 1.0), [b]), ["a"])
    assert problem is not None and "does not share memory with argument a" in problem
    fresh = Outcome((np.arange(1.0, 4.0), 1.0), [a])
    assert "shares memory" in compare(fresh, Outcome((b[1:], 1.0), [b]), ["a"])
