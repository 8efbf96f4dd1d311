"""AOT builds of kernels with defaults, keywords, Optional, tuple and NamedTuple parameters:
the Python loader binds arguments as the JIT does (the build where no Optional parameter is
None); the C API takes every parameter, tuples flattened into their items, with the defaults
written in the header."""

import numpy as np
import pytest
from aot_support import HERE, build_module, load_file, run_c_program

PROGRAM = r"""
#include <stdio.h>
#include "binding_mod.h"

int main(void) {
    double x[3] = {1.0, 2.0, 3.0}, w[3] = {1.0, 0.5, 2.0}, lo[3] = {0.0, 1.0, 5.0};
    int64_t shape[1] = {3};
    printf("weighted %.17g\n", weighted(x, shape, NULL, 2.0, w, shape, NULL, 0.5, 1.5));
    printf("inside %lld\n", (long long)inside(lo, shape, NULL, 1.5, 1.0));
    return 0;
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_module(tmp_path_factory, "binding_mod")


def _jit():
    return load_file(HERE / "binding_mod.py", "binding_jit")


def test_header_documents_defaults(built):
    header = (built / "binding_mod.h").read_text()
    line = next(ln for ln in header.splitlines() if ln.startswith("/* weighted("))
    assert "p: float = 2.0" in line
    assert "w: float64[:] (None in Python: not in this build)" in line
    assert "shift_0: float = 0.5, shift_1: float = 1.5" in line
    assert "b_lo: float64[:], b_width: float" in header


def test_c_program(built, tmp_path):
    lines = run_c_program(built, "binding_mod", PROGRAM, tmp_path)
    jit = _jit()
    x, w, lo = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.5, 2.0]), np.array([0.0, 1.0, 5.0])
    assert float(lines["weighted"][0]) == jit.weighted(x, 2.0, w) == jit.weighted.py_func(x, 2.0, w)
    assert int(lines["inside"][0]) == jit.inside(jit.Box(lo, 1.5), 1.0) == 2


def test_python_loader(built):
    loaded = load_file(built / "binding_mod.py", "binding_loader")  # numpy and ctypes only
    jit = _jit()
    x, w = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.5, 2.0])
    for args, kwargs in [((x, 3.0, w), {}), ((x,), {"w": w, "shift": (1.0, 2.0)}),
                         ((), {"x": x, "w": w, "p": 1.0})]:
        assert loaded.weighted(*args, **kwargs) == jit.weighted.py_func(*args, **kwargs)
    with pytest.raises(TypeError, match=r"built for calls where no parameter is None"):
        loaded.weighted(x)  # the export takes w: its None build is not in the library
    with pytest.raises(TypeError, match=r"weighted\(\) got an unexpected keyword argument 'q'"):
        loaded.weighted(x, w=w, q=1)
    assert loaded.inside(jit.Box(np.array([0.0, 1.0]), 1.5), 1.2) == 2
    assert loaded.inside((np.array([0.0, 1.0]), 1.5), 1.2) == 2
    np.testing.assert_allclose(loaded.grad_loss(x), 6.0 * x)
    np.testing.assert_allclose(loaded.grad_loss(x, scale=1.0), 2.0 * x)
