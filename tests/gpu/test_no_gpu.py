"""Without a GPU (or with none visible): calling a GPU kernel raises a clear RuntimeError at
call time, in a process that does not crash; importing, decorating and compiling to PTX
never touch the driver."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import ember
from ember import f64, prange
from ember.runtime import cuda

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MESSAGE = "no CUDA driver/GPU found: "

_CHILD = """
import numpy as np
import gpu_kernels
from ember.runtime import cuda
assert cuda._device is None and cuda._failure is None, "the driver was touched too early"
for attempt in range(2):  # the failure is remembered, the message stays the same
    try:
        gpu_kernels.saxpy(np.float32(1), np.ones(3, np.float32), np.ones(3, np.float32))
    except RuntimeError as err:
        print(type(err).__name__, "|", err)
    else:
        raise SystemExit("the call did not fail")
print("available:", cuda.available())
"""


def run_hidden(script: str, cwd: Path, path: list[Path]) -> subprocess.CompletedProcess:
    """`script` in a fresh interpreter that sees no GPU (CUDA_VISIBLE_DEVICES is empty, so
    this also holds on a machine with one)."""
    env = {"CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": ":".join(map(str, path)),
           "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_call_without_gpu_is_a_clear_runtime_error(tmp_path):
    proc = run_hidden(_CHILD, tmp_path, [ROOT, HERE])
    assert proc.returncode == 0, proc.stderr  # no segfault, no other exception
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0] == lines[1] and lines[0].startswith(f"NoDeviceError | {MESSAGE}")
    assert lines[2] == "available: False"


def test_no_device_error_is_a_runtime_error():
    assert issubclass(cuda.NoDeviceError, RuntimeError)
    assert ember.cuda.NoDeviceError is cuda.NoDeviceError


def test_decorating_and_ptx_need_no_driver(monkeypatch):
    def fail():
        raise AssertionError("the driver was used")

    monkeypatch.setattr(cuda, "device", fail)

    @ember.kernel(target="gpu")
    def double(x: f64[:]) -> None:
        for i in prange(len(x)):
            x[i] = 2.0 * x[i]

    assert ".visible .entry double_kernel(" in double.inspect("ptx")
    double.compile()
    assert double.cache_hit is not None


def test_missing_cuda_python(monkeypatch):
    """Without cuda-python the message says so (and how to install it)."""
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)
    monkeypatch.setattr(cuda, "_device", None)
    monkeypatch.setattr(cuda, "_failure", None)
    try:
        cuda.device()
    except RuntimeError as err:
        assert str(err).startswith(MESSAGE) and "cuda-python is not installed" in str(err)
    else:
        raise AssertionError("no error without cuda-python")


def test_cpu_build_of_the_same_kernel_still_runs():
    import gpu_kernels

    x, y = np.ones(5, np.float32), np.ones(5, np.float32)
    ember.kernel(gpu_kernels.saxpy.py_func)(np.float32(2), x, y)
    assert list(y) == [3.0] * 5


def test_launcher_imports_nothing_of_the_toolchain():
    """runtime/cuda.py and the Ember modules it imports are embedded verbatim in AOT loaders
    (GPU_RUNTIME_MODULES): stdlib, numpy, cuda-python and each other only."""
    import ast

    from ember.aot.gpu import GPU_RUNTIME_MODULES

    names = set()
    for rel in GPU_RUNTIME_MODULES:
        path = ROOT / "ember" / (rel.replace(".", "/") + ".py")
        package = ["ember", *rel.split(".")][:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level:
                base = package[:len(package) - node.level + 1]
                base += node.module.split(".") if node.module else []
                targets = [[*base, a.name] for a in node.names] if not node.module else [base]
                for target in targets:
                    if (ROOT.joinpath(*target).with_suffix(".py")).exists():
                        assert ".".join(target[1:]) in GPU_RUNTIME_MODULES, (rel, target)
            elif isinstance(node, ast.ImportFrom):
                names.add((node.module or "").split(".")[0])
    assert names <= {"__future__", "collections", "contextlib", "ctypes", "dataclasses", "math", "numbers",
                     "threading", "typing", "numpy", "cuda"}, names
