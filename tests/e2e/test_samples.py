"""The README's demo (samples/heat.py): its loop kernel, its array-style kernel written with
slices, pure Python and NumPy agree (the demo's own check, on a small plate)."""

import importlib.util
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"sample_{name}", ROOT / "samples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_heat_sample_loop_and_slices_agree():
    heat = _load("heat")
    heat.check_against_python(0.2)
    u0 = heat.hot_spot(17, 2.0)
    loops = heat.simulate(heat.heat_step, u0, 0.2, 30)
    slices = heat.simulate(heat.heat_step_slices, u0, 0.2, 30)
    np.testing.assert_array_equal(loops, slices)
    assert abs(slices.sum() - u0.sum()) < 1e-12 * u0.sum()


def test_newton_chain_sample_converges_to_a_rest_shape():
    """samples/newton_chain.py: Newton with ember.hessian and Newton-CG with ember.hvp reach
    the same shape, at which central differences of the energy (no Ember derivative) vanish
    and the Hessian is symmetric positive definite."""
    chain = _load("newton_chain")
    lines: list[str] = []
    dense, free = chain.main(beads=12, log=lines.append)
    assert any("step  5" in line for line in lines) and len(lines) < 40, lines
    np.testing.assert_allclose(free, dense, atol=1e-10)
    ends = np.array([0.0, 0.0, 1.0, 0.2])
    args = (ends, 400.0, 2.0e4, 1.0 / 13, 0.05)
    energy = chain.energy.py_func  # the same function, run by CPython
    eps = 1e-6
    fd = np.array([(energy(dense + eps * e, *args) - energy(dense - eps * e, *args)) / (2 * eps)
                   for e in np.eye(dense.size)])
    assert np.abs(fd).max() < 1e-6
    h = chain.hessian(chain.energy, wrt="q")(dense, *args)
    np.testing.assert_allclose(h, h.T, atol=1e-9)
    assert np.linalg.eigvalsh(h).min() > 0
    assert dense[1::2].min() < ends[1]  # the chain sags below its lower hook


def _run_sweep(*flags: str) -> str:
    """samples/dask_sweep.py in a fresh interpreter (its own checks: parallel == serial,
    gradients == central differences, resonance below omega = 1); its output."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "samples" / "dask_sweep.py"),
                           "--points", "120", "--chunks", "4", *flags],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "checks passed" in proc.stdout, proc.stdout
    return proc.stdout


def test_dask_sweep_sample_on_a_local_cluster():
    out = _run_sweep()
    assert "(LocalCluster), 2 workers" in out and "worker processes" in out, out


def test_dask_sweep_sample_falls_back_to_a_process_pool():
    out = _run_sweep("--no-dask")
    assert "process pool: 2 processes" in out and "Dask cluster" not in out, out
