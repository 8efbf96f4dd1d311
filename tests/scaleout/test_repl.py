"""Kernels without a source file (issue 17, "Notebooks and the REPL"): `python -c` kernels
compile (their text is read back and checked against the bytecode), `exec`'d kernels compile
when their text is registered (`exec_source`, `register_source`) and otherwise fail with a
CompileError naming the call to use; `kernel.inspect` output displays as code; the Enzyme
worker exits without a traceback on SIGINT and at end of input, and an interrupted request
never leaves it answering the next one."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember.frontend import sourcetext
from ember.frontend.sourcetext import exec_source, register_source
from ember.lowering import enzyme_worker
from ember.lowering.enzyme_worker import Worker, _environment, _receive, _send

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COMMAND = textwrap.dedent("""\
    import numpy as np, ember
    from ember.frontend.sourcetext import exec_source
    @ember.kernel
    def scale(x: ember.f64[:], a: float) -> float:
        s = 0.0
        for i in range(x.shape[0]):
            s += a * x[i] * x[i]
        return s
    x = np.arange(4.0)
    print("value", scale(x, 2.0) == 2.0 * float(x @ x))
    print("grad", np.allclose(ember.grad(scale, wrt="x")(x, 2.0), 4.0 * x))
    @ember.kernel
    def broken(n: int) -> int:
        m: int = n / 2
        return m
    try:
        broken(3)
    except ember.CompileError as e:
        print("error", repr(str(e)))
    text = "import ember\\n@ember.kernel\\ndef inc(x: float) -> float:\\n    return x + 1.0\\n"
    exec(text)
    try:
        inc(1.0)
    except ember.CompileError as e:
        print("exec", repr(str(e)))
    print("exec_source", exec_source(text)["inc"](1.5))
    """)


@pytest.fixture(scope="module")
def command_run():
    env = dict(os.environ, PYTHONPATH=REPO)
    run = subprocess.run([sys.executable, "-c", COMMAND], capture_output=True, text=True,
                         env=env, timeout=240, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", run.stderr
    return dict(line.split(" ", 1) for line in run.stdout.splitlines())


def test_python_c_kernel_and_its_gradient_compile(command_run):
    assert command_run["value"] == "True" and command_run["grad"] == "True"


def test_python_c_error_shows_the_command_line_and_caret(command_run):
    text = eval(command_run["error"])  # noqa: S307 - our own repr
    lines = text.splitlines()
    assert lines[0] == 'File "<string>", line 14, in broken:'
    assert lines[1] == "    m: int = n / 2"
    assert lines[2] == "             ^^^^^"
    assert "write int(...)" in text


def test_exec_without_registration_says_how(command_run):
    text = eval(command_run["exec"])  # noqa: S307 - our own repr
    assert "cannot read the source of 'inc' (defined in <string>, line 2)" in text
    assert f"{sourcetext.spelled('exec_source')}(text, globals())" in text
    assert f"{sourcetext.spelled('register_source')}(text)" in text
    assert command_run["exec_source"] == "2.5"


def test_exec_source_and_register_source_in_process():
    text = textwrap.dedent("""\
        import ember


        @ember.kernel
        def tri(n: int) -> int:
            return n * (n + 1) // 2


        @ember.kernel
        def bad(x: float) -> int:
            return x
        """)
    ns = exec_source(text, {"__name__": "repl_case"})
    assert [ns["tri"](n) for n in range(5)] == [n * (n + 1) // 2 for n in range(5)]
    with pytest.raises(ember.CompileError) as err:
        ns["bad"](1.0)
    name = register_source(text)
    assert name.startswith("<ember-source ") and name == register_source(text)
    assert str(err.value).splitlines()[:3] == [
        f'File "{name}", line 11, in bad:', "    return x", "           ^"]

    ns2: dict = {}
    exec(compile(text, register_source(text, "<cell 7>"), "exec"), ns2)
    assert ns2["tri"](10) == 55
    with pytest.raises(TypeError, match="text must be a str"):
        register_source(b"x = 1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="namespace must be a dict"):
        exec_source("x = 1", [])  # type: ignore[arg-type]


def test_exec_under_the_command_file_name_is_not_misread():
    """Outside `python -c` nothing is recovered for `<string>`: the message, not a guess."""
    ns: dict = {"ember": ember}
    exec("@ember.kernel\ndef neg(x: float) -> float:\n    return -x\n", ns)
    with pytest.raises(ember.CompileError, match="cannot read the source of 'neg'"):
        ns["neg"](1.0)
    assert not sourcetext.recover(ns["neg"].py_func)


@pytest.mark.parametrize("args, text", [
    (["-c", "x"], "x"), (["-Ic", "x"], "x"), (["-cprint(1)"], "print(1)"),
    (["-W", "error", "-c", "y"], "y"), (["-Xdev", "-B", "-c", "z"], "z"),
    (["-m", "mod", "-c"], None), (["script.py", "-c", "x"], None), ([], None)])
def test_command_text_from_the_command_line(args, text):
    assert sourcetext._after_c(args) == text


@ember.kernel
def axpy(a: float, x: ember.f64[:], y: ember.f64[:]) -> None:
    for i in range(x.shape[0]):
        y[i] += a * x[i]


def test_inspect_output_displays_as_code():
    listing = axpy.inspect("mlir")
    assert isinstance(listing, str) and listing == str(listing)
    assert repr(listing) == str(listing) and "func.func" in repr(listing)
    assert listing._repr_markdown_() == f"```mlir\n{listing.rstrip()}\n```"
    html = listing._repr_html_()
    assert html.startswith("<pre><code>") and "<" not in html[11:-13]
    y = np.zeros(3)
    axpy(2.0, np.arange(3.0), y)
    assert list(y) == [0.0, 2.0, 4.0]


def _worker() -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "ember.lowering.enzyme_worker"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_environment())
    _send(proc.stdin, {"text": "module {}", "pipeline": "canonicalize"})
    assert "ok" in _receive(proc.stdout)  # serving: past start-up
    return proc


def test_enzyme_worker_exits_quietly_at_end_of_input_and_on_sigint():
    closed, interrupted = _worker(), _worker()
    closed.stdin.close()
    interrupted.send_signal(signal.SIGINT)
    for proc, code in ((closed, 0), (interrupted, -signal.SIGINT)):
        assert proc.wait(timeout=60) == code
        assert proc.stderr.read() == b""
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()


def test_interrupted_request_stops_the_worker(monkeypatch):
    worker = Worker()
    assert "module" in worker.run("module {}", "canonicalize")
    proc = worker._proc
    assert os.getpgid(proc.pid) != os.getpgid(0)  # a Ctrl-C to our group does not reach it

    def interrupted(stream):
        raise KeyboardInterrupt

    monkeypatch.setattr(enzyme_worker, "_receive", interrupted)
    with pytest.raises(KeyboardInterrupt):
        worker.run("module {}", "canonicalize")
    assert worker._proc is None and proc.wait(timeout=60) == -signal.SIGKILL
    monkeypatch.undo()
    assert "module" in worker.run("module {}", "canonicalize")  # a fresh worker
    worker._proc.stdin.close()
    assert worker._proc.wait(timeout=60) == 0


def test_code_read_from_stdin_gets_the_message():
    """`python -` (like the plain prompt) keeps no text: the CompileError says what to do."""
    script = "import ember\n@ember.kernel\ndef neg(x: float) -> float:\n    return -x\nneg(1.0)\n"
    run = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=REPO), timeout=120, cwd=REPO)
    assert run.returncode == 1
    assert "cannot read the source of 'neg' (defined in <stdin>, line 2)" in run.stderr
    assert "exec_source(text, globals())" in run.stderr
