"""Public decorators: `@kernel` turns an annotated function into a lazily compiled `Kernel`."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from ..binding import BoundEntry
from ..errors import CompileError
from ..options import CompileOptions, debug

__all__ = ["CallPath", "Kernel", "connect", "kernel"]

try:
    from .._dispatch import Dispatcher as CallPath
except ImportError:  # built without the C extension: the pure-Python call path

    class CallPath:  # type: ignore[no-redef]
        _slow: Any = None

        def _set_fast(self, address: int, spec: str, result: str, slow: Any,
                      ndarray: Any, raise_error: Any = None, dtypes: Any = (),
                      bound: Any = None, derivative: Any = None) -> None:
            self._slow = slow

        def _set_slow(self, slow: Any) -> None:
            self._slow = slow

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self._slow(*args, **kwargs)


def connect(path: CallPath, compiled: Any) -> CallPath:
    """Make `path` call `compiled` (a compiler.Compiled): through its packed thunk where it
    has one, else through its Python entry."""
    if compiled.packed is not None:
        import numpy as np

        spec, result = compiled.fast_spec
        path._set_fast(compiled.packed, spec, result, compiled.entry, np.ndarray,
                       compiled.raise_error, compiled.result_dtypes,
                       getattr(compiled, "bound", None))
    else:
        path._set_slow(compiled.entry)
    return path


class Kernel(CallPath):
    """A function compiled to native code on its first call (or from the disk cache).

    Call it like the original function; `py_func` is the original, `inspect(stage)` shows the
    code of a stage ('mlir', 'lowered', 'llvm', 'asm'). Calls go through the C dispatcher
    (ember/_dispatch.c) when the arguments are plain numpy arrays and Python scalars.
    """

    __name__: str  # copied from the function by functools.update_wrapper
    __qualname__: str

    def __init__(self, func: Callable[..., Any], options: CompileOptions) -> None:
        functools.update_wrapper(self, func)
        self.py_func = func
        self.__ember_kernel__ = func
        self.options = options
        self._compiled: Any = None
        self._specs: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()
        self._set_slow(self._first_call)

    def _first_call(self, *args: Any, **kwargs: Any) -> Any:
        return self._compile(_none_pattern(self.py_func, args, kwargs)).entry(*args, **kwargs)

    def compile(self) -> Any:
        """Compile now (or load from the cache) instead of at the first call."""
        return self._compile(None)

    def _compile(self, none: tuple[str, ...] | None) -> Any:
        """The build the fast path serves: the first one, where the Optional parameters
        `none` are None (None: those whose default is None)."""
        with self._lock:
            if self._compiled is None:
                options = self.options if none is None else dataclasses.replace(
                    self.options, none=none)
                self._compiled = self._build(options)
                if none is not None:
                    self._specs[none] = self._compiled
                connect(self, self._compiled)
        return self._compiled

    def _build(self, options: CompileOptions) -> Any:
        from ..driver.targets import entry

        try:
            compiled = entry(options.target, "compile")(self.py_func, options)
        except Exception as err:
            raise _user_facing(err, self.__qualname__) from None
        if isinstance(compiled.entry, BoundEntry):  # other None-patterns: other builds
            compiled.entry.specialize = self._specialization
        return compiled

    def _specialization(self, none: tuple[str, ...]) -> Any:
        """The entry of the build where the Optional parameters `none` are None."""
        with self._lock:
            found = self._specs.get(none)
            if found is None:
                found = self._build(dataclasses.replace(self.options, none=none))
                self._specs[none] = found
        return found.entry

    @property
    def cache_hit(self) -> bool | None:
        """True if the compiled code came from the disk cache (None before compiling)."""
        return None if self._compiled is None else self._compiled.cache_hit

    def inspect(self, stage: str = "mlir") -> str:
        """The code of one stage: 'mlir' (frontend output), 'lowered' (LLVM dialect),
        'llvm' (optimized LLVM IR with the entry thunk) or 'asm' (host assembly); for
        target="gpu": 'mlir', 'lowered' (gpu.binary) or 'ptx'."""
        from ..driver.targets import entry
        from .listing import Listing

        try:
            text: str = entry(self.options.target, "inspect")(self.py_func, stage, self.options)
            return Listing(text, stage)
        except (CompileError, RecursionError, AssertionError, KeyError, AttributeError) as err:
            raise _user_facing(err, self.__qualname__) from None

    def __repr__(self) -> str:
        return f"<ember.kernel {self.__qualname__}>"

    def __reduce__(self) -> Any:
        """Pickled by reference (module + name) where importable, else by value
        (ember/api/pickling.py); never the compiled code."""
        from .pickling import reduce_kernel

        return reduce_kernel(self)

    def __copy__(self) -> Kernel:
        return self  # immutable, like a function

    def __deepcopy__(self, memo: Any) -> Kernel:
        return self


def _none_pattern(func: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> tuple[str, ...] | None:
    """The parameters that may be Optional (a default of None, or None in the annotation)
    that a call passes None, or None if that is the defaults' pattern: read from the
    signature without the frontend, so a first call that passes a value for `w: f64[:] |
    None = None` makes the build that takes `w` the one the fast path serves (any other
    pattern still gets its own build)."""
    try:
        sig = inspect.signature(func)
        bound = sig.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    params = sig.parameters.values()
    maybe = [p.name for p in params if p.default is None or "None" in str(p.annotation)
             or "Optional" in str(p.annotation)]
    pattern = tuple(n for n in maybe if bound.arguments.get(n, 0) is None)
    defaults = tuple(p.name for p in params if p.default is None)
    return None if pattern == defaults else pattern


def _user_facing(err: Exception, name: str) -> Exception:
    """Compile errors keep their message; a bug inside Ember becomes a CompileError too
    (EMBER_DEBUG=1 re-raises the original with its traceback)."""
    if debug():
        return err
    if isinstance(err, CompileError):
        return err.with_traceback(None)
    if isinstance(err, OSError | RuntimeError) and not isinstance(err, RecursionError):
        return err.with_traceback(None)
    return CompileError(f"internal compiler error while compiling '{name}': "
                        f"{type(err).__name__}: {err}",
                        notes=["this is a bug in Ember; EMBER_DEBUG=1 shows where it happened"])


def kernel(func: Callable[..., Any] | None = None, *, cache: bool = True,
           opt_level: int = 3, fastmath: bool = False, target: str = "cpu",
           gpu_arch: str | None = None, boundscheck: bool | None = None,
           error_model: str = "numpy", parallel_grads: str = "deterministic") -> Any:
    """Compile `func` to native code on first call: `@kernel`, `@kernel(cache=False)`,
    `@kernel(fastmath=True)` (reassociated, vectorized float reductions and math),
    `@kernel(target="gpu")` (prange nests as CUDA kernels; `gpu_arch="sm_80"` or
    $EMBER_GPU_ARCH picks the chip, default sm_90), `@kernel(boundscheck=True)` (every
    array index checked: IndexError; default $EMBER_BOUNDSCHECK), `@kernel(error_model=
    "python")` (division by zero raises ZeroDivisionError instead of giving 0/inf),
    `@kernel(parallel_grads="atomic")` (derivatives of prange loops add into shared shadows
    atomically instead of through per-thread copies; not bitwise reproducible)."""
    options = CompileOptions(opt_level=opt_level, cache=cache, fastmath=fastmath,
                             target=target, gpu_arch=gpu_arch, boundscheck=boundscheck,
                             error_model=error_model, parallel_grads=parallel_grads)
    if func is None:
        return lambda f: Kernel(f, options)
    return Kernel(func, options)
