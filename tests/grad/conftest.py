"""Run each gradient test in a forked child process (POSIX), so that a compiler crash (an LLVM
assertion aborting the process, a segfault in generated code) fails that one test with the
signal and the child's stderr instead of killing the whole session. EMBER_GRAD_NOFORK=1 runs the
tests in-process. The parent never compiles anything, so forking it is safe; every child
compiles through the shared on-disk cache (EMBER_CACHE_DIR, set in tests/conftest.py)."""

import faulthandler
import os
import pickle
import signal
import sys
import tempfile

import pytest
from _pytest.runner import runtestprotocol

_FORK = hasattr(os, "fork") and not os.environ.get("EMBER_GRAD_NOFORK")


def _child(item, write_fd: int, err_path: str) -> None:
    faulthandler.disable()  # a crash is reported through the parent, with the stderr tail
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(err, 2)  # the capture plugin may swap fd 2 again; an abort still lands somewhere
    try:
        reports = runtestprotocol(item, log=False)
        data = [item.config.hook.pytest_report_to_serializable(config=item.config, report=r)
                for r in reports]
        with os.fdopen(write_fd, "wb") as f:
            pickle.dump(data, f)
    finally:
        os._exit(0)


def _crash_report(item, status: int, err_path: str):
    from _pytest.reports import TestReport

    how = (f"killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
           else f"exited with status {os.WEXITSTATUS(status)}")
    capman = item.config.pluginmanager.getplugin("capturemanager")
    text = ""
    try:
        with open(err_path) as f:
            text = f.read()
        if capman is not None:
            _, err = capman.read_global_capture()
            text += err
    except Exception:
        pass
    tail = "\n".join(text.strip().splitlines()[-15:])
    return TestReport(item.nodeid, item.location, {}, "failed",
                      f"test process {how} (Ember crashed):\n{tail}", "call", [])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if not _FORK:
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    read_fd, write_fd = os.pipe()
    err_fd, err_path = tempfile.mkstemp(prefix="ember-grad-test-", suffix=".err")
    os.close(err_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(item, write_fd, err_path)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        payload = f.read()
    _, status = os.waitpid(pid, 0)
    if payload:
        reports = [item.config.hook.pytest_report_from_serializable(config=item.config, data=d)
                   for d in pickle.loads(payload)]
    else:
        reports = [_crash_report(item, status, err_path)]
    os.unlink(err_path)
    for rep in reports:
        item.ihook.pytest_runtest_logreport(report=rep)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
