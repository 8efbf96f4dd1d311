"""PTX without a GPU: every kernel of gpu_kernels.py compiles for sm_90 with the expected
`.visible .entry` names and `.param` lists (each grid loop: trip count, start, step; each
array: its memref descriptor, 3 + 2 * ndim fields; then scalars and constants), with math
functions resolved from libdevice (no `.extern` left)."""

import re

import gpu_kernels
import pytest

import ember
from ember import f64, prange


def _signature(ptx):
    return {name: _compact(params)
            for name, params in re.findall(r"\.visible \.entry (\w+)\(([^)]*)\)", ptx)}


def _compact(params):
    """'u64*13 f32' for thirteen .u64 parameters followed by one .f32."""
    types = re.findall(r"\.param \.(\w+)", params)
    runs = []
    for t in types:
        if runs and runs[-1][0] == t:
            runs[-1][1] += 1
        else:
            runs.append([t, 1])
    return " ".join(t if n == 1 else f"{t}*{n}" for t, n in runs)


EXPECTED = {
    # 1-D: count, start, step (3) + y, x (5 + 5) + a
    "saxpy": {"saxpy_kernel": "u64*13 f32"},
    # 2-D: 2 x (count, start, step) (6) + u, out (7 + 7) + k; the constant 4.0 is an immediate
    "heat_step": {"heat_step_kernel": "u64*13 f64 u64*7"},
    # 3-D: 3 x 3 + x, out (9 + 9) + s
    "scale3": {"scale3_kernel": "u64*18 f32 u64*9"},
    "math64": {"math64_kernel": "u64*13"},
    "math32": {"math32_kernel": "u64*13"},
    # reduction (strided): count, start, step + x + its one-element buffer (5) + threads
    "total": {"total_kernel": "u64*14"},
    "count_above": {"count_above_kernel": "u64*15"},
    # bins[b] += 1 stays atomic per iteration; sums[0] += x[i] is an element sum (strided)
    "histogram": {"histogram_kernel": "u64*20"},
    "row_sums": {"row_sums_kernel": "u64*18"},
    "branchy": {"branchy_kernel": "u64*15"},
    "matmul": {"matmul_kernel": "u64*27"},
    # integer ** (a helper .func copied into the module), // and %
    "powers": {"powers_kernel": "u64*13"},
    "two_pass": {"two_pass_0_kernel": "u64*13",
                 "two_pass_1_kernel": "u64*20"},
    # 2-D, two reductions (f64, i64): 6 + u (7) + two buffers (10) + threads
    "gradient_stats": {"gradient_stats_kernel": "u64*24"},
    # 2-D, two element sums (out[0], out[-1]): 6 + x (7) + threads, limit, out (5)
    "masked_sums": {"masked_sums_kernel": "u64*14 f64 u64*5"},
    # whole-array statements: one nest per statement over the destination's axes (count,
    # start, step each) + the arrays it touches; per-thread array code: arrays only
    "array_saxpy": {"array_saxpy_0_kernel": "u64*18 f32", "array_saxpy_1_kernel": "u64*13"},
    "array_broadcast": {"array_broadcast_0_kernel": "u64*25",
                        "array_broadcast_1_kernel": "u64*20",
                        "array_broadcast_2_kernel": "u64*18",
                        "array_broadcast_3_kernel": "u64*25"},
    "array_rows": {"array_rows_kernel": "u64*17"},
    "array_tiles": {"array_tiles_kernel": "u64*26"},
    # host-level np.sum: a strided reduction (6 + x, w (7 + 5) + buffer (5) + threads), the
    # statement that uses it, and an i64 sum (3 + k (5) + buffer (5) + threads)
    "array_sums": {"array_sums_0_kernel": "u64*24", "array_sums_1_kernel": "u64*13 f64",
                   "array_sums_2_kernel": "u64*14"},
    # 4-D destinations: a 3-D grid (9) + the arrays (11 each)
    "array_4d": {"array_4d_0_kernel": "u64*31", "array_4d_1_kernel": "u64*20"},
    # a scalar reduction with array code: 3 + x, flags, lo (7 + 5 + 5) + buffer (5) + threads
    "array_reductions": {"array_reductions_kernel": "u64*26"},
}


@pytest.fixture(scope="module")
def ptx():
    return {name: getattr(gpu_kernels, name).inspect("ptx") for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entries_and_params(name, ptx):
    assert _signature(ptx[name]) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_target_and_no_unresolved_calls(name, ptx):
    text = ptx[name]
    assert ".target sm_90" in text and ".version 8.0" in text
    # libdevice math was linked in; the only external function is CUDA's assertion
    # (`__assertfail`, the run-time checks of array code: test_gpu_arrays.py)
    assert set(re.findall(r"\.extern \.func\s*(?:\([^)]*\)\s*)?(\w+)", text)) <= {"__assertfail"}
    assert text.count(".extern") == text.count(".extern .func __assertfail")
    assert "__nv_" not in text


def test_atomics(ptx):
    assert "atom.global.add.f64" in ptx["total"]       # scalar reduction
    assert "atom.global.add.u64" in ptx["count_above"]  # integer reduction
    assert ptx["histogram"].count("atom.global.add.f64") == 2  # bins[b] += 1, sums[0] += x
    assert "atom.global.add.f64" in ptx["row_sums"]    # out[i] += ... inside an (i, j) grid
    assert "atom." not in ptx["saxpy"]                 # y[i] += ...: each thread owns y[i]
    assert "atom." not in ptx["branchy"]


def test_reductions_combine_per_warp(ptx):
    """A scalar reduction: one atomic per warp, after a butterfly of 5 shuffles (64-bit
    values as two 32-bit halves), done by lane 0."""
    for name, halves in (("total", 2), ("count_above", 2), ("two_pass", 2),
                         ("gradient_stats", 4), ("histogram", 2), ("masked_sums", 4)):
        assert ptx[name].count("shfl.sync.bfly.b32") == 5 * halves, name
        assert "%laneid" in ptx[name]
    assert ptx["total"].count("atom.global.add.f64") == 1
    assert ptx["masked_sums"].count("atom.global.add.f64") == 2  # out[0], out[-1]: per warp
    assert "shfl." not in ptx["saxpy"] + ptx["row_sums"]


def test_sequential_loop_and_branch_inside(ptx):
    body = ptx["branchy"]
    assert body.count("bra") >= 3  # the k loop and the if/else


def test_block_shape_is_declared(ptx):
    assert ".maxntid 128, 1, 1" in ptx["saxpy"]
    assert ".maxntid 128, 2, 1" in ptx["heat_step"]
    assert ".maxntid 128, 2, 2" in ptx["scale3"]


def test_arch_option(monkeypatch):
    def f(x: f64[:]) -> None:
        for i in prange(len(x)):
            x[i] = 2.0 * x[i]

    assert ".target sm_80" in ember.kernel(f, target="gpu", gpu_arch="sm_80").inspect("ptx")
    monkeypatch.setenv("EMBER_GPU_ARCH", "sm_89")
    assert ".target sm_89" in ember.kernel(f, target="gpu").inspect("ptx")


def test_other_stages():
    mlir = gpu_kernels.saxpy.inspect("mlir")
    assert "scf.parallel" in mlir and "gpu." not in mlir
    lowered = gpu_kernels.saxpy.inspect("lowered")
    assert "gpu.binary @saxpy_kernel" in lowered and "gpu.launch_func" in lowered
    with pytest.raises(ValueError, match="unknown stage 'asm' for a GPU kernel"):
        gpu_kernels.saxpy.inspect("asm")


def test_options_are_part_of_the_cache_key():
    from ember.driver.cachekey import cache_key

    f = gpu_kernels.saxpy.py_func
    keys = {cache_key(f, ember.kernel(f, **kw).options)
            for kw in ({}, {"target": "gpu"}, {"target": "gpu", "gpu_arch": "sm_80"})}
    assert len(keys) == 3


def test_unknown_target_or_arch():
    with pytest.raises(ValueError, match="unknown target 'tpu'"):
        ember.kernel(gpu_kernels.saxpy.py_func, target="tpu")
    with pytest.raises(ValueError, match="unknown GPU architecture 'volta'"):
        ember.kernel(gpu_kernels.saxpy.py_func, target="gpu", gpu_arch="volta")


def test_disk_cache():
    """The manifest (PTX included) is cached: a second Kernel of the same function loads it."""
    first = ember.kernel(gpu_kernels.matmul.py_func, target="gpu")
    first.compile()
    second = ember.kernel(gpu_kernels.matmul.py_func, target="gpu")
    second.compile()
    assert second.cache_hit is True
    assert second.compile().manifest == first.compile().manifest


def test_element_sum_only_where_the_array_is_not_otherwise_touched():
    """`acc[0] += v` becomes a per-warp sum unless the nest also reads or writes `acc`
    elsewhere, or the subscript varies: then it stays one atomic per iteration."""
    def summed(x: f64[:], acc: f64[:], k: int) -> None:
        for i in prange(len(x)):
            acc[k] += x[i]

    def read_too(x: f64[:], acc: f64[:]) -> None:
        for i in prange(len(x)):
            acc[0] += x[i]
            x[i] = acc[1]

    def varying(x: f64[:], acc: f64[:]) -> None:
        for i in prange(len(x)):
            acc[i % 2] += x[i]

    ptx = {f.__name__: ember.kernel(f, target="gpu").inspect("ptx")
           for f in (summed, read_too, varying)}
    assert "shfl.sync.bfly" in ptx["summed"]
    assert "shfl." not in ptx["read_too"] + ptx["varying"]
    for text in ptx.values():
        assert text.count("atom.global.add.f64") == 1
