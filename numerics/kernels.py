"""Compiled (numba) fast paths: built-in gradients and losses, and fixed-noise escape simulation.

Three layers, all following the random-stream contract of :mod:`numerics.streams` bit for bit:

- **Streams.** numpy's ``PCG64`` seeded by ``SeedSequence(seed, spawn_key=(particle, stream))``,
  numpy's ziggurat ``standard_normal`` and ``random`` (next_double) re-implemented inline in numba.
  They reproduce numpy's draws exactly (tested against ``numpy.random.Generator``), need no Python
  object per particle (building a numpy Generator costs ~40 µs; seeding here costs ~0.3 µs), and
  are faster than numpy's own bulk generation, because the bit generator is inlined instead of
  called through a function pointer and the ziggurat's sign is applied without a branch.
- **Landscapes.** Gradients and losses of the built-ins that declare ``Landscape.kernel``:
  ``styblinski_tang`` (any d), ``double_well``, ``two_well_2d``, ``muller_brown``, with sharpness
  k: L_k(θ) = L(√k θ), ∇L_k(θ) = √k ∇L(√k θ).
- **Escape kernel.** :func:`fixed_noise_escape`: θ ← θ − η∇L(θ) + S·ξ with a fixed (d, d) matrix S,
  four particles side by side in 4-wide (AVX2) vectors for the common cases: Styblinski–Tang with
  one plane or a radius (any d, one or two noise regions, dense or diagonal S, bridge), and any 1-D
  landscape with one plane or a radius. Other cases step one particle at a time per thread (two side
  by side in 1-D), with the noise drawn and multiplied by S a block ahead. Memory is O(n_runs) for
  the outputs only; several threads can run (the kernel releases the GIL).
  :func:`fixed_noise_escape_reference` is the plain-numpy version of the same contract (autograd
  gradients, numpy Generators); both give identical exit steps and outcomes.

Stream use by :func:`fixed_noise_escape` (particle ``i`` is stream index ``particle_offset + i``):
``NOISE`` gives d standard normals per step, in coordinate order; ``AUX`` gives one uniform per
step, every step, only when ``bridge=True``.
"""
from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

import numpy as np
from numba import njit, types, uint32, uint64
from numba.core import cgutils
from numba.extending import intrinsic
from llvmlite import ir

from flatminima.errors import InputError
from flatminima.numerics import streams
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.landscape import Landscape, _batch_grad

__all__ = [
    "KERNELS", "CRITERIA", "has_kernel", "kernel_values", "kernel_grads",
    "stream_standard_normal", "stream_random",
    "white_noise_matrix", "hessian_fixed_noise_matrix",
    "KernelEscape", "fixed_noise_escape", "fixed_noise_escape_reference",
]

KERNELS = {"styblinski_tang": 0, "double_well": 1, "two_well_2d": 2, "muller_brown": 3}
"""Built-in kernel names (``Landscape.kernel[0]``) and their integer ids in compiled code."""

CRITERIA = {"dividing_surface": 0, "radius": 1, "loss_level": 2}
"""Exit criteria supported by :func:`fixed_noise_escape` and their integer ids."""

_ST, _DW, _TW, _MB = 0, 1, 2, 3
_DIVIDING, _RADIUS, _LEVEL = 0, 1, 2

# ====================================================================== streams (numpy-identical)
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
def _pcg_seed(seed, particle, stream):
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
def _pcg_double(shi, slo, ihi, ilo):
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
                u, shi, slo = _pcg_double(shi, slo, ihi, ilo)
                xx = -_ZIG_INV_R * np.log1p(-u)
                u, shi, slo = _pcg_double(shi, slo, ihi, ilo)
                yy = -np.log1p(-u)
                if yy + yy > xx * xx:
                    if (rabs >> uint64(8)) & uint64(1):
                        return -(_ZIG_R + xx), shi, slo
                    return _ZIG_R + xx, shi, slo
        else:
            u, shi, slo = _pcg_double(shi, slo, ihi, ilo)
            if (_FI[idx - 1] - _FI[idx]) * u + _FI[idx] < np.exp(-0.5 * x * x):
                return x, shi, slo
        r, shi, slo = _pcg_next(shi, slo, ihi, ilo)


@njit(cache=True, inline="always")
def _pcg_normal(shi, slo, ihi, ilo):
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


@njit(cache=True, nogil=True)
def _stream_normals(seed, particle, stream, n):
    shi, slo, ihi, ilo = _pcg_seed(seed, particle, stream)
    out = np.empty(n)
    for k in range(n):
        out[k], shi, slo = _pcg_normal(shi, slo, ihi, ilo)
    return out


@njit(cache=True, nogil=True)
def _stream_doubles(seed, particle, stream, n):
    shi, slo, ihi, ilo = _pcg_seed(seed, particle, stream)
    out = np.empty(n)
    for k in range(n):
        out[k], shi, slo = _pcg_double(shi, slo, ihi, ilo)
    return out


def _check_stream_backend():
    if streams.BIT_GENERATOR is not np.random.PCG64:
        raise NotImplementedError(
            f"numerics.kernels implements PCG64 streams only; numerics.streams.BIT_GENERATOR is "
            f"{streams.BIT_GENERATOR.__name__}")


def _kernel_seed(seed) -> int:
    seed = streams._check_seed(seed)
    if seed >= 2**64:
        raise InputError(f"the compiled kernels take seeds below 2**64; got seed {seed}")
    return np.uint64(seed)


def _index(name, value) -> int:
    if isinstance(value, (bool, np.bool_)) or int(value) != value or not 0 <= value < 2**63:
        raise InputError(f"{name} must be an integer in [0, 2**63); got {value!r}")
    return int(value)


def stream_standard_normal(seed: int, particle: int, stream: int, size: int) -> np.ndarray:
    """The first ``size`` standard normals of one particle stream, drawn by the compiled generator.

    Equal, bit for bit, to ``streams.particle_stream(seed, particle, stream).standard_normal(size)``.
    """
    _check_stream_backend()
    return _stream_normals(_kernel_seed(seed), _index("particle", particle), _index("stream", stream), int(size))


def stream_random(seed: int, particle: int, stream: int, size: int) -> np.ndarray:
    """The first ``size`` uniforms in [0, 1) of one particle stream, drawn by the compiled generator.

    Equal, bit for bit, to ``streams.particle_stream(seed, particle, stream).random(size)``.
    """
    _check_stream_backend()
    return _stream_doubles(_kernel_seed(seed), _index("particle", particle), _index("stream", stream), int(size))


# ====================================================================== compiled landscapes
# Müller–Brown constants: one definition, in numerics.builtins (numba freezes them as globals)
from flatminima.numerics.builtins import _MB_A, _MB_a, _MB_b, _MB_c, _MB_x0, _MB_y0  # noqa: E402


@njit(cache=True, inline="always")
def _st_loss1(r, x):
    """Twice one coordinate's term of L_k for Styblinski–Tang: y⁴ − 16y² + 5y, y = √k·x."""
    y = r * x
    return y ** 4 - 16.0 * y * y + 5.0 * y


@njit(cache=True, inline="always")
def _st_grad1(r, x):
    """∂L_k/∂θ_j for Styblinski–Tang: √k·(2y³ − 16y + 2.5), y = √k·θ_j."""
    y = r * x
    return r * (2.0 * y * y * y - 16.0 * y + 2.5)


@njit(cache=True, inline="always")
def _dw_loss1(kp, x):
    """L_k of the C² piecewise-quartic double well (numerics.builtins.double_well)."""
    y = kp[0] * x
    if y <= 0.0:
        u = y / kp[6]
        return kp[1] * (kp[3] * u ** 4 + kp[4] * u ** 3 + kp[5] * u * u)
    u = -y / kp[10]
    return kp[2] * (kp[7] * u ** 4 + kp[8] * u ** 3 + kp[9] * u * u)


@njit(cache=True, inline="always")
def _dw_grad1(kp, x):
    """L_k' of the double well; kp[11], kp[12] = 1/w_l, 1/w_r keep the per-step dependency chain short."""
    r = kp[0]
    y = r * x
    if y <= 0.0:
        iw = kp[11]
        u = y * iw
        return r * kp[1] * (4.0 * kp[3] * u * u * u + 3.0 * kp[4] * u * u + 2.0 * kp[5] * u) * iw
    iw = kp[12]
    u = -y * iw
    return -r * kp[2] * (4.0 * kp[7] * u * u * u + 3.0 * kp[8] * u * u + 2.0 * kp[9] * u) * iw


@njit(cache=True, nogil=True, inline="always")
def _loss_row(kid, kp, ths, i):
    """L_k(θ) at θ = row i of ``ths``, for kernel ``kid``; kp = (√k, kernel params...)."""
    r = kp[0]
    if kid == _ST:
        acc = 0.0
        for j in range(ths.shape[1]):
            acc += _st_loss1(r, ths[i, j])
        return 0.5 * acc
    if kid == _DW:
        return _dw_loss1(kp, ths[i, 0])
    if kid == _TW:
        x = r * ths[i, 0]
        y = r * ths[i, 1]
        q = x * x - 1.0
        return q * q + kp[1] * (y - kp[2] * q) ** 2 + kp[3] * x
    # Müller–Brown
    x = r * ths[i, 0]
    y = r * ths[i, 1]
    total = 0.0
    for m in range(4):
        dx = x - _MB_x0[m]
        dy = y - _MB_y0[m]
        total += _MB_A[m] * np.exp(_MB_a[m] * dx * dx + _MB_b[m] * dx * dy + _MB_c[m] * dy * dy)
    return kp[1] * total


@njit(cache=True, nogil=True, inline="always")
def _grad_row(kid, kp, ths, i, out):
    """Row i of out ← ∇L_k(θ) = √k ∇L(√k θ) at θ = row i of ``ths``, for kernel ``kid``.

    Rows, not views: a view made in a compiled loop costs reference counting on every step.
    """
    r = kp[0]
    if kid == _ST:
        for j in range(ths.shape[1]):
            out[i, j] = _st_grad1(r, ths[i, j])
    elif kid == _DW:
        out[i, 0] = _dw_grad1(kp, ths[i, 0])
    elif kid == _TW:
        x = r * ths[i, 0]
        y = r * ths[i, 1]
        q = x * x - 1.0
        v = y - kp[2] * q
        out[i, 0] = r * (4.0 * x * q - 4.0 * kp[1] * kp[2] * x * v + kp[3])
        out[i, 1] = r * (2.0 * kp[1] * v)
    else:
        x = r * ths[i, 0]
        y = r * ths[i, 1]
        gx = 0.0
        gy = 0.0
        for m in range(4):
            dx = x - _MB_x0[m]
            dy = y - _MB_y0[m]
            e = _MB_A[m] * np.exp(_MB_a[m] * dx * dx + _MB_b[m] * dx * dy + _MB_c[m] * dy * dy)
            gx += e * (2.0 * _MB_a[m] * dx + _MB_b[m] * dy)
            gy += e * (_MB_b[m] * dx + 2.0 * _MB_c[m] * dy)
        out[i, 0] = r * kp[1] * gx
        out[i, 1] = r * kp[1] * gy


@njit(cache=True, nogil=True)
def _loss(kid, kp, th):
    """L_k(θ) for kernel ``kid`` at one θ (d,)."""
    return _loss_row(kid, kp, np.ascontiguousarray(th).reshape(1, -1), 0)


@njit(cache=True, nogil=True)
def _values_batch(kid, kp, thetas):
    out = np.empty(thetas.shape[0])
    for p in range(thetas.shape[0]):
        out[p] = _loss_row(kid, kp, thetas, p)
    return out


@njit(cache=True, nogil=True)
def _grads_batch(kid, kp, thetas):
    out = np.empty_like(thetas)
    for p in range(thetas.shape[0]):
        _grad_row(kid, kp, thetas, p, out)
    return out


_KERNEL_DIMS = {"double_well": 1, "two_well_2d": 2, "muller_brown": 2}
_KERNEL_NPARAMS = {"styblinski_tang": 0, "double_well": 10, "two_well_2d": 3, "muller_brown": 1}


def has_kernel(landscape: Landscape) -> bool:
    """Whether a landscape has a compiled gradient here (a built-in that declares ``kernel``)."""
    return landscape.kernel is not None and landscape.kernel[0] in KERNELS


def _kernel_spec(landscape: Landscape) -> tuple[int, np.ndarray]:
    """(kernel id, kp = [√sharpness, *kernel params]) of a landscape, or a LandscapeError."""
    if not has_kernel(landscape):
        raise LandscapeError(f"{landscape.name} has no compiled kernel (built-ins only: {', '.join(KERNELS)}); "
                             "use fixed_noise_escape_reference or the numpy simulator")
    name, params, sharpness = landscape.kernel
    params = tuple(float(p) for p in params)
    if len(params) != _KERNEL_NPARAMS[name] or _KERNEL_DIMS.get(name, landscape.dim) != landscape.dim:
        raise LandscapeError(f"{landscape.name}: kernel {name} expects {_KERNEL_NPARAMS[name]} parameters and "
                             f"dim {_KERNEL_DIMS.get(name, 'any')}; got {len(params)} and dim {landscape.dim}")
    k = float(sharpness)
    if not np.isfinite(k) or k <= 0:
        raise LandscapeError(f"{landscape.name}: sharpness must be a finite number > 0; got {k}")
    if name == "double_well":           # append 1/w_l, 1/w_r
        params = params + (1.0 / params[5], 1.0 / params[9])
    return KERNELS[name], np.array((np.sqrt(k),) + params, dtype=np.float64)


def _rows(landscape: Landscape, thetas) -> tuple[np.ndarray, bool]:
    t = np.asarray(thetas, dtype=float)
    single = t.ndim == 1
    t = t.reshape(1, -1) if single else t
    if t.ndim != 2 or t.shape[1] != landscape.dim:
        raise LandscapeError(f"theta must have shape ({landscape.dim},) or (n, {landscape.dim}) for "
                             f"{landscape.name}; got shape {np.shape(thetas)}")
    return np.ascontiguousarray(t), single


def kernel_values(landscape: Landscape, thetas) -> np.ndarray | float:
    """Compiled L(θ) at one θ of shape (d,) (returns a float) or at n particles (n, d) (returns (n,)).

    No finiteness checks: non-finite θ gives non-finite values (the caller decides).
    """
    kid, kp = _kernel_spec(landscape)
    t, single = _rows(landscape, thetas)
    v = _values_batch(kid, kp, t)
    return float(v[0]) if single else v


def kernel_grads(landscape: Landscape, thetas) -> np.ndarray:
    """Compiled ∇L(θ) at one θ of shape (d,) (returns (d,)) or at n particles (n, d) (returns (n, d))."""
    kid, kp = _kernel_spec(landscape)
    t, single = _rows(landscape, thetas)
    g = _grads_batch(kid, kp, t)
    return g[0] if single else g


# ====================================================================== noise matrices
def white_noise_matrix(dim: int, eta: float, temperature: float) -> np.ndarray:
    """S = √(2Dη)·I, the per-step noise factor of white-noise dynamics (docs/theory.md §White noise)."""
    eta, temperature = _positive("eta", eta), _positive("temperature", temperature)
    return np.sqrt(2.0 * temperature * eta) * np.eye(int(dim))


def hessian_fixed_noise_matrix(hessian, eta: float, batch_size: int, loss_unit: float = 1.0) -> np.ndarray:
    """S = η·√(λ/B)·chol(H_a): per-step noise covariance η²λH_a/B frozen at the minimum (docs/theory.md §hessian_fixed).

    Parameters
    ----------
    hessian : ndarray (d, d)
        H_a, symmetric positive definite.
    eta : float > 0
    batch_size : int ≥ 1
        B.
    loss_unit : float > 0
        λ.
    """
    eta, loss_unit = _positive("eta", eta), _positive("loss_unit", loss_unit)
    if int(batch_size) != batch_size or batch_size < 1:
        raise InputError(f"batch_size must be an integer >= 1; got {batch_size}")
    h = np.asarray(hessian, float)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.all(np.isfinite(h)):
        raise InputError(f"hessian must be a finite square matrix; got shape {h.shape}")
    try:
        f = np.linalg.cholesky(0.5 * (h + h.T))
    except np.linalg.LinAlgError:
        raise InputError(f"hessian must be positive definite; its eigenvalues are "
                         f"{np.array2string(np.linalg.eigvalsh(0.5 * (h + h.T)), precision=4)}") from None
    return eta * np.sqrt(loss_unit / int(batch_size)) * f


def _positive(name, value) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a finite number > 0; got {value}")
    return value


# ====================================================================== escape: compiled
class KernelEscape(NamedTuple):
    """Outcome of each particle of a fixed-noise escape run.

    Attributes
    ----------
    steps : ndarray of int64 (n_runs,)
        Step of escape or divergence; ``max_steps`` for censored particles.
    escaped : ndarray of bool (n_runs,)
        Whether the criterion was met (directly, or by the Brownian-bridge test).
    diverged : ndarray of bool (n_runs,)
        θ became non-finite (never counted as escaped).
    theta : ndarray (n_runs, d) or None
        θ at the last step taken (the exit point), when ``return_theta=True``.
    """

    steps: np.ndarray
    escaped: np.ndarray
    diverged: np.ndarray
    theta: np.ndarray | None = None


@njit(cache=True, nogil=True, inline="always")
def _criterion_row(crit, cp, kid, kp, ths, i):
    """The criterion's statistic at θ = row i of ``ths``; the particle has escaped when it is ≥ 0."""
    d = ths.shape[1]
    if crit == _DIVIDING:          # cp = [m, p_1..p_m (m·d), n_1..n_m (m·d)]: max_s (θ − p_s)·n_s
        m = int(cp[0])
        best = -np.inf
        for q in range(m):
            s = 0.0
            for j in range(d):
                s += (ths[i, j] - cp[1 + q * d + j]) * cp[1 + (m + q) * d + j]
            if s > best:
                best = s
        return best
    if crit == _RADIUS:            # cp = [c (d), r²]: ‖θ − c‖² − r²
        s = 0.0
        for j in range(d):
            z = ths[i, j] - cp[j]
            s += z * z
        return s - cp[d]
    return _loss_row(kid, kp, ths, i) - cp[0] - cp[1]   # cp = [L_a, level]: L(θ) − L_a − level


@njit(cache=True, nogil=True)
def _criterion_value(crit, cp, kid, kp, th):
    """The criterion's statistic at one θ (d,); the particle has escaped when it is ≥ 0."""
    return _criterion_row(crit, cp, kid, kp, np.ascontiguousarray(th).reshape(1, -1), 0)


@njit(cache=True, nogil=True)
def _uphill(kid, kp, olds, i, work, eta):
    """Whether a plain gradient step from θ = row i of ``olds`` raises L (called at exits only)."""
    _grad_row(kid, kp, olds, i, work)
    for j in range(olds.shape[1]):
        work[i, j] = olds[i, j] - eta * work[i, j]
    return not _loss_row(kid, kp, work, i) <= _loss_row(kid, kp, olds, i)


_RUNNING, _ESCAPED, _DIVERGED = 0, 1, 2
_NB, _NB_FIRST = 32, 4
"""Steps of noise drawn ahead per block, and the first block's length (it doubles up to _NB, so a
particle that exits within a few steps wastes few draws)."""


@njit(cache=True, inline="always")
def _loss1(kid, kp, x):
    """L_k(θ) of a 1-D compiled landscape (Styblinski–Tang with d = 1, or the double well)."""
    if kid == _DW:
        return _dw_loss1(kp, x)
    return 0.5 * _st_loss1(kp[0], x)


@njit(cache=True, inline="always")
def _grad1(kid, kp, x):
    """L_k'(θ) of a 1-D compiled landscape."""
    if kid == _DW:
        return _dw_grad1(kp, x)
    return _st_grad1(kp[0], x)


@njit(cache=True, inline="always")
def _criterion1(crit, cp, kid, kp, x):
    """:func:`_criterion_value` for d = 1 on a scalar θ (the same floating-point operations)."""
    if crit == _DIVIDING:
        m = int(cp[0])
        best = -np.inf
        for q in range(m):
            s = (x - cp[1 + q]) * cp[1 + m + q]
            if s > best:
                best = s
        return best
    if crit == _RADIUS:
        z = x - cp[0]
        return z * z - cp[1]
    return _loss1(kid, kp, x) - cp[0] - cp[1]


@njit(cache=True, inline="always")
def _bridge_hit(u, q):
    """u < exp(−q) for q ≥ 0 (the bridge test), decided without the exp on most steps.

    exp(−q) ≤ 1/(1 + q + q²/2), so u·(1 + q + q²/2) ≥ 1 + 1e-12 (a margin far above the few ulps of
    rounding in the product and in exp) already means u ≥ exp(−q): the result equals ``u < np.exp(-q)``.
    """
    if not q < 746.0:                   # exp(−q) is exactly 0.0 there (or q is NaN): never a hit
        return False
    if q >= 0.0 and u * (1.0 + q * (1.0 + 0.5 * q)) >= 1.0 + 1e-12:
        return False
    return u < np.exp(-q)


@njit(cache=True, inline="always")
def _seed_lane(seed, index, bridge, st, lane):
    """Noise-stream (and, with the bridge, aux-stream) PCG64 states of stream index ``index`` into row ``lane``."""
    st[lane, 0], st[lane, 1], st[lane, 2], st[lane, 3] = _pcg_seed(seed, index, 0)
    if bridge:
        st[lane, 4], st[lane, 5], st[lane, 6], st[lane, 7] = _pcg_seed(seed, index, 1)


@njit(cache=True, inline="always")
def _draw_block(st, lane, s0, n, bridge, zt, ub):
    """Draws for steps s0..n−1 of a lane's block: zt[lane, k, s] ← normal k of step s, ub[lane, s] ← the AUX uniform.

    The generator state stays in registers for the whole call (one load and one store of it); each
    stream is consumed in the order of the stream contract.
    """
    nh, nl, nih, nil = st[lane, 0], st[lane, 1], st[lane, 2], st[lane, 3]
    for s in range(s0, n):
        for k in range(zt.shape[1]):
            zt[lane, k, s], nh, nl = _pcg_normal(nh, nl, nih, nil)
    st[lane, 0], st[lane, 1] = nh, nl
    if bridge:
        ah, al, aih, ail = st[lane, 4], st[lane, 5], st[lane, 6], st[lane, 7]
        for s in range(s0, n):
            ub[lane, s], ah, al = _pcg_double(ah, al, aih, ail)
        st[lane, 4], st[lane, 5] = ah, al


@njit(cache=True, inline="always")
def _kick_block(zt, n, sdiag, smat, use_diag, kicks, reg, acc):
    """kicks[reg, s, j] ← (S·ξ_s)_j for the block's n steps, from zt[0, k, s] = ξ_s,k.

    Computed along the steps s (SIMD), stored by step, so that each step reads its kick as one row.
    Dense S: Σ_k S[j, k]·ξ_k summed in k order from 0.0 (``smat`` = Sᵀ), the numpy reference's
    order, accumulated in the scratch row ``acc`` (measured: AXPYs along j, step by step, made the
    dense-S escape step 40% slower).
    """
    d = zt.shape[1]
    if use_diag:
        for j in range(d):
            a = sdiag[j]
            for s in range(n):
                kicks[reg, s, j] = a * zt[0, j, s]
        return
    for j in range(d):
        for s in range(n):
            acc[s] = 0.0
        for k in range(d):
            a = smat[k, j]
            for s in range(n):
                acc[s] += a * zt[0, k, s]
        for s in range(n):
            kicks[reg, s, j] = acc[s]


@njit(cache=True, nogil=True, inline="always")
def _record(outputs, p, t, status, store_theta, ths, row):
    """Write particle p's outcome: exit (or censoring) step, flags, and θ = row ``row`` of ``ths``."""
    steps, escaped, diverged, theta_out = outputs
    steps[p] = t
    escaped[p] = status == _ESCAPED
    diverged[p] = status == _DIVERGED
    if store_theta:
        for j in range(ths.shape[1]):
            theta_out[p, j] = ths[row, j]


@njit(cache=True, inline="always")
def _steps_nd(kid, kp, crit, cp, eta, bridge, bridge_c, bridge_c2, two_region, split, ths, gs, kicks, ub,
              cb, n, st, zt, cur, s_prev):
    """Up to n steps of one particle of :func:`_escape_nd`, drawing the next block meanwhile: the hot loop.

    Step s uses row s of the block's kicks (and column s of uniform row ``cb``), then draws step s of
    the next block into ``zt`` and uniform row 1 − cb. The draws are independent of θ, so the CPU can
    overlap them with the step (measured on ST-10D: 5–10% faster than drawing the whole block first).
    A next block shorter than n (the last one before ``max_steps``) gets its n columns all the same:
    the extra draws are never used, and testing for them in the loop cost 2 ns per step (measured).
    θ is row ``cur`` of ``ths``; the new θ goes to the other row.

    Styblinski–Tang with one plane or a radius runs in :func:`_escape_lanes` instead; this loop takes
    every other landscape and criterion.
    Returns (row of θ, statistic, status, steps taken).
    """
    d = ths.shape[1]
    r = kp[0]
    nh, nl, nih, nil = st[0, 0], st[0, 1], st[0, 2], st[0, 3]
    ah, al, aih, ail = st[0, 4], st[0, 5], st[0, 6], st[0, 7]
    status = _RUNNING
    taken = n
    for s in range(n):
        reg = 0
        if two_region:
            side = 0.0
            for j in range(d):
                side += (ths[cur, j] - split[j]) * split[d + j]
            if side >= 0.0:
                reg = 1
        nw = 1 - cur
        if kid == _ST:             # separable gradient: elementwise over coordinates (SIMD)
            for j in range(d):
                v = ths[cur, j]
                ths[nw, j] = v - eta * _st_grad1(r, v) + kicks[reg, s, j]
        else:
            _grad_row(kid, kp, ths, cur, gs)
            for j in range(d):
                ths[nw, j] = ths[cur, j] - eta * gs[cur, j] + kicks[reg, s, j]
        cur = nw
        for k in range(d):         # step s of the next block
            zt[0, k, s], nh, nl = _pcg_normal(nh, nl, nih, nil)
        if bridge:
            ub[1 - cb, s], ah, al = _pcg_double(ah, al, aih, ail)
        fin = 0.0                  # NaN unless every coordinate is finite; with it, the statistic
        sv = 0.0
        for j in range(d):
            fin += ths[cur, j] - ths[cur, j]
        if fin != 0.0:
            status, taken = _DIVERGED, s + 1
            break
        sv = _criterion_row(crit, cp, kid, kp, ths, cur)
        if sv >= 0.0 or (bridge and _bridge_hit(ub[cb, s], (bridge_c2 if reg else bridge_c) * s_prev * sv)):
            s_prev = sv
            status, taken = _ESCAPED, s + 1
            break
        s_prev = sv
    st[0, 0], st[0, 1] = nh, nl
    st[0, 4], st[0, 5] = ah, al
    return cur, s_prev, status, taken


@intrinsic
def _claim(typingctx, queue):
    """The next particle of a shared queue: returns ``queue[0]`` and adds 1 to it, atomically.

    Every thread running a call's particles takes them from one queue (``run_in_chunks``), so the
    threads stay busy to the last particle whatever the escape times; each particle is taken once.
    """
    sig = types.int64(queue)

    def codegen(context, builder, signature, args):
        ptr = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.atomic_rmw("add", ptr, ir.Constant(ir.IntType(64), 1), "monotonic")
    return sig, codegen


@njit(cache=True, nogil=True)
def _escape_nd(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset,
               queue, i1, max_steps, outputs, store_theta, two_region, split):
    """Run particles taken from ``queue`` while below i1 (stream index offset + i), one at a time, in blocks of steps.

    :func:`_claim` takes each particle; the threads of one call share the queue.

    A block's normals are multiplied by S all at once (vectorised over the block's steps), and
    drawn while the previous block is stepped. A particle that exits mid-block leaves the rest of
    its draws unused; its trajectory, exit step and outcome are those of a run on its own.

    With ``two_region``, the kick is S2·ξ where (θ − q)·e ≥ 0, ``split = [q (d), e (d)]``, and S·ξ
    elsewhere (the two-region model of docs/theory.md §hessian_two_region); the region is decided at the
    start of each step (Itô: noise evaluated at the current iterate).

    Styblinski–Tang with one plane or a radius runs four particles at a time (:func:`_escape_lanes`;
    the same results).
    """
    if kid == _ST and ((crit == _DIVIDING and cp[0] == 1.0) or crit == _RADIUS):
        _escape_lanes(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset,
                      queue, i1, max_steps, outputs, store_theta, two_region, split)
        return
    sdiag, smat, use_diag = noise1
    sdiag2, smat2, use_diag2 = noise2
    d = start.shape[0]
    ths = np.empty((2, d))                 # θ before and after a step: the rows alternate
    gs = np.empty((2, d))
    zt = np.empty((1, d, _NB))
    ub = np.empty((2, _NB))                # bridge uniforms of this block and of the next one
    kicks = np.empty((2, _NB, d))
    acc = np.empty(_NB)
    st = np.zeros((1, 8), np.uint64)
    s_start = _criterion_value(crit, cp, kid, kp, start)
    while True:
        p = _claim(queue)
        if p >= i1:
            break
        _seed_lane(seed, offset + p, bridge, st, 0)
        for j in range(d):
            ths[0, j] = start[j]
        cur = 0
        s_prev = s_start
        t = 0
        status = _RUNNING
        cb = 0
        n = min(_NB_FIRST, max_steps)
        _draw_block(st, 0, 0, n, bridge, zt, ub)
        while True:
            _kick_block(zt, n, sdiag, smat, use_diag, kicks, 0, acc)
            if two_region:
                _kick_block(zt, n, sdiag2, smat2, use_diag2, kicks, 1, acc)
            n_next = min(2 * n, _NB, max_steps - t - n)
            cur, s_prev, status, taken = _steps_nd(kid, kp, crit, cp, eta, bridge, bridge_c, bridge_c2, two_region,
                                                   split, ths, gs, kicks, ub, cb, n, st, zt, cur, s_prev)
            t += taken
            if status != _RUNNING or t >= max_steps:
                break
            if n_next > n:           # the next block is longer than this one: draw its remaining columns
                _draw_block(st, 0, n, n_next, bridge, zt, ub[1 - cb:])
            n = n_next
            cb = 1 - cb
        # an exit by a step that plain gradient descent would take uphill (η·curvature > 2 there,
        # docs/theory.md §Discretisation) is the overshoot of an unstable iteration: divergence, not escape
        if status == _ESCAPED and _uphill(kid, kp, ths, 1 - cur, gs, eta):
            status = _DIVERGED
        _record(outputs, p, t, status, store_theta, ths, cur)


# ---------------------------------------------------------------------- d > 1: four particles side by side
_LANES = 4
"""Particles stepped side by side by :func:`_escape_lanes`: one AVX2 register of doubles."""


def _vec4_tools(builder):
    """IR helpers for four lanes: (4-wide double type, splat(x), const(c), at(ptr, off) = vector pointer)."""
    v4 = ir.VectorType(ir.DoubleType(), _LANES)
    v4p = v4.as_pointer()

    def splat(x):
        v = ir.Constant(v4, ir.Undefined)
        for i in range(_LANES):
            v = builder.insert_element(v, x, ir.Constant(ir.IntType(32), i))
        return v

    def const(c):
        return ir.Constant(v4, [c] * _LANES)

    def at(ptr, off):
        return builder.bitcast(builder.gep(ptr, [off]), v4p)
    return v4, splat, const, at


def _vec_st_grad(builder, const, r, y):
    """IR of :func:`_st_grad1` on four lanes, in its operation order: √k·(((2y·y)·y − 16y) + 2.5)."""
    cube = builder.fmul(builder.fmul(builder.fmul(const(2.0), y), y), y)
    return builder.fmul(r, builder.fadd(builder.fsub(cube, builder.fmul(const(16.0), y)), const(2.5)))


def _lanes_step_intrinsic(radius: bool, two_region: bool):
    """An intrinsic: one Styblinski–Tang step of four particles, and their criterion (plane or radius).

    θ is stored by coordinate, then particle (index j·4 + l), so each coordinate of the four particles
    is one 4-wide vector; so are the kicks. Each lane does exactly the scalar operations of
    :func:`_steps_nd` (update and finiteness sum) and :func:`_criterion_row`, in the same order (IEEE
    arithmetic is per lane; no fused multiply-add): the update θ' = (θ − η·∇L_k(θ)) + kick
    (:func:`_vec_st_grad`), the finiteness sum Σ(θ'−θ') and the statistic — one plane:
    Σ(θ'_j − p_j)·n_j (cp = [1, p, n]); radius: Σ(θ'_j − c_j)² − r² (cp = [c, r²]) — all summed over
    j from 0.0. With ``two_region`` a lane takes its kick from
    ``kick2`` where ``reg`` (1.0 or 0.0 per lane) is set, and the side of the split plane at θ',
    Σ(θ'_j − q_j)·e_j (split = [q, e]), goes to ``sideout``: the next step's region. The statistics go
    to ``svout``; the result is the 4-bit mask of lanes whose sum is not finite or whose statistic is ≥ 0.
    """
    @intrinsic
    def step(typingctx, th, cur, kick, kick2, reg, cp, split, eta, r, svout, sideout):
        sig = types.int64(th, cur, kick, kick2, reg, cp, split, eta, r, svout, sideout)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            v4, splat, const, at = _vec4_tools(builder)
            ptr = {i: context.make_array(signature.args[i])(context, builder, args[i]).data
                   for i in (0, 2, 3, 4, 5, 6, 9, 10)}
            shape = context.make_array(signature.args[0])(context, builder, args[0]).shape
            row = builder.extract_value(shape, 1)          # d·4: one row of th (θ before, θ after)
            d = builder.udiv(row, ir.Constant(i64, _LANES))
            cur = builder.sext(args[1], i64)
            pc = builder.gep(ptr[0], [builder.mul(cur, row)])
            pn = builder.gep(ptr[0], [builder.mul(builder.sub(ir.Constant(i64, 1), cur), row)])
            eta_v, r_v, zero = splat(args[7]), splat(args[8]), const(0.0)
            after = builder.fcmp_ordered("!=", builder.load(at(ptr[4], ir.Constant(i64, 0)), align=8), zero)
            sv_p = cgutils.alloca_once_value(builder, zero)
            fin_p = cgutils.alloca_once_value(builder, zero)
            side_p = cgutils.alloca_once_value(builder, zero)
            with cgutils.for_range(builder, d) as loop:
                j = loop.index
                off = builder.mul(j, ir.Constant(j.type, _LANES))
                x = builder.load(at(pc, off), align=8)
                kick_j = builder.load(at(ptr[2], off), align=8)
                if two_region:
                    kick_j = builder.select(after, builder.load(at(ptr[3], off), align=8), kick_j)
                g = _vec_st_grad(builder, const, r_v, builder.fmul(r_v, x))
                xn = builder.fadd(builder.fsub(x, builder.fmul(eta_v, g)), kick_j)
                builder.store(xn, at(pn, off), align=8)
                builder.store(builder.fadd(builder.load(fin_p), builder.fsub(xn, xn)), fin_p)
                if radius:
                    z = builder.fsub(xn, splat(builder.load(builder.gep(ptr[5], [j]))))
                    term = builder.fmul(z, z)
                else:
                    pj = builder.load(builder.gep(ptr[5], [builder.add(j, ir.Constant(i64, 1))]))
                    nj = builder.load(builder.gep(ptr[5], [builder.add(builder.add(j, d), ir.Constant(i64, 1))]))
                    term = builder.fmul(builder.fsub(xn, splat(pj)), splat(nj))
                builder.store(builder.fadd(builder.load(sv_p), term), sv_p)
                if two_region:
                    qj = builder.load(builder.gep(ptr[6], [j]))
                    ej = builder.load(builder.gep(ptr[6], [builder.add(j, d)]))
                    side = builder.fmul(builder.fsub(xn, splat(qj)), splat(ej))
                    builder.store(builder.fadd(builder.load(side_p), side), side_p)
            sv = builder.load(sv_p)
            if radius:
                sv = builder.fsub(sv, splat(builder.load(builder.gep(ptr[5], [d]))))
            builder.store(sv, at(ptr[9], ir.Constant(i64, 0)), align=8)
            if two_region:
                builder.store(builder.load(side_p), at(ptr[10], ir.Constant(i64, 0)), align=8)
            bad = builder.or_(builder.fcmp_unordered("!=", builder.load(fin_p), zero),
                              builder.fcmp_ordered(">=", sv, zero))
            return builder.zext(builder.bitcast(bad, ir.IntType(_LANES)), i64)
        return sig, codegen
    return step


_lanes_plane, _lanes_plane2 = _lanes_step_intrinsic(False, False), _lanes_step_intrinsic(False, True)
_lanes_radius, _lanes_radius2 = _lanes_step_intrinsic(True, False), _lanes_step_intrinsic(True, True)


@intrinsic
def _lanes_matvec(typingctx, smat, xi, kick):
    """kick[j·4 + l] ← Σ_k S[j, k]·ξ[k·4 + l] for four lanes at once, summed in k order from 0.0 (as
    :func:`_kick_block`); ``smat`` = Sᵀ (d, d), C-contiguous."""
    arrays = ((smat, 2), (xi, 1), (kick, 1))
    if not all(isinstance(t, types.Array) and t.layout == "C" and t.ndim == n for t, n in arrays):
        return None                        # the IR below assumes C-contiguous rows
    sig = types.void(smat, xi, kick)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        v4, splat, const, at = _vec4_tools(builder)
        arrs = [context.make_array(t)(context, builder, a) for t, a in zip(signature.args, args)]
        ps, px, pk = (a.data for a in arrs)
        d = builder.extract_value(arrs[0].shape, 0)
        four = ir.Constant(i64, _LANES)
        with cgutils.for_range(builder, d) as outer:
            j = outer.index
            acc_p = cgutils.alloca_once_value(builder, const(0.0))     # stores 0.0 here, at each j
            with cgutils.for_range(builder, d) as inner:
                k = inner.index
                a = splat(builder.load(builder.gep(ps, [builder.add(builder.mul(k, d), j)])))
                term = builder.fmul(a, builder.load(at(px, builder.mul(k, four)), align=8))
                builder.store(builder.fadd(builder.load(acc_p), term), acc_p)
            builder.store(builder.load(acc_p), at(pk, builder.mul(j, four)), align=8)
        return context.get_dummy_value()
    return sig, codegen


@njit(cache=True, inline="always")
def _lanes_turnover(kid, kp, eta, start, s_start, mask, clock, cur, th, ps, t0, sprev, reg, reg_start, seed, offset,
                    bridge, st, queue, i1, max_steps, outputs, store_theta, rows, work, active):
    """Lanes of :func:`_escape_lanes` or :func:`_escape_lanes1` after a step with exits (``mask``) or at a deadline.

    Records each lane whose particle exited (diverged when θ is not finite or the exit step went
    uphill: the overshoot rule of :func:`_escape_nd`) or reached ``max_steps``, and starts the next
    particle from ``queue`` (:func:`_claim`) in every free lane (θ = start, fresh streams). Returns
    (active lanes, the next clock at which a lane reaches ``max_steps``, the bit mask of lanes with a
    particle: the exits of the others are ignored).
    """
    d = rows.shape[1]
    for l in range(_LANES):
        if ps[l] >= 0:
            t = clock - t0[l]
            if (mask >> l) & 1:
                fin = 0.0
                for j in range(d):
                    rows[0, j] = th[cur, j * _LANES + l]      # θ after the step
                    rows[1, j] = th[1 - cur, j * _LANES + l]  # θ before it
                    fin += rows[0, j] - rows[0, j]
                status = _DIVERGED if fin != 0.0 else _ESCAPED
                if status == _ESCAPED and _uphill(kid, kp, rows, 1, work, eta):
                    status = _DIVERGED
            elif t >= max_steps:
                status = _RUNNING
                for j in range(d):
                    rows[0, j] = th[cur, j * _LANES + l]
            else:
                continue
            _record(outputs, ps[l], t, status, store_theta, rows, 0)
            ps[l] = -1
            active -= 1
        p = _claim(queue)
        if p < i1:                 # θ = start, fresh streams; its first step's noise is drawn next
            ps[l], t0[l], sprev[l], reg[l] = p, clock, s_start, reg_start
            for j in range(d):
                th[cur, j * _LANES + l] = start[j]
            _seed_lane(seed, offset + p, bridge, st, l)
            active += 1
    deadline = clock + max_steps
    live = 0
    for l in range(_LANES):
        if ps[l] >= 0:
            deadline = min(deadline, t0[l] + max_steps)
            live |= 1 << l
    return active, deadline, live


@njit(cache=True, nogil=True)
def _escape_lanes(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset, queue,
                  i1, max_steps, outputs, store_theta, two_region, split):
    """:func:`_escape_nd` for Styblinski–Tang with one plane or a radius: four particles at once.

    Each lane holds one particle; a lane whose particle exits (or reaches ``max_steps``) takes the
    next one. Every lane draws its noise for the step (in its streams' order), then one step advances
    all four lanes with 4-wide vectors (:func:`_lanes_step_intrinsic`); the draws do not depend on θ,
    so the CPU overlaps them with the previous step. A dense S is applied to the four lanes' normals
    at once (:func:`_lanes_matvec`); with two-region noise both kicks are made and each lane takes
    the one of its region. Per particle, the draws, the arithmetic and the exit decisions are those
    of a run on its own (the reference's exit steps, bit for bit). Lanes left without a particle at
    the end keep stepping, ignored.

    The draws are written out here, not in a helper: an inlined helper taking the arrays put ten
    reference-count updates per lane into every step (measured: 64 against 39 ns per particle-step).
    """
    sdiag, smat, use_diag = noise1
    sdiag2, smat2, use_diag2 = noise2
    d = start.shape[0]
    radius = crit == _RADIUS
    r = kp[0]
    th = np.empty((2, d * _LANES))         # θ by coordinate, then lane; rows alternate (before, after a step)
    xi = np.zeros(d * _LANES)              # this step's normals, same layout
    kick = np.zeros(d * _LANES)            # this step's S·ξ (and S2·ξ), same layout
    kick2 = np.zeros(d * _LANES)
    reg = np.zeros(_LANES)                 # 1.0 where the lane's θ is beyond the split plane
    side = np.zeros(_LANES)
    ru = np.zeros(_LANES)                  # this step's bridge uniforms
    sv = np.empty(_LANES)
    sprev = np.empty(_LANES)
    st = np.zeros((_LANES, 8), np.uint64)
    ps = np.full(_LANES, -1, np.int64)     # the lane's particle (−1: none)
    t0 = np.zeros(_LANES, np.int64)        # the clock when it started
    rows, work = np.empty((2, d)), np.empty((2, d))
    s_start = _criterion_value(crit, cp, kid, kp, start)
    side_start = 0.0                       # the split plane's side at the start, as in _steps_nd
    for j in range(d):
        side_start += (start[j] - split[j]) * split[d + j]
    reg_start = 1.0 if two_region and side_start >= 0.0 else 0.0
    for l in range(_LANES):
        for j in range(d):
            th[0, j * _LANES + l] = start[j]
    clock, cur = 0, 0
    active = 0
    mask = -1                              # every lane is empty: fill them
    deadline = live = 0
    while True:
        if mask != 0 or clock >= deadline:
            active, deadline, live = _lanes_turnover(
                kid, kp, eta, start, s_start, mask, clock, cur, th, ps, t0, sprev, reg, reg_start, seed, offset,
                bridge, st, queue, i1, max_steps, outputs, store_theta, rows, work, active)
            if active == 0:
                break
        for l in range(_LANES):            # each lane's normals of the step, in its stream's order
            if ps[l] < 0:
                continue
            nh, nl, nih, nil = st[l, 0], st[l, 1], st[l, 2], st[l, 3]
            if use_diag and not two_region:
                for k in range(d):
                    z, nh, nl = _pcg_normal(nh, nl, nih, nil)
                    kick[k * _LANES + l] = sdiag[k] * z
            else:
                for k in range(d):
                    xi[k * _LANES + l], nh, nl = _pcg_normal(nh, nl, nih, nil)
            st[l, 0], st[l, 1] = nh, nl
            if bridge:
                ah, al = st[l, 4], st[l, 5]
                ru[l], ah, al = _pcg_double(ah, al, st[l, 6], st[l, 7])
                st[l, 4], st[l, 5] = ah, al
        if two_region or not use_diag:     # the kicks of the four lanes at once
            if use_diag:
                for i in range(d * _LANES):
                    kick[i] = sdiag[i // _LANES] * xi[i]
            else:
                _lanes_matvec(smat, xi, kick)
            if two_region:
                if use_diag2:
                    for i in range(d * _LANES):
                        kick2[i] = sdiag2[i // _LANES] * xi[i]
                else:
                    _lanes_matvec(smat2, xi, kick2)
        if radius:
            if two_region:
                mask = _lanes_radius2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side)
            else:
                mask = _lanes_radius(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side)
        elif two_region:
            mask = _lanes_plane2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side)
        else:
            mask = _lanes_plane(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side)
        if bridge:                 # a lane still inside may have crossed and come back within the step
            for l in range(_LANES):
                c = bridge_c2 if reg[l] != 0.0 else bridge_c
                if not (mask >> l) & 1 and _bridge_hit(ru[l], c * sprev[l] * sv[l]):
                    mask |= 1 << l
                sprev[l] = sv[l]
        if two_region:
            for l in range(_LANES):
                reg[l] = 1.0 if side[l] >= 0.0 else 0.0
        mask &= live
        clock += 1
        cur = 1 - cur


def _lanes1_step_intrinsic(double_well: bool, radius: bool):
    """An intrinsic: one step of four 1-D particles (double well or Styblinski–Tang), their criterion
    (one plane or a radius) and the bridge's quick test, each lane with the operations of :func:`_step1`.

    x' = (x − η·L'(x)) + s·z with s = sd2 where (x − q)·e ≥ 0 (split = [q, e]), sd elsewhere (pass
    sd2 = sd, bc2 = bc for one region); the double well's two branches are both computed and the one
    of y = √k·x ≤ 0 selected (exactly :func:`_dw_grad1`'s value). Statistic s' = (x' − p)·n (cp =
    [1, p, n]) or (x' − c)² − r² (cp = [c, r²]) into ``svout`` (may be ``sprev``: it is read first);
    the bridge's q = (c·s_prev)·s' into ``qout``, c = bc2 beyond the split, bc elsewhere. Returns bits 0–3: lanes with x' not finite or
    s' ≥ 0; bits 4–7: the other lanes whose bridge test is not decided without the exp (q < 746 and not
    (q ≥ 0 and u·(1 + q·(1 + q/2)) ≥ 1 + 1e-12), :func:`_bridge_hit`'s first two tests).
    """
    @intrinsic
    def step(typingctx, th, cur, zr, ur, sprev, kp, cp, split, eta, sd, sd2, bc, bc2, svout, qout):
        sig = types.int64(th, cur, zr, ur, sprev, kp, cp, split, eta, sd, sd2, bc, bc2, svout, qout)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            v4, splat, const, at = _vec4_tools(builder)
            ptr = {i: context.make_array(signature.args[i])(context, builder, args[i]).data
                   for i in (0, 2, 3, 4, 5, 6, 7, 13, 14)}
            eta_v, sd_v, sd2_v, bc_v, bc2_v = (splat(args[i]) for i in range(8, 13))

            def load(i, k):
                return splat(builder.load(builder.gep(ptr[i], [ir.Constant(i64, k)])))

            def vload(p):
                return builder.load(at(p, ir.Constant(i64, 0)), align=8)
            cur = builder.sext(args[1], i64)
            pc = builder.gep(ptr[0], [builder.mul(cur, ir.Constant(i64, _LANES))])
            pn = builder.gep(ptr[0], [builder.mul(builder.sub(ir.Constant(i64, 1), cur), ir.Constant(i64, _LANES))])
            fmul, fadd, fsub = builder.fmul, builder.fadd, builder.fsub
            x = vload(pc)
            after = builder.fcmp_ordered(">=", fmul(fsub(x, load(7, 0)), load(7, 1)), const(0.0))
            r = load(5, 0)
            y = fmul(r, x)
            if double_well:            # _dw_grad1, both branches
                def branch(sign_r, scale, c3, c4, c5, iw, u):
                    cubic = fmul(fmul(fmul(fmul(const(4.0), c3), u), u), u)
                    quadratic = fmul(fmul(fmul(const(3.0), c4), u), u)
                    p = fadd(fadd(cubic, quadratic), fmul(fmul(const(2.0), c5), u))
                    return fmul(fmul(fmul(sign_r, scale), p), iw)
                iwl, iwr = load(5, 11), load(5, 12)
                gl = branch(r, load(5, 1), load(5, 3), load(5, 4), load(5, 5), iwl, fmul(y, iwl))
                gr = branch(builder.fneg(r), load(5, 2), load(5, 7), load(5, 8), load(5, 9), iwr,
                            fmul(builder.fneg(y), iwr))
                g = builder.select(builder.fcmp_ordered("<=", y, const(0.0)), gl, gr)
            else:
                g = _vec_st_grad(builder, const, r, y)
            xn = fadd(fsub(x, fmul(eta_v, g)), fmul(builder.select(after, sd2_v, sd_v), vload(ptr[2])))
            builder.store(xn, at(pn, ir.Constant(i64, 0)), align=8)
            bad = builder.fcmp_unordered("!=", fsub(xn, xn), const(0.0))
            if radius:
                zz = fsub(xn, load(6, 0))
                s = fsub(fmul(zz, zz), load(6, 1))
            else:
                s = fmul(fsub(xn, load(6, 1)), load(6, 2))
            q = fmul(fmul(builder.select(after, bc2_v, bc_v), vload(ptr[4])), s)
            builder.store(s, at(ptr[13], ir.Constant(i64, 0)), align=8)
            builder.store(q, at(ptr[14], ir.Constant(i64, 0)), align=8)
            out = builder.or_(bad, builder.fcmp_ordered(">=", s, const(0.0)))
            bound = fmul(vload(ptr[3]), fadd(const(1.0), fmul(q, fadd(const(1.0), fmul(const(0.5), q)))))
            quick_no = builder.and_(builder.fcmp_ordered(">=", q, const(0.0)),
                                    builder.fcmp_ordered(">=", bound, const(1.0 + 1e-12)))
            maybe = builder.and_(builder.and_(builder.fcmp_ordered("<", q, const(746.0)), builder.not_(quick_no)),
                                 builder.not_(out))
            bits = ir.IntType(_LANES)
            lo = builder.zext(builder.bitcast(out, bits), i64)
            hi = builder.zext(builder.bitcast(maybe, bits), i64)
            return builder.or_(lo, builder.shl(hi, ir.Constant(i64, _LANES)))
        return sig, codegen
    return step


_lanes1_st_plane = _lanes1_step_intrinsic(False, False)
_lanes1_st_radius = _lanes1_step_intrinsic(False, True)
_lanes1_dw_plane = _lanes1_step_intrinsic(True, False)
_lanes1_dw_radius = _lanes1_step_intrinsic(True, True)


@njit(cache=True, nogil=True)
def _escape_lanes1(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset, queue,
                   i1, max_steps, outputs, store_theta, two_region, split):
    """:func:`_escape_1d` with one plane or a radius: four particles side by side in 4-wide vectors.

    A 1-D step is one long dependency chain (the gradient's polynomial); four lanes in one vector
    advance four particles per chain. Each lane draws its normal (and bridge uniform) of the step in
    its streams' order, then :func:`_lanes1_step_intrinsic` steps the four; a bridge test that its
    quick bound does not decide is finished here with the exp (:func:`_bridge_hit`). The lanes'
    turnover is :func:`_escape_lanes`' (:func:`_lanes_turnover`); per particle the results are those
    of a run on its own.
    """
    sd = noise1[0][0]
    sd2 = noise2[0][0] if two_region else sd
    bc2 = bridge_c2 if two_region else bridge_c
    radius = crit == _RADIUS
    th = np.empty((2, _LANES))
    zr, ur = np.zeros(_LANES), np.zeros(_LANES)
    q = np.empty(_LANES)
    sprev = np.empty(_LANES)               # the statistic before the step; the step writes the new one there
    reg = np.zeros(_LANES)                 # unused in 1-D: the step finds each lane's region
    st = np.zeros((_LANES, 8), np.uint64)
    ps = np.full(_LANES, -1, np.int64)
    t0 = np.zeros(_LANES, np.int64)
    rows, work = np.empty((2, 1)), np.empty((2, 1))
    s_start = _criterion_value(crit, cp, kid, kp, start)
    th[0, :] = start[0]
    clock, cur = 0, 0
    active = 0
    mask = -1
    deadline = live = 0
    while True:
        if mask != 0 or clock >= deadline:
            active, deadline, live = _lanes_turnover(
                kid, kp, eta, start, s_start, mask, clock, cur, th, ps, t0, sprev, reg, 0.0, seed, offset,
                bridge, st, queue, i1, max_steps, outputs, store_theta, rows, work, active)
            if active == 0:
                break
        for l in range(_LANES):            # each lane's draws of the step, in its streams' order
            if ps[l] < 0:
                continue
            nh, nl = st[l, 0], st[l, 1]
            zr[l], nh, nl = _pcg_normal(nh, nl, st[l, 2], st[l, 3])
            st[l, 0], st[l, 1] = nh, nl
            if bridge:
                ah, al = st[l, 4], st[l, 5]
                ur[l], ah, al = _pcg_double(ah, al, st[l, 6], st[l, 7])
                st[l, 4], st[l, 5] = ah, al
        if kid == _DW:
            if radius:
                bits = _lanes1_dw_radius(th, cur, zr, ur, sprev, kp, cp, split, eta, sd, sd2, bridge_c, bc2, sprev, q)
            else:
                bits = _lanes1_dw_plane(th, cur, zr, ur, sprev, kp, cp, split, eta, sd, sd2, bridge_c, bc2, sprev, q)
        elif radius:
            bits = _lanes1_st_radius(th, cur, zr, ur, sprev, kp, cp, split, eta, sd, sd2, bridge_c, bc2, sprev, q)
        else:
            bits = _lanes1_st_plane(th, cur, zr, ur, sprev, kp, cp, split, eta, sd, sd2, bridge_c, bc2, sprev, q)
        mask = bits & 0xF
        maybe = bits >> _LANES
        if bridge and maybe:           # a lane still inside may have crossed and come back within the step
            for l in range(_LANES):
                if (maybe >> l) & 1 and _bridge_hit(ur[l], q[l]):
                    mask |= 1 << l
        mask &= live
        clock += 1
        cur = 1 - cur


@njit(cache=True, inline="always")
def _step1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split, x, s_prev, z, u):
    """One step of a 1-D particle: (θ', criterion statistic at θ', status)."""
    after = False
    if two_region:
        after = (x - split[0]) * split[1] >= 0.0
    x = x - eta * _grad1(kid, kp, x) + (sd2 if after else sd) * z
    if x - x != 0.0:
        return x, s_prev, _DIVERGED
    s = _criterion1(crit, cp, kid, kp, x)
    if s >= 0.0 or (bridge and _bridge_hit(u, (bc2 if after else bc) * s_prev * s)):
        return x, s, _ESCAPED
    return x, s, _RUNNING


@njit(cache=True, inline="always")
def _stretch1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split, zt, ub, m,
              xa, sa, ka, runa, xb, sb, kb, runb):
    """m steps of both lanes of :func:`_escape_1d` (a lane stops at its exit): the hot loop.

    The two lanes are written out: the same step as a helper returning each lane's six state values
    measured 3× slower (40 against 13 ns per particle-step on the 1-D bridge benchmark).
    Returns per lane (θ, statistic, status, θ before the last step, steps taken).
    """
    sta = stb = _RUNNING
    xoa, xob = xa, xb
    na = nb = m
    for i in range(m):
        if runa:
            xoa = xa
            xa, sa, sta = _step1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split,
                                 xa, sa, zt[0, 0, ka + i], ub[0, ka + i])
            if sta != _RUNNING:
                runa = False
                na = i + 1
        if runb:
            xob = xb
            xb, sb, stb = _step1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split,
                                 xb, sb, zt[1, 0, kb + i], ub[1, kb + i])
            if stb != _RUNNING:
                runb = False
                nb = i + 1
    return xa, sa, sta, xoa, na, xb, sb, stb, xob, nb


@njit(cache=True, nogil=True)
def _escape_1d(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset,
               queue, i1, max_steps, outputs, store_theta, two_region, split):
    """:func:`_escape_nd` for d = 1 with a diagonal (scalar) S, two particles side by side ("lanes").

    One plane or a radius runs in :func:`_escape_lanes1` (four lanes in vectors); this kernel takes
    several planes and the loss level. A 1-D step is one short dependency chain; two lanes give the
    CPU two to overlap. θ and the criterion statistic of both lanes stay in registers within a
    stretch of steps; each lane draws its own blocks. A lane whose particle finishes waits for the end
    of the stretch (at most _NB steps), then takes the next particle, so each trajectory is that of a
    run on its own.
    """
    if (crit == _DIVIDING and cp[0] == 1.0) or crit == _RADIUS:
        _escape_lanes1(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset,
                       queue, i1, max_steps, outputs, store_theta, two_region, split)
        return
    sd, sd2 = noise1[0][0], noise2[0][0]
    zt = np.empty((2, 1, _NB))
    ub = np.empty((2, _NB))
    st = np.zeros((2, 8), np.uint64)
    ps = np.full(2, -1, np.int64)          # per lane: particle (−1: idle), θ, statistic, steps done,
    xs = np.empty(2)                       # position in the block, block length, next block length
    sp = np.empty(2)
    ts = np.zeros(2, np.int64)
    pos = np.zeros(2, np.int64)
    lens = np.zeros(2, np.int64)
    nbs = np.zeros(2, np.int64)
    olds = np.empty((1, 1))
    work = np.empty((1, 1))
    x0 = start[0]
    s0 = _criterion1(crit, cp, kid, kp, x0)
    for lane in range(2):
        p = _claim(queue)
        if p < i1:
            _lane_next(lane, p, seed, offset, bridge, max_steps, x0, s0, st, zt, ub, ps, xs, sp, ts, pos, lens, nbs)
    while ps[0] >= 0 or ps[1] >= 0:
        m = _NB
        for lane in range(2):
            if ps[lane] >= 0:
                m = min(m, lens[lane] - pos[lane])
        res = _stretch1(kid, kp, crit, cp, eta, sd, sd2, bridge_c, bridge_c2, bridge, two_region, split,
                        zt, ub, m, xs[0], sp[0], pos[0], ps[0] >= 0, xs[1], sp[1], pos[1], ps[1] >= 0)
        xa, sa, sta, xoa, na, xb, sb, stb, xob, nb_ = res
        for lane in range(2):
            p = ps[lane]
            if p < 0:
                continue
            x, s, status, x_old, n = (xa, sa, sta, xoa, na) if lane == 0 else (xb, sb, stb, xob, nb_)
            t = ts[lane] + n
            if status == _ESCAPED:
                olds[0, 0] = x_old
                if _uphill(kid, kp, olds, 0, work, eta):
                    status = _DIVERGED
            if status == _RUNNING and t < max_steps:
                xs[lane], sp[lane], ts[lane] = x, s, t
                pos[lane] += n
                if pos[lane] == lens[lane]:
                    lens[lane] = min(nbs[lane], max_steps - t)
                    nbs[lane] = min(2 * nbs[lane], _NB)
                    pos[lane] = 0
                    _draw_block(st, lane, 0, lens[lane], bridge, zt, ub)
                continue
            olds[0, 0] = x
            _record(outputs, p, t, status, store_theta, olds, 0)
            ps[lane] = -1
            p = _claim(queue)
            if p < i1:
                _lane_next(lane, p, seed, offset, bridge, max_steps, x0, s0, st, zt, ub, ps, xs, sp, ts, pos, lens, nbs)


@njit(cache=True, inline="always")
def _lane_next(lane, p, seed, offset, bridge, max_steps, x0, s0, st, zt, ub, ps, xs, sp, ts, pos, lens, nbs):
    """Start particle p in a lane of :func:`_escape_1d` (seed its streams, draw its first block)."""
    _seed_lane(seed, offset + p, bridge, st, lane)
    ps[lane], xs[lane], sp[lane], ts[lane], pos[lane] = p, x0, s0, 0, 0
    lens[lane] = min(_NB_FIRST, max_steps)
    nbs[lane] = min(2 * _NB_FIRST, _NB)
    _draw_block(st, lane, 0, lens[lane], bridge, zt, ub)


def _prepare(landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion,
             point, normal, center, radius, level, minimum_loss, particle_offset, bridge, loss_fn):
    """Validate the arguments shared by the compiled and reference simulators."""
    d = landscape.dim
    start = np.asarray(start, dtype=float)
    if start.shape != (d,) or not np.all(np.isfinite(start)):
        raise InputError(f"start must be a finite array of shape ({d},); got shape {start.shape}")
    eta = _positive("eta", eta)
    if (noise_matrix is None) == (temperature is None):
        raise InputError("give exactly one of noise_matrix (S, shape (d, d)) and temperature (S = √(2Dη)·I)")
    if noise_matrix is None:
        S = white_noise_matrix(d, eta, temperature)
    else:
        S = np.array(noise_matrix, dtype=float)
        if S.shape != (d, d) or not np.all(np.isfinite(S)):
            raise InputError(f"noise_matrix must be a finite array of shape ({d}, {d}); got shape {S.shape}")
    if isinstance(n_runs, (bool, np.bool_)) or int(n_runs) != n_runs or n_runs < 1:
        raise InputError(f"n_runs must be an integer >= 1; got {n_runs}")
    if isinstance(max_steps, (bool, np.bool_)) or int(max_steps) != max_steps or max_steps < 1:
        raise InputError(f"max_steps must be an integer >= 1; got {max_steps}")
    seed = streams._check_seed(seed)
    if int(particle_offset) != particle_offset or particle_offset < 0:
        raise InputError(f"particle_offset must be an integer >= 0; got {particle_offset}")
    if criterion not in CRITERIA:
        raise InputError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    crit = CRITERIA[criterion]
    bridge_c = 0.0
    if crit == _DIVIDING:
        if point is None or normal is None:
            raise InputError("criterion 'dividing_surface' needs point= and normal=")
        p, n = np.atleast_2d(np.asarray(point, float)), np.atleast_2d(np.asarray(normal, float))
        if p.shape != n.shape or p.shape[1] != d or not (np.all(np.isfinite(p)) and np.all(np.isfinite(n))):
            raise InputError(f"point and normal must be finite arrays of shape ({d},) or (m, {d}), the same shape")
        norms = np.linalg.norm(n, axis=1)
        if np.any(np.abs(norms - 1.0) > 1e-9):
            raise InputError(f"normal must be unit vectors; norms are {norms.tolist()}")
        cp = np.concatenate([[float(len(p))], p.ravel(), n.ravel()])
        if bridge:
            bridge_c = _bridge_constant(S, n)
    else:
        if bridge:
            raise InputError("bridge=True applies to the 'dividing_surface' criterion only")
        if crit == _RADIUS:
            if radius is None:
                raise InputError("criterion 'radius' needs radius=")
            r = _positive("radius", radius)
            c = start if center is None else np.asarray(center, float)
            if c.shape != (d,) or not np.all(np.isfinite(c)):
                raise InputError(f"center must be a finite array of shape ({d},)")
            cp = np.concatenate([c, [r * r]])
        else:
            if level is None:
                raise InputError("criterion 'loss_level' needs level=")
            lv = _positive("level", level)
            la = float(loss_fn(start)) if minimum_loss is None else float(minimum_loss)
            if not np.isfinite(la):
                raise InputError(f"minimum_loss must be finite; got {la}")
            cp = np.array([la, lv])
    return start, eta, S, int(n_runs), int(max_steps), seed, crit, np.ascontiguousarray(cp), bridge_c, int(particle_offset)


def _bridge_constant(S, normals) -> float:
    """2/σ_n² with σ_n² = nᵀSSᵀn, the per-step noise variance along the plane normal(s).

    With several planes the bridge test uses the nearest one, which needs a common σ_n²: refused when
    the planes' variances differ by more than 1e-9 relative (e.g. unequal curvatures along the axes).
    """
    var = np.sum((S.T @ np.atleast_2d(normals).T) ** 2, axis=0)
    if np.any(var <= 0):
        raise InputError("bridge=True needs noise with a positive variance along the normal")
    if np.max(var) - np.min(var) > 1e-9 * np.max(var):
        raise InputError("bridge=True with several planes needs equal noise variance along their normals; "
                         f"got {var.tolist()}")
    return 2.0 / float(var[0])


def _two_region(landscape, S, noise_matrix_after, split_point, split_normal, bridge, cp, crit):
    """Arrays of the second noise region (or inert placeholders when there is none)."""
    d = landscape.dim
    if noise_matrix_after is None:
        if split_point is not None or split_normal is not None:
            raise InputError("split_point and split_normal go with noise_matrix_after (two-region noise)")
        return False, np.zeros(2 * d), S, 0.0
    S2 = np.array(noise_matrix_after, dtype=float)
    if S2.shape != (d, d) or not np.all(np.isfinite(S2)):
        raise InputError(f"noise_matrix_after must be a finite array of shape ({d}, {d}); got shape {S2.shape}")
    q = np.asarray(split_point, float) if split_point is not None else None
    e = np.asarray(split_normal, float) if split_normal is not None else None
    if q is None or e is None or q.shape != (d,) or e.shape != (d,) or not np.all(np.isfinite(np.r_[q, e])):
        raise InputError(f"two-region noise needs split_point and split_normal, finite arrays of shape ({d},)")
    if abs(np.linalg.norm(e) - 1.0) > 1e-9:
        raise InputError("split_normal must be a unit vector")
    c2 = 0.0
    if bridge and crit == _DIVIDING:
        m = int(cp[0])
        c2 = _bridge_constant(S2, cp[1 + m * d:].reshape(m, d))
    return True, np.concatenate([q, e]), S2, c2


def _matrix_layout(S):
    """(use_diag, diagonal of S, Sᵀ contiguous) for the compiled noise application."""
    use_diag = bool(np.count_nonzero(S - np.diag(np.diag(S))) == 0)
    return use_diag, np.ascontiguousarray(np.diag(S).copy()), np.ascontiguousarray(S.T)


_CHUNK = 4096
"""Particles per thread in one part of :func:`run_in_chunks` (the parts run one after another)."""


def fixed_noise_escape(landscape: Landscape, start, *, eta: float, noise_matrix=None, n_runs: int,
                       max_steps: int, seed: int, criterion: str, point=None, normal=None, center=None,
                       radius: float | None = None, level: float | None = None, minimum_loss: float | None = None,
                       particle_offset: int = 0, bridge: bool = False, temperature: float | None = None,
                       workers: int = 1, return_theta: bool = False, noise_matrix_after=None,
                       split_point=None, split_normal=None) -> KernelEscape:
    """Compiled escape simulation with a fixed noise matrix: θ ← θ − η∇L(θ) + S·ξ, ξ ~ N(0, I).

    Every particle starts at ``start`` and runs until the exit criterion holds, θ becomes
    non-finite, or ``max_steps``. An exit by a step from a θ where a plain gradient step raises L
    (η·curvature > 2 there, docs/theory.md §Discretisation) counts as a divergence, as on the numpy path.
    Particle i draws ξ from its ``NOISE`` stream (d normals per step,
    in coordinate order) and, with ``bridge=True``, one uniform per step from its ``AUX`` stream
    (``numerics.streams``, stream index ``particle_offset + i``), so its trajectory depends only on
    (seed, particle_offset + i): results do not depend on chunking or ``workers``.

    Parameters
    ----------
    landscape : Landscape
        A built-in with a compiled kernel (see :func:`has_kernel`); sharpness is honoured.
    start : array (d,)
        Initial θ (usually the minimum θ_a); must not already satisfy the criterion.
    eta : float > 0
        Step size.
    noise_matrix : array (d, d), optional
        S. White noise: S = √(2Dη)·I (:func:`white_noise_matrix`; a diagonal S takes a faster path);
        ``hessian_fixed``: S = η√(λ/B)·chol(H_a) (:func:`hessian_fixed_noise_matrix`).
    temperature : float > 0, optional
        D; instead of ``noise_matrix``, gives S = √(2Dη)·I.
    n_runs, max_steps : int ≥ 1
        Number of particles; step cap (right-censoring).
    seed : int ≥ 0
        Run seed of the stream contract.
    criterion : {"dividing_surface", "radius", "loss_level"}
        ``dividing_surface``: escaped when (θ − point)·normal ≥ 0 (normal a unit vector pointing away
        from the minimum); ``point``/``normal`` of shape (m, d) give m planes (escaped when any is
        crossed: one plane per escape path). ``radius``: ‖θ − center‖ ≥ radius (center defaults to ``start``).
        ``loss_level``: L(θ) − minimum_loss ≥ level (minimum_loss defaults to L(start)).
    bridge : bool
        ``dividing_surface`` only: also count a step whose two ends are both on the minimum's side, at
        distances d0, d1 from the plane, as an escape when the AUX uniform u < exp(−2·d0·d1/σ_n²),
        σ_n² = nᵀSSᵀn (= 2Dη for white noise): the probability that the Brownian bridge between the
        two ends touched the plane (reflection principle; Borodin & Salminen, Handbook of Brownian
        Motion, 2002, Part II 1.1.8; for Euler schemes Baldi, Ann. Appl. Probab. 5, 1995 and Gobet,
        Stoch. Proc. Appl. 87, 167 (2000)). Exact for the Euler path with S fixed.
    particle_offset : int ≥ 0
        Stream index of the first particle (to split one run over calls).
    workers : int ≥ 1
        Threads; each runs the compiled kernel on chunks of particles with the GIL released.
    return_theta : bool
        Also return θ at each particle's last step (n_runs × d floats).
    noise_matrix_after, split_point, split_normal : optional
        Two-region noise (docs/theory.md §hessian_two_region, the paper's s model): S2 =
        ``noise_matrix_after`` is used where (θ − split_point)·split_normal ≥ 0 at the start of a step, S
        elsewhere.

    Returns
    -------
    KernelEscape
        ``(steps, escaped, diverged, theta)``.
    """
    kid, kp = _kernel_spec(landscape)
    _check_stream_backend()
    start, eta, S, n_runs, max_steps, seed, crit, cp, bridge_c, offset = _prepare(
        landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion,
        point, normal, center, radius, level, minimum_loss, particle_offset, bridge,
        lambda th: _loss(kid, kp, th))
    if _criterion_value(crit, cp, kid, kp, start) >= 0:
        raise InputError(f"start already satisfies the {criterion} criterion")
    seed = _kernel_seed(seed)
    _index("particle_offset + n_runs", offset + n_runs)
    if int(workers) != workers or workers < 1:
        raise InputError(f"workers must be an integer >= 1; got {workers}")
    d = landscape.dim
    two, split, S2, bridge_c2 = _two_region(landscape, S, noise_matrix_after, split_point, split_normal,
                                            bridge, cp, crit)
    use_diag, sdiag, S_t = _matrix_layout(S)
    use_diag2, sdiag2, S2_t = _matrix_layout(S2)
    steps = np.empty(n_runs, np.int64)
    escaped = np.empty(n_runs, np.bool_)
    diverged = np.empty(n_runs, np.bool_)
    theta = np.empty((n_runs, d)) if return_theta else np.empty((1, d))

    block = _escape_1d if d == 1 and use_diag and use_diag2 else _escape_nd
    noise1 = (sdiag, S_t, use_diag)
    noise2 = (sdiag2, S2_t, use_diag2)
    outputs = (steps, escaped, diverged, theta)

    def run(queue, i1):
        block(kid, kp, start, eta, noise1, noise2, crit, cp, bool(bridge), bridge_c, bridge_c2, seed, offset,
              queue, i1, max_steps, outputs, bool(return_theta), two, split)

    run_in_chunks(run, n_runs, workers)
    return KernelEscape(steps, escaped, diverged, theta if return_theta else None)


def run_in_chunks(run, n_runs: int, workers: int) -> None:
    """Call ``run(queue, i1)`` on ``workers`` threads at once, over parts of particles 0..n_runs−1.

    A part holds up to ``_CHUNK`` particles per thread. Its threads take the particles one at a time
    from one shared queue (``queue[0]`` is the next one; the kernels take it with :func:`_claim`), so
    no thread idles while particles are left to start, whatever the escape times, and the kernels'
    lanes stay full to the part's end. The parts run one after another (Ctrl-C is handled between
    them). The calling thread runs too; ``run`` must release the GIL (a ``nogil`` compiled kernel).
    """
    workers = max(1, min(int(workers), os.cpu_count() or 1))
    pool = _helper_threads(workers - 1)
    part = _CHUNK * workers
    for i0 in range(0, n_runs, part):
        i1 = min(i0 + part, n_runs)
        queue = np.array([i0], np.int64)
        helpers = [pool.submit(run, queue, i1) for _ in range(workers - 1)]
        try:
            run(queue, i1)
        finally:                   # no helper may still write to the outputs when this returns
            wait(helpers)
        for h in helpers:
            h.result()


_HELPERS: list = [0, -1, None]            # size, process id, pool
_HELPERS_LOCK = threading.Lock()


def _helper_threads(n: int) -> ThreadPoolExecutor | None:
    """A pool of at least ``n`` helper threads, kept between calls (None when n = 0).

    Starting a pool costs about 0.25 ms per call against 0.05 ms for handing work to a kept one
    (measured on this project's 2-core machine), which counts for calls of a few ms. A process
    forked after the pool was made gets a pool of its own (the parent's threads do not exist there).
    """
    if n <= 0:
        return None
    with _HELPERS_LOCK:
        size, pid, pool = _HELPERS
        if pool is None or size < n or pid != os.getpid():
            if pool is not None and pid == os.getpid():
                pool.shutdown(wait=False)
            _HELPERS[:] = [n, os.getpid(), ThreadPoolExecutor(max_workers=n, thread_name_prefix="flatminima")]
        return _HELPERS[2]


# ====================================================================== escape: numpy reference
def fixed_noise_escape_reference(landscape: Landscape, start, *, eta: float, noise_matrix=None, n_runs: int,
                                 max_steps: int, seed: int, criterion: str, point=None, normal=None,
                                 center=None, radius: float | None = None, level: float | None = None,
                                 minimum_loss: float | None = None, particle_offset: int = 0,
                                 bridge: bool = False, temperature: float | None = None,
                                 return_theta: bool = False, noise_matrix_after=None, split_point=None,
                                 split_normal=None) -> KernelEscape:
    """Plain-numpy reference of :func:`fixed_noise_escape` (same contract, same results).

    Independent of the compiled path: gradients and losses come from autograd (any landscape works,
    built-in or not), the noise from ``numpy.random.Generator`` objects built by
    :func:`numerics.streams.particle_stream`. Particles advance together, vectorised across the
    still-running ones; slow, for tests and small runs. Parameters and returns as
    :func:`fixed_noise_escape` (without ``workers``).
    """
    start, eta, S, n_runs, max_steps, seed, crit, cp, bridge_c, offset = _prepare(
        landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion,
        point, normal, center, radius, level, minimum_loss, particle_offset, bridge,
        lambda th: landscape.value(th))
    d = landscape.dim
    grad = _batch_grad(landscape.loss)
    two, split, S2, bridge_c2 = _two_region(landscape, S, noise_matrix_after, split_point, split_normal,
                                            bridge, cp, crit)

    def stat(th):                       # criterion statistic per row; escaped when ≥ 0
        if crit == _DIVIDING:
            m = int(cp[0])
            P, N = cp[1:1 + m * d].reshape(m, d), cp[1 + m * d:].reshape(m, d)
            return np.max(np.einsum("nmd,md->nm", th[:, None, :] - P[None], N), axis=1)
        if crit == _RADIUS:
            return np.sum((th - cp[:d]) ** 2, axis=1) - cp[d]
        vals = np.asarray(landscape.loss(th.T), float).reshape(len(th))
        return vals - cp[0] - cp[1]

    with np.errstate(all="ignore"):
        if stat(start[None, :])[0] >= 0:
            raise InputError(f"start already satisfies the {criterion} criterion")
        noise = [streams.particle_stream(seed, offset + i, streams.NOISE) for i in range(n_runs)]
        aux = [streams.particle_stream(seed, offset + i, streams.AUX) for i in range(n_runs)] if bridge else None
        steps = np.full(n_runs, max_steps, np.int64)
        escaped = np.zeros(n_runs, bool)
        diverged = np.zeros(n_runs, bool)
        theta = np.tile(start, (n_runs, 1))
        alive = np.arange(n_runs)
        s_prev = stat(theta)
        for t in range(1, max_steps + 1):
            if alive.size == 0:
                break
            th = theta[alive]
            g = np.asarray(grad(th.T), float).T
            z = np.array([noise[i].standard_normal(d) for i in alive]).reshape(len(alive), d)
            after = (th - split[:d]) @ split[d:] >= 0 if two else np.zeros(len(alive), bool)
            kick = np.zeros_like(th)
            for k in range(d):          # Σ_k S[j, k]·ξ_k summed in k order, as the kernel does
                col = np.where(after[:, None], S2[:, k][None, :], S[:, k][None, :])
                kick += col * z[:, k][:, None]
            new = th - eta * g + kick
            u = np.array([aux[i].random() for i in alive]) if bridge else None
            theta[alive] = new
            bad = ~np.all(np.isfinite(new), axis=1)
            s = np.full(len(alive), -np.inf)
            s[~bad] = stat(new[~bad])
            hit = ~bad & (s >= 0)
            if bridge:
                # libm's exp, as the kernel calls it: numpy's vectorised exp (AVX2/AVX-512 loops) may
                # differ from it by an ulp, which would move decisions at the boundary u = exp(−q)
                q = np.where(after, bridge_c2, bridge_c) * s_prev[alive] * s
                p = np.array([math.exp(-v) if v < 746.0 else 0.0 for v in q.tolist()])
                hit |= ~bad & (u < p)
            # an exit by a step that plain gradient descent takes uphill from θ (η·curvature > 2 there,
            # docs/theory.md §Discretisation) is the overshoot of an unstable iteration: a divergence, as in the
            # kernel's _uphill
            if hit.any():
                old = th[hit]
                down = old - eta * g[hit]
                uphill = ~(np.asarray(landscape.loss(down.T), float).reshape(-1)
                           <= np.asarray(landscape.loss(old.T), float).reshape(-1))
                over = np.flatnonzero(hit)[uphill]
                hit[over], bad[over] = False, True
            diverged[alive[bad]] = True
            escaped[alive[hit]] = True
            steps[alive[bad | hit]] = t
            s_prev[alive] = s
            alive = alive[~(bad | hit)]
    return KernelEscape(steps, escaped, diverged, theta if return_theta else None)
