"""Acceptance 1 of the AOT build: `ember.build` writes a library, a header and a loader; the
loader runs in an interpreter that cannot import ember, mlir or enzyme_ad, and gives the JIT's
results (exactly for ints, to 1e-12 for floats), the JIT's argument errors and signatures;
the library exports exactly what its header declares."""

import inspect
import pickle
import shutil

import aot_cases
import numpy as np
import physics_mod
import pytest
from aot_support import (
    FUNCTIONS,
    HERE,
    KERNELS,
    NAME,
    artifacts,
    declared_symbols,
    exported_symbols,
    run_isolated,
)

RTOL = 1e-12

_CHILD = """
import inspect, pickle
import aot_cases
import {name} as m

data = {{
    "results": aot_cases.run_all(m),
    "errors": aot_cases.bad_calls(m),
    "signatures": {{n: list(inspect.signature(getattr(m, n)).parameters) for n in {kernels!r}}},
    "attributes": [n for n in {functions!r} if callable(getattr(m, n, None))],
}}
with open({out!r}, "wb") as f:
    pickle.dump(data, f)
"""


@pytest.fixture(scope="module")
def isolated(build, numpy_site, tmp_path_factory):
    """Everything the loader returned in the isolated interpreter."""
    out, _ = build
    work = tmp_path_factory.mktemp("isolated")
    shutil.copy(HERE / "aot_cases.py", work / "aot_cases.py")
    dump = work / "results.pkl"
    script = _CHILD.format(name=NAME, kernels=KERNELS, functions=FUNCTIONS, out=str(dump))
    run_isolated(script, [out, work], numpy_site, work)
    with open(dump, "rb") as f:
        return pickle.load(f)


@pytest.fixture(scope="module")
def jit():
    return aot_cases.run_all(physics_mod)


def _same(got, want, what):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{what}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{what}[{i}]")
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: expected an ndarray, got {type(got)}"
        assert (got.shape, got.dtype) == (want.shape, want.dtype), what
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want, err_msg=what)
        else:
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL, err_msg=what)
    elif want is None or isinstance(want, bool | int | np.integer):
        assert type(got) is type(want) and got == want, f"{what}: {got!r} != {want!r}"
    else:
        assert type(got) is type(want), f"{what}: {type(got)} is not {type(want)}"
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL, err_msg=what)


def test_build_writes_library_header_and_loader(build):
    out, result = build
    for path in artifacts(out):
        assert path.is_file() and path.stat().st_size > 0, path
    done = set(result["compiled"]) | set(result["reused"])
    assert done == set(FUNCTIONS)


def test_loader_exposes_every_function(isolated):
    assert isolated["attributes"] == list(FUNCTIONS)


def test_every_case_ran(isolated, jit):
    assert set(isolated["results"]) == set(jit) == set(aot_cases.CASES)


@pytest.mark.parametrize("case", aot_cases.CASES)
def test_loader_matches_jit(isolated, jit, case):
    _same(isolated["results"][case], jit[case], case)


@pytest.mark.parametrize("name", KERNELS)
def test_loader_signature_matches_kernel(isolated, name):
    want = list(inspect.signature(getattr(physics_mod, name).py_func).parameters)
    assert isolated["signatures"][name] == want


@pytest.mark.parametrize("case", sorted(aot_cases.BAD_CALLS))
def test_loader_rejects_bad_arguments_like_jit(isolated, case):
    want_type, want_msg = aot_cases.bad_calls(physics_mod)[case]
    got_type, got_msg = isolated["errors"][case]
    quoted = aot_cases.BAD_CALLS[case]
    assert want_type is not None and quoted in want_msg, (want_type, want_msg)  # the JIT's
    assert (got_type, quoted in got_msg) == (want_type, True), (got_type, got_msg, want_msg)


def test_library_exports_only_the_api(build):
    """Acceptance 4: the dynamic symbols are exactly the header's declarations (the loader's
    entry points sit in a section of their own)."""
    out, _ = build
    lib, header, _ = artifacts(out)
    exported = exported_symbols(lib)
    declared = declared_symbols(header.read_text())
    assert set(FUNCTIONS) | {"ember_release", f"{NAME}_last_error"} <= declared
    assert exported == declared, (sorted(exported - declared), sorted(declared - exported))
