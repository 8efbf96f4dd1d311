"""Issue 11, acceptance 2, for the JIT: every call-time rejection (tests/rejection_cases.py)
raises the right exception naming the parameter, for every result kind, and never runs the
kernel or returns a value. The kernels compile once, when the first call of each is made.

Before the call path reported rejections by status, a read-only array for a written parameter
of a kernel with a scalar result was read as the result (NaN, -2**63, 2**63 or True).
"""

import pytest
import rejection_cases as rc


@pytest.mark.parametrize("kind", rc.KINDS)
def test_accepted_call_runs_the_kernel(kind):
    rc.check_accepted(getattr(rc, f"k_{kind}"), kind)


@pytest.mark.parametrize(("kind", "case"), rc.GRID)
def test_rejected_call_raises_and_runs_nothing(kind, case):
    rc.check_rejected(getattr(rc, f"k_{kind}"), f"k_{kind}", case)
