"""`raise` and `assert` inside kernels, differential against CPython: the same exception type
and message (or the same result), through every result kind, loops, nested kernel calls,
prange, derivatives; the user's file and line in the traceback; memory freed on raise.

PYTEST_DONT_REWRITE: the reference functions' `assert` statements must keep CPython's own
messages (pytest would rewrite them)."""

import math
import os
import resource
import traceback

import numpy as np
import pytest

import ember
from ember import f32, f64, grad, i64, jvp, kernel, prange, u8, value_and_grad


def outcome(fn, *args):
    """('ok', result) or ('raised', type, message) of calling fn(*args)."""
    try:
        result = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the exception is the point
        return ("raised", type(exc), str(exc))
    if isinstance(result, np.ndarray):
        return ("ok", result.tolist())
    return ("ok", result)


def assert_same_outcome(fn, *args):
    compiled = kernel(fn)
    copy = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    expected = outcome(fn, *copy)
    got = outcome(compiled, *args)
    assert got == expected, (fn.__name__, args)
    return got


# --- messages ---------------------------------------------------------------------------------
def literal(x: float) -> float:
    if x < 0.0:
        raise ValueError("x must be non-negative")
    return math.sqrt(x)


def no_message(n: int) -> int:
    if n == 1:
        raise RuntimeError
    if n == 2:
        raise RuntimeError()
    return n


def braces(n: int) -> int:
    if n > 0:
        raise KeyError("{not a field} {{}}")
    return n


def floats(x: float, y: float) -> float:
    if x != y:
        raise ValueError(f"x={x} y={y} sum={x + y} ratio={x / y}")
    return x


def ints(n: int, m: i64, b: bool) -> int:
    if n > m:
        raise IndexError(f"n={n} m={m} b={b} neg={-n} big={n * 7}")
    return n


def specs(x: float, n: int) -> float:
    if x > 0.0:
        raise ValueError(f"[{x:.2f}|{x:>10.3e}|{x:<8.1f}|{x:^9.2f}|{x:+.1f}|{x:08.3f}|{x:g}|"
                         f"{x:.3}|{x:%}|{x:.1%}|{x:E}|{x:G}]")
    if n > 0:
        raise ValueError(f"[{n:5d}|{n:<5}|{n:^7}|{n:x}|{n:#x}|{n:X}|{n:o}|{n:#b}|{n:+d}|{n:05d}|"
                         f"{n:*>8}|{n:.2f}|{n:e}|{n: d}]")
    return x


def single_value(x: float) -> float:
    if x > 1.0:
        raise OverflowError(x)
    return x


@pytest.mark.parametrize("x", [4.0, -1.0])
def test_literal_message(x):
    assert_same_outcome(literal, x)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_no_message(n):
    assert_same_outcome(no_message, n)


def test_braces_in_literal():
    assert assert_same_outcome(braces, 3)[0] == "raised"


@pytest.mark.parametrize("x, y", [(0.1, 0.2), (1e-7, 3.0), (1e20, -2.5), (-0.0, 1e16),
                                  (123456.789, 1e15), (float("inf"), 2.0), (2.0, float("nan")),
                                  (1.0 / 3.0, 7.0), (5e-324, 1.0)])
def test_float_repr_matches_cpython(x, y):
    assert assert_same_outcome(floats, x, y)[0] == "raised"


@pytest.mark.parametrize("args", [(5, 3, True), (-(2**60), -(2**63), False), (7, 7, True)])
def test_int_and_bool_formatting(args):
    assert_same_outcome(ints, *args)


@pytest.mark.parametrize("x, n", [(3.14159, 0), (1234.5678, 0), (0.000123, 0), (2.5e21, 0),
                                  (-1.0, 255), (-1.0, 3), (-1.0, 123456)])
def test_format_specs(x, n):
    assert assert_same_outcome(specs, x, n)[0] == "raised"


def test_scalar_message():
    assert assert_same_outcome(single_value, 2.5) == ("raised", OverflowError, "2.5")


def f32_message(x: f32) -> f32:
    if x > f32(0.0):
        raise ValueError(f"x={x} {x!s}")
    return x


def f32_value(x: f32) -> f32:
    if x > f32(0.0):
        raise ValueError(x)
    return x


def test_f32_formatted_like_numpy():
    """format() of a float32 formats the double (x=0.10000000149011612), str() and a
    message of one value print the float32's own digits (0.1), as NumPy does."""
    assert assert_same_outcome(f32_message, np.float32(0.1)) == (
        "raised", ValueError, "x=0.10000000149011612 0.1")
    assert assert_same_outcome(f32_value, np.float32(0.1)) == ("raised", ValueError, "0.1")


# --- assert -----------------------------------------------------------------------------------
def asserts(x: f64[:], k: int) -> float:
    assert k >= 0
    assert k < x.shape[0], f"k={k} is past the end ({x.shape[0]})"
    s = 0.0
    for i in range(k):
        assert x[i] == x[i], "nan in input"
        s += x[i]
    return s


@pytest.mark.parametrize("k", [2, -1, 9])
def test_assert(k):
    assert_same_outcome(asserts, np.array([1.0, 2.0, 3.0]), k)


def test_assert_in_loop():
    x = np.array([1.0, float("nan"), 3.0])
    assert assert_same_outcome(asserts, x, 2) == ("raised", AssertionError, "nan in input")


# --- control flow -----------------------------------------------------------------------------
def first_negative(x: f64[:]) -> int:
    i = 0
    while True:
        if i >= x.shape[0]:
            raise LookupError(f"no negative value among {x.shape[0]}")
        if x[i] < 0.0:
            return i
        i += 1


def nested_loops(a: f64[:, :], limit: float) -> float:
    total = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            total += a[i, j]
            if total > limit:
                raise ArithmeticError(f"running total {total} passed {limit} at ({i}, {j})")
    return total


def raise_in_else(x: float) -> float:
    if x > 0.0:
        return 1.0
    else:
        raise ValueError("non-positive")


def raise_after_write(x: f64[:], k: int) -> None:
    for i in range(x.shape[0]):
        x[i] = 2.0 * x[i]
        if i == k:
            raise RuntimeError(f"stopped at {i}")


@pytest.mark.parametrize("x", [[1.0, -2.0], [1.0, 2.0]])
def test_while_true_raise_or_return(x):
    assert_same_outcome(first_negative, np.array(x))


@pytest.mark.parametrize("limit", [100.0, 4.0])
def test_nested_loops(limit):
    assert_same_outcome(nested_loops, np.arange(12.0).reshape(3, 4), limit)


@pytest.mark.parametrize("x", [2.0, -2.0])
def test_raise_in_else_branch(x):
    assert_same_outcome(raise_in_else, x)


def test_writes_before_the_raise_are_kept():
    x, y = np.arange(5.0), np.arange(5.0)
    with pytest.raises(RuntimeError, match="stopped at 2"):
        raise_after_write(y, 2)
    with pytest.raises(RuntimeError, match="stopped at 2"):
        kernel(raise_after_write)(x, 2)
    assert x.tolist() == y.tolist()


# --- nested calls and result kinds ------------------------------------------------------------
@kernel
def checked_div(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"cannot divide {a} by zero")
    return a / b


@kernel
def sum_of_ratios(x: f64[:], y: f64[:]) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += checked_div(x[i], y[i])
    return s


@kernel
def ratios(x: f64[:], y: f64[:]) -> f64[:]:
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = checked_div(x[i], y[i])
    return out


@kernel
def ratio_pair(a: float, b: float) -> tuple[float, int]:
    return checked_div(a, b), 1


@kernel
def ratio_flag(a: float, b: float) -> bool:
    return checked_div(a, b) > 1.0


@kernel
def ratio_byte(a: float, b: float) -> u8:
    return u8(checked_div(a, b))


@kernel
def store_ratio(out: f64[:], a: float, b: float) -> None:
    out[0] = checked_div(a, b)


RESULT_KINDS = [
    (sum_of_ratios, (np.ones(3), np.array([1.0, 0.0, 2.0]))),
    (ratios, (np.ones(3), np.array([1.0, 2.0, 0.0]))),
    (ratio_pair, (1.0, 0.0)), (ratio_flag, (1.0, 0.0)), (ratio_byte, (1.0, 0.0)),
    (store_ratio, (np.zeros(1), 1.0, 0.0)),
]


@pytest.mark.parametrize("k", range(len(RESULT_KINDS)))
def test_callee_raises_through_every_result_kind(k):
    fn, args = RESULT_KINDS[k]
    with pytest.raises(ZeroDivisionError, match="cannot divide 1.0 by zero"):
        fn(*args)


def test_call_path_recovers_after_a_raise():
    x, y = np.ones(3), np.array([1.0, 2.0, 4.0])
    for _ in range(3):
        with pytest.raises(ZeroDivisionError):
            sum_of_ratios(x, np.zeros(3))
        assert sum_of_ratios(x, y) == 1.75
        assert ratios(x, y).tolist() == [1.0, 0.5, 0.25]
        assert ratio_pair(3.0, 2.0) == (1.5, 1)


def test_traceback_shows_the_kernel_line():
    try:
        sum_of_ratios(np.ones(2), np.zeros(2))
    except ZeroDivisionError as exc:
        text = "".join(traceback.format_exception(exc))
    line = checked_div.py_func.__code__.co_firstlineno + 3
    assert f'File "{os.path.abspath(__file__)}", line {line}, in checked_div' in text
    assert 'raise ZeroDivisionError(f"cannot divide {a} by zero")' in text


def test_keyword_and_slow_paths_raise_too():
    with pytest.raises(ZeroDivisionError):
        checked_div(a=1.0, b=0.0)
    with pytest.raises(ZeroDivisionError):
        checked_div(np.float64(1.0), 0)


# --- prange -----------------------------------------------------------------------------------
@kernel
def parallel_check(x: f64[:]) -> float:
    s = 0.0
    for i in prange(x.shape[0]):
        if x[i] < 0.0:
            raise ValueError(f"negative value {x[i]} at {i}")
        s += x[i]
    return s


def test_prange_lowest_iteration_wins():
    x = np.ones(200_000)
    for k, v in ((150_000, -3.0), (60_000, -2.0), (199_999, -1.0)):
        x[k] = v
    for _ in range(5):
        with pytest.raises(ValueError, match="^negative value -2.0 at 60000$"):
            parallel_check(x)
    x[x < 0] = 1.0
    assert parallel_check(x) == 200_000.0


# --- memory -----------------------------------------------------------------------------------
@kernel
def allocate_then_raise(n: int, fail: bool) -> f64[:]:
    a = np.ones(n)
    b = np.zeros(n)
    for i in range(n):
        b[i] = a[i] * 2.0
    if fail:
        raise RuntimeError("failed after allocating")
    return b


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_raising_frees_what_the_kernel_allocated():
    n = 1_000_000  # 16 MB per call
    assert allocate_then_raise(n, False).sum() == 2.0 * n
    for _ in range(3):
        with pytest.raises(RuntimeError):
            allocate_then_raise(n, True)
    before = _rss_mib()
    for _ in range(60):  # ~1 GB if nothing were freed
        with pytest.raises(RuntimeError):
            allocate_then_raise(n, True)
    assert _rss_mib() - before < 200


# --- derivatives ------------------------------------------------------------------------------
@kernel
def guarded_energy(x: f64[:], k: float) -> float:
    if k <= 0.0:
        raise ValueError(f"k must be positive, got {k}")
    e = 0.0
    for i in range(x.shape[0]):
        assert x[i] < 10.0, f"x[{i}] = {x[i]} is too large"
        e += k * math.sin(x[i]) ** 2
    return e


def test_derivatives_raise_like_the_kernel():
    x = np.array([0.3, -1.2, 0.7])
    g = grad(guarded_energy, wrt=("x", "k"))(x, 2.0)
    fd = (guarded_energy(x, 2.0 + 1e-6) - guarded_energy(x, 2.0 - 1e-6)) / 2e-6
    assert g[1] == pytest.approx(fd, rel=1e-6)
    assert np.allclose(g[0], 2.0 * 2.0 * np.sin(x) * np.cos(x))
    for d in (grad(guarded_energy, wrt="x"), value_and_grad(guarded_energy, wrt="k")):
        with pytest.raises(ValueError, match="^k must be positive, got -1.0$"):
            d(x, -1.0)
        with pytest.raises(AssertionError, match=r"^x\[1\] = 11.0 is too large$"):
            d(np.array([0.0, 11.0]), 1.0)
    with pytest.raises(ValueError, match="k must be positive"):
        jvp(guarded_energy, wrt="k")(x, 0.0, tangents=(1.0,))
    assert jvp(guarded_energy, wrt="k")(x, 2.0, tangents=(1.0,))[1] == pytest.approx(fd, rel=1e-6)


# --- compile-time refusals and cost -----------------------------------------------------------
def test_gpu_kernels_refuse_raise():
    def gpu_raise(x: f64[:]) -> None:
        for i in prange(x.shape[0]):
            if x[i] < 0.0:
                raise ValueError("negative")
            x[i] = 1.0

    with pytest.raises(ember.CompileError, match="GPU kernels cannot raise"):
        kernel(gpu_raise, target="gpu").inspect("mlir")


def test_kernels_that_cannot_raise_have_no_frame():
    def plain(x: f64[:]) -> float:
        return x[0] * 2.0

    assert "_setjmp" not in kernel(plain).inspect("llvm")
    assert "_setjmp" in guarded_energy.inspect("llvm")


# --- formatting, broadly ----------------------------------------------------------------------
@kernel
def show_float(x: float) -> None:
    raise ValueError(f"{x}")


@kernel
def show_int(n: int) -> None:
    raise ValueError(f"{n}|{n:#o}|{n:>12}")


def _message(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


def test_float_repr_on_many_values():
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.standard_normal(300) * 10.0 ** rng.integers(-30, 30, 300),
                             rng.integers(-10**6, 10**6, 100) / 8.0,
                             [1e16, 9999999999999998.0, 1e-4, 9.999999999999999e-05, 0.1 + 0.2,
                              2.0**-1074, 1.7976931348623157e308, -1e-5, 1e15 + 0.5]])
    for x in values:
        assert _message(show_float, float(x)) == str(float(x))


def test_int_formats_on_many_values():
    rng = np.random.default_rng(12)
    for n in [0, 1, -1, 2**63 - 1, -(2**63), *rng.integers(-(2**62), 2**62, 200).tolist()]:
        assert _message(show_int, n) == f"{n}|{n:#o}|{n:>12}"
