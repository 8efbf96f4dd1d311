"""The LLVM adapters of an ahead-of-time library (aot/c_api.py's module docstring).

`adapter` writes `ember_x_<f>` (hidden): the lowered kernel's own expanded-memref signature,
C bools as bytes and complex scalars as two parts, any result stored through a trailing
pointer (MLIR returns aggregates in its own way), in an error frame where the kernel raises.
`adapter_declaration` is its C prototype, which the C wrappers call.
"""

from __future__ import annotations

from .. import types as T
from ..runtime import abi, complex_abi, raising
from .c_types import C_FIELD, c_scalar


def _expanded(sig_params: tuple[tuple[str, T.Type], ...]) -> tuple[list[str], list[str],
                                                                 list[str]]:
    """(adapter parameters, kernel operands, conversion lines): C bools arrive as bytes."""
    params, operands, lines = [], [], []
    for k, (_, t) in enumerate(sig_params):
        if isinstance(t, T.Array):
            names = [f"{ty} %m{k}.{j}" for j, (_, ty) in enumerate(abi.memref_fields(t.ndim))]
            params += names
            operands += names
        elif isinstance(t, T.Scalar) and t.is_complex:  # two parts (runtime/complex_abi.py)
            names, operand, build = complex_abi.adapter_param(k, t)
            params += names
            operands.append(operand)
            lines += build
        elif isinstance(t, T.Scalar) and t.is_bool:
            params.append(f"i8 %a{k}")
            lines.append(f"  %c{k} = icmp ne i8 %a{k}, 0")
            operands.append(f"i1 %c{k}")
        else:
            assert isinstance(t, T.Scalar)
            params.append(f"{abi.llvm_scalar(t)} %a{k}")
            operands.append(f"{abi.llvm_scalar(t)} %a{k}")
    return params, operands, lines


def adapter(export: str, symbol: str, params: tuple[tuple[str, T.Type], ...],
            ret: T.Type, raises: bool = False, arena: bool = False) -> str:
    """`ember_x_<export>`: calls `symbol`, storing any result through `%out`. With `raises`,
    the call runs in an error frame (runtime/raising.py) and the adapter returns the status
    (0, or 2 when the kernel raised). `arena`: a derivative, which releases the tape arena
    (runtime/arena.c) at the end of each call, also when it raised."""
    args, operands, body = _expanded(params)
    ty = abi.llvm_result(ret)
    call = f"call {ty} @{symbol}({', '.join(operands)})"
    body += [f"  {call}" if ty == "void" else f"  %r = {call}"]
    if ty != "void":
        args = [*args, "ptr %out"]
        body.append(f"  store {ty} %r, ptr %out")
    release = ["  call void @ember_arena_release()"] if arena else []
    body += [*release, "  ret void"]
    name = f"ember_x_{export}"
    if not raises:
        return "\n".join([f"define hidden void @{name}({', '.join(args)}) {{", *body, "}", ""])
    framed = raising.framed(name, args, f"{name}.guarded", "ok",
                            [*release, f"  ret i32 {abi.STATUS_RAISED}"])
    return "\n".join([f"define internal void @{name}.guarded({', '.join(args)}) noinline {{",
                      *body, "}", framed.replace("define i32", "define hidden i32", 1)])


def adapter_declaration(export: str, params: tuple[tuple[str, T.Type], ...], ret: T.Type,
                        raises: bool = False) -> str:
    """The C prototype of an LLVM adapter (pointers and scalars only)."""
    args = []
    for _, t in params:
        if isinstance(t, T.Array):
            args += [C_FIELD[ty] for _, ty in abi.memref_fields(t.ndim)]
        else:
            assert isinstance(t, T.Scalar)
            args += complex_abi.c_part_types(t) if t.is_complex else [c_scalar(t)]
    if not isinstance(ret, T.NoneType):
        args.append("void*")
    return f"{'int32_t' if raises else 'void'} ember_x_{export}({', '.join(args) or 'void'});"
