"""Inputs for each kernel of gpu_kernels.py and the tolerance of its GPU-vs-CPU comparison
(atomic float sums add in another order; GPU libdevice math differs from libm in the last
bits).

Kernels in `RACY_ON_CPU` update shared array elements from several prange iterations: on
the GPU those updates are atomic, but the CPU build runs them on threads without atomics
(prange promises independent iterations), so their reference is the Python function."""

import numpy as np
from check_gpu import copies, same

_rng = np.random.default_rng


def _saxpy():
    r = _rng(1)
    return (np.float32(2.5), r.random(1000, np.float32), r.random(1000, np.float32))


def _heat():
    u = _rng(2).random((33, 47))
    return (u, np.zeros_like(u), 0.1)


def _scale3():
    return (_rng(3).random((5, 6, 7), np.float32), np.zeros((5, 6, 7), np.float32),
            np.float32(1.5))


def _math(dtype):
    x = (_rng(4).random(300) * 6 - 3).astype(dtype)
    return lambda: (x.copy(), np.zeros_like(x))


def _histogram():
    return (_rng(5).random(2000), np.zeros(16), np.zeros(1))


def _matmul():
    r = _rng(6)
    return (r.random((20, 30), np.float32), r.random((30, 17), np.float32),
            np.zeros((20, 17), np.float32))


def _array_saxpy():
    r = _rng(13)
    return (np.float32(1.5), r.random(1000, np.float32), r.random(1000, np.float32),
            np.zeros(1000, np.float32))


def _array_broadcast():
    r = _rng(14)
    return (r.random((7, 9)) + 1.0, r.random(9) + 0.5, np.zeros((7, 9)),
            np.zeros((4, 7, 9)))


def _array_tiles():
    r = _rng(15)
    return (r.random((6, 5, 5), np.float32), r.random((6, 5, 5), np.float32) - 0.5,
            np.zeros(6, np.float32))


CASES = {
    "saxpy": (_saxpy, 1e-6),
    "heat_step": (_heat, 1e-12),
    "scale3": (_scale3, 1e-6),
    "math64": (_math(np.float64), 1e-12),
    "math32": (_math(np.float32), 1e-5),
    "total": (lambda: (_rng(7).random(5000),), 1e-12),
    "count_above": (lambda: (np.arange(-500, 777, dtype=np.int64), 100), 0),
    "histogram": (_histogram, 1e-12),
    "row_sums": (lambda: (_rng(8).random((37, 53)), np.zeros(37)), 1e-12),
    "branchy": (lambda: (_rng(9).random((41, 13)), np.zeros(41)), 1e-12),
    "matmul": (_matmul, 1e-5),
    "two_pass": (lambda: (_rng(10).random(100), np.zeros(100), 3), 1e-12),
    "powers": (lambda: (np.arange(-300, 300, dtype=np.int64), np.zeros(600, np.int64)), 0),
    "gradient_stats": (lambda: (_rng(11).random((29, 61)), 3), 1e-12),
    "masked_sums": (lambda: (_rng(12).random((37, 41)), np.array([1.0, 0.0, 2.0]), 0.3), 1e-12),
    "array_saxpy": (_array_saxpy, 1e-6),
    "array_broadcast": (_array_broadcast, 1e-12),
    "array_rows": (lambda: (_rng(16).random((13, 10)), np.zeros((13, 9))), 1e-12),
    "array_tiles": (_array_tiles, 1e-5),
    "array_sums": (lambda: (_rng(17).random((37, 29)), _rng(18).random(29),
                            np.arange(-50, 950, dtype=np.int64)), 1e-12),
    "array_4d": (lambda: (_rng(19).random((3, 4, 5, 6), np.float32),
                          np.zeros((3, 4, 5, 6), np.float32)), 1e-6),
    "array_reductions": (lambda: (_rng(20).random((37, 11)), np.zeros(37, np.int64),
                                  np.zeros(37)), 1e-12),
}


RACY_ON_CPU = frozenset({"histogram", "masked_sums"})


def compare(gpu_fn, cpu_fn, name):
    """Run both on copies of the case's inputs; assert results and arguments agree."""
    make, rtol = CASES[name]
    if name in RACY_ON_CPU:
        cpu_fn = cpu_fn.py_func
    args = make()
    gpu_args, cpu_args = copies(args), copies(args)
    same(gpu_fn(*gpu_args), cpu_fn(*cpu_args), rtol)
    for k, (g, c) in enumerate(zip(gpu_args, cpu_args, strict=True)):
        if isinstance(c, np.ndarray):
            same(g, c, rtol, f"argument {k} after the call")
