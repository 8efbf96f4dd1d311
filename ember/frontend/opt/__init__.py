"""Loop-nest optimizations on the typed tree (frontend step 7, opt_level >= 2).

Each pass rewrites a `tir` body into an equivalent one whose results are bitwise those of the
loops as written (every iteration keeps its own operations in their original order), with a
run-time overlap check falling back to the original loops where arrays might share memory.
infer.py applies them, only to kernels whose loops cannot raise, in this order:

1. matmul.py      matmul-class nests -> register-tiled `tir.MatMul` (first: it needs the nest
                  as written, before the other passes reshape it);
1b. packrows.py   matvec rows inside an outer loop -> rows as vector lanes over a transposed
                  copy of the matrix made once before that loop;
2. interchange.py swap column-order nests so the inner loop walks stride-1;
3. fusion.py      fuse adjacent producer/consumer loops with the same bounds;
4. jam.py         unroll-and-jam row loops (it multiplies the bodies the others match);
5. scans.py       float max/min scans (`m = max(m, x[j])`) split into independent chains.

jam.py also holds the dependence helpers (accesses, overlap checks, `LoopRewriter`) that the
other passes and the GPU planner (frontend/gpu.py) share.
"""

from __future__ import annotations

from ...types import Type
from .. import tir
from .fusion import fuse_loops
from .interchange import interchange_loops
from .jam import jam_loops
from .matmul import tile_matmuls
from .packrows import pack_rows
from .scans import split_scans


def optimize_nests(body: tuple[tir.Stmt, ...],
                   types: dict[str, Type]) -> tuple[tir.Stmt, ...]:
    """`body` with the passes above applied in order."""
    packed = pack_rows(tile_matmuls(body, types), types)
    return split_scans(jam_loops(fuse_loops(interchange_loops(packed, types), types), types), types)


__all__ = ["fuse_loops", "interchange_loops", "jam_loops", "optimize_nests", "pack_rows",
           "split_scans", "tile_matmuls"]
