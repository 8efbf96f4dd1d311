"""Default values and keyword arguments: calls with omitted trailing defaults, keywords and
keyword-only parameters give CPython's results, and bad calls CPython's TypeError wording (in
the JIT and in calls between kernels)."""

import numpy as np
import pytest

import ember
from ember import f32, f64, i64


@ember.kernel
def moment(x: f64[:], p: float = 2.0, normalize: bool = True, *, shift: float = 0.0,
           shape: tuple[int, int] = (3, 4), n: i64 = -1) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += (x[i] - shift) ** p
    if normalize:
        s = s / x.shape[0]
    return s + shape[0] * 10 + shape[1] * 100 + n


@ember.kernel
def caller(x: f64[:]) -> float:
    a = moment(x)
    b = moment(x, 1.0, normalize=False)
    c = moment(x, shift=1.0, shape=(1, 2))
    d = moment(normalize=False, x=x, n=5)
    return a + 1e3 * b + 1e6 * c + 1e9 * d


@ember.kernel
def scaled(a: f32[:], k: f32 = 0.5) -> f32:
    return a[0] * k


X = np.array([0.5, 1.5, 2.0])
CALLS = [((X,), {}), ((X, 1.0), {}), ((X, 3.0, False), {}), ((X,), {"p": 1.0}),
         ((X,), {"shift": 1.0, "normalize": False}), ((), {"x": X, "shape": (5, 6)}),
         ((X,), {"n": 7, "p": 0.5}), ((X, 2), {"shape": (np.int64(1), 2)})]


@pytest.mark.parametrize("args, kwargs", CALLS)
def test_values_as_cpython(args, kwargs):
    assert moment(*args, **kwargs) == pytest.approx(moment.py_func(*args, **kwargs), rel=1e-15)


def test_kernel_calls_fill_defaults_and_keywords():
    from e2e_support import pure

    assert caller(X) == pytest.approx(pure(caller.py_func)(X), rel=1e-15)


def test_defaults_take_the_parameter_type():
    a = np.array([3.0], dtype=np.float32)
    assert scaled(a) == np.float32(1.5) and type(scaled(a)) is float
    assert scaled(a, k=2.0) == 6.0


ERRORS = [
    ((), {}, "moment() missing 1 required positional argument: 'x'"),
    ((X,), {"q": 1}, "moment() got an unexpected keyword argument 'q'"),
    ((X, 1.0), {"p": 2.0}, "moment() got multiple values for argument 'p'"),
    ((X, 1.0, True, 2.0), {}, "moment() takes from 1 to 3 positional arguments but 4 were given"),
    ((X,), {"shape": [1, 2]}, "moment() argument 'shape' must be a tuple of 2 items, got list"),
    ((X,), {"shape": (1, 2, 3)}, "moment() argument 'shape' must be a tuple of 2 items, got 3 "
     "items"),
]


@pytest.mark.parametrize("args, kwargs, message", ERRORS)
def test_bad_calls_as_cpython(args, kwargs, message):
    with pytest.raises(TypeError) as compiled:
        moment(*args, **kwargs)
    assert str(compiled.value) == message
    if "tuple of" not in message:  # CPython itself binds the same way
        with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
            moment.py_func(*args, **kwargs)


def test_missing_keyword_only_and_plural_wording():
    @ember.kernel
    def f(a: float, b: float, c: float, *, d: float) -> float:
        return a + b + c + d

    with pytest.raises(TypeError, match=r"^f\(\) missing 3 required positional arguments: "
                                        r"'a', 'b', and 'c'$"):
        f(d=1.0)
    with pytest.raises(TypeError, match=r"^f\(\) missing 1 required keyword-only argument: 'd'$"):
        f(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match=r"^f\(\) takes 3 positional arguments but 4 were given$"):
        f(1.0, 2.0, 3.0, 4.0)
    assert f(1.0, 2.0, c=3.0, d=4.0) == 10.0


def test_positional_only_parameters():
    @ember.kernel
    def g(a: float, /, b: float = 2.0) -> float:
        return a - b

    assert g(5.0) == 3.0 and g(5.0, b=1.0) == 4.0
    with pytest.raises(TypeError, match=r"^g\(\) got some positional-only arguments passed as "
                                        r"keyword arguments: 'a'$"):
        g(a=5.0)
