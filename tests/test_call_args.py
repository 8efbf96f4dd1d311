"""Argument checks at call time: every wrong argument raises TypeError/ValueError naming the
parameter and what was expected; legitimate unusual arguments (subclasses, numpy scalars,
keywords, read-only arrays for read-only kernels) are accepted; nothing ever segfaults."""

import concurrent.futures
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ember import f32, f64, i32, i64, kernel, u8

REPO = Path(__file__).resolve().parent.parent


@kernel
def total(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i]
    return s


@kernel
def total2(a: f64[:, :]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j]
    return s


@kernel
def scale(a: f64[:], k: float) -> None:
    for i in range(len(a)):
        a[i] = a[i] * k


@kernel
def mixed(a: f64[:], x: float, n: int) -> float:
    return a[0] * x + n


@kernel
def scalars(x: float, n: int) -> float:
    return x * n


@kernel
def ints(a: i64[:], n: int) -> int:
    return a[0] + n


@kernel
def narrow(x: f32, n: i32, b: u8) -> float:
    return x + n + b


@kernel
def first(a: f64[:]) -> float:
    return a[0]


@kernel
def echo_int(a: f64[:], n: int) -> int:
    return n


@kernel
def set_first(a: f64[:]) -> None:
    a[0] = 1.0


@kernel
def set_through_callee(a: f64[:]) -> None:
    set_first(a)


@kernel
def fill(a: f64[:], v: float) -> int:
    for i in range(len(a)):
        a[i] = v + i
    return len(a)


def _rejects(exc, call, *names):
    """Assert `call()` raises `exc` and the message contains every string in `names`."""
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    for name in names:
        assert name in msg, f"{name!r} not in {msg!r}"
    return msg


# --- wrong arguments ----------------------------------------------------------------------------

def test_wrong_dtype():
    _rejects(TypeError, lambda: total(np.ones(3, dtype=np.float32)), "'a'", "float64", "float32")


def test_wrong_dtype_int_array_for_float_array():
    _rejects(TypeError, lambda: total(np.arange(3)), "'a'", "float64", "int64")


def test_wrong_dtype_float_array_for_int_array():
    _rejects(TypeError, lambda: ints(np.ones(3), 1), "'a'", "int64", "float64")


def test_wrong_dtype_complex():
    _rejects(TypeError, lambda: total(np.ones(3, dtype=complex)), "'a'", "float64")


def test_wrong_dtype_object_array():
    _rejects(TypeError, lambda: total(np.array([1.0, 2.0], dtype=object)), "'a'", "float64")


def test_wrong_dtype_structured_array():
    rec = np.zeros(3, dtype=[("x", "f8")])
    _rejects(TypeError, lambda: total(rec), "'a'", "float64")


def test_wrong_rank_too_high():
    _rejects(TypeError, lambda: total(np.ones((2, 2))), "'a'", "1 dimension", "float64[:]")


def test_wrong_rank_too_low():
    _rejects(TypeError, lambda: total2(np.ones(4)), "'a'", "2 dimension", "float64[:, :]")


def test_list_instead_of_array():
    _rejects(TypeError, lambda: total([1.0, 2.0]), "'a'", "numpy array", "float64", "list")


def test_tuple_instead_of_array():
    _rejects(TypeError, lambda: total((1.0, 2.0)), "'a'", "numpy array", "tuple")


def test_scalar_where_array_expected():
    _rejects(TypeError, lambda: total(1.0), "'a'", "numpy array", "float64", "float")


def test_array_where_scalar_expected():
    _rejects(TypeError, lambda: mixed(np.ones(2), np.ones(2), 1), "'x'", "float", "ndarray")


def test_one_element_array_where_scalar_expected():
    _rejects(TypeError, lambda: scalars(np.ones(1), 1), "'x'", "float")


def test_array_where_int_expected():
    _rejects(TypeError, lambda: scalars(1.0, np.arange(2)), "'n'", "int")


def test_string_for_float():
    _rejects(TypeError, lambda: scalars("1.5", 2), "'x'", "float", "str")


def test_string_for_float_in_array_kernel():
    _rejects(TypeError, lambda: mixed(np.ones(2), "1.5", 2), "'x'", "float", "str")


def test_none_for_float():
    _rejects(TypeError, lambda: scalars(None, 2), "'x'", "float", "NoneType")


def test_float_for_int():
    _rejects(TypeError, lambda: scalars(1.0, 2.5), "'n'", "int", "float")


def test_integral_float_for_int_is_still_rejected():
    _rejects(TypeError, lambda: mixed(np.ones(2), 1.0, 2.0), "'n'", "int", "float")


def test_numpy_float_for_int():
    _rejects(TypeError, lambda: scalars(1.0, np.float64(2.0)), "'n'", "int", "float64")


def test_read_only_array_to_writing_kernel():
    a = np.zeros(3)
    a.setflags(write=False)
    _rejects(ValueError, lambda: scale(a, 2.0), "'a'", "read-only")
    assert not a.any()


def test_read_only_array_to_kernel_writing_through_a_callee():
    a = np.zeros(3)
    a.setflags(write=False)
    _rejects(ValueError, lambda: set_through_callee(a), "'a'", "read-only")
    assert not a.any()


def test_read_only_broadcast_view_to_writing_kernel():
    a = np.broadcast_to(np.zeros(1), (4,))
    _rejects(ValueError, lambda: set_first(a), "'a'", "read-only")


def test_read_only_array_accepted_by_reading_kernel():
    a = np.arange(4.0)
    a.setflags(write=False)
    assert total(a) == 6.0
    assert total2(np.broadcast_to(np.arange(3.0), (2, 3))) == 6.0


def test_non_native_byte_order():
    a = np.ones(3, dtype=np.dtype(np.float64).newbyteorder())
    _rejects((TypeError, ValueError), lambda: total(a), "'a'", "byte order")


def test_non_native_byte_order_2d():
    a = np.ones((2, 2), dtype=">f8" if sys.byteorder == "little" else "<f8")
    _rejects((TypeError, ValueError), lambda: total2(a), "'a'", "byte order")


def test_explicit_native_byte_order_accepted():
    native = "<f8" if sys.byteorder == "little" else ">f8"
    assert total(np.ones(3, dtype=native)) == 3.0


def test_too_few_arguments():
    _rejects(TypeError, lambda: mixed(np.ones(2), 1.0), "'n'")


def test_too_many_arguments():
    _rejects(TypeError, lambda: total(np.ones(2), 1.0), "argument")


def test_no_arguments():
    _rejects(TypeError, lambda: scalars(), "'x'", "'n'")


def test_unknown_keyword():
    _rejects(TypeError, lambda: total(b=np.ones(2)), "'b'")


def test_keyword_given_twice():
    _rejects(TypeError, lambda: total(np.ones(2), a=np.ones(2)), "'a'")


@pytest.mark.parametrize("n", [2**63, -(2**63) - 1, 2**70])
def test_int_out_of_range_for_int64(n):
    _rejects((OverflowError, ValueError, TypeError), lambda: scalars(1.0, n), "'n'")


@pytest.mark.parametrize("n", [2**31, -(2**31) - 1])
def test_int_out_of_range_for_i32(n):
    _rejects((OverflowError, ValueError, TypeError), lambda: narrow(1.0, n, 0), "'n'")


@pytest.mark.parametrize("b", [256, -1])
def test_int_out_of_range_for_u8(b):
    _rejects((OverflowError, ValueError, TypeError), lambda: narrow(1.0, 0, b), "'b'")


def test_huge_int_for_float():
    _rejects((OverflowError, ValueError, TypeError), lambda: scalars(10**400, 1), "'x'")


def test_error_names_the_kernel():
    _rejects(TypeError, lambda: mixed(np.ones(2, dtype=np.int32), 1.0, 1), "mixed", "'a'")


# --- legitimate arguments -----------------------------------------------------------------------

def test_keyword_arguments_by_name():
    a = np.array([2.0, 5.0])
    assert mixed(a=a, x=3.0, n=1) == 7.0
    assert mixed(a, n=1, x=3.0) == 7.0
    assert scalars(n=3, x=0.5) == 1.5


def test_ndarray_subclass_accepted():
    class Tagged(np.ndarray):
        pass

    a = np.arange(4.0).view(Tagged)
    assert total(a) == 6.0
    scale(a, 2.0)
    assert isinstance(a, Tagged) and list(a) == [0.0, 2.0, 4.0, 6.0]


def test_memmap_accepted(tmp_path):
    m = np.memmap(tmp_path / "data.bin", dtype=np.float64, mode="w+", shape=(5,))
    m[:] = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert total(m) == 15.0
    scale(m, 10.0)
    m.flush()
    assert list(np.fromfile(tmp_path / "data.bin")) == [10.0, 20.0, 30.0, 40.0, 50.0]


def test_read_only_memmap_accepted_by_reading_kernel(tmp_path):
    np.arange(3.0).tofile(tmp_path / "data.bin")
    m = np.memmap(tmp_path / "data.bin", dtype=np.float64, mode="r")
    assert total(m) == 3.0
    _rejects(ValueError, lambda: scale(m, 2.0), "'a'", "read-only")


def test_numpy_scalars_accepted():
    assert scalars(np.float32(1.5), np.int64(4)) == 6.0
    assert scalars(np.float64(0.25), np.int32(8)) == 2.0
    assert mixed(np.ones(1), np.float32(2.0), np.int64(3)) == 5.0
    assert narrow(np.float32(0.5), np.int64(2), np.uint8(3)) == 5.5


def test_python_ints_and_bools_for_floats():
    assert scalars(3, 2) == 6.0
    assert scalars(True, 2) == 2.0


def test_non_contiguous_and_fortran_views_accepted():
    a = np.arange(12.0).reshape(3, 4)
    assert total(a[:, 1]) == 1.0 + 5.0 + 9.0
    assert total(a[::-1, 0]) == 12.0
    assert total2(np.asfortranarray(a)) == 66.0
    assert total2(a[::2, ::3]) == 0.0 + 3.0 + 8.0 + 11.0


def test_empty_arrays_accepted():
    assert total(np.empty(0)) == 0.0
    assert total2(np.empty((0, 3))) == 0.0


def test_nan_result_is_returned_not_raised():
    assert math.isnan(first(np.array([math.nan, 1.0])))
    assert math.isnan(scalars(math.nan, 1))
    assert math.isnan(mixed(np.array([math.inf]), 0.0, 0))


def test_int_sentinel_result_is_returned_not_raised():
    assert echo_int(np.zeros(1), -(2**63)) == -(2**63)


def test_int_results_stay_ints():
    r = ints(np.array([40], dtype=np.int64), 2)
    assert r == 42 and isinstance(r, int)


# --- threads ------------------------------------------------------------------------------------

def test_calls_from_several_threads():
    arrays = [np.full(10_000, float(k)) for k in range(8)]

    def work(k):
        out = []
        for _ in range(50):
            out.append(total(arrays[k]))
        return out

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(8)))
    for k, res in enumerate(results):
        assert res == [10_000.0 * k] * 50


def test_mutating_calls_from_several_threads():
    arrays = [np.zeros(5_000) for _ in range(8)]

    def work(k):
        return [fill(arrays[k], float(k)) for _ in range(20)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        lengths = list(pool.map(work, range(8)))
    assert lengths == [[5_000] * 20] * 8
    for k, a in enumerate(arrays):
        np.testing.assert_array_equal(a, k + np.arange(5_000.0))


def test_first_call_from_several_threads_at_once():
    @kernel(cache=False)
    def fresh(a: f64[:], k: float) -> float:
        s = 0.0
        for i in range(len(a)):
            s += a[i] * k
        return s

    a = np.arange(100.0)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda k: fresh(a, float(k)), range(8)))
    assert results == [4950.0 * k for k in range(8)]


def test_wrong_arguments_from_several_threads():
    def work(k):
        try:
            total(np.ones(3, dtype=np.float32) if k % 2 else [1.0])
        except TypeError as err:
            return "'a'" in str(err)
        return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(work, range(16)))


# --- never a segfault ---------------------------------------------------------------------------

_NASTY = '''
import numpy as np
from ember import f64, i64, kernel


@kernel
def reads(a: f64[:], x: float, n: int) -> float:
    return a[0] * x + n


@kernel
def writes(a: f64[:, :]) -> None:
    a[0, 0] = 1.0


@kernel
def pair(a: f64[:]) -> tuple[float, int]:
    return a[0], len(a)


@kernel
def alloc(n: int) -> f64[:]:
    return np.zeros(n)


@kernel
def scalar_only(x: float, n: i64) -> float:
    return x + n


class Weird:
    def __float__(self):
        raise RuntimeError("boom")

    def __index__(self):
        raise RuntimeError("boom")


huge = np.zeros((1,) * 64)
zero_d = np.array(1.0)
bad = [None, object(), zero_d, huge, Weird(), "x", b"x", 1j, [1.0], {}, np.float64,
       np.ones(3, dtype=np.float32), np.ones((2, 2))[:, 0].astype(">f8"),
       np.lib.stride_tricks.as_strided(np.zeros(16, np.uint8), (3,), (3,)).view(np.uint8)]
good = np.ones(3)
calls = []
for v in bad:
    calls += [lambda v=v: reads(v, 1.0, 1), lambda v=v: reads(good, v, 1),
              lambda v=v: reads(good, 1.0, v), lambda v=v: writes(v), lambda v=v: pair(v),
              lambda v=v: alloc(v), lambda v=v: scalar_only(v, 1), lambda v=v: scalar_only(1.0, v)]
ro = np.zeros((2, 2))
ro.setflags(write=False)
calls += [lambda: writes(ro), lambda: writes(np.zeros((2, 2))[::2, :].view(np.int64)),
          lambda: reads(), lambda: reads(good, 1.0, 1, 2)]
rejected = 0
for c in calls:
    try:
        c()
    except (TypeError, ValueError, IndexError, OverflowError):
        rejected += 1
    except RuntimeError as err:
        assert "boom" in str(err), err
        rejected += 1
assert reads(good, 2.0, 1) == 3.0
assert pair(good) == (1.0, 3)
print("survived", rejected, len(calls))
'''


def test_nasty_arguments_never_crash(tmp_path):
    (tmp_path / "nasty.py").write_text(textwrap.dedent(_NASTY))
    env = {**os.environ, "EMBER_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "nasty.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "survived" in proc.stdout
