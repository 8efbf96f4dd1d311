"""The comparison the ufunc tests share: two results of the same shape and dtype, equal
(`exact`, the default) or close to `rtol`/`atol`."""

import numpy as np


def same_array(a, b, exact=True, rtol=1e-6, atol=0.0):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
