"""The prelude: NumPy routines written in Ember itself (ground layer: imports only numpy).

Each module holds plain, unannotated-by-type Python functions in Ember's kernel subset
(parameters are annotated `Any`: they are generic). A call such as `np.linalg.solve(A, b)` in
a kernel resolves, through the table of ember/frontend/prelude.py, to one of these functions,
which the program builder types once per list of argument types (`Callees.specialize`), so
one dtype-generic source serves float32, float64 and integer arrays; one that can raise is
typed per call site, its spans pinned to the user's call, so its errors name the user's line.
`selection.py` is called by ember/frontend/selection.py (sorting, masks, index arrays). They
are compiled, fused, differentiated and run like user kernels. Functions named with a leading
underscore are helpers that the others call; docs/numpy.md ("The prelude") says how to add a
routine.
"""
