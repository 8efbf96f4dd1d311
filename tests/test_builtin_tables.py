"""The builtin tables agree: every builtin the frontend accepts (frontend/builtins.py) has an IR
lowering (ir/ops.py), a derivative or a declared reason not to have one (ir/adrules.py), a GPU
lowering (math ops via convert-gpu-to-nvvm, libm calls via libdevice: lowering/gpu.py), and
the C names an AOT export may not take (aot/collect.py) cover every libm function the compiled
code calls. A frontend row added without the rest fails here.

Also: every `ember/...` path that docs/architecture.md names exists."""

import ctypes
import ctypes.util
import importlib.util
import pathlib
import re

import pytest

import ember
from ember.aot.collect import c_library_names
from ember.frontend import builtins
from ember.ir import adrules, ops
from ember.lowering.gpu import LIBDEVICE
from ember.runtime import vecmath

ROOT = pathlib.Path(__file__).resolve().parents[1]

OP_RULES = {"math1", "math2", "to_int", "pred", "np_pred", "ufunc1", "ufunc2", "minmax",
            "np_minmax", "sign", "range_len", "log"}
"""Typing rules (frontend/calls.py) that emit a `tir.Call` of the row's own op key."""
OTHER_OPS = {"abs": {"abs", "fabs"}, "round": {"roundeven", "pyround_n", "round_n"},
             "np_round": {"round_n"}, "clip": {"minimum", "maximum"}, "where": set()}
"""Rules that emit op keys of their own choosing."""
_CMATH = {"exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
          "isnan", "isinf", "isfinite"}
COMPLEX_OPS = {"complex": {"c.create"},
               "cmath": {f"c.{op}" for op in _CMATH} | {"c.abs", "c.angle", "c.create"},
               "cpart": {"c.real", "c.imag", "c.conj", "c.angle"}}
"""Rules of complex builtins (frontend/complex_calls.py); their rows take or give complex
values, so the every-builtin kernels below (float arguments and results) leave them out:
tests/e2e/test_complex.py calls each."""
OTHER_OPS.update(COMPLEX_OPS)
NO_OPS = {"cast", "len", "alloc", "alloc_like", "unpack", "iter_len", "item", "inplace",
          "product", "create", "reduce", "select", "ufunc_operator", "divmod", "unpack_check",
          "pick", "list", "stop_gradient"}
"""Rules that emit no `tir.Call` (casts, shapes, allocations, desugaring helpers), and
`stop_gradient`, whose op only derivative builds see (tests/grad/test_custom_rules.py)."""
VECTOR_ONLY = {"exp10": "LLVM's form of pow(10, x)"}
"""libmvec functions that no Ember op names, with where LLVM creates them."""


def frontend_ops() -> set[str]:
    found = set()
    for row in builtins.FUNCTIONS.values():
        assert row.rule in OP_RULES | NO_OPS | set(OTHER_OPS), \
            f"{row.name}: typing rule {row.rule!r} is unknown to this test; classify it above"
        if row.rule in OP_RULES:
            found.add(row.op)
        found |= OTHER_OPS.get(row.rule, set())
    return found


def test_every_frontend_op_is_lowered():
    assert frontend_ops() - ops.OPS == set()


def test_every_op_has_one_derivative_kind():
    kinds = {"enzyme": adrules.ENZYME, "rule": set(adrules.RULES),
             "zero": adrules.ZERO_DERIVATIVE, "none": adrules.NOT_DIFFERENTIABLE,
             "discrete": adrules.DISCRETE}
    for op in ops.OPS:
        found = [kind for kind, members in kinds.items() if op in members]
        assert len(found) == 1, f"op {op!r}: derivative kinds {found}; declare exactly one " \
                                "in ir/adrules.py"
    for kind, members in kinds.items():
        assert set(members) <= ops.OPS, f"{kind}: stale entries {set(members) - ops.OPS}"


def test_libm_calls_have_libdevice_and_c_names():
    names = {name for row in ops.LIBM.values() for name in row[:2]}
    assert names <= LIBDEVICE
    assert names <= c_library_names()


@pytest.mark.parametrize("name", vecmath.FUNCTIONS)
def test_vector_math_refers_to_scalar_functions(name):
    assert name in ops.OPS or name in VECTOR_ONLY, f"{name}: no Ember op computes it"
    assert {name, f"{name}f"} <= c_library_names()
    libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    assert hasattr(libm, name) and hasattr(libm, f"{name}f")


# --- one kernel that calls every builtin, compiled for each target -----------------------------
def _calls(v: str, w: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """One call per frontend row with arguments `v` and `w`, except rows of the ops in `skip`."""
    calls = []
    for row in builtins.FUNCTIONS.values():
        if (row.rule in NO_OPS or row.rule in COMPLEX_OPS or row.op in skip
                or not re.fullmatch(r"[\w.]+", row.name)):
            continue
        args = [v, w][:row.arity[0]] if row.rule not in ("round", "np_round") else [v, "2"]
        if row.rule in ("where", "clip"):  # (c, a, b), (a, lo, hi)
            args = [f"{v} < {w}", v, w] if row.rule == "where" else [v, f"-{w}", w]
        calls.append(f"float({row.name}({', '.join(args)}))")
    return calls


def _every_builtin_module(tmp_path, target: str) -> object:
    body = " +\n            ".join(_calls("x[i]", "y[i]"))
    scalar = " +\n        ".join(_calls("v", "w"))
    smooth = " +\n        ".join(_calls("v", "w", adrules.NOT_DIFFERENTIABLE))
    loop = "prange" if target == "gpu" else "range"  # (prange on the CPU adds OpenMP calls)
    source = f'''
import math
import numpy as np
from ember import f32, f64, kernel, prange


@kernel(target="{target}")
def every_f64(x: f64[:], y: f64[:], out: f64[:]) -> None:
    for i in {loop}(len(x)):
        out[i] = ({body})


@kernel(target="{target}")
def every_f32(x: f32[:], y: f32[:], out: f64[:]) -> None:
    for i in {loop}(len(x)):
        out[i] = ({body})


def every_scalar(v: float, w: float) -> float:
    return ({scalar})


def every_differentiable(v: float, w: float) -> float:
    return ({smooth})
'''
    path = tmp_path / f"every_builtin_{target}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_builtin_compiles_to_ptx(tmp_path):
    module = _every_builtin_module(tmp_path, "gpu")
    for kernel in (module.every_f64, module.every_f32):
        ptx = kernel.inspect("ptx")
        assert ".extern" not in ptx and "__nv_" not in ptx  # libdevice resolved every call


def test_cpu_code_calls_only_reserved_c_names(tmp_path):
    module = _every_builtin_module(tmp_path, "cpu")
    called = set()
    for kernel in (module.every_f64, module.every_f32):
        called |= set(re.findall(r"^declare [^@]*@([\w.]+)\(", kernel.inspect("llvm"), re.M))
    libm = {name for name in called if not name.startswith(("llvm.", "ember_", "_mlir"))}
    assert libm - c_library_names() == set()


def test_derivatives_compile_as_declared(tmp_path):
    """Every op declared differentiable goes through Enzyme; the others are refused."""
    module = _every_builtin_module(tmp_path, "cpu")
    dv, dw = ember.grad(module.every_differentiable, wrt=("v", "w"))(0.5, 0.25)
    assert isinstance(dv, float) and isinstance(dw, float)
    with pytest.raises(ember.CompileError):
        ember.grad(module.every_scalar, wrt=("v", "w"))(0.5, 0.25)


# --- docs ------------------------------------------------------------------------------------
def test_paths_in_architecture_doc_exist():
    """`ember/...` and `tests/...` paths, and paths inside the package written from a stage
    folder (`runtime/call.py`), all name files or folders that exist."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"\b(?:ember|tests)/[\w/.]*\w", text))
    folders = "api|driver|frontend|ir|lowering|runtime|aot"
    named |= {f"ember/{p}" for p in re.findall(rf"(?<![\w/])(?:{folders})/[\w/]*\.(?:py|c)\b",
                                                text)}
    assert len(named) > 50, "docs/architecture.md names fewer paths than expected"
    missing = {p for p in named if "<" not in p and not (ROOT / p).exists()}
    assert missing == set()
    files = {p.name for p in (ROOT / "ember").rglob("*") if p.suffix in (".py", ".c")}
    bare = set(re.findall(r"`(\w+\.(?:py|c))`", text))
    assert bare - files == set(), "modules named in docs/architecture.md that do not exist"
