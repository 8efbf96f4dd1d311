"""Stencil adjoints in gather form (lowering/gather.py, opt_level >= 2).

Enzyme writes the reverse of a stencil loop in scatter form (`du[i-1] += a; du[i] += b;
du[i+1] += c` per iteration); gather.py turns it into loops that give each element its
contributions at once, in the scatter form's order. Each case checks that the rewrite fires
(the dumped IR holds the unguarded gather loop, marked for the vectorizer) or is refused
(aliasing, a buffer read where it is updated), and that the gradient is bitwise equal to
the unoptimized build (opt_level=1) and matches central finite differences, on several
sizes (short rows whose every trip is a boundary trip, empty loops) from one compile.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import os
import sys

import numpy as np
import pytest

import ember
from ember import f32, f64

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402

RNG = np.random.default_rng(15)
GATHER = "llvm.loop_vectorize<disable = false>"
"""The mark of an unguarded gather loop in the dumped IR."""


def smooth3(x: f64[:], w: float) -> float:
    """1-D 3-point stencil with nonlinear terms, reading the input array directly: the
    updated shadow is the gradient argument itself."""
    n = x.shape[0]
    y = np.empty(n)
    for i in range(1, n - 1):
        y[i] = w * x[i - 1] + math.sin(x[i]) + x[i + 1] * x[i + 1]
    s = 0.0
    for i in range(1, n - 1):
        s += y[i] * y[i]
    return s


def five_point(x: f64[:], c: float) -> float:
    """A 5-point (fourth-order) difference with a cubic term, offsets -2..2."""
    n = x.shape[0]
    s = 0.0
    d = np.zeros(n)
    for i in range(2, n - 2):
        d[i] = (x[i - 2] - 8.0 * x[i - 1] + 8.0 * x[i + 1] - x[i + 2]) * c + x[i] ** 3
    for i in range(n):
        s += math.tanh(d[i])
    return s


def upwind(u0: f64[:], c: float, steps: int) -> float:
    """Asymmetric upwind advection on two swapped arrays (offsets -1 and 0)."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
        un[i] = u0[i]
    for _ in range(steps):
        for i in range(1, n):
            un[i] = u[i] - c * (u[i] - u[i - 1]) * u[i]
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i] * (i + 1)
    return e


def laplace2d(x: f64[:, :]) -> float:
    """2-D 5-point Laplacian, squared: rows i-1 and i+1 are their own gather groups."""
    s = 0.0
    for i in range(1, x.shape[0] - 1):
        for j in range(1, x.shape[1] - 1):
            v = x[i - 1, j] + x[i + 1, j] + x[i, j - 1] + x[i, j + 1] - 4.0 * x[i, j]
            s += v * v * math.cos(x[i, j])
    return s


def smooth3_f32(x: f32[:], w: float) -> float:
    n = x.shape[0]
    s = 0.0
    for i in range(1, n - 1):
        v = w * x[i - 1] + x[i] * x[i] - x[i + 1]
        s += v * v
    return s


def gauss_seidel(u0: f64[:], k: float) -> float:
    """In place: the reverse reads du[i] where it also updates it (refused)."""
    n = u0.shape[0]
    u = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
    for _ in range(3):
        for i in range(1, n - 1):
            u[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1]) * u[i]
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def maybe_in_place(u0: f64[:], k: float, in_place: int) -> float:
    """Swapped arrays that are one array when `in_place`: the rewrite is versioned by a
    run-time check of the shadows' base pointers, the scatter form runs when they are equal."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.zeros(n)
    for i in range(n):
        u[i] = u0[i]
    if in_place == 1:
        un = u
    for _ in range(3):
        for i in range(1, n - 1):
            un[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1]) * u[i]
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def _inputs(n: int) -> dict[str, tuple]:
    x = RNG.standard_normal(n) * 0.5
    return {
        "heat": W.make_heat(7, n=n),
        "smooth3": (x, 0.7),
        "five_point": (x, 0.3),
        "upwind": (x, 0.4, 5),
        "laplace2d": (RNG.standard_normal((max(n // 2, 1), n)),),
        "smooth3_f32": (x.astype(np.float32), 0.7),
        "gauss_seidel": (x, 0.2),
        "maybe_in_place": (x, 0.2, n % 2),  # 12: separate arrays, 5 and 3: one array
    }


CASES = {  # name -> (kernel, wrt, fires)
    "heat": (W.heat, ("u0", "k"), True),
    "smooth3": (smooth3, ("x", "w"), True),
    "five_point": (five_point, ("x", "c"), True),
    "upwind": (upwind, ("u0", "c"), True),
    "laplace2d": (laplace2d, ("x",), True),
    "smooth3_f32": (smooth3_f32, ("x", "w"), True),
    "gauss_seidel": (gauss_seidel, ("u0", "k"), False),
    "maybe_in_place": (maybe_in_place, ("u0", "k"), True),
}
SIZES = (12, 5, 3, 2)  # 2 and 3: every trip a boundary trip, or no trip at all


def _flat(result) -> list[np.ndarray]:
    value, grads = result
    grads = grads if isinstance(grads, tuple) else (grads,)
    return [np.atleast_1d(np.asarray(value))] + [np.atleast_1d(np.asarray(g)) for g in grads]


def _build(fn, wrt, opt_level, monkeypatch, folder=None, gather=True):
    """value_and_grad of `fn`, compiled now (with or without the gather rewrite; without
    lowering/adjointsums.py and fastgather.py, whose reordered sums and fast-math flags would
    differ between the two forms: their own tests are in test_adjoint_sums.py and
    test_fastgather.py)."""
    import ember.lowering.adjointsums as sums_module
    import ember.lowering.fastgather as fast_module
    import ember.lowering.gather as gather_module

    with monkeypatch.context() as m:
        m.setattr(sums_module, "reassociate_sums", lambda module, spec: 0)
        m.setattr(sums_module, "reassociate_loop_sums", lambda module, spec: 0)
        m.setattr(fast_module, "fast_gathers", lambda module, spec: 0)
        if folder is not None:
            m.setenv("EMBER_DUMP_IR", str(folder))
        if not gather:
            m.setattr(gather_module, "gather_scatter", lambda module, spec: 0)
        vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
        vg.compile()
    return vg


@pytest.mark.parametrize("name", list(CASES))
def test_gather_form_is_bitwise_equal_to_the_scatter_form(name, tmp_path, monkeypatch):
    fn, wrt, fires = CASES[name]
    fast = _build(fn, wrt, 3, monkeypatch, folder=tmp_path)
    scatter = _build(fn, wrt, 3, monkeypatch, gather=False)
    plain = _build(fn, wrt, 1, monkeypatch)
    for n in SIZES:
        args = _inputs(n)[name]
        got = _flat(fast(*copy.deepcopy(args)))
        for g, w in zip(got, _flat(scatter(*copy.deepcopy(args))), strict=True):
            assert g.dtype == w.dtype and np.array_equal(g, w), (name, n)
        for g, w in zip(got, _flat(plain(*copy.deepcopy(args))), strict=True):
            scale = max(float(np.max(np.abs(w))), 1e-300)
            assert np.max(np.abs(g - w)) <= 1e-12 * scale * (1e6 if g.dtype == np.float32 else 1)
    (ir,) = tmp_path.glob(f"{fn.__name__}_reverse.*.optimize.mlir")
    assert (GATHER in ir.read_text()) == fires, name
    if not name.endswith("f32"):  # float32 differences are too coarse for w's derivative
        ember.check_grad(fn, *_inputs(12)[name], wrt=wrt, atol=1e-6)


# --- random stencils -------------------------------------------------------------------------


def _stencil_source(seed: int) -> str:
    """A random stencil: 2-4 offsets in -3..3, linear and nonlinear terms, over swapped arrays
    (a time loop) or reading the input directly, ascending or descending."""
    rng = np.random.default_rng(seed)
    offsets = sorted(int(o) for o in rng.choice(np.arange(-3, 4), rng.integers(2, 5), False))
    lo, hi = max(0, -offsets[0]), max(0, offsets[-1])
    src = "x" if seed % 3 == 0 else "u"
    terms = []
    for o in offsets:
        at = f"{src}[i + {o}]" if o else f"{src}[i]"
        terms.append(str(rng.choice([f"c * {at}", f"math.sin({at})", f"{at} * {src}[i] * c",
                                     f"{at} * {at} * 0.25"])))
    loop = (f"range(n - {hi} - 1, {lo} - 1, -1)" if seed % 2 else f"range({lo}, n - {hi})")
    lines = ["def k(x: f64[:], c: float) -> float:", "    n = x.shape[0]",
             "    u = np.empty(n)", "    un = np.zeros(n)", "    for i in range(n):",
             "        u[i] = x[i]", "    for _ in range(3):", f"        for i in {loop}:",
             f"            un[i] = {' + '.join(terms)}"]
    lines += ["        u, un = un, u"] if src == "u" else ["        for i in range(n):",
                                                           "            u[i] = u[i] + un[i]"]
    lines += ["    s = 0.0", "    for i in range(n):", "        s += u[i] * u[i] * (1.0 + 0.1 * i)",
              "    return s"]
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
def test_random_stencils_bitwise(seed, tmp_path, monkeypatch):
    path = tmp_path / f"s{seed}.py"
    path.write_text("import math\nimport numpy as np\nfrom ember import f64\n\n"
                    + _stencil_source(seed) + "\n")
    spec = importlib.util.spec_from_file_location(f"s{seed}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fast = _build(module.k, ("x", "c"), 3, monkeypatch, folder=tmp_path / "ir")
    scatter = _build(module.k, ("x", "c"), 3, monkeypatch, gather=False)
    (ir,) = (tmp_path / "ir").glob("k_reverse.*.optimize.mlir")
    # a descending loop's indices go through Python's negative-index wrap: not affine
    assert (GATHER in ir.read_text()) == (seed % 2 == 0)
    for n in (11, 6, 3, 1):
        x = np.random.default_rng(seed + n).standard_normal(n) * 0.3
        got, want = _flat(fast(x, 0.4)), _flat(scatter(x, 0.4))
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w), (seed, n, _stencil_source(seed))
