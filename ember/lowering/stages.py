"""Named pass stages, each a tuple of MLIR pass strings with the reason for each pass.

Pipelines are tuples of stages, chosen by `primal_stages` / `gradient_stages`:
  CLEANUP -> [OPTIMIZE] -> [FAST_MATH] -> DEALLOC -> LOWER_DEALLOC -> CLEANUP -> TO_LLVM
  (primal CPU kernels; OPTIMIZE from opt_level 2, FAST_MATH with fastmath=True)
  ENZYME_OUTPUT -> CLEANUP -> [OPTIMIZE] -> LOWER_DEALLOC -> CLEANUP -> TO_LLVM_ARENA
  (gradients, after Enzyme ran in enzyme_call)
The loop-nest transformations that need dependence facts (unroll-and-jam, register tiling of
matmul-class nests) happen on the typed tree (frontend/opt/jam.py, frontend/opt/matmul.py) and are
emitted as scf/vector code by ir/matmul.py; OPTIMIZE then cleans the loops up for LLVM,
whose O`opt_level` pipeline (vectorizer included) runs last (runtime/native.py).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Stage(NamedTuple):
    name: str
    passes: tuple[str, ...]
    rewrites: tuple[str, ...] = ()
    """Python rewrites (lowering/rewrites.py) run before the passes, by name."""


CLEANUP: Final = Stage("cleanup", (
    "canonicalize",  # fold the frontend's index_cast chains and constant branches
    "cse",           # share the repeated memref.dim / index computations of indexing
))

LINALG: Final = Stage("linalg-to-loops", (
    # Whole-array expressions (ir/arrays.py) are linalg.generic ops on memrefs: plain scf
    # loops before deallocation and LLVM (Enzyme also needs loops: memref linalg gets zero
    # reverse gradients, ../shared/TOOLCHAIN-AD.md section 6).
    "convert-linalg-to-loops",
))

DEALLOC: Final = Stage("dealloc", (
    # Local arrays (np.zeros, ...) are freed where their last owner dies, including arrays
    # replaced inside loops and arrays returned to a caller kernel (ownership moves out).
    "ownership-based-buffer-deallocation{private-function-dynamic-ownership=true}",
    "canonicalize",
    "buffer-deallocation-simplification",
    "canonicalize",
))

LOWER_DEALLOC: Final = Stage("lower-dealloc", (
    "canonicalize",  # fold the ownership arithmetic of the unrolled deallocs
), rewrites=("lower-deallocs",))  # instead of bufferization-lower-deallocations (i1 memrefs)

TO_LLVM: Final = Stage("to-llvm", rewrites=("precise-libm",), passes=(
    # complex values (ir/complex_ops.py): arithmetic on the two parts as arith/math ops
    # (Smith's division, careful abs/sqrt), before math is lowered; then the remaining
    # complex<fN> values (create/re/im, memref elements) as LLVM structs of two floats.
    "convert-complex-to-standard",
    "convert-complex-to-llvm",
    "convert-math-to-funcs{convert-ctlz=false}",  # integer ** integer (math.ipowi) as a loop
    "arith-expand",            # floordivsi, maximumf, ... into basic arith ops
    "lower-affine",            # must precede scf-to-cf (affine.for bodies with scf.if)
    "convert-scf-to-cf",
    # LLVM intrinsics where LLVM has them (sqrt, fabs, exp, sin, ...); log1p is kept exact for
    # libm (expm1 was already turned into a libm call by rewrites.precise_libm_calls).
    "convert-math-to-llvm{approximate-log1p=false}",
    "convert-math-to-libm",    # the rest (log1p, erf, erfc, cbrt, asinh, ...) as libm calls
    "expand-strided-metadata",
    "lower-affine",
    "convert-vector-to-llvm",  # register tiles of matmul-class nests (ir/matmul.py)
    "finalize-memref-to-llvm",
    "convert-arith-to-llvm",
    "convert-cf-to-llvm",
    "convert-func-to-llvm",
    "convert-index-to-llvm",
    "convert-ub-to-llvm",      # ub.poison from canonicalization
    "reconcile-unrealized-casts",
))

OPTIMIZE: Final = Stage("optimize", (
    # Index arithmetic, memref.dim and loads-free expressions that do not change inside a
    # loop move out of it (in particular out of the k loops of register tiles and out of
    # Enzyme's reversed loops), so LLVM starts from smaller loop bodies.
    "loop-invariant-code-motion",
    "canonicalize",  # fold what hoisting exposed (constant trip counts, dead iter_args)
    "cse",           # one copy of the hoisted values
))

PRIMAL_CPU: Final = (LINALG, CLEANUP, DEALLOC, LOWER_DEALLOC, CLEANUP, TO_LLVM)

FAST_MATH: Final = Stage("fast-math", (
    "canonicalize",
), rewrites=("fast-math",))  # fast flags on float ops: LLVM may reassociate and vectorize

PRIMAL_CPU_FAST: Final = (LINALG, CLEANUP, FAST_MATH, DEALLOC, LOWER_DEALLOC, CLEANUP, TO_LLVM)


def primal_stages(optimize: bool, fastmath: bool, tracked: bool = False) -> tuple[Stage, ...]:
    """The stages of a primal CPU kernel (`optimize`: CompileOptions.optimize_loops;
    `tracked`: it can raise, so it allocates through runtime/raising.TRACKED)."""
    head = (LINALG, CLEANUP, *((OPTIMIZE,) if optimize else ()),
            *((FAST_MATH,) if fastmath else ()))
    return (*head, DEALLOC, LOWER_DEALLOC, CLEANUP, TO_LLVM_GENERIC if tracked else TO_LLVM)

# After Enzyme: its caches already carry their own deallocs, which the ownership-based
# deallocation pass cannot take as input, so only the placeholders are lowered.
ENZYME_OUTPUT: Final = Stage("enzyme-output", (
    "canonicalize",
), rewrites=("byte-bools",))  # Enzyme's i1 caches as byte buffers (see rewrites.byte_bools)

# Gradient libraries allocate through the runtime's per-call arena (runtime/thunk.ARENA),
# primal kernels that can raise through its tracked allocator (runtime/raising.TRACKED).
TO_LLVM_GENERIC: Final = Stage("to-llvm", tuple(
    "finalize-memref-to-llvm{use-generic-functions=true}" if p == "finalize-memref-to-llvm"
    else p for p in TO_LLVM.passes), TO_LLVM.rewrites)

GRADIENT_CPU: Final = (LINALG, ENZYME_OUTPUT, CLEANUP, LOWER_DEALLOC, CLEANUP, TO_LLVM_GENERIC)


def gradient_stages(optimize: bool) -> tuple[Stage, ...]:
    """The stages of Enzyme's output for a derivative library: OPTIMIZE as for primals.
    LINALG lowers the array expressions of the trip-counting primal (emitted without AD)."""
    return (LINALG, ENZYME_OUTPUT, CLEANUP, *((OPTIMIZE,) if optimize else ()), LOWER_DEALLOC,
            CLEANUP, TO_LLVM_GENERIC)

# --- GPU (target="gpu"): scf.parallel -> gpu.launch -> outlined gpu.func -> NVVM -> PTX ------
# Recipe and traps: /work/shared/TOOLCHAIN.md section 3. `{tiles}`, `{chip}` and `{features}`
# are filled in by lowering/gpu.py.
GPU_MAP: Final = Stage("gpu-map", (
    # integer ** integer (math.ipowi) as a loop in a helper function, which outlining copies
    # into the gpu.module (NVVM has no lowering for the op itself)
    "convert-math-to-funcs{convert-ctlz=false}",
    # Blocks of threads: the outer loop steps over tiles (-> blocks), the inner one over the
    # tile (-> threads). `no-min-max-bounds` guards the last tile with an scf.if instead of an
    # affine.min bound, which convert-parallel-loops-to-gpu cannot map (it silently does
    # nothing). No canonicalize before mapping: it would merge the two loops into one.
    "func.func(scf-parallel-loop-tiling{parallel-loop-tile-sizes={tiles} no-min-max-bounds})",
    "func.func(gpu-map-parallel-loops)",         # outer dims -> block x/y/z, inner -> thread
    "func.func(convert-parallel-loops-to-gpu)",  # mapped scf.parallel -> gpu.launch
    "canonicalize",
))

GPU_OUTLINE: Final = Stage("gpu-outline", (
    # constants into the launch body, so they stay immediates instead of kernel parameters
    "gpu-launch-sink-index-computations",
    "gpu-kernel-outlining",  # gpu.launch body -> gpu.module { gpu.func kernel } + launch_func
    "canonicalize",
))

GPU_TO_NVVM: Final = Stage("gpu-to-nvvm", (
    "nvvm-attach-target{chip={chip} features={features} O=3}",  # sm_90 needs PTX >= 7.8
    # Inside each gpu.module: affine.apply of the tiling and structured control flow must be
    # gone before convert-gpu-to-nvvm, or translation meets unrealized casts.
    "gpu.module(lower-affine)",
    "gpu.module(convert-scf-to-cf)",
    "gpu.module(arith-expand)",           # floordivsi, ceildivsi, maximumf -> basic arith
    "gpu.module(convert-gpu-to-nvvm)",    # gpu ids -> nvvm, math -> libdevice __nv_* calls
    "gpu.module(convert-math-to-llvm)",   # what libdevice does not cover (llvm intrinsics)
    "gpu.module(convert-ub-to-llvm)",     # ub.poison left by canonicalization
    "gpu.module(reconcile-unrealized-casts)",
))

GPU_TO_PTX: Final = Stage("gpu-to-ptx", (
    # PTX text in each gpu.binary's `assembly` (no ptxas / CUDA toolkit needed; libdevice
    # is embedded in libMLIR). Never gpu-lower-to-nvvm-pipeline: it aborts the process.
    "gpu-module-to-binary{format=isa}",
), rewrites=("assertions-end-threads",))  # device assertions never return (lowering/gpu.py)

GPU: Final = (LINALG, CLEANUP, GPU_MAP, GPU_OUTLINE, GPU_TO_NVVM, GPU_TO_PTX)
"""GPU stages, after the lowering/gpu.py libdevice rewrite (run by lowering/gpu.py)."""
