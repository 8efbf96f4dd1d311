"""Type stub for the C dispatcher (ember/_dispatch.c): the native call path of Ember kernels."""

from collections.abc import Callable
from typing import Any

class Dispatcher:
    """Base of ember.Kernel: calls a packed thunk directly, else the slow Python callable."""

    def _set_fast(self, address: int, spec: str, result: str, slow: Callable[..., Any],
                  ndarray: type, raise_error: Callable[..., Any] | None = None,
                  dtypes: tuple[Any, ...] = (),
                  bound: tuple[str, tuple[str | None, ...], tuple[Any, ...], int] | None = None,
                  derivative: tuple[str, str, str, tuple[int, ...], bool] | None = None
                  ) -> None: ...
    def _set_slow(self, slow: Callable[..., Any]) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
