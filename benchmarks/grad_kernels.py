"""The loop kernels of `bench_grad.py`, with idiomatic JAX and PyTorch versions of each.

The Ember kernels are plain annotated Python functions written with loops (nothing decorated):
the benchmark compiles them with `ember.kernel(fn)` and differentiates them with
`ember.value_and_grad`. The JAX versions are what a JAX user would write: vectorized `jnp`
where that is natural, `lax.scan` for the time-stepping loop. The PyTorch versions mirror the
JAX ones (float64 tensors on the CPU, autograd).

A `Case` pairs a kernel with an input generator, the parameters differentiated (`wrt`) and the
sizes used for the full and the --quick run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ember import f64

LOG_2PI = math.log(2.0 * math.pi)

# --- Ember kernels (loops) --------------------------------------------------------------------


def logsumexp(x: f64[:]) -> float:
    """log(sum(exp(x))), stabilized by the maximum: two passes over the data."""
    m = x[0]
    for i in range(1, len(x)):
        m = max(m, x[i])
    s = 0.0
    for i in range(len(x)):
        s += math.exp(x[i] - m)
    return m + math.log(s)


def lotka_volterra_loss(theta: f64[:], u0: f64[:], obs: f64[:, :], dt: float) -> float:
    """Squared error between an RK4 integration of the Lotka-Volterra equations
    (x' = a x - b x y, y' = d x y - c y; theta = [a, b, c, d]) and one observation per step."""
    a = theta[0]
    b = theta[1]
    c = theta[2]
    d = theta[3]
    x = u0[0]
    y = u0[1]
    h = 0.5 * dt
    loss = 0.0
    for k in range(obs.shape[0]):
        k1x = a * x - b * x * y
        k1y = d * x * y - c * y
        x2 = x + h * k1x
        y2 = y + h * k1y
        k2x = a * x2 - b * x2 * y2
        k2y = d * x2 * y2 - c * y2
        x3 = x + h * k2x
        y3 = y + h * k2y
        k3x = a * x3 - b * x3 * y3
        k3y = d * x3 * y3 - c * y3
        x4 = x + dt * k3x
        y4 = y + dt * k3y
        k4x = a * x4 - b * x4 * y4
        k4y = d * x4 * y4 - c * y4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        ex = x - obs[k, 0]
        ey = y - obs[k, 1]
        loss += ex * ex + ey * ey
    return loss


def gmm_loglik(x: f64[:, :], mu: f64[:, :], log_sigma: f64[:, :], log_w: f64[:]) -> float:
    """Log-likelihood of points x (n x d) under a diagonal Gaussian mixture of k components
    (means mu, log standard deviations log_sigma: k x d; unnormalized log weights log_w),
    with local work arrays."""
    n = x.shape[0]
    k = mu.shape[0]
    d = x.shape[1]
    inv = np.empty((k, d))
    norm = np.empty(k)
    lp = np.empty(k)
    for j in range(k):  # 1 / sigma, and each component's log normalizer, computed once
        s = log_w[j]
        for t in range(d):
            inv[j, t] = math.exp(-log_sigma[j, t])
            s -= log_sigma[j, t]
        norm[j] = s
    total = 0.0
    for i in range(n):
        m = -1e300
        for j in range(k):
            s = 0.0
            for t in range(d):
                z = (x[i, t] - mu[j, t]) * inv[j, t]
                s += z * z
            v = norm[j] - 0.5 * s
            lp[j] = v
            m = max(m, v)
        acc = 0.0
        for j in range(k):
            acc += math.exp(lp[j] - m)
        total += m + math.log(acc)
    wm = log_w[0]
    for j in range(1, k):
        wm = max(wm, log_w[j])
    ws = 0.0
    for j in range(k):
        ws += math.exp(log_w[j] - wm)
    return total - n * (wm + math.log(ws) + 0.5 * d * LOG_2PI)


def gmm_loglik_scratch(x: f64[:, :], mu: f64[:, :], log_sigma: f64[:, :], log_w: f64[:],
                       inv: f64[:, :], norm: f64[:], lp: f64[:]) -> float:
    """`gmm_loglik` with its work arrays passed in (inv: k x d, norm and lp: k) instead of
    allocated: the workaround while Ember cannot differentiate a kernel with local arrays.
    Ember gives them shadows, since the kernel writes them."""
    n = x.shape[0]
    k = mu.shape[0]
    d = x.shape[1]
    for j in range(k):  # 1 / sigma, and each component's log normalizer, computed once
        s = log_w[j]
        for t in range(d):
            inv[j, t] = math.exp(-log_sigma[j, t])
            s -= log_sigma[j, t]
        norm[j] = s
    total = 0.0
    for i in range(n):
        m = -1e300
        for j in range(k):
            s = 0.0
            for t in range(d):
                z = (x[i, t] - mu[j, t]) * inv[j, t]
                s += z * z
            v = norm[j] - 0.5 * s
            lp[j] = v
            m = max(m, v)
        acc = 0.0
        for j in range(k):
            acc += math.exp(lp[j] - m)
        total += m + math.log(acc)
    wm = log_w[0]
    for j in range(1, k):
        wm = max(wm, log_w[j])
    ws = 0.0
    for j in range(k):
        ws += math.exp(log_w[j] - wm)
    return total - n * (wm + math.log(ws) + 0.5 * d * LOG_2PI)


def mlp_loss(w1: f64[:, :], b1: f64[:], w2: f64[:, :], b2: f64[:], w3: f64[:, :], b3: f64[:],
             x: f64[:, :], y: f64[:, :]) -> float:
    """Mean squared error of a 2-hidden-layer tanh MLP on samples x -> targets y, one sample
    at a time, with the hidden activations in local vectors h1, h2 that every sample
    overwrites (Enzyme must keep the overwritten values for the reverse pass)."""
    n = x.shape[0]
    d_in = x.shape[1]
    hid = b1.shape[0]
    d_out = b3.shape[0]
    h1 = np.empty(hid)
    h2 = np.empty(hid)
    loss = 0.0
    for i in range(n):
        for j in range(hid):
            s = b1[j]
            for t in range(d_in):
                s += x[i, t] * w1[t, j]
            h1[j] = math.tanh(s)
        for j in range(hid):
            s = b2[j]
            for t in range(hid):
                s += h1[t] * w2[t, j]
            h2[j] = math.tanh(s)
        for j in range(d_out):
            s = b3[j]
            for t in range(hid):
                s += h2[t] * w3[t, j]
            e = s - y[i, j]
            loss += e * e
    return loss / n


def mlp_loss_scratch(w1: f64[:, :], b1: f64[:], w2: f64[:, :], b2: f64[:], w3: f64[:, :],
                     b3: f64[:], x: f64[:, :], y: f64[:, :], h1: f64[:], h2: f64[:]) -> float:
    """`mlp_loss` with the hidden-activation vectors h1, h2 passed in instead of allocated:
    the workaround while Ember cannot differentiate a kernel with local arrays."""
    n = x.shape[0]
    d_in = x.shape[1]
    hid = b1.shape[0]
    d_out = b3.shape[0]
    loss = 0.0
    for i in range(n):
        for j in range(hid):
            s = b1[j]
            for t in range(d_in):
                s += x[i, t] * w1[t, j]
            h1[j] = math.tanh(s)
        for j in range(hid):
            s = b2[j]
            for t in range(hid):
                s += h1[t] * w2[t, j]
            h2[j] = math.tanh(s)
        for j in range(d_out):
            s = b3[j]
            for t in range(hid):
                s += h2[t] * w3[t, j]
            e = s - y[i, j]
            loss += e * e
    return loss / n


# --- JAX versions ------------------------------------------------------------------------------


def jax_versions() -> dict[str, Callable]:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp as lse

    jax.config.update("jax_enable_x64", True)

    def j_logsumexp(x):
        return lse(x)

    def j_lotka_volterra(theta, u0, obs, dt):
        a, b, c, d = theta[0], theta[1], theta[2], theta[3]

        def f(u):
            x, y = u[0], u[1]
            return jnp.stack([a * x - b * x * y, d * x * y - c * y])

        def step(u, o):
            k1 = f(u)
            k2 = f(u + 0.5 * dt * k1)
            k3 = f(u + 0.5 * dt * k2)
            k4 = f(u + dt * k3)
            u = u + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            e = u - o
            return u, jnp.dot(e, e)

        _, errs = jax.lax.scan(step, u0, obs)
        return jnp.sum(errs)

    def j_gmm(x, mu, log_sigma, log_w):
        z = (x[:, None, :] - mu[None, :, :]) * jnp.exp(-log_sigma)[None, :, :]
        lp = log_w - jnp.sum(log_sigma, axis=1) - 0.5 * jnp.sum(z * z, axis=2)
        n, d = x.shape
        return jnp.sum(lse(lp, axis=1)) - n * (lse(log_w) + 0.5 * d * LOG_2PI)

    def j_mlp(w1, b1, w2, b2, w3, b3, x, y):
        h1 = jnp.tanh(x @ w1 + b1)
        h2 = jnp.tanh(h1 @ w2 + b2)
        e = h2 @ w3 + b3 - y
        return jnp.sum(e * e) / x.shape[0]

    return {"logsumexp": j_logsumexp, "lotka_volterra": j_lotka_volterra,
            "gmm": j_gmm, "mlp": j_mlp}


# --- PyTorch versions -------------------------------------------------------------------------


def torch_versions() -> dict[str, Callable]:
    import torch

    def t_logsumexp(x):
        return torch.logsumexp(x, dim=0)

    def t_lotka_volterra(theta, u0, obs, dt):
        # No scan in PyTorch: the idiomatic version is a Python loop over the steps.
        a, b, c, d = theta[0], theta[1], theta[2], theta[3]
        x, y = u0[0], u0[1]
        loss = torch.zeros((), dtype=torch.float64)
        h = 0.5 * dt

        def f(x, y):
            return a * x - b * x * y, d * x * y - c * y

        for k in range(obs.shape[0]):
            k1x, k1y = f(x, y)
            k2x, k2y = f(x + h * k1x, y + h * k1y)
            k3x, k3y = f(x + h * k2x, y + h * k2y)
            k4x, k4y = f(x + dt * k3x, y + dt * k3y)
            x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
            loss = loss + (x - obs[k, 0]) ** 2 + (y - obs[k, 1]) ** 2
        return loss

    def t_gmm(x, mu, log_sigma, log_w):
        z = (x[:, None, :] - mu[None, :, :]) * torch.exp(-log_sigma)[None, :, :]
        lp = log_w - log_sigma.sum(1) - 0.5 * (z * z).sum(2)
        n, d = x.shape
        return torch.logsumexp(lp, 1).sum() - n * (torch.logsumexp(log_w, 0) + 0.5 * d * LOG_2PI)

    def t_mlp(w1, b1, w2, b2, w3, b3, x, y):
        h1 = torch.tanh(x @ w1 + b1)
        h2 = torch.tanh(h1 @ w2 + b2)
        e = h2 @ w3 + b3 - y
        return (e * e).sum() / x.shape[0]

    return {"logsumexp": t_logsumexp, "lotka_volterra": t_lotka_volterra,
            "gmm": t_gmm, "mlp": t_mlp}


# --- Inputs ----------------------------------------------------------------------------------


def make_logsumexp(n: int) -> tuple:
    return (np.random.default_rng(1).standard_normal(n) * 3.0,)


def lotka_volterra_truth(theta: np.ndarray, u0: np.ndarray, steps: int, dt: float) -> np.ndarray:
    """The RK4 trajectory (steps x 2) that `lotka_volterra_loss` integrates, in NumPy."""
    a, b, c, d = theta
    f = lambda u: np.array([a * u[0] - b * u[0] * u[1], d * u[0] * u[1] - c * u[1]])  # noqa: E731
    u = np.array(u0, dtype=float)
    out = np.empty((steps, 2))
    for k in range(steps):
        k1 = f(u)
        k2 = f(u + 0.5 * dt * k1)
        k3 = f(u + 0.5 * dt * k2)
        k4 = f(u + dt * k3)
        u = u + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[k] = u
    return out


def make_lotka_volterra(steps: int) -> tuple:
    rng = np.random.default_rng(2)
    dt = 0.01
    u0 = np.array([1.0, 0.5])
    obs = lotka_volterra_truth(np.array([1.1, 0.4, 0.4, 0.1]), u0, steps, dt)
    obs += 0.05 * rng.standard_normal(obs.shape)
    return np.array([1.0, 0.5, 0.5, 0.2]), u0, obs, dt


def make_gmm(n: int, k: int = 10, d: int = 8) -> tuple:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, d)) * 2.0
    mu = rng.standard_normal((k, d)) * 2.0
    log_sigma = 0.3 * rng.standard_normal((k, d))
    log_w = 0.5 * rng.standard_normal(k)
    return x, mu, log_sigma, log_w


def make_mlp(n: int, d_in: int = 16, hid: int = 32, d_out: int = 4) -> tuple:
    rng = np.random.default_rng(4)
    w1 = rng.standard_normal((d_in, hid)) / math.sqrt(d_in)
    b1 = 0.1 * rng.standard_normal(hid)
    w2 = rng.standard_normal((hid, hid)) / math.sqrt(hid)
    b2 = 0.1 * rng.standard_normal(hid)
    w3 = rng.standard_normal((hid, d_out)) / math.sqrt(hid)
    b3 = 0.1 * rng.standard_normal(d_out)
    x = rng.standard_normal((n, d_in))
    y = np.sin(x[:, :d_out]) + 0.1 * rng.standard_normal((n, d_out))
    return w1, b1, w2, b2, w3, b3, x, y


@dataclass
class Case:
    name: str
    fn: Callable
    make: Callable[[int], tuple]
    wrt: tuple[str, ...]
    big: int
    quick: int
    unit: str
    describe: str
    loop_heavy: bool = False
    """True when the JAX version needs a sequential loop primitive (scan/fori_loop)."""
    static: tuple[int, ...] = field(default=())
    """Positions of plain Python scalars (not tensors for PyTorch)."""
    check_atol: float | None = None
    """`atol` for `ember.check_grad` (finite differences of a large sum lose digits)."""
    workaround: Callable | None = None
    """The same kernel with its local work arrays passed in as parameters, timed instead when
    Ember cannot differentiate `fn` (the failure is reported)."""
    scratch: Callable[[tuple], tuple] | None = None
    """The work arrays `workaround` takes after the arguments of `fn`."""
    jax_aim: float | None = None
    """Aim: Ember's gradient at most this multiple of jax.grad's time (issue 15: 1 for the
    ODE, heat and GMM workloads, 2 for the MLP); None: no aim against JAX."""


CASES = [
    Case("logsumexp", logsumexp, make_logsumexp, ("x",), 1_000_000, 100_000, "elements",
         "reduction: max pass + sum of exp"),
    Case("lotka_volterra", lotka_volterra_loss, make_lotka_volterra, ("theta",), 1_000, 300,
         "RK4 steps", "ODE fit loss: RK4 steps, d/d(4 parameters)", loop_heavy=True,
         static=(3,), jax_aim=1.0),
    Case("gmm", gmm_loglik, make_gmm, ("mu", "log_sigma", "log_w"), 20_000, 2_000,
         "points (k=10, d=8)", "GMM log-likelihood, log-sum-exp over components", check_atol=1e-6,
         workaround=gmm_loglik_scratch,
         scratch=lambda a: (np.empty(a[1].shape), np.empty(len(a[3])), np.empty(len(a[3])))),
    Case("mlp", mlp_loss, make_mlp, ("w1", "b1", "w2", "b2", "w3", "b3"), 2_000, 300,
         "samples (16-32-32-4)", "MLP loss, tanh, loops over samples and units",
         workaround=mlp_loss_scratch, scratch=lambda a: (np.empty(len(a[1])), np.empty(len(a[3])))),
]
