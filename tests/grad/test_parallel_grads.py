"""Gradients of `prange` loops run in parallel (frontend/parallelad.py, ir/parallelfor.py,
lowering/paralleladjoint.py, runtime/parlaunch.py): each kernel against central finite
differences and against the same kernel with `range` (the serial gradient); shared shadows
(partial copies per thread), iteration-private rows, an active scalar read by every
iteration, nested loops, branches, mutation, calls, f32, forward mode; the loops Ember keeps
serial (while, local arrays) stay correct; results are bitwise identical from run to run,
and 1 and 2 threads agree up to reassociation."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from ember import (
    CompileError,
    c128,
    check_grad,
    f32,
    f64,
    grad,
    hessian,
    jvp,
    kernel,
    prange,
    value_and_grad,
    vjp,
)

RNG = np.random.default_rng(11)
A = RNG.standard_normal((9, 5))
V = RNG.standard_normal(5)
X = RNG.standard_normal(23)


def row_tanh(a: f64[:, :], v: f64[:], b: float) -> float:
    s = 0.0
    for i in prange(a.shape[0]):  # rows private, v shared, b an active scalar of each row
        acc = b
        for j in range(a.shape[1]):
            acc += a[i, j] * v[j]
        s += math.tanh(acc) * (i + 1)
    return s


def row_tanh_serial(a: f64[:, :], v: f64[:], b: float) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        acc = b
        for j in range(a.shape[1]):
            acc += a[i, j] * v[j]
        s += math.tanh(acc) * (i + 1)
    return s


def stencil(x: f64[:], c: f64[:], out: f64[:]) -> None:
    for i in prange(1, x.shape[0] - 1, 2):  # neighbours: x's shadow shared between threads
        out[i] = c[0] * x[i - 1] - 2.0 * x[i] + x[i + 1] * x[i + 1]
        out[i + 1] = math.exp(0.1 * x[i]) * c[1]


def branches_mutation(x: f64[:], y: f64[:]) -> float:
    s = 0.0
    for i in prange(len(x)):
        if x[i] > 0.0:
            y[i] = y[i] * x[i]
        else:
            y[i] = math.sin(y[i]) + x[i]
        s += y[i] * y[i] + x[(i + 3) % len(x)]
    return s


@kernel
def bump(u: float, w: float) -> float:
    return math.exp(-u * u) * w


def calls_with_counter(x: f64[:], w: f64[:]) -> float:
    s = 0.0
    n = 0
    for i in prange(len(x)):
        s += bump(x[i], w[i % 3])
        n += 1  # an integer sum next to the float one
    return s / n


def time_loop(u: f64[:], k: f64[:]) -> float:
    for _ in range(3):  # a serial loop around a parallel one
        for i in prange(len(u)):
            u[i] = u[i] + k[0] * math.sin(u[i])
    s = 0.0
    for i in range(len(u)):
        s += u[i] * u[i]
    return s


def single(x: f32[:], w: f32[:]) -> f32:
    s = f32(0.0)
    for i in prange(len(x)):
        s += x[i] * w[i % 2] + x[i] * x[i]
    return s


@kernel
def row_energy(a: f64[:, :], i: int, v: f64[:]) -> float:
    e = 0.0
    for j in prange(a.shape[1]):  # a prange in a callee, inlined into a parallel loop
        e += a[i, j] * v[j] * a[i, j]
    return e


def edges(a: f64[:, :], v: f64[:], lo: int) -> float:
    s = 0.0
    for i in prange(a.shape[0] - 1, lo - 1, -1):  # negative step; empty when lo > rows
        s += row_energy(a, i, v) * i
    return s


def row_views(a: f64[:, :], v: f64[:]) -> float:
    s = 0.0
    for i in prange(a.shape[0]):
        row = a[i]  # a view made in the loop: the reverse updates its row privately
        acc = 0.0
        for j in range(row.shape[0]):
            acc += math.tanh(row[j] * v[j])
        s += acc * acc
    return s


def complex_body(x: f64[:], z: c128[:]) -> float:
    s = 0.0
    for i in prange(len(x)):  # a complex array and complex values captured by the threads
        w = z[i] * x[i] + 1j * x[i]
        s += abs(w) ** 2
    return s


def triangular(x: f64[:]) -> float:
    s = 0.0
    for i in prange(len(x)):  # an inner loop whose trip count depends on the row
        acc = 0.0
        for j in range(i + 1):
            acc += math.sin(x[j] * x[i])
        s += acc * acc
    return s


def with_while(x: f64[:]) -> float:
    s = 0.0
    for i in prange(len(x)):  # runs serially under grad: the replay records trip counts
        t = abs(x[i]) + 1.0
        while t > 0.2:
            t = t * 0.5 + 0.01 * x[i]
        s += t * x[i]
    return s


def with_local_array(x: f64[:, :]) -> float:
    s = 0.0
    for i in prange(x.shape[0]):  # runs serially under grad: a buffer per iteration
        t = np.zeros(3)
        for j in range(3):
            t[j] = x[i, j] * (j + 1)
        s += t[0] * t[1] + math.sin(t[2])
    return s


def test_rows_shared_vector_and_scalar():
    check_grad(row_tanh, A, V, 0.3, wrt=("a", "v", "b"))
    par = grad(row_tanh, wrt=("a", "v", "b"))(A, V, 0.3)
    ser = grad(row_tanh_serial, wrt=("a", "v", "b"))(A, V, 0.3)
    np.testing.assert_array_equal(par[0], ser[0])  # rows are private: same operations
    np.testing.assert_allclose(par[1], ser[1], rtol=1e-13)  # partial sums per thread
    assert abs(par[2] - ser[2]) <= 1e-13 * abs(ser[2])
    value, _ = value_and_grad(row_tanh, wrt="v")(A, V, 0.3)
    assert value == kernel(row_tanh_serial)(A, V, 0.3)  # sums added in iteration order
    again = grad(row_tanh, wrt=("a", "v", "b"))(A, V, 0.3)
    for p, q in zip(par, again, strict=True):
        np.testing.assert_array_equal(p, q)  # bitwise, run to run
    # second order keeps the loops serial (a second Enzyme run over the gradient)
    np.testing.assert_allclose(hessian(row_tanh, wrt="v")(A, V, 0.3),
                               hessian(row_tanh_serial, wrt="v")(A, V, 0.3), rtol=1e-12,
                               atol=1e-13)


def test_atomic_opt_in():
    atomic = kernel(row_tanh, parallel_grads="atomic")
    got = grad(atomic, wrt=("a", "v", "b"))(A, V, 0.3)
    want = grad(row_tanh_serial, wrt=("a", "v", "b"))(A, V, 0.3)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-13)
    with pytest.raises(ValueError, match="unknown parallel_grads 'racy'"):
        kernel(row_tanh, parallel_grads="racy")


def test_stencil_with_start_and_step():
    x, c = RNG.standard_normal(16), np.array([0.7, -1.3])
    check_grad(stencil, x, c, np.zeros(16), wrt=("x", "c"), outputs="out")


def test_branches_and_mutation():
    x, y = RNG.standard_normal(13), RNG.standard_normal(13)
    check_grad(branches_mutation, x, y, wrt=("x", "y"))


def test_kernel_calls_and_integer_sums():
    check_grad(calls_with_counter, X, np.array([0.5, -1.0, 2.0]), wrt=("x", "w"))


def test_serial_loop_around_parallel_one():
    check_grad(time_loop, X * 0.5, np.array([0.3]), wrt=("u", "k"))


def test_negative_step_empty_range_and_nested_prange():
    check_grad(edges, A, V, 2, wrt=("a", "v"))
    ga, gv = grad(edges, wrt=("a", "v"))(A, V, 100)
    assert not ga.any() and not gv.any()


def test_triangular_inner_loop_and_row_views():
    check_grad(triangular, X, wrt="x")
    check_grad(row_views, A, V, wrt=("a", "v"))


def test_complex_values_in_the_body():
    z = RNG.standard_normal(23) + 1j * RNG.standard_normal(23)
    check_grad(complex_body, X, z, wrt="x")


def test_f32():
    x = RNG.standard_normal(40).astype(np.float32)
    w = np.array([0.5, -2.0], dtype=np.float32)
    check_grad(single, x, w, wrt=("x", "w"))


def test_loops_kept_serial_are_correct():
    check_grad(with_while, X, wrt="x")
    check_grad(with_local_array, A, wrt="x")


def test_forward_and_vjp():
    x, c = RNG.standard_normal(10), np.array([0.7, -1.3])
    dx, ct = RNG.standard_normal(10), RNG.standard_normal(10)
    _, tangent = jvp(stencil, wrt="x", outputs="out")(x, c, np.zeros(10), tangents=(dx,))
    eps, hi, lo = 1e-6, np.zeros(10), np.zeros(10)
    stencil_k = kernel(stencil)
    stencil_k(x + eps * dx, c, hi)
    stencil_k(x - eps * dx, c, lo)
    np.testing.assert_allclose(tangent, (hi - lo) / (2 * eps), rtol=1e-6, atol=1e-8)
    gx = vjp(stencil, wrt="x", outputs="out")(x, c, np.zeros(10), cotangents=(ct,))
    assert abs(np.dot(ct, tangent) - np.dot(gx, dx)) <= 1e-12 * np.abs(gx).sum()


def test_racing_prange_is_refused_under_grad():
    def carried(x: f64[:]) -> float:
        s = 0.0
        for i in prange(len(x)):
            s = s * 0.5 + x[i]
        return s

    with pytest.raises(CompileError, match="carried from one iteration of this prange"):
        grad(carried)(X)


_AOT = """
import math
from ember import f64, grad, prange


def loss(a: f64[:, :], v: f64[:]) -> float:
    s = 0.0
    for i in prange(a.shape[0]):
        acc = 0.0
        for j in range(a.shape[1]):
            acc += a[i, j] * v[j]
        s += math.tanh(acc) * (i + 1)
    return s


dloss = grad(loss, wrt=("a", "v"))
"""


def test_aot_library_links_libgomp(tmp_path):
    import ember

    source = tmp_path / "parmod.py"
    source.write_text(_AOT)
    ember.build(str(source), str(tmp_path / "out"))
    needed = subprocess.run(["readelf", "-d", str(tmp_path / "out" / "libparmod.so")],
                            capture_output=True, text=True, check=True).stdout
    assert "libgomp" in needed
    sys.path.insert(0, str(tmp_path / "out"))
    try:
        import parmod  # the generated loader
    finally:
        sys.path.pop(0)
    want = grad(row_tanh, wrt=("a", "v"))(A, V, 0.0)
    for p, q in zip(parmod.dloss(A, V), want, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-13)


_THREADS = """
import sys, numpy as np
sys.path.insert(0, {here!r})
from ember import grad
from test_parallel_grads import row_tanh, A, V
g = grad(row_tanh, wrt=("a", "v", "b"))
before = "libgomp" in open("/proc/self/maps").read()
runs = [g(A, V, 0.3) for _ in range(3)]
threads = "libgomp" in open("/proc/self/maps").read() and not before
same = all(np.array_equal(p, q) for r in runs for p, q in zip(r, runs[0]))
print(repr((same and threads, [np.asarray(r).tolist() for r in runs[0]])))
"""


def _run(threads: int) -> tuple[bool, list]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    code = _THREADS.format(here=os.path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 (our own repr)


def test_one_and_two_threads_agree():
    one, two = _run(1), _run(2)
    assert one[0] and two[0]  # on libgomp; bitwise identical runs at a fixed thread count
    for p, q in zip(one[1], two[1], strict=True):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-13, atol=1e-15)


_RAISES = """
import numpy as np
from ember import f64, grad, kernel, prange, value_and_grad


@kernel
def check(v: float) -> float:
    if v > 100.0:
        raise ValueError("too big")
    return v * v


def loss(x: f64[:]) -> float:
    out = np.zeros(x.shape[0])
    for i in prange(x.shape[0]):
        out[i] = check(x[i])
    s = 0.0
    for i in range(x.shape[0]):
        s += out[i]
    return s


x = np.linspace(0.0, 1.0, 10000)
bad = x.copy()
bad[-1] = 1000.0  # raised on the last thread's chunk
for f in (grad(loss), value_and_grad(loss)):
    try:
        f(bad)
        print("no error")
    except ValueError as err:
        print("ValueError:", err)
print(np.allclose(grad(loss)(x), 2 * x))
"""


def test_a_raise_on_a_worker_thread_reaches_the_caller(tmp_path):
    """Each thread of a derivative's prange loop runs in an error frame (runtime/parlaunch.py):
    a raise on thread 1 is the caller's ValueError, not an abort of the process."""
    path = tmp_path / "raising_prange.py"
    path.write_text(_RAISES)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["ValueError: too big"] * 2 + ["True"]
