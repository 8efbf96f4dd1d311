"""Random kernels for the derivative optimizations (lowering/preopt.py, forwarding.py,
remat.py): work arrays filled by one loop and read by later ones (sometimes changed in
between), triangular loops with packed counters, read-only inputs, tanh/exp of saved values.
The opt_level=3 gradient must equal the unoptimized (opt_level=1) one within 1e-12. A few
seeds run in the suite; `python tests/grad/test_ad_fuzz.py 200` runs 200 (all clean when
this was written)."""

import importlib.util
import random

import numpy as np
import pytest

from ember import grad, kernel


def _source(seed: int) -> str:
    """The kernel `k` of `seed`."""
    r = random.Random(seed)
    L = []
    L.append("def k(x: f64[:], w: f64[:, :], c: float) -> float:")
    L.append("    n = x.shape[0]")
    L.append("    t = np.empty(n)")
    L.append("    t[0] = x[0]")  # the j loops may start at 1: no read of uninitialized memory
    L.append("    u = np.zeros(n)")
    L.append("    s = 0.0")
    L.append("    p = 0")
    outer = r.choice(["for r in range(w.shape[0]):", "for r in range(2):"])
    L.append("    " + outer)
    lo = r.choice(["0", "0", "1"])
    e = r.choice(["x[j] - w[r, j]", "x[j] * c + w[r, j]", "math.tanh(x[j] + w[r, j])", "w[r, j] * w[r, j]", "x[j] * s"])
    L.append(f"        for j in range({lo}, n):")
    L.append(f"            t[j] = {e}")
    if r.random() < 0.5:
        L.append(f"            u[j] = u[j] + t[j] * {r.choice(['x[j]', 'c', 'w[r, j]'])}")
    if r.random() < 0.3:
        L.append("        t[0] = t[0] * 2.0")
    lo2 = lo if r.random() < 0.7 else r.choice(["0", "1"])
    L.append(f"        for i in range({lo2}, n):")
    body = r.choice([
        "            s += t[i] * x[i]",
        "            s += math.exp(t[i] * 0.1) * c",
        "            s += math.tanh(t[i]) * u[i]",
    ])
    L.append(body)
    if r.random() < 0.6:
        L.append("            for j in range(i + 1, n):")
        L.append(r.choice([
            "                s += t[i] * t[j] * w[r, j]",
            "                s += w[r, (p + j) % n] * t[i]",
            "                u[j] += t[i] * x[j]",
        ]))
        L.append("                p += 1")
    if r.random() < 0.3:
        L.append("            t[i] = t[i] * 0.5")
    L.append("    for i in range(n):")
    L.append("        s += u[i] * u[i]")
    L.append("    return s")
    return "\n".join(L)


def _check(seed: int, tmp_path) -> None:
    path = tmp_path / f"k{seed}.py"
    path.write_text("import math\nimport numpy as np\nfrom ember import f64\n\n" + _source(seed) + "\n")
    spec = importlib.util.spec_from_file_location(f"k{seed}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(5), rng.standard_normal((3, 5))
    fast = grad(kernel(module.k), wrt=("x", "w", "c"))(x, w, 0.3)
    plain = grad(kernel(module.k, opt_level=1), wrt=("x", "w", "c"))(x, w, 0.3)
    got = np.concatenate([np.ravel(np.asarray(v)) for v in fast])
    want = np.concatenate([np.ravel(np.asarray(v)) for v in plain])
    assert np.max(np.abs(got - want)) <= 1e-12 * max(float(np.max(np.abs(want))), 1e-300), seed


@pytest.mark.parametrize("seed", range(8))
def test_random_kernels(seed, tmp_path):
    _check(seed, tmp_path)


if __name__ == "__main__":  # more seeds: python tests/grad/test_ad_fuzz.py 200
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        for seed in range(int(sys.argv[1]) if len(sys.argv) > 1 else 200):
            _check(seed, Path(folder))
    print("all clean")
