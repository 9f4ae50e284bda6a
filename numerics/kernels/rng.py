"""numpy-identical random streams in compiled code: PCG64 seeded by SeedSequence, ziggurat normals, uniforms.

numpy's ``PCG64`` seeded by ``SeedSequence(seed, spawn_key=(particle, stream))``, numpy's ziggurat
``standard_normal`` and ``random`` (next_double) re-implemented inline in numba, following the
random-stream contract of :mod:`numerics.streams` bit for bit. They reproduce numpy's draws exactly
(tested against ``numpy.random.Generator``), need no Python object per particle (building a numpy
Generator costs ~40 µs; seeding here costs ~0.3 µs), and are faster than numpy's own bulk generation,
because the bit generator is inlined instead of called through a function pointer and the ziggurat's
sign is applied without a branch.

A generator is four uint64 words (state high, state low, increment high, increment low) made by
:func:`pcg_seed`; :func:`pcg_normal` and :func:`pcg_double` take them and return the draw with the new
state words.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types, uint32, uint64
from numba.extending import intrinsic
from llvmlite import ir

from flatminima.errors import InputError
from flatminima.numerics import streams

# numpy/random/bit_generator.pyx (SeedSequence) constants
_INIT_A = np.uint32(0x43B0D7E5)
_MULT_A = np.uint32(0x931E8875)
_INIT_B = np.uint32(0x8B51F9DD)
_MULT_B = np.uint32(0x58F38DED)
_MIX_MULT_L = np.uint32(0xCA01F9DD)
_MIX_MULT_R = np.uint32(0x4973F715)
_XSHIFT = np.uint32(16)
_POOL = 4
# numpy/random/src/pcg64/pcg64.h: PCG_DEFAULT_MULTIPLIER_128 = (high << 64) | low
_PCG_MULT = (2549297995355413924 << 64) | 4865540595714422341
_MASK32 = np.uint64(0xFFFFFFFF)


def _ziggurat_tables():
    # numba ships numpy's ziggurat_constants.h tables (numba.np.random._constants); they are
    # checked against numpy's own draws in tests/numerics/test_kernels.py.
    from numba.np.random import _constants as c
    return (np.ascontiguousarray(c.ki_double, dtype=np.uint64), np.ascontiguousarray(c.wi_double, dtype=np.float64),
            np.ascontiguousarray(c.fi_double, dtype=np.float64), float(c.ziggurat_nor_r), float(c.ziggurat_nor_inv_r))


_KI, _WI, _FI, _ZIG_R, _ZIG_INV_R = _ziggurat_tables()
_WI_SIGNED = np.concatenate([_WI, -_WI])
"""wi and −wi: indexed by the draw's low 9 bits (the layer, and the sign bit 8), x·(−w) = −(x·w) exactly."""
_TWO53_INV = 1.0 / 9007199254740992.0


@intrinsic
def _pcg_next(typingctx, shi, slo, ihi, ilo):
    """One PCG64 (XSL-RR 128/64) step: returns (output, new state high, new state low).

    numpy/random/src/pcg64/pcg64.h: state ← state·M + inc (mod 2¹²⁸), output = rotr64(hi ⊕ lo, hi >> 58).
    Written in 128-bit LLVM arithmetic: the compiler emits three multiplies (a 64-bit version
    written with a separate high-half multiply needs four) and a rotate instruction.
    """
    sig = types.UniTuple(types.uint64, 3)(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i64, i128 = ir.IntType(64), ir.IntType(128)

        def join(hi, lo):
            return builder.or_(builder.shl(builder.zext(hi, i128), ir.Constant(i128, 64)), builder.zext(lo, i128))
        state = builder.add(builder.mul(join(args[0], args[1]), ir.Constant(i128, _PCG_MULT)), join(args[2], args[3]))
        lo = builder.trunc(state, i64)
        hi = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
        x = builder.xor(hi, lo)
        fnty = ir.FunctionType(i64, [i64, i64, i64])
        rotr = builder.module.globals.get("llvm.fshr.i64") or ir.Function(builder.module, fnty, "llvm.fshr.i64")
        out = builder.call(rotr, [x, x, builder.lshr(hi, ir.Constant(i64, 58))])
        return context.make_tuple(builder, signature.return_type, [out, hi, lo])
    return sig, codegen


@njit(cache=True, inline="always")
def _hashmix(value, hash_const):
    value ^= hash_const[0]
    hash_const[0] = uint32(hash_const[0] * _MULT_A)
    value = uint32(value * hash_const[0])
    value ^= value >> _XSHIFT
    return value


@njit(cache=True, inline="always")
def _mix(x, y):
    r = uint32(uint32(_MIX_MULT_L * x) - uint32(_MIX_MULT_R * y))
    r ^= r >> _XSHIFT
    return r


@njit(cache=True)
def _seed_words(seed, particle, stream):
    """``SeedSequence(seed, spawn_key=(particle, stream)).generate_state(4, uint64)``."""
    ent = np.zeros(12, np.uint32)
    n = 0
    s = uint64(seed)
    while True:                          # _coerce_to_uint32_array(int): little-endian 32-bit words
        ent[n] = uint32(s & _MASK32)
        n += 1
        s >>= uint64(32)
        if s == 0:
            break
    if n < _POOL:                        # entropy is zero-padded to the pool size when a spawn key follows
        n = _POOL
    for v0 in (particle, stream):
        v = uint64(v0)
        while True:
            ent[n] = uint32(v & _MASK32)
            n += 1
            v >>= uint64(32)
            if v == 0:
                break
    pool = np.zeros(_POOL, np.uint32)
    hc = np.empty(1, np.uint32)
    hc[0] = _INIT_A
    for i in range(_POOL):
        pool[i] = _hashmix(ent[i] if i < n else uint32(0), hc)
    for i_src in range(_POOL):
        for i_dst in range(_POOL):
            if i_src != i_dst:
                pool[i_dst] = _mix(pool[i_dst], _hashmix(pool[i_src], hc))
    for i_src in range(_POOL, n):
        for i_dst in range(_POOL):
            pool[i_dst] = _mix(pool[i_dst], _hashmix(ent[i_src], hc))
    hb = _INIT_B
    words = np.empty(8, np.uint32)
    for i in range(8):
        dv = pool[i % _POOL]
        dv ^= hb
        hb = uint32(hb * _MULT_B)
        dv = uint32(dv * hb)
        dv ^= dv >> _XSHIFT
        words[i] = dv
    out = np.empty(4, np.uint64)
    for i in range(4):
        out[i] = uint64(words[2 * i]) | (uint64(words[2 * i + 1]) << uint64(32))
    return out


@njit(cache=True)
def pcg_seed(seed, particle, stream):
    """State (hi, lo, inc hi, inc lo) of ``PCG64(SeedSequence(seed, spawn_key=(particle, stream)))``."""
    v = _seed_words(seed, particle, stream)
    ihi = (v[2] << uint64(1)) | (v[3] >> uint64(63))          # inc = (initseq << 1) | 1
    ilo = (v[3] << uint64(1)) | uint64(1)
    _, shi, slo = _pcg_next(uint64(0), uint64(0), ihi, ilo)
    lo = slo + v[1]                                           # state += initstate
    hi = shi + v[0] + (uint64(1) if lo < slo else uint64(0))
    _, shi, slo = _pcg_next(hi, lo, ihi, ilo)
    return shi, slo, ihi, ilo


@njit(cache=True, inline="always")
def pcg_double(shi, slo, ihi, ilo):
    """numpy's next_double: (next_uint64 >> 11)·2⁻⁵³, in [0, 1)."""
    r, shi, slo = _pcg_next(shi, slo, ihi, ilo)
    return float(np.int64(r >> uint64(11))) * _TWO53_INV, shi, slo


@njit(cache=True)
def _normal_slow(r, shi, slo, ihi, ilo):
    """The rare branches of numpy's ziggurat (random_standard_normal), continuing from draw r."""
    while True:
        idx = r & uint64(0xFF)
        r >>= uint64(8)
        sign = r & uint64(1)
        rabs = (r >> uint64(1)) & uint64(0x000FFFFFFFFFFFFF)
        x = float(np.int64(rabs)) * _WI[idx]
        if sign:
            x = -x
        if rabs < _KI[idx]:
            return x, shi, slo
        if idx == 0:
            while True:
                u, shi, slo = pcg_double(shi, slo, ihi, ilo)
                xx = -_ZIG_INV_R * np.log1p(-u)
                u, shi, slo = pcg_double(shi, slo, ihi, ilo)
                yy = -np.log1p(-u)
                if yy + yy > xx * xx:
                    if (rabs >> uint64(8)) & uint64(1):
                        return -(_ZIG_R + xx), shi, slo
                    return _ZIG_R + xx, shi, slo
        else:
            u, shi, slo = pcg_double(shi, slo, ihi, ilo)
            if (_FI[idx - 1] - _FI[idx]) * u + _FI[idx] < np.exp(-0.5 * x * x):
                return x, shi, slo
        r, shi, slo = _pcg_next(shi, slo, ihi, ilo)


@njit(cache=True, inline="always")
def pcg_normal(shi, slo, ihi, ilo):
    """numpy's ziggurat standard normal; the 99% branch inline and branch-free in the sign (bit 8 of the draw).

    The sign comes with the layer's width from a signed table (measured: fewer instructions per normal
    than flipping the sign bit of the product).
    """
    r, shi, slo = _pcg_next(shi, slo, ihi, ilo)
    idx = r & uint64(0xFF)
    rabs = (r >> uint64(9)) & uint64(0x000FFFFFFFFFFFFF)
    if rabs < _KI[idx]:
        return float(np.int64(rabs)) * _WI_SIGNED[r & uint64(0x1FF)], shi, slo
    return _normal_slow(r, shi, slo, ihi, ilo)


@njit(cache=True, inline="always")
def seed_lane(seed, index, bridge, st, lane):
    """Noise-stream (and, with the bridge, aux-stream) PCG64 states of stream index ``index`` into row ``lane``."""
    st[lane, 0], st[lane, 1], st[lane, 2], st[lane, 3] = pcg_seed(seed, index, 0)
    if bridge:
        st[lane, 4], st[lane, 5], st[lane, 6], st[lane, 7] = pcg_seed(seed, index, 1)


@njit(cache=True, nogil=True)
def _stream_normals(seed, particle, stream, n):
    shi, slo, ihi, ilo = pcg_seed(seed, particle, stream)
    out = np.empty(n)
    for k in range(n):
        out[k], shi, slo = pcg_normal(shi, slo, ihi, ilo)
    return out


@njit(cache=True, nogil=True)
def _stream_doubles(seed, particle, stream, n):
    shi, slo, ihi, ilo = pcg_seed(seed, particle, stream)
    out = np.empty(n)
    for k in range(n):
        out[k], shi, slo = pcg_double(shi, slo, ihi, ilo)
    return out


def check_stream_backend() -> None:
    """Refuse to run when :mod:`numerics.streams` uses another bit generator than PCG64 (the only one here)."""
    if streams.BIT_GENERATOR is not np.random.PCG64:
        raise NotImplementedError(
            f"numerics.kernels implements PCG64 streams only; numerics.streams.BIT_GENERATOR is "
            f"{streams.BIT_GENERATOR.__name__}")


def kernel_seed(seed) -> int:
    """A run seed checked by :mod:`numerics.streams` and below 2**64, as the uint64 the compiled code takes."""
    seed = streams._check_seed(seed)
    if seed >= 2**64:
        raise InputError(f"the compiled kernels take seeds below 2**64; got seed {seed}")
    return np.uint64(seed)


def check_index(name, value) -> int:
    """A particle or stream index checked to be an integer in [0, 2**63) (an int64 in compiled code)."""
    if isinstance(value, (bool, np.bool_)) or int(value) != value or not 0 <= value < 2**63:
        raise InputError(f"{name} must be an integer in [0, 2**63); got {value!r}")
    return int(value)


def stream_standard_normal(seed: int, particle: int, stream: int, size: int) -> np.ndarray:
    """The first ``size`` standard normals of one particle stream, drawn by the compiled generator.

    Equal, bit for bit, to ``streams.particle_stream(seed, particle, stream).standard_normal(size)``.
    """
    check_stream_backend()
    return _stream_normals(kernel_seed(seed), check_index("particle", particle), check_index("stream", stream),
                           int(size))


def stream_random(seed: int, particle: int, stream: int, size: int) -> np.ndarray:
    """The first ``size`` uniforms in [0, 1) of one particle stream, drawn by the compiled generator.

    Equal, bit for bit, to ``streams.particle_stream(seed, particle, stream).random(size)``.
    """
    check_stream_backend()
    return _stream_doubles(kernel_seed(seed), check_index("particle", particle), check_index("stream", stream),
                           int(size))
