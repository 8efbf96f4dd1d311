"""Ahead-of-time builds: collect (kernels of a module) -> build (CPU library, build.py) or gpu
(PTX + loader, gpu.py), with the C API and header (c_api.py) and the Python loader (loader.py).

`ember.aot.build` is the build function (the module of the same name is `ember.aot.build`
in `sys.modules`)."""

from .build import build

__all__ = ["build"]
