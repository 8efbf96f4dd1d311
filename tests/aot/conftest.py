"""Fixtures of the AOT tests: physics_mod.py built once per session (the loader and C tests
share it) and a numpy-only site directory for isolated interpreters."""

import pytest
from aot_support import MODULE, numpy_only_site

import ember


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """(build directory, the dict ember.build returned) for physics_mod.py."""
    out = tmp_path_factory.mktemp("aot-build")
    result = ember.build(str(MODULE), str(out))
    return out, result


@pytest.fixture(scope="session")
def numpy_site(tmp_path_factory):
    return numpy_only_site(tmp_path_factory.mktemp("numpy-only-site"))
