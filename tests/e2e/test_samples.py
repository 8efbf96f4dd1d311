"""The README's demo (samples/heat.py): its loop kernel, its array-style kernel written with
slices, pure Python and NumPy agree (the demo's own check, on a small plate)."""

import importlib.util
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"sample_{name}", ROOT / "samples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_heat_sample_loop_and_slices_agree():
    heat = _load("heat")
    heat.check_against_python(0.2)
    u0 = heat.hot_spot(17, 2.0)
    loops = heat.simulate(heat.heat_step, u0, 0.2, 30)
    slices = heat.simulate(heat.heat_step_slices, u0, 0.2, 30)
    np.testing.assert_array_equal(loops, slices)
    assert abs(slices.sum() - u0.sum()) < 1e-12 * u0.sum()
