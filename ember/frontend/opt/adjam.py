"""Unroll-and-jam in derivative builds (frontend step 7 for Enzyme, opt_level >= 2).

A derivative build types its kernels once, without the primal's contiguous fast variant, so
the loop-nest passes of opt/ never reached the loops Enzyme differentiates: a textbook MLP's
`a = b[j]; for i: a += w[j, i] * x[s, i]; h[j] = tanh(a)` stayed one latency-bound chain per
row in the derivative's forward sweep. `jam_entry` applies jam.py to the entry function of a
derivative program (its array parameters are C-contiguous: the runtime passes them so), under
the same conditions as the primal (no loop that can raise, no views), to row loops whose bounds
do not change with the loops around them (a triangular `for j in range(i + 1, n)` jammed would
make Enzyme allocate its caches per outer iteration). Each row keeps its
operations in their order, so the forward values are bitwise those of the loops as written;
Enzyme's reverse of a jammed row loop is the per-row adjoint code, four rows at a time; the
gradients agree with the unjammed build within 1e-12 (tests/grad/test_matvec_adjoint.py).
Before jamming, packrows.py turns matvec rows inside an outer loop (a dense layer per sample)
into rows as vector lanes over a transposed copy of the matrix (no run-time branch here), in
reverse mode only rows whose input vector carries no derivative (or with the matrix stored
w[i, j]), and samplejam.py runs such a layer opening the sample loop over four samples per
pass.
"""

from __future__ import annotations

import dataclasses

from .. import dataflow, tir
from ..views import makes_views
from .jam import jam_loops
from .packrows import pack_rows


def jam_entry(program: tir.Program, wrt: tuple[str, ...] | None = None) -> tir.Program:
    """`program` with its entry function's row loops jammed (unchanged where none is).
    `wrt` (reverse mode): the differentiated parameters; matvec rows are then packed only
    where their input vector reads none of them (nor anything the kernel computes) or the
    matrix is stored w[i, j] (no transpose; the rows as written would walk it by columns)."""
    fn = program.functions[program.entry]
    body = fn.body
    if _raises_in_loops(body) or makes_views(body):
        return program
    types = dict(fn.var_types)
    constant = None if wrt is None else _constant(fn, wrt)
    jammed = jam_loops(pack_rows(body, types, derivative=True, constant=constant), types,
                       rectangular=True)
    if jammed == body:
        return program
    new = dataclasses.replace(fn, body=dataflow.annotate(jammed, types),
                              var_types=types)
    return dataclasses.replace(program, functions={**program.functions, program.entry: new})


def _constant(fn: tir.Function, wrt: tuple[str, ...]) -> frozenset[str]:
    """Parameters that carry no derivative: neither differentiated (a tuple parameter in
    `wrt` stands for its items) nor written."""
    items = {p.name: p.items for p in fn.binding.params if p.items} if fn.binding else {}
    active = {n for w in wrt for n in (items.get(w) or (w,))}
    return frozenset(n for n, _ in fn.params if n not in active and n not in fn.written)


def _raises_in_loops(body: tuple[tir.Stmt, ...]) -> bool:
    return any(isinstance(n, tir.For | tir.While) and tir.raises(n.body) for n in tir.walk(body))
