"""Fixed calls of every function in physics_mod, run on the JIT module and on the AOT loader.

Needs only numpy: the loader test copies this file next to a subprocess that cannot import
ember. `run_all(m)` returns {case: value}, where a value is the call's result or, for kernels
that mutate their arguments, (result, argument after the call). `bad_calls(m)` returns
{case: (exception type name, message)} for calls that the argument checks must reject.
"""

import numpy as np

POS = np.array([[0.0, 0.0, 0.0], [1.0, 0.2, 0.0], [0.3, 1.1, -0.4], [-0.7, 0.5, 0.9]])
V = np.array([1.0, -1.0, 0.5, 2.0])
Q = np.array([0.0, 0.3, 0.5, 1.2])
SEED = np.array([1.0, -1.0, 0.5, 2.0])


def _mutated(f, arg, *rest, **kw):
    return f(arg, *rest, **kw), arg


def run_all(m):
    """Every kernel and derivative of physics_mod on fixed inputs, including strided views."""
    big_pos = np.arange(40.0).reshape(8, 5) * 0.1 + np.sin(np.arange(40.0)).reshape(8, 5)
    wide = np.arange(8.0)
    out = {
        "kinetic": m.kinetic(2.0, 3.0, 4),
        "kinetic_keywords": m.kinetic(2.0, n=4, v=3.0),
        "advance": _mutated(m.advance, np.arange(4.0), V, 0.25),
        "energy": m.energy(POS, 0.1),
        "energy_fortran": m.energy(np.asfortranarray(POS), 0.1),
        "energy_view": m.energy(big_pos[::2, 1:4], 0.1),
        "nearest": m.nearest(POS, 1),
        "nearest_view": m.nearest(big_pos[1::2, ::2], 3),
        "center": m.center(POS),
        "center_view": m.center(big_pos[::3, ::-2]),
        "scale32": _mutated(m.scale32, np.array([1.0, 2.0, 3.0], np.float32), np.float32(0.3)),
        "relax": m.relax(0.3, 1.2),
        "spring": _mutated(lambda out, q: m.spring(q, out, 2.0), np.zeros(4), Q),
        "dforce": m.dforce(POS, 0.1),
        "dforce_fortran": m.dforce(np.asfortranarray(POS), 0.1),
        "energy_and_grads": m.energy_and_grads(POS, 0.1),
        "drelax": m.drelax(0.3, 1.2),
        "spring_vjp": m.spring_vjp(Q, np.zeros(4), 2.0, cotangents=(SEED,)),
        "spring_jvp": m.spring_jvp(Q, np.zeros(4), 2.0, tangents=(SEED,)),
    }
    m.advance(wide[::2], V, 0.25)  # through a strided view: odd elements stay untouched
    out["advance_strided"] = wide
    backwards = np.arange(4.0)
    m.advance(backwards[::-1], V, 0.25)
    out["advance_reversed"] = backwards
    out["energy_empty"] = m.energy(np.zeros((0, 3)), 0.1)
    out["center_no_columns"] = m.center(np.zeros((2, 0)))
    out["dforce_empty"] = m.dforce(np.zeros((0, 3)), 0.1)
    out_arg = np.zeros(4)
    m.spring_vjp(Q, out_arg, 2.0, cotangents=(SEED,))
    out["spring_vjp_side_effect"] = out_arg  # derivatives keep the kernel's side effects
    return out


CASES = ("kinetic", "kinetic_keywords", "advance", "energy", "energy_fortran", "energy_view",
         "nearest", "nearest_view", "center", "center_view", "scale32", "relax", "spring",
         "dforce", "dforce_fortran", "energy_and_grads", "drelax", "spring_vjp", "spring_jvp",
         "advance_strided", "spring_vjp_side_effect", "advance_reversed", "energy_empty",
         "center_no_columns", "dforce_empty")


def _error(call):
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return type(err).__name__, str(err)
    return None, "no exception"


BAD_CALLS = {  # case -> the name the message must quote
    "dtype": "'pos'", "int_array": "'x'", "rank": "'pos'", "list": "'pos'",
    "float_for_int": "'n'", "str_for_float": "'m'", "too_few": "'n'", "read_only": "'x'",
    "grad_dtype": "'pos'", "vjp_no_cotangents": "cotangents",
}


def bad_calls(m):
    """Calls that the JIT's argument checks reject; the loader must reject them the same way."""
    read_only = np.zeros(4)
    read_only.setflags(write=False)
    return {
        "dtype": _error(lambda: m.energy(POS.astype(np.float32), 0.1)),
        "int_array": _error(lambda: m.advance(np.arange(4), V, 0.25)),
        "rank": _error(lambda: m.energy(V, 0.1)),
        "list": _error(lambda: m.center([[0.0, 1.0]])),
        "float_for_int": _error(lambda: m.kinetic(2.0, 3.0, 4.5)),
        "str_for_float": _error(lambda: m.kinetic("2", 3.0, 4)),
        "too_few": _error(lambda: m.kinetic(2.0, 3.0)),
        "read_only": _error(lambda: m.advance(read_only, V, 0.25)),
        "grad_dtype": _error(lambda: m.dforce(POS.astype(np.float32), 0.1)),
        "vjp_no_cotangents": _error(lambda: m.spring_vjp(Q, np.zeros(4), 2.0)),
    }
