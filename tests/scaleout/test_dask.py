"""Ember kernels on a real Dask cluster: one `LocalCluster` of two worker *processes* (spawned,
one thread each) shared by the module. Results are compared with NumPy, finite differences or
the same kernel in this process; Dask's task stream and `client.run` show that the work ran in
the worker processes. Every wait has a timeout, so a broken cluster fails the test instead of
hanging CI.

Dask pickles tasks with cloudpickle, which calls the Ember objects' `__reduce__`: kernels of an
importable module (scaleout_kernels, this module: the workers are spawned with this process's
sys.path, which holds this folder) travel by reference, kernels defined in a function by value
(their source). Each worker compiles a kernel on its first call or loads it from the shared
disk cache (EMBER_CACHE_DIR, inherited from tests/conftest.py)."""

import logging
import os

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")  # in the `test` extra

import cloudpickle  # noqa: E402
import dask  # noqa: E402
import dask.array as da  # noqa: E402
from scaleout_kernels import (  # noqa: E402
    damped_wave,
    damped_wave_numpy,
    distance,
    dloss,
    logistic_loss,
    smooth,
    soft_clip,
    worker_state,
)

import ember  # noqa: E402
from ember import f64, grad, kernel  # noqa: E402

TIMEOUT = 120
"""Seconds any wait on the cluster may take (start-up on a loaded 2-core machine included)."""



@kernel
def shifted_square(x: f64[:], c: float) -> f64[:]:
    """A kernel of this test module: pickled by reference as test_dask.shifted_square."""
    return (x - c) * (x - c)


def _cluster(workers: int = 2, **kwargs):
    return distributed.LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                                    dashboard_address=None, silence_logs=logging.ERROR,
                                    # no dashboard; the scheduler's HTTP routes on a free port
                                    scheduler_kwargs={"dashboard_address": ":0"}, **kwargs)


@pytest.fixture(scope="module")
def client():
    with _cluster() as cluster, distributed.Client(cluster, timeout=TIMEOUT) as client:
        client.wait_for_workers(2, timeout=TIMEOUT)
        yield client


def _run(client, collection):
    """Compute a Dask collection on the cluster; (its result, the workers that ran tasks),
    after checking those are other processes that imported Ember."""
    with distributed.get_task_stream(client) as stream:
        result = client.compute(collection).result(timeout=TIMEOUT)
    used = {task["worker"] for task in stream.data}
    states = client.run(worker_state)
    assert used and used <= states.keys(), (used, states)
    for addr in used:
        assert states[addr]["pid"] != os.getpid() and states[addr]["ember"], states[addr]
    return result, used


def test_map_blocks_runs_a_kernel_on_the_worker_processes(client):
    x = np.linspace(-2.0, 2.0, 60 * 40).reshape(60, 40)
    expected = damped_wave_numpy(x, 0.7)
    np.testing.assert_allclose(damped_wave(x, 0.7), expected, rtol=1e-13, atol=1e-15)
    blocks = da.from_array(x, chunks=(15, 20))  # 8 blocks
    result, _ = _run(client, blocks.map_blocks(damped_wave, 0.7, dtype=np.float64))
    np.testing.assert_allclose(result, expected, rtol=1e-13, atol=1e-15)


def test_map_overlap_runs_a_stencil_kernel_across_chunk_borders(client):
    """Each block gets a one-cell border from its neighbours: the chunked sweep is the sweep
    of the whole array, bit for bit."""
    u = np.random.default_rng(2).random((60, 40))
    whole = smooth(u)  # compiled here first: the workers load it from the disk cache
    np.testing.assert_allclose(whole[1:-1, 1:-1], 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1]
                               + u[1:-1, :-2] + u[1:-1, 2:]), rtol=1e-15)
    stencil = da.from_array(u, chunks=(20, 20)).map_overlap(smooth, depth=1, boundary="none")
    result, _ = _run(client, stencil)
    np.testing.assert_array_equal(result, whole)


def test_gradient_per_chunk_on_the_workers_sums_to_the_whole(client):
    """The loss is a sum over rows: the gradients of row chunks, computed on the workers and
    summed there, equal the gradient of the whole, which matches central differences."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 5))
    y = np.sign(rng.normal(size=400))
    w = 0.5 * rng.normal(size=5)
    whole = dloss(w, x, y)
    eps = 1e-6
    fd = [(logistic_loss(w + eps * e, x, y) - logistic_loss(w - eps * e, x, y)) / (2 * eps)
          for e in np.eye(5)]
    np.testing.assert_allclose(whole, fd, rtol=1e-6, atol=1e-6)
    xs = da.from_array(x, chunks=(100, 5)).to_delayed().ravel()
    ys = da.from_array(y, chunks=100).to_delayed().ravel()
    parts = [dask.delayed(dloss)(w, xb, yb) for xb, yb in zip(xs, ys, strict=True)]
    summed, _ = _run(client, dask.delayed(sum)(parts))
    np.testing.assert_allclose(summed, whole, rtol=1e-12, atol=1e-12)


def test_apply_gufunc_of_a_guvectorized_kernel(client):
    """`ember.guvectorize` makes a numpy gufunc; dask.array.apply_gufunc maps it over the
    chunks of the loop dimensions (the core dimension n in one chunk), in float64 and float32."""
    assert isinstance(distance, np.ufunc) and distance.signature == "(n),(n)->()"
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(40, 6, 8)), rng.normal(size=8)
    expected = np.sqrt(((a - b) ** 2).sum(axis=-1))
    np.testing.assert_allclose(distance(a, b), expected, rtol=1e-14)
    for dtype, rtol in ((np.float64, 1e-14), (np.float32, 1e-5)):
        chunks = da.from_array(a.astype(dtype), chunks=(10, 3, 8))
        lazy = da.apply_gufunc(distance, "(n),(n)->()", chunks, b.astype(dtype),
                               output_dtypes=dtype)
        result, _ = _run(client, lazy)
        assert result.dtype == dtype and result.shape == (40, 6)
        np.testing.assert_allclose(result, expected, rtol=rtol)


def test_xarray_apply_ufunc_parallelized_on_the_cluster(client):
    """xarray.apply_ufunc(dask="parallelized") of the gufunc (core dimension "feature") and of
    an `ember.vectorize` ufunc, computed on the workers, against NumPy. (xarray is installed
    in the venv but not in the test extra: skipped where it is missing.)"""
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(30, 4, 5)), rng.normal(size=5)
    data = xr.DataArray(da.from_array(a, chunks=(10, 2, 5)), dims=("time", "site", "feature"))
    ref = xr.DataArray(b, dims=("feature",))
    dist = xr.apply_ufunc(distance, data, ref, input_core_dims=[["feature"], ["feature"]],
                          dask="parallelized", output_dtypes=[np.float64])
    soft = xr.apply_ufunc(soft_clip, data, 2.0, dask="parallelized",
                          output_dtypes=[np.float64])
    assert dist.dims == ("time", "site") and soft.dims == data.dims
    (dist_values, _), (soft_values, _) = _run(client, dist.data), _run(client, soft.data)
    np.testing.assert_allclose(dist_values, np.sqrt(((a - b) ** 2).sum(axis=-1)), rtol=1e-14)
    np.testing.assert_allclose(soft_values, a / (1.0 + 2.0 * np.abs(a)), rtol=1e-15)


def test_cloudpickle_sends_module_kernels_by_reference_and_local_ones_by_value(client):
    """cloudpickle (Dask's task pickler) writes a kernel of this module as its name and a
    kernel defined in a function, and its gradient, with their source; both round-trip here
    and run on the workers (submitted as tasks and mapped over blocks)."""
    @kernel
    def local_energy(x: f64[:], c: float) -> float:
        return 0.5 * np.sum((x - c) ** 4)

    dlocal = grad(local_energy)
    x = np.linspace(-1.0, 2.0, 90)
    by_reference, by_value = cloudpickle.dumps(shifted_square), cloudpickle.dumps(dlocal)
    assert b"test_dask" in by_reference and b"(x - c)" not in by_reference
    assert b"0.5 * np.sum((x - c) ** 4)" in by_value
    np.testing.assert_array_equal(cloudpickle.loads(by_reference)(x, 0.3), (x - 0.3) ** 2)
    np.testing.assert_allclose(cloudpickle.loads(by_value)(x, 0.3), 2.0 * (x - 0.3) ** 3,
                               rtol=1e-14)
    squares, _ = _run(client, da.from_array(x, chunks=30).map_blocks(shifted_square, 0.3))
    np.testing.assert_array_equal(squares, (x - 0.3) ** 2)
    futures = [client.submit(f, x, 0.3, pure=False) for f in (local_energy, dlocal)]
    distributed.wait(futures, timeout=TIMEOUT)
    energy, gradient = client.gather(futures)
    assert energy == pytest.approx(0.5 * np.sum((x - 0.3) ** 4), rel=1e-14)
    np.testing.assert_allclose(gradient, 2.0 * (x - 0.3) ** 3, rtol=1e-14)
    states = client.run(worker_state)
    for holders in client.who_has(futures).values():  # the workers that computed them
        assert holders and all(states[a]["pid"] != os.getpid() for a in holders), holders


def test_aot_library_on_workers_without_ember(tmp_path_factory):
    """An `ember.build` library used on workers that cannot import Ember. A second, small
    LocalCluster (spawned worker processes) runs aot_worker.py's `dask_setup` preload in each
    worker before any task: it checks Ember is not loaded and installs a sys.meta_path finder
    that makes `import ember` (and mlir, enzyme_ad) raise ImportError. The build folder goes
    to the workers as a real cluster would ship it, with Dask's UploadDirectory plugin
    (zipped, unpacked by each worker's nanny in its local directory and put on the sys.path
    its worker process starts with: registered before the workers start, so none needs a
    restart). The task imports the loader from there and calls it; it reports that
    `import ember` failed and that nothing Ember-like got imported. Results match the JIT
    kernels in this process."""
    import aot_worker

    out = tmp_path_factory.mktemp("aot") / "scaleout_lib"  # folder names Dask's upload keeps
    ember.build([damped_wave, logistic_loss, dloss], str(out))
    rng = np.random.default_rng(3)
    x, w, y = rng.normal(size=(30, 4)), rng.normal(size=4), np.sign(rng.normal(size=30))
    calls = [("damped_wave", (x, 0.4)), ("logistic_loss", (w, x, y)),
             ("grad_logistic_loss", (w, x, y))]
    with _cluster(0, preload=[aot_worker.__file__]) as cluster, \
            distributed.Client(cluster, timeout=TIMEOUT) as client:
        upload = distributed.UploadDirectory(str(out), update_path=True)
        client.register_plugin(upload)  # each nanny unpacks it before it spawns its worker
        cluster.scale(2)
        client.wait_for_workers(2, timeout=TIMEOUT)
        futures = [client.submit(aot_worker.call_loader, "kernels", name, *args, pure=False,
                                 workers=[addr])
                   for addr in client.scheduler_info()["workers"] for name, args in calls]
        distributed.wait(futures, timeout=TIMEOUT)
        answers = client.gather(futures)
    assert len({a["pid"] for a in answers} | {os.getpid()}) == 3  # both workers, not us
    for answer in answers:
        assert answer["blocked"] and answer["leaked"] == [], answer
        assert not answer["file"].startswith(str(out)), answer["file"]  # the uploaded copy
    expected = [damped_wave(x, 0.4), logistic_loss(w, x, y), dloss(w, x, y)] * 2
    for answer, value in zip(answers, expected, strict=True):
        np.testing.assert_allclose(answer["result"], value, rtol=1e-13, atol=1e-15)
