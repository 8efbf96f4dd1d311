"""Ember's version, in a module of its own so that modules needing it never import the package
`__init__` (which would make an import circle)."""

__version__ = "0.1.0"
