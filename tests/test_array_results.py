"""Array results through the C dispatcher (ember/_dispatch.c): the packed thunk stores the
result's memref descriptor and the dispatcher makes the ndarray. A buffer the kernel allocated
is owned by the array (freed when it dies); a descriptor lying in an argument's memory is a
view of that argument. The Python path (runtime/call.py) gives the same arrays."""

import ctypes
import importlib.util
import os
import re
import resource
import textwrap

import numpy as np
import pytest

import ember
from ember import f32, f64, i64, kernel
from ember import types as T
from ember._dispatch import Dispatcher, _live_buffers
from ember.runtime.abi import memref_struct
from ember.runtime.call import _array_from

DTYPES = ["boolean", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64"]

_SOURCE = '''
import numpy as np
from ember import {t}


def make1(n: int, m: int) -> {t}[:]:
    return np.ones(n, dtype=np.{np})


def make2(n: int, m: int) -> {t}[:, :]:
    a = np.ones(n, dtype=np.{np})
    b = np.zeros((n, m), dtype=np.{np})
    for i in range(n):
        b[i, i % m] = a[i]
    return b


def make3(n: int, m: int) -> {t}[:, :, :]:
    return np.ones((m, n, 2), dtype=np.{np})
'''


@kernel
def zeros(n: int) -> f64[:]:
    return np.zeros(n)


@kernel
def plus1(a: f64[:], k: i64) -> f32[:, :]:
    out = np.empty((a.shape[0], k), dtype=np.float32)
    for i in range(a.shape[0]):
        for j in range(k):
            out[i, j] = a[i] + j
    return out


@pytest.fixture(scope="module")
def makers(tmp_path_factory):
    """One kernel per element type (written to a module, as kernels need their source)."""
    folder = tmp_path_factory.mktemp("array_results")
    out = {}
    for t in DTYPES:
        np_name = getattr(T, t).np_dtype.name
        path = os.path.join(folder, f"make_{t}.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(_SOURCE.format(t=t, np=np_name)))
        spec = importlib.util.spec_from_file_location(f"make_{t}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[t] = [(ember.kernel(f), f) for f in (module.make1, module.make2, module.make3)]
    return out


def _same_array(got, want):
    assert type(got) is np.ndarray
    assert got.dtype == want.dtype and got.dtype.num == want.dtype.num  # thunks compare .num
    assert got.shape == want.shape
    assert got.strides == want.strides or got.size == 0  # numpy's differ for empty arrays
    assert got.flags.writeable and got.flags.aligned
    assert got.flags.c_contiguous == want.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


def test_fast_path_specs():
    assert zeros.compile().fast_spec == ("q", "1d") and zeros.compile().packed is not None
    assert plus1.compile().fast_spec == ("Aq", "2f")


def test_fast_path_builds_the_array():
    zeros.compile()
    r = zeros(5)
    assert type(r.base).__name__ == "Buffer"  # the C owner, not runtime/call.py's _Owner
    _same_array(r, np.zeros(5))


@pytest.mark.parametrize("t", DTYPES)
@pytest.mark.parametrize("n, m", [(3, 2), (0, 4), (1, 1), (2, 5)])
def test_every_dtype_and_rank(makers, t, n, m):
    for fast, py in makers[t]:
        fast.compile()
        got, want = fast(n, m), py(n, m)
        _same_array(got, want)
        assert type(got.base).__name__ == "Buffer"
        _same_array(fast._compiled.entry(n, m), want)  # the ctypes path: the same array


def test_a_second_array_argument():
    a = np.array([1.0, -2.0, 4.0])
    got = plus1(a, 2)
    _same_array(got, np.array([[1, 2], [-2, -1], [4, 5]], dtype=np.float32))


def test_owned_buffers_are_freed():
    zeros.compile()
    before = _live_buffers()
    kept = [zeros(10) for _ in range(100)]
    assert _live_buffers() == before + 100
    del kept
    assert _live_buffers() == before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(100_000):  # 8 KB each: leaking would add 800 MB
        zeros(1000)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown_kb < 100_000
    assert _live_buffers() == before


def test_wrong_arguments_keep_their_errors():
    plus1.compile()
    with pytest.raises(TypeError, match="'a'"):
        plus1(np.zeros(3, np.float32), 1)
    with pytest.raises(TypeError, match="'a'"):
        plus1([1.0], 1)
    with pytest.raises(OverflowError, match="'k'"):
        plus1(np.zeros(3), 2**70)
    strided = np.arange(6.0)[::2]  # the strided variant, through the dispatcher too
    _same_array(plus1(strided, 1), np.array([[0], [2], [4]], dtype=np.float32))
    _same_array(plus1(a=np.zeros(1), k=1), np.zeros((1, 1), np.float32))  # keywords: Python path


# --- descriptors fed directly: strides, views of arguments ------------------------------------
_PACKED = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p)
_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]


def _descriptor(ndim, allocated, aligned, offset, sizes, strides):
    desc = memref_struct(ndim)()
    desc.allocated, desc.aligned, desc.offset = allocated, aligned, offset
    for d in range(ndim):
        desc.sizes[d], desc.strides[d] = sizes[d], strides[d]
    return desc


class _Path(Dispatcher):
    pass


def _fake_kernel(result, spec, dtypes):
    """A Dispatcher whose 'packed thunk' (a ctypes callback taking one array) stores the
    bytes of `result` (a ctypes object) as the result."""

    def thunk(slots, out):
        ctypes.memmove(out, ctypes.addressof(result), ctypes.sizeof(result))
        return 0

    fn = _PACKED(thunk)
    path = _Path()
    path._set_fast(ctypes.cast(fn, ctypes.c_void_p).value, "A", spec,
                   lambda a: pytest.fail("slow path"), np.ndarray, None, dtypes)
    path.keep = (fn, result)
    return path


def _returning(desc, code="d"):
    dtype = T.f64.np_dtype if code == "d" else T.boolean.np_dtype
    return _fake_kernel(desc, f"{desc.sizes._length_}{code}", (dtype,))


def test_a_tuple_of_scalars_and_arrays():
    a = np.arange(6.0)
    desc = _descriptor(1, a.ctypes.data, a.ctypes.data, 1, (2,), (3,))
    buf = _libc.malloc(16)
    ctypes.memmove(buf, np.array([7, 8], np.int32).ctypes.data, 8)
    owned = _descriptor(2, buf, buf, 0, (1, 2), (2, 1))
    fields = [("x", ctypes.c_double), ("v", type(desc)), ("n", ctypes.c_int64),
              ("w", type(owned))]
    result = type("R", (ctypes.Structure,), {"_fields_": fields})(2.5, desc, -3, owned)
    before = _live_buffers()
    x, v, n, w = _fake_kernel(result, "td1dq2i", (np.dtype(np.float64), np.dtype(np.int32)))(a)
    assert (x, n) == (2.5, -3) and v.base is a and v.tolist() == [1.0, 4.0]
    assert w.dtype == np.int32 and w.tolist() == [[7, 8]] and _live_buffers() == before + 1
    del w
    assert _live_buffers() == before


def test_unsupported_specs_are_refused():
    for spec, dtypes in [("1d", ()), ("t1d", (np.dtype(np.float64),) * 2), ("1x", ()),
                         ("9d" * 4, (np.dtype(np.float64),) * 4), ("dd", ())]:
        with pytest.raises(ValueError, match="unsupported dispatcher spec"):
            _Path()._set_fast(0, "", spec, print, np.ndarray, None, dtypes)
    with pytest.raises(TypeError, match="dtypes"):
        _Path()._set_fast(0, "", "1d", print, np.ndarray, None, (np.float64,))


VIEWS = [  # (sizes, strides in elements, offset): what views of a (4, 6) array can be
    ((2, 3), (6, 1), 7),
    ((4, 3), (6, 2), 0),
    ((3, 6), (-6, 1), 18),
    ((4, 2), (1, -6), 18),
    ((5, 6), (0, 1), 0),  # a broadcast row
    ((0, 3), (6, 1), 0),
]


@pytest.mark.parametrize("sizes, strides, offset", VIEWS)
def test_a_result_in_an_arguments_memory_is_its_view(sizes, strides, offset):
    a = np.arange(24.0).reshape(4, 6).copy()  # owns its memory: the base of its views
    data = a.ctypes.data
    desc = _descriptor(2, data, data, offset, sizes, strides)
    want = np.lib.stride_tricks.as_strided(a.ravel()[offset:], sizes, [8 * s for s in strides])
    for got in (_returning(desc)(a), _array_from(desc, T.Array(T.f64, 2), (a,))):
        assert got.base is a and np.shares_memory(got, a) or got.size == 0
        assert got.shape == sizes and got.strides == tuple(8 * s for s in strides)
        np.testing.assert_array_equal(got, want)


def test_a_view_keeps_its_argument_alive_and_read_only():
    base = np.arange(12.0)
    a = base[2:]  # numpy collapses the result's base to the array owning the memory
    a.flags.writeable = False
    desc = _descriptor(1, a.ctypes.data, a.ctypes.data, 1, (3,), (2,))
    for got in (_returning(desc)(a), _array_from(desc, T.Array(T.f64, 1), (a,))):
        assert got.base is base and not got.flags.writeable
        np.testing.assert_array_equal(got, [3.0, 5.0, 7.0])
    owned = np.arange(5.0)
    desc = _descriptor(1, owned.ctypes.data, owned.ctypes.data, 0, (5,), (1,))
    got = _returning(desc)(owned)
    del owned
    np.testing.assert_array_equal(got, np.arange(5.0))  # still alive through got.base


def test_an_owned_descriptor_is_freed_with_its_array():
    buf = _libc.malloc(6)
    ctypes.memmove(buf, bytes([1, 0, 1, 1, 0, 1]), 6)
    desc = _descriptor(2, buf, buf, 0, (3, 2), (1, 3))  # F order, bool: 1 byte per element
    before = _live_buffers()
    got = _returning(desc, "?")(np.zeros(1))
    assert _live_buffers() == before + 1 and got.dtype == np.bool_
    assert got.strides == (1, 3) and got.tolist() == [[True, True], [False, False], [True, True]]
    del got
    assert _live_buffers() == before


def test_numpy_api_slots_match_the_headers():
    """_dispatch.c calls numpy's C API through its capsule by slot numbers (no headers at
    build time); check them against the installed numpy's."""
    header = os.path.join(np.get_include(), "numpy", "__multiarray_api.h")
    if not os.path.exists(header):
        pytest.skip("numpy installed without headers")
    text = _read(header)
    source = _read(os.path.join(os.path.dirname(ember.__file__), "_dispatch.c"))
    names = {"GET_NDARRAY_C_VERSION": "PyArray_GetNDArrayCVersion",
             "DESCR_TYPE": "PyArrayDescr_Type", "NEW_FROM_DESCR": "PyArray_NewFromDescr",
             "SET_BASE_OBJECT": "PyArray_SetBaseObject"}
    for macro, name in names.items():
        slot = re.search(rf"#define API_{macro} (\d+)", source).group(1)
        assert re.search(rf"#define {name}\b[^#]*?PyArray_API\[{slot}\]", text), name
    config = _read(os.path.join(np.get_include(), "numpy", "_numpyconfig.h"))
    assert "#define NPY_ABI_VERSION 0x02000000" in config  # NPY_ABI_2: numpy 2's table


def _read(path):
    with open(path) as f:
        return f.read()


@kernel
def padded_interior(x: f64[:]) -> f64[:]:
    out = np.zeros(x.size + 2)
    out[1:-1] = x * 2.0
    out[0] = -1.0
    return out[1:-1]


@kernel
def every_other_column(n: int) -> f64[:, :]:
    a = np.arange(n * 4.0).reshape(n, 4)
    v = a[:, ::-2].T  # a view of a view of a new array, through a variable
    return v


@kernel
def calls_view_maker(x: f64[:]) -> float:
    s = 0.0
    for _ in range(3):
        inner = padded_interior(x)  # the caller frees the whole buffer
        s += inner[0] + inner[inner.size - 1]
    return s


def test_returned_views_of_new_arrays():
    x = np.array([1.0, 2.0, 3.0])
    got = padded_interior(x)
    _same_array(got, x * 2.0)
    assert got.base is not None and not got.flags.owndata
    assert type(padded_interior(x).base).__name__ == "Buffer"  # the C fast path
    _same_array(every_other_column(3), np.arange(12.0).reshape(3, 4)[:, ::-2].T)
    assert calls_view_maker(x) == 3 * (2.0 + 6.0)
    before = _live_buffers()
    kept = [padded_interior(x) for _ in range(50)]
    assert _live_buffers() == before + 50
    del kept
    assert _live_buffers() == before
