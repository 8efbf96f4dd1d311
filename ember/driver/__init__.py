"""The drivers: one per target (cpu.py, gpu.py), named in the registry targets.py, with the
cache key (cachekey.py) and derivative planning (derivatives.py). This package imports nothing,
so `ember.driver.targets` can be read by the options without loading a driver."""

import threading

COMPILE_LOCK = threading.RLock()
"""One compile at a time in a process, whatever the target (the MLIR context and LLVM are
shared)."""
