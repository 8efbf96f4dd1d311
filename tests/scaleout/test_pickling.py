"""Pickle round trips of every public object kind in one process (issue 17, acceptance 1):
by reference for importable kernels (a small payload without source), by value for kernels
defined in functions, closures and pseudo-files; the unpickled object computes what the
original does on the same inputs; deepcopy; clear errors for what cannot travel.
Fresh processes: tests/scaleout/test_processes.py."""

import copy
import linecache
import math
import pickle
import sys

import numpy as np
import pytest
from main_kernels import cube, uses_cube  # cube's custom rule gives 5 dx, not 3x^2 dx

import ember
import ember.api.byvalue
import ember.api.pickling
from ember import f64
from ember.frontend.sourcetext import register_source

WEIGHTS = np.array([1.0, 2.0, 0.5])


@ember.kernel
def energy(x: f64[:]) -> float:
    """sum_i w_i x_i^2 + sin(x_i)."""
    s = 0.0
    for i in range(x.shape[0]):
        s += WEIGHTS[i % 3] * x[i] * x[i] + math.sin(x[i])
    return s


@ember.kernel
def scale_into(x: f64[:], out: f64[:], c: float) -> None:
    for i in range(x.shape[0]):
        out[i] = c * x[i] * x[i]


@ember.kernel
def spread(x: f64[:]) -> f64[:]:
    return x * x + 1.0


class Ops:
    @ember.kernel
    def twice(x: float) -> float:  # noqa: N805 - a kernel in a class namespace
        return 2.0 * x


X = np.array([0.3, -1.2, 2.0, 0.7])


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


def _run_as_main(text: str, name: str) -> dict:
    """The globals of `text` run as `__main__` from the pseudo-file `name` (a notebook cell)."""
    scope: dict = {"__name__": "__main__"}
    exec(compile(text, register_source(text, name), "exec"), scope)
    return scope


def make_closure(c: float, offset: tuple):
    """A kernel defined in a function: a closure constant, a tuple, a module kernel."""

    @ember.kernel
    def shifted(x: f64[:]) -> float:
        return c * energy(x) + offset[1]

    return shifted


def test_by_reference_is_small_and_the_same_object():
    for k in (energy, cube, Ops.twice):
        payload = pickle.dumps(k)
        assert len(payload) < 120 and b"def " not in payload and b"energy(x" not in payload
        assert pickle.loads(payload) is k
        assert copy.copy(k) is k and copy.deepcopy(k) is k
        assert copy.deepcopy([k, k])[0] is k
    assert roundtrip(Ops.twice)(3.0) == 6.0


def test_cloudpickle_register_pickle_by_value_sends_kernels_by_value():
    cloudpickle = pytest.importorskip("cloudpickle")
    module = sys.modules[energy.__module__]
    cloudpickle.register_pickle_by_value(module)
    try:
        payload = cloudpickle.dumps(energy)
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    assert b"def energy" in payload
    energy2 = pickle.loads(payload)
    assert energy2 is not energy and energy2(X) == energy(X)
    assert pickle.loads(pickle.dumps(energy)) is energy


def test_closure_by_value_computes_the_same_and_loads_from_the_cache():
    k = make_closure(2.5, (1.0, -3.0))
    expected = 2.5 * energy.py_func(X) - 3.0
    assert k(X) == pytest.approx(expected)
    payload = pickle.dumps(k)
    assert b"def shifted" in payload and len(payload) < 4000
    k2 = pickle.loads(payload)
    assert k2._compiled is None  # unpickling never compiles: the first call does
    assert k2 is not k and k2.__qualname__ == k.__qualname__ and repr(k2) == repr(k)
    assert k2.options == k.options
    assert k2(X) == k(X)
    assert k2.cache_hit  # same module, name, text and constants: the sender's cache key
    # its free names became globals holding the frozen values; the callee is the same object
    assert k2.py_func.__globals__["c"] == 2.5 and k2.py_func.__globals__["energy"] is energy
    assert copy.deepcopy(k) is k


def test_kernel_defined_in_a_function_calls_a_local_kernel():
    def build():
        table = np.linspace(0.0, 1.0, 4)

        @ember.kernel
        def inner(v: float) -> float:
            return v * v

        @ember.kernel
        def outer(x: f64[:]) -> float:
            s = 0.0
            for i in range(x.shape[0]):
                s += inner(x[i]) * table[i]
            return s

        return outer

    outer = build()
    outer2 = roundtrip(outer)
    assert outer2(X) == outer(X) == pytest.approx(float(np.sum(X * X * np.linspace(0, 1, 4))))
    inner2 = outer2.py_func.__globals__["inner"]
    assert isinstance(inner2, ember.Kernel) and inner2.__qualname__.endswith("inner")


def test_derivatives_and_transforms_round_trip():
    k = make_closure(1.5, (0.0, 0.25))  # by value underneath
    t = np.array([1.0, 0.5, -1.0, 2.0])
    cases = [
        (ember.grad(energy), (X,), {}),
        (ember.grad(k), (X,), {}),
        (ember.value_and_grad(energy), (X,), {}),
        (ember.grad(scale_into, wrt="x", outputs="out"), (X, np.zeros(4), 2.0), {}),
        (ember.value_and_grad(energy, checkpoint="binomial", snapshots=4), (X,), {}),
        (ember.jvp(energy), (X,), {"tangents": (t,)}),
        (ember.vjp(spread), (X,), {"cotangents": (t,)}),
        (ember.jacfwd(spread), (X,), {}),
        (ember.jacrev(spread).derivative, (X,), {"cotangents": (t,)}),
        (ember.jacrev(scale_into, wrt="x", outputs="out"), (X, np.zeros(4), 2.0), {}),
        (ember.hvp(energy), (X,), {"tangents": (t,)}),
        (ember.hessian(energy), (X,), {}),
        (ember.jacfwd(ember.grad(energy)), (X,), {}),
        (ember.vmap(energy), (np.stack([X, 2 * X]),), {}),
        (ember.vmap(ember.grad(energy)), (np.stack([X, 2 * X]),), {}),
        (ember.vmap(spread, parallel=True), (np.stack([X, X + 1]),), {}),
    ]
    for obj, args, kwargs in cases:
        obj2 = roundtrip(obj)
        assert type(obj2) is type(obj) and obj2 is not obj
        assert copy.deepcopy(obj) is obj
        if isinstance(obj, ember.Derivative):
            assert (obj2.kind, obj2.request, obj2.single) == (obj.kind, obj.request, obj.single)
        _same(obj(*args, **kwargs), obj2(*args, **kwargs), repr(obj))


def _same(a, b, what):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), what
        for x, y in zip(a, b, strict=True):
            _same(x, y, what)
        return
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=what)


def test_grad_of_the_unpickled_kernel_matches_finite_differences():
    g = roundtrip(ember.grad(make_closure(0.5, (0.0, 1.0))))
    h = 1e-6
    fd = [(energy.py_func(X + h * e) - energy.py_func(X - h * e)) / (2 * h) * 0.5
          for e in np.eye(4)]
    np.testing.assert_allclose(g(X), fd, rtol=1e-6, atol=1e-8)


def test_custom_jvp_travels_with_its_rule():
    assert roundtrip(cube) is cube and roundtrip(ember.grad(uses_cube))(X) == \
        pytest.approx(np.full(4, 5.0))

    def build():
        @ember.custom_jvp
        @ember.kernel
        def square(x: float) -> float:
            return x * x

        @square.defjvp
        def square_jvp(x: float, dx: float) -> float:
            return 7.0 * dx

        @ember.kernel
        def total(x: f64[:]) -> float:
            s = 0.0
            for i in range(x.shape[0]):
                s += square(x[i])
            return s

        return square, total

    square, total = build()
    square2 = roundtrip(square)
    assert type(square2) is type(square) and square2.jvp is not None
    assert square2(3.0) == 9.0 and square2.jvp(1.0, 2.0) == 14.0
    assert np.allclose(roundtrip(ember.grad(total))(X), 7.0)  # the rule, not 2x


def test_gpu_kernel_round_trips_without_compiling():
    @ember.kernel(target="gpu", gpu_arch="sm_80")
    def saxpy(a: float, x: f64[:], y: f64[:]) -> None:
        for i in ember.prange(x.shape[0]):
            y[i] = a * x[i] + y[i]

    saxpy2 = roundtrip(saxpy)
    assert saxpy2.options == saxpy.options and saxpy2.options.target == "gpu"
    assert saxpy2._compiled is None  # unpickling never compiles
    assert saxpy2.inspect("mlir") == saxpy.inspect("mlir")


def test_errors_in_a_pickled_kernel_point_at_the_users_lines():
    text = ("import ember\nfrom ember import f64\n\n\n@ember.kernel\n"
            "def broken(x: f64[:]) -> float:\n    return x[0] + 'text'\n")
    broken2 = roundtrip(_run_as_main(text, "<notebook cell 7>")["broken"])
    assert linecache.getlines("<notebook cell 7> (pickled)")[6] == "    return x[0] + 'text'\n"
    with pytest.raises(ember.CompileError) as err:
        broken2(X)
    assert 'File "<notebook cell 7> (pickled)", line 7, in broken' in str(err.value)
    assert "return x[0] + 'text'" in str(err.value)


def test_two_kernels_of_one_pseudo_file_share_its_registered_text():
    text = ("import ember\n\n@ember.kernel\ndef one(x: float) -> float:\n    return x + 1.0\n\n"
            "@ember.kernel\ndef two(x: float) -> float:\n    return one(x) * 2.0\n")
    two = roundtrip(_run_as_main(text, "<shared cell>")["two"])
    assert two(1.0) == 4.0 and two.py_func.__globals__["one"](2.0) == 3.0
    assert "".join(linecache.getlines("<shared cell> (pickled)")).strip() == \
        text.split("\n\n", 1)[1].strip()


def test_unpicklable_value_read_by_a_kernel_is_a_clear_error():
    transform = lambda v: v  # noqa: E731 - a lambda cannot be pickled

    @ember.kernel
    def uses_lambda(x: float) -> float:
        return transform(x)

    with pytest.raises(pickle.PicklingError, match=r"cannot pickle kernel '.*uses_lambda': "
                       r"the name 'transform' it reads is a function that cannot be pickled"):
        pickle.dumps(uses_lambda)


def test_kernel_without_source_is_a_clear_error():
    scope: dict = {"__name__": "__main__"}
    exec(compile("def nosrc(x: float) -> float:\n    return x\n", "<nowhere>", "exec"), scope)
    k = ember.kernel(scope["nosrc"])
    with pytest.raises(pickle.PicklingError, match="cannot pickle kernel 'nosrc' by value: "
                       "cannot read the source"):
        pickle.dumps(k)


@ember.vectorize(["float64(float64, float64)", "float32(float32, float32)"])
def hypot2(a, b):
    return a * a + b * b


def test_ufuncs_by_name_and_by_value():
    payload = pickle.dumps(hypot2)
    assert len(payload) < 120 and pickle.loads(payload) is hypot2

    def build():
        @ember.vectorize(["float64(float64, float64)"], identity=0)
        def plus_sq(a, b):
            return a + b * b

        @ember.guvectorize(["void(float64[:], float64[:], float64[:])"], "(n),(n)->()")
        def dot(x, y, out):
            s = 0.0
            for i in range(x.shape[0]):
                s += x[i] * y[i]
            out[0] = s

        return plus_sq, dot

    plus_sq, dot = build()
    plus_sq2, dot2 = roundtrip(plus_sq), roundtrip(dot)
    assert isinstance(plus_sq2, np.ufunc) and plus_sq2 is not plus_sq
    a, b = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(plus_sq2(a, b), plus_sq(a, b))
    assert plus_sq2.reduce(X) == plus_sq.reduce(X)
    np.testing.assert_array_equal(dot2(a, a), np.sum(a * a, axis=1))
    assert roundtrip(np.add) is np.add  # NumPy's own ufuncs: by name, as before


def test_plain_function_by_value():
    def make(k):
        def poly(v):
            return v * v + k * math.cos(v)
        return poly

    f = make(3.0)
    payload = pickle.dumps(ember.api.byvalue.by_value(f))
    g = pickle.loads(payload)
    assert g is not f and g(0.7) == f(0.7) and g.__qualname__ == f.__qualname__
    assert ember.api.pickling.portable(math.cos) is math.cos
    assert ember.api.pickling.portable(energy) is energy


def test_string_annotations_travel_and_other_strings_are_not_names():
    def build():
        energy_copy = energy
        lock = __import__("threading").Lock()  # unpicklable, named only inside strings

        @ember.kernel
        def halve(x: "f64[:]") -> "float":
            """lock"""
            s = 0.0
            for i in range(x.shape[0]):
                s += x[i] * 0.5
            return s + energy_copy(x[:0]) * 0.0

        return halve, lock

    halve, _ = build()
    halve2 = roundtrip(halve)
    assert "f64" in halve2.py_func.__globals__ and "lock" not in halve2.py_func.__globals__
    assert halve2(X) == halve(X) == pytest.approx(0.5 * X.sum())
