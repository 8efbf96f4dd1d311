"""Checkpointing of long loops (`grad(..., checkpoint="binomial", snapshots=k)`): tape memory and
time of a 1e6-step loop's gradient, unbounded vs checkpointed, and the gradients' difference.

    python benchmarks/bench_checkpoint.py            # ~1 minute; prints a Markdown table
    python benchmarks/bench_checkpoint.py --steps 100000

Tape: each in a fresh process, one warm-up call (compile or disk-cache load), then the peak
RSS growth of one call (VmHWM after resetting it with `echo 5 > /proc/self/clear_refs`:
the peak during the call, whatever the allocator keeps afterwards). Times: CPU time of the
calling thread (`time.thread_time`: the kernels run on it alone; steadier than wall time on a
shared machine), in another process per round, the modes called alternately, REPEATS calls
each; the median over ROUNDS rounds (fresh processes) of the per-round medians.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time

import numpy as np

from ember import f64

MODES: dict[str, int | str | None] = {
    "unbounded": None, "binomial/64": 64, "binomial/256": 256, "binomial/1024": 1024,
    "binomial (default: 2048 for scalar loops, 64 for array loops)": "default"}
"""Mode -> snapshots= (None: no checkpointing; "default": checkpoint="binomial" alone)."""
ROUNDS = 3
REPEATS = 5


def scalar_loop(s0: float, n: int) -> float:
    s = s0
    for _ in range(n):
        s = math.sin(s) + 0.5 * s
    return s


def array_loop(u: f64[:], n: int, dt: float) -> float:
    m = u.shape[0]
    for t in range(n):
        i = t % m
        u[i] += dt * math.sin(u[(i + 1) % m])
    return np.sum(u * u)


def slow_loop(s0: float, n: int) -> float:
    s = s0
    for _ in range(n):
        s = s + 1e-6 * math.sin(s)
    return s


WORKLOADS = {
    "scalar `s = sin(s) + 0.5*s`": (scalar_loop, "s0", lambda n: (0.3, n)),
    "scalar `s = s + 1e-6*sin(s)`": (slow_loop, "s0", lambda n: (0.3, n)),
    "array time loop, 4 elements `u[i] += dt*sin(u[(i+1)%m])`":
        (array_loop, "u", lambda n: (np.linspace(0.1, 0.4, 4), n, 1e-5)),
}


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def _derivative(workload: str, mode: str):
    import ember

    f, wrt, _ = WORKLOADS[workload]
    snapshots = MODES[mode]
    options: dict[str, object] = {} if snapshots is None else {"checkpoint": "binomial"}
    if isinstance(snapshots, int):
        options["snapshots"] = snapshots
    return ember.grad(ember.kernel(f), wrt=wrt, **options)


def tape_child(workload: str, mode: str, steps: int) -> dict[str, object]:
    """Peak RSS growth (KiB) of one call, in this fresh process, and the gradient."""
    g, args = _derivative(workload, mode), WORKLOADS[workload][2]
    g(*args(10))  # compile or load
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _peak_kib()
    value = g(*args(steps))
    return {"tape_kib": _peak_kib() - before,
            "grad": np.atleast_1d(np.asarray(value, dtype=float)).tolist()}


def time_child(workload: str, steps: int) -> dict[str, float]:
    """Median seconds per call of each mode, the modes called alternately."""
    args = WORKLOADS[workload][2]
    gs = {mode: _derivative(workload, mode) for mode in MODES}
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for g in gs.values():
        g(*args(steps))
    for _ in range(REPEATS):
        for mode, g in gs.items():
            a = args(steps)
            start = time.thread_time()
            g(*a)
            times[mode].append(time.thread_time() - start)
    return {mode: float(np.median(t)) for mode, t in times.items()}


def _run(*argv: str) -> object:
    out = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def measure(steps: int) -> dict[tuple[str, str], dict[str, object]]:
    results: dict[tuple[str, str], dict[str, object]] = {}
    for workload in WORKLOADS:
        for mode in MODES:
            results[(workload, mode)] = _run("tape", workload, mode, str(steps))  # type: ignore[assignment]
        timings = [_run("time", workload, "", str(steps)) for _ in range(ROUNDS)]
        for mode in MODES:
            results[(workload, mode)]["time"] = float(np.median(
                [t[mode] for t in timings]))  # type: ignore[index]
    return results


def _size(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB" if kib >= 1024 else f"{kib:.0f} KiB"


def render(results: dict[tuple[str, str], dict[str, object]], steps: int) -> str:
    lines = [f"{steps:,} steps, peak RSS growth during one call and median CPU time per call:", "",
             "| loop | mode | tape: peak RSS growth | time | time / unbounded | max abs. gradient "
             "difference vs unbounded |", "|---|---|---|---|---|---|"]
    for workload in WORKLOADS:
        base = results[(workload, "unbounded")]
        for mode in MODES:
            r = results[(workload, mode)]
            diff = np.max(np.abs(np.subtract(r["grad"], base["grad"])))
            lines.append(f"| {workload} | {mode} | {_size(float(r['tape_kib']))} | "
                         f"{r['time'] * 1e3:.1f} ms | {r['time'] / base['time']:.2f} | "
                         f"{diff:.1e} (gradient {np.max(np.abs(base['grad'])):.3g}) |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, workload, mode, steps = args.child
        out = (tape_child(workload, mode, int(steps)) if what == "tape"
               else time_child(workload, int(steps)))
        print(json.dumps(out))
        return 0
    print(render(measure(args.steps), args.steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
