"""`stop_gradient`: a value whose derivative is zero.

In plain Python it returns its argument unchanged. In a kernel, `stop_gradient(x)` of a
float scalar or array has the value of `x` and derivative zero in every mode (grad, jvp,
vjp); on integers and bools it is `x`. Primal builds compile it to nothing; derivative builds
read a stopped array through a copy, so a stopped array is read-only (writes into it are
refused: frontend/customrules.py). `ember.custom_jvp` rules are built on it.
"""

from __future__ import annotations

from typing import TypeVar

V = TypeVar("V")


def stop_gradient(x: V) -> V:
    """`x`, with derivative zero when a kernel is differentiated."""
    return x
