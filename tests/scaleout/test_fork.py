"""Compiling in a child made by `os.fork` after the parent compiled (a multiprocessing "fork"
pool, a test runner that forks per test): the child makes its own MLIR context (the parent's
thread pool has no threads in the child: using it waited forever) and its own Enzyme worker
(the parent's pipes would mix both processes' requests), and the compile lock is free there.
Run in a fresh interpreter with a timeout, so a hang fails the test instead of CI."""

import os
import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent('''
    import multiprocessing, os, sys, threading
    import numpy as np
    from ember import f64, grad, kernel

    @kernel
    def square_sum(x: f64[:]) -> float:
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * x[i]
        return s

    @kernel
    def cube_sum(x: f64[:]) -> float:
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * x[i] * x[i]
        return s

    def in_child(n):
        x = np.arange(1.0, n + 1.0)
        return float(cube_sum(x)), grad(cube_sum)(x).tolist()

    x = np.arange(1.0, 4.0)
    assert square_sum(x) == 14.0 and grad(square_sum)(x).tolist() == [2.0, 4.0, 6.0]
    from ember.driver import COMPILE_LOCK
    held = threading.Event()
    release = threading.Event()

    def holder():  # another thread holds the compile lock while the process forks
        with COMPILE_LOCK:
            held.set()
            release.wait()

    t = threading.Thread(target=holder)
    t.start()
    held.wait()
    pid = os.fork()
    if pid == 0:
        value, g = in_child(3)
        os._exit(0 if value == 36.0 and g == [3.0, 12.0, 27.0] else 3)
    release.set()
    t.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map(in_child, [2, 4])
    assert got == [(9.0, [3.0, 12.0]), (100.0, [3.0, 12.0, 27.0, 48.0])], got
    print("ok")
''')


def test_compiles_in_forked_children(tmp_path):
    script = tmp_path / "forking.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "EMBER_CACHE_DIR": str(tmp_path / "cache")}  # the children compile
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
