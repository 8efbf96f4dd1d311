"""The five standard gradient workloads of issue 15, written as plain loops, with JAX and
PyTorch versions of each (used by `bench_grad.py` beside the kernels of `grad_kernels.py`).

* `sum_sin_sq`: sum(sin(x_i^2)) over 1e6 elements (a map-reduce);
* `van_der_pol`: 1000 explicit Euler steps of the Van der Pol oscillator, scalar state,
  d/d(mu, x0, v0) of a running loss;
* `heat`: the 1-D heat equation with a cubic reaction term, 64 points x 1000 steps, two arrays
  swapped each step, d/d(u0, k);
* `gmm`: the ADBench Gaussian mixture objective (d=10, K=25, n=10,000): full-covariance
  components through the packed lower-triangular inverse Cholesky factor `icf` (log-diagonal
  first, then the strict lower triangle column by column) and the Wishart prior;
* `mlp`: a 64-128-10 tanh MLP, batch 256, squared error, textbook loops over samples and units.

The JAX versions are what a JAX user writes (vectorized `jnp`, `lax.scan` for time steps, the
ADBench JAX formulation for GMM); the PyTorch versions mirror them (a Python loop where PyTorch
has no scan).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ember import f64

LOG_2PI = math.log(2.0 * math.pi)

# --- Ember kernels (loops) --------------------------------------------------------------------


def sum_sin_sq(x: f64[:]) -> float:
    """sum(sin(x_i^2))."""
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sin(x[i] * x[i])
    return s


def van_der_pol(mu: float, x0: float, v0: float, dt: float, steps: int) -> float:
    """Explicit Euler steps of x'' = mu (1 - x^2) x' - x; the loss sums x^2 over the steps."""
    x = x0
    v = v0
    loss = 0.0
    for _ in range(steps):
        a = mu * (1.0 - x * x) * v - x
        x = x + dt * v
        v = v + dt * a
        loss += x * x
    return loss * dt


def heat(u0: f64[:], k: float, dt: float, steps: int) -> float:
    """u_t = k u_xx - u^3 on a rod with fixed ends (explicit steps on two swapped arrays);
    returns the energy sum(u^2) at the end."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
    un[0] = u0[0]
    un[n - 1] = u0[n - 1]
    for _ in range(steps):
        for i in range(1, n - 1):
            ui = u[i]
            un[i] = ui + dt * (k * (u[i - 1] - 2.0 * ui + u[i + 1]) - ui * ui * ui)
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def gmm(alphas: f64[:], means: f64[:, :], icf: f64[:, :], x: f64[:, :], gamma: float,  # noqa: C901
        m: int) -> float:
    """The ADBench GMM objective: log-likelihood of x (n x d) under K full-covariance
    Gaussians (log weights `alphas`, `means` K x d, inverse Cholesky factors packed in `icf`
    K x d(d+1)/2) plus the log Wishart prior (gamma, m)."""
    n = x.shape[0]
    d = x.shape[1]
    kk = alphas.shape[0]
    qdiag = np.empty((kk, d))
    sum_qs = np.empty(kk)
    xc = np.empty(d)
    lxc = np.empty(d)
    main = np.empty(kk)
    for ik in range(kk):
        s = 0.0
        for j in range(d):
            s += icf[ik, j]
            qdiag[ik, j] = math.exp(icf[ik, j])
        sum_qs[ik] = s
    slse = 0.0
    for ix in range(n):
        for ik in range(kk):
            for j in range(d):
                xc[j] = x[ix, j] - means[ik, j]
                lxc[j] = qdiag[ik, j] * xc[j]
            p = d
            for i in range(d):
                for j in range(i + 1, d):
                    lxc[j] += icf[ik, p] * xc[i]
                    p += 1
            sq = 0.0
            for j in range(d):
                sq += lxc[j] * lxc[j]
            main[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sq
        mx = main[0]
        for ik in range(1, kk):
            mx = max(mx, main[ik])
        se = 0.0
        for ik in range(kk):
            se += math.exp(main[ik] - mx)
        slse += mx + math.log(se)
    am = alphas[0]
    for ik in range(1, kk):
        am = max(am, alphas[ik])
    ase = 0.0
    for ik in range(kk):
        ase += math.exp(alphas[ik] - am)
    lse_alphas = am + math.log(ase)
    # log Wishart prior
    nn = d + m + 1
    lg = 0.25 * d * (d - 1) * math.log(math.pi)
    for j in range(1, d + 1):
        lg += math.lgamma(0.5 * nn + 0.5 * (1 - j))
    c = nn * d * (math.log(gamma) - 0.5 * math.log(2.0)) - lg
    prior = 0.0
    for ik in range(kk):
        fro = 0.0
        for j in range(d):
            fro += qdiag[ik, j] * qdiag[ik, j]
        for j in range(d, icf.shape[1]):
            fro += icf[ik, j] * icf[ik, j]
        prior += 0.5 * gamma * gamma * fro - m * sum_qs[ik]
    prior -= kk * c
    return -0.5 * n * d * LOG_2PI + slse - n * lse_alphas + prior


def mlp(w1: f64[:, :], b1: f64[:], w2: f64[:, :], b2: f64[:], x: f64[:, :],
        y: f64[:, :]) -> float:
    """Mean squared error of a one-hidden-layer tanh MLP (weights stored out x in), one sample
    at a time, the hidden layer in a local vector every sample overwrites."""
    n = x.shape[0]
    d_in = x.shape[1]
    hid = b1.shape[0]
    d_out = b2.shape[0]
    h = np.empty(hid)
    loss = 0.0
    for s in range(n):
        for j in range(hid):
            a = b1[j]
            for i in range(d_in):
                a += w1[j, i] * x[s, i]
            h[j] = math.tanh(a)
        for o in range(d_out):
            a = b2[o]
            for j in range(hid):
                a += w2[o, j] * h[j]
            e = a - y[s, o]
            loss += e * e
    return loss / n


# --- JAX versions ------------------------------------------------------------------------------


def jax_versions() -> dict[str, Callable]:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import gammaln
    from jax.scipy.special import logsumexp as lse

    jax.config.update("jax_enable_x64", True)

    def j_sum_sin_sq(x):
        return jnp.sum(jnp.sin(x * x))

    def j_van_der_pol(mu, x0, v0, dt, steps):
        def step(state, _):
            x, v = state
            a = mu * (1.0 - x * x) * v - x
            x = x + dt * v
            return (x, v + dt * a), x * x

        _, xs = jax.lax.scan(step, (x0, v0), None, length=steps)
        return jnp.sum(xs) * dt

    def j_heat(u0, k, dt, steps):
        def step(u, _):
            inner = u[1:-1]
            lap = u[:-2] - 2.0 * inner + u[2:]
            un = u.at[1:-1].set(inner + dt * (k * lap - inner ** 3))
            return un, None

        u, _ = jax.lax.scan(step, u0, None, length=steps)
        return jnp.sum(u * u)

    def j_gmm(alphas, means, icf, x, gamma, m):
        n, d = x.shape
        kk = alphas.shape[0]
        qdiags = jnp.exp(icf[:, :d])
        sum_qs = jnp.sum(icf[:, :d], axis=1)
        rows, cols = _strict_lower(d)
        ls = jnp.zeros((kk, d, d)).at[:, rows, cols].set(icf[:, d:])
        xc = x[:, None, :] - means[None, :, :]
        lxc = qdiags[None] * xc + jnp.einsum("kij,nkj->nki", ls, xc)
        main = alphas[None] + sum_qs[None] - 0.5 * jnp.sum(lxc * lxc, axis=2)
        nn = d + m + 1
        lg = 0.25 * d * (d - 1) * math.log(math.pi) + sum(
            gammaln(0.5 * nn + 0.5 * (1 - j)) for j in range(1, d + 1))
        c = nn * d * (jnp.log(gamma) - 0.5 * math.log(2.0)) - lg
        fro = jnp.sum(qdiags ** 2, axis=1) + jnp.sum(icf[:, d:] ** 2, axis=1)
        prior = jnp.sum(0.5 * gamma * gamma * fro - m * sum_qs) - kk * c
        return (-0.5 * n * d * LOG_2PI + jnp.sum(lse(main, axis=1)) - n * lse(alphas)
                + prior)

    def j_mlp(w1, b1, w2, b2, x, y):
        h = jnp.tanh(x @ w1.T + b1)
        e = h @ w2.T + b2 - y
        return jnp.sum(e * e) / x.shape[0]

    return {"sum_sin_sq": j_sum_sin_sq, "van_der_pol": j_van_der_pol, "heat": j_heat,
            "gmm_adbench": j_gmm, "mlp_64_128_10": j_mlp}


def _strict_lower(d: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each packed entry of the strict lower triangle, column by column
    (ADBench's `icf` layout, the order of the Ember kernel's `p`)."""
    pairs = [(j, i) for i in range(d) for j in range(i + 1, d)]
    return np.array([r for r, _ in pairs]), np.array([c for _, c in pairs])


# --- PyTorch versions -------------------------------------------------------------------------


def torch_versions() -> dict[str, Callable]:
    import torch

    def t_sum_sin_sq(x):
        return torch.sin(x * x).sum()

    def t_van_der_pol(mu, x0, v0, dt, steps):
        x, v = x0, v0
        loss = torch.zeros((), dtype=torch.float64)
        for _ in range(steps):
            a = mu * (1.0 - x * x) * v - x
            x = x + dt * v
            v = v + dt * a
            loss = loss + x * x
        return loss * dt

    def t_heat(u0, k, dt, steps):
        u = u0
        for _ in range(steps):
            inner = u[1:-1]
            lap = u[:-2] - 2.0 * inner + u[2:]
            u = torch.cat([u[:1], inner + dt * (k * lap - inner ** 3), u[-1:]])
        return (u * u).sum()

    def t_gmm(alphas, means, icf, x, gamma, m):
        n, d = x.shape
        kk = alphas.shape[0]
        qdiags = torch.exp(icf[:, :d])
        sum_qs = icf[:, :d].sum(1)
        rows, cols = _strict_lower(d)
        ls = torch.zeros((kk, d, d), dtype=torch.float64)
        ls = ls.index_put((torch.arange(kk)[:, None], torch.as_tensor(rows)[None],
                           torch.as_tensor(cols)[None]), icf[:, d:])
        xc = x[:, None, :] - means[None, :, :]
        lxc = qdiags[None] * xc + torch.einsum("kij,nkj->nki", ls, xc)
        main = alphas[None] + sum_qs[None] - 0.5 * (lxc * lxc).sum(2)
        nn = d + m + 1
        lg = 0.25 * d * (d - 1) * math.log(math.pi) + sum(
            math.lgamma(0.5 * nn + 0.5 * (1 - j)) for j in range(1, d + 1))
        c = nn * d * (math.log(gamma) - 0.5 * math.log(2.0)) - lg
        fro = (qdiags ** 2).sum(1) + (icf[:, d:] ** 2).sum(1)
        prior = (0.5 * gamma * gamma * fro - m * sum_qs).sum() - kk * c
        return (-0.5 * n * d * LOG_2PI + torch.logsumexp(main, 1).sum()
                - n * torch.logsumexp(alphas, 0) + prior)

    def t_mlp(w1, b1, w2, b2, x, y):
        h = torch.tanh(x @ w1.T + b1)
        e = h @ w2.T + b2 - y
        return (e * e).sum() / x.shape[0]

    return {"sum_sin_sq": t_sum_sin_sq, "van_der_pol": t_van_der_pol, "heat": t_heat,
            "gmm_adbench": t_gmm, "mlp_64_128_10": t_mlp}


# --- Inputs ----------------------------------------------------------------------------------


def make_sum_sin_sq(n: int) -> tuple:
    return (np.random.default_rng(11).standard_normal(n),)


def make_van_der_pol(steps: int) -> tuple:
    return 1.5, 1.0, 0.0, 0.01, steps


def make_heat(steps: int, n: int = 64) -> tuple:
    xs = np.linspace(0.0, 1.0, n)
    u0 = np.sin(math.pi * xs) + 0.1 * np.random.default_rng(12).standard_normal(n)
    u0[0] = u0[-1] = 0.0
    return u0, 0.2, 0.5, steps  # k dt = 0.1: a stable explicit step (grid spacing 1)


def make_gmm(n: int, d: int = 10, k: int = 25) -> tuple:
    rng = np.random.default_rng(13)
    alphas = rng.standard_normal(k)
    means = rng.random((k, d))
    icf = 0.5 * rng.standard_normal((k, d * (d + 1) // 2))
    x = rng.random((n, d))
    return alphas, means, icf, x, 1.0, 0


def make_mlp(n: int, d_in: int = 64, hid: int = 128, d_out: int = 10) -> tuple:
    rng = np.random.default_rng(14)
    w1 = rng.standard_normal((hid, d_in)) / math.sqrt(d_in)
    b1 = 0.1 * rng.standard_normal(hid)
    w2 = rng.standard_normal((d_out, hid)) / math.sqrt(hid)
    b2 = 0.1 * rng.standard_normal(d_out)
    x = rng.standard_normal((n, d_in))
    y = np.sin(x[:, :d_out]) + 0.1 * rng.standard_normal((n, d_out))
    return w1, b1, w2, b2, x, y


def cases() -> list:
    """The five workloads as `grad_kernels.Case`s (sizes of issue 15; --quick: smaller)."""
    from grad_kernels import Case

    return [
        Case("sum_sin_sq", sum_sin_sq, make_sum_sin_sq, ("x",), 1_000_000, 100_000, "elements",
             "sum(sin(x_i^2)): a map-reduce", check_atol=1e-6),
        Case("van_der_pol", van_der_pol, make_van_der_pol, ("mu", "x0", "v0"), 1_000, 300,
             "Euler steps", "Van der Pol ODE, scalar state, d/d(mu, x0, v0)", loop_heavy=True,
             static=(3, 4), jax_aim=1.0),
        Case("heat", heat, make_heat, ("u0", "k"), 1_000, 300, "steps x 64 points",
             "1-D heat equation + cubic term, two swapped arrays, d/d(u0, k)",
             loop_heavy=True, static=(2, 3), jax_aim=1.0),
        Case("gmm_adbench", gmm, make_gmm, ("alphas", "means", "icf"), 10_000, 1_000,
             "points (d=10, K=25)", "ADBench GMM objective with Wishart prior",
             static=(4, 5), check_atol=1e-5, jax_aim=1.0),
        Case("mlp_64_128_10", mlp, make_mlp, ("w1", "b1", "w2", "b2"), 256, 64,
             "samples (64-128-10)", "tanh MLP, squared error, textbook loops", jax_aim=2.0),
    ]
