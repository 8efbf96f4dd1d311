"""The AOT loader's Jacobians and jvp/vjp of array- or tuple-result kernels (aot/jacobian.py).

Embedded in every generated loader (aot/loader.py RUNTIME_MODULES), so it needs only numpy,
ctypes and the runtime modules before it. `ResultDerivative` is the loader's form of the JIT's
api/resultcall.ResultCall: a primal call on copies of the arguments sizes the result's
out-parameters, the derivative call fills them, and values, tangents and cotangents keep the
result's structure. `JacobianCall` calls the library's C Jacobian function through ctypes
(that function loops over the derivative entry) after a primal call on copies, which checks
the arguments as the kernel does and gives the shapes of an array result; it shapes the blocks
as the JIT's api/jacobians.py does (JAX's rule).
"""

from __future__ import annotations

import ctypes
import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import types as T
from ..binding import plain
from .derivcall import RETURN, DerivativeInfo

_CTYPES = {"double": ctypes.c_double, "float": ctypes.c_float, "int64_t": ctypes.c_int64,
           "int32_t": ctypes.c_int32, "int16_t": ctypes.c_int16, "int8_t": ctypes.c_int8,
           "uint64_t": ctypes.c_uint64, "uint32_t": ctypes.c_uint32,
           "uint16_t": ctypes.c_uint16, "uint8_t": ctypes.c_uint8, "bool": ctypes.c_bool}


def finish(lib: Any, exported: dict[str, Any], manifest: Sequence[dict[str, Any]],
           raise_error: Any) -> dict[str, Any]:
    """The loader's exports: those of `exported`, converted-result derivatives wrapped, and
    the Jacobians of `manifest` added."""
    out = dict(exported)
    for item in manifest:
        if item["kind"] == "derivative" and item.get("layout"):
            out[item["name"]] = ResultDerivative(exported[item["name"]],
                                                 exported[item["primal"]], item["layout"])
        elif item["kind"] == "derivative" and item.get("batch"):
            out[item["name"]] = BatchedCall(exported[item["name"]], item["batch"])
        elif item["kind"] == "jacobian":
            kind = HvpCall if item.get("kind_of") == "hvp" else JacobianCall
            out[item["name"]] = kind(lib, item, exported[item["primal"]], raise_error)
    return out


class _Layout:
    """A converted result (aot/jacobian.layout_json): its type and leaf out-parameters."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.ret = T.decode(data["ret"])
        self.names = tuple(data["names"])
        self.leaves = tuple(T.decode(t) for t in data["leaves"])
        self.outputs = tuple(data.get("outputs") or (RETURN,))
        self.dtypes = tuple((t.dtype if isinstance(t, T.Array) else t).np_dtype  # type: ignore[attr-defined]
                            for t in self.leaves)


class ResultDerivative:
    """Callable like the JIT's jvp/vjp of a kernel returning an array or tuple."""

    def __init__(self, inner: Any, primal: Any, layout: dict[str, Any]) -> None:
        self.inner, self.primal, self.layout = inner, primal, _Layout(layout)
        self.info: DerivativeInfo = inner.info
        self.__name__ = inner.__name__
        kernel = {n for n, _ in self.info.activities} - set(self.layout.names)
        self._copy = bool(kernel & set(self.info.written))

    def __call__(self, *args: Any, tangents: Sequence[Any] | None = None,
                 cotangents: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        lay = self.layout
        result = _primal(self.primal, args, kwargs, self._copy)
        buffers = {name: np.empty(np.shape(v) or (1,), dtype=dtype) for name, v, dtype in
                   zip(lay.names, result_leaves(result, lay.ret), lay.dtypes, strict=True)}
        given = {**kwargs, **buffers}
        if self.info.kind == "vjp":
            return self.inner(*args, cotangents=self._cotangents(cotangents, buffers), **given)
        _, tans = self.inner(*args, tangents=tangents, **given)
        flat = [tans] if len(self.info.outputs) == 1 else list(tans)
        return self._value(list(buffers.values())), self._per_output(flat)

    def _value(self, arrays: list[Any]) -> Any:
        return _build(self.layout.ret, iter(arrays))

    def _per_output(self, flat: list[Any]) -> Any:
        values, n = iter(flat), len(self.layout.names)
        out = [self._value([next(values) for _ in range(n)]) if o == RETURN else next(values)
               for o in self.layout.outputs]
        return out[0] if len(out) == 1 else tuple(out)

    def _cotangents(self, given: Sequence[Any] | None,
                    buffers: dict[str, np.ndarray]) -> list[Any]:
        outputs = self.layout.outputs
        if given is None or len(given) != len(outputs):
            raise TypeError(f"{self.__name__}() needs cotangents=(...) with one value for "
                            f"each of {', '.join(outputs)}")
        flat: list[Any] = []
        for name, value in zip(outputs, given, strict=True):
            if name != RETURN:
                flat.append(value)
                continue
            for leaf, buf in zip(result_leaves(value, self.layout.ret), buffers.values(), strict=True):
                flat.append(np.reshape(np.asarray(leaf, dtype=buf.dtype), buf.shape)
                            if buf.shape == (1,) and np.ndim(leaf) == 0 else leaf)
        return flat


class _CCall:
    """A call of a C function of the library taking the kernel's parameters first: bound as
    the kernel binds them, checked by a primal call on copies of the arguments."""

    def __init__(self, lib: Any, data: dict[str, Any], primal: Any, raise_error: Any) -> None:
        self.info = DerivativeInfo.from_json(data["info"])
        self.__name__ = data["name"]
        self.cfunc = getattr(lib, data["name"])
        self.cfunc.restype = ctypes.c_int32 if data["raises"] else None
        self.primal, self.raise_error = primal, raise_error
        self.args = [(n, kind, dtype) for n, kind, dtype in data["args"]]
        self.layout = _Layout(data["layout"]) if data.get("layout") else None
        self.binding = getattr(primal, "binding", None) or plain(self.__name__,
                                                                 [n for n, _, _ in self.args])
        leaves = set(self.layout.names) if self.layout else set()
        self._copy = bool(set(self.info.written) - leaves)

    def marshal(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                keep: list[Any]) -> tuple[list[Any], dict[str, tuple[int, ...]], Any]:
        """(the C arguments of the kernel's parameters, every parameter's shape, the primal
        call's result)."""
        b = self.binding
        values = b.bind(args, kwargs)
        if b.pattern(values) != b.none:
            raise TypeError(f"{self.__name__}() is built for calls where "
                            f"{', '.join(b.none) or 'no parameter'} is None")
        result = _primal(self.primal, args, kwargs, self._copy)  # checks the arguments
        cargs: list[Any] = []
        shapes: dict[str, tuple[int, ...]] = {RETURN: ()}
        for (name, kind, dtype), value in zip(self.args, b.flatten(values), strict=True):
            if kind != "array":
                cargs.append(_CTYPES[kind](value))
                shapes[name] = ()
                continue
            array = _checked(self.__name__, name, value, dtype)
            shapes[name] = array.shape
            cargs += _array_args(array, keep)
        return cargs, shapes, result

    def run(self, cargs: list[Any]) -> None:
        if self.cfunc(*cargs):
            self.raise_error()


class JacobianCall(_CCall):
    """Callable like the JIT's jacfwd/jacrev/hessian object; runs the library's C Jacobian."""

    def __init__(self, lib: Any, data: dict[str, Any], primal: Any, raise_error: Any) -> None:
        super().__init__(lib, data, primal, raise_error)
        self.blocks = [(o, w, np.dtype(dt)) for o, w, dt in data["blocks"]]
        self.outs = list(dict.fromkeys(o for o, _, _ in self.blocks))
        self.users = tuple(data["outputs"]) or (RETURN,)
        self.single_output = bool(data["single_output"])
        self.scalar = float if data.get("scalar") == "float" else None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        keep: list[Any] = []
        cargs, shapes, result = self.marshal(args, kwargs, keep)
        for name, leaf, t in zip(self.layout.names if self.layout else (),
                                 result_leaves(result, self.layout.ret) if self.layout else (),
                                 self.layout.leaves if self.layout else (), strict=True):
            shapes[name] = np.shape(leaf) if isinstance(t, T.Array) else ()
            if isinstance(t, T.Array):
                cargs.append(_pointer(np.array(shapes[name], dtype=np.int64), keep))
        jac = {(o, w): np.zeros(shapes[o] + shapes[w], dtype=dt) for o, w, dt in self.blocks}
        cargs += [_pointer(j, keep) for j in jac.values()]
        self.run(cargs)
        return self._shape(jac)

    def _shape(self, jac: dict[tuple[str, str], np.ndarray]) -> Any:
        """The blocks as the JIT's api/jacobians.py (api/secondorder.py) gives them."""
        zero_d = self.scalar or _item
        per_output = iter([self.info.regroup([zero_d(j) if j.ndim == 0 else j
                                              for j in (jac[o, w] for w in self.info.wrt)])
                           for o in self.outs])
        out = [_nest(self.layout.ret, per_output) if self.layout and o == RETURN
               else next(per_output) for o in self.users]
        return out[0] if self.single_output and len(out) == 1 else tuple(out)


class HvpCall(_CCall):
    """Callable like the JIT's hvp object: `(*args, tangents=(v, ...))` -> H·v."""

    def __init__(self, lib: Any, data: dict[str, Any], primal: Any, raise_error: Any) -> None:
        super().__init__(lib, data, primal, raise_error)
        self.dirs = [(n, np.dtype(dt)) for n, dt in data["dirs"]]
        self.outs = [(n, np.dtype(dt)) for n, dt in data["outs"]]
        self.single = bool(data["single"])

    def __call__(self, *args: Any, tangents: Any = None, **kwargs: Any) -> Any:
        names = [n for n, _ in self.dirs]
        if self.single and not isinstance(tangents, tuple | list):
            tangents = (tangents,) if tangents is not None else None
        if tangents is None or len(tangents) != len(names):
            raise TypeError(f"{self.__name__}() needs tangents=(...) with one value for each "
                            f"of {', '.join(names)}")
        keep: list[Any] = []
        cargs, shapes, _ = self.marshal(args, kwargs, keep)
        for (name, dtype), v in zip(self.dirs, tangents, strict=True):
            if not shapes[name]:
                cargs.append(ctypes.c_double(float(v)))
                continue
            v = np.asarray(v)
            if v.shape != shapes[name]:
                raise ValueError(f"{self.__name__}(): the tangent for '{name}' has shape "
                                 f"{v.shape}, expected {shapes[name]}")
            cargs.append(_pointer(np.ascontiguousarray(v, dtype=dtype), keep))
        outs = [np.zeros(shapes[n], dtype=dt) for n, dt in self.outs]
        cargs += [_pointer(o, keep) for o in outs]
        self.run(cargs)
        hv = [o if o.ndim else float(o[()]) for o in outs]
        return hv[0] if self.single else tuple(hv)


class BatchedCall:
    """Callable like the JIT's `vmap(grad(f))`/`vmap(value_and_grad(f))` (api/vmap.py): the
    gradient of the batched kernel's sum, unbatched `wrt` arguments broadcast first."""

    def __init__(self, inner: Any, data: dict[str, Any]) -> None:
        self.inner, self.kind, self.name = inner, data["kind"], data["kernel"]
        self.__name__ = inner.__name__
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        self.signature = inspect.Signature([inspect.Parameter(
            n, kinds[kw], default=default if has else inspect.Parameter.empty)
            for n, kw, has, default in data["params"]])
        self.in_axes, self.out_axis = tuple(data["in_axes"]), data["out_axis"]
        self.broadcast = [(i, np.dtype(dt)) for i, dt in data["broadcast"]]
        self.values, self.moves = np.dtype(data["values"]), tuple(data["moves"])
        self.keywords = tuple(data["keywords"])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        values = list(args)
        if kwargs or len(args) != len(self.signature.parameters):
            bound = self.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = list(bound.arguments.values())
        size = batch_size(self.name, list(self.signature.parameters), values, self.in_axes)
        for i, dtype in self.broadcast:
            item = np.asarray(values[i], dtype=dtype)
            values[i] = np.empty((size, *item.shape), dtype)
            values[i][...] = item
        split = len(values) - len(self.keywords)
        keywords = dict(zip(self.keywords, values[split:], strict=True))
        per = np.empty(size, self.values)
        grads = self.inner(*values[:split], per, **keywords)
        many = isinstance(grads, tuple)
        moved = tuple(g if a == self.out_axis else np.moveaxis(g, a, self.out_axis)
                      for g, a in zip(grads if many else (grads,), self.moves, strict=True))
        result = moved if many else moved[0]
        if self.kind == "grad":
            return result
        return per, result  # one value per element: the batch is its only axis


def batch_size(name: str, params: list[str], values: list[Any],
                in_axes: tuple[int | None, ...]) -> int:
    """The common batch size of the batched arguments (ValueError if they differ)."""
    sizes = []
    for param, value, axis in zip(params, values, in_axes, strict=True):
        if axis is not None:
            shape = np.shape(value)
            if not -len(shape) <= axis < len(shape):
                raise ValueError(f"vmap({name}): in_axes entry {axis} for '{param}' is out of "
                                 f"range for an argument of shape {shape}")
            sizes.append((param, int(shape[axis]), axis % len(shape)))
    if len({size for _, size, _ in sizes}) > 1:
        raise ValueError(f"vmap({name}): batch sizes differ: " + ", ".join(
            f"'{p}' has {size} along axis {a}" for p, size, a in sizes))
    return sizes[0][1]


def _item(j: np.ndarray) -> Any:
    """A 0-d block as a NumPy scalar (as api/jacobians.py gives it)."""
    return j[()]


def _checked(func: str, name: str, value: Any, dtype: str) -> np.ndarray:
    """`value` as passed to the C function (the primal call checked it already)."""
    if not isinstance(value, np.ndarray) or value.dtype != np.dtype(dtype):
        raise TypeError(f"{func}() argument '{name}' must be a numpy array of {dtype}, "
                        f"not {type(value).__name__}")
    return value


def _pointer(array: np.ndarray, keep: list[Any]) -> ctypes.c_void_p:
    keep.append(array)
    return ctypes.c_void_p(array.ctypes.data)


def _array_args(array: np.ndarray, keep: list[Any]) -> list[Any]:
    """(data, shape, strides in elements) of `array` (a copy where strides are not whole
    elements is refused: numpy arrays of one dtype always have whole-element strides)."""
    size = array.itemsize
    strides = [s // size for s in array.strides]
    if any(s % size for s in array.strides):
        raise ValueError("arrays with strides that are not whole elements are not supported")
    return [_pointer(array, keep), _pointer(np.array(array.shape, dtype=np.int64), keep),
            _pointer(np.array(strides, dtype=np.int64), keep)]


def _primal(primal: Any, args: tuple[Any, ...], kwargs: dict[str, Any], copy: bool) -> Any:
    """The kernel's result on these arguments (on copies of its arrays where it writes)."""
    if not copy:
        return primal(*args, **kwargs)
    return primal(*_copies(args), **dict(zip(kwargs, _copies(tuple(kwargs.values())),
                                             strict=True)))


def _copies(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(np.array(v, copy=True) if isinstance(v, np.ndarray)
                 else _copies(v) if isinstance(v, tuple) else v for v in values)


def result_leaves(value: Any, t: T.Type) -> Iterator[Any]:
    """The leaves of a value structured like `t` (TypeError naming the mismatch)."""
    if not isinstance(t, T.Tuple):
        yield value
        return
    if not isinstance(value, tuple) or len(value) != len(t.items):
        raise TypeError(f"expected a tuple of {len(t.items)} items (like the result, {t}), "
                        f"got {type(value).__name__}")
    for v, item in zip(value, t.items, strict=True):
        yield from result_leaves(v, item)


def _build(t: T.Type, values: Iterator[Any]) -> Any:
    """Leaf values nested like a result of type `t` (a float leaf's 1-element array: its
    value)."""
    if isinstance(t, T.Tuple):
        return tuple(_build(item, values) for item in t.items)
    a = next(values)
    return a if isinstance(t, T.Array) or not isinstance(a, np.ndarray) else a.reshape(-1)[0]


def _nest(t: T.Type, values: Iterator[Any]) -> Any:
    """Leaf values nested like a result of type `t`."""
    if isinstance(t, T.Tuple):
        return tuple(_nest(item, values) for item in t.items)
    return next(values)
