"""Progress of `ember build` (issue 17): one stderr line per export with its timing or "reused
from cache", `--quiet` prints nothing at all, a failing export says so before the error, and
`ember.build(...)` from Python prints nothing unless asked (`progress=True` or a callable that
receives `Step` records)."""

import io
import re
import textwrap

import pytest

import ember
from ember.aot.progress import Printer, Step
from ember.cli import main

MODULE = textwrap.dedent("""
    from ember import f64, grad, kernel


    @kernel
    def energy(x: f64[:]) -> float:
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * x[i]
        return s


    @kernel
    def twice(n: int) -> int:
        return 2 * n


    denergy = grad(energy)
    """)
NAMES = ("energy", "twice", "denergy")
LINE = r"\[{k}/3\] {name} \.\.\. (compiled in \d+\.\d\d s|reused from cache \(\d+\.\d\d s\))$"


@ember.kernel
def halve(x: float) -> float:
    return x / 2.0


@ember.kernel
def plus_one(n: int) -> int:
    return n + 1


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "progmod.py"
    path.write_text(MODULE)
    return path


def _progress_lines(err):
    return [line for line in err.splitlines() if line.startswith("[")]


def test_cli_progress_then_reuse_then_quiet(module_path, capsys):
    out_dir = str(module_path.parent / "build")
    assert main(["build", str(module_path), "-o", out_dir]) == 0
    first = capsys.readouterr()
    lines = _progress_lines(first.err)
    assert len(lines) == 3, first.err
    for k, (name, line) in enumerate(zip(NAMES, lines, strict=True), start=1):
        assert re.match(LINE.format(k=k, name=name), line), line
    assert re.search(r"^ember build: done in \d+\.\d\d s$", first.err, re.M), first.err
    assert "wrote " in first.out and "compiled: " in first.out  # the summary stays on stdout
    assert "[" not in first.out

    assert main(["build", str(module_path), "-o", out_dir]) == 0  # unchanged: all reused
    second = capsys.readouterr()
    assert all("reused from cache" in line for line in _progress_lines(second.err)), second.err
    assert "compiled: -; reused from cache: energy, twice, denergy" in second.out

    assert main(["build", str(module_path), "-o", out_dir, "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["build", str(module_path), "-o", out_dir, "-q"]) == 0
    assert capsys.readouterr() == ("", "")


def test_cli_failing_export_ends_its_line(tmp_path, capsys):
    (tmp_path / "badmod.py").write_text("from ember import kernel\n\n\n@kernel\n"
                                        "def bad(x):\n    return x\n")
    assert main(["build", str(tmp_path / "badmod.py"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^\[1/1\] bad \.\.\. failed after \d+\.\d\d s$", err, re.M), err
    assert "ember build: " in err and "Traceback" not in err


def test_library_build_is_silent_unless_asked(tmp_path, capsys):
    ember.build([halve, plus_one], str(tmp_path / "a"))
    assert capsys.readouterr() == ("", "")

    steps = []
    result = ember.build([halve, plus_one], str(tmp_path / "b"), progress=steps.append)
    assert capsys.readouterr() == ("", "")
    assert [(s.index, s.total, s.name, s.outcome) for s in steps] == [
        (1, 2, "halve", "started"), (1, 2, "halve", "reused"),
        (2, 2, "plus_one", "started"), (2, 2, "plus_one", "reused")]
    assert all(s.seconds >= 0.0 for s in steps)
    assert result["reused"] == ["halve", "plus_one"]

    ember.build([halve], str(tmp_path / "c"), progress=True)
    out, err = capsys.readouterr()
    assert out == "" and re.match(r"\[1/1\] halve \.\.\. reused from cache", err), err

    with pytest.raises(TypeError, match="progress must be True, False or a callable"):
        ember.build([halve], str(tmp_path / "d"), progress="verbose")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_printer_on_a_terminal_starts_the_line_first():
    term, pipe = _Terminal(), io.StringIO()
    for stream in (term, pipe):
        show = Printer(stream)
        show(Step(1, 2, "energy"))
        if stream is term:
            assert term.getvalue() == "[1/2] energy ..."  # visible while it compiles
        show(Step(1, 2, "energy", "compiled", 1.234))
        show(Step(0, 2, "energy_primal"))
        show(Step(0, 2, "energy_primal", "reused", 0.01))
    expected = ("[1/2] energy ... compiled in 1.23 s\n"
                "[+] energy_primal ... reused from cache (0.01 s)\n")
    assert term.getvalue() == pipe.getvalue() == expected


GPU_MODULE = textwrap.dedent("""
    from ember import f64, kernel, prange, vjp


    @kernel
    def scale(x: f64[:], y: f64[:]) -> None:
        for i in prange(x.shape[0]):
            y[i] = 2.0 * x[i]


    dscale = vjp(scale, wrt="x", outputs="y")
    """)


def test_cli_progress_of_a_gpu_build(tmp_path, capsys):
    """The GPU writer (PTX files and a loader; no GPU needed to build) reports the same way."""
    (tmp_path / "gpumod.py").write_text(GPU_MODULE)
    argv = ["build", str(tmp_path / "gpumod.py"), "-o", str(tmp_path / "out"), "--target", "gpu"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    lines = _progress_lines(err)
    assert [line.split(" ...")[0] for line in lines] == ["[1/2] scale", "[2/2] dscale"], err
    assert all(re.search(r" \.\.\. compiled in \d+\.\d\d s$", line) for line in lines), err
    assert "PTX file(s)" in out
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
