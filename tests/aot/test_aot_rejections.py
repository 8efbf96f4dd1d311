"""Issue 11, acceptance 2, for the AOT loader: tests/rejection_cases.py built with
`ember.build` and imported through its generated loader rejects every bad call like the JIT
(tests/test_call_rejections.py): the right exception naming the parameter, for every result
kind, with the kernel never run and no value returned.
"""

import importlib.util

import pytest
import rejection_cases as rc

import ember


@pytest.fixture(scope="module")
def loader(tmp_path_factory):
    """The generated loader of rejection_cases.py, imported in this process (it needs only
    numpy and ctypes)."""
    out = tmp_path_factory.mktemp("aot-rejections")
    result = ember.build(rc.__file__, str(out))
    spec = importlib.util.spec_from_file_location("_aot_rejection_loader", result["loader"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loader_is_not_the_jit(loader):
    assert sorted(loader.__all__) == sorted(f"k_{kind}" for kind in rc.KINDS)
    assert not isinstance(loader.k_float, ember.Kernel)


@pytest.mark.parametrize("kind", rc.KINDS)
def test_accepted_call_runs_the_kernel(loader, kind):
    rc.check_accepted(getattr(loader, f"k_{kind}"), kind)


@pytest.mark.parametrize(("kind", "case"), rc.GRID)
def test_rejected_call_raises_and_runs_nothing(loader, kind, case):
    rc.check_rejected(getattr(loader, f"k_{kind}"), f"k_{kind}", case)
