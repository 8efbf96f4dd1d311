"""Acceptance 2 of the AOT build: a C program (c_calls.c) compiled with `cc` against the
generated header and linked to the library calls a scalar kernel, array kernels with NULL and
explicit strides, a tuple-returning kernel, an array-returning one (+ ember_release), f32, a
while loop and the derivatives; every printed number must match the JIT."""

import shutil
import subprocess

import aot_cases
import numpy as np
import physics_mod as m
import pytest
from aot_support import FUNCTIONS, HERE, NAME, artifacts

RTOL = 1e-12
PROGRAM = HERE / "c_calls.c"


def _cc(build_dir, source, output, *flags):
    cmd = ["cc", "-std=c11", *flags, f"-I{build_dir}", str(source), f"-L{build_dir}",
           f"-l{NAME}", f"-Wl,-rpath,{build_dir}", "-o", str(output), "-lm"]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def printed(build, tmp_path_factory):
    """{line name: [numbers as strings]} printed by the compiled C program."""
    out, _ = build
    work = tmp_path_factory.mktemp("c-program")
    source = shutil.copy(PROGRAM, work / PROGRAM.name)
    compiled = _cc(out, source, work / "prog")
    assert compiled.returncode == 0, compiled.stderr
    run = subprocess.run([str(work / "prog")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    lines = [line.split() for line in run.stdout.splitlines() if line.strip()]
    return {words[0]: words[1:] for words in lines}


@pytest.fixture(scope="module")
def jit():
    r = aot_cases.run_all(m)
    pos = aot_cases.POS
    value, (gpos, geps) = r["energy_and_grads"]
    s32, x32 = r["scale32"]
    gq, gs = r["spring_vjp"]
    return {
        "kinetic": [r["kinetic"]],
        "advance": r["advance"][1],
        "advance_strided": r["advance_strided"],
        "advance_reversed": r["advance_reversed"],
        "center_padded": r["center"],
        "energy": [r["energy"]],
        "energy_fortran": [r["energy_fortran"]],
        "center": r["center"],
        "scale32": [s32, *x32],
        "relax": [r["relax"]],
        "spring": r["spring"][1],
        "dforce_value": [m.energy(pos, 0.1)],
        "dforce": r["dforce"].ravel(),
        "dforce_fortran": r["dforce_fortran"].ravel(order="C"),
        "energy_and_grads": [value, geps],
        "energy_and_grads_pos": gpos.ravel(),
        "drelax": [r["relax"], *r["drelax"]],
        "spring_vjp": gq,
        "spring_vjp_stiffness": [gs],
        "spring_vjp_side_effect": r["spring_vjp_side_effect"],
        "spring_jvp": r["spring_jvp"][1],
    }


CASES = ("kinetic", "advance", "advance_strided", "advance_reversed", "center_padded", "energy", "energy_fortran", "center",
         "scale32", "relax", "spring", "dforce_value", "dforce", "dforce_fortran",
         "energy_and_grads", "energy_and_grads_pos", "drelax", "spring_vjp",
         "spring_vjp_stiffness", "spring_vjp_side_effect", "spring_jvp")


@pytest.mark.parametrize("case", CASES)
def test_c_program_matches_jit(printed, jit, case):
    assert case in printed, f"the program printed no {case!r} line"
    got = np.array([float(w) for w in printed[case]])
    want = np.asarray(jit[case], dtype=np.float64)
    assert got.shape == want.shape, (case, printed[case])
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL, err_msg=case)


def test_c_tuple_result(printed):
    distance, index = m.nearest(aot_cases.POS, 1)
    assert int(printed["nearest"][1]) == index
    np.testing.assert_allclose(float(printed["nearest"][0]), distance, rtol=RTOL)


def test_tuple_result_struct_tag_as_documented(build, tmp_path):
    # the contract and docs/aot.md spell the result type `struct <name>_result`
    out, _ = build
    source = tmp_path / "tag.c"
    source.write_text(f'#include <stddef.h>\n#include "{NAME}.h"\n'
                      "double first(double* pos, const int64_t* shape) {\n"
                      "    struct nearest_result r = nearest(pos, shape, NULL, 0);\n"
                      "    return r.v0 + (double)r.v1;\n"
                      "}\n"
                      "int main(void) { return 0; }\n")
    result = _cc(out, source, tmp_path / "tag", "-Wall", "-Werror")
    assert result.returncode == 0, result.stderr


def test_c_allocated_array_descriptor(printed):
    assert [int(w) for w in printed["center_shape"]] == [3, 1]  # shape, stride in elements


def test_header_compiles_without_warnings(build, tmp_path):
    out, _ = build
    result = _cc(out, PROGRAM, tmp_path / "prog", "-Wall", "-Wextra", "-pedantic", "-Werror")
    assert result.returncode == 0, result.stderr


def test_header_is_self_contained(build, tmp_path):
    out, _ = build
    source = tmp_path / "only_header.c"
    source.write_text(f'#include "{NAME}.h"\nint main(void) {{ return 0; }}\n')
    result = _cc(out, source, tmp_path / "only_header", "-Wall", "-Werror")
    assert result.returncode == 0, result.stderr


def test_header_declares_every_function_and_documents_arrays(build):
    out, _ = build
    header = artifacts(out)[1].read_text()
    for name in (*FUNCTIONS, "ember_release"):
        assert f"{name}(" in header, name
    assert "stride" in header.lower() and "NULL" in header
