"""The kernels of a main script (tests/scaleout/test_processes.py runs this file as a script
and as `python -c`; test_pickling.py imports it): run as `__main__`, it writes a pickle of
its objects to stdout, which pickles them by value, since a fresh interpreter has no such
module; imported, its kernels are found by reference."""

import pickle
import sys
from typing import NamedTuple

import numpy as np

import ember
from ember import f64

GAIN = (2.0, 3.0)


class Params(NamedTuple):
    a: float
    w: f64[:]


@ember.kernel
def helper(v: float) -> float:
    return v * GAIN[1]


@ember.kernel
def weighted(x: f64[:], p: Params) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += helper(x[i]) * p.a * p.w[i]
    return s


def closure(c):
    @ember.kernel
    def plus(x: f64[:]) -> float:
        return np.sum(x * x) + c
    return plus


@ember.custom_jvp
@ember.kernel
def cube(x: float) -> float:
    return x * x * x


@cube.defjvp
def cube_jvp(x: float, dx: float) -> float:
    return 5.0 * dx  # deliberately not 3x^2: the result shows which rule ran


@ember.kernel
def uses_cube(x: f64[:]) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += cube(x[i])
    return s


@ember.kernel
def broken(x: f64[:]) -> float:
    return x[0] + "text"


@ember.vectorize(["float64(float64, float64)"], identity=0)
def plus_sq(a, b):
    return a + b * GAIN[0]


if __name__ == "__main__":
    objects = {"plus_sq": plus_sq, "weighted": weighted,
               "dweighted": ember.grad(weighted, wrt="x"), "plus": closure(1.5),
               "rows": ember.vmap(closure(0.0)), "dcube": ember.grad(uses_cube), "broken": broken}
    sys.stdout.buffer.write(pickle.dumps(objects))
