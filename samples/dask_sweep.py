"""Ember demo: the resonance curve of a driven, damped pendulum, swept in parallel with Dask.

    theta'' + gamma theta' + sin(theta) = A cos(omega t)

For each driving frequency omega of a grid, the `mean_energy` kernel integrates the pendulum
from rest with RK4 steps and returns its mean energy over the second half of the run (when the
start-up transient has died out); `value_and_grad` of it gives, in the same call, the
sensitivities dE/dgamma and dE/dA, differentiated by Enzyme through all the time steps.
The grid is cut into chunks, one task each:

* with dask.distributed installed, on a Dask cluster: by default a `LocalCluster` of worker
  processes on this machine; on a real cluster with `--scheduler tcp://host:8786` or the
  environment variable DASK_SCHEDULER_ADDRESS=tcp://host:8786 (start one with
  `dask scheduler` and `dask worker tcp://host:8786` on each machine). The workers need Ember
  installed (`pip install ember` in the same environment); the script ships itself to them
  with `client.upload_file`, and each worker compiles the kernels once (or loads them from its
  disk cache, EMBER_CACHE_DIR);
* without Dask (or with `--no-dask`), on a `concurrent.futures.ProcessPoolExecutor` of this
  machine: nothing to install beyond Ember.

Tasks name the function `dask_sweep.sweep_chunk` (this file imported as a module), which any
worker process can import. The script checks its results: the parallel sweep equals a serial
sweep in this process, the gradients match central finite differences at a few frequencies,
and the resonance of this nonlinear pendulum lies below the small-swing frequency 1 (a
pendulum swinging wider has a longer period).

Run it with:  python samples/dask_sweep.py [--points 1000] [--workers 2] [--no-dask]
                                           [--scheduler tcp://host:8786]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import sys
import time
from typing import Any

import numpy as np

from ember import kernel, value_and_grad


@kernel
def accel(t: float, theta: float, v: float, omega: float, gamma: float, drive: float) -> float:
    """The pendulum's angular acceleration at time t."""
    return drive * math.cos(omega * t) - gamma * v - math.sin(theta)


@kernel
def mean_energy(omega: float, gamma: float, drive: float, periods: int, steps: int) -> float:
    """Mean energy over the second half of `periods` driving periods, from rest, with RK4
    steps (`steps` per period)."""
    dt = 2.0 * math.pi / omega / steps
    n = periods * steps
    theta = 0.0
    v = 0.0
    total = 0.0
    for k in range(n):
        t = k * dt
        a1 = accel(t, theta, v, omega, gamma, drive)
        a2 = accel(t + 0.5 * dt, theta + 0.5 * dt * v, v + 0.5 * dt * a1, omega, gamma, drive)
        a3 = accel(t + 0.5 * dt, theta + 0.5 * dt * (v + 0.5 * dt * a1), v + 0.5 * dt * a2,
                   omega, gamma, drive)
        a4 = accel(t + dt, theta + dt * (v + 0.5 * dt * a2), v + dt * a3, omega, gamma, drive)
        theta += dt * (v + dt * (a1 + a2 + a3) / 6.0)
        v += dt * (a1 + 2.0 * a2 + 2.0 * a3 + a4) / 6.0
        if 2 * k >= n:
            total += 0.5 * v * v + 1.0 - math.cos(theta)
    return total / (n - (n + 1) // 2)


energy_and_sensitivities = value_and_grad(mean_energy, wrt=("gamma", "drive"))

GAMMA, DRIVE, PERIODS, STEPS = 0.2, 0.1, 60, 100
"""Damping, driving amplitude, driving periods per run, RK4 steps per period."""


def sweep_chunk(omegas: np.ndarray, gamma: float = GAMMA,
                drive: float = DRIVE) -> tuple[np.ndarray, int]:
    """One task: rows (E, dE/dgamma, dE/dA) for each frequency, and this process's id."""
    rows = np.empty((len(omegas), 3))
    for i, omega in enumerate(omegas):
        energy, (d_gamma, d_drive) = energy_and_sensitivities(float(omega), gamma, drive,
                                                              PERIODS, STEPS)
        rows[i] = energy, d_gamma, d_drive
    return rows, os.getpid()


def importable_self() -> Any:
    """This file as the module `dask_sweep` (not `__main__`): tasks then refer to
    `dask_sweep.sweep_chunk`, which the worker processes import by name."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module("dask_sweep")


def run_dask(chunks: list[np.ndarray], workers: int, scheduler: str | None) -> list[Any]:
    """The tasks on a Dask cluster: `scheduler`'s, DASK_SCHEDULER_ADDRESS's, or a new
    LocalCluster of `workers` processes."""
    import contextlib
    import logging

    from dask.distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    with contextlib.ExitStack() as stack:
        if not address:
            address = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
                scheduler_kwargs={"dashboard_address": ":0"}))
        client = stack.enter_context(Client(address))
        kind = "remote" if isinstance(address, str) else "LocalCluster"
        print(f"Dask cluster: {client.scheduler.address} ({kind}), "
              f"{len(client.scheduler_info()['workers'])} workers")
        module = importable_self()
        client.upload_file(module.__file__)  # a remote worker imports dask_sweep from it
        return client.gather(client.map(module.sweep_chunk, chunks, pure=False))


def run_processes(chunks: list[np.ndarray], workers: int) -> list[Any]:
    """The tasks on a process pool of this machine (spawned processes, as Dask's)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    module = importable_self()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        print(f"process pool: {workers} processes (dask.distributed not used)")
        return list(pool.map(module.sweep_chunk, chunks))


def check(omegas: np.ndarray, rows: np.ndarray) -> None:
    """The parallel sweep against a serial one, the gradients against central differences."""
    serial, _ = sweep_chunk(omegas)
    np.testing.assert_allclose(rows, serial, rtol=1e-12, atol=1e-15)
    eps = 1e-6
    for i in range(0, len(omegas), max(1, len(omegas) // 3)):
        args = [float(omegas[i]), GAMMA, DRIVE, PERIODS, STEPS]
        for k, derivative in ((1, rows[i, 1]), (2, rows[i, 2])):
            up, down = list(args), list(args)
            up[k] += eps
            down[k] -= eps
            fd = (mean_energy(*up) - mean_energy(*down)) / (2 * eps)
            assert abs(fd - derivative) <= 1e-5 * max(1.0, abs(fd)), (args, k, fd, derivative)
    peak = omegas[np.argmax(rows[:, 0])]
    assert 0.9 < peak < 1.0, peak  # softening: below the small-swing frequency
    print(f"checks passed: parallel == serial ({len(omegas)} frequencies), gradients == "
          f"central differences, resonance at omega = {peak:.3f} < 1")


def main(argv: list[str] | None = None) -> np.ndarray:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000, help="driving frequencies")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument("--chunks", type=int, default=8, help="tasks")
    parser.add_argument("--scheduler", default=None, help="a Dask scheduler's address")
    parser.add_argument("--no-dask", action="store_true", help="use a process pool")
    args = parser.parse_args(argv)
    omegas = np.linspace(0.6, 1.4, args.points)
    chunks = np.array_split(omegas, args.chunks)
    have_dask = importlib.util.find_spec("distributed") is not None
    if args.scheduler and (args.no_dask or not have_dask):
        parser.error("--scheduler needs dask.distributed (pip install 'dask[distributed]') "
                     "and no --no-dask")
    start = time.perf_counter()
    if have_dask and not args.no_dask:
        results = run_dask(chunks, args.workers, args.scheduler)
    else:
        results = run_processes(chunks, args.workers)
    rows = np.concatenate([r for r, _ in results])
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids  # the tasks ran in other processes
    print(f"{len(chunks)} tasks ran in {len(pids)} worker processes "
          f"in {time.perf_counter() - start:.2f} s")
    print(" omega    energy    dE/dgamma    dE/dA")
    for i in range(0, len(omegas), max(1, len(omegas) // 10)):
        print(f"{omegas[i]:6.3f}  {rows[i, 0]:8.5f}  {rows[i, 1]:10.5f}  {rows[i, 2]:8.5f}")
    check(omegas, rows)
    return rows


if __name__ == "__main__":
    main()
