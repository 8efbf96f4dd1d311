"""Derivatives must not read shadow or local memory they did not write. Enzyme 0.0.16 skips
the shadow store of a store whose value it finds constant (`np.zeros`' fill, `a[i] = 1.5`,
`a[i] = x[i]` with `x` not differentiated), so `jvp` of a kernel with local arrays read
uninitialised tangents (repeated calls drifted: 46.7, 102.4, 267.3, ...) and both modes kept a
stale derivative where a constant overwrote an element (lowering/rewrites.activate_stores).
`grad` of a loop that swaps two arrays crashed Enzyme (lowering/rewrites.select_carried_arrays).

Each derivative runs three times in one process with freed heap memory filled with NaN bytes in
between, and once more in a subprocess under glibc's MALLOC_PERTURB_ (fresh and freed memory
garbage): the results must be identical and match central finite differences. The last test
covers a first call that computed with clobbered registers (runtime/thunk.ARENA)."""

import copy
import ctypes
import json
import math
import os
import queue
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from ember import CompileError, check_grad, f32, f64, grad, jvp, kernel

X5 = np.array([0.3, -0.2, 0.5, 0.8, 0.1])
T5 = np.array([0.2, 0.5, -0.3, 0.1, 1.0])


def array_swap(x: f64[:], y: float) -> float:
    # the example
    n = x.shape[0]
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = x[i]
    for _ in range(3):
        for i in range(n):
            b[i] = a[i] * y + math.sin(a[i])
        a, b = b, a
    s = 0.0
    for i in range(n):
        s += a[i] * a[i]
    return s


def swap_used_second(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        b[i] = x[i]
    for _ in range(3):
        for i in range(n):
            a[i] = b[i] * y + math.sin(b[i])
        a, b = b, a
    s = 0.0
    for i in range(n):
        s += b[i] * b[i]
    return s


def rotate_three(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.ones(n)
    b = np.zeros(n)
    c = np.empty(n)
    for i in range(n):
        a[i] = x[i]
    for _ in range(4):
        for i in range(n):
            c[i] = a[i] * y + b[i] * 0.3
        a, b, c = c, a, b
    s = 0.0
    for i in range(n):
        s += a[i] * b[i] + c[i]
    return s


def swap_in_branch(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = x[i]
        b[i] = x[i] * 2.0
    for it in range(4):
        for i in range(n):
            a[i] = a[i] * y + b[i] * 0.5
        if it % 2 == 1:
            a, b = b, a
    s = 0.0
    for i in range(n):
        s += a[i] * a[i] + b[i]
    return s


def swap_in_while(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = x[i]
    it = 0
    while it < 3:
        for i in range(n):
            b[i] = a[i] * y + math.sin(a[i])
        a, b = b, a
        it += 1
    s = 0.0
    for i in range(n):
        s += a[i] * a[i]
    return s


def swap_nested(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = x[i]
    for outer in range(2):
        for _ in range(2):
            for i in range(n):
                b[i] = a[i] * y + 0.1 * outer
            a, b = b, a
        for i in range(n):
            a[i] = math.sin(a[i])
    s = 0.0
    for i in range(n):
        s += a[i] * b[i]
    return s


def swap_then_break(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    b = np.zeros(n)
    for i in range(n):
        a[i] = x[i]
    for it in range(10):
        for i in range(n):
            b[i] = a[i] * y
        a, b = b, a
        if it >= 2:
            break
    s = 0.0
    for i in range(n):
        s += a[i] * a[i]
    return s


def swap_f32(x: f32[:], y: f32) -> f32:
    n = x.shape[0]
    a = np.zeros(n, dtype=np.float32)
    b = np.zeros(n, dtype=np.float32)
    for i in range(n):
        a[i] = x[i]
    for _ in range(3):
        for i in range(n):
            b[i] = a[i] * y + math.sin(a[i])
        a, b = b, a
    s = f32(0.0)
    for i in range(n):
        s += a[i] * a[i]
    return s


def swap_index_arrays(x: f64[:], y: float) -> float:
    n = x.shape[0]
    p = np.zeros(n, dtype=np.int64)
    q = np.zeros(n, dtype=np.int64)
    for i in range(n):
        p[i] = n - 1 - i
    for _ in range(3):
        for i in range(n):
            q[i] = p[p[i]]
        p, q = q, p
    s = 0.0
    for i in range(n):
        s += x[p[i]] * y * (i + 1)
    return s


def constant_overwrites(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    for i in range(n):
        a[i] = x[i] * y
    for i in range(n):
        if i % 2 == 0:
            a[i] = 1.5
    s = 0.0
    for i in range(n):
        s += a[i] * y
    return s


def empty_then_written(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.empty(n)
    for i in range(n):
        a[i] = 2.0
    for i in range(n):
        a[i] += x[i] * y
    s = 0.0
    for i in range(n):
        s += a[i] * a[i]
    return s


def output_overwritten(x: f64[:], out: f64[:], y: float) -> float:
    for i in range(len(x)):
        out[i] = x[i] * y
    out[0] = 3.0
    s = 0.0
    for i in range(len(x)):
        s += out[i] * x[i]
    return s


# (kernel, arguments, wrt, tangent)
CASES = [
    (array_swap, (X5, 0.9), "y", 1.0),
    (array_swap, (X5, 0.9), "x", T5),
    (swap_used_second, (X5, 0.9), "y", 1.0),
    (rotate_three, (X5, 0.9), "y", 1.0),
    (swap_in_branch, (X5, 0.9), "y", 1.0),
    (swap_in_while, (X5, 0.9), "y", 1.0),
    (swap_nested, (X5, 0.9), "x", T5),
    (swap_then_break, (X5, 0.9), "y", 1.0),
    (swap_f32, (X5.astype(np.float32), np.float32(0.9)), "y", 1.0),
    (swap_index_arrays, (X5, 0.9), "y", 1.0),
    (constant_overwrites, (X5, 0.9), "y", 1.0),
    (empty_then_written, (X5, 0.9), "y", 1.0),
    (output_overwritten, (X5, np.zeros(5), 0.9), "y", 1.0),
]

_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]
_libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]


def dirty_heap() -> None:
    """Fill freed heap chunks of many sizes with 0xFF bytes (NaN as doubles), so the next
    allocations of a derivative call get garbage instead of what the last call left."""
    blocks = []
    for size in (8, 24, 40, 56, 72, 96, 128, 200, 256, 512, 1024, 4096, 65536):
        for _ in range(16):
            block = _libc.malloc(size)
            _libc.memset(block, 0xFF, size)
            blocks.append(block)
    for block in blocks:
        _libc.free(block)


def _position(f, name: str) -> int:
    return list(f.__code__.co_varnames[:f.__code__.co_argcount]).index(name)


def _single(args: tuple) -> bool:
    return any(np.asarray(a).dtype == np.float32 for a in args)


def _directional_fd(f, args: tuple, wrt: str, tangent) -> float:
    k, index = kernel(f), _position(f, wrt)
    eps = 1e-3 if _single(args) else 1e-6

    def at(step: float) -> float:
        moved = list(copy.deepcopy(args))
        value = np.asarray(moved[index], dtype=np.float64) + step * np.asarray(tangent)
        moved[index] = value.astype(args[index].dtype) if isinstance(args[index], np.ndarray) \
            else type(args[index])(value)
        return float(k(*moved))

    return (at(eps) - at(-eps)) / (2 * eps)


def _three_calls(derivative, args: tuple, **seeds) -> list:
    results = []
    for _ in range(3):
        results.append(derivative(*copy.deepcopy(args), **seeds))
        dirty_heap()
    return results


def _label(case) -> str:
    return f"{case[0].__name__}-{case[2]}"


@pytest.mark.parametrize("case", CASES, ids=[_label(c) for c in CASES])
def test_jvp_repeats_exactly_and_matches_fd(case):
    f, args, wrt, tangent = case
    calls = _three_calls(jvp(f, wrt=wrt), args, tangents=(tangent,))
    for value, tan in calls[1:]:
        assert (value, tan) == calls[0], f"jvp drifts between calls: {calls}"
    rtol = 2e-2 if _single(args) else 1e-5
    np.testing.assert_allclose(calls[0][1], _directional_fd(f, args, wrt, tangent), rtol=rtol)
    np.testing.assert_allclose(calls[0][0], kernel(f)(*copy.deepcopy(args)), rtol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[_label(c) for c in CASES])
def test_grad_repeats_exactly_and_matches_fd(case):
    f, args, wrt, tangent = case
    calls = _three_calls(grad(f, wrt=wrt), args)
    for g in calls[1:]:
        np.testing.assert_array_equal(g, calls[0])
    check_grad(f, *copy.deepcopy(args), wrt=wrt)
    rtol = 1e-5 if _single(args) else 1e-10
    jvp_tangent = jvp(f, wrt=wrt)(*copy.deepcopy(args), tangents=(tangent,))[1]
    np.testing.assert_allclose(np.sum(np.asarray(calls[0]) * tangent), jvp_tangent, rtol=rtol)


_PERTURBED = """
import importlib.util, json, sys
import numpy as np
from ember import grad, jvp
spec = importlib.util.spec_from_file_location("shadow_cases", sys.argv[1])
cases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cases)
out = {}
for name in ("array_swap", "constant_overwrites", "rotate_three"):
    f = getattr(cases, name)
    tangents = [jvp(f, wrt="y")(cases.X5.copy(), 0.9, tangents=(1.0,))[1] for _ in range(3)]
    grads = [grad(f, wrt="y")(cases.X5.copy(), 0.9) for _ in range(3)]
    out[name] = {"jvp": tangents, "grad": grads}
print(json.dumps(out))
"""


def test_under_malloc_perturb():
    """glibc fills every fresh allocation with 0x5A and every freed one with 0xA5 bytes."""
    env = dict(os.environ, MALLOC_PERTURB_="165")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_PERTURBED), __file__],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.splitlines()[-1])
    for name, got in results.items():
        f = globals()[name]
        fd = _directional_fd(f, (X5, 0.9), "y", 1.0)
        for key in ("jvp", "grad"):
            assert len(set(got[key])) == 1, f"{name}: {key} differs between calls: {got[key]}"
            np.testing.assert_allclose(got[key][0], fd, rtol=1e-5, err_msg=f"{name} {key}")


def fresh_array_each_step(x: f64[:], y: float) -> float:
    n = x.shape[0]
    a = np.zeros(n)
    for i in range(n):
        a[i] = x[i]
    for _ in range(3):
        b = np.empty(n)
        for i in range(n):
            b[i] = a[i] * y + math.cos(a[i])
        a = b
    s = 0.0
    for i in range(n):
        s += a[i] * a[i]
    return s


def test_fresh_array_per_iteration():
    """Forward mode handles it; reverse mode cannot (Enzyme aborts on a loop that carries an
    array allocated inside it): a CompileError at the loop that says what to write instead."""
    _, tan = jvp(fresh_array_each_step, wrt="y")(X5.copy(), 0.9, tangents=(1.0,))
    np.testing.assert_allclose(tan, _directional_fd(fresh_array_each_step, (X5, 0.9), "y", 1.0),
                               rtol=1e-5)
    with pytest.raises(CompileError) as info:
        grad(fresh_array_each_step, wrt="y")(X5.copy(), 0.9)
    text = str(info.value)
    assert "for _ in range(3):" in text and "swap them" in text


def _sibling(name: str):
    """A kernel module of this folder (the local-array kernels of test_mutation.py)."""
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"shadow_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


M34 = np.array([[0.3, -0.2, 0.5, 0.8], [0.1, 0.4, -0.6, 0.2], [0.7, -0.1, 0.2, 0.3]])
LOCAL_ARRAYS = [  # (kernel name in test_mutation.py, arguments, wrt, tangent)
    ("local_zeros", (X5,), "x", T5),
    ("local_empty_2d", (M34,), "m", M34[::-1].copy()),
    ("local_like_and_full", (X5, 0.6), "c", 1.0),
    ("local_like_and_full", (X5, 0.6), "x", T5),
    ("local_overwritten_buffer", (X5,), "x", T5),
]


@pytest.mark.parametrize("case", LOCAL_ARRAYS, ids=[f"{c[0]}-{c[2]}" for c in LOCAL_ARRAYS])
def test_jvp_of_local_arrays_repeats_exactly(case):
    name, args, wrt, tangent = case
    f = getattr(_sibling("test_mutation"), name)
    calls = _three_calls(jvp(f, wrt=wrt), args, tangents=(tangent,))
    for call in calls[1:]:
        assert call == calls[0], f"jvp drifts between calls: {calls}"
    np.testing.assert_allclose(calls[0][1], _directional_fd(f, args, wrt, tangent), rtol=1e-6)


def damped_sine_steps(x: float, y: float, out: f64[:]) -> float:
    # its gradient holds x and y in xmm16/xmm17 (AVX-512 hosts) across the arena's first
    # thread-local access
    v0 = 0.0
    v1 = x
    k = 0
    for _ in range(3):
        v0 = (v0 * y) + x * 0.5
        v1 = v1 * 0.7 + math.sin(v1 * x + y)
        k = k + 1
    s = v1
    if v0 > 100.0:
        s = s * 2.0
    return s


_TLS_LIBRARY = "__thread long x;\nlong get(void) { return x; }\n"


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_first_call_in_a_thread_after_many_libraries(tmp_path):
    """A thread's first call of a derivative library loaded after many other libraries with
    thread-locals: the arena's first thread-local access grows the thread's TLS vector in glibc
    (realloc/memcpy, using xmm16-31), which LLVM assumed preserved; the first gradient came out
    NaN (runtime/thunk.ARENA: the access is now a real call)."""
    source = tmp_path / "tls.c"
    source.write_text(_TLS_LIBRARY)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(tmp_path / "tls.so"), str(source)],
                   check=True)
    jobs: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()

    def worker() -> None:
        for job in iter(jobs.get, None):
            results.put(job())

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        jobs.put(lambda: None)
        results.get()  # the thread exists, with a TLS vector sized for the libraries so far
        libraries = []
        for k in range(24):
            shutil.copy(tmp_path / "tls.so", tmp_path / f"tls{k}.so")
            libraries.append(ctypes.CDLL(str(tmp_path / f"tls{k}.so")))
        d = grad(damped_sine_steps, wrt="x")
        d.compile()
        got = []
        for _ in range(2):
            jobs.put(lambda: d(0.7, 1.3, np.zeros(3)))
            got.append(results.get())
    finally:
        jobs.put(None)
        thread.join()
    assert got[0] == got[1], f"first call differs: {got}"
    fd = _directional_fd(damped_sine_steps, (0.7, 1.3, np.zeros(3)), "x", 1.0)
    np.testing.assert_allclose(got[0], fd, rtol=1e-6)
