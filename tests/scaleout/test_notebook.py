"""samples/notebook.ipynb executed by nbclient on a real IPython kernel (issue 17, acceptance
4): kernels and their gradient defined in cells compile and match NumPy (the notebook prints
the comparisons), `inspect` output is a code block, a compile error shows the cell's line and
caret, and the kernel process (with its Enzyme worker) writes nothing to stderr when the
kernel is interrupted (the notebook's stop button: SIGINT to its process group) and at
shutdown: no 'Traceback', no 'KeyboardInterrupt'; a derivative compiles after the interrupt.

The kernel runs this interpreter: a kernelspec for `sys.executable` is installed into a
temporary prefix found through JUPYTER_PATH, so nothing depends on the machine's Jupyter setup.
"""

import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "samples" / "notebook.ipynb"
KERNEL = "ember-test-python"
run_sync = pytest.importorskip("nbclient.util").run_sync


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the executed notebook, the kernel's stderr after shutdown). Jupyter's and IPython's
    folders are private to the test; the cells run in order, the last one after an
    interrupt."""
    prefix = tmp_path_factory.mktemp("jupyter")
    kernelspec.install(kernel_name=KERNEL, prefix=str(prefix))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=180, startup_timeout=90,
                                     resources={"metadata": {"path": str(prefix)}})
    err_path = prefix / "kernel-stderr.txt"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        mp.setenv("JUPYTER_RUNTIME_DIR", str(prefix / "runtime"))
        mp.setenv("IPYTHONDIR", str(prefix / "ipython"))
        mp.setenv("PYTHONPATH", os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
        with open(err_path, "w") as err, client.setup_kernel(stderr=err):
            code = [k for k, cell in enumerate(nb.cells) if cell.cell_type == "code"]
            for k in code[:-1]:
                client.execute_cell(nb.cells[k], k)
            run_sync(client.km.interrupt_kernel)()  # the stop button: SIGINT to its group
            time.sleep(0.5)
            client.execute_cell(nb.cells[code[-1]], code[-1])  # Enzyme again, afterwards
    time.sleep(0.5)  # the Enzyme worker ends at end of input, after the kernel
    return nb, err_path.read_text()


def _outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _stdout(nb):
    return "".join(o.get("text", "") for o in _outputs(nb)
                   if o.output_type == "stream" and o.name == "stdout")


def test_notebook_runs_without_errors_and_the_kernel_exits_quietly(executed):
    nb, kernel_stderr = executed
    assert not [o for o in _outputs(nb) if o.output_type == "error"]
    cell_stderr = "".join(o.get("text", "") for o in _outputs(nb)
                          if o.output_type == "stream" and o.name == "stderr")
    for text in (cell_stderr, kernel_stderr):
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, text


def test_kernel_and_gradient_match_numpy(executed):
    out = _stdout(executed[0])
    assert "energy matches NumPy: True" in out
    assert "gradient matches NumPy: True" in out
    assert "dE/dk matches NumPy: True" in out  # compiled after the interrupt
    assert " us, NumPy " in out


def test_inspect_renders_as_a_code_block(executed):
    nb = executed[0]
    cell = next(c for c in nb.cells if c.source.startswith("energy.inspect("))
    data = cell.outputs[0]["data"]
    plain = data["text/plain"]  # the text itself, not a one-line escaped repr
    assert "\nmodule {\n" in plain and "func.func @ek_energy" in plain and "\\n" not in plain
    assert data["text/markdown"] == f"```mlir\n{plain.rstrip()}\n```"


def test_compile_error_shows_the_cell_line_and_caret(executed):
    nb = executed[0]
    cell = next(c for c in nb.cells if "def total" in c.source)
    text = "".join(o.get("text", "") for o in cell.outputs)
    lines = text.splitlines()
    assert lines[0].startswith('File "') and lines[0].endswith('", line 3, in total:'), text
    assert lines[1] == "    return sum([v * v for v in x])"
    assert set(lines[2].strip()) == {"^"} and "error:" in text
