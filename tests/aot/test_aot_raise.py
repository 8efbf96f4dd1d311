"""AOT libraries of kernels that raise: from C, a raising function returns status 2 and
`<lib>_last_error()` holds "Kind: message (file, line N, in kernel)"; the loader raises the
same exception as the JIT; a kernel that cannot raise keeps the plain C signature."""

import math
import subprocess

import numpy as np
import pytest
import raising_mod as m
from aot_support import HERE, artifacts, declared_symbols, exported_symbols, run_isolated

import ember

NAME = "raising_mod"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("aot-raise")
    ember.build(str(HERE / f"{NAME}.py"), str(out))
    return out


def _line(kernel, text):
    source = (HERE / f"{NAME}.py").read_text().splitlines()
    return next(k + 1 for k, line in enumerate(source) if text in line)


def test_header_declares_status_functions(built):
    header = (built / f"{NAME}.h").read_text()
    assert "int32_t checked_sum(double* x, const int64_t* x_shape, const int64_t* x_strides, " \
           "double limit, double* result);" in header
    assert "int32_t ones(int64_t n, ember_array_float64_1d* result);" in header
    assert "int32_t dsum(" in header and "double* grad_x, double* result);" in header
    assert "void halve(double* x, const int64_t* x_shape, const int64_t* x_strides);" in header
    assert f"const char* {NAME}_last_error(void);" in header


def test_library_exports_exactly_the_header(built):
    lib, header, _ = artifacts(built, NAME)
    declared = declared_symbols(header.read_text())
    assert {"checked_sum", "ember_error_kind", "ember_py_checked_sum"} <= declared
    assert exported_symbols(lib) == declared


def test_from_c(built, tmp_path):
    exe = tmp_path / "prog"
    cc = subprocess.run(["cc", "-std=c11", f"-I{built}", str(HERE / "c_raise.c"), f"-L{built}",
                         f"-l{NAME}", f"-Wl,-rpath,{built}", "-o", str(exe), "-lm"],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in run.stdout.splitlines()}
    x = np.array([0.5, 1.5, 4.0])
    where = f"({HERE / f'{NAME}.py'}, line"
    assert float(lines["sum_ok"].split()[1]) == m.checked_sum(x, 10.0)
    assert lines["sum_raise"] == (f"2 ValueError: x[2] = 4.0 exceeds 2.0 {where} "
                                  f"{_line(m, 'raise ValueError')}, in checked_sum)")
    assert lines["after_raise"].startswith("0 ")
    assert lines["no_error"] == "1"
    assert lines["ones_ok"] == "0 5"
    assert lines["ones_raise"].startswith("2 AssertionError: n must be positive, got 0 " + where)
    assert lines["pick_ok"] == "0 4"
    assert lines["pick_raise"].startswith(
        "2 IndexError: index 3 is out of bounds for axis 0 with size 3 (array 'x') " + where)
    assert float(lines["dsum_ok"].split()[1]) == pytest.approx(math.cos(4.0), rel=1e-12)
    assert lines["dsum_raise"].startswith("2 ValueError: x[1] = 1.5 exceeds 1.0")
    assert lines["halve"] == "0.25"


LOADER_SCRIPT = """
import traceback
import numpy as np
import raising_mod as lib
x = np.array([0.5, 1.5, 4.0])
for call in (lambda: lib.checked_sum(x, 2.0), lambda: lib.ones(0), lambda: lib.pick(x, -4),
             lambda: lib.dsum(x, 1.0)):
    try:
        call()
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        print(type(exc).__name__, "|", exc, "|", "raising_mod.py\\", line" in text)
print("ok", lib.checked_sum(x, 10.0), lib.ones(2).tolist(), lib.pick(x, 1))
"""


def test_loader_raises_like_the_jit(built, numpy_site, tmp_path):
    out = run_isolated(LOADER_SCRIPT, [built], numpy_site, tmp_path)
    x = np.array([0.5, 1.5, 4.0])
    expected = []
    for call in (lambda: m.checked_sum(x, 2.0), lambda: m.ones(0), lambda: m.pick(x, -4),
                 lambda: m.dsum(x, 1.0)):
        with pytest.raises(Exception) as info:
            call()
        expected.append(f"{type(info.value).__name__} | {info.value} | True")
    assert out.splitlines()[:4] == expected
    assert out.splitlines()[4] == f"ok {m.checked_sum(x, 10.0)} [1.0, 1.0] 1.5"
