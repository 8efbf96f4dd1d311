"""Matvec kernels shared by tests/e2e/test_jam_matvec.py (the jammed primal) and
tests/grad/test_matvec_adjoint.py (its derivative): the textbook tanh MLP and a layer whose
epilogue writes a parameter."""

import math

import numpy as np

from ember import f64


def mlp(w1: f64[:, :], b1: f64[:], w2: f64[:, :], b2: f64[:], x: f64[:, :],
        y: f64[:, :]) -> float:
    h = np.empty(b1.shape[0])
    loss = 0.0
    for s in range(x.shape[0]):
        for j in range(b1.shape[0]):
            a = b1[j]
            for i in range(x.shape[1]):
                a += w1[j, i] * x[s, i]
            h[j] = math.tanh(a)
        for o in range(b2.shape[0]):
            a = b2[o]
            for j in range(b1.shape[0]):
                a += w2[o, j] * h[j]
            e = a - y[s, o]
            loss += e * e
    return loss / x.shape[0]


def layer_out(w: f64[:, :], b: f64[:], x: f64[:], out: f64[:]) -> float:
    """The epilogue writes a parameter: jammed behind a run-time overlap check."""
    t = 0.0
    for j in range(w.shape[0]):
        a = b[j]
        for i in range(w.shape[1]):
            a += w[j, i] * x[i]
        out[j] = math.exp(-a * a)
        t += out[j] * 0.5
    return t
