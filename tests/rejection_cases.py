"""Issue 11, acceptance 2: every call-time rejection, for every result kind. Shared by
tests/test_call_rejections.py (the JIT) and tests/aot/test_aot_rejections.py (the AOT loader,
which builds this very file with `ember.build`).

One kernel per result kind (`k_<kind>`), all with the parameters (a, w, mark, s, b, n): `a` is
read, `w` and `mark` are written (`mark[0] = 1.0` shows that the kernel ran), `s` is i8, `b`
u8, `n` int. `CASES` maps a rejection to (exception type, the text its message must quote, a
function making the call's arguments). A rejected call must raise that exception, with a
message naming the kernel and the parameter, and must leave every array argument as it was:
the kernel never ran.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ember import f32, f64, i8, kernel, u8, u64


@kernel
def k_float(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> float:
    mark[0] = 1.0
    w[0] = a[0]
    return a[0] + s + b + n


@kernel
def k_int(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> int:
    mark[0] = 1.0
    w[0] = a[0]
    return s + b + n


@kernel
def k_bool(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> bool:
    mark[0] = 1.0
    w[0] = a[0]
    return a[0] > 0.0


@kernel
def k_u64(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> u64:
    mark[0] = 1.0
    w[0] = a[0]
    return u64(b)


@kernel
def k_f32(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> f32:
    mark[0] = 1.0
    w[0] = a[0]
    return f32(a[0])


@kernel
def k_tuple(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8,
            n: int) -> tuple[float, int, bool]:
    mark[0] = 1.0
    w[0] = a[0]
    return a[0], n, s < 0


@kernel
def k_array(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> f64[:]:
    mark[0] = 1.0
    w[0] = a[0]
    out = np.zeros(len(a))
    for i in range(len(a)):
        out[i] = a[i] + n
    return out


@kernel
def k_none(a: f64[:], w: f64[:], mark: f64[:], s: i8, b: u8, n: int) -> None:
    mark[0] = 1.0
    w[0] = a[0]


KINDS = ("float", "int", "bool", "u64", "f32", "tuple", "array", "none")
PARAMS = ("a", "w", "mark", "s", "b", "n")

EXPECTED = {  # the result of the accepted call `good()`
    "float": 7.0, "int": 6, "bool": True, "u64": 2, "f32": 1.0,
    "tuple": (1.0, 3, False), "array": np.arange(4.0, 8.0), "none": None,
}


def good() -> dict[str, Any]:
    return {"a": np.arange(1.0, 5.0), "w": np.zeros(4), "mark": np.zeros(4), "s": 1, "b": 2,
            "n": 3}


Call = tuple[tuple, dict[str, Any]]


def call(*, drop: tuple[str, ...] = (), extra: tuple = (), keywords: dict[str, Any] | None = None,
         by_keyword: bool = False, **changes: Any) -> Callable[[], Call]:
    """A maker of (args, kwargs) from `good()`: `changes` replace arguments (a callable makes a
    fresh value for each call), `drop` leaves some out, `extra` and `keywords` add positional
    and keyword ones; everything by keyword where `by_keyword`."""
    def build() -> Call:
        values = {**good(), **{k: v() if callable(v) else v for k, v in changes.items()}}
        for k in drop:
            del values[k]
        if by_keyword:
            return (), {**values, **(keywords or {})}
        return (*values.values(), *extra), dict(keywords or {})
    return build


def _read_only() -> np.ndarray:
    values = np.zeros(4)
    values.setflags(write=False)
    return values


def _misaligned() -> np.ndarray:
    """Four float64 12 bytes apart: strides that are not a multiple of the item size."""
    return np.ndarray((4,), np.float64, buffer=np.zeros(48, np.uint8), strides=(12,))


CASES: dict[str, tuple[type[Exception], str, Callable[[], Call]]] = {
    "dtype_f32": (TypeError, "'a'", call(a=lambda: np.arange(4, dtype=np.float32))),
    "dtype_int": (TypeError, "'a'", call(a=lambda: np.arange(4))),
    "dtype_written": (TypeError, "'w'", call(w=lambda: np.zeros(4, np.float32))),
    "rank_2d": (TypeError, "'a'", call(a=lambda: np.zeros((2, 2)))),
    "rank_0d": (TypeError, "'mark'", call(mark=lambda: np.zeros(()))),
    "read_only": (ValueError, "'w'", call(w=_read_only)),
    "read_only_keyword": (ValueError, "'w'", call(w=_read_only, by_keyword=True)),
    "read_only_marker": (ValueError, "'mark'", call(mark=_read_only)),
    "byte_order": (ValueError, "'a'", call(a=lambda: np.arange(1.0, 5.0).astype(">f8"))),
    "byte_order_written": (ValueError, "'w'", call(w=lambda: np.zeros(4, ">f8"))),
    "strides": (ValueError, "'a'", call(a=_misaligned)),
    "strides_written": (ValueError, "'w'", call(w=_misaligned)),
    "i8_too_big": (OverflowError, "'s'", call(s=128)),
    "i8_too_small": (OverflowError, "'s'", call(s=-129)),
    "i8_numpy_too_big": (OverflowError, "'s'", call(s=np.int64(1000))),
    "u8_negative": (OverflowError, "'b'", call(b=-1)),
    "u8_too_big": (OverflowError, "'b'", call(b=256)),
    "int_too_big": (OverflowError, "'n'", call(n=2**63)),
    "int_too_small": (OverflowError, "'n'", call(n=-2**63 - 1)),
    "int_too_big_keyword": (OverflowError, "'n'", call(n=2**64, by_keyword=True)),
    "float_for_int": (TypeError, "'n'", call(n=3.5)),
    "str_for_int": (TypeError, "'b'", call(b="2")),
    "list_for_array": (TypeError, "'a'", call(a=[1.0, 2.0, 3.0, 4.0])),
    "float_for_array": (TypeError, "'a'", call(a=1.0)),
    "none_for_array": (TypeError, "'mark'", call(mark=None)),
    "missing": (TypeError, "'n'", call(drop=("n",))),
    "missing_keyword": (TypeError, "'s'", call(drop=("s",), by_keyword=True)),
    "extra_positional": (TypeError, "takes 6 positional arguments but 7 were given",
                         call(extra=(0,))),
    "unexpected_keyword": (TypeError, "'zz'", call(keywords={"zz": 1})),
    "duplicate": (TypeError, "'n'", call(keywords={"n": 3})),
}

GRID = [pytest.param(kind, case, id=f"{kind}-{case}") for kind in KINDS for case in CASES]
"""Every (result kind, rejection) pair."""


def _snapshot(args: tuple, kwargs: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(v, v.copy()) for v in (*args, *kwargs.values()) if isinstance(v, np.ndarray)]


def check_rejected(f: Callable[..., Any], name: str, case: str) -> None:
    """Calling `f` (named `name`) as `case` raises the right exception naming the kernel and
    the parameter, returns nothing and runs nothing."""
    error, quoted, make = CASES[case]
    args, kwargs = make()
    before = _snapshot(args, kwargs)
    with pytest.raises(error) as info:
        result = f(*args, **kwargs)
        print(f"{name}() as {case} returned {result!r}")  # shown when not rejected
    message = str(info.value)
    assert type(info.value) is error, (type(info.value), message)
    assert f"{name}()" in message and quoted in message, message
    for array, copy in before:
        np.testing.assert_array_equal(array, copy, err_msg=f"the kernel ran: {case}")


def check_accepted(f: Callable[..., Any], kind: str) -> None:
    """The control: the good call, by position and by keyword, runs the kernel (it writes
    `w` and `mark`) and returns EXPECTED."""
    for args, kwargs in (call()(), call(by_keyword=True)()):
        result = f(*args, **kwargs)
        values = {**dict(zip(PARAMS, args, strict=False)), **kwargs}
        assert values["mark"][0] == 1.0 and values["w"][0] == 1.0
        want = EXPECTED[kind]
        if isinstance(want, np.ndarray):
            assert type(result) is np.ndarray and result.dtype == want.dtype
            np.testing.assert_array_equal(result, want)
        else:
            assert type(result) is type(want) and result == want, (result, want)
