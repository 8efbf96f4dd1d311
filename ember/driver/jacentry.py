"""Driver: the native Jacobian entry of a jvp/vjp build made for `jacfwd`/`jacrev`.

A derivative `Request` with `jacobian=True` (api/jacobians.py asks for it) gets, in the same
library as its entry `ek_<name>`, the loop `jk_<name>` of runtime/jacnative.py and its thunks
`ember_jac_<name>` (ctypes) and `ember_pk_jac_<name>` (the C dispatcher): one native call
fills every Jacobian block. Where the loop does not apply (runtime/jacnative.applies) the
build is the plain derivative and the Jacobian takes the Python loop (runtime/jacquick.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .. import types as T
from ..runtime import jacnative
from ..runtime.abi import Signature

L = TypeVar("L")

if TYPE_CHECKING:
    from ..frontend.adprep import Prepared
    from ..frontend.adresults import ResultLayout
    from .derivatives import Plan


def spec_of(p: Plan, name: str, layout: ResultLayout | None) -> jacnative.LoopSpec | None:
    """The loop of this build, None where the request asks for none or it does not apply."""
    req = p.request
    if not req.jacobian:
        return None
    outs = req.outputs or ((jacnative.RETURN,) if p.result_type is not None else ())
    floats = {n for n, t in zip(layout.names, layout.leaves, strict=True)
              if not isinstance(t, T.Array)} if layout is not None else set()
    spec = jacnative.LoopSpec(name, req.mode == "forward", p.activities, p.params, p.results,
                              p.written, req.wrt, outs, frozenset(floats | {jacnative.RETURN}),
                              p.result_type)
    return spec if outs and jacnative.applies(spec) else None


def thunks(prep: Prepared, spec: jacnative.LoopSpec | None,
           packs: Callable[[Signature], object]) -> list[str]:
    """The loop and its thunks (nothing without a loop); `packs(sig)`: whether the C
    dispatcher can call a thunk of that signature (driver/cpu.fast_spec, not None)."""
    if spec is None:
        return []
    from ..runtime.thunk import entry_thunk

    sig, raises = jacnative.signature(spec), bool(prep.replay.sites)
    name, symbol = f"jac_{spec.name}", f"jk_{spec.name}"
    out = [jacnative.function_ir(spec),
           entry_thunk(name, symbol, sig, contiguous_only=True, arena=True, raises=raises)]
    if packs(sig) is not None:
        out.append(entry_thunk(name, symbol, sig, contiguous_only=True, arena=True,
                               packed=True, raises=raises))
    return out


def load(spec: jacnative.LoopSpec | None, path: str, hit: bool,
         loader: Callable[[str, Signature, str, bool], L]) -> L | None:
    """The loaded entry of the loop (`loader`: driver/cpu._load), None without one."""
    if spec is None:
        return None
    return loader(f"jac_{spec.name}", jacnative.signature(spec), path, hit)
