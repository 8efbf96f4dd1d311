"""Overlap checks of vectorized row updates stay inside the loop over the rows in derivative
libraries (runtime/native.optimize with `derivative=True` sets LLVM's
`-hoist-runtime-checks=false` for them; primal kernels keep LLVM's default).

Rows of one array updated in one inner loop (`w[j, i] += ...; w[j + 1, i] += ...`, as in the
reverse of a jammed matvec, `dw1[j + r, i] += da_r * x[s, i]`) need a run-time overlap check
before LLVM runs the vectorized loop. Hoisted out of the row loop, the check covers every row
at once, always finds an overlap and always picks the scalar loop (the MLP gradient ran 1.25x
slower). The test optimizes the same LLVM IR both ways and reads it: in the derivative's
optimization each block that computes a check (`found.conflict`) must lie on a cycle of the
control-flow graph, i.e. run per row, also after a primal was optimized with LLVM's default.
"""

import re

import numpy as np

import ember
from ember import f64
from ember.runtime import native


def two_rows(w: f64[:, :], d: f64[:], x: f64[:]) -> None:
    for j in range(0, w.shape[0] - 1, 2):
        for i in range(w.shape[1]):
            w[j, i] += d[j] * x[i]
            w[j + 1, i] += d[j + 1] * x[i]


def _check_blocks_on_cycles(ir: str) -> list[bool]:
    """For every block of `ir` that computes an overlap check: whether it is on a cycle."""
    found = []
    for body in re.findall(r"^define [^\n]*\{\n(.*?)^\}", ir, re.M | re.S):
        blocks: dict[str, list[str]] = {}
        name = "entry"
        for line in body.splitlines():
            label = re.match(r"^([\w.$-]+):", line)
            if label:
                name = label.group(1)
            else:
                blocks.setdefault(name, []).append(line)
        succ = {b: set(re.findall(r"label %([\w.$-]+)", "\n".join(ls)))
                for b, ls in blocks.items()}
        found += [_on_cycle(succ, b) for b, ls in blocks.items()
                  if any("found.conflict" in line for line in ls)]
    return found


def _on_cycle(succ: dict[str, set[str]], start: str) -> bool:
    seen, todo = set(), list(succ[start])
    while todo:
        b = todo.pop()
        if b == start:
            return True
        if b not in seen:
            seen.add(b)
            todo.extend(succ.get(b, ()))
    return False


def _unoptimized_ir(fn) -> str:
    """The LLVM IR of kernel `fn` before LLVM's optimization."""
    from ember.driver import cpu
    from ember.frontend import build_program

    options = ember.kernel(fn).options
    with cpu.COMPILE_LOCK:
        return cpu._llvm_ir(build_program(fn, optimize=options.optimize_loops, checks=options),
                            options)


def test_row_update_checks_run_per_row_in_derivatives():
    text = _unoptimized_ir(two_rows)
    for derivative in (True, False, True):  # the process-wide option set back and forth
        checks = _check_blocks_on_cycles(str(native.optimize(text, derivative=derivative)))
        assert checks and all(checks) == derivative  # (a primal's: hoisted, LLVM's default)


def test_row_updates_match_numpy():
    rng = np.random.default_rng(4)
    w, d, x = rng.standard_normal((6, 37)), rng.standard_normal(6), rng.standard_normal(37)
    want = w + d[:, None] * x[None, :]
    got = w.copy()
    ember.kernel(two_rows)(got, d, x)
    np.testing.assert_array_equal(got, want)
    aliased = w.copy()  # x is a row of w: the checks must pick the scalar loop
    ember.kernel(two_rows)(aliased, d, aliased[1])
    ref = w.copy()
    two_rows(ref, d, ref[1])
    np.testing.assert_array_equal(aliased, ref)
