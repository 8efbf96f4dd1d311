"""LLVM attributes of a reverse derivative's code that MLIR cannot express (opt_level 2-3).

* `noalias` shadows. The reverse pass accumulates into shadow arrays (`d_means[k, i] -= a *
  icf[k, p]` in a loop over `j`, `d_icf[k, p] += b`). LLVM must assume that two array
  arguments may be the same memory, so each accumulation is a load and a store that the next
  iteration waits on, where a register would do, and loop-invariant loads of the primal's
  arrays are repeated after every store. The shadows of a reverse derivative are buffers the
  runtime allocates for the call (runtime/derivcall.py: `np.zeros` or a copy of a cotangent;
  the AOT C API: its own buffers or the caller's gradient outputs, which must not overlap
  any other argument), distinct from each other and from every primal argument, so their
  pointers in the derivative function Enzyme made (`diffe<fn>`) get LLVM's `noalias`. (The
  tape arena's allocator is declared `noalias` too: runtime/thunk.ARENA.)
* `"no-builtin-memcpy"` on the kernel's functions. Where Enzyme saves a row of a work array
  that every iteration overwrites (`lxc[0:d]` for each point and component), LLVM's
  loop-idiom pass turns the saving store into a `memcpy` call per iteration: 250,000 calls of
  80 bytes per GMM gradient (5% of its time). Without the builtin the store stays in the loop
  that reads the row anyway.

Neither changes an arithmetic operation or its order: bitwise equal derivatives.

MLIR's func-to-llvm conversion drops `llvm.noalias` on memref arguments, so the attributes
are added to the LLVM IR text: a memref argument of rank r becomes 3 + 2r parameters
(allocated pointer, aligned pointer, offset, sizes, strides), any other argument one, and
LLVM names the parameters of a function `%0, %1, ...` in order.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from mlir import ir

from .enzyme import ADSpec

NO_MEMCPY: Final = '"no-builtin-memcpy"'
_DEFINE: Final = re.compile(r"^(define [^\n]*?@(?P<name>[\w.$]+)\((?P<params>[^\n]*)\))"
                            r"(?P<rest>[^\n]*)\{$", re.MULTILINE)


class Shadows(NamedTuple):
    function: str
    """The derivative function Enzyme made (`diffe<fn>`)."""
    params: tuple[int, ...]
    """Its LLVM parameters that are pointers of shadow buffers."""


def shadow_params(module: ir.Module, spec: ADSpec) -> Shadows | None:
    """The shadow pointers of the reverse derivative of `spec` in `module` (Enzyme's output),
    or None (forward mode, no such function)."""
    if spec.mode != "reverse":
        return None
    name = f"diffe{spec.fn}"
    func = next((v.operation for v in module.body.operations
                 if v.operation.name == "func.func" and "sym_name" in v.operation.attributes
                 and ir.StringAttr(v.operation.attributes["sym_name"]).value == name), None)
    if func is None:
        return None
    shadows, params, at = spec.shadows(), [], 0
    for k, arg in enumerate(func.regions[0].blocks[0].arguments):
        width = 3 + 2 * arg.type.rank if isinstance(arg.type, ir.MemRefType) else 1
        if k in shadows and width > 1:
            params += [at, at + 1]
        at += width
    return Shadows(name, tuple(params))


def annotate(llvm_ir: str, shadows: Shadows | None) -> str:
    """`llvm_ir` (a derivative's kernel functions, no thunks) with the attributes of the
    module docstring; unchanged without `shadows`."""
    if shadows is None:
        return llvm_ir

    def define(found: re.Match[str]) -> str:
        params = found.group("params")
        if found.group("name") == shadows.function:
            for n in shadows.params:
                params = re.sub(rf"\bptr (?:noalias )?%{n}(?=,|$)", f"ptr noalias %{n}",
                                params)
        head = found.group(0)[:found.start("params") - found.start(0)]
        return f"{head}{params}) {NO_MEMCPY}{found.group('rest')}{{"

    return _DEFINE.sub(define, llvm_ir)
