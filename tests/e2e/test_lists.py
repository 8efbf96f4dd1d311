"""Local Python lists in kernels (issue 14, "Lists") against CPython on the same inputs.

Each kernel exercises several operations: literals (numbers, variables, expressions, mixed
int/float), appends growing the buffer past several doublings, len, indexing with negative
indices, item stores and augmented stores, iteration and enumerate, `in`/`not in`, sum/min/max,
pop/extend/clear/copy/slices, np.array(lst) and lists returned as arrays (the CPython side's
list goes through np.array, which gives the dtype NumPy would). 0-length lists included.
"""

import numpy as np
import pytest

import ember
from ember import CompileError, f32, f64, i64


def same(fn, *args, **options):
    """The kernel's result (arrays, scalars, or a tuple of them) equals CPython's, where
    CPython's lists become np.array(...)."""
    got = ember.kernel(fn, **options)(*args) if options else ember.kernel(fn)(*args)
    want = fn(*args)
    got_t = got if isinstance(got, tuple) else (got,)
    want_t = want if isinstance(want, tuple) else (want,)
    assert len(got_t) == len(want_t)
    for g, w in zip(got_t, want_t, strict=True):
        if isinstance(w, list):
            w = np.array(w) if w else np.array(w, dtype=g.dtype)
            assert isinstance(g, np.ndarray) and g.dtype == w.dtype, (g, w)
        np.testing.assert_array_equal(g, w)
    return got


def literals(x: float, k: int) -> tuple[f64[:], i64[:], f64[:], f64[:]]:
    a = [1.0, 2.0, 3.0]
    ks = [1, 2, 4, k]
    mixed = [1, 2.5, k]
    exprs = [x, k, x * k, -x]
    return np.array(a), np.array(ks), np.array(mixed), np.array(exprs)


@pytest.mark.parametrize("x, k", [(1.5, 3), (-0.25, -7)])
def test_literals_promote_like_numpy(x, k):
    same(literals, x, k)


def grow(n: int, x: float) -> tuple[f64[:], int, float, float, float]:
    b = []
    for i in range(n):
        b.append(i * x)
    first = 0.0
    last = 0.0
    if len(b) > 0:
        first = b[0]
        last = b[-1]
    total = 0.0
    for v in b:
        total += v
    return b, len(b), first, last, total


@pytest.mark.parametrize("n", [0, 1, 8, 9, 100, 1000])
def test_append_grows_past_doublings(n):
    same(grow, n, 0.5)


def indexing(n: int, i: int, v: float) -> tuple[f64[:], float, float, int]:
    b = [0.5, 1.5, 2.5]
    for k in range(n):
        b.append(k + 0.25)
    b[i] = v
    b[-1] += 10.0
    b[0] *= 2
    head = b[-len(b)]
    return b, head, b[i], len(b)


@pytest.mark.parametrize("n, i", [(0, -3), (0, 2), (5, -2), (5, 6), (20, -20)])
def test_index_negative_and_store(n, i):
    same(indexing, n, i, 7.0)


def iteration(n: int, probe: int) -> tuple[i64[:], int, int, bool, bool, bool, bool]:
    b = [3, 1, 4, 1, 5]
    for k in range(n):
        b.append(k * k)
    weighted = 0
    for i, v in enumerate(b):
        weighted += i * v
    shifted = 0
    for i, v in enumerate(b, 10):
        shifted += i - v
    return (b, weighted, shifted, probe in b, probe not in b, probe in [2, 7, 9],
            probe not in [])


@pytest.mark.parametrize("n, probe", [(0, 4), (0, 2), (6, 25), (6, 30)])
def test_iteration_enumerate_and_in(n, probe):
    same(iteration, n, probe)


def reductions(n: int, x: float) -> tuple[float, float, float, int, float]:
    b = [x, -x, 2.0 * x]
    for k in range(n):
        b.append(np.sin(k * x))
    c = [1, 5, 3]
    return sum(b), min(b), max(b), sum(c), np.mean(b)


@pytest.mark.parametrize("n", [0, 3, 50])
def test_sum_min_max_and_numpy_functions(n):
    got = ember.kernel(reductions)(n, 0.75)
    want = reductions(n, 0.75)
    assert got[:4] == want[:4]
    assert got[4] == pytest.approx(want[4], rel=1e-15)


def methods(n: int) -> tuple[f64[:], f64[:], f64[:], float, int]:
    b = [1.0, 2.0]
    b.extend([3.0, 4.5])
    for k in range(n):
        b.append(k / 4)
    c = b.copy()
    b.extend(c)
    b += [9.0]
    last = b.pop()
    b.pop()
    d = c[1:-1]
    c.clear()
    c.append(last)
    return b, c, d, last, len(d)


@pytest.mark.parametrize("n", [0, 7, 40])
def test_extend_pop_copy_clear_slice(n):
    same(methods, n)


def growing_ints(n: int) -> f64[:]:
    b = [1, 2]
    for k in range(n):
        b.append(k)
    b.append(0.5)  # a float makes the whole list float, as a variable would be
    return b


def f32_list(x: f32, n: int) -> f32[:]:
    b = [x]
    for k in range(n):
        b.append(x * k)
    return b


def annotated(n: int) -> tuple[f64[:], i64[:]]:
    b: list[float] = []
    c: list[int] = []
    for k in range(n):
        b.append(k)
        c.append(k * k)
    return b, c


def test_element_types():
    same(growing_ints, 10)
    got = same(f32_list, np.float32(1.5), 12)
    assert got.dtype == np.float32
    for n in (0, 30):  # the annotation gives the element type (CPython ignores it)
        b, c = ember.kernel(annotated)(n)
        assert b.dtype == np.float64 and c.dtype == np.int64
        np.testing.assert_array_equal(b, np.arange(n))
        np.testing.assert_array_equal(c, np.arange(n) ** 2)


def branches(n: int, x: float) -> f64[:]:
    evens = []
    odds = []
    for k in range(n):
        if k % 2 == 0:
            evens.append(k * x)
        else:
            odds.append(k * x)
            if k % 3 == 0:
                evens.append(-1.0)
    out = []
    for v in evens:
        out.append(v)
    while len(odds) > 0:
        out.append(odds.pop())
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 37])
def test_lists_in_branches_and_while(n):
    same(branches, n, 1.25)


def index_error(i: int) -> float:
    b = [1.0, 2.0, 3.0]
    return b[i]


def store_error(i: int, v: float) -> f64[:]:
    b = [1.0, 2.0, 3.0]
    b[i] = v
    b[i - 1] += v
    return b


def pop_empty(n: int) -> float:
    b = []
    for k in range(n):
        b.append(k * 1.0)
    return b.pop()


def min_empty(n: int) -> float:
    b = [0.0]
    b.pop()
    for k in range(n):
        b.append(k * 1.0)
    return min(b)


def test_run_time_errors_match_cpython():
    checked = ember.kernel(index_error, boundscheck=True)
    assert checked(-3) == 1.0 and checked(2) == 3.0
    for i in (3, -4):
        with pytest.raises(IndexError, match="list index out of range"):
            checked(i)
    stores = ember.kernel(store_error, boundscheck=True)
    for i in (-2, 0, 2):
        np.testing.assert_array_equal(stores(i, 0.5), store_error(i, 0.5))
    with pytest.raises(IndexError, match="^list assignment index out of range$"):
        stores(3, 1.0)
    with pytest.raises(IndexError, match="^list index out of range$"):
        stores(-3, 1.0)  # b[-4] += v reads first
    with pytest.raises(IndexError, match="pop from empty list"):
        ember.kernel(pop_empty)(0)
    assert ember.kernel(pop_empty)(3) == 2.0
    with pytest.raises(ValueError, match=r"min\(\) arg is an empty sequence"):
        ember.kernel(min_empty)(0)


def in_prange_local(n: int) -> f64[:]:
    out = np.zeros(n)
    for i in ember.prange(n):
        b = [1.0 * i]
        for k in range(i):
            b.append(k)
        out[i] = sum(b)
    return out


def test_list_local_to_prange_iteration():
    same(in_prange_local, 50)


def test_unannotated_list_return_is_refused():
    def f(n: int):
        b = [1.0]
        return b

    with pytest.raises(CompileError, match="annotate it, e.g. '-> f64"):
        ember.kernel(f)(1)


def assorted(n: int, c: bool) -> tuple[f64[:], f32[:], i64[:], int, float, float]:
    b = [1.0] if c else [2.0, 3.0]
    for x in [1, 2, 4]:
        if x in [2, 4]:
            b.append(x * 0.5)
    for k in range(n):
        b.append(b[-1] * 0.5 + k)
    arr = np.array(b, dtype=np.float32)
    c2 = list(b)
    c2.append(-1.0)
    tail = c2[1:]
    flags = [True, False, c]
    ints = [3, 1, 2]
    s = 0.0
    for i in range(len(tail)):
        s += tail[i] * ints[i % len(ints)]
    z = 0.0
    for u, v in zip(tail, ints, strict=False):
        z += u * v
    return tail, arr, np.array(ints), sum(flags), s, z


@pytest.mark.parametrize("n, c", [(0, True), (0, False), (12, True)])
def test_branches_literal_loops_copies_zip(n, c):
    same(assorted, n, c)
    same(assorted, n, c, boundscheck=True)


def truthiness(n: int) -> tuple[f64[:], int, bool]:
    todo = [1.0, 2.0]
    for k in range(n):
        todo.append(k * 3.0)
    done = []
    while todo:
        v = todo.pop()
        if not done or v > done[-1]:
            done.append(v)
    empty = []
    empty.append(1)
    empty.pop()
    return done, len(done), bool(empty) or not empty


@pytest.mark.parametrize("n", [0, 5])
def test_list_truth_value(n):
    same(truthiness, n)


def early_exits(n: int, stop: float) -> tuple[int, float, int]:
    b = [3.0, -1.0, 2.0]
    for k in range(n):
        b.append(k - 2.5)
    found = -1
    for i, v in enumerate(b):
        if v == stop:
            found = i
            break
    total = 0.0
    for v in b:
        if v < 0:
            continue
        total += v
    else:
        total += 100.0
    for v in b:
        if v > 5:
            return found, total, 1
    return found, total, 0


@pytest.mark.parametrize("n, stop", [(0, 2.0), (10, 4.5), (10, 42.0)])
def test_break_continue_return_in_list_loops(n, stop):
    same(early_exits, n, stop)


def ordering(n: int, probe: float) -> tuple[f64[:], f64[:], f64[:], int, int]:
    b = [2.5, -1.0, 2.5]
    for k in range(n):
        b.append((k * 7) % 5 - 1.5)
    s = sorted(b)
    b.reverse()
    r = b.copy()
    b.sort()
    first = -1
    if probe in b:
        first = b.index(probe)
    return b, s, r, first, b.count(2.5)


@pytest.mark.parametrize("n, probe", [(0, 2.5), (9, -1.5), (9, 7.0)])
def test_sort_reverse_index_count(n, probe):
    same(ordering, n, probe)


def missing(v: float) -> int:
    b = [1.0, 2.0]
    return b.index(v)


def test_index_of_missing_value():
    assert ember.kernel(missing)(2.0) == 1
    with pytest.raises(ValueError, match=r"^3.5 is not in list$"):
        ember.kernel(missing)(3.5)


def made_on_first_pass(n: int) -> float:
    out = 0.0
    for i in range(n):
        if i == 0:  # made on one pass only: later passes append to it (no fixed capacity)
            b = []
        b.append(i * 1.0)
        out = b[-1] + len(b)
    return out


def remade_unless_continue(n: int) -> f64[:]:
    b = [0.5]
    for i in range(n):
        b.append(i * 1.0)
        if i % 3 == 0:
            continue
        b = [1.0]
    return b


def test_capacity_only_for_lists_made_on_every_pass():
    same(made_on_first_pass, 50)
    for n in (0, 1, 4, 40):
        same(remade_unless_continue, n)
