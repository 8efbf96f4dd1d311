"""ember.vectorize: real NumPy ufuncs from scalar kernels, checked against np.vectorize of the
same Python function and against Numba's @vectorize (broadcasting, out=, where=, dtype=, several
signatures, reduce/accumulate/reduceat/outer, strided and empty inputs, the parallel target,
the dynamic (signature-less) form, errors)."""

import math
import pickle
import re

import numpy as np
import pytest
from ufunc_checks import same_array

import ember
from ember import CompileError

numba = pytest.importorskip("numba")

SIGS = ["float64(float64, float64)", "float32(float32, float32)", "int64(int64, int64)"]


def mix(x, y):
    if x > y:
        return x * y - (x - y)
    return x + 2 * y


def add(x, y):
    return x + y


def smooth(x):
    return math.exp(-x * x) + math.sqrt(abs(x))


@ember.vectorize(["float64(float64)"])
def halve(x):
    return x / 2.0


@ember.vectorize
def dynamic_sub(x, y):
    return x - y


@pytest.fixture(scope="module")
def pair():
    """(ember ufunc, numba ufunc, np.vectorize) of `mix` with three signatures."""
    return (ember.vectorize(SIGS)(mix), numba.vectorize(SIGS)(mix),
            np.vectorize(mix, otypes=[float]))


@pytest.fixture(scope="module")
def adders():
    sigs = ["float64(float64, float64)", "int64(int64, int64)"]
    return ember.vectorize(sigs, identity=0)(add), numba.vectorize(sigs, identity=0)(add)


def test_a_real_ufunc(pair):
    u, nu, _ = pair
    assert isinstance(u, np.ufunc)
    assert (u.nin, u.nout, u.__name__) == (2, 1, "mix")
    assert u.types == nu.types == ["dd->d", "ff->f", "ll->l"]
    assert isinstance(halve, np.ufunc) and halve.signature is None


@pytest.mark.parametrize("shapes", [((7,), (7,)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)),
                                    ((), ()), ((5,), ()), ((0,), (0,)), ((2, 0), (1, 0))])
def test_broadcasting_vs_numpy_and_numba(pair, shapes):
    u, nu, pv = pair
    rng = np.random.default_rng(len(shapes[0]))
    x, y = (rng.normal(size=s) for s in shapes)
    same_array(u(x, y), nu(x, y))
    same_array(u(x, y), pv(x, y))
    xi, yi = (np.asarray(rng.integers(-9, 9, size=s)) for s in shapes)
    same_array(u(xi, yi), nu(xi, yi, signature="ll->l"))  # NumPy picks the exact loop; Numba's
    same_array(u(xi, yi), np.vectorize(mix, otypes=[np.int64])(xi, yi))


def test_python_scalars_and_0d(pair):
    u, nu, _ = pair
    assert u(2.0, 3.0) == mix(2.0, 3.0) and isinstance(u(2.0, 3.0), np.float64)
    assert u(5, 3) == mix(5, 3) and isinstance(u(5, 3), np.float64)  # weak ints (NEP 50)
    same_array(u(np.float64(1.5), np.arange(3.0)), nu(np.float64(1.5), np.arange(3.0)))


def test_out_where_dtype(pair):
    u, nu, pv = pair
    x, y = np.linspace(-2, 2, 12).reshape(3, 4), np.linspace(1, -1, 4)
    out = np.full((3, 4), -7.0)
    assert u(x, y, out=out) is out
    same_array(out, pv(x, y))
    mask = x > 0
    out[...] = -7.0
    u(x, y, out=out, where=mask)
    same_array(out, np.where(mask, pv(x, y), -7.0))
    xi, yi = np.arange(6), np.arange(6)[::-1].copy()
    same_array(u(xi, yi, dtype=np.float64), nu(xi, yi, dtype=np.float64))
    same_array(u(xi, yi, dtype=np.float64), pv(xi.astype(float), yi.astype(float)))
    with pytest.raises(TypeError):  # numpy's casting rules: no float loop result into ints
        u(x, y, out=np.empty((3, 4), np.int64))


def test_float32_loop(pair):
    u, nu, _ = pair
    x = np.linspace(-3, 3, 50, dtype=np.float32)
    y = np.float32(0.5) * x[::-1]
    same_array(u(x, y), nu(x, y, signature="ff->f"))  # Numba's ufunc would pick dd->d
    same_array(u(x, y), np.array([mix(a, b) for a, b in zip(x, y, strict=True)], np.float32))


def test_strided_and_negative_strides(pair):
    u, nu, pv = pair
    a = np.random.default_rng(1).normal(size=(40, 30))
    for x, y in [(a[::-1], a[::2][:20].repeat(2, 0)), (a.T, a.T[::-1]), (a[:, ::-3], a[::4, ::3][:1]),
                 (np.asfortranarray(a), a), (a[::2, 1::2], 0.5)]:
        same_array(u(x, y), pv(x, y))
        same_array(u(x, y), nu(x, y))


def test_unaligned_byteswapped_and_record_fields(pair):
    """NumPy hands legacy loops aligned native data (it buffers the rest)."""
    u, _, pv = pair
    buf = np.zeros(8 * 50 + 1, np.uint8)
    x = buf[1:].view(np.float64)
    x[:] = np.linspace(-1, 1, 50)
    assert not x.flags.aligned
    same_array(u(x, x[::-1]), pv(x, x[::-1]))
    same_array(u(x.astype(">f8"), 0.5), pv(x, 0.5))
    rec = np.zeros(50, dtype=[("tag", "i1"), ("v", "f8")])
    rec["v"] = x
    assert rec["v"].strides == (9,)
    same_array(u(rec["v"], x), pv(x, x))


def test_reduce_accumulate_reduceat_outer(adders):
    u, nu = adders
    assert u.identity == nu.identity == 0
    x = np.arange(1.0, 13.0).reshape(3, 4)
    for axis in (0, 1, None):
        same_array(u.reduce(x, axis=axis), nu.reduce(x, axis=axis))
        same_array(u.reduce(x, axis=axis), np.add.reduce(x, axis=axis))
    same_array(u.reduce(np.empty(0)), np.float64(0.0))  # the identity
    same_array(u.accumulate(x, axis=1), np.add.accumulate(x, axis=1))
    same_array(u.reduceat(np.arange(10.0), [0, 4, 7]), np.add.reduceat(np.arange(10.0), [0, 4, 7]))
    same_array(u.outer(np.arange(3.0), np.arange(4.0)), nu.outer(np.arange(3.0), np.arange(4.0)))
    same_array(u.outer(np.arange(3), np.arange(4)), np.add.outer(np.arange(3), np.arange(4)))
    same_array(u.reduce(np.arange(10)[::-2]), np.int64(25))
    acc = np.zeros(4)
    u.at(acc, [0, 1, 1, 3], 1.0)
    same_array(acc, np.array([1.0, 2.0, 0.0, 1.0]))


def test_identities():
    def biggest(x, y):
        return max(x, y)

    for identity, empty in (("reorderable", None), (None, None), (-np.inf, -np.inf), (1, 1.0)):
        u = ember.vectorize(["float64(float64, float64)"], identity=identity)(biggest)
        assert u.reduce(np.array([1.0, 5.0, 3.0])) == 5.0
        if empty is None:
            with pytest.raises(ValueError, match="no identity"):
                u.reduce(np.empty(0))
        else:
            assert u.reduce(np.empty(0)) == empty
    assert u.reduce(np.array([[1.0, 7.0], [4.0, 2.0]]), axis=None) == 7.0


def test_parallel_target():
    pu = ember.vectorize(["float64(float64)", "float32(float32)"], target="parallel")(smooth)
    su = numba.vectorize(["float64(float64)", "float32(float32)"], target="parallel")(smooth)
    x = np.linspace(-5, 5, 300_001)
    same_array(pu(x), su(x), exact=False)
    same_array(pu(x), np.vectorize(smooth)(x), exact=False)
    same_array(pu(x[::-3]), su(x[::-3]), exact=False)
    same_array(pu(x[:3].astype(np.float32)), su(x[:3].astype(np.float32)), exact=False)
    same_array(pu(np.empty(0)), np.empty(0))


def test_dynamic_ufunc():
    d = ember.vectorize(mix)
    assert isinstance(d, ember.api.ufunc.DynamicUFunc) and d.ufunc is None
    x, xi = np.linspace(-1, 1, 9), np.arange(9)
    same_array(d(x, 0.25), np.vectorize(mix)(x, 0.25))
    same_array(d(xi, 3), np.vectorize(mix)(xi, 3))
    assert sorted(d.types) == ["dd->d", "ll->l"]
    assert isinstance(d.ufunc, np.ufunc)
    same_array(d(x, x), np.vectorize(mix)(x, x))  # no new loop
    assert len(d.types) == 2
    a = ember.vectorize(identity=0)(add)
    same_array(a.reduce(np.arange(5.0)), np.float64(10.0))
    same_array(a.outer(np.arange(2), np.arange(3)), np.add.outer(np.arange(2), np.arange(3)))


def test_kernel_raise_reaches_the_caller():
    def checked(x):
        if x < 0.0:
            raise ValueError("negative input")
        return math.sqrt(x)

    u = ember.vectorize(["float64(float64)"])(checked)
    same_array(u(np.array([4.0, 9.0])), np.array([2.0, 3.0]))
    with pytest.raises(ValueError, match="negative input"):
        u(np.array([1.0, -1.0]))


def test_parallel_raise_on_any_thread():
    def checked(x):
        if x < 0.0:
            raise ValueError(f"negative input {x}")
        return math.sqrt(x)

    u = ember.vectorize(["float64(float64)"], target="parallel")(checked)
    x = np.arange(200_000.0)
    same_array(u(x), np.sqrt(x))
    for bad in (10, 150_000):  # the first thread's chunk and a later thread's
        y = x.copy()
        y[bad] = -3.0
        with pytest.raises(ValueError, match="negative input -3.0"):
            u(y)


def test_prange_calling_a_raising_kernel():
    """Not only ufuncs: a prange worker whose callee raises gets an error frame per thread."""
    @ember.kernel
    def inner(x: float) -> float:
        if x < 0.0:
            raise ValueError("negative")
        return x

    @ember.kernel
    def outer(a: ember.f64[:], o: ember.f64[:]):
        for i in ember.prange(a.shape[0]):
            o[i] = inner(a[i])

    a, o = np.arange(100_000.0), np.empty(100_000)
    a[90_000] = -1.0
    with pytest.raises(ValueError, match="negative"):
        outer(a, o)


def test_pickle_by_reference_and_spec():
    assert pickle.loads(pickle.dumps(halve)) is halve
    assert halve(np.array([3.0]))[0] == 1.5
    assert pickle.loads(pickle.dumps(dynamic_sub)) is dynamic_sub
    spec = halve.__ember_ufunc__  # what pickling by value rebuilds from
    assert (spec.func.__name__, spec.signatures, spec.layout) == ("halve", ("float64(float64)",),
                                                                 None)
    again = spec.build()
    assert again is not halve and again.types == ["d->d"] and again(3.0) == 1.5


def test_kernel_objects_are_accepted():
    @ember.kernel(fastmath=True)
    def cube(x: float) -> float:
        return x * x * x

    u = ember.vectorize(["float64(float64)", "float32(float32)"])(cube)
    same_array(u(np.arange(4.0)), np.arange(4.0) ** 3)
    same_array(u(np.arange(4, dtype=np.float32)), np.arange(4, dtype=np.float32) ** 3)


@pytest.mark.parametrize("sig, message", [
    ("float64(float64", "is not 'return_type(argument_types)'"),
    ("float64(flot64, float64)", "unknown type 'flot64'"),
    ("real(float64, float64)", "unknown return type 'real'"),
])
def test_bad_signature_strings(sig, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ember.vectorize([sig])(add)


def test_refusals():
    with pytest.raises(CompileError, match="vectorize maps scalars to scalars"):
        ember.vectorize(["void(float64[:], float64[:])"])(add)
    with pytest.raises(CompileError, match="2 parameter"):
        ember.vectorize(["float64(float64)"])(add)
    with pytest.raises(ValueError, match="not a ufunc target"):
        ember.vectorize(["float64(float64)"], target="cuda")(halve)
    with pytest.raises(ValueError, match="empty"):
        ember.vectorize([])(add)

    def arr(x):
        return np.zeros(3) + x

    with pytest.raises(CompileError, match="must return a scalar"):
        ember.vectorize(["float64(float64)"])(arr)


def test_pickle_by_value_in_a_fresh_process():
    """A ufunc that is not importable by name (made in a function) travels by value."""
    import subprocess
    import sys

    def scaled(x):
        return 3.0 * x - 1.0

    u = ember.vectorize(["float64(float64)"])(scaled)
    d = ember.vectorize(scaled)
    same = pickle.loads(pickle.dumps(u))
    assert same is not u and same(2.0) == 5.0 and pickle.loads(pickle.dumps(d))(2.0) == 5.0
    code = ("import pickle, sys, numpy as np; u, d = pickle.loads(sys.stdin.buffer.read()); "
            "assert isinstance(u, np.ufunc); print(u(np.arange(3.0)).tolist(), d(2))")
    proc = subprocess.run([sys.executable, "-c", code], input=pickle.dumps((u, d)),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().split() == ["[-1.0,", "2.0,", "5.0]", "5.0"]
