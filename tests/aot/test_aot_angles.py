"""A kernel and a derivative using math.radians/np.rad2deg build with `ember build`; the built
module gives the JIT's results bit for bit."""

import importlib.util
import math
import textwrap

import numpy as np

import ember

SOURCE = textwrap.dedent("""
    import math
    import numpy as np
    from ember import f32, f64, grad, kernel


    @kernel
    def turn(x: f64[:], y: f32[:], out: f64[:], out32: f32[:]) -> float:
        s = 0.0
        for i in range(len(x)):
            out[i] = math.radians(x[i])
            out32[i] = np.rad2deg(y[i])
            s += math.degrees(x[i]) + np.deg2rad(x[i])
        return s


    @kernel
    def bearing(d: float) -> float:
        return math.sin(math.radians(d))


    dbearing = grad(bearing)
    """)


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_angles_build_and_match_the_jit(tmp_path):
    source = tmp_path / "angles_mod.py"
    source.write_text(SOURCE)
    out = tmp_path / "build"
    ember.build(str(source), str(out))
    jit, aot = _load(source, "angles_jit"), _load(out / "angles_mod.py", "angles_mod")
    x = np.random.default_rng(3).standard_normal(50) * 400.0
    y = x.astype(np.float32)
    results = []
    for m in (jit, aot):
        o, o32 = np.empty_like(x), np.empty_like(y)
        results.append((m.turn(x, y, o, o32), o, o32))
    (s_jit, o_jit, o32_jit), (s_aot, o_aot, o32_aot) = results
    assert s_aot == s_jit
    np.testing.assert_array_equal(o_aot, o_jit)
    np.testing.assert_array_equal(o32_aot, o32_jit)
    np.testing.assert_array_equal(o_aot, [math.radians(v) for v in x])
    np.testing.assert_array_equal(o32_aot, np.rad2deg(y))
    assert aot.dbearing(60.0) == jit.dbearing(60.0)
    assert math.isclose(aot.dbearing(60.0), math.cos(math.radians(60.0)) * math.pi / 180,
                        rel_tol=1e-14)
