"""The GPU target as data: its stages come from the target registry, its manifest is typed
records that survive JSON unchanged, and its launcher takes the ABI from the shared tables
(scalar kinds, memref layout) and checks scalar arguments by the CPU's rule. No GPU needed."""

import ctypes
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import gpu_kernels
import numpy as np
import pytest

import ember
from ember import types as T
from ember.driver import targets
from ember.driver.gpu import gpu_manifest
from ember.runtime import abi, cuda
from ember.runtime.abi import Signature
from ember.runtime.checks import Checker
from ember.runtime.gpu_manifest import GpuManifest, Param

ROOT = Path(__file__).resolve().parents[2]
LAYER = {"plan": "frontend", "emit": "ir", "lower": "lowering", "chip": "lowering",
         "launcher": "runtime"}


@pytest.mark.parametrize("what", [f.name for f in dataclasses.fields(targets.Offload)])
def test_registry_resolves_every_gpu_stage(what):
    function = targets.stage("gpu", what)
    assert callable(function)
    assert function.__module__.startswith(f"ember.{LAYER[what]}.")


def test_a_target_without_device_stages():
    with pytest.raises(ValueError, match="no device stages"):
        targets.stage("cpu", "plan")


def test_reading_the_registry_imports_no_driver_and_no_mlir():
    code = ("import sys, ember.driver.targets as t; t.TARGETS['gpu'].offload; "
            "print(sorted(m for m in sys.modules if m.startswith(('mlir', 'ember.driver.', "
            "'ember.frontend', 'ember.lowering', 'ember.runtime.cuda'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "['ember.driver.targets']"


@pytest.mark.parametrize("name", ["saxpy", "total", "two_pass", "heat_step", "histogram"])
def test_manifest_round_trip(name):
    kernel = getattr(gpu_kernels, name)
    manifest = gpu_manifest(kernel.py_func, kernel.options)
    again = GpuManifest.from_json(json.loads(json.dumps(manifest.to_json())))
    assert again == manifest
    assert again.to_json() == manifest.to_json()


def test_cached_manifest_is_the_record():
    first = ember.kernel(gpu_kernels.scale3.py_func, target="gpu")
    second = ember.kernel(gpu_kernels.scale3.py_func, target="gpu")
    assert isinstance(first.compile().manifest, GpuManifest)
    assert second.compile().manifest == first.compile().manifest and second.cache_hit


def _gpu_bind(t, value):
    manifest = GpuManifest("f", "sm_90", (Param("x", "scalar", t.np_dtype.name),), (), (), None)
    return cuda.GpuFunction(manifest)._bind((value,), {})["x"]


def _cpu_check(t, value):
    return Checker("f", Signature((("x", t),), T.none, frozenset()))._scalar("x", t, value)


VALUES = [True, np.bool_(False), 0, 7, -1, 300, 2**70, np.int32(3), np.uint8(200), 1.5,
          np.float32(2.5), np.float64(-0.25), "1", None, np.zeros(1)]


@pytest.mark.parametrize("t", [T.boolean, T.i8, T.i32, T.u16, T.i64, T.f32, T.f64],
                         ids=str)
def test_gpu_scalar_check_follows_the_cpu(t):
    for value in VALUES:
        outcomes = []
        for check in (_cpu_check, _gpu_bind):
            try:
                check(t, value)
                outcomes.append("ok")
            except (TypeError, OverflowError) as err:
                outcomes.append(type(err).__name__)
        assert outcomes[0] == outcomes[1], (t, value, outcomes)


def test_bool_for_a_float_parameter():
    assert _gpu_bind(T.f32, True) == 1.0 and isinstance(_gpu_bind(T.f32, True), float)
    assert _gpu_bind(T.f32, 0.1) == float(np.float32(0.1))  # rounded as the kernel sees it


def test_launch_parameters_from_the_shared_tables():
    assert cuda._parameter("const", -1, "i32", [])[0].value == 2**32 - 1
    assert isinstance(cuda._parameter("const", 2.5, "f32", [])[0], ctypes.c_float)
    assert isinstance(cuda._parameter("const", 7, "index", [])[0], ctypes.c_uint64)
    array = cuda._Array(4096, (3, 5), (5, -1), None, False)
    fields = array.fields()
    assert len(fields) == len(abi.memref_fields(2))
    assert [f.value for f in fields] == [4096, 4096, 0, 3, 5, 5, 2**64 - 1]


def test_no_second_abi_table_in_the_launcher():
    source = (ROOT / "ember" / "runtime" / "cuda.py").read_text()
    assert not re.findall(r"c_(?:u?int\d+|float|double|bool)\b", source)
