"""grad and value_and_grad calls through the C dispatcher (ember/_dispatch.c run_derivative):
the same values, gradients (bitwise), written arrays and errors as the Python call path
(runtime/derivcall.py, `Derivative._call`), fresh gradient arrays each call, and everything
the dispatcher does not serve (non-contiguous arrays, jvp, vjp, while loops, other
None-patterns, tuple parameters in `wrt`) still served by the Python path."""

import os
import re
import struct

import numpy as np
import pytest

import ember
from ember import f32, f64
from ember.runtime.derivcall import DerivativeCall

try:
    from ember import _dispatch
except ImportError:  # built without the C extension: every call takes the Python path
    _dispatch = None


@ember.kernel
def poly(x: float, y: float) -> float:
    return x * x * y + 3.0 * y


@ember.kernel
def mixed(x: f64[:], s: float, n: int, flag: bool) -> float:
    t = 0.0
    for i in range(n):
        t += x[i] * x[i] * s
    if flag:
        t = t * 2.0
    return t


@ember.kernel
def product32(x: f32[:]) -> f32:
    return x[0] * x[1]


@ember.kernel
def squares_into(x: f64[:], s: float, out: f64[:]) -> None:
    for i in range(x.shape[0]):
        out[i] = x[i] * x[i] * s


@ember.kernel
def keyed(x: f64[:], p: float = 2.0, w: f64[:] | None = None, *, scale: float = 1.5) -> float:
    t = 0.0
    for i in range(x.shape[0]):
        v = x[i] * x[i] * p
        if w is not None:
            v = v * w[i]
        t += v
    return t * scale


def _same(a, b):
    """Bitwise equality of results: floats by their bytes, arrays by dtype, shape, bytes."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, float):
        return type(b) is float and struct.pack("d", a) == struct.pack("d", b)
    return a is b


def _native(monkeypatch, d, *args, **kwargs):
    """d(*args, **kwargs), and whether the C dispatcher served it (no Python call path)."""
    seen = []
    python_path = DerivativeCall.__call__

    def spy(self, *a, **k):
        seen.append(1)
        return python_path(self, *a, **k)

    monkeypatch.setattr(DerivativeCall, "__call__", spy)
    try:
        return d(*args, **kwargs), not seen
    finally:
        monkeypatch.setattr(DerivativeCall, "__call__", python_path)


def _check(monkeypatch, d, *args, native=True, **kwargs):
    """d's call equals the Python path's bitwise, and is served natively if `native`."""
    got, served = _native(monkeypatch, d, *args, **kwargs)
    want = d._call(*args, **kwargs)
    assert _same(got, want), (got, want)
    if _dispatch is not None:
        assert served == native
    return got


def test_scalar_and_array_gradients_equal_the_python_path(monkeypatch):
    d = ember.grad(poly)
    d(1.0, 2.0)  # compiles
    assert _check(monkeypatch, d, 1.5, 2.0) == 6.0
    assert _check(monkeypatch, d, 3, -1.25) == -7.5  # an int for a float parameter
    vag = ember.value_and_grad(poly, wrt=("x", "y"))
    vag(1.0, 2.0)
    assert _check(monkeypatch, vag, 1.5, 2.0) == (10.5, (6.0, 5.25))
    x = np.array([1.0, 2.0, 3.0])
    for wrt in ("x", ("x", "s")):
        g = ember.grad(mixed, wrt=wrt)
        g(x, 0.5, 3, True)
        for n, flag in ((3, True), (2, False)):
            _check(monkeypatch, g, x, 0.5, n, flag)
    gx, gs = _check(monkeypatch, g, x, 0.5, 2, True)  # g: wrt ("x", "s")
    assert gx.tolist() == [2.0, 4.0, 0.0] and gs == 10.0
    vs = ember.value_and_grad(mixed, wrt="s")
    vs(x, 0.5, 3, False)
    assert _check(monkeypatch, vs, x, 0.5, 3, False) == (7.0, 14.0)
    g32 = ember.grad(product32)
    g32(np.ones(2, np.float32))
    out = _check(monkeypatch, g32, np.array([2.0, 3.0], np.float32))
    assert out.dtype == np.float32 and out.tolist() == [3.0, 2.0]


def test_kernel_without_result_writes_its_arrays(monkeypatch):
    d = ember.value_and_grad(squares_into, wrt=("x", "s"))
    x, out = np.array([1.0, 2.0]), np.zeros(2)
    d(x, 2.0, out)
    got, served = _native(monkeypatch, d, x, 2.0, out)
    written = out.copy()
    out[:] = 0.0
    want = d._call(x, 2.0, out)
    assert _same(got, want) and written.tolist() == out.tolist() == [2.0, 8.0]
    assert got[0] is None and served == (_dispatch is not None)


def test_keywords_defaults_and_none_patterns(monkeypatch):
    d = ember.grad(keyed)
    x, w = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    d(x)
    for args, kwargs in (((x,), {}), ((x, 3.0), {}), ((x,), {"p": 3.0, "scale": 2.0}),
                         ((), {"x": x, "scale": 2.0}), ((x, 3.0, None), {})):
        _check(monkeypatch, d, *args, **kwargs)
    assert d(x, 3.0, scale=2.0).tolist() == [12.0, -24.0]
    # another None-pattern: its own build, through the Python path
    got = _check(monkeypatch, d, x, 1.0, w, native=False)
    assert got.tolist() == [1.5, -18.0]
    with pytest.raises(TypeError, match=re.escape("keyed() got an unexpected keyword "
                                                  "argument 'q'")):
        d(x, q=1.0)


def test_each_call_returns_fresh_gradient_arrays():
    d = ember.grad(mixed)
    x = np.array([1.0, 2.0])
    first, second = d(x, 1.0, 2, False), d(x, 1.0, 2, False)
    assert first is not second and not np.shares_memory(first, second)
    assert first.flags.c_contiguous and first.flags.writeable and first.flags.owndata
    first[0] = 99.0
    assert second.tolist() == [2.0, 4.0] and d(x, 1.0, 2, False).tolist() == [2.0, 4.0]
    assert d(np.zeros(0), 1.0, 0, False).shape == (0,)


def _message(fn, *args):
    with pytest.raises((TypeError, ValueError)) as info:
        fn(*args)
    return info.type, str(info.value)


def test_errors_match_the_kernel_wording():
    d = ember.grad(mixed)
    x = np.ones(2)
    d(x, 1.0, 2, False)
    cases = [(x, 1.0, 2), (x, 1.0, 2, False, 1), (x.astype(np.float32), 1.0, 2, False),
             ([1.0, 2.0], 1.0, 2, False), (x, "a", 2, False), (np.ones((2, 2)), 1.0, 2, False),
             (x, 1.0, 2.5, False), (x.astype(">f8"), 1.0, 2, False)]
    for args in cases:
        kind, text = _message(d, *args)
        assert (kind, text) == _message(d._call, *args)
        want_kind, want = _message(mixed, *args)  # the kernel's error, but its own name
        assert kind is want_kind
        assert text.split("()", 1)[1] == want.split("()", 1)[1], (text, want)


def test_what_the_dispatcher_does_not_serve_takes_the_python_path(monkeypatch):
    d = ember.grad(mixed, wrt=("x", "s"))
    x = np.arange(6.0)
    d(x, 1.0, 3, False)
    got = _check(monkeypatch, d, x[::2], 1.0, 3, False, native=False)
    assert _same(got, d(np.ascontiguousarray(x[::2]), 1.0, 3, False))
    j = ember.jvp(poly, wrt="x")
    assert j(1.5, 2.0, tangents=(1.0,)) == (10.5, 6.0)
    v = ember.vjp(poly, wrt=("x", "y"))
    assert v(1.5, 2.0, cotangents=(2.0,)) == (12.0, 10.5)
    root = ember.grad(newton_sqrt)
    assert root(4.0) == pytest.approx(0.25, rel=1e-12)
    _check(monkeypatch, root, 9.0, native=False)


@ember.kernel
def newton_sqrt(a: float) -> float:
    y = a
    while abs(y * y - a) > 1e-13 * a:
        y = 0.5 * (y + a / y)
    return y


def test_numpy_zeros_slot_matches_the_headers():
    """run_derivative allocates shadows with numpy's PyArray_Zeros, by slot number."""
    header = os.path.join(np.get_include(), "numpy", "__multiarray_api.h")
    if not os.path.exists(header):
        pytest.skip("numpy installed without headers")
    with open(header) as f:
        text = f.read()
    with open(os.path.join(os.path.dirname(ember.__file__), "_dispatch.c")) as f:
        slot = re.search(r"#define API_ZEROS (\d+)", f.read()).group(1)
    assert re.search(rf"#define PyArray_Zeros\b[^#]*?PyArray_API\[{slot}\]", text)


@pytest.mark.skipif(_dispatch is None, reason="built without the C extension")
@pytest.mark.parametrize("spec, plan", [
    ("d", ("grad", "S", "", (-1,), True)),  # a shadow for a scalar
    ("A", ("grad", "S.", "", (-1,), True)),  # one mark per argument
    ("A", ("grad", ".", "", (-1,), True)),  # no such shadow
    ("A", ("grad", ".", "d", (1,), True)),  # no such result item
    ("A", ("jvp", ".", "d", (0,), True)),  # only grad and value_and_grad
    ("A", ("grad", ".", "d", (0, 0), True)),  # single: one gradient
])
def test_the_dispatcher_refuses_a_bad_plan(spec, plan):
    with pytest.raises(ValueError, match="unsupported derivative plan"):
        _dispatch.Dispatcher()._set_fast(1, spec, "td", print, np.ndarray, None, (), None, plan)
