"""`import ember` stays light: the toolchain (llvmlite, MLIR, Enzyme) loads at the first compile
or build, never at import (issue 12). Timings are not asserted; measure with
`python -X importtime -c "import numpy; import ember"`."""

import subprocess
import sys

HEAVY = ("llvmlite", "mlir", "enzyme_ad")

SCRIPT = f"""
import sys
import ember
from ember import (Array, CompileError, Kernel, boolean, f32, f64, i8, i16, i32, i64, kernel,
                   prange, u8, u16, u32, u64, __version__)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
assert not loaded, loaded
from ember import (Derivative, GradientCheckError, build, check_grad, cuda, grad, jvp,
                   value_and_grad, vjp)
assert set(ember.__all__) <= set(dir(ember))
print("ok")
"""


def test_import_loads_no_toolchain():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_unknown_attribute_is_an_attribute_error():
    import ember

    assert not hasattr(ember, "no_such_name")
    assert ember.__version__ == ember._version.__version__
