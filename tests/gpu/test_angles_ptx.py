"""math.radians/math.degrees and np.deg2rad/np.rad2deg in a GPU kernel, without a GPU: the
kernel compiles to PTX, each conversion a multiplication by CPython's (f64) or NumPy's (f32)
constant as an immediate, with nothing left to link."""

import math
import struct

import numpy as np

from ember import f32, f64, kernel, prange


@kernel(target="gpu")
def to_radians(x: f64[:], y: f32[:], out: f64[:], out32: f32[:]) -> None:
    for i in prange(len(x)):
        out[i] = math.radians(x[i]) + math.degrees(x[i])
        out32[i] = np.deg2rad(y[i]) + np.rad2deg(y[i])


def _f64(v: float) -> str:
    return "0d" + struct.pack(">d", v).hex().upper()


def _f32(v: np.float32) -> str:
    return "0f" + struct.pack(">f", v).hex().upper()


def test_angles_compile_to_ptx():
    ptx = to_radians.inspect("ptx")
    assert ".visible .entry" in ptx and ".extern" not in ptx
    assert _f64(math.pi / 180) in ptx and _f64(180 / math.pi) in ptx
    one80 = np.float32(180.0)
    assert _f32(np.float32(np.pi) / one80) in ptx and _f32(one80 / np.float32(np.pi)) in ptx
