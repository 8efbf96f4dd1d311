"""Records that cross a layer or go to disk round-trip through JSON: a derivative's
`DerivativeInfo` (driver -> runtime, and the AOT loader's manifest), the AOT manifest entries,
and the disk cache's metadata (`Meta`, `Record`)."""

import json

import pytest

import ember
from ember import f64
from ember import types as T
from ember.aot.loader import DerivativeEntry, KernelEntry, entry_from_json
from ember.driver.derivatives import Request, describe, plan
from ember.frontend import build_program
from ember.frontend.adprep import Prepared, prepare_reverse
from ember.runtime import cache
from ember.runtime.abi import Signature
from ember.runtime.derivcall import DerivativeInfo


@ember.kernel
def energy(x: f64[:], out: f64[:], k: float, n: int) -> float:
    s = 0.0
    for i in range(n):
        out[i] = k * x[i]
        s += x[i] * x[i]
    return s


@ember.kernel
def halve(x: float) -> float:
    while x > 1.0:
        x = x / 2.0
    return x


def _through_json(record):
    """`record` written to JSON text and read back by its class."""
    return type(record).from_json(json.loads(json.dumps(record.to_json())))


def _info(k, kind, wrt, outputs=()):
    """The DerivativeInfo the driver describes for a derivative of kernel `k`."""
    program = build_program(k.py_func, ad=True, checks=k.options)
    req = Request("forward" if kind == "jvp" else "reverse", wrt, outputs)
    prep = prepare_reverse(program) if req.mode == "reverse" else Prepared(program, None, 0)
    fn = prep.replay.functions[prep.replay.entry]
    return describe(plan(fn, req), f"d_{fn.name}", kind, len(wrt) == 1, prep.loops,
                    frozenset(), frozenset(fn.written))


@pytest.mark.parametrize("kind, wrt, outputs", [
    ("grad", ("x",), ()), ("value_and_grad", ("x", "k"), ()), ("jvp", ("k",), ("out",)),
    ("vjp", ("x",), ("return", "out")),
])
def test_derivative_info_round_trips(kind, wrt, outputs):
    info = _info(energy, kind, wrt, outputs)
    assert info.kind == kind and info.wrt == wrt and info.outputs == outputs
    assert _through_json(info) == info


def test_derivative_info_of_a_while_loop_round_trips():
    info = _info(halve, "grad", ("x",))
    assert info.loops == 1 and info.activities[-1][1] == "const"  # the trip-count buffer
    assert _through_json(info) == info


@pytest.mark.parametrize("field, value", [("kind", "hessian"),
                                          ("activities", [["x", "dupnoneed"]])])
def test_derivative_info_rejects_unknown_values(field, value):
    data = _info(energy, "grad", ("x",)).to_json()
    data[field] = value
    with pytest.raises(ValueError, match=repr(value[0][1] if field == "activities" else value)):
        DerivativeInfo.from_json(data)


SIG = Signature((("a", T.Array(T.f64, 1)), ("n", T.i64)), T.Tuple((T.f64, T.i64)),
                frozenset({"a"}))


def test_kernel_entry_round_trips():
    entry = KernelEntry("saxpy", SIG, parallel=True)
    assert _through_json(entry) == entry
    assert entry_from_json(entry.to_json()) == entry


@pytest.mark.parametrize("count", [None, Signature((("n", T.i64),), T.none, frozenset())])
def test_derivative_entry_round_trips(count):
    entry = DerivativeEntry("d_energy", SIG, _info(energy, "grad", ("x",)), count)
    assert _through_json(entry) == entry
    assert entry_from_json(entry.to_json()) == entry


def test_unknown_manifest_entry_is_rejected():
    with pytest.raises(ValueError, match="'library'"):
        entry_from_json({"kind": "library", "name": "x"})


@pytest.mark.parametrize("meta", [cache.Meta("kernel", "saxpy", SIG), cache.Meta("aot-object",
                                  "saxpy"), cache.Meta("derivative", "f_reverse")])
def test_cache_records_round_trip(meta):
    assert _through_json(meta) == meta
    record = cache.Record("ab" * 32, 1234, "cd" * 32, meta)
    assert _through_json(record) == record
