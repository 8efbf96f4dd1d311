"""AOT build input: complex scalars and arrays in the C API (C99 `double _Complex` and
`float _Complex`), and a derivative through complex intermediates."""

import cmath

import numpy as np

from ember import c64, c128, f64, grad, kernel


@kernel
def rotate(z: complex, w: c64, x: f64[:]) -> tuple[c128, c64, f64]:
    s = 0j
    for i in range(x.shape[0]):
        s += x[i] * cmath.exp(1j * i * 0.5)
    return z * s, w.conjugate() * 2, abs(s)


@kernel
def spectrum(a: c128[:], k: complex) -> c128[:]:
    return np.exp(a) * k


@kernel
def power(x: f64[:], phase: float) -> float:
    z = np.exp(1j * (x + phase))
    return np.sum(np.abs(z * z + x))


dpower = grad(power, wrt="x")
