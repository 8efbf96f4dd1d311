"""The C types and parameter names of an ahead-of-time library's C API (aot/c_api.py).

One place for: the C type of a scalar kind and of each memref descriptor field, the structs
an array or a result is declared as, the (data, shape, strides) parameters of an array, and
the renaming of user parameter names for the header (C keywords avoided) and for the C
definitions (prefixed, so no user name collides with a wrapper's locals).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import types as T
from ..runtime import abi, complex_abi
from ..runtime.derivcall import RETURN, DerivativeInfo

C_FIELD = {"ptr": "void*", "i64": T.i64.info.c}
"""The C type of each LLVM type in a memref descriptor (abi.MEMREF_LAYOUT)."""


def c_scalar(t: T.Scalar) -> str:
    return t.info.c


def scalar_args(name: str, t: T.Type) -> list[str]:
    """The adapter arguments of scalar parameter `name` (a complex: its two parts)."""
    if isinstance(t, T.Scalar) and t.is_complex:
        return complex_abi.c_parts(name, t)
    return [name]


def array_struct(t: T.Array) -> str:
    return f"ember_array_{t.dtype.np_dtype.name}_{t.ndim}d"


def array_params(name: str, t: T.Array, const: bool = False) -> list[str]:
    q = "const " if const else ""
    return [f"{q}{c_scalar(t.dtype)}* {name}", f"const int64_t* {name}_shape",
            f"const int64_t* {name}_strides"]


def primal_params(params: tuple[tuple[str, T.Type], ...]) -> list[str]:
    out: list[str] = []
    for name, t in params:
        if isinstance(t, T.Array):
            out += array_params(name, t)
        else:
            assert isinstance(t, T.Scalar)
            out.append(f"{c_scalar(t)} {name}")
    return out


def descriptor_struct(t: T.Array) -> str:
    fields = " ".join(f"{C_FIELD[ty]} {name}{f'[{t.ndim}]' if per_dim else ''};"
                      for name, ty, per_dim in abi.MEMREF_LAYOUT)
    return f"struct {{ {fields} }}"


def out_decl(ret: T.Type) -> str:
    if isinstance(ret, T.Array):
        return f"  {descriptor_struct(ret)} out;\n"
    if isinstance(ret, T.Tuple):
        fields = " ".join(f"{descriptor_struct(i) if isinstance(i, T.Array) else c_scalar(i)} "  # type: ignore[arg-type]
                          f"v{k};" for k, i in enumerate(ret.items))
        return f"  struct {{ {fields} }} out;\n"
    assert isinstance(ret, T.Scalar)
    return f"  {c_scalar(ret)} out;\n"


def strides_decl(name: str, t: T.Array) -> str:
    return (f"  int64_t st_{name}[{t.ndim}];\n"
            f"  ember_strides({t.ndim}, {name}_shape, {name}_strides, st_{name});\n")


_C_KEYWORDS = frozenset(["auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false", "_Bool", "_Complex", "_Imaginary", "alignas", "alignof", "asm"])


_INTERNAL = ("__seed", "__ember_counts")


def header_name(name: str) -> str:
    """A parameter's name in the header: the user's, unless it is a C keyword; `ret<k>` for
    the out-parameter `__ret<k>` holding leaf k of a converted result (aot/jacobian.py)."""
    if name.startswith("__ret"):
        return name[2:]
    return f"{name}_" if name in _C_KEYWORDS else name


def source_name(name: str) -> str:
    """Parameter names in the C definitions are prefixed, so that no user name can collide
    with a wrapper's local variables or with C keywords."""
    if name in _INTERNAL:
        return name
    if name.startswith("__d_"):
        return "__d_u_" + name[4:]
    return f"u_{name}"


def renamed(params: tuple[tuple[str, T.Type], ...], rename: Any) -> tuple[tuple[str, T.Type], ...]:
    return tuple((rename(n), t) for n, t in params)


def renamed_signature(sig: abi.Signature, rename: Any) -> abi.Signature:
    return abi.Signature(renamed(sig.params, rename), sig.ret,
                         frozenset(rename(n) for n in sig.written))


def renamed_info(info: DerivativeInfo, rename: Any) -> DerivativeInfo:
    def r(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(n if n == RETURN else rename(n) for n in names)
    return replace(info, wrt=r(info.wrt), outputs=r(info.outputs),
                   activities=tuple((rename(n), a) for n, a in info.activities),
                   count_written=r(info.count_written), written=r(info.written))
