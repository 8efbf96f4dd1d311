"""The tape arena of derivative libraries (runtime/arena.c): a thread's tape memory is kept
between calls (no page faults in steady state), bounded by $EMBER_TAPE_CACHE_MB, freed by
`ember.release_tape_memory()`, per thread (concurrent calls), and a derivative that raised
gets its blocks back and works on the next call. Gradients are checked against a NumPy
forward-mode reference of the same recurrence."""

import resource
import threading

import numpy as np
import pytest

import ember
from ember import f64, grad, kernel

N, STEPS = 4096, 1250
"""A 40 MB tape: above glibc's largest mmap threshold, so a fresh tape per call faults."""


def _logistic(u0: f64[:], k: float, steps: int, limit: float) -> float:
    n = u0.shape[0]
    u = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
    for _ in range(steps):
        for i in range(n):
            u[i] = k * u[i] * (1.0 - u[i])  # overwrites the value its adjoint needs: taped
            assert u[i] < limit, f"u[{i}] = {u[i]} reached {limit}"
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


logistic = kernel(_logistic)
d_logistic = grad(logistic, wrt=("u0", "k"))


@kernel
def triangle(x: f64[:], a: f64[:, :]) -> float:
    """Inner loops whose trip count changes: Enzyme allocates their caches inside the loop."""
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        acc = 0.0
        for j in range(i + 1):
            acc = acc * 0.5 + a[i, j] * x[j] * x[j]
        s += acc * acc
    return s


def _reference(u0: np.ndarray, k: float, steps: int) -> tuple[np.ndarray, float]:
    u, du, dk = u0.copy(), np.ones_like(u0), np.zeros_like(u0)
    for _ in range(steps):
        u, du, dk = k * u * (1 - u), k * (1 - 2 * u) * du, u * (1 - u) + k * (1 - 2 * u) * dk
    return 2 * u * du, float(np.sum(2 * u * dk))


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _inputs(n: int = N) -> np.ndarray:
    return np.linspace(0.05, 0.95, n)


def test_tape_kept_between_calls_without_page_faults():
    ember.release_tape_memory()  # only this test's library counts below (EMBER_GRAD_NOFORK=1)
    u0 = _inputs()
    first = d_logistic(u0, 3.1, STEPS, 2.0)
    ref_u, ref_k = _reference(u0, 3.1, STEPS)
    assert np.allclose(first[0], ref_u, rtol=1e-9, atol=1e-9)
    assert first[1] == pytest.approx(ref_k, rel=1e-9)
    kept = ember.tape_cached_bytes()
    assert 8 * N * STEPS <= kept <= 256 << 20
    d_logistic(u0, 3.1, STEPS, 2.0)
    before = _faults()
    again = [d_logistic(u0, 3.1, STEPS, 2.0) for _ in range(4)]
    assert (_faults() - before) / 4 < 64  # a fresh 40 MB tape is ~10,000 faults
    for g in again:  # bitwise, call after call
        assert np.array_equal(g[0], first[0]) and g[1] == first[1]
    assert ember.tape_cached_bytes() == kept


def test_small_blocks_allocated_in_loops():
    rng = np.random.default_rng(0)
    x, a = rng.uniform(-1, 1, 300), rng.uniform(-1, 1, (300, 300))
    d = grad(triangle, wrt=("x", "a"))
    first = d(x, a)
    ember.check_grad(triangle, x[:12], a[:12, :12], wrt=("x", "a"))
    kept = ember.tape_cached_bytes()
    for _ in range(3):
        g = d(x, a)
        assert np.array_equal(g[0], first[0]) and np.array_equal(g[1], first[1])
    assert ember.tape_cached_bytes() == kept


def test_release_tape_memory():
    u0 = _inputs(512)
    first = d_logistic(u0, 3.1, 100, 2.0)
    assert ember.tape_cached_bytes() > 0
    ember.release_tape_memory()
    assert ember.tape_cached_bytes() == 0
    g = d_logistic(u0, 3.1, 100, 2.0)
    assert np.array_equal(g[0], first[0]) and g[1] == first[1]
    assert ember.tape_cached_bytes() > 0


def test_cached_bytes_are_bounded(monkeypatch):
    monkeypatch.setenv("EMBER_TAPE_CACHE_MB", "1")  # read when the library first allocates
    d = grad(kernel(_logistic, cache=False), wrt=("u0", "k"))  # a library of its own
    ember.release_tape_memory()
    u0 = _inputs(1024)
    ref_u, ref_k = _reference(u0, 3.1, 400)
    for _ in range(3):
        g = d(u0, 3.1, 400, 2.0)  # a 3.2 MB tape
        assert ember.tape_cached_bytes() <= 1 << 20
        assert np.allclose(g[0], ref_u, rtol=1e-9, atol=1e-9)
        assert g[1] == pytest.approx(ref_k, rel=1e-9)


def test_threads_call_one_derivative_at_once():
    u0 = _inputs(1024)
    ks = [2.5 + 0.1 * t for t in range(4)]
    expected = [d_logistic(u0, k, 300, 2.0) for k in ks]
    results: dict[int, list] = {}

    def work(t: int) -> None:
        results[t] = [d_logistic(u0, ks[t], 300, 2.0) for _ in range(5)]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(4):
        for g in results[t]:
            assert np.array_equal(g[0], expected[t][0]) and g[1] == expected[t][1]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def test_thread_exit_frees_its_tape():
    u0 = _inputs()
    d_logistic(u0, 3.1, STEPS, 2.0)
    before = _rss()
    for _ in range(6):  # 6 x 40 MB if the threads' tapes outlived them
        th = threading.Thread(target=d_logistic, args=(u0, 3.1, STEPS, 2.0))
        th.start()
        th.join()
    assert _rss() - before < 100 << 20


def test_a_derivative_that_raised_works_on_the_next_call():
    u0 = _inputs(1024)
    good = d_logistic(u0, 3.1, 400, 2.0)
    kept = ember.tape_cached_bytes()
    for _ in range(3):  # raises in the middle of the taped loop, with blocks live
        with pytest.raises(AssertionError, match=r"^u\[\d+\] = .* reached 0.7$"):
            d_logistic(u0, 3.1, 400, 0.7)
        assert ember.tape_cached_bytes() == kept  # what it had allocated came back
    g = d_logistic(u0, 3.1, 400, 2.0)
    assert np.array_equal(g[0], good[0]) and g[1] == good[1]


AOT_MODULE = '''
import numpy as np
from ember import f64, grad, kernel


@kernel
def rollout(u0: f64[:], k: float, steps: int) -> float:
    u = np.empty(u0.shape[0])
    for i in range(u0.shape[0]):
        u[i] = u0[i]
    for _ in range(steps):
        for i in range(u0.shape[0]):
            u[i] = k * u[i] * (1.0 - u[i])
    e = 0.0
    for i in range(u0.shape[0]):
        e += u[i] * u[i]
    return e


drollout = grad(rollout, wrt="u0")
'''


def test_aot_library_keeps_and_releases_its_tape(tmp_path):
    import ctypes
    import importlib.util

    (tmp_path / "tape_mod.py").write_text(AOT_MODULE)
    ember.build(str(tmp_path / "tape_mod.py"), str(tmp_path / "out"))
    spec = importlib.util.spec_from_file_location("tape_mod_loader", tmp_path / "out" / "tape_mod.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    lib = ctypes.CDLL(str(tmp_path / "out" / "libtape_mod.so"))  # the loader's library
    lib.tape_mod_tape_cached_bytes.restype = ctypes.c_uint64
    u0 = _inputs(512)
    first = loader.drollout(u0, 3.1, 200)
    assert np.allclose(first, _reference(u0, 3.1, 200)[0], rtol=1e-9, atol=1e-9)
    assert lib.tape_mod_tape_cached_bytes() >= 8 * 512 * 200
    lib.tape_mod_release_tape_memory()
    assert lib.tape_mod_tape_cached_bytes() == 0
    assert np.array_equal(loader.drollout(u0, 3.1, 200), first)
