"""Public decorators: `@kernel` turns an annotated function into a lazily compiled `Kernel`."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ..errors import CompileError
from ..options import CompileOptions, debug

__all__ = ["CallPath", "Kernel", "connect", "kernel"]

try:
    from .._dispatch import Dispatcher as CallPath
except ImportError:  # built without the C extension: the pure-Python call path

    class CallPath:  # type: ignore[no-redef]
        _slow: Any = None

        def _set_fast(self, address: int, spec: str, result: str, slow: Any,
                      ndarray: Any, raise_error: Any = None, dtypes: Any = ()) -> None:
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
                       compiled.raise_error, compiled.result_dtypes)
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
        self._lock = threading.Lock()
        self._set_slow(self._first_call)

    def _first_call(self, *args: Any, **kwargs: Any) -> Any:
        return self.compile().entry(*args, **kwargs)

    def compile(self) -> Any:
        """Compile now (or load from the cache) instead of at the first call."""
        with self._lock:
            if self._compiled is None:
                from ..driver.targets import entry

                try:
                    compiled = entry(self.options.target, "compile")(self.py_func, self.options)
                except Exception as err:
                    raise _user_facing(err, self.__qualname__) from None
                self._compiled = compiled
                connect(self, compiled)
        return self._compiled

    @property
    def cache_hit(self) -> bool | None:
        """True if the compiled code came from the disk cache (None before compiling)."""
        return None if self._compiled is None else self._compiled.cache_hit

    def inspect(self, stage: str = "mlir") -> str:
        """The code of one stage: 'mlir' (frontend output), 'lowered' (LLVM dialect),
        'llvm' (optimized LLVM IR with the entry thunk) or 'asm' (host assembly); for
        target="gpu": 'mlir', 'lowered' (gpu.binary) or 'ptx'."""
        from ..driver.targets import entry

        try:
            text: str = entry(self.options.target, "inspect")(self.py_func, stage, self.options)
            return text
        except (CompileError, RecursionError, AssertionError, KeyError, AttributeError) as err:
            raise _user_facing(err, self.__qualname__) from None

    def __repr__(self) -> str:
        return f"<ember.kernel {self.__qualname__}>"


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
           error_model: str = "numpy") -> Any:
    """Compile `func` to native code on first call: `@kernel`, `@kernel(cache=False)`,
    `@kernel(fastmath=True)` (reassociated, vectorized float reductions and math),
    `@kernel(target="gpu")` (prange nests as CUDA kernels; `gpu_arch="sm_80"` or
    $EMBER_GPU_ARCH picks the chip, default sm_90), `@kernel(boundscheck=True)` (every
    array index checked: IndexError; default $EMBER_BOUNDSCHECK), `@kernel(error_model=
    "python")` (division by zero raises ZeroDivisionError instead of giving 0/inf)."""
    options = CompileOptions(opt_level=opt_level, cache=cache, fastmath=fastmath,
                             target=target, gpu_arch=gpu_arch, boundscheck=boundscheck,
                             error_model=error_model)
    if func is None:
        return lambda f: Kernel(f, options)
    return Kernel(func, options)
