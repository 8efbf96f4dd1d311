"""Calls of the issue-16 exports of issue16_mod.py, shared by the JIT side of
test_aot_issue16.py and the generated loader in an interpreter with numpy only."""

import numpy as np

X = np.array([0.3, -0.7, 1.1, 0.4, -0.2])


def run_all(m):
    """{case: (result, the arguments after the call)}."""
    x3 = X[:3].copy()
    strided = np.zeros(10)
    calls = {
        "jac_field": ("jac_field", (X.copy(), 0.8), {}),
        "jacr_field": ("jacr_field", (X.copy(), 0.8), {}),
        "jac_pair": ("jac_pair", (X.copy(), 0.8), {}),
        "jacf_pair": ("jacf_pair", (X.copy(), 0.8), {}),
        "jac_energy": ("jac_energy", (X.copy(), 1.3), {}),
        "jac_spread": ("jac_spread", (np.array(X[::2]), 1.5, np.array([0.1, 0.2, 0.3, 0.4])),
                       {}),
        "jac_spread_strided": ("jac_spread", (X.copy()[::2], 1.5), {"out": strided[1::3]}),
        "jacr_spread": ("jacr_spread", (x3.copy(), 1.5, np.array([0.1, 0.2, 0.3, 0.4])), {}),
        "jac_settle": ("jac_settle", (x3.copy(),), {}),
        "jac_settle_kw": ("jac_settle", (x3.copy(),), {"s": 2.0}),
        "jac_field32": ("jac_field32", (X.astype(np.float32), np.float32(0.5)), {}),
        "tan_field": ("tan_field", (X.copy(), 0.8), {"tangents": (np.ones(5), 0.5)}),
        "cot_pair": ("cot_pair", (X.copy(), 0.8), {"cotangents": ((np.arange(5.0), 2.0),)}),
        "cot_settle": ("cot_settle", (x3.copy(), 2.0),
                       {"cotangents": (np.array([1.0, -2.0, 0.5]),)}),
        "grad_relax": ("grad_relax", (x3.copy(),), {}),
        "grad_relax_s": ("grad_relax", (x3.copy(), 0.7), {}),
        "jac_checked": ("jac_checked", (x3.copy(), 0.5), {}),
        "jac_plain": ("jac_plain", (x3.copy(),), {}),
        "jac_inplace": ("jac_inplace", (X.copy(),), {}),
        "jacf_inplace": ("jacf_inplace", (X.copy()[::-1],), {}),
        "jac_both": ("jac_both", (x3.copy(), np.zeros(3)), {}),
        "jac_both_p": ("jac_both", (x3.copy(), np.zeros(3), (0.5, -1.5)), {}),
        "hess_quad": ("hess_quad", (np.outer(x3, X[1:]), 0.6), {}),
        "hvp_guard": ("hvp_guard", (X.copy(), 0.5), {"tangents": (np.ones(5), 2.0)}),
        "hess_smooth": ("hess_smooth", (X.copy(), np.linspace(0.0, 1.0, 7)[::-1]), {}),
        "hvp_energy": ("hvp_energy", (X.copy(), 1.3), {"tangents": (np.ones(5), 0.5)}),
        "hess_energy": ("hess_energy", (X.copy(),), {"k": 1.3}),
        "vfield": ("vfield", (np.outer(np.arange(3.0), X), 0.5), {}),
        "vgrad_energy": ("vgrad_energy", (np.outer(np.arange(1.0, 4.0), X), 1.3), {}),
        "vvalue_energy": ("vvalue_energy", (np.outer(np.arange(1.0, 4.0), X),),
                          {"k": np.arange(5.0)}),
    }
    out = {}
    for case, (name, args, kwargs) in calls.items():
        result = getattr(m, name)(*args, **kwargs)
        out[case] = (result, args, tuple(kwargs.get(k) for k in ("out",)))
    return out


def loader_only(m):
    """Results checked against finite differences of the JIT's grad_relax: the JIT's hessian
    of a kernel with a while loop and a default parameter fails (driver/secondorder.py passes
    the kernel's binding to its trip-counting entry)."""
    x3 = X[:3].copy()
    return {"hess_relax": m.hess_relax(x3), "hess_relax_s": m.hess_relax(x3, s=0.7)}


BAD_CALLS = {
    "dtype": "'x'",
    "missing": "'s'",
    "raises": "s must not be negative",
    "cotangents": "cotangents",
    "extra": "argument",
    "raises_hvp": "s must not be negative",
    "tangent_shape": "the tangent for 'x' has shape (4,), expected (5,)",
}


def bad_calls(m):
    """{case: (exception type name, message)} of calls that must fail."""
    calls = {
        "dtype": lambda: m.jac_field(X.astype(np.float32), 0.8),
        "missing": lambda: m.jacr_field(X),
        "raises": lambda: m.jac_checked(X, -1.0),
        "cotangents": lambda: m.cot_pair(X, 0.8),
        "extra": lambda: m.jac_energy(X, 1.0, 2.0),
        "raises_hvp": lambda: m.hvp_guard(X, -1.0, tangents=(X, 1.0)),
        "tangent_shape": lambda: m.hvp_energy(X, 1.0, tangents=(np.ones(4), 1.0)),
    }
    out = {}
    for case, call in calls.items():
        try:
            call()
            out[case] = (None, "")
        except Exception as err:  # noqa: BLE001 - the test compares the kinds
            out[case] = (type(err).__name__, str(err))
    return out
