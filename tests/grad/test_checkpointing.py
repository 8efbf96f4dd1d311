"""`grad(..., checkpoint="binomial", snapshots=k)`: the time loops of a kernel are checkpointed
(lowering/checkpointing.py). Gradients equal the unbounded build's (≤ 1e-12) and central
differences, on scalar and array time loops, nested loops, loops with local arrays, a while
loop (replay form) and through value_and_grad and vjp; the tape of a 1e6-step loop stays small;
bad options are refused."""

import math
import os
import sys

import numpy as np
import pytest

import ember
from ember import f64, grad, jvp, kernel, value_and_grad, vjp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from bench_checkpoint import array_loop, scalar_loop  # noqa: E402  (the measured loops)

CP = {"checkpoint": "binomial", "snapshots": 8}


def heat(u: f64[:], c: f64[:], steps: int, dt: float) -> float:
    # a time loop around space loops and an array expression with a local array
    m = u.shape[0]
    for _ in range(steps):
        for i in range(m):
            u[i] += dt * c[i] * (u[(i + 1) % m] - 2.0 * u[i] + u[(i - 1) % m])
        v = np.sin(u) * c
        for i in range(m):
            u[i] += dt * v[i]
    return np.sum(u)


def scratch(u: f64[:], w: f64[:, :], steps: int, dt: float) -> float:
    # local arrays (np.zeros, np.ones, 2-D) written and read in each step
    m = u.shape[0]
    v = np.zeros(m)
    z = np.ones((2, m))
    for _ in range(steps):
        for i in range(m):
            v[i] = 0.5 * v[i] + math.sin(u[i]) * w[0, i]
            z[1, i] = z[0, i] * v[i]
            u[i] += dt * (v[i] + z[1, i] * w[1, i])
    return np.sum(u)


def copied(u: f64[:], steps: int, dt: float) -> float:
    # a local array filled from another array before the loop: refused (Enzyme 0.0.16 fails)
    m = u.shape[0]
    v = u.copy()
    for _ in range(steps):
        for i in range(m):
            v[i] = v[i] * 0.5 + math.sin(u[i])
            u[i] += dt * v[i]
    return np.sum(u)


def decay(x: float, tol: float) -> float:
    # a while loop: Ember's reverse mode replays it as a counted loop
    y = x
    k = 0
    while y > tol and k < 100000:
        y = y - 0.001 * y * math.cos(y)
        k += 1
    return y * x


def rollout(u: f64[:], out: f64[:], n: int, dt: float) -> None:
    m = u.shape[0]
    for t in range(n):
        for i in range(m):
            u[i] = u[i] + dt * math.cos(u[(i + 1) % m])
        out[t % out.shape[0]] += u[0] * u[m - 1]


def mixed(x: f64[:], a: float) -> float:
    # a loop over x's length (space, never checkpointed), a constant-count time loop and a
    # time loop in a called kernel
    s = np.sum(x * x)
    for _ in range(3):
        s = s * 0.5 + a * math.cos(s)
    return s + spin(s, 40)


@ember.kernel
def spin(s: float, n: int) -> float:
    for _ in range(n):
        s = s + 0.1 * math.sin(s)
    return s


def _fd(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    out = np.empty_like(x)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[k] += eps
        down.flat[k] -= eps
        out.flat[k] = (f(up) - f(down)) / (2 * eps)
    return out


def test_scalar_loop_matches_unbounded_and_finite_differences():
    plain, bounded = grad(scalar_loop), grad(scalar_loop, **CP)
    for n in (0, 1, 7, 300):
        assert abs(bounded(0.3, n) - plain(0.3, n)) <= 1e-12
    g = bounded(0.3, 25)
    fd = (scalar_loop(0.3 + 1e-6, 25) - scalar_loop(0.3 - 1e-6, 25)) / 2e-6
    assert g == pytest.approx(fd, rel=1e-6)
    # value_and_grad: the value too
    value, g2 = value_and_grad(scalar_loop, **CP)(0.3, 25)
    assert value == pytest.approx(scalar_loop(0.3, 25), rel=1e-14) and g2 == g


def test_array_time_loop():
    u0 = np.linspace(0.1, 0.7, 5)
    plain = grad(array_loop, wrt=("u", "dt"))
    bounded = grad(array_loop, wrt=("u", "dt"), checkpoint="binomial", snapshots=4)
    for n in (3, 1000):
        (gu, gdt), (pu, pdt) = bounded(u0.copy(), n, 0.01), plain(u0.copy(), n, 0.01)
        assert np.max(np.abs(gu - pu)) <= 1e-12 and abs(gdt - pdt) <= 1e-12 * max(1, abs(pdt))
    u = u0.copy()
    gu, _ = bounded(u, 200, 0.01)
    assert np.allclose(u, _run(array_loop, u0, 200, 0.01)[1])  # the kernel's side effect
    fd = _fd(lambda x: _run(array_loop, x, 200, 0.01)[0], u0)
    assert np.allclose(gu, fd, rtol=1e-6, atol=1e-8)


def _run(f, u0, *rest):
    u = u0.copy()
    return f(u, *rest), u


def test_nested_loops_with_local_array():
    u0, c = np.linspace(0.0, 1.0, 6), np.linspace(0.5, 1.5, 6)
    plain = grad(heat, wrt=("u", "dt"))
    bounded = grad(heat, wrt=("u", "dt"), **CP)
    (gu, gdt), (pu, pdt) = bounded(u0.copy(), c, 50, 0.05), plain(u0.copy(), c, 50, 0.05)
    assert np.max(np.abs(gu - pu)) <= 1e-12 and abs(gdt - pdt) <= 1e-12 * abs(pdt)
    fd = _fd(lambda x: heat(x.copy(), c, 50, 0.05), u0)
    assert np.allclose(gu, fd, rtol=1e-6, atol=1e-8)


def test_constant_count_loop_and_called_kernel():
    x = np.linspace(-1.0, 1.0, 7)
    (gx, ga), (px, pa) = grad(mixed, wrt=("x", "a"), **CP)(x, 0.3), grad(mixed, wrt=(0, 1))(x, 0.3)
    assert np.max(np.abs(gx - px)) <= 1e-12 and abs(ga - pa) <= 1e-12
    assert np.allclose(gx, _fd(lambda v: mixed(v, 0.3), x), rtol=1e-6, atol=1e-8)


def test_local_arrays_read_and_written_by_the_time_loop():
    u0, w = np.linspace(0.1, 0.9, 5), np.linspace(-1.0, 1.0, 10).reshape(2, 5)
    plain = grad(scratch, wrt=("u", "w"))
    bounded = grad(scratch, wrt=("u", "w"), **CP)
    (gu, gw), (pu, pw) = bounded(u0.copy(), w, 60, 0.05), plain(u0.copy(), w, 60, 0.05)
    assert np.max(np.abs(gu - pu)) <= 1e-12 and np.max(np.abs(gw - pw)) <= 1e-12
    assert np.allclose(gu, _fd(lambda x: scratch(x.copy(), w, 60, 0.05), u0), rtol=1e-6,
                       atol=1e-8)
    assert np.allclose(gw, _fd(lambda x: scratch(u0.copy(), x, 60, 0.05), w), rtol=1e-6,
                       atol=1e-8)


def test_while_loop_replay():
    plain, bounded = grad(decay), grad(decay, **CP)
    for x in (0.5, 2.0):
        assert abs(bounded(x, 0.2) - plain(x, 0.2)) <= 1e-12
    fd = (decay(2.0 + 1e-6, 0.2) - decay(2.0 - 1e-6, 0.2)) / 2e-6
    assert bounded(2.0, 0.2) == pytest.approx(fd, rel=1e-5)


def test_vjp_with_array_output():
    u0 = np.linspace(0.2, 0.9, 3)
    ct = np.array([0.5, -1.0, 2.0, 0.25])
    args = (np.zeros(4), 41, 0.02)
    plain = vjp(rollout, wrt="u", outputs="out")
    bounded = vjp(rollout, wrt="u", outputs="out", **CP)
    g = bounded(u0.copy(), args[0].copy(), *args[1:], cotangents=[ct])
    p = plain(u0.copy(), args[0].copy(), *args[1:], cotangents=[ct])
    assert np.max(np.abs(np.asarray(g) - np.asarray(p))) <= 1e-12

    def loss(x):
        out = args[0].copy()
        rollout(x.copy(), out, *args[1:])
        return float(ct @ out)
    assert np.allclose(g, _fd(loss, u0), rtol=1e-6, atol=1e-8)


_CHILD = """
import math, sys
import numpy as np
import ember
from ember import f64

def f(s0: float, n: int) -> float:
    s = s0
    for _ in range(n):
        s = math.sin(s) + 0.5 * s
    return s

def h(u: f64[:], n: int, dt: float) -> float:
    m = u.shape[0]
    for t in range(n):
        i = t % m
        u[i] += dt * math.sin(u[(i + 1) % m])
    return np.sum(u)

cp = {"checkpoint": "binomial", "snapshots": 64} if sys.argv[1] == "cp" else {}
calls = [(ember.grad(f, **cp), lambda n: (0.3, n)),
         (ember.grad(h, **cp), lambda n: (np.linspace(0.1, 0.4, 4), n, 1e-5))]
def peak():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM"))
for g, args in calls:
    g(*args(10))
    a = args(1_000_000)
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = peak()
    g(*a)
    print(peak() - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_tape_of_a_million_steps_is_bounded(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "tape_child.py"
    script.write_text(_CHILD)

    def growth(mode: str) -> list[int]:  # peak RSS growth during each call, in KiB
        run = subprocess.run([sys.executable, str(script), mode], capture_output=True,
                             text=True, check=True, env=os.environ)
        return [int(w) for w in run.stdout.split()]
    plain, bounded = growth("plain"), growth("cp")
    assert min(plain) > 5 * 1024  # 8 bytes or more per step unbounded
    assert max(bounded) < 1024


def test_refused_loop_is_named():
    with pytest.raises(ember.CompileError) as info:
        grad(copied, checkpoint="binomial", snapshots=4)(np.ones(3), 5, 0.1)
    text = str(info.value)
    assert "cannot checkpoint this loop: Enzyme 0.0.16 fails on it" in text
    assert "for _ in range(steps):" in text and "without checkpoint=" in text


def test_bad_options():
    with pytest.raises(ValueError, match="unknown checkpoint='periodic'; choose one of "
                                         "'binomial'"):
        grad(scalar_loop, checkpoint="periodic")
    with pytest.raises(ValueError, match="snapshots must be at least 2, got 1"):
        grad(scalar_loop, checkpoint="binomial", snapshots=1)
    with pytest.raises(TypeError, match="snapshots must be an int, not float"):
        grad(scalar_loop, checkpoint="binomial", snapshots=8.0)
    with pytest.raises(ValueError, match=r"snapshots= needs checkpoint="):
        value_and_grad(scalar_loop, snapshots=8)
    with pytest.raises(TypeError, match="jvp\\(\\) does not take checkpoint=: forward mode "
                                        "keeps no tape"):
        jvp(scalar_loop, checkpoint="binomial")
    with pytest.raises(ValueError, match="snapshots must be at least 2"):
        ember.grad(wrt="s0", checkpoint="binomial", snapshots=0)  # decorator form


def test_option_is_part_of_the_request_key():
    a = grad(scalar_loop).request.key()
    b = grad(scalar_loop, checkpoint="binomial", snapshots=8).request.key()
    c = grad(scalar_loop, checkpoint="binomial", snapshots=16).request.key()
    assert len({a, b, c}) == 3


_AOT_MODULE = '''
import math
import ember


@ember.kernel
def walk(s0: float, n: int) -> float:
    s = s0
    for _ in range(n):
        s = s + 0.01 * math.sin(s)
    return s


dwalk = ember.grad(walk, checkpoint="binomial", snapshots=4)
'''


def test_aot_build_exports_the_checkpointed_derivative(tmp_path):
    import importlib.util

    source = tmp_path / "cp_mod.py"
    source.write_text(_AOT_MODULE)
    ember.build(str(source), str(tmp_path / "out"))
    spec = importlib.util.spec_from_file_location("cp_mod_loader", tmp_path / "out" / "cp_mod.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    fn = ember.kernel(_walk)
    assert abs(loader.dwalk(0.3, 500) - grad(fn)(0.3, 500)) <= 1e-12


def _walk(s0: float, n: int) -> float:
    s = s0
    for _ in range(n):
        s = s + 0.01 * math.sin(s)
    return s


def test_default_snapshots_per_loop(monkeypatch):
    """Without snapshots=, a loop over scalars keeps 2048 slots (two forward sweeps up to
    2.1e6 steps) and a loop that uses arrays 64 (each slot copies them): the same gradients."""
    from ember.lowering import checkpointing

    seen = []
    mark = checkpointing.mark_loops
    monkeypatch.setattr(checkpointing, "mark_loops",
                        lambda *a: seen.append(mark(*a)) or seen[-1])
    fresh = {"cache": False}  # (mark_loops runs: no disk-cache hit)
    assert grad(kernel(scalar_loop, **fresh), checkpoint="binomial")(0.3, 300) == pytest.approx(
        grad(scalar_loop)(0.3, 300), abs=1e-12)
    u0 = np.linspace(0.1, 0.7, 5)
    got = grad(kernel(array_loop, **fresh), wrt="u", checkpoint="binomial")(u0.copy(), 300, 0.01)
    assert np.max(np.abs(got - grad(array_loop, wrt="u")(u0.copy(), 300, 0.01))) <= 1e-12
    assert [[count for _, count in marked] for marked in seen] == [
        [checkpointing.SCALAR_SNAPSHOTS], [checkpointing.ARRAY_SNAPSHOTS]]
