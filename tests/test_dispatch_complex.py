"""The C dispatcher's complex values: a Python complex argument reaches the packed thunk as a
pointer to its two doubles (codes 'D'/'F'), complex results are boxed from their slots (two
for a c128, one for a c64, also inside tuples and beside arrays), complex arrays go through
the same checks as other arrays; anything else (floats for complex parameters, numpy complex
scalars) takes the slow Python entry with the same results."""


import numpy as np
from helpers import spy_slow_path

from ember import c64, c128, f64, kernel


@kernel
def mixed(z: complex, w: c64, a: c128[:], x: f64) -> tuple[c128, f64, c64, c128[:], complex]:
    out = a * z
    return z * w, abs(z) + x, w.conjugate(), out, a[0] + x




def test_complex_arguments_and_results_stay_on_the_fast_path():
    assert mixed.compile().fast_spec == ("DFAd", "tDdF1DD")
    slow = spy_slow_path(mixed)
    a = np.array([1 + 2j, -0.5j, 3.0])
    for z, w in [(1 + 2j, 3 - 1j), (-0.25j, 2.5 + 0j), (complex("inf"), 1j)]:
        got = mixed(z, w, a, 0.5)
        wz = np.complex64(w)
        want = (None, abs(z) + 0.5, complex(wz.conjugate()), None, a[0] + 0.5)
        assert [type(v) for v in got] == [complex, float, complex, np.ndarray, complex]
        with np.errstate(invalid="ignore"):
            np.testing.assert_equal(got[0], complex(np.complex128(z) * np.complex128(wz)))
        assert got[1:3] == want[1:3] and got[4] == want[4]
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(got[3], a * np.complex128(z))
        assert got[3].dtype == np.complex128
    assert slow == []
    assert mixed(1.0, 2, a, 0.5)[0] == 2 + 0j  # floats and ints for complex: slow path
    assert mixed(np.complex128(1j), np.complex64(1j), a, 0.0)[0] == -1 + 0j
    assert len(slow) == 2
