"""AOT complex numbers: the header uses C99 `double _Complex`/`float _Complex` for complex
parameters and results (complex arrays as `double _Complex*` data), a C program compiled
against it gets the JIT's results, and the Python loader takes and returns Python complex
numbers and complex arrays."""

import numpy as np
import pytest
from aot_support import HERE, build_module, load_file, run_c_program

import ember

X = [0.5, -1.0, 2.0]
PROGRAM = r"""
#include <complex.h>
#include <stdio.h>
#include "complex_mod.h"

int main(void) {
    double x[3] = {0.5, -1.0, 2.0};
    int64_t shape[1] = {3};
    rotate_result r = rotate(1.0 + 2.0 * I, 3.0f - 1.0f * I, x, shape, NULL);
    printf("rotate %.17g %.17g %.9g %.9g %.17g\n", creal(r.v0), cimag(r.v0), crealf(r.v1),
           cimagf(r.v1), r.v2);
    double _Complex a[3] = {1.0 + 1.0 * I, -0.5 * I, 2.0};
    int64_t strides[1] = {-1};
    ember_array_complex128_1d s = spectrum(a + 2, shape, strides, 0.5 - 1.0 * I);
    printf("spectrum");
    for (int64_t i = 0; i < s.shape[0]; i++)
        printf(" %.17g %.17g", creal(s.data[i * s.strides[0]]), cimag(s.data[i * s.strides[0]]));
    printf("\n");
    ember_release(s.owner);
    double g[3];
    double value = 0.0;
    if (dpower(x, shape, NULL, 0.25, g, &value) != 0) return 1;
    printf("dpower %.17g %.17g %.17g %.17g\n", value, g[0], g[1], g[2]);
    return 0;
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_module(tmp_path_factory, "complex_mod")


def _jit():
    return load_file(HERE / "complex_mod.py", "complex_jit")


def test_header_uses_c99_complex(built):
    header = (built / "complex_mod.h").read_text()
    assert "#include <complex.h>" in header
    assert "double _Complex z, float _Complex w" in header
    assert "double _Complex* data" in header


def test_c_program(built, tmp_path):
    printed = run_c_program(built, "complex_mod", PROGRAM, tmp_path)
    lines = {k: [float(v) for v in words] for k, words in printed.items()}
    jit = _jit()
    x = np.array(X)
    z, w, m = jit.rotate(1 + 2j, 3 - 1j, x)
    np.testing.assert_allclose(lines["rotate"], [z.real, z.imag, w.real, w.imag, m], rtol=1e-15)
    a = np.array([1 + 1j, -0.5j, 2.0])
    s = jit.spectrum(a[::-1], 0.5 - 1j)
    np.testing.assert_allclose(lines["spectrum"], np.column_stack([s.real, s.imag]).ravel(),
                               rtol=1e-15)
    value, g = ember.value_and_grad(jit.power, wrt="x")(x, 0.25)
    np.testing.assert_allclose(lines["dpower"], [value, *g], rtol=1e-13)


def test_python_loader(built):
    loaded = load_file(built / "complex_mod.py", "complex_loader")  # numpy and ctypes only
    jit = _jit()
    x = np.array(X)
    assert loaded.rotate(1 + 2j, 3 - 1j, x) == jit.rotate(1 + 2j, 3 - 1j, x)
    a = np.array([1 + 1j, -0.5j, 2.0])
    got = loaded.spectrum(a, 2j)
    assert got.dtype == np.complex128
    np.testing.assert_array_equal(got, jit.spectrum(a, 2j))
    np.testing.assert_allclose(loaded.dpower(x, 0.25), ember.grad(jit.power, wrt="x")(x, 0.25))
