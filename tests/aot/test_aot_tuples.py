"""AOT tuples of arrays, lists and module constants in C: a tuple result is a struct whose array items are
`ember_array_*` structs; an array the kernel allocated has an owner to release, an array that
lies in an argument's memory (the argument returned, or a view of it) has owner NULL. The
Python loader gives the same results as the JIT."""

import numpy as np
import pytest
from aot_support import HERE, build_module, load_file, run_c_program

PROGRAM = r"""
#include <stdio.h>
#include "tuples_mod.h"

int main(void) {
    double x[6] = {0.5, -1.0, 2.0, -0.25, 3.0, -4.0};
    int64_t shape[1] = {6};
    split_result r = split(x, shape, NULL, 0.0);
    printf("n %lld\n", (long long)r.v2);
    printf("above");
    for (int64_t i = 0; i < r.v0.shape[0]; i++) printf(" %.17g", r.v0.data[i * r.v0.strides[0]]);
    printf("\nbelow");
    for (int64_t i = 0; i < r.v1.shape[0]; i++) printf(" %.17g", r.v1.data[i * r.v1.strides[0]]);
    printf("\nowned %d %d\n", r.v0.owner != NULL, r.v1.owner != NULL);
    ember_release(r.v0.owner);
    ember_release(r.v1.owner);
    ember_array_float64_1d s = scale_(x, shape, NULL, 2.0);
    printf("scaled %d %d %.17g\n", s.data == x, s.owner == NULL, x[2]);
    ember_array_float64_1d e = evens_below(7);
    printf("evens");
    for (int64_t i = 0; i < e.shape[0]; i++) printf(" %.17g", e.data[i * e.strides[0]]);
    printf("\n");
    ember_release(e.owner);
    tail_and_sum_result t = tail_and_sum(x, shape, NULL);
    printf("tail %d %d %lld %.17g\n", t.v0.data == x + 1, t.v0.owner == NULL,
           (long long)t.v0.shape[0], t.v1);
    return 0;
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_module(tmp_path_factory, "tuples_mod")


def test_c_program(built, tmp_path):
    lines = run_c_program(built, "tuples_mod", PROGRAM, tmp_path)
    x = np.array([0.5, -1.0, 2.0, -0.25, 3.0, -4.0])
    above, below, n = load_file(HERE / "tuples_mod.py", "tuples_jit").split(x, 0.0)
    assert int(lines["n"][0]) == n == 3
    np.testing.assert_array_equal([float(v) for v in lines["above"]], above)
    np.testing.assert_array_equal([float(v) for v in lines["below"]], below)
    assert lines["owned"] == ["1", "1"]
    assert lines["scaled"] == ["1", "1", "4"]
    assert lines["tail"][:3] == ["1", "1", "5"] and float(lines["tail"][3]) == 2 * x.sum()
    want = load_file(HERE / "tuples_mod.py", "tuples_jit").evens_below.py_func(7)
    assert [float(v) for v in lines["evens"]] == list(want) == [0.0, 4.0, -4.0, 3.0]


def test_python_loader(built):
    loaded = load_file(built / "tuples_mod.py", "tuples_loader")  # numpy and ctypes only
    x = np.array([0.5, -1.0, 2.0])
    hi, lo, n = loaded.split(x, 0.0)
    assert n == 2 and hi.tolist() == [0.5, 2.0] and lo.tolist() == [-1.0]
    assert loaded.scale_(x, 2.0) is x
    tail, total = loaded.tail_and_sum(x)
    assert tail.base is x and total == pytest.approx(x.sum())
    assert loaded.evens_below(7).tolist() == [0.0, 4.0, -4.0, 3.0]  # a list, a frozen array

