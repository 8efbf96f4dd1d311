"""Seeded random loop nests of the shapes the loop optimizations target (matmul-class nests,
row reductions, column-order maps, chains of producer/consumer loops), with random bounds, operand forms and aliasing: the
optimized kernel must agree bitwise with CPython. EMBER_NEST_FUZZ=N runs N programs."""

import importlib.util
import os
import random

import numpy as np
import pytest

COUNT = int(os.environ.get("EMBER_NEST_FUZZ", 48))


def _matmul(r: random.Random) -> str:
    lo = [r.choice(["0", "1"]) for _ in range(3)]
    hi = [r.choice(["", " - 1"]) for _ in range(3)]
    ri = f"range({lo[0]}, c.shape[0]{hi[0]})"
    rj = f"range({lo[1]}, c.shape[1]{hi[1]})"
    rk = f"range({lo[2]}, a.shape[1]{hi[2]})"
    u = r.choice(["a[i, k]", "alpha * a[i, k]", "a[k, i]", "(a[i, k] - alpha)"])
    bv = r.choice(["b[k, j]", "b[j, k]"])
    term = r.choice([f"{u} * {bv}", f"{bv} * {u}"])
    order = r.choice(["ikj", "ijk", "local"])
    if order == "ikj":
        pre = r.choice(["", f"        for j in {rj}:\n            c[i, j] = 0.5 * c[i, j]\n"])
        return (f"    for i in {ri}:\n{pre}        for k in {rk}:\n"
                f"            for j in {rj}:\n                c[i, j] += {term}\n")
    if order == "ijk":
        return (f"    for i in {ri}:\n        for j in {rj}:\n            for k in {rk}:\n"
                f"                c[i, j] = c[i, j] + {term}\n")
    init = r.choice(["0.0", "c[i, j]", "1.5"])
    return (f"    for i in {ri}:\n        for j in {rj}:\n            s = {init}\n"
            f"            for k in {rk}:\n                s += {term}\n            c[i, j] = s\n")


def _rows(r: random.Random) -> str:
    lo, hi = r.choice(["0", "1"]), r.choice(["", " - 1"])
    expr = r.choice(["a[i, j] * x[j]", "a[j, i] * x[j]", "abs(a[i, j] - x[j])",
                     "a[i, j] * a[i, j]"])
    op = r.choice(["s += {e}", "s = max(s, {e})", "s = s * 0.5 + {e}"]).format(e=expr)
    extra = r.choice(["", "            b[0, j] += a[i, j] * 0.25\n",
                      "        for j in range(len(x)):\n            c[i, j] = a[i, j] * s\n"])
    return (f"    for i in range({lo}, a.shape[0]{hi}):\n        s = {r.choice(['0.0', 'y[i]'])}\n"
            f"        for j in range(len(x)):\n            {op}\n{extra if 'b[' in extra else ''}"
            f"        y[i] = s\n{extra if 'c[' in extra else ''}")


def _columns(r: random.Random) -> str:
    lo, hi = r.choice(["0", "1"]), r.choice(["", " - 1"])
    expr = r.choice(["2.0 * a[i, j] + 1.0", "a[i, j] * b[i, j]", "c[i, j] - a[i, j]",
                     "a[i, j] + x[j]"])
    body = r.choice([f"c[i, j] = {expr}", f"c[i, j] += {expr}",
                     f"t = {expr}\n            c[i, j] = t * t"])
    return (f"    for j in range({lo}, c.shape[1]{hi}):\n        for i in range(c.shape[0]):\n"
            f"            {body}\n")


_FUSED_1D = ["y[{v}{o}] = x[{v}{p}] * alpha + 1.0", "x[{v}{o}] = y[{v}{p}] - 0.5",
             "y[{v}{o}] += x[{v}{p}]", "t = x[{v}{o}] * 2.0\n        y[{v}{p}] = t * t",
             "c[{v}{o}, 0] = x[{v}] + y[{v}{p}]", "s += y[{v}{o}] * x[{v}{p}]",
             "x[{v}{o}] = s + y[{v}{p}]"]
_FUSED_2D = ["c[i{o}, j] = a[i, j] * alpha", "b[i, j] = c[i{o}, j] + a[i{p}, j]",
             "c[i, j] += b[i{o}, j]", "t = c[i{o}, j]\n            a[i, j] = t - b[i{p}, j]"]


def _fusion(r: random.Random) -> str:
    """Two to four adjacent loops over (mostly) the same range, producing and consuming
    arrays at random offsets (some pairs fusable, some not), scalars flowing between them."""
    off = ["", "", " + 1", " - 1"]
    out = "    s = 0.0\n" if r.random() < 0.5 else ""
    for _ in range(r.randint(2, 4)):
        hi = r.choice([" - 1", " - 1", " - 1", " - 2"])
        if r.random() < 0.7:
            v = r.choice(["i", "i", "k"])
            body = r.choice(_FUSED_1D).format(v=v, o=r.choice(off), p=r.choice(off))
            if "s" in body and "s = " not in out and "t = " not in body:
                body = body.replace("s +=", "y[0] +=").replace("= s +", "= 0.5 +")
            out += f"    for {v} in range(1, len(x){hi}):\n        {body}\n"
        else:
            body = r.choice(_FUSED_2D).format(o=r.choice(off), p=r.choice(off))
            out += (f"    for i in range(1, c.shape[0]{hi}):\n"
                    f"        for j in range(c.shape[1]):\n            {body}\n")
    return out + ("    if len(y) > 0:\n        y[0] = s\n" if "s = 0.0" in out else "")


FAMILIES = [_matmul, _rows, _columns, _fusion]
HEADER = ("import ember\nfrom ember import f64\n\n\n"
          "def k{n}(a: f64[:, :], b: f64[:, :], c: f64[:, :], x: f64[:], y: f64[:], "
          "alpha: float) -> None:\n")


def _program(seed: int) -> str:
    r = random.Random(seed)
    return HEADER.format(n=seed) + r.choice(FAMILIES)(r)


def _arguments(seed: int):
    r = random.Random(seed * 7 + 1)
    rng = np.random.default_rng(seed)
    n = r.choice([0, 1, 2, 5, 6, 7, 9, 13, 17])
    mats = [rng.standard_normal((n, n)) for _ in range(3)]
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    alias = r.choice(["none", "none", "c is b", "c is a", "x is y", "c overlaps a"])
    if alias == "c is b":
        mats[2] = mats[1]
    elif alias == "c is a":
        mats[2] = mats[0]
    elif alias == "x is y":
        y = x
    elif alias == "c overlaps a" and n > 0:
        buf = rng.standard_normal((n + 1, n))
        mats[0], mats[2] = buf[1:], buf[:-1]
    return (*mats, x, y, 0.75)


def _load(tmp_path, seeds):
    path = tmp_path / "nests.py"
    path.write_text("\n\n".join(_program(s) for s in seeds))
    spec = importlib.util.spec_from_file_location(f"nests_{seeds.start}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state(args):
    """The distinct buffers behind the arguments, in order (aliases included once)."""
    return [a.base if a.base is not None else a for a in args[:5]]


@pytest.mark.parametrize("start", range(0, COUNT, 16))
def test_random_nests_match_cpython(tmp_path, start):
    import ember

    seeds = range(start, start + 16)
    module = _load(tmp_path, seeds)
    for seed in seeds:
        fn = getattr(module, f"k{seed}")
        want_args, got_args = _arguments(seed), _arguments(seed)  # same values and aliasing
        fn(*want_args)
        ember.kernel(fn)(*got_args)
        for want, got in zip(_state(want_args), _state(got_args), strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"seed {seed}:\n{_program(seed)}")
