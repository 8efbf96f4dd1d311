"""A long-lived subprocess that runs Enzyme pass pipelines, so an Enzyme crash (a segfault
inside enzyme_call.so) costs a CompileError, not the user's Python process.

Protocol over stdin/stdout, one request at a time: a length-prefixed UTF-8 JSON object
`{"text": ..., "pipeline": ...}`; the answer is `{"ok": text}` or `{"error": message}`.

The worker runs in its own process group, so a Ctrl-C or a notebook's interrupt (SIGINT to the
group) reaches only the user's process: the client kills the worker if a request is
interrupted (its answer would desynchronize the stream) and starts a new one on the next
request. The worker itself exits quietly, without a traceback, at end of input, on a closed
output pipe and on SIGINT.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import signal
import struct
import subprocess
import sys
import sysconfig
import threading
import weakref
from typing import IO, Any

_HEADER = struct.Struct("<Q")


def _send(stream: IO[bytes], obj: Any) -> None:
    data = json.dumps(obj).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return json.loads(body.decode())


def _environment() -> dict[str, str]:
    """The worker must import this same `ember`, also when it runs from a checkout that is
    only on sys.path (not installed)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


class Worker:
    """The client side: starts the subprocess on first use and again after a crash."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        forget = weakref.WeakMethod(self._forget_after_fork)
        os.register_at_fork(after_in_child=lambda: (m := forget()) and m())

    def _forget_after_fork(self) -> None:
        """In a child made by `os.fork`: the worker is the parent's (requests from both
        processes would mix on its pipes), so the child starts its own on first use."""
        self._proc = None
        self._lock = threading.Lock()

    def run(self, text: str, pipeline: str) -> str:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                proc = self._proc = subprocess.Popen(
                    [sys.executable, "-m", "ember.lowering.enzyme_worker"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_environment(),
                    process_group=0)
            assert proc.stdin is not None and proc.stdout is not None
            try:
                _send(proc.stdin, {"text": text, "pipeline": pipeline})
                answer = _receive(proc.stdout)
            except (EOFError, BrokenPipeError, OSError):
                code = proc.wait()
                self._proc = None
                raise RuntimeError(f"Enzyme crashed (exit status {code})") from None
            except BaseException:  # KeyboardInterrupt: the answer would come to the next call
                self._stop(proc)
                raise
        if "error" in answer:
            raise ValueError(answer["error"])
        return str(answer["ok"])

    def _stop(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = None
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def enzyme_call() -> Any:
    """enzyme_ad's pass-pipeline module, loaded without importing jax."""
    base = sysconfig.get_paths()["purelib"]
    path = os.path.join(base, "enzyme_ad", "jax", "enzyme_call.so")
    if not os.path.exists(path):
        raise RuntimeError("gradients need the enzyme-ad package (pip install enzyme-ad==0.0.16)")
    loader = importlib.machinery.ExtensionFileLoader("enzyme_call", path)
    spec = importlib.util.spec_from_file_location("enzyme_call", path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main() -> None:
    """Serve requests until end of input; SIGINT ends the process at once, like SIGTERM
    (the default action: no KeyboardInterrupt, so no traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    module = enzyme_call()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            request = _receive(stdin)
            try:
                _, out = module.run_pass_pipeline([], request["text"], request["pipeline"])
                answer = {"ok": out}
            except Exception as exc:
                answer = {"error": str(exc)}
            _send(stdout, answer)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        # os._exit: no flush of a closed stdout at shutdown ('Exception ignored ... BrokenPipe')
        os._exit(0)


if __name__ == "__main__":
    main()
