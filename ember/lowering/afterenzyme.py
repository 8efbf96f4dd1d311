"""The rewrites of Enzyme's output before it is lowered, in their order (one place to read it).

Input: the module Enzyme returned for the derivative entry `spec` (lowering/enzyme.py).
At opt_level >= 2 (`optimize`): reload unchanged elements instead of caching them (remat.py),
stencil values recomputed from the saved rows of the arrays they read (rowstencil.py),
stencil adjoints in gather form (gather.py), the carried adjoint chains of reverse loops
shortened (adjointchains.py), the adjoint sums of scalar parameters and those carried by
loops that compute adjoints only reordered for the vectorizer (adjointsums.py), moved into the gather loops
(foldsums.py) or their loops run ascending
(ascendingsums.py; none of the three in `serial` derivatives), the gather loops' float ops
marked fast-math (fastgather.py; not in `serial` ones either), a reverse loop fused into the
forward loop it mirrors (fusesweeps.py; not in `serial` ones), in-place row loops
kept scalar and rolled (rowloops.py), adjoints added onto just-zeroed elements marked `nsz`
(zeroadds.py).
Always: prange loops onto libgomp threads (paralleladjoint.py), except for derivatives that
are differentiated again (`serial`: second order). Output: the shadow parameters that
adattrs.annotate marks `noalias` in the LLVM IR (None: none marked).
"""

from __future__ import annotations

from mlir import ir

from . import (
    adattrs,
    adjointchains,
    adjointsums,
    ascendingsums,
    fastgather,
    foldsums,
    fusesweeps,
    gather,
    paralleladjoint,
    remat,
    rowloops,
    rowstencil,
    zeroadds,
)
from .enzyme import ADSpec


def rewrite_derivative(derived: ir.Module, spec: ADSpec, optimize: bool, serial: bool,
                       atomic: bool) -> adattrs.Shadows | None:
    """Rewrite `derived` in place (see the module docstring); `atomic`: prange loops update
    shared shadows atomically instead of in per-thread copies. (The passes are called through
    their modules, so that a test can switch one off.)"""
    shadows = None
    if optimize:
        remat.rematerialize(derived, spec)
        rowstencil.recompute_rows(derived, spec)
        gather.gather_scatter(derived, spec)
        if not serial:
            adjointchains.shorten_chains(derived, spec)
            adjointsums.reassociate_sums(derived, spec)
            adjointsums.reassociate_loop_sums(derived, spec)
            foldsums.fold_sums(derived, spec)
            fastgather.fast_gathers(derived, spec)
            ascendingsums.ascend_sums(derived, spec)
            fusesweeps.fuse_sweeps(derived, spec)
            shadows = adattrs.shadow_params(derived, spec)
        if shadows is not None:
            rowloops.keep_rows_scalar(derived, shadows.function)
            zeroadds.mark_zero_adds(derived, shadows.function)
    paralleladjoint.parallelize(derived, not serial, atomic)
    return shadows
