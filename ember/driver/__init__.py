"""The drivers: one per target (cpu.py, gpu.py), named in the registry targets.py, with the
cache key (cachekey.py) and derivative planning (derivatives.py). This package imports nothing,
so `ember.driver.targets` can be read by the options without loading a driver."""

import os
import threading

COMPILE_LOCK = threading.RLock()
"""One compile at a time in a process, whatever the target (the MLIR context and LLVM are
shared). A child made by `os.fork` (a multiprocessing "fork" pool) gets it free, even where
another thread of the parent held it."""
os.register_at_fork(after_in_child=COMPILE_LOCK._at_fork_reinit)  # type: ignore[attr-defined]
