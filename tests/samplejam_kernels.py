"""Dense-layer kernels shared by tests/grad/test_sample_jam_adjoint.py (derivatives) and
tests/e2e/test_sample_jam.py (primal) for frontend/opt/samplejam.py: a packed layer opening
the sample loop runs over four samples per pass. Different initial values, epilogues, weight
layouts and sample ranges; `recurrent` reads an array its sample loop writes (not jammed)."""

import math

import numpy as np

from ember import f64


def mlp_sum(w1: f64[:, :], b1: f64[:], w2: f64[:, :], b2: f64[:], x: f64[:, :],
            y: f64[:, :]) -> float:
    """The textbook tanh MLP (weights out x in), summed squared error (tests/matvec_kernels.py
    `mlp` divides by the sample count: this one also takes zero samples)."""
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
    return loss


def no_bias(w: f64[:, :], x: f64[:, :]) -> float:
    """No bias (init 0.0), the epilogue sums into a scalar, nothing else in the sample loop."""
    t = 0.0
    for s in range(x.shape[0]):
        for j in range(w.shape[0]):
            a = 0.0
            for i in range(w.shape[1]):
                a += w[j, i] * x[s, i]
            t += a * math.sin(a)
    return t


def column_strided(w: f64[:, :], c: f64[:], x: f64[:, :]) -> float:
    """Weights in x out (w[i, j]), v * w, init reading the sample, every other sample from 1."""
    h = np.empty(c.shape[0])
    t = 0.0
    for s in range(1, x.shape[0], 2):
        for j in range(c.shape[0]):
            a = c[j] * x[s, 0]
            for i in range(x.shape[1]):
                a += (x[s, i] * 0.5 + 0.25) * w[i, j]
            h[j] = a * a
        for j in range(c.shape[0]):
            t += h[j] * x[s, 0]
    return t


def backwards(w: f64[:, :], b: f64[:], x: f64[:, :]) -> float:
    """Samples in decreasing order; a carried scalar feeds the epilogue of the next sample."""
    h = np.empty(b.shape[0])
    t = 0.0
    g = 1.0
    for s in range(x.shape[0] - 1, -1, -1):
        for j in range(b.shape[0]):
            a = b[j] * 2.0
            for i in range(x.shape[1]):
                a += w[j, i] * x[s, i]
            h[j] = math.tanh(a) * g
        for j in range(b.shape[0]):
            t += h[j] * h[j]
        g = 1.0 + 0.1 * math.sin(t)
    return t


def recurrent(w: f64[:, :], x: f64[:, :]) -> float:
    """v(i) = h[i], an array the sample loop writes: each sample needs the one before."""
    m = w.shape[0]
    h = np.zeros(m)
    g = np.empty(m)
    t = 0.0
    for s in range(x.shape[0]):
        for j in range(m):
            a = x[s, j]
            for i in range(m):
                a += w[j, i] * h[i]
            g[j] = math.tanh(a)
        for j in range(m):
            h[j] = g[j]
            t += g[j]
    return t


def rescaled(w: f64[:, :], x: f64[:, :]) -> float:
    """v(i) reads a scalar the sample loop updates: one sample at a time."""
    h = np.empty(w.shape[0])
    t = 0.0
    g = 1.0
    for s in range(x.shape[0]):
        for j in range(w.shape[0]):
            a = 0.0
            for i in range(w.shape[1]):
                a += w[j, i] * (x[s, i] * g)
            h[j] = a
        for j in range(w.shape[0]):
            t += h[j] * h[j]
        g = 1.0 / (1.0 + t)
    return t


def epochs(w: f64[:, :], b: f64[:], x: f64[:, :], reps: int) -> float:
    """The sample loop inside another loop whose variable the layer reads."""
    h = np.empty(b.shape[0])
    t = 0.0
    for r in range(reps):
        for s in range(x.shape[0]):
            for j in range(b.shape[0]):
                a = b[j] + r * 0.5
                for i in range(x.shape[1]):
                    a += w[j, i] * x[s, i]
                h[j] = math.tanh(a)
            for j in range(b.shape[0]):
                t += h[j] * x[s, 0]
    return t
