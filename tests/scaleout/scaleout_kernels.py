"""Kernels of the Dask tests (tests/scaleout/test_dask.py), in a module of their own so that
Dask's worker processes import them by reference (module + name) as they import any function:
the workers are spawned with the test process's sys.path, which holds this folder."""

import math
import os
import sys

import numpy as np

from ember import f64, grad, guvectorize, kernel, vectorize


@kernel
def damped_wave(x: f64[:, :], k: float) -> f64[:, :]:
    """An elementwise array expression returning a new block: exp(-k x^2) sin(3x)."""
    return np.exp(-k * x * x) * np.sin(3.0 * x)


def damped_wave_numpy(x: np.ndarray, k: float) -> np.ndarray:
    return np.exp(-k * x * x) * np.sin(3.0 * x)


@kernel
def smooth(u: f64[:, :]) -> f64[:, :]:
    """One Jacobi sweep of the 5-point stencil; the border rows and columns are kept."""
    out = u.copy()
    out[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return out


@kernel
def logistic_loss(w: f64[:], x: f64[:, :], y: f64[:]) -> float:
    """The logistic loss sum_i log(1 + exp(-y_i x_i.w)) of a block of rows: additive over row
    chunks, so per-chunk gradients sum to the gradient of the whole."""
    total = 0.0
    for i in range(x.shape[0]):
        z = 0.0
        for j in range(x.shape[1]):
            z += x[i, j] * w[j]
        total += math.log1p(math.exp(-y[i] * z))
    return total


dloss = grad(logistic_loss, wrt="w")


@guvectorize(["void(float64[:], float64[:], float64[:])",
              "void(float32[:], float32[:], float32[:])"], "(n),(n)->()")
def distance(a, b, out):
    """A generalized ufunc: the Euclidean distance along the last axis."""
    total = 0.0
    for i in range(a.shape[0]):
        d = a[i] - b[i]
        total += d * d
    out[0] = math.sqrt(total)


@vectorize(["float64(float64, float64)", "float32(float32, float32)"])
def soft_clip(x, k):
    """A ufunc: x / (1 + k |x|)."""
    return x / (1.0 + k * abs(x))


def worker_state() -> dict[str, object]:
    """Run on each worker by `client.run`: its process id and whether it imported Ember."""
    return {"pid": os.getpid(), "ember": "ember" in sys.modules}
