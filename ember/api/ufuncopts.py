"""The keyword arguments of Numba's `@vectorize`/`@guvectorize` beyond Ember's own, so ported
code runs unchanged: `boundscheck` and `error_model` map to Ember's compile options,
`writable_args` (guvectorize: inputs the kernel writes) is accepted as Ember's inputs are
always written in place, `forceobj=False` and `nopython=True` are what Ember does anyway.
What has no meaning in Ember (`forceobj=True`, `locals=`, unknown names) raises, naming the
keyword and what to write instead. Numba's fastmath flag sets (`{"nnan", "contract"}`) turn
fastmath on: Ember's fastmath is one switch (api/ufunc.py reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

_ACCEPTED: Final = "target, identity, cache, fastmath, nopython, boundscheck, error_model"


def _boundscheck(value: Any) -> dict[str, Any]:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"boundscheck={value!r}: give True, False or None")
    return {"boundscheck": value}


def _error_model(value: Any) -> dict[str, Any]:
    if value not in ("numpy", "python"):
        raise ValueError(f"error_model={value!r}: give 'numpy' or 'python'")
    return {"error_model": value}


def _forceobj(value: Any) -> dict[str, Any]:
    if value:
        raise ValueError("forceobj=True: Ember has no object mode, every ufunc is compiled; "
                         "drop forceobj (use numpy.frompyfunc for a Python-level ufunc)")
    return {}


def _writable_args(value: Any) -> dict[str, Any]:
    if not isinstance(value, tuple | list) or not all(isinstance(v, int | str) for v in value):
        raise TypeError(f"writable_args={value!r}: give a tuple of input positions or names")
    return {}  # Ember's inputs are the caller's arrays, written in place where the kernel does


def _locals(value: Any) -> dict[str, Any]:
    raise ValueError("locals=: Ember types local variables from their values; drop locals= "
                     "and convert where needed (x = np.float32(...))")


_RULES: Final[dict[str, Callable[[Any], dict[str, Any]]]] = {
    "boundscheck": _boundscheck, "error_model": _error_model, "forceobj": _forceobj,
    "writable_args": _writable_args, "locals": _locals,
}


def extra_options(decorator: str, keywords: dict[str, Any]) -> dict[str, Any]:
    """CompileOptions fields for Numba's other keyword arguments (TypeError if unknown)."""
    found: dict[str, Any] = {}
    for name, value in keywords.items():
        rule = _RULES.get(name)
        if rule is None or (name == "writable_args" and decorator != "guvectorize"):
            raise TypeError(f"{decorator}() got an unexpected keyword argument {name!r}; "
                            f"Ember's {decorator} takes {_ACCEPTED}"
                            + (", writable_args" if decorator == "guvectorize" else ""))
        found.update(rule(value))
    return found
