"""The user objects: `@kernel` and `Kernel` (kernel.py), derivative objects (autodiff.py),
the finite-difference check (gradcheck.py) and the GPU helpers (cuda.py). Each module is
imported on its own; this package imports nothing, so `import ember` stays light."""
