"""Opt-in run-time checks, differential against CPython/NumPy: `boundscheck=True` (and
$EMBER_BOUNDSCHECK) raises IndexError for an index outside an array, `error_model="python"`
raises ZeroDivisionError for division and modulo by zero (and int ** negative); by default
neither checks (NumPy semantics: integer division by zero gives 0)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ember import f64, grad, i64, kernel, prange

BOUNDS = "index {i} is out of bounds for axis {axis} with size {n} (array '{name}')"


def read(x: f64[:], k: int) -> float:
    return x[k]


def write(x: f64[:], k: int, v: float) -> None:
    x[k] = v


def read2(a: f64[:, :], i: int, j: int) -> float:
    return a[i, j]


def loop_sum(x: f64[:], n: int) -> float:
    s = 0.0
    for i in range(n):
        s += x[i]
    return s


@kernel
def inner(x: f64[:], k: int) -> float:
    return x[k] * 2.0


@kernel(boundscheck=True)
def outer(x: f64[:], k: int) -> float:
    return inner(x, k) + 1.0


@kernel(boundscheck=True)
def parallel_read(x: f64[:], idx: i64[:]) -> float:
    s = 0.0
    for i in prange(idx.shape[0]):
        s += x[idx[i]]
    return s


def _numpy_message(fn, *args):
    with pytest.raises(IndexError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize("k", [0, 4, -1, -5])
def test_in_bounds_reads_match_numpy(k):
    x = np.arange(5.0)
    assert kernel(read, boundscheck=True)(x, k) == read(x, k)


@pytest.mark.parametrize("k", [5, -6, 2**40])
def test_out_of_bounds_read_raises(k):
    x = np.arange(5.0)
    expected = _numpy_message(read, x, k)
    message = BOUNDS.format(i=k, axis=0, n=5, name="x")
    assert message.startswith(expected)
    with pytest.raises(IndexError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        kernel(read, boundscheck=True)(x, k)


def test_out_of_bounds_write_raises_and_writes_nothing():
    x = np.arange(3.0)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        kernel(write, boundscheck=True)(x, 3, 9.0)
    assert x.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("i, j, axis, bad", [(1, 4, 1, 4), (3, 0, 0, 3), (-4, 1, 0, -4)])
def test_each_axis_is_named(i, j, axis, bad):
    a = np.zeros((3, 4))
    n = a.shape[axis]
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds for axis {axis} "
                       f"with size {n} .array 'a'.$"):
        kernel(read2, boundscheck=True)(a, i, j)
    assert _numpy_message(read2, a, i, j).startswith(f"index {bad} is out of bounds")


def test_loop_over_the_end():
    x = np.arange(4.0)
    compiled = kernel(loop_sum, boundscheck=True)
    assert compiled(x, 4) == 6.0
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with size 4"):
        compiled(x, 5)


def test_callee_is_checked_under_the_callers_option():
    with pytest.raises(IndexError, match="index 7 is out of bounds"):
        outer(np.arange(3.0), 7)
    assert outer(np.arange(3.0), 2) == 5.0


def test_prange():
    x = np.arange(10.0)
    assert parallel_read(x, np.arange(10)) == 45.0
    with pytest.raises(IndexError, match="index 10 is out of bounds"):
        parallel_read(x, np.array([1, 10, 2, 11] * 1000))


def test_gradient_with_boundscheck():
    x = np.array([0.5, 1.5, 2.5])
    g = grad(kernel(loop_sum, boundscheck=True), wrt="x")
    assert g(x, 3).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        g(x, 4)


def test_off_by_default_and_part_of_the_cache_key():
    x = np.arange(4.0)
    assert kernel(read)(x, 1) == 1.0
    assert "__ember_raise" not in kernel(read).inspect("llvm")
    with pytest.raises(IndexError):
        kernel(read, boundscheck=True)(x, 9)


def test_environment_variable_turns_it_on(tmp_path):
    script = tmp_path / "bounds_env.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        from ember import kernel, f64
        @kernel
        def read(x: f64[:], k: int) -> float:
            return x[k]
        @kernel(boundscheck=False)
        def unchecked(x: f64[:], k: int) -> float:
            return x[k]
        try:
            read(np.arange(3.0), 3)
        except IndexError as e:
            print("raised:", e)
        print("unchecked has no check:", "__ember_raise" not in unchecked.inspect("llvm"))
    """))
    env = {**os.environ, "EMBER_BOUNDSCHECK": "1"}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert "raised: index 3 is out of bounds for axis 0 with size 3 (array 'x')" in out.stdout, \
        out.stderr
    assert "unchecked has no check: True" in out.stdout


# --- error_model ------------------------------------------------------------------------------
def int_div(a: int, b: int) -> int:
    return a // b


def int_mod(a: int, b: int) -> int:
    return a % b


def true_div(a: int, b: int) -> float:
    return a / b


def float_div(x: float, y: float) -> float:
    return x / y


def float_floordiv(x: float, y: float) -> float:
    return x // y


def float_mod(x: float, y: float) -> float:
    return x % y


def int_pow(a: int, b: int) -> int:
    return a ** b


def in_loop(x: i64[:], d: int) -> int:
    s = 0
    for i in range(x.shape[0]):
        s += x[i] // (d - i)
    return s


DIVISIONS = [(int_div, 7, 0), (int_mod, 7, 0), (true_div, 7, 0), (float_div, 1.0, 0.0),
             (float_floordiv, 1.0, 0.0), (float_mod, 1.0, 0.0), (int_pow, 0, -1)]


@pytest.mark.parametrize("k", range(len(DIVISIONS)))
def test_python_error_model_matches_cpython(k):
    fn, a, b = DIVISIONS[k]
    with pytest.raises(ZeroDivisionError) as expected:
        fn(a, b)
    with pytest.raises(ZeroDivisionError) as got:
        kernel(fn, error_model="python")(a, b)
    assert str(got.value) == str(expected.value)
    assert kernel(fn, error_model="python")(a + 3, 2) == fn(a + 3, 2)


def test_negative_integer_power():
    with pytest.raises(ValueError, match="integers to negative integer powers are not allowed"):
        kernel(int_pow, error_model="python")(2, -1)
    assert kernel(int_pow, error_model="python")(-3, 3) == -27


def test_numpy_error_model_is_the_default():
    assert kernel(int_div)(7, 0) == 0
    assert kernel(int_mod)(7, 0) == 0
    assert kernel(float_div)(1.0, 0.0) == float("inf")
    assert np.isnan(kernel(float_div)(0.0, 0.0))


def test_division_check_inside_a_loop():
    x = np.arange(5, dtype=np.int64)
    compiled = kernel(in_loop, error_model="python")
    assert compiled(x, 10) == in_loop(x, 10)
    with pytest.raises(ZeroDivisionError, match="^integer division or modulo by zero$"):
        compiled(x, 3)
    assert kernel(in_loop)(x, 3) == sum(x[i] // (3 - i) for i in range(5) if i != 3)


def test_options_are_validated():
    with pytest.raises(ValueError, match="unknown error_model"):
        kernel(int_div, error_model="c")
    with pytest.raises(ValueError, match="CPU-only"):
        kernel(int_div, target="gpu", boundscheck=True)


def guarded_division(x: float, d: float) -> float:
    if x > 0.0 and 1.0 / d > 0.5:
        return x * x
    return 3.0 * x


def test_short_circuit_keeps_a_checked_division_lazy():
    # derivative builds evaluate a safe right operand eagerly; a division that can raise is not
    # safe, so `x > 0.0 and 1.0 / d > 0.5` must not divide when x <= 0 (as in CPython)
    assert kernel(guarded_division, error_model="python")(-1.0, 0.0) == -3.0
    g = grad(kernel(guarded_division, error_model="python"), wrt="x")
    assert g(-1.0, 0.0) == pytest.approx(3.0)
    assert g(2.0, 1.0) == pytest.approx(4.0)
    with pytest.raises(ZeroDivisionError, match="^float division by zero$"):
        g(2.0, 0.0)


def guarded_ifexp(x: float, d: float) -> float:
    return x if d == 0.0 else x / d


def test_conditional_expression_keeps_a_checked_division_lazy():
    assert kernel(guarded_ifexp, error_model="python")(5.0, 0.0) == 5.0
    assert kernel(guarded_ifexp, error_model="python")(5.0, 2.0) == 2.5
