"""Progress of an AOT build: one `Step` record per export, when it starts and when it is done.

`ember build` prints them on stderr (`[3/7] energy ... compiled in 1.2 s`, or `reused from
cache`); `ember.build(...)` from Python reports nothing unless asked (`progress=True` prints the
same lines, a callable receives the `Step` records). The writers (library.py, gpu.py) run their
exports through `run_steps`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any, Final, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One export of a build: reported when it starts (`outcome` "started") and when it ends
    ("compiled", "reused", "skipped" or "failed", with the seconds it took)."""

    index: int
    """1-based position among the module's exports; 0 for an extra export (the primal kernel
    of a Jacobian that the module does not export itself)."""
    total: int
    name: str
    outcome: str = "started"
    seconds: float = 0.0


Progress = Callable[[Step], None]

_SAID: Final = {"compiled": "compiled in {:.2f} s", "reused": "reused from cache ({:.2f} s)",
                "skipped": "skipped ({:.2f} s)", "failed": "failed after {:.2f} s"}
"""Outcome -> the end of its progress line."""


class Printer:
    """Prints steps on `stream`, one line per export; on a terminal the line starts when the
    export does, so a long compile shows what it is working on."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, step: Step) -> None:
        label = f"[{step.index}/{step.total}]" if step.index else "[+]"
        head = f"{label} {step.name} ..."
        if step.outcome == "started":
            if self.tty:
                self.stream.write(head)
                self.stream.flush()
            return
        tail = _SAID[step.outcome].format(step.seconds)
        self.stream.write(f" {tail}\n" if self.tty else f"{head} {tail}\n")
        self.stream.flush()


def reporter(progress: Any) -> Progress | None:
    """What `ember.build(progress=...)` asks for: None/False nothing, True printed lines on
    stderr, a callable the `Step` records."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return Printer()
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    raise TypeError(f"ember.build: progress must be True, False or a callable taking a "
                    f"Step, not {type(progress).__name__}")


def run_steps(items: Iterable[tuple[str, Any]], make: Callable[[str, Any], T],
              outcome: Callable[[T], str], report: Progress | None, total: int,
              first: int = 1) -> list[T]:
    """[make(name, obj) for each item], each reported as a `Step` numbered from `first`
    (0: extra exports, unnumbered)."""
    done = []
    for k, (name, obj) in enumerate(items):
        index = first + k if first else 0
        if report is None:
            done.append(make(name, obj))
            continue
        report(Step(index, total, name))
        start = time.perf_counter()
        try:
            result = make(name, obj)
        except BaseException:
            report(Step(index, total, name, "failed", time.perf_counter() - start))
            raise
        report(Step(index, total, name, outcome(result), time.perf_counter() - start))
        done.append(result)
    return done
