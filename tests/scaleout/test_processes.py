"""Kernels in fresh processes (issue 17, acceptance 1): `multiprocessing.Pool.map` and
`concurrent.futures.ProcessPoolExecutor.map` with the spawn and forkserver start methods (a
kernel, a grad, a vmap result, a ufunc and a closure kernel by value), the objects of a
script's or a `python -c`'s `__main__` (kernels, a grad, a vmap, a custom_jvp, a ufunc)
pickled by value and run in a fresh interpreter fed the bytes on stdin, and `__main__`
kernels in a spawn/forkserver pool started by a script. The pools are
module-scoped; every wait has a timeout. All processes share the session's disk cache
(tests/conftest.py), so the workers load what this process compiled."""

import functools
import json
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import f64

TIMEOUT = 240
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@ember.kernel
def norm2(x: f64[:]) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return s


dnorm2 = ember.grad(norm2)
rows = ember.vmap(norm2)


@ember.vectorize(["float64(float64, float64)"])
def hypot2(a, b):
    return a * a + b * b


def offset_kernel(c: float):
    @ember.kernel
    def shifted(x: f64[:]) -> float:
        return norm2(x) + c

    return shifted


def located(f, *args):
    """A task: the worker's process id and f(*args)."""
    return os.getpid(), f(*args)


XS = [np.linspace(-1.0, 1.0, 5) * k for k in range(1, 5)]
SHIFTED = offset_kernel(0.25)


@pytest.fixture(scope="module", params=["spawn", "forkserver"])
def pools(request):
    for k, x in ((norm2, XS[0]), (dnorm2, XS[0]), (rows, np.stack(XS)), (SHIFTED, XS[0])):
        k(x)  # compiled here: the workers load it from the shared disk cache
    ctx = multiprocessing.get_context(request.param)
    pool = ctx.Pool(2)
    executor = ProcessPoolExecutor(2, mp_context=ctx)
    yield pool, executor
    executor.shutdown(wait=False, cancel_futures=True)
    pool.terminate()
    pool.join()


def test_pool_map_of_kernel_grad_vmap_and_closure(pools):
    pool, _ = pools
    assert pool.map_async(norm2, XS).get(TIMEOUT) == pytest.approx([x @ x for x in XS])
    grads = pool.map_async(dnorm2, XS).get(TIMEOUT)
    for g, x in zip(grads, XS, strict=True):
        np.testing.assert_allclose(g, 2 * x)
    batched = pool.map_async(rows, [np.stack(XS), np.stack(XS[:2])]).get(TIMEOUT)
    np.testing.assert_allclose(batched[0], [x @ x for x in XS])
    assert pool.map_async(SHIFTED, XS).get(TIMEOUT) == pytest.approx([x @ x + 0.25 for x in XS])
    squares = pool.starmap_async(hypot2, [(x, 1.0) for x in XS]).get(TIMEOUT)
    for got, x in zip(squares, XS, strict=True):
        np.testing.assert_allclose(got, x * x + 1.0)
    where = pool.starmap_async(located, [(norm2, x) for x in XS]).get(TIMEOUT)
    assert all(pid != os.getpid() for pid, _ in where)


def test_executor_map_of_kernel_grad_vmap_and_closure(pools):
    _, executor = pools
    assert list(executor.map(norm2, XS, timeout=TIMEOUT)) == pytest.approx([x @ x for x in XS])
    for g, x in zip(executor.map(dnorm2, XS, timeout=TIMEOUT), XS, strict=True):
        np.testing.assert_allclose(g, 2 * x)
    (batched,) = executor.map(rows, [np.stack(XS)], timeout=TIMEOUT)
    np.testing.assert_allclose(batched, [x @ x for x in XS])
    shifted = executor.submit(located, SHIFTED, XS[1]).result(TIMEOUT)
    assert shifted[0] != os.getpid() and shifted[1] == pytest.approx(XS[1] @ XS[1] + 0.25)


MAIN_SCRIPT = (Path(__file__).parent / "main_kernels.py").read_text()
"""The script whose kernels travel by value (run as a file and as `python -c`)."""

LOADER = '''
import json, pickle, sys
import numpy as np
objects = pickle.loads(sys.stdin.buffer.read())
x = np.array([0.5, -1.0, 2.0])
params = objects["weighted"].py_func.__globals__["Params"](2.0, np.array([1.0, 2.0, 3.0]))
out = {"weighted": objects["weighted"](x, params),
       "dweighted": objects["dweighted"](x, params).tolist(),
       "plus": objects["plus"](x), "rows": objects["rows"](np.stack([x, 2 * x])).tolist(),
       "dcube": objects["dcube"](x).tolist(), "params": type(params).__module__,
       "plus_sq": objects["plus_sq"](x, 1.0).tolist(), "sum": objects["plus_sq"].reduce(x)}
try:
    objects["broken"](x)
except Exception as err:
    out["broken"] = f"{type(err).__name__}: {err}"
print(json.dumps(out))
'''


def _run(args, stdin=None, cwd=None):
    proc = subprocess.run([sys.executable, *args], input=stdin, capture_output=True,
                          timeout=TIMEOUT, cwd=cwd)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def _check_main_results(out: dict, script: str):
    x = np.array([0.5, -1.0, 2.0])
    w = np.array([1.0, 2.0, 3.0])
    assert out["weighted"] == pytest.approx(float(np.sum(3.0 * x * 2.0 * w)))
    np.testing.assert_allclose(out["dweighted"], 3.0 * 2.0 * w)
    assert out["plus"] == pytest.approx(x @ x + 1.5)
    np.testing.assert_allclose(out["rows"], [x @ x, 4 * (x @ x)])
    np.testing.assert_allclose(out["dcube"], [5.0, 5.0, 5.0])  # the custom rule traveled
    assert out["params"] == "__main__"
    np.testing.assert_allclose(out["plus_sq"], x + 2.0)
    assert out["sum"] == pytest.approx(functools.reduce(lambda a, b: a + 2.0 * b, x, 0.0))
    assert out["broken"].startswith(f'CompileError: File "{script} (pickled)", line 64, in broken')
    assert 'return x[0] + "text"' in out["broken"]


def test_main_script_kernels_by_value_in_a_fresh_interpreter(tmp_path):
    script = tmp_path / "make_kernels.py"
    script.write_text(MAIN_SCRIPT)
    payload = _run([str(script)], cwd=tmp_path)
    script.unlink()  # the receiver reads the kernels' text from the pickle alone
    out = json.loads(_run(["-c", LOADER], stdin=payload, cwd=ROOT))
    _check_main_results(out, str(script))


def test_python_c_kernels_by_value_in_a_fresh_interpreter():
    payload = _run(["-c", MAIN_SCRIPT], cwd=ROOT)
    out = json.loads(_run(["-c", LOADER], stdin=payload, cwd=ROOT))
    _check_main_results(out, "<string>")


POOL_SCRIPT = '''
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import ember
from ember import f64

SHIFT = 0.5


@ember.kernel
def energy(x: f64[:]) -> float:
    return 0.5 * np.sum(x * x) + SHIFT


def pid_and(f, x):
    return os.getpid(), f(x)


if __name__ == "__main__":
    xs = [np.arange(3.0) * k for k in range(4)]
    out = {}
    for method in ("spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(1) as pool:
            out[method + "-pool"] = pool.map_async(energy, xs).get(200)
            out[method + "-grad"] = [g.tolist() for g in
                                     pool.map_async(ember.grad(energy), xs).get(200)]
        with ProcessPoolExecutor(1, mp_context=ctx) as ex:
            pid, value = ex.submit(pid_and, energy, xs[2]).result(200)
            out[method + "-executor"] = [value, pid != os.getpid()]
    print(json.dumps(out))
'''


def test_main_kernels_in_spawn_and_forkserver_pools_of_a_script(tmp_path):
    script = tmp_path / "pool_main.py"
    script.write_text(POOL_SCRIPT)
    out = json.loads(_run([str(script)], cwd=tmp_path))
    xs = [np.arange(3.0) * k for k in range(4)]
    for method in ("spawn", "forkserver"):
        assert out[method + "-pool"] == pytest.approx([0.5 * x @ x + 0.5 for x in xs])
        for g, x in zip(out[method + "-grad"], xs, strict=True):
            np.testing.assert_allclose(g, x)
        assert out[method + "-executor"] == [pytest.approx(0.5 * xs[2] @ xs[2] + 0.5), True]
