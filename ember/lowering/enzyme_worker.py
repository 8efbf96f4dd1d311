"""A long-lived subprocess that runs Enzyme pass pipelines, so an Enzyme crash (a segfault
inside enzyme_call.so) costs a CompileError, not the user's Python process.

Protocol over stdin/stdout, one request at a time: a length-prefixed UTF-8 JSON object
`{"text": ..., "pipeline": ...}`; the answer is `{"ok": text}` or `{"error": message}`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import struct
import subprocess
import sys
import sysconfig
import threading
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
    return json.loads(stream.read(size).decode())


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

    def run(self, text: str, pipeline: str) -> str:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                proc = self._proc = subprocess.Popen(
                    [sys.executable, "-m", "ember.lowering.enzyme_worker"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_environment())
            assert proc.stdin is not None and proc.stdout is not None
            try:
                _send(proc.stdin, {"text": text, "pipeline": pipeline})
                answer = _receive(proc.stdout)
            except (EOFError, BrokenPipeError, OSError):
                code = proc.wait()
                self._proc = None
                raise RuntimeError(f"Enzyme crashed (exit status {code})") from None
        if "error" in answer:
            raise ValueError(answer["error"])
        return str(answer["ok"])


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
    module = enzyme_call()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request = _receive(stdin)
        except EOFError:
            return
        try:
            _, out = module.run_pass_pipeline([], request["text"], request["pipeline"])
            _send(stdout, {"ok": out})
        except Exception as exc:
            _send(stdout, {"error": str(exc)})


if __name__ == "__main__":
    main()
