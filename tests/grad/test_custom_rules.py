"""Custom derivative rules (`ember.custom_jvp`) and `ember.stop_gradient`.

A rule that is the true derivative must give derivatives equal to central finite differences
(rel 1e-6) wherever the kernel is called: loops, while, branches, mutation, local arrays,
nested kernel calls, f32, array and out-parameter rules, and the kernel itself under grad. A
deliberately scaled rule must scale grad, jvp and vjp (so the rule, not the body, is used),
and the primal keeps the body's value. stop_gradient: the value, derivative zero in every mode,
free in primal builds, read-only arrays. Wrong rule signatures and nonlinear rules: CompileError
with a caret at the rule.
"""

import math

import numpy as np
import pytest

import ember
from ember import CompileError, check_grad, custom_jvp, f32, f64, grad, jvp, kernel, vjp
from ember import stop_gradient as sg

RTOL = 1e-6


# --- rules ------------------------------------------------------------------------------------
@custom_jvp
@kernel
def softplus(x: float) -> float:
    if x > 30.0:
        return x
    return math.log(1.0 + math.exp(x))


@softplus.defjvp
def softplus_jvp(x: float, dx: float) -> float:
    g = 1.0 / (1.0 + math.exp(-x))
    g = g * dx  # linear: g holds no tangent before this line
    return g


@custom_jvp
@kernel
def scaled_sin(x: float) -> float:
    return math.sin(x)


@scaled_sin.defjvp
def scaled_sin_jvp(x: float, dx: float) -> float:
    return 10.0 * math.cos(x) * dx  # 10x the true derivative: proves the rule is used


@custom_jvp
@kernel
def powi(x: float, n: int, y: float) -> float:
    return x ** n * y


@powi.defjvp
def powi_jvp(x: float, n: int, y: float, dx: float, dy: float) -> float:
    return n * x ** (n - 1) * y * dx + x ** n * dy


@custom_jvp
@kernel
def cube32(x: f32) -> f32:
    return x * x * x


@cube32.defjvp
def cube32_jvp(x: f32, dx: f32) -> f32:
    return f32(3.0) * x * x * dx


@custom_jvp
@kernel
def smooth_abs(x: f64[:]) -> f64[:]:
    return np.sqrt(x * x + 1e-2)


@smooth_abs.defjvp
def smooth_abs_jvp(x: f64[:], dx: f64[:]) -> f64[:]:
    return x / np.sqrt(x * x + 1e-2) * dx


@custom_jvp
@kernel
def norm(x: f64[:]) -> float:
    return math.sqrt(np.sum(x * x))


@norm.defjvp
def norm_jvp(x: f64[:], dx: f64[:]) -> float:
    return np.sum(x * dx) / math.sqrt(np.sum(x * x))


@custom_jvp
@kernel
def tanh_into(x: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = math.tanh(x[i])


@tanh_into.defjvp
def tanh_into_jvp(x: f64[:], out: f64[:], dx: f64[:], dout: f64[:]) -> None:
    for i in range(len(x)):
        t = math.tanh(x[i])
        dout[i] = (1.0 - t * t) * dx[i]


# --- kernels calling them ---------------------------------------------------------------------
@kernel
def loop_sum(x: f64[:], a: float) -> float:
    s = 0.0
    for i in range(len(x)):
        s += softplus(a * x[i]) * x[i]
    return s


@kernel
def while_loop(x: float) -> float:
    s = 0.5
    k = 0
    while s < 8.0 and k < 50:
        s = s + softplus(x * s)
        k += 1
    return s * x


@kernel
def branches(x: float, y: float) -> float:
    if x > y:
        r = softplus(x - y) * y
    else:
        r = powi(y, 3, x)
        r = r + softplus(r)
    return r + scaled_sin(0.0 * x)


@kernel
def mutation(x: f64[:], out: f64[:]) -> float:
    tmp = np.zeros(len(x))
    for i in range(len(x)):
        tmp[i] = softplus(x[i])
        out[i] = tmp[i] * powi(x[i], 2, 0.5)
    tmp *= 2.0
    return np.sum(tmp * x)


@kernel
def inner(x: float, y: float) -> float:
    return softplus(x * y) + powi(x, 2, y)


@kernel
def nested(x: float, y: float) -> float:
    return inner(x, y) * inner(y, 0.5)


@kernel
def arrays(x: f64[:], w: f64[:]) -> float:
    y = smooth_abs(x * w)
    t = np.zeros(len(x))
    tanh_into(y, t)
    return np.sum(t * w) + norm(x) * 0.5


@kernel
def in_f32(x: f32[:]) -> f32:
    s = f32(0.0)
    for i in range(len(x)):
        s += cube32(x[i] * f32(0.5))
    return s


X = np.array([0.3, -1.2, 0.7, 2.0])
W = np.array([1.5, -0.4, 0.9, 0.2])


def softplus_ref(z):
    return np.log1p(np.exp(z))


def test_primal_values_plain_python_and_kernels():
    assert softplus(0.5) == pytest.approx(math.log(1 + math.exp(0.5)), rel=1e-15)
    assert softplus.py_func(0.5) == softplus(0.5)
    assert scaled_sin(0.3) == pytest.approx(math.sin(0.3), rel=1e-15)
    assert powi(1.5, 3, 2.0) == pytest.approx(6.75)
    assert repr(softplus).startswith("<ember.custom_jvp")
    assert loop_sum(X, 0.8) == pytest.approx(float(np.sum(softplus_ref(0.8 * X) * X)), rel=1e-13)
    out = np.zeros(4)
    tanh_into(X, out)
    assert np.allclose(out, np.tanh(X))
    assert arrays(X, W) == pytest.approx(arrays.py_func(X, W), rel=1e-13)


@pytest.mark.parametrize("f, args, wrt", [
    (loop_sum, (X, 0.8), ("x", "a")),
    (while_loop, (0.4,), ("x",)),
    (branches, (1.3, 0.4), ("x", "y")),
    (branches, (0.2, 0.9), ("x", "y")),
    (nested, (0.7, -0.3), ("x", "y")),
    (arrays, (X, W), ("x", "w")),
])
def test_true_rules_match_finite_differences(f, args, wrt):
    check_grad(f, *args, wrt=wrt, rtol=RTOL)
    for name in wrt:  # forward mode agrees with reverse mode
        k = f.py_func.__code__.co_varnames.index(name)
        g = grad(f, wrt=name)(*args)
        tangent = np.ones_like(args[k]) if isinstance(args[k], np.ndarray) else 1.0
        _, t = jvp(f, wrt=name)(*args, tangents=[tangent])
        assert t == pytest.approx(float(np.sum(g)), rel=1e-10)


def test_mutation_and_out_parameters():
    x = X.copy()
    check_grad(mutation, x, np.zeros(4), wrt="x", rtol=RTOL)
    check_grad(mutation, x, np.zeros(4), wrt="x", outputs="out", rtol=RTOL)
    g = vjp(tanh_into, wrt="x", outputs="out")(X, np.zeros(4), cotangents=[np.ones(4)])
    assert np.allclose(g, 1 - np.tanh(X) ** 2, rtol=1e-12)
    check_grad(tanh_into, X, np.zeros(4), wrt="x", outputs="out", rtol=RTOL)


def test_the_kernel_itself_uses_its_rule():
    assert grad(softplus)(0.3) == pytest.approx(1 / (1 + math.exp(-0.3)), rel=1e-14)
    value, g = ember.value_and_grad(softplus)(0.3)
    assert (value, g) == pytest.approx((math.log1p(math.exp(0.3)), 1 / (1 + math.exp(-0.3))))
    assert grad(scaled_sin)(0.3) == pytest.approx(10 * math.cos(0.3), rel=1e-14)
    g = grad(powi, wrt=("x", "y"))(1.5, 3, 2.0)
    assert g == pytest.approx((3 * 1.5 ** 2 * 2.0, 1.5 ** 3), rel=1e-14)
    assert np.allclose(grad(norm)(X), X / np.linalg.norm(X), rtol=1e-13)
    d = X / np.sqrt(X * X + 1e-2)  # an array result: jvp and vjp
    value, t = jvp(smooth_abs)(X, tangents=[W])
    assert np.allclose(value, np.sqrt(X * X + 1e-2), rtol=1e-15)
    assert np.allclose(t, d * W, rtol=1e-13)
    assert np.allclose(vjp(smooth_abs)(X, cotangents=[W]), d * W, rtol=1e-13)


def test_scaled_rule_scales_grad_jvp_and_vjp():
    @kernel
    def uses(x: float, y: float) -> float:
        return scaled_sin(x * y) + y

    x, y = 0.4, 1.3
    true = math.cos(x * y)
    assert uses(x, y) == pytest.approx(math.sin(x * y) + y, rel=1e-15)  # value: the body's
    assert grad(uses)(x, y) == pytest.approx(10 * true * y, rel=1e-13)
    value, t = jvp(uses, wrt="y")(x, y, tangents=[1.0])
    assert value == pytest.approx(math.sin(x * y) + y, rel=1e-15)
    assert t == pytest.approx(10 * true * x + 1, rel=1e-13)
    assert vjp(uses, wrt="x")(x, y, cotangents=[2.0]) == pytest.approx(20 * true * y, rel=1e-13)


def test_f32_rules():
    x = np.array([0.5, -1.25, 2.0], dtype=np.float32)
    g = grad(in_f32)(x)
    assert g.dtype == np.float32
    assert np.allclose(g, 3 * (0.5 * x) ** 2 * 0.5, rtol=1e-6)
    check_grad(in_f32, x)
    assert grad(cube32)(np.float32(1.5)) == pytest.approx(6.75, rel=1e-6)


# --- scaled array and out-parameter rules: the rule, not the body, gives the derivative ------
@custom_jvp
@kernel
def scaled_exp(x: f64[:]) -> f64[:]:
    return np.exp(x)


@scaled_exp.defjvp
def scaled_exp_jvp(x: f64[:], dx: f64[:]) -> f64[:]:
    return 10.0 * np.exp(x) * dx


@custom_jvp
@kernel
def scaled_square_into(x: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = out[i] + x[i] * x[i]  # reads out: its own derivative flows through the body


@scaled_square_into.defjvp
def scaled_square_into_jvp(x: f64[:], out: f64[:], dx: f64[:], dout: f64[:]) -> None:
    k = 0
    while k < len(x):
        dout[k] = 20.0 * x[k] * dx[k]
        k += 1


@kernel
def uses_arrays(x: f64[:], o: f64[:]) -> float:
    y = scaled_exp(x)
    scaled_square_into(x, o)
    return np.sum(y) + np.sum(o * o)


def test_scaled_array_rules_scale_grad_jvp_and_vjp():
    o = np.array([0.5, -0.25, 1.0, 0.0])
    assert uses_arrays(X, o.copy()) == pytest.approx(
        float(np.sum(np.exp(X)) + np.sum((o + X * X) ** 2)), rel=1e-13)
    sq = o + X * X
    want = 10 * np.exp(X) + 2 * sq * 10 * 2 * X  # both rules scaled 10x
    assert np.allclose(grad(uses_arrays)(X, o.copy()), want, rtol=1e-12)
    _, t = jvp(uses_arrays)(X, o.copy(), tangents=[W])
    assert t == pytest.approx(float(np.sum(want * W)), rel=1e-12)
    # the incoming out-array's derivative flows through the kernel's body (not scaled)
    assert np.allclose(grad(uses_arrays, wrt="o")(X, o.copy()), 2 * sq, rtol=1e-12)
    g = vjp(scaled_exp)(X, cotangents=[W])
    assert np.allclose(g, 10 * np.exp(X) * W, rtol=1e-13)
    g = vjp(scaled_square_into, wrt="x", outputs="out")(X, o.copy(), cotangents=[W])
    assert np.allclose(g, 20 * X * W, rtol=1e-13)


# --- stop_gradient ---------------------------------------------------------------------------
@kernel
def stopped(x: float, a: f64[:], n: int) -> float:
    s = sg(x) * x + ember.stop_gradient(float(n)) * x  # d/dx = x + n
    b = sg(a)  # read-only
    c = b[1:]
    t = 0.0
    for i in range(len(c)):
        t += c[i] * a[i + 1]  # d/da[i] = a[i] for i >= 1
    return s + t + np.sum(sg(a * x)) + sg(n)


@kernel
def stopped32(x: f32) -> f32:
    return sg(x * x) * x


def test_stop_gradient_values_and_derivatives():
    a = np.array([0.5, -1.0, 2.0])
    x = 1.5
    value = x * x + 2 * x + float(np.sum(a[1:] * a[1:])) + float(np.sum(a * x)) + 2
    assert stopped(x, a, 2) == pytest.approx(value, rel=1e-14)
    assert stopped.py_func(x, a, 2) == pytest.approx(value, rel=1e-14)
    assert grad(stopped)(x, a, 2) == pytest.approx(x + 2, rel=1e-14)
    assert np.allclose(grad(stopped, wrt="a")(x, a, 2), [0.0, -1.0, 2.0], rtol=1e-14)
    _, t = jvp(stopped, wrt=("x", "a"))(x, a, 2, tangents=[1.0, np.ones(3)])
    assert t == pytest.approx(x + 2 + 1.0, rel=1e-14)
    assert vjp(stopped)(x, a, 2, cotangents=[3.0]) == pytest.approx(3 * (x + 2), rel=1e-14)
    assert grad(stopped32)(np.float32(2.0)) == pytest.approx(4.0, rel=1e-6)
    assert "bitcast" not in kernel(lambda_free_sq).inspect("mlir")  # primal: no code at all


def lambda_free_sq(x: float) -> float:
    return sg(x) * x


def writes_stopped(a: f64[:]) -> float:
    b = sg(a)  # LINE-STOPPED
    c = b[1:]
    c[0] = 2.0
    return np.sum(b)


def passes_stopped(a: f64[:]) -> float:
    scale_into(a, 2.0, out=sg(a))  # LINE-PASSED
    return np.sum(a)


def test_writing_a_stopped_array_is_refused():
    with pytest.raises(CompileError) as info:
        kernel(passes_stopped)(np.ones(3))
    _assert_at(info.value, "LINE-PASSED", "'scale_into' writes its parameter 'out'")
    with pytest.raises(CompileError) as info:
        kernel(writes_stopped)(np.ones(3))
    text = str(info.value)
    assert "holds stop_gradient(...) of an array, which is read-only" in text
    assert "b = sg(a)  # LINE-STOPPED" in text and "^" in text
    with pytest.raises(CompileError, match="read-only"):
        grad(writes_stopped)(np.ones(3))


# --- refusals of rules ------------------------------------------------------------------------
@custom_jvp
@kernel
def two_args(x: float, y: float) -> float:
    return x * y


@two_args.defjvp
def two_args_jvp(x: float, y: float, dx: float) -> float:  # LINE-BAD-SIGNATURE
    return y * dx


@custom_jvp
@kernel
def quad(x: float) -> float:
    return x * x


@quad.defjvp
def quad_jvp(x: float, dx: float) -> float:
    t = dx * 2.0
    return x * t + t * dx  # LINE-NONLINEAR


@custom_jvp
@kernel
def branchy(x: f64[:]) -> float:
    return np.sum(np.abs(x))


@branchy.defjvp
def branchy_jvp(x: f64[:], dx: f64[:]) -> float:
    return np.sum(np.abs(dx))  # LINE-ABS


@kernel
def calls_bad(x: float) -> float:
    return two_args(x, 2.0) + quad(x)


def _line(tag: str) -> int:
    with open(__file__) as f:
        for number, text in enumerate(f, 1):
            if f"# {tag}" in text and "_line(" not in text:
                return number
    raise AssertionError(tag)


def _assert_at(err: CompileError, tag: str, *phrases: str) -> None:
    text = str(err)
    assert f"test_custom_rules.py\", line {_line(tag)}" in text, text
    assert "^" in text, text
    for phrase in phrases:
        assert phrase in text, text


def test_wrong_signature_and_nonlinear_rules_are_refused():
    assert calls_bad(1.5) == pytest.approx(3.0 + 2.25)  # primal builds ignore rules
    with pytest.raises(CompileError) as info:
        grad(calls_bad)(1.5)
    _assert_at(info.value, "LINE-BAD-SIGNATURE", "two_args_jvp",
               "(x: float, y: float, dx: float, dy: float) -> float")
    with pytest.raises(CompileError) as info:
        jvp(quad)(1.5, tangents=[1.0])
    _assert_at(info.value, "LINE-NONLINEAR", "linear in its tangents", "'mul'")
    with pytest.raises(CompileError) as info:
        vjp(branchy)(X, cotangents=[1.0])
    _assert_at(info.value, "LINE-ABS", "linear in its tangents")
    assert branchy(X) == pytest.approx(float(np.sum(np.abs(X))))


# --- the linearity check on its own (frontend only, nothing compiled) --------------------------
def vec(x: f64[:]) -> float:
    return np.sum(x)


@kernel
def sum_squares(v: f64[:]) -> float:
    return np.sum(v * v)


@kernel
def scale_into(v: f64[:], c: float, out: f64[:]) -> None:
    out[:] = c * v


def lin_where(x: f64[:], dx: f64[:]) -> float:
    return np.sum(np.where(x > 0, dx, 0.5 * dx)) / max(x[0], 1.0)


def lin_loop(x: f64[:], dx: f64[:]) -> float:
    s = 0.0
    t = np.zeros(len(x))
    scale_into(dx, 2.0, t)
    for i in range(len(x)):
        s += x[i] * t[i]
    return -s if x[0] > 0 else np.mean(dx) + s


def nl_square(x: f64[:], dx: f64[:]) -> float:
    return np.sum(dx * dx)  # NL


def nl_max(x: f64[:], dx: f64[:]) -> float:
    return np.max(dx)  # NL


def nl_branch(x: f64[:], dx: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        if dx[i] > 0:  # NL
            s += dx[i]
    return s


def nl_divide(x: f64[:], dx: f64[:]) -> float:
    return x[0] / dx[0]  # NL


def nl_sin(x: f64[:], dx: f64[:]) -> float:
    return math.sin(dx[0]) * x[0]  # NL


def nl_loop_carried(x: f64[:], dx: f64[:]) -> float:
    s = 1.0
    for i in range(len(x)):
        s = s * dx[i]  # NL (s holds a tangent from the second iteration on)
    return s


def nl_helper(x: f64[:], dx: f64[:]) -> float:
    t = np.zeros(len(x))
    scale_into(dx, 2.0, t)
    return sum_squares(t)


@pytest.mark.parametrize("rule, reason", [
    (lin_where, None), (lin_loop, None), (nl_square, "'mul'"), (nl_max, "'max'"),
    (nl_branch, "condition depends on a tangent"), (nl_divide, "'truediv'"),
    (nl_sin, "a function of a tangent"), (nl_loop_carried, "'mul'"), (nl_helper, "'mul'"),
])
def test_linearity_check(rule, reason):
    from ember.frontend import build_program

    custom_jvp(kernel(vec)).defjvp(rule)
    try:
        if reason is None:
            build_program(vec, ad=True)
            return
        with pytest.raises(CompileError) as info:
            build_program(vec, ad=True)
        text = str(info.value)
        assert "linear in its tangents" in text and reason in text and "^" in text, text
        assert "# NL" in text or rule is nl_helper, text  # the caret is on the rule's line
    finally:
        delattr(vec, "__ember_jvp__")


@kernel
def windows(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += norm(x[i:])  # LINE-WINDOWS
    return s


def test_array_rule_on_slices_that_change_size():
    h = 1e-6
    fd = (windows(X + h * W) - windows(X - h * W)) / (2 * h)
    _, t = jvp(windows)(X, tangents=[W])
    assert t == pytest.approx(fd, rel=1e-7)
    with pytest.raises(CompileError) as info:  # reverse mode: the stopped copies of x[i:]
        grad(windows)(X)
    _assert_at(info.value, "LINE-WINDOWS", "allocated inside a loop")


def test_rules_are_part_of_the_cache_key():
    from ember.frontend.deps import dependencies

    text = "\n".join(dependencies(nested.py_func))
    assert "def softplus_jvp" in text and "def powi_jvp" in text
