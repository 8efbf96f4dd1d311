"""round(x, n) on Python floats matches CPython exactly (ties decided on the binary value)."""

import random

import ember


def round_n(x: float, n: int) -> float:
    return round(x, n)


def test_round_matches_cpython_on_random_decimals():
    k = ember.kernel(round_n)
    rng = random.Random(7)
    values = [2.675, 1.005, 0.125, -0.375, 0.285, 2.5, -2.5, 0.5, 1e300, 1e-300, -0.0]
    values += [round(rng.uniform(-1e4, 1e4), rng.randint(0, 6)) + rng.choice([0, 5e-7, -5e-7])
               for _ in range(3000)]
    mismatches = [(v, n, k(v, n), round(v, n)) for v in values for n in range(-3, 8)
                  if k(v, n) != round(v, n)]
    assert not mismatches, mismatches[:5]
