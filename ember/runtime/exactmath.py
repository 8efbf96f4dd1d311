"""Default kernels: vectorized f64 `tanh` with exactly the C library's bits (LLVM IR -> LLVM IR).

LLVM's loop vectorizer turns `y[i] = math.tanh(x[i])` into `llvm.tanh.v4f64`, which code
generation splits back into four calls of glibc's scalar `tanh`. On x86-64 with FMA and AVX2,
glibc computes `tanh` with fdlibm's algorithm (s_tanh.c) around `__expm1_fma`, the IFUNC variant
of expm1 that is s_expm1.c compiled with -mfma (GCC fused some of its `a*b + c`; upstream has it
since 2.39, Debian's 2.36 too). `tanh_ir` writes that algorithm with the same FMAs and roundings
for `<N x double>`, branch-free (every path computed, the right one selected per lane), and
`use_exact_tanh` makes the vectorized calls call it: the scalar calls' bits, the whole loop in
vector registers. It is used only where `enabled()`: an x86-64 glibc host with FMA whose libm
`tanh` gives the recorded bits (`EXPECTED`) on `probes()`, which include inputs that tell the
FMA pattern apart; the cache key carries the decision (`key_fact`). Scalar `tanh` calls
(remainders, straight-line code) stay libm calls. Traced from this libm's machine code: tanh
calls expm1 on `2|x|` in [2, 44) or `-2|x|` in (-2, -2^-54], so expm1's overflow, tiny and
`k == 1` paths are never taken, and `x*invln2 +- 0.5` is a multiply then an add (not fused).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import os
import platform
import re
import struct
from collections.abc import Callable

from ..options import host_cpu

VECTOR_TANH = re.compile(r"@llvm\.tanh\.v(\d+)f64\b")
VERSION = 1
"""Bumped when the algorithm changes (part of the cache key through `key_fact`)."""
EXPECTED = "99c51eed7e394b51"
"""First 16 hex digits of the SHA-256 of `tanh` over `probes()` (little-endian doubles), as
glibc 2.36 (x86-64, FMA) and `tanh_ir` compute them."""


_CONTRACTION_WITNESSES = (
    "0x1.6451785ffba11p-4", "0x1.1d25a34a6a43ap-3", "0x1.4af3da091eb0ap-3",
    "0x1.50fd7a343db1dp-3", "0x1.1c2122c48c7c4p-3", "0x1.ef78c56b02c7p-4",
    "0x1.8f8bd59f51942p-4", "0x1.0bb44112a1e4dp-3", "0x1.91f42bd06ee24p-3",
    "0x1.945e309e47d94p+0", "0x1.0a2b1ffffe5f4p-1")
"""Inputs whose tanh changes if one of expm1's FMAs that matter (R1, t, 6 - x*t, the k = 0
result, the k != 0 correction) were a multiply and an add, found by comparing such variants
with glibc on random inputs in [2^-5, 2^3); the other FMAs (and fusing k's multiply-add)
changed no result among 2*10^8 of them."""


def probes() -> list[float]:
    """A few hundred fixed inputs: points in every binade from 2^-60 to 2^5, both signs, the
    thresholds of tanh and expm1 and their neighbours, zeros, subnormals, infinities, NaN and
    `_CONTRACTION_WITNESSES`."""
    found = [math.ldexp(m, e) for e in range(-60, 6) for m in (1.0, 1.2345678901234567,
                                                               1.6180339887498949)]
    found += [22.0, 21.999999999999996, 1.0, 0.9999999999999999, 2.0 ** -55,
              2.0 ** -55 * 0.9999999999999999, 0.34657359027997264, 0.3465735902799726,
              0.5198603854199589, 0.519860385419959, 19.408121055678468, 19.58, 0.125,
              0.0, 5e-324, 2.2250738585072014e-308, 1e-310, math.inf]
    found += [float.fromhex(h) for h in _CONTRACTION_WITNESSES]
    found += [-v for v in found] + [math.nan]
    return found


def digest(values: list[float]) -> str:
    """A short fingerprint of the bits of `values`."""
    return hashlib.sha256(struct.pack(f"<{len(values)}d", *values)).hexdigest()[:16]


@functools.cache
def _libm_tanh() -> Callable[[float], float] | None:
    try:
        fn = ctypes.CDLL("libm.so.6").tanh  # glibc's name (`_host_fits` asks for glibc)
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
    return fn


def _host_fits() -> bool:
    """x86-64 Linux with glibc and FMA: the platform the algorithm was traced on."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    flags = next((ln for ln in host_cpu() if ln.startswith("flags")), "").split()
    return (platform.machine() in ("x86_64", "AMD64") and libc.startswith("glibc ")
            and "fma" in flags)


@functools.cache
def enabled() -> bool:
    """Whether vectorized `tanh` may use `tanh_ir` here: checked once per process against
    this libm's `tanh` on `probes()`; any difference keeps libm."""
    if not _host_fits():
        return False
    fn = _libm_tanh()
    return fn is not None and digest([fn(v) for v in probes()]) == EXPECTED


def key_fact() -> str:
    """The decision, for the compile cache key."""
    return f"tanh=exact{VERSION}" if enabled() else "tanh=libm"


def _name(lanes: int) -> str:
    return f"@ember.exact.tanh.v{lanes}f64"


_HIGH_WORDS = {"tiny": 0x3C800000, "big22": 0x40360000, "one": 0x3FF00000,
               "half_ln2": 0x3FD62E42, "three_half_ln2": 0x3FF0A2B1}
"""Thresholds on high words (bits 32-63) of |x| (tanh) and |a| (expm1), as glibc tests them:
|x| < 2^-55, |x| < 22, |x| >= 1; |a| <= 0.5 ln2 (k = 0), |a| < 1.5 ln2 (k = +-1)."""

_BODY = """
  %ux = bitcast <N x double> %x to <N x i64>
  %hw64 = lshr <N x i64> %ux, splat (i64 32)
  %hw = trunc <N x i64> %hw64 to <N x i32>
  %ix = and <N x i32> %hw, splat (i32 2147483647)
  %neg = icmp slt <N x i64> %ux, zeroinitializer
  %tiny = icmp ult <N x i32> %ix, splat (i32 {tiny})
  %lt22 = icmp ult <N x i32> %ix, splat (i32 {big22})
  %notiny = xor <N x i1> %tiny, splat (i1 true)
  %main = and <N x i1> %notiny, %lt22
  %abs = call <N x double> @llvm.fabs.vNf64(<N x double> %x)
  %ax = select <N x i1> %main, <N x double> %abs, <N x double> splat (double 1.0)
  %big = icmp uge <N x i32> %ix, splat (i32 {one})
  %a2 = fadd <N x double> %ax, %ax
  %am = fmul <N x double> %ax, splat (double -2.0)
  %a = select <N x i1> %big, <N x double> %a2, <N x double> %am
  %ua2 = bitcast <N x double> %a2 to <N x i64>
  %ha64 = lshr <N x i64> %ua2, splat (i64 32)
  %ha = trunc <N x i64> %ha64 to <N x i32>
  %half = select <N x i1> %big, <N x double> splat (double 0.5), <N x double> splat (double -0.5)
  %kmul = fmul <N x double> %a, splat (double 0x3FF71547652B82FE)
  %kf = fadd <N x double> %kmul, %half
  %kg = fptosi <N x double> %kf to <N x i32>
  %small = icmp ule <N x i32> %ha, splat (i32 {half_ln2})
  %mid = icmp ule <N x i32> %ha, splat (i32 {three_half_ln2})
  %kpm = select <N x i1> %big, <N x i32> splat (i32 1), <N x i32> splat (i32 -1)
  %k1 = select <N x i1> %mid, <N x i32> %kpm, <N x i32> %kg
  %k = select <N x i1> %small, <N x i32> zeroinitializer, <N x i32> %k1
  %t = sitofp <N x i32> %k to <N x double>
  %nt = fneg <N x double> %t
  %hi = call <N x double> @llvm.fma.vNf64(<N x double> %nt, <N x double> splat (double 0x3FE62E42FEE00000), <N x double> %a)
  %lo = fmul <N x double> %t, splat (double 0x3DEA39EF35793C76)
  %xr = fsub <N x double> %hi, %lo
  %c0 = fsub <N x double> %hi, %xr
  %c = fsub <N x double> %c0, %lo
  %hfx = fmul <N x double> %xr, splat (double 0.5)
  %hxs = fmul <N x double> %xr, %hfx
  %R1 = call <N x double> @llvm.fma.vNf64(<N x double> %hxs, <N x double> splat (double 0xBFA11111111110F4), <N x double> splat (double 1.0))
  %R2 = call <N x double> @llvm.fma.vNf64(<N x double> %hxs, <N x double> splat (double 0xBF14CE199EAADBB7), <N x double> splat (double 0x3F5A01A019FE5585))
  %R3 = call <N x double> @llvm.fma.vNf64(<N x double> %hxs, <N x double> splat (double 0xBE8AFDB76E09C32D), <N x double> splat (double 0x3ED0CFCA86E65239))
  %h2 = fmul <N x double> %hxs, %hxs
  %h4 = fmul <N x double> %h2, %h2
  %s1 = call <N x double> @llvm.fma.vNf64(<N x double> %h2, <N x double> %R2, <N x double> %R1)
  %r1 = call <N x double> @llvm.fma.vNf64(<N x double> %h4, <N x double> %R3, <N x double> %s1)
  %nr1 = fneg <N x double> %r1
  %tt = call <N x double> @llvm.fma.vNf64(<N x double> %nr1, <N x double> %hfx, <N x double> splat (double 3.0))
  %num = fsub <N x double> %r1, %tt
  %nxr = fneg <N x double> %xr
  %den = call <N x double> @llvm.fma.vNf64(<N x double> %nxr, <N x double> %tt, <N x double> splat (double 6.0))
  %q0 = fdiv <N x double> %num, %den
  %e = fmul <N x double> %q0, %hxs
  %nhxs = fneg <N x double> %hxs
  %f0 = call <N x double> @llvm.fma.vNf64(<N x double> %xr, <N x double> %e, <N x double> %nhxs)
  %y0 = fsub <N x double> %xr, %f0
  %ec = fsub <N x double> %e, %c
  %nc = fneg <N x double> %c
  %f1 = call <N x double> @llvm.fma.vNf64(<N x double> %xr, <N x double> %ec, <N x double> %nc)
  %e2 = fsub <N x double> %f1, %hxs
  %xe = fsub <N x double> %xr, %e2
  %ym1 = call <N x double> @llvm.fma.vNf64(<N x double> splat (double 0.5), <N x double> %xe, <N x double> splat (double -0.5))
  %ex = fsub <N x double> %e2, %xr
  %k64 = sext <N x i32> %k to <N x i64>
  %ks = shl <N x i64> %k64, splat (i64 52)
  %yf0 = fsub <N x double> splat (double 1.0), %ex
  %yf1 = bitcast <N x double> %yf0 to <N x i64>
  %yf2 = add <N x i64> %yf1, %ks
  %yf3 = bitcast <N x i64> %yf2 to <N x double>
  %yfar = fsub <N x double> %yf3, splat (double 1.0)
  %kk = and <N x i32> %k, splat (i32 31)
  %sh = lshr <N x i32> splat (i32 2097152), %kk
  %tlw = sub <N x i32> splat (i32 {one}), %sh
  %tlw64 = zext <N x i32> %tlw to <N x i64>
  %tlb = shl <N x i64> %tlw64, splat (i64 32)
  %tlo = bitcast <N x i64> %tlb to <N x double>
  %yl0 = fsub <N x double> %tlo, %ex
  %yl1 = bitcast <N x double> %yl0 to <N x i64>
  %yl2 = add <N x i64> %yl1, %ks
  %ylo = bitcast <N x i64> %yl2 to <N x double>
  %thw0 = sub <N x i32> splat (i32 1023), %k
  %thw = shl <N x i32> %thw0, splat (i32 20)
  %thw64 = zext <N x i32> %thw to <N x i64>
  %thb = shl <N x i64> %thw64, splat (i64 32)
  %thi = bitcast <N x i64> %thb to <N x double>
  %es = fadd <N x double> %e2, %thi
  %yh0 = fsub <N x double> %xr, %es
  %yh1 = fadd <N x double> %yh0, splat (double 1.0)
  %yh2 = bitcast <N x double> %yh1 to <N x i64>
  %yh3 = add <N x i64> %yh2, %ks
  %yhi = bitcast <N x i64> %yh3 to <N x double>
  %isk0 = icmp eq <N x i32> %k, zeroinitializer
  %iskm1 = icmp eq <N x i32> %k, splat (i32 -1)
  %kp1 = add <N x i32> %k, splat (i32 1)
  %far = icmp ugt <N x i32> %kp1, splat (i32 57)
  %lt20 = icmp slt <N x i32> %k, splat (i32 20)
  %m1 = select <N x i1> %lt20, <N x double> %ylo, <N x double> %yhi
  %m2 = select <N x i1> %far, <N x double> %yfar, <N x double> %m1
  %m3 = select <N x i1> %iskm1, <N x double> %ym1, <N x double> %m2
  %em = select <N x i1> %isk0, <N x double> %y0, <N x double> %m3
  %d = fadd <N x double> %em, splat (double 2.0)
  %nem = fneg <N x double> %em
  %numr = select <N x i1> %big, <N x double> splat (double 2.0), <N x double> %nem
  %q = fdiv <N x double> %numr, %d
  %omq = fsub <N x double> splat (double 1.0), %q
  %z = select <N x i1> %big, <N x double> %omq, <N x double> %q
  %nz = fneg <N x double> %z
  %zs = select <N x i1> %neg, <N x double> %nz, <N x double> %z
  %one = select <N x i1> %neg, <N x double> splat (double -1.0), <N x double> splat (double 1.0)
  %onex = fadd <N x double> %x, splat (double 1.0)
  %small_r = fmul <N x double> %x, %onex
  %xx = fadd <N x double> %x, %x
  %isnan = fcmp uno <N x double> %x, %x
  %r1s = select <N x i1> %main, <N x double> %zs, <N x double> %one
  %r2s = select <N x i1> %tiny, <N x double> %small_r, <N x double> %r1s
  %r = select <N x i1> %isnan, <N x double> %xx, <N x double> %r2s
  ret <N x double> %r
"""
"""fdlibm's tanh(x) = sign(x) * (|x| >= 1 ? 1 - 2/(expm1(2|x|) + 2) : -t/(t + 2), t =
expm1(-2|x|)); expm1 reduced by k = round(a/ln2) (k = 0 or +-1 near zero, as glibc's tests of
the high word decide), its result by glibc's cases of k; |x| < 2^-55: x*(1 + x); |x| >= 22
and +-inf: +-1; NaN: x quieted. `main` lanes only enter expm1 (others compute it on 1.0)."""


def tanh_ir(lanes: int, group: int = 0) -> str:
    """The LLVM IR definition of the exact `tanh` on `<lanes x double>` (internal, to inline:
    attribute group `group`) and the declarations it needs."""
    v = f"<{lanes} x "
    body = _BODY.format(**_HIGH_WORDS).replace("<N x ", v).replace(".vNf64", f".v{lanes}f64")
    return (f"define internal {v}double> {_name(lanes)}({v}double> %x) #{group} {{{body}}}\n"
            f"declare {v}double> @llvm.fma.v{lanes}f64({v}double>, {v}double>, {v}double>)\n"
            f"declare {v}double> @llvm.fabs.v{lanes}f64({v}double>)\n")


_TANH_DECLARED = re.compile(r"^declare [^@\n]*@llvm\.tanh\.v\d+f64\(.*\n", re.MULTILINE)
_GROUP = "attributes #{} = {{ alwaysinline nounwind willreturn memory(none) }}\n"


def use_exact_tanh(ir_text: str) -> str:
    """`ir_text` with every `llvm.tanh.v<N>f64` call calling `tanh_ir(N)` instead."""
    lanes = sorted({int(m.group(1)) for m in VECTOR_TANH.finditer(ir_text)})
    group = 1 + max((int(g) for g in re.findall(r"^attributes #(\d+)", ir_text, re.MULTILINE)),
                    default=0)
    text = VECTOR_TANH.sub(lambda m: _name(int(m.group(1))), _TANH_DECLARED.sub("", ir_text))
    have = _declarations(text)
    extra = [line for n in lanes for line in tanh_ir(n, group).splitlines()
             if not (line.startswith("declare ") and _declared(line) in have)]
    return "\n".join([text, *extra, _GROUP.format(group)])


def _declared(line: str) -> str:
    return line.split("@", 1)[1].split("(", 1)[0]


def _declarations(text: str) -> set[str]:
    return set(re.findall(r"^declare [^@\n]*@([\w.]+)\(", text, re.MULTILINE))
