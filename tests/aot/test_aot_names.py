"""Parameter names that are ordinary in Python but collide with the C wrapper's own
identifiers (`out`, `r`, `k`, `counts`, `st_<param>`), or are C keywords (`double`,
`default`): the build must still succeed and the loader give the JIT's results. One tiny
module per case, so that a failure names the clash. Also a kernel named like a libm function
(`exp`), called from C: it must not take over the library's own calls to libm."""

import importlib.util
import subprocess
import textwrap

import numpy as np
import pytest

import ember

CASES = {
    "out_with_result": ("""
        @kernel
        def total_into(a: f64[:], out: f64[:]) -> float:
            s = 0.0
            for i in range(len(a)):
                out[i] = 2.0 * a[i]
                s += out[i]
            return s
        """, "total_into", lambda: (np.arange(3.0), np.zeros(3))),
    "out_r_k_counts_in_vjp": ("""
        @kernel
        def fill(out: f64[:], r: float, k: int, counts: f64[:]) -> None:
            i = 0
            while i < len(out):
                out[i] = r * (i + k) * counts[i]
                i += 1

        dfill = vjp(fill, wrt="r", outputs="out")
        """, "fill", lambda: (np.zeros(3), 1.5, 2, np.ones(3))),
    "c_keywords": ("""
        @kernel
        def keywords(double: float, default: float, int: int) -> float:
            return double * default + int
        """, "keywords", lambda: (1.5, 2.0, 3)),
    "strides_prefix": ("""
        @kernel
        def prefixed(x: f64[:], st_x: f64[:], c_x: float) -> float:
            s = 0.0
            for i in range(len(x)):
                s += x[i] * st_x[i] * c_x
            return s

        dprefixed = grad(prefixed, wrt="x")
        """, "prefixed", lambda: (np.arange(3.0), np.ones(3), 0.5)),
}

HEADER = "import numpy as np\nfrom ember import f64, grad, kernel, vjp\n"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", sorted(CASES))
def test_clashing_names_build_and_run(tmp_path, case):
    text, func, args = CASES[case]
    name = f"names_{case}"
    source = tmp_path / f"{name}.py"
    source.write_text(HEADER + textwrap.dedent(text))
    out = tmp_path / "build"
    ember.build(str(source), str(out))
    jit_args, aot_args = args(), args()
    want = getattr(_load(source, f"{name}_jit"), func)(*jit_args)
    got = getattr(_load(out / f"{name}.py", name), func)(*aot_args)
    if want is None:  # a kernel writing its result into an array argument
        assert got is None
        for j, a in zip(jit_args, aot_args, strict=True):
            np.testing.assert_allclose(a, j, rtol=1e-12)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for g, w in zip(aot_args, jit_args, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12)


LIBM_NAMED = """
import math
from ember import kernel


@kernel
def exp(x: float) -> float:
    return 2.0 * math.exp(x)
"""

CALL_EXP = """#include <stdio.h>
#include <stdlib.h>
#include "libm_named.h"
int main(int argc, char** argv) {
    printf("%.17g\\n", exp(atof(argv[1])));
    return 0;
}
"""


def test_kernel_named_like_a_libm_function(tmp_path):
    # The library's own call to libm's exp must not resolve to the exported kernel `exp`
    # (infinite recursion); rejecting the name with a CompileError is acceptable too.
    source = tmp_path / "libm_named.py"
    source.write_text(LIBM_NAMED)
    out = tmp_path / "build"
    try:
        ember.build(str(source), str(out))
    except ember.CompileError as err:
        assert "exp" in str(err)
        return
    (tmp_path / "p.c").write_text(CALL_EXP)
    cc = subprocess.run(["cc", "-O2", f"-I{out}", str(tmp_path / "p.c"), f"-L{out}",
                         "-llibm_named", f"-Wl,-rpath,{out}", "-o", str(tmp_path / "p"), "-lm"],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    run = subprocess.run([str(tmp_path / "p"), "1.0"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, f"exit status {run.returncode}"
    np.testing.assert_allclose(float(run.stdout), 2.0 * np.e, rtol=1e-15)
