"""`ember build` of the derivative objects of issue 16 (ember/aot/jacobian.py): module-level
`jacfwd`/`jacrev` objects, and `jvp`/`vjp` of kernels returning arrays or tuples,
`hvp`/`hessian` objects (ember/aot/second.py), a `vmap`-ped kernel and `vmap(grad(f))`
(issue16_mod.py, built once).

The generated loader, in an interpreter that has numpy only, gives the JIT objects' results
(to 1e-12; f32 to 1e-6), shapes, dtypes and side effects on the arguments, including strided
views, `while` loops with default parameters, keywords, a raising kernel, and the JIT's kinds
of argument errors. The header declares the documented prototypes; a C program calls the
Jacobians (forward, reverse, array, out-parameter and float outputs), a jvp, an hvp, a Hessian
and per-example gradients directly and prints the JIT's numbers, and gets a raising kernel's
status and message. A Jacobian matches central differences, and so does the Hessian of a
`while` loop with a default parameter (which the JIT's hessian cannot build yet)."""

import pickle
import shutil

import issue16_cases as cases
import issue16_mod as m
import numpy as np
import pytest
from aot_support import (
    HERE,
    artifacts,
    declared_symbols,
    exported_symbols,
    run_c_program,
    run_isolated,
)

NAME = "issue16_mod"

_CHILD = """
import pickle
import issue16_cases as cases
import {name} as m

with open({out!r}, "wb") as f:
    pickle.dump({{"results": cases.run_all(m), "errors": cases.bad_calls(m),
                 "loader_only": cases.loader_only(m)}}, f)
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import ember

    out = tmp_path_factory.mktemp("aot-issue16")
    ember.build(str(HERE / f"{NAME}.py"), str(out))
    return out


@pytest.fixture(scope="module")
def isolated(built, numpy_site, tmp_path_factory):
    work = tmp_path_factory.mktemp("isolated-issue16")
    shutil.copy(HERE / "issue16_cases.py", work / "issue16_cases.py")
    dump = work / "results.pkl"
    run_isolated(_CHILD.format(name=NAME, out=str(dump)), [built, work], numpy_site, work)
    with open(dump, "rb") as f:
        return pickle.load(f)


def _same(got, want, what, rtol):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{what}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{what}[{i}]", rtol)
    elif want is None:
        assert got is None, what
    else:
        assert type(got) is type(want), f"{what}: {type(got)} is not {type(want)}"
        assert (np.shape(got), np.asarray(got).dtype) == (np.shape(want),
                                                          np.asarray(want).dtype), what
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=what)


def test_loader_matches_jit(isolated):
    jit = cases.run_all(m)
    assert sorted(isolated["results"]) == sorted(jit)
    for case, want in jit.items():
        _same(isolated["results"][case], want, case, 1e-6 if "32" in case else 1e-12)


def test_loader_rejects_bad_calls_like_jit(isolated):
    jit = cases.bad_calls(m)
    for case, quoted in cases.BAD_CALLS.items():
        (want_type, want_msg), (got_type, got_msg) = jit[case], isolated["errors"][case]
        assert want_type is not None and quoted in want_msg, (case, want_type, want_msg)
        assert (got_type, quoted in got_msg) == (want_type, True), (case, got_msg, want_msg)


def test_jacobian_matches_finite_differences():
    x, s, h = cases.X.copy(), 0.8, 1e-6
    jx, js = cases.run_all(m)["jac_field"][0]
    f = m.field.py_func
    for i in range(x.size):
        d = np.zeros_like(x)
        d[i] = h
        np.testing.assert_allclose(jx[:, i], (f(x + d, s) - f(x - d, s)) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(js, (f(x, s + h) - f(x, s - h)) / (2 * h), rtol=1e-6)


def test_hessian_with_while_loop_matches_finite_differences(isolated):
    x, h = cases.X[:3].copy(), 1e-6
    for (hx, hs), s in zip(isolated["loader_only"].values(), (1.0, 0.7), strict=True):
        assert hx[0].shape == (3, 3) and hx[1].shape == (3,) and type(hs[1]) is float
        for i in range(3):
            d = np.zeros(3)
            d[i] = h
            (px, ps), (qx, qs) = m.grad_relax(x + d, s), m.grad_relax(x - d, s)
            np.testing.assert_allclose(hx[0][:, i], (px - qx) / (2 * h), rtol=1e-6, atol=1e-8)
            assert hs[0][i] == pytest.approx((ps - qs) / (2 * h), rel=1e-6, abs=1e-8)
        (px, ps), (qx, qs) = m.grad_relax(x, s + h), m.grad_relax(x, s - h)
        np.testing.assert_allclose(hx[1], (px - qx) / (2 * h), rtol=1e-6, atol=1e-8)
        assert hs[1] == pytest.approx((ps - qs) / (2 * h), abs=1e-8)


PROTOTYPES = [
    "int32_t jac_field(double* x, const int64_t* x_shape, const int64_t* x_strides, double s, "
    "const int64_t* ret0_shape, double* jac_ret0_x, double* jac_ret0_s);",
    "void jacr_spread(double* x, const int64_t* x_shape, const int64_t* x_strides, double w, "
    "double* out, const int64_t* out_shape, const int64_t* out_strides, double* jac_out_x);",
    "void jac_energy(double* x, const int64_t* x_shape, const int64_t* x_strides, double k, "
    "double* jac_return_x, double* jac_return_k);",
    "int32_t jac_field32(float* x, const int64_t* x_shape, const int64_t* x_strides, float s, "
    "const int64_t* ret0_shape, float* jac_ret0_x, float* jac_ret0_s);",
    "int32_t tan_field(double* x, const int64_t* x_shape, const int64_t* x_strides, double s, "
    "double* ret0, const int64_t* ret0_shape, const int64_t* ret0_strides, const double* tan_x,"
    " double tan_s, double* tan_ret0);",
    "int32_t cot_pair(double* x, const int64_t* x_shape, const int64_t* x_strides, double s, "
    "double* ret0, const int64_t* ret0_shape, const int64_t* ret0_strides, double* ret1, "
    "const int64_t* ret1_shape, const int64_t* ret1_strides, const double* cot_ret0, "
    "const double* cot_ret1, double* grad_x, double* grad_s);",
    "void hvp_energy(double* x, const int64_t* x_shape, const int64_t* x_strides, double k, "
    "const double* tan_x, double tan_k, double* hvp_x, double* hvp_k);",
    "void hess_energy(double* x, const int64_t* x_shape, const int64_t* x_strides, double k, "
    "double* hess_x_x);",
    "int32_t vfield(double* x, const int64_t* x_shape, const int64_t* x_strides, double s, "
    "ember_array_float64_2d* result);",
]


def test_header_declares_the_documented_functions(built):
    lib, header, _ = artifacts(built, NAME)
    text = header.read_text()
    for prototype in PROTOTYPES:
        assert prototype in text, prototype
    declared = declared_symbols(text)
    assert {"jac_field", "jac_field_jvp", "jacr_field_vjp", "jac_plain", "jac_plain_primal",
            "cot_pair", "grad_relax", "hess_energy_hvp", "hess_relax", "vfield",
            "vgrad_energy"} <= declared
    assert "jac_plain_primal" not in dir(m)  # added for the loader: _plain is not exported
    assert exported_symbols(lib) == declared


PROGRAM = r"""
#include <stdio.h>
#include "issue16_mod.h"

static void show(const char* name, const double* v, int n) {
    printf("%s", name);
    for (int i = 0; i < n; i++) printf(" %.17g", v[i]);
    printf("\n");
}

int main(void) {
    double x[5] = {0.3, -0.7, 1.1, 0.4, -0.2}, jx[25], js[5], jr[12], out[4] = {0.1, 0.2, 0.3, 0.4};
    int64_t shape[1] = {5}, three[1] = {3}, four[1] = {4}, stride2[1] = {2};
    printf("status %d\n", jac_field(x, shape, NULL, 0.8, shape, jx, js));
    show("jac_field_x", jx, 25);
    show("jac_field_s", js, 5);
    jacr_spread(x, three, stride2, 1.5, out, four, NULL, jr);  /* x[::2] */
    show("jacr_spread", jr, 12);
    show("spread_out", out, 4);
    double ex[5], ek;
    jac_energy(x, shape, NULL, 1.3, ex, &ek);
    show("jac_energy", ex, 5);
    show("jac_energy_k", &ek, 1);
    double ones[5] = {1, 1, 1, 1, 1}, value[5], tan[5];
    printf("tan_status %d\n", tan_field(x, shape, NULL, 0.8, value, shape, NULL, ones, 0.5, tan));
    show("tan_value", value, 5);
    show("tan_field", tan, 5);
    double hv[5], hk, hess[25];
    hvp_energy(x, shape, NULL, 1.3, ones, 0.5, hv, &hk);
    show("hvp_x", hv, 5);
    show("hvp_k", &hk, 1);
    hess_energy(x, shape, NULL, 1.3, hess);
    show("hessian", hess, 25);
    double xb[15], kb[3] = {1.3, 1.3, 1.3}, values[3], gxb[15], gkb[3], res;
    for (int i = 0; i < 15; i++) xb[i] = 0.1 * (i + 1) - 0.7;
    int64_t bshape[2] = {3, 5}, b[1] = {3};
    printf("vstatus %d\n", vgrad_energy(xb, bshape, NULL, kb, b, NULL, values, b, NULL, gxb, gkb,
                                        &res));
    show("values", values, 3);
    show("vgrad_x", gxb, 15);
    show("vgrad_k", gkb, 3);
    printf("raised %d\n", jac_checked(x, shape, NULL, -1.0, shape, jx));
    printf("error %s\n", issue16_mod_last_error());
    return 0;
}
"""


def test_c_program(built, tmp_path):
    lines = run_c_program(built, NAME, PROGRAM, tmp_path)
    x = cases.X.copy()
    got = {k: np.array([float(v) for v in vs]) for k, vs in lines.items()
           if k not in ("status", "tan_status", "vstatus", "raised", "error")}
    jx, js = m.jac_field(x, 0.8)
    out = np.array([0.1, 0.2, 0.3, 0.4])
    jr = m.jacr_spread(x[::2], 1.5, out)
    ex, ek = m.jac_energy(x, 1.3)
    value, tan = m.tan_field(x, 0.8, tangents=(np.ones(5), 0.5))
    hv, hk = m.hvp_energy(x, 1.3, tangents=(np.ones(5), 0.5))
    xb = (0.1 * np.arange(1, 16) - 0.7).reshape(3, 5)
    gxb, gkb = m.vgrad_energy(xb, 1.3)
    want = {"jac_field_x": jx.ravel(), "jac_field_s": js, "jacr_spread": jr.ravel(),
            "spread_out": out, "jac_energy": ex, "jac_energy_k": [ek], "tan_value": value,
            "tan_field": tan, "hvp_x": hv, "hvp_k": [hk],
            "hessian": m.hess_energy(x, 1.3).ravel(), "vgrad_x": gxb.ravel(), "vgrad_k": gkb,
            "values": [m.energy(row, 1.3) for row in xb]}
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        np.testing.assert_allclose(got[k], v, rtol=1e-12, atol=1e-14, err_msg=k)
    assert lines["status"] == lines["tan_status"] == lines["vstatus"] == ["0"]
    assert lines["raised"] == ["2"] and lines["error"][:5] == ["ValueError:", "s", "must",
                                                                 "not", "be"]
