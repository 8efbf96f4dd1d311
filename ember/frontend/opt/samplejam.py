"""Frontend step 7 (opt_level >= 2): a packed dense layer over Q samples per pass.

packrows.py runs a dense layer applied per sample as passes over the rows of a packed
transpose `wt`, DEPTH reduction steps per pass. In a derivative build the reverse of a pass
adds `dacc[j] * t_r` into DEPTH rows of `dwt`, so every sample reads and writes all of `dwt`
once: the dominant loop of an MLP's gradient. Where the packed layer opens the sample loop and
its inputs do not depend on what that loop writes, the layer runs over Q samples per pass:

    for s in range(a, b, c):        s0, s1, ds = a, b, c; main = range_len(s0, s1, ds) // Q * Q
        <packed layer(s)>           for p in range(0, main, Q):      (s_q = s0 + (p + q) * ds)
        <rest(s)>            ->         for j: acc4[q, j] = init(j)[s := s_q]         (q < Q)
                                        for i (DEPTH at a time): t_qr = v(i + r)[s := s_q]
                                            for j: w_r = wt[i + r, j]
                                                   acc4[q, j] = acc4[q, j] + w_0 * t_q0 + ...
                                        for q in range(Q): s = s_q
                                            for j: a = acc4[q, j]; <epilogue(j, a)>
                                            <rest(s)>
                                    for s in range(s0 + main * ds, s1, ds): <as before>

Each accumulator adds its products in the order of the one-sample sweep, and the epilogue and
the rest of the body run per sample in sample order: values are bitwise those of the loops as
written. The reverse of a pass adds Q samples' products into each `dwt` element it loads, and
needs no tape (it reloads `wt` and the inputs). No branch enters the sample loop (Enzyme would
tape each branch per iteration); in the primal, `main` is 0 where packrows' run-time
condition fails. Legal where the layer is the first statement of the sample loop, which does
not assign its variable, and init(j) and v(i) read no name the loop assigns and no array it
stores or that could share memory with one (packrows.py: no written parameter).
"""

from __future__ import annotations

from dataclasses import replace

from ... import types as T
from .. import dataflow, tir
from .jam import Row
from .rowparts import Build, Rows

Q = 4
"""Samples per pass over the packed rows."""


def jammable(outer: tir.For, rows: Rows, types: dict[str, T.Type], assigned: set[str],
             fresh: frozenset[str]) -> bool:
    """Whether `rows` (a matvec row loop of `outer`'s body) can run over Q samples per pass;
    `assigned`: names the function assigns, `fresh`: arrays sharing memory with no other."""
    body = outer.body
    if not body or body[0] is not rows.loop or outer.var in dataflow.assigned(body):
        return False
    inner = dataflow.assigned(body) - {rows.loop.var, rows.depth.var}
    stored = {n.array.name for n in tir.walk(body)
              if isinstance(n, tir.Store | tir.Fill) and isinstance(n.array, tir.Var)}
    reads = dataflow.uses((rows.init, rows.v)) - {outer.var, rows.loop.var, rows.depth.var}
    return not (reads & (inner | stored) or any(
        not isinstance(t := types.get(n), T.Scalar)  # arrays: parameters or fresh ones
        and (not isinstance(t, T.Array) or n in assigned and n not in fresh) for n in reads))


def jam(outer: tir.For, rows: Rows, n: int, b: Build, depth: int, body: tuple[tir.Stmt, ...],
        ok: tir.Expr | None = None) -> tuple[tir.Stmt, ...]:
    """What replaces `outer`, whose packed body (layer `n` first) is `body`; `b` builds at
    the row loop's index type. `ok` (primal builds): whether the packed rows run; if not,
    every sample takes the one-sample body."""
    bs = replace(b, it=b.types[outer.var])
    s0, s1, ds, main, p, q = (bs.local(f"__pk{n}_{x}", bs.it)
                              for x in ("s0", "s1", "ds", "smain", "p", "q"))
    acc4 = b.local(f"__pk{n}_acc4", b.matrix)
    step = outer.step if isinstance(outer.step, tir.Const) else bs.var(ds)
    trips = tir.Call(bs.it, bs.span, "range_len", (bs.var(s0), bs.var(s1), step))
    whole: tir.Expr = bs.binop("mul", bs.binop("floordiv", trips, bs.const(Q)), bs.const(Q))
    if ok is not None:
        whole = tir.IfExp(bs.it, bs.span, ok, whole, bs.const(0))
    pre = [bs.assign(s0, outer.start), bs.assign(s1, outer.stop), bs.assign(ds, outer.step),
           bs.assign(main, whole),
           b.assign(acc4, tir.Alloc(b.matrix, b.span, (b.idx(b.const(Q)),
                                                       b.idx(b.var(f"__pk{n}_m"))), None))]

    def sample(k: tir.Expr) -> tir.Expr:  # s_k = s0 + (p + k) * ds
        at = bs.var(p) if isinstance(k, tir.Const) and k.value == 0 else bs.binop(
            "add", bs.var(p), k)
        return bs.binop("add", bs.var(s0), bs.binop("mul", at, step))

    def at(e: tir.Expr, k: int) -> tir.Expr:  # e for sample k of the pass
        out = Row(outer.var, sample(bs.const(k)), {}).visit(e)
        assert isinstance(out, tir.Expr)
        return out

    j, m, k, kmain = f"__pk{n}_j", b.var(f"__pk{n}_m"), b.var(f"__pk{n}_k"), f"__pk{n}_main"
    wt, wt_type = (rows.w.name, rows.w.type) if rows.column else (f"__pk{n}_wt", b.matrix)

    def sweep(base: tir.Expr, count: int) -> tuple[tir.Stmt, ...]:
        out: list[tir.Stmt] = []
        ts = [[b.var(b.local(f"__pk{n}_u{c}_{r}", rows.v.type), rows.v.type)
               for r in range(count)] for c in range(Q)]
        ws = [b.var(b.local(f"__pk{n}_w{r}", b.ft), b.ft) for r in range(count)]
        offsets = [base if r == 0 else b.binop("add", base, b.const(r)) for r in range(count)]
        for r, off in enumerate(offsets):
            v = Row(rows.depth.var, off, {}).visit(rows.v)
            assert isinstance(v, tir.Expr)
            out += [b.assign(ts[c][r].name, at(v, c)) for c in range(Q)]
        lane: list[tir.Stmt] = [b.assign(w.name, b.load(wt, wt_type, off, b.var(j)))
                                for w, off in zip(ws, offsets, strict=True)]
        for c in range(Q):
            total: tir.Expr = b.load(acc4, b.matrix, b.const(c), b.var(j))
            for r, w in enumerate(ws):
                t = ts[c][r]
                left, right = (w, t) if rows.w_left else (t, w)
                total = b.binop("add", total, replace(rows.product, span=b.span, left=left,
                                                      right=right))
            lane.append(b.store(acc4, b.matrix, total, b.const(c), b.var(j)))
        out.append(b.loop(j, b.const(0), m, tuple(lane)))
        return tuple(out)

    pi, qi = f"__pk{n}_i", f"__pk{n}_pi"
    group = (
        b.loop(rows.loop.var, b.const(0), m, tuple(b.store(
            acc4, b.matrix, b.cast(at(rows.init, c)), b.const(c), b.var(rows.loop.var))
            for c in range(Q))),
        b.assign(kmain, b.binop("mul", b.binop("floordiv", k, b.const(depth)),
                                b.const(depth))),
        b.loop(pi, b.const(0), b.var(kmain), sweep(b.var(pi), depth), step=depth),
        b.loop(qi, b.var(kmain), k, sweep(b.var(qi), 1)),
        bs.loop(q, bs.const(0), bs.const(Q), (
            bs.assign(outer.var, sample(bs.var(q))),
            replace(rows.loop, carried=(), body=(
                b.assign(rows.acc, b.load(acc4, b.matrix, bs.var(q), b.var(rows.loop.var))),
                *rows.epilogue)),
            *body[1:])),
    )
    rest = replace(outer, start=bs.binop("add", bs.var(s0), bs.binop("mul", bs.var(main), step)),
                   stop=bs.var(s1), step=step, body=body)
    return (*pre, bs.loop(p, bs.const(0), bs.var(main), group, step=Q), rest)


def inactive(v: tir.Expr, types: dict[str, T.Type], constant: frozenset[str]) -> bool:
    """Whether `v` reads only integers and the `constant` parameters (no derivative flows
    into it)."""
    return all(n in constant or (isinstance(t := types.get(n), T.Scalar) and not t.is_float)
               for n in dataflow.uses(v))
