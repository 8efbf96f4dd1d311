"""`jvp` and `grad` through loop shapes that hit Enzyme 0.0.16's loop-result bug: forward mode
gives every active iteration argument a tangent but reads the results as if one unused after
the loop had none, so every later result came back one slot off (`jvp` returned a wrong value
and tangent, no error) and `scf.while` failed to compile (lowering/rewrites.use_loop_results).
Each shape is checked in forward mode (the value against the kernel, the tangent against
central finite differences and against grad . tangent) and in reverse mode (`check_grad`).
Kernels without a float result are checked through their array output (`outputs=`). Random
loop nests (nested for/while, swapped arrays) check the same agreement at the end; on the code
before the guards, 29 of their 40 seeds failed."""

import copy
import math

import numpy as np
import pytest

from ember import check_grad, f32, f64, grad, jvp, kernel

X3 = np.array([0.3, -0.2, 0.5])


def dead_first(x: float, y: float) -> float:
    # the example: `a` is unused after the loop and carried before `b`
    a = 0.0
    b = 0.0
    for _ in range(3):
        a = a + math.sin(x * y)
        b = b + a * x
    return b


def two_dead(x: float, y: float) -> float:
    a = 0.1
    c = 0.2
    b = 0.0
    for _ in range(4):
        a = a * x + y
        c = c + a * a
        b = b + c * x
    return b


def dead_f32(x: f32, y: f32) -> f32:
    a = f32(0.0)
    b = f32(0.0)
    for _ in range(3):
        a = a + math.sin(x * y)
        b = b + a * x
    return b


def int_and_float_dead(x: float, y: float) -> float:
    k = 0
    a = 0.5
    b = 0.0
    for _ in range(4):
        k = k + 2
        a = a * math.cos(x) + y
        b = b + a * k
    return b


def nested_dead(x: float, y: float) -> float:
    t = 0.0
    s = 0.0
    for _ in range(3):
        u = 0.0
        v = 0.0
        for j in range(2):
            u = u + x * (j + 1)
            v = v + u * y
        t = t + v
        s = s + t * x
    return s


def feeds_next_loop(x: float, y: float) -> float:
    a = 0.0
    b = 1.0
    for _ in range(3):
        a = a + x
        b = b * math.exp(a * y * 0.1)
    c = 0.0
    for _ in range(2):
        c = c + b * x
    return c


def over_array(x: f64[:], y: float) -> float:
    a = 0.0
    s = 0.0
    for i in range(len(x)):
        a = a + x[i] * y
        s = s + math.sin(a) * x[i]
    return s


def if_in_loop(x: float, y: float) -> float:
    a = 0.0
    b = 0.0
    for i in range(4):
        if i % 2 == 0:
            a = a + x
            b = b + a * y
        else:
            a = a * y
            b = b + a * x
    return b


def writes_and_counts(x: f64[:], out: f64[:], y: float) -> float:
    # the unused float leaves the loop only through `out`; the used result is an integer
    a = 0.0
    k = 0
    for i in range(len(x)):
        a = a + x[i] * y
        k = k + 1
        out[i] = math.sin(a)
    return out[0] * k


def for_writes_only(x: f64[:], out: f64[:], y: float) -> None:
    a = 0.0
    k = 0
    for i in range(len(x)):
        a = a + x[i] * y
        k = k + 1
        out[i] = math.sin(a) * k
    out[0] = out[0] + k


def while_dead(x: float, y: float) -> float:
    a = 0.0
    b = 0.0
    i = 0
    while i < 3:
        a = a + math.sin(x * y)
        b = b + a * x
        i += 1
    return b


def while_many(x: float, y: float) -> float:
    a = 1.0
    b = 0.0
    c = 0.5
    n = 0
    while n < 5:
        a = a * 0.9 + x
        c = c * y
        b = b + a * c
        n += 1
    return b


def while_in_for(x: float, y: float) -> float:
    s = 0.0
    t = 0.0
    for i in range(3):
        k = 0
        while k < i + 1:
            t = t + x * y
            s = s + t * math.cos(x)
            k += 1
    return s


def nested_while(x: float, y: float) -> float:
    s = 0.0
    d = 0.0
    i = 0
    while i < 3:
        j = 0
        while j < 2:
            d = d + y
            s = s + d * x
            j += 1
        i += 1
    return s


def while_true_break(x: float, y: float) -> float:
    a = 0.0
    b = 0.0
    n = 0
    while True:
        a = a + x
        b = b + a * y
        n += 1
        if n >= 4:
            break
    return b


def for_break(x: f64[:], y: float) -> float:
    a = 0.0
    b = 0.0
    for i in range(len(x)):
        a = a + x[i] * x[i]
        b = b + a * y
        if b > 100.0:
            break
    return b


def newton_step_used(m: float, e: float) -> float:
    # `step` is overwritten before it is read in the body, and used after the loop
    big_e = m
    step = 1.0
    for _ in range(5):
        step = (big_e - e * math.sin(big_e) - m) / (1.0 - e * math.cos(big_e))
        big_e = big_e - step
    return big_e + step


def kepler_while(m: float, e: float) -> float:
    # the same in a while: `step` is read by the condition only (compiled before the guards;
    # guarding only the unused result broke it)
    big_e = m
    step = 1.0
    while abs(step) > 1e-14:
        step = (big_e - e * math.sin(big_e) - m) / (1.0 - e * math.cos(big_e))
        big_e = big_e - step
    return big_e


def while_step_used(m: float, e: float) -> float:
    big_e = m
    step = 1.0
    while abs(step) > 1e-14:
        step = (big_e - e * math.sin(big_e) - m) / (1.0 - e * math.cos(big_e))
        big_e = big_e - step
    return big_e + step * 1e3


def dead_inner_loop(x: float, y: float) -> float:
    # the inner loop's result is overwritten unread: only dead code reads `v` in the body
    u = x
    v = x
    i = 0
    while i < 2:
        for _ in range(3):
            v = v * 0.6 + math.sin(v * x + y)
        u = u * y + x * 0.5
        v = math.sin(u * y) + x * 0.5
        i += 1
    return u + v


def swap_scalar_unused(x: float, y: float) -> float:
    # the scalar is unused after the loops; activity leaves them only through stores into
    # arrays that are swapped (selected, after rewrites.select_carried_arrays)
    v = 0.0
    a = np.zeros(3)
    b = np.zeros(3)
    i = 0
    while i < 2:
        for j in range(3):
            v = v * 0.6 + math.sin(x * y)
            b[j] = a[j] * y + v
        a, b = b, a
        i += 1
    return a[1] * 0.5


def mixed_inits(x: float, y: float) -> float:
    # reverse-mode trap of rewrites.activate_loop_inits: a constant initial value before an
    # active one
    a = 0.0
    b = x
    for _ in range(3):
        a = a + b * y
        b = b * 1.5 + math.sin(a)
    return a + b


def while_writes_only(x: f64[:], out: f64[:], y: float) -> None:
    # every result of the while is unused; activity leaves it through `out` only
    a = 0.0
    i = 0
    while i < len(x):
        a = a + x[i] * y
        out[i] = math.sin(a)
        i += 1


# (kernel, arguments, wrt, tangent, outputs)
CASES = [
    (dead_first, (0.7, 1.3), "x", 1.0, None),
    (dead_first, (0.7, 1.3), "y", -0.5, None),
    (two_dead, (0.7, 1.3), "x", 1.0, None),
    (dead_f32, (np.float32(0.7), np.float32(1.3)), "x", 1.0, None),
    (int_and_float_dead, (0.7, 1.3), "x", 1.0, None),
    (nested_dead, (0.7, 1.3), "x", 1.0, None),
    (feeds_next_loop, (0.7, 1.3), "x", 1.0, None),
    (over_array, (X3, 0.9), "y", 1.0, None),
    (over_array, (X3, 0.9), "x", np.array([0.2, 0.5, -0.3]), None),
    (if_in_loop, (0.7, 1.3), "x", 1.0, None),
    (writes_and_counts, (X3, np.zeros(3), 0.9), "y", 1.0, None),
    (for_writes_only, (X3, np.zeros(3), 0.9), "y", 1.0, "out"),
    (while_dead, (0.7, 1.3), "x", 1.0, None),
    (while_many, (0.7, 1.3), "x", 1.0, None),
    (while_in_for, (0.7, 1.3), "x", 1.0, None),
    (nested_while, (0.7, 1.3), "x", 1.0, None),
    (while_true_break, (0.7, 1.3), "x", 1.0, None),
    (for_break, (X3, 0.9), "x", np.array([0.2, 0.5, -0.3]), None),
    (while_writes_only, (X3, np.zeros(3), 0.9), "y", 1.0, "out"),
    (mixed_inits, (0.7, 1.3), "x", 1.0, None),
    (newton_step_used, (1.1, 0.3), "m", 1.0, None),
    (kepler_while, (1.1, 0.3), "e", 1.0, None),
    (while_step_used, (1.1, 0.3), "m", 1.0, None),
    (dead_inner_loop, (0.7, 1.3), "x", 1.0, None),
    (swap_scalar_unused, (0.7, 1.3), "x", 1.0, None),
]


def _label(case) -> str:
    return f"{case[0].__name__}-{case[2]}"


def _position(f, name: str) -> int:
    return list(f.__code__.co_varnames[:f.__code__.co_argcount]).index(name)


def _output(k, f, args: tuple, outputs: str | None):
    """The kernel's value at `args` (fresh copies): its result, or the `outputs` array."""
    fresh = copy.deepcopy(args)
    result = k(*fresh)
    return result if outputs is None else fresh[_position(f, outputs)]


def _directional_fd(k, f, args: tuple, wrt: str, tangent, outputs: str | None, eps: float):
    index = _position(f, wrt)

    def at(step: float):
        moved = list(copy.deepcopy(args))
        value = moved[index] + step * np.asarray(tangent, dtype=np.float64)
        moved[index] = value.astype(args[index].dtype) if isinstance(args[index], np.ndarray) \
            else type(args[index])(value)
        return np.asarray(_output(k, f, tuple(moved), outputs), dtype=np.float64)

    return (at(eps) - at(-eps)) / (2 * eps)


# (finite-difference step, tolerance against FD, tolerance against the primal and grad)
TOLERANCES = {np.dtype(np.float64): (1e-6, 1e-5, 1e-10), np.dtype(np.float32): (1e-3, 2e-2, 1e-5)}


def _tolerances(args: tuple) -> tuple[float, float, float]:
    single = any(np.asarray(a).dtype == np.float32 for a in args)
    return TOLERANCES[np.dtype(np.float32 if single else np.float64)]


@pytest.mark.parametrize("case", CASES, ids=[_label(c) for c in CASES])
def test_jvp_matches_finite_differences_and_grad(case):
    f, args, wrt, tangent, outputs = case
    eps, rtol_fd, rtol = _tolerances(args)
    k = kernel(f)
    value, tan = jvp(k, wrt=wrt, outputs=outputs)(*copy.deepcopy(args), tangents=(tangent,))
    if outputs is None:
        np.testing.assert_allclose(value, _output(k, f, args, None), rtol=rtol)
    fd = _directional_fd(k, f, args, wrt, tangent, outputs, eps)
    np.testing.assert_allclose(tan, fd, rtol=rtol_fd, atol=rtol_fd)
    if outputs is None:  # grad . tangent: the same number from reverse mode
        g = grad(k, wrt=wrt)(*copy.deepcopy(args))
        np.testing.assert_allclose(tan, np.sum(np.asarray(g) * tangent), rtol=rtol)


@pytest.mark.parametrize("case", CASES, ids=[_label(c) for c in CASES])
def test_grad_matches_finite_differences(case):
    f, args, wrt, _, outputs = case
    check_grad(f, *copy.deepcopy(args), wrt=wrt, outputs=outputs)


def _canonicalized(f, guarded: bool) -> str:
    """`f`'s module for AD, with or without the guards, after canonicalization."""
    from ember.frontend import build_program
    from ember.ir import emit_module, mlir_context
    from ember.lowering import run_stages
    from ember.lowering.enzyme import GUARDS
    from ember.lowering.stages import Stage

    with mlir_context():
        module = emit_module(build_program(f, ad=True), ad=True)
        for guard in GUARDS if guarded else ():
            guard(module)
        run_stages(module, (Stage("canonicalize", ("canonicalize",)),), f.__name__)
        return str(module)


@pytest.mark.parametrize("f", [dead_first, writes_and_counts, while_writes_only, mixed_inits],
                         ids=lambda f: f.__name__)
def test_guards_vanish_after_canonicalization(f):
    """The guards change what Enzyme sees, nothing else: canonicalization (the first stage after
    Enzyme) removes them entirely, so they cost no run time and no tape (a `cmpf false`
    condition, which canonicalization keeps, made Enzyme cache it in every iteration)."""
    assert _canonicalized(f, guarded=True) == _canonicalized(f, guarded=False)


def _random_loops(seed: int) -> str:
    """A random kernel of two nested loops (`for` or `while`) carrying 2-4 floats, each
    updated from itself or overwritten, maybe writing and swapping two local arrays; a random
    subset of the floats is used after the loops."""
    import random

    r = random.Random(seed)
    m = r.randint(2, 4)

    def head(indent: str, var: str, n: int) -> tuple[list[str], list[str]]:
        if r.random() < 0.5:
            return [f"{indent}for {var} in range({n}):"], []
        return [f"{indent}{var} = 0", f"{indent}while {var} < {n}:"], [f"{indent}    {var} += 1"]

    def update(indent: str) -> str:
        j, src, f = r.randrange(m), f"v{r.randrange(m)}", r.choice(["math.sin", "math.cos", ""])
        if r.random() < 0.5:
            return f"{indent}v{j} = v{j} * 0.6 + {f}({src} * x + y)"
        return f"{indent}v{j} = {f}({src} * y) + x * 0.5"

    arrays = r.random() < 0.5
    lines = [f"def k{seed}(x: float, y: float) -> float:"]
    lines += [f"    v{j} = {r.choice(['0.0', '0.5', 'x'])}" for j in range(m)]
    lines += ["    a = np.zeros(3)", "    b = np.zeros(3)"] if arrays else []
    outer, outer_end = head("    ", "i", 2)
    inner, inner_end = head("        ", "j", 3)
    lines += outer + [update("        ") for _ in range(r.randint(0, 2))] + inner
    lines += [update("            ") for _ in range(r.randint(1, 3))]
    lines += [f"            b[j] = a[j] * y + v{r.randrange(m)}"] if arrays else []
    lines += inner_end + (["        a, b = b, a"] if arrays and r.random() < 0.7 else [])
    lines += [update("        ") for _ in range(r.randint(0, 2))] + outer_end
    used = [f"v{j}" for j in range(m) if r.random() < 0.5] + (["a[1] * 0.5"] if arrays else [])
    return "\n".join(lines + [f"    return {' + '.join(used) or '0.0'}"])


@pytest.mark.parametrize("seed", range(40))
def test_random_loop_nests(seed, tmp_path):
    """jvp (twice), grad and finite differences agree on random loop nests."""
    import importlib.util

    path = tmp_path / f"k{seed}.py"
    path.write_text("import math\nimport numpy as np\n\n" + _random_loops(seed) + "\n")
    spec = importlib.util.spec_from_file_location(f"k{seed}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    k = kernel(getattr(module, f"k{seed}"))
    fd = _directional_fd(k, k.py_func, (0.7, 1.3), "x", 1.0, None, 1e-6)
    first, second = (jvp(k, wrt="x")(0.7, 1.3, tangents=(1.0,)) for _ in range(2))
    assert first == second
    np.testing.assert_allclose(first[0], k(0.7, 1.3), rtol=1e-12)
    np.testing.assert_allclose([first[1], grad(k, wrt="x")(0.7, 1.3)], [fd, fd], rtol=1e-5,
                               atol=1e-5)
