"""Runtime stage: native entry thunks, object code and shared libraries, the disk cache and
the per-call path (ctypes, numpy arrays read natively)."""
