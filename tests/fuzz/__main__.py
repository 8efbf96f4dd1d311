"""Command line of the fuzzer; see the docstring of tests/fuzz/generator.py.

The parent process hands chunks of seeds to worker subprocesses (`--worker`), which print one
JSON line per seed. A worker that dies (segfault) or hangs costs one seed, reported as a
`crash` or `timeout` failure, and the rest of its chunk goes to a new worker.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict

from tests.fuzz.runner import Failure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mode(arrays: bool):
    """generate, check_program and check_python of the scalar fuzzer or of the array one."""
    if arrays:
        from tests.fuzz import arrays_run
        return arrays_run.generate, arrays_run.check_program, arrays_run.check_python
    from tests.fuzz.generator import generate
    from tests.fuzz.runner import check_program
    from tests.fuzz.selfcheck import check_python
    return generate, check_program, check_python


def worker(seed: int, count: int, python_only: bool, exclude: str | None = None,
           arrays: bool = False) -> None:
    """Run seeds [seed, seed + count) in this process, one JSON line per seed on stdout.

    Programs whose source matches the regex `exclude` are skipped (to look past a known bug).
    """
    generate, check_program, check_python = mode(arrays)
    for s in range(seed, seed + count):
        print(json.dumps({"start": s}), flush=True)
        if exclude and re.search(exclude, generate(s).body):
            print(json.dumps({"done": s, "failures": [], "skipped": True}), flush=True)
            continue
        stats: dict = {}
        try:
            if python_only:
                failures, _, stats["raised"] = check_python(s)
            else:
                failures = check_program(generate(s), stats=stats)
        except Exception as e:  # noqa: BLE001 - a bug in the fuzzer itself
            failures = [Failure(s, "fuzzer-error", "?", 0, f"{type(e).__name__}: {e}")]
        print(json.dumps({"done": s, "failures": [asdict(f) for f in failures],
                          "raised": stats.get("raised", 0)}), flush=True)


class Worker:
    """One subprocess running a chunk of seeds, read by a thread."""

    def __init__(self, seeds: list[int], python_only: bool, exclude: str | None,
                 events: queue.Queue, arrays: bool = False):
        self.seeds = seeds
        self.current: int | None = None
        self.started = time.monotonic()
        self.done: set[int] = set()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        cmd = [sys.executable, "-m", "tests.fuzz", "--worker", "--seed", str(seeds[0]),
               "--count", str(len(seeds))] + (["--python-only"] if python_only else []) \
            + (["--exclude", exclude] if exclude else []) + (["--arrays"] if arrays else [])
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        threading.Thread(target=self._read, args=(events,), daemon=True).start()

    def _read(self, events: queue.Queue) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            events.put((self, json.loads(line)))
        self.proc.wait()
        events.put((self, None))

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-3000:]


def run_seeds(seeds: list[int], jobs: int = 0, timeout: float = 120.0, chunk: int = 25,
              python_only: bool = False, progress=None,
              exclude: str | None = None, arrays: bool = False) -> list[Failure]:
    """Check every seed in worker subprocesses; all failures, crashes and hangs included.

    `arrays`: the array-expression programs of arrays.py instead of generator.py's."""
    jobs = jobs or os.cpu_count() or 1
    pending = [seeds[i:i + chunk] for i in range(0, len(seeds), chunk)]
    events: queue.Queue = queue.Queue()
    running: list[Worker] = []
    failures: list[Failure] = []
    while pending or running:
        while pending and len(running) < jobs:
            running.append(Worker(pending.pop(0), python_only, exclude, events, arrays))
        try:
            w, msg = events.get(timeout=1.0)
        except queue.Empty:
            w, msg = None, None
        if w is not None and msg is not None:
            if "start" in msg:
                w.current, w.started = msg["start"], time.monotonic()
            else:
                w.done.add(msg["done"])
                w.current = None
                failures += [Failure(**f) for f in msg["failures"]]
                if progress:
                    progress(msg["done"], [Failure(**f) for f in msg["failures"]],
                             msg.get("skipped", False), msg.get("raised", 0))
        elif w is not None:  # the worker exited
            running.remove(w)
            _finish(w, failures, pending, "crash", progress, arrays)
        for w in list(running):
            if w.current is not None and time.monotonic() - w.started > timeout:
                w.proc.kill()
                w.proc.wait()
                running.remove(w)
                _finish(w, failures, pending, "timeout", progress, arrays)
    return failures


def _finish(w: Worker, failures: list[Failure], pending: list, kind: str, progress,
            arrays: bool = False) -> None:
    """Record the seed a dead worker was on, and requeue the seeds it never reached."""
    if w.current is not None and w.current not in w.done:
        message = (f"worker exit code {w.proc.returncode}" if kind == "crash"
                   else "no result in time (hang?)") + "\n" + w.stderr_tail()
        generate = mode(arrays)[0]
        f = Failure(w.current, kind, "?", 0, message)
        f.report = (f"# Ember fuzz seed {w.current}: {kind}\n# "
                    + message.strip().replace("\n", "\n# ") + "\n"
                    + generate(w.current).ember_source)
        failures.append(f)
        if progress:
            progress(w.current, [f], False, 0)
    rest = [s for s in w.seeds if s not in w.done and s != w.current]
    if rest:
        pending.insert(0, rest)


def signature(f: Failure) -> str:
    """A rough bug signature, to group failures: kind + the telling line, numbers blanked."""
    lines = [ln.strip() for ln in f.message.strip().splitlines() if ln.strip()]
    telling = [ln for ln in lines if "error:" in ln and "internal compiler error" not in ln]
    raised = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Assertion)\b", ln)]
    if f.kind == "mismatch":
        key = lines[0].split(":")[0].split()[0] if lines else ""
        key = {"result": "result", "exception": "exception"}.get(key, "array argument")
    elif telling:
        key = re.sub(r'"[^"]*":\d+:\d+: ', "", telling[0])
    elif raised:
        key = raised[-1]
    else:
        key = lines[-1] if lines else ""
    return f"{f.kind}: " + re.sub(r"\d+(\.\d+)?", "N", key)[:150]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("--count", type=int, default=100, help="number of programs")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes (default: cores)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per program")
    ap.add_argument("--python-only", action="store_true", help="check the generator only")
    ap.add_argument("--show", action="store_true", help="print each program (in-process)")
    ap.add_argument("--reduce", type=int, metavar="SEED", help="minimize the failure of SEED")
    ap.add_argument("--out", default=None, help="directory for full reports")
    ap.add_argument("--exclude", default=None, metavar="REGEX",
                    help="skip programs whose source matches REGEX (look past a known bug)")
    ap.add_argument("--arrays", action="store_true",
                    help="array-expression programs (tests/fuzz/arrays.py) against NumPy")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check-body", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.check_body:  # used by the reducer to run a candidate that may crash
        from tests.fuzz.generator import Program, generate
        from tests.fuzz.runner import check_program
        with open(args.check_body) as f:
            program = Program(args.seed, f.read(), generate(args.seed).functions)
        for failure in check_program(program):
            print(failure.summary())
        return 0
    if args.worker:
        worker(args.seed, args.count, args.python_only, args.exclude, args.arrays)
        return 0
    if args.reduce is not None:
        if args.arrays:
            from tests.fuzz.arrays_run import reduce_seed
        else:
            from tests.fuzz.reduce import reduce_seed
        print(reduce_seed(args.reduce))
        return 0
    if args.show:
        return show(args.seed, args.count, args.arrays)
    return campaign(args)


def show(seed: int, count: int, arrays: bool = False) -> int:
    generate, check_program, _ = mode(arrays)
    status = 0
    for s in range(seed, seed + count):
        print(f"# seed {s}\n{generate(s).ember_source}")
        for f in check_program(generate(s)):
            print(f.report)
            status = 1
    return status


def campaign(args) -> int:
    os.environ.setdefault("EMBER_CACHE_DIR", tempfile.mkdtemp(prefix="ember-fuzz-cache-"))
    out = args.out or tempfile.mkdtemp(prefix="ember-fuzz-reports-")
    os.makedirs(out, exist_ok=True)
    seen: collections.Counter = collections.Counter()
    done, skipped, raised = [0], [0], [0]
    start = time.time()

    def progress(seed: int, fails: list[Failure], skip: bool, n_raised: int) -> None:
        done[0] += 1
        skipped[0] += skip
        raised[0] += n_raised > 0
        for f in fails:
            path = os.path.join(out, f"seed_{f.seed}_{f.function}.txt")
            with open(path, "w") as fh:
                fh.write(f.report or f.message)
            sig = signature(f)
            seen[sig] += 1
            print(f"FAIL {f.summary()}  [{path}]", flush=True)
            if seen[sig] == 1 and f.report:
                print(f.report, "\n", flush=True)
        if done[0] % 100 == 0:
            print(f"... {done[0]}/{args.count} programs, {time.time() - start:.0f}s", flush=True)

    failures = run_seeds(list(range(args.seed, args.seed + args.count)), args.jobs,
                         args.timeout, python_only=args.python_only, progress=progress,
                         exclude=args.exclude, arrays=args.arrays)
    n_seeds = len({f.seed for f in failures})
    print(f"\n{args.count} programs (seeds {args.seed}..{args.seed + args.count - 1}, "
          f"{skipped[0]} skipped by --exclude) in {time.time() - start:.0f}s: {raised[0]} raised "
          f"in CPython; {n_seeds} failing seeds, {len(failures)} failures; reports in {out}")
    for sig, n in seen.most_common():
        seeds = sorted({f.seed for f in failures if signature(f) == sig})
        print(f"  {n:5d}  {sig}   seeds {seeds[:8]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
