"""The one scalar-kind table (`ember.types.SCALAR_KINDS`) agrees with the outside facts each of
its columns names: numpy, ctypes, Python's struct codes, and the cases the C dispatcher decodes.
A row added to the table without its C case fails here instead of taking the slow path forever."""

import ctypes
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from ember import types as T

ROWS = list(T.SCALAR_KINDS.values())
DISPATCH = (Path(T.__file__).parent / "_dispatch.c").read_text()


def _cases(function: str) -> set[str]:
    """The character cases of the switch in `function` of _dispatch.c."""
    body = re.search(rf"\n[^\n]*\b{function}\(.*?\n}}\n", DISPATCH, re.S)
    assert body, function
    return set(re.findall(r"case '(.)'", body.group(0)))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.numpy)
def test_row_matches_numpy_ctypes_and_struct(row):
    dtype = np.dtype(row.numpy)
    assert dtype.kind == row.kind and dtype.itemsize * 8 == max(row.bits, 8)
    parts = 2 if row.kind == "c" else 1  # a complex travels as two parts (complex_abi.py)
    assert parts * ctypes.sizeof(getattr(ctypes, row.ctype)) == dtype.itemsize
    assert parts * ctypes.sizeof(getattr(ctypes, row.launch_ctype)) == dtype.itemsize
    assert _size(row.code) == dtype.itemsize
    assert np.dtype(row.code) == dtype


def _size(code: str) -> int:
    """struct's size of a code; Python 3.11's struct has no complex codes 'F'/'D'."""
    return {"F": 8, "D": 16}.get(code) or struct.calcsize(code)


@pytest.mark.parametrize("function", ["convert", "box"])
def test_dispatcher_decodes_every_code(function):
    codes = {row.code for row in ROWS}
    assert len(codes) == len(ROWS)
    assert codes <= _cases(function)


def test_dispatcher_item_sizes():
    body = re.search(r"item_size\(char c\) \{(.*?)\n\}", DISPATCH, re.S).group(1)
    sizes = {c: int(n) for cases, n in re.findall(r"((?:case '.': )+)return (\d+);", body)
             for c in re.findall(r"'(.)'", cases)}
    default = int(re.search(r"default: return (\d+);", body).group(1))
    for row in ROWS:
        assert sizes.get(row.code, default) == _size(row.code), row.numpy


def test_one_row_per_dtype():
    assert len({row.numpy for row in ROWS}) == len(ROWS)
    assert {T.from_dtype(row.numpy).info for row in ROWS} == set(ROWS)
