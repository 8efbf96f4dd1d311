"""Shared pytest setup: an isolated disk cache per session (per worker under pytest-xdist),
golden updates, GPU skipping."""

import os
import tempfile

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # `-n 2`: each worker process has its own cache
    os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(
        prefix=f"ember-test-cache-{os.environ['PYTEST_XDIST_WORKER']}-")
else:
    os.environ.setdefault("EMBER_CACHE_DIR", tempfile.mkdtemp(prefix="ember-test-cache-"))


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="rewrite error goldens")
    parser.addoption("--fuzz-count", type=int, default=None, help="random programs to check")
    parser.addoption("--fuzz-seed", type=int, default=None, help="first seed of the fuzzer")


@pytest.fixture
def update_goldens(request):
    return request.config.getoption("--update-goldens")


def _has_gpu() -> bool:
    from ember.runtime import cuda

    return cuda.available()


def pytest_collection_modifyitems(config, items):
    marked = [item for item in items if item.get_closest_marker("gpu") is not None]
    if marked and not _has_gpu():
        skip = pytest.mark.skip(reason="no NVIDIA GPU / driver on this machine")
        for item in marked:
            item.add_marker(skip)
