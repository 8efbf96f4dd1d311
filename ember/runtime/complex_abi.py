"""How complex scalars (c64, c128) cross the native calling convention.

ctypes has no complex type, so a complex parameter reaches the ctypes entry thunk as two
`double`s (real, imaginary; a c64 is rounded to two floats inside the thunk), and the packed
thunk of the C dispatcher receives, in its 8-byte slot, a pointer to the two doubles of a
Python complex (`Py_complex`, ember/_dispatch.c). A complex result is the kernel's
`{ fN, fN }` struct, stored through the out-pointer: two parts in ctypes (`parts_ctype`), two
8-byte slots for a c128 and one for a c64 in the packed thunks. Complex arrays need nothing
here: numpy's complex dtypes have the memref's layout (`complex<fN>` elements).
"""

from __future__ import annotations

import ctypes
import numbers
from typing import Any

import numpy as np

from .. import types as T


def parts_ctype(t: T.Scalar) -> type:
    """The ctypes mirror of a complex result: an array of its two parts."""
    return getattr(ctypes, t.info.ctype) * 2  # type: ignore[no-any-return]


def argtypes(t: T.Scalar) -> list[type]:
    return [ctypes.c_double, ctypes.c_double]


def to_complex(value: Any) -> complex:
    """A complex parameter's argument (a number; strings are not, unlike complex('1j'))."""
    if not isinstance(value, numbers.Number | np.bool_) or isinstance(value, np.ndarray):
        raise TypeError("not a number")
    return complex(value)


def from_parts(parts: Any) -> complex:
    return complex(parts[0], parts[1])


def result_slots(t: T.Scalar) -> int:
    """The 8-byte slots a packed thunk stores a complex result in."""
    return 2 if t.bits == 128 else 1


def thunk_param(k: int, t: T.Scalar, packed: bool, body: list[str]) -> tuple[list[str], str]:
    """(ctypes-thunk parameters, kernel operand) of complex argument k, emitting the lines
    that read it (packed: from the Py_complex its slot points to) and build the struct."""
    re, im = f"%a{k}.re", f"%a{k}.im"
    params = [] if packed else [f"double {re}", f"double {im}"]
    if packed:
        body += [f"  %slot{k} = getelementptr i8, ptr %slots, i64 {8 * k}",
                 f"  %pz{k} = load ptr, ptr %slot{k}",
                 f"  {re} = load double, ptr %pz{k}",
                 f"  %pzi{k} = getelementptr i8, ptr %pz{k}, i64 8",
                 f"  {im} = load double, ptr %pzi{k}"]
    part = "float" if t.bits == 64 else "double"
    if part == "float":
        body += [f"  %a{k}.re32 = fptrunc double {re} to float",
                 f"  %a{k}.im32 = fptrunc double {im} to float"]
        re, im = f"%a{k}.re32", f"%a{k}.im32"
    ty = t.info.llvm
    body += [f"  %z{k}.0 = insertvalue {ty} undef, {part} {re}, 0",
             f"  %z{k} = insertvalue {ty} %z{k}.0, {part} {im}, 1"]
    return params, f"{ty} %z{k}"


# --- AOT C API (ember/aot/c_api.py) -------------------------------------------------------
def c_parts(name: str, t: T.Scalar) -> list[str]:
    """C expressions of the two parts of C99 complex `name`, as the LLVM adapter takes them
    (two plain floats or doubles: the same in every C calling convention, unlike `float
    _Complex` itself, which x86-64 passes packed in one register)."""
    f = "f" if t.bits == 64 else ""
    return [f"creal{f}({name})", f"cimag{f}({name})"]


def c_part_types(t: T.Scalar) -> list[str]:
    return [t.part.strong().info.c] * 2


def adapter_param(k: int, t: T.Scalar) -> tuple[list[str], str, list[str]]:
    """(LLVM adapter parameters, kernel operand, lines building the kernel's struct)."""
    part, ty = t.part.strong().info.llvm, t.info.llvm
    lines = [f"  %z{k}.0 = insertvalue {ty} undef, {part} %a{k}.re, 0",
             f"  %z{k} = insertvalue {ty} %z{k}.0, {part} %a{k}.im, 1"]
    return [f"{part} %a{k}.re", f"{part} %a{k}.im"], f"{ty} %z{k}", lines
