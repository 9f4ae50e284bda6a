"""Four particles side by side in 4-wide (AVX2) vectors: the escape loops of the common cases, in LLVM IR.

:func:`escape_lanes` takes Styblinski–Tang with one plane or a radius (any d, one or two noise regions,
dense or diagonal S, bridge), :func:`escape_lanes1` the 1-D built-ins (Styblinski–Tang with d = 1, the
double well) with one plane or a radius; :func:`escape_lanes_opt` the stateful optimizers (heavy-ball and
Nesterov momentum, Adam) on Styblinski–Tang (any d) with one plane or a radius. Each lane does exactly the
scalar operations of :mod:`numerics.kernels.loops`, in the same order (IEEE arithmetic is per lane; no fused
multiply-add), so every particle gets the exit step and outcome of the scalar loops, bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from llvmlite import ir

from flatminima.numerics.kernels.landscapes import DW
from flatminima.numerics.kernels.loops import (ADAM, DIVERGED, ESCAPED, NESTEROV, RADIUS, RUNNING, bridge_hit,
                                               criterion_value, overshot, record, uphill)
from flatminima.numerics.kernels.rng import pcg_double, pcg_normal, seed_lane
from flatminima.numerics.kernels.threads import claim

_LANES = 4
"""Particles stepped side by side by :func:`escape_lanes`: one AVX2 register of doubles."""


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
    """IR of :func:`numerics.kernels.landscapes.st_grad1` on four lanes, in its operation order: √k·(((2y·y)·y − 16y) + 2.5)."""
    cube = builder.fmul(builder.fmul(builder.fmul(const(2.0), y), y), y)
    return builder.fmul(r, builder.fadd(builder.fsub(cube, builder.fmul(const(16.0), y)), const(2.5)))


def _emit_tail(builder, splat, at, xn, pn, off, j, d, cp, split, fin_p, sv_p, side_p, radius, two_region):
    """IR of what every lane step does with θ'_j once computed: store it, add θ'_j − θ'_j to the finiteness sum,
    the criterion's term (radius (θ'_j − c_j)², plane (θ'_j − p_j)·n_j; ``cp`` as in :func:`_lanes_step_intrinsic`) to
    the statistic, and with ``two_region`` (θ'_j − q_j)·e_j to the side of the split plane (``split`` = [q, e])."""
    i64 = ir.IntType(64)
    builder.store(xn, at(pn, off), align=8)
    builder.store(builder.fadd(builder.load(fin_p), builder.fsub(xn, xn)), fin_p)
    if radius:
        z = builder.fsub(xn, splat(builder.load(builder.gep(cp, [j]))))
        term = builder.fmul(z, z)
    else:
        pj = builder.load(builder.gep(cp, [builder.add(j, ir.Constant(i64, 1))]))
        nj = builder.load(builder.gep(cp, [builder.add(builder.add(j, d), ir.Constant(i64, 1))]))
        term = builder.fmul(builder.fsub(xn, splat(pj)), splat(nj))
    builder.store(builder.fadd(builder.load(sv_p), term), sv_p)
    if two_region:
        qj = builder.load(builder.gep(split, [j]))
        ej = builder.load(builder.gep(split, [builder.add(j, d)]))
        side = builder.fmul(builder.fsub(xn, splat(qj)), splat(ej))
        builder.store(builder.fadd(builder.load(side_p), side), side_p)


def _lanes_step_intrinsic(radius: bool, two_region: bool):
    """An intrinsic: one Styblinski–Tang step of four particles, and their criterion (plane or radius).

    θ is stored by coordinate, then particle (index j·4 + l), so each coordinate of the four particles
    is one 4-wide vector; so are the kicks. Each lane does exactly the scalar operations of
    ``numerics.kernels.loops._steps_nd`` (update and finiteness sum) and ``loops._criterion_row``, in the
    same order (IEEE arithmetic is per lane; no fused multiply-add): the update θ' = (θ − η·∇L_k(θ)) + kick
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
                _emit_tail(builder, splat, at, xn, pn, off, j, d, ptr[5], ptr[6], fin_p, sv_p, side_p, radius, two_region)
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
    ``numerics.kernels.loops._kick_block``); ``smat`` = Sᵀ (d, d), C-contiguous."""
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
    """Lanes of :func:`escape_lanes` or :func:`escape_lanes1` after a step with exits (``mask``) or at a deadline.

    Records each lane whose particle exited (diverged when θ is not finite or the exit step went
    uphill: the overshoot rule of :func:`numerics.kernels.loops.escape_nd`) or reached ``max_steps``, and starts the next
    particle from ``queue`` (:func:`claim`) in every free lane (θ = start, fresh streams). Returns
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
                status = DIVERGED if fin != 0.0 else ESCAPED
                if status == ESCAPED and uphill(kid, kp, rows, 1, work, eta):
                    status = DIVERGED
            elif t >= max_steps:
                status = RUNNING
                for j in range(d):
                    rows[0, j] = th[cur, j * _LANES + l]
            else:
                continue
            record(outputs, ps[l], t, status, store_theta, rows, 0)
            ps[l] = -1
            active -= 1
        p = claim(queue)
        if p < i1:                 # θ = start, fresh streams; its first step's noise is drawn next
            ps[l], t0[l], sprev[l], reg[l] = p, clock, s_start, reg_start
            for j in range(d):
                th[cur, j * _LANES + l] = start[j]
            seed_lane(seed, offset + p, bridge, st, l)
            active += 1
    deadline = clock + max_steps
    live = 0
    for l in range(_LANES):
        if ps[l] >= 0:
            deadline = min(deadline, t0[l] + max_steps)
            live |= 1 << l
    return active, deadline, live


@njit(cache=True, nogil=True)
def escape_lanes(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset, queue,
                 i1, max_steps, outputs, store_theta, two_region, split):
    """:func:`numerics.kernels.loops.escape_nd` for Styblinski–Tang with one plane or a radius: four particles at once.

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
    radius = crit == RADIUS
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
    s_start = criterion_value(crit, cp, kid, kp, start)
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
                    z, nh, nl = pcg_normal(nh, nl, nih, nil)
                    kick[k * _LANES + l] = sdiag[k] * z
            else:
                for k in range(d):
                    xi[k * _LANES + l], nh, nl = pcg_normal(nh, nl, nih, nil)
            st[l, 0], st[l, 1] = nh, nl
            if bridge:
                ah, al = st[l, 4], st[l, 5]
                ru[l], ah, al = pcg_double(ah, al, st[l, 6], st[l, 7])
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
                if not (mask >> l) & 1 and bridge_hit(ru[l], c * sprev[l] * sv[l]):
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
    (one plane or a radius) and the bridge's quick test, each lane with the operations of
    ``numerics.kernels.loops._step1``.

    x' = (x − η·L'(x)) + s·z with s = sd2 where (x − q)·e ≥ 0 (split = [q, e]), sd elsewhere (pass
    sd2 = sd, bc2 = bc for one region); the double well's two branches are both computed and the one
    of y = √k·x ≤ 0 selected (exactly :func:`numerics.kernels.landscapes.dw_grad1`'s value). Statistic s' = (x' − p)·n (cp =
    [1, p, n]) or (x' − c)² − r² (cp = [c, r²]) into ``svout`` (may be ``sprev``: it is read first);
    the bridge's q = (c·s_prev)·s' into ``qout``, c = bc2 beyond the split, bc elsewhere. Returns bits 0–3: lanes with x' not finite or
    s' ≥ 0; bits 4–7: the other lanes whose bridge test is not decided without the exp (q < 746 and not
    (q ≥ 0 and u·(1 + q·(1 + q/2)) ≥ 1 + 1e-12), :func:`numerics.kernels.loops.bridge_hit`'s first two tests).
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
            if double_well:            # dw_grad1, both branches
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
def escape_lanes1(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset, queue,
                  i1, max_steps, outputs, store_theta, two_region, split):
    """:func:`numerics.kernels.loops.escape_1d` with one plane or a radius: four particles side by side in 4-wide vectors.

    A 1-D step is one long dependency chain (the gradient's polynomial); four lanes in one vector
    advance four particles per chain. Each lane draws its normal (and bridge uniform) of the step in
    its streams' order, then :func:`_lanes1_step_intrinsic` steps the four; a bridge test that its
    quick bound does not decide is finished here with the exp (:func:`numerics.kernels.loops.bridge_hit`). The lanes'
    turnover is :func:`escape_lanes`' (:func:`_lanes_turnover`); per particle the results are those
    of a run on its own.
    """
    sd = noise1[0][0]
    sd2 = noise2[0][0] if two_region else sd
    bc2 = bridge_c2 if two_region else bridge_c
    radius = crit == RADIUS
    th = np.empty((2, _LANES))
    zr, ur = np.zeros(_LANES), np.zeros(_LANES)
    q = np.empty(_LANES)
    sprev = np.empty(_LANES)               # the statistic before the step; the step writes the new one there
    reg = np.zeros(_LANES)                 # unused in 1-D: the step finds each lane's region
    st = np.zeros((_LANES, 8), np.uint64)
    ps = np.full(_LANES, -1, np.int64)
    t0 = np.zeros(_LANES, np.int64)
    rows, work = np.empty((2, 1)), np.empty((2, 1))
    s_start = criterion_value(crit, cp, kid, kp, start)
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
            zr[l], nh, nl = pcg_normal(nh, nl, st[l, 2], st[l, 3])
            st[l, 0], st[l, 1] = nh, nl
            if bridge:
                ah, al = st[l, 4], st[l, 5]
                ur[l], ah, al = pcg_double(ah, al, st[l, 6], st[l, 7])
                st[l, 4], st[l, 5] = ah, al
        if kid == DW:
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
                if (maybe >> l) & 1 and bridge_hit(ur[l], q[l]):
                    mask |= 1 << l
        mask &= live
        clock += 1
        cur = 1 - cur


# ====================================================================== stateful optimizers (momentum, Adam)
def _lanes_opt_step_intrinsic(radius: bool, two_region: bool, kind: str):
    """An intrinsic: :func:`_lanes_step_intrinsic` with a stateful update, ``kind`` "heavy", "nesterov" or "adam".

    Per lane, the operations of ``numerics.kernels.loops._steps_nd_opt`` in its order: q = η·∇L_k(θ) − kick;
    heavy ball u ← β·u + q, θ' = θ − u; Nesterov θ' = θ − (q + β·u); Adam p₁ ← p₁·β₁, p₂ ← p₂·β₂ (per lane,
    once per step), m ← β₁·m + (1−β₁)·q, v ← β₂·v + (1−β₂)·(q·q), θ' = θ − (η·(m/(1−p₁)))/(√(v/(1−p₂)) + η·ε).
    The state ``sb`` holds u (or m) at j·4 + l and v at 4d + j·4 + l (laid out like θ); ``pp`` = [p₁ of the
    four lanes, p₂ of the four lanes]; ``hp`` the hyper-parameters (``loops.HP_*``). Once 1 − p₁ (then also
    1 − p₂) is exactly 1.0 in all four lanes, its division is left out: x/1.0 = x exactly, so the bits are the
    same with fewer divisions (Adam's step is bound by the divider: two divisions and a square root per
    coordinate). Criterion, finiteness sum, two-region kick and the returned mask as :func:`_lanes_step_intrinsic`.
    """
    adam = kind == "adam"

    @intrinsic
    def step(typingctx, th, cur, kick, kick2, reg, cp, split, eta, r, svout, sideout, sb, pp, hp):
        sig = types.int64(th, cur, kick, kick2, reg, cp, split, eta, r, svout, sideout, sb, pp, hp)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            v4, splat, const, at = _vec4_tools(builder)
            ptr = {i: context.make_array(signature.args[i])(context, builder, args[i]).data
                   for i in (0, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13)}
            shape = context.make_array(signature.args[0])(context, builder, args[0]).shape
            row = builder.extract_value(shape, 1)          # d·4: one row of th (θ before, θ after)
            d = builder.udiv(row, ir.Constant(i64, _LANES))
            cur = builder.sext(args[1], i64)
            pc = builder.gep(ptr[0], [builder.mul(cur, row)])
            pn = builder.gep(ptr[0], [builder.mul(builder.sub(ir.Constant(i64, 1), cur), row)])
            pu, pv = ptr[11], builder.gep(ptr[11], [row])
            eta_v, r_v, zero, one = splat(args[7]), splat(args[8]), const(0.0), const(1.0)

            def hyper(k):
                return splat(builder.load(builder.gep(ptr[13], [ir.Constant(i64, k)])))
            b1, cb1, b2, cb2, ee = (hyper(k) for k in range(5))
            after = builder.fcmp_ordered("!=", builder.load(at(ptr[4], ir.Constant(i64, 0)), align=8), zero)
            sv_p = cgutils.alloca_once_value(builder, zero)
            fin_p = cgutils.alloca_once_value(builder, zero)
            side_p = cgutils.alloca_once_value(builder, zero)
            sqrt = cgutils.get_or_insert_function(builder.module, ir.FunctionType(v4, [v4]), "llvm.sqrt.v4f64")
            c1 = c2 = i1 = i2 = None
            if adam:
                p1_at, p2_at = at(ptr[12], ir.Constant(i64, 0)), at(ptr[12], ir.Constant(i64, _LANES))
                p1 = builder.fmul(builder.load(p1_at, align=8), b1)
                p2 = builder.fmul(builder.load(p2_at, align=8), b2)
                c1, c2 = builder.fsub(one, p1), builder.fsub(one, p2)
                # once 1 − p is exactly 1.0 it stays so (p only shrinks): p may then be 0.0, the same 1 − p, and
                # p never reaches the subnormals (where β·p sticks at the smallest one, each product a slow assist)
                builder.store(builder.select(builder.fcmp_ordered("==", c1, one), zero, p1), p1_at, align=8)
                builder.store(builder.select(builder.fcmp_ordered("==", c2, one), zero, p2), p2_at, align=8)
                # the bias corrections' reciprocals, once per step for the four lanes (not per coordinate)
                i1, i2 = builder.fdiv(one, c1), builder.fdiv(one, c2)

            def all_one(c):
                bits = builder.bitcast(builder.fcmp_ordered("==", c, one), ir.IntType(_LANES))
                return builder.icmp_unsigned("==", bits, ir.Constant(ir.IntType(_LANES), (1 << _LANES) - 1))

            def loop(div1, div2):
                with cgutils.for_range(builder, d) as lp:
                    j = lp.index
                    off = builder.mul(j, ir.Constant(j.type, _LANES))
                    x = builder.load(at(pc, off), align=8)
                    kick_j = builder.load(at(ptr[2], off), align=8)
                    if two_region:
                        kick_j = builder.select(after, builder.load(at(ptr[3], off), align=8), kick_j)
                    g = _vec_st_grad(builder, const, r_v, builder.fmul(r_v, x))
                    q = builder.fsub(builder.fmul(eta_v, g), kick_j)
                    if adam:
                        m = builder.fadd(builder.fmul(b1, builder.load(at(pu, off), align=8)), builder.fmul(cb1, q))
                        v = builder.fadd(builder.fmul(b2, builder.load(at(pv, off), align=8)),
                                         builder.fmul(cb2, builder.fmul(q, q)))
                        builder.store(m, at(pu, off), align=8)
                        builder.store(v, at(pv, off), align=8)
                        mh = builder.fmul(m, i1) if div1 else m       # m·(1/(1−p₁)), the reference's order
                        vh = builder.fmul(v, i2) if div2 else v
                        den = builder.fadd(builder.call(sqrt, [vh]), ee)
                        xn = builder.fsub(x, builder.fdiv(builder.fmul(eta_v, mh), den))
                    else:
                        u = builder.fadd(builder.fmul(b1, builder.load(at(pu, off), align=8)), q)
                        builder.store(u, at(pu, off), align=8)
                        if kind == "nesterov":
                            xn = builder.fsub(x, builder.fadd(q, builder.fmul(b1, u)))
                        else:
                            xn = builder.fsub(x, u)
                    _emit_tail(builder, splat, at, xn, pn, off, j, d, ptr[5], ptr[6], fin_p, sv_p, side_p, radius,
                               two_region)

            if adam:               # 1 − p₁ reaches 1.0 first when β₁ ≤ β₂ (a later 1 − p₂ = 1.0 alone is not used)
                with builder.if_else(all_one(c1)) as (exact1, divide1):
                    with exact1:
                        with builder.if_else(all_one(c2)) as (exact2, divide2):
                            with exact2:
                                loop(False, False)
                            with divide2:
                                loop(False, True)
                    with divide1:
                        loop(True, True)
            else:
                loop(False, False)
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


(_hb_plane, _hb_plane2, _hb_radius, _hb_radius2,
 _nag_plane, _nag_plane2, _nag_radius, _nag_radius2,
 _adam_plane, _adam_plane2, _adam_radius, _adam_radius2) = (
    _lanes_opt_step_intrinsic(radius, two, kind) for kind in ("heavy", "nesterov", "adam")
    for radius in (False, True) for two in (False, True))


@njit(cache=True, inline="always")
def _lanes_opt_turnover(kid, kp, opt, hp, start, s_start, mask, clock, cur, th, ps, t0, reg, reg_start, seed, offset,
                        st, queue, i1, max_steps, outputs, store_theta, rows, work, active, sb, pp, lsb, rates):
    """:func:`_lanes_turnover` for :func:`escape_lanes_opt`: the overshoot test at the rule's equivalent rate
    (:func:`numerics.kernels.loops.overshot`, Adam's from the lane's state after the step), and a new
    particle's optimizer state zeroed (buffers 0, p₁ = p₂ = 1)."""
    d = rows.shape[1]
    for l in range(_LANES):
        if ps[l] >= 0:
            t = clock - t0[l]
            if (mask >> l) & 1:
                fin = 0.0
                for j in range(d):
                    rows[0, j] = th[cur, j * _LANES + l]      # θ after the step
                    rows[1, j] = th[1 - cur, j * _LANES + l]  # θ before it
                    lsb[1, j] = sb[(d + j) * _LANES + l]      # v after the step
                    fin += rows[0, j] - rows[0, j]
                status = DIVERGED if fin != 0.0 else ESCAPED
                if status == ESCAPED and overshot(kid, kp, opt, hp, rows, 1, work, lsb, pp[_LANES + l], rates):
                    status = DIVERGED
            elif t >= max_steps:
                status = RUNNING
                for j in range(d):
                    rows[0, j] = th[cur, j * _LANES + l]
            else:
                continue
            record(outputs, ps[l], t, status, store_theta, rows, 0)
            ps[l] = -1
            active -= 1
        p = claim(queue)
        if p < i1:                 # θ = start, zero state, fresh streams
            ps[l], t0[l], reg[l] = p, clock, reg_start
            for j in range(d):
                th[cur, j * _LANES + l] = start[j]
                sb[j * _LANES + l] = 0.0
                sb[(d + j) * _LANES + l] = 0.0
            pp[l] = pp[_LANES + l] = 1.0
            seed_lane(seed, offset + p, False, st, l)
            active += 1
    deadline = clock + max_steps
    live = 0
    for l in range(_LANES):
        if ps[l] >= 0:
            deadline = min(deadline, t0[l] + max_steps)
            live |= 1 << l
    return active, deadline, live


@njit(cache=True, nogil=True)
def escape_lanes_opt(kid, kp, start, eta, noise1, noise2, crit, cp, opt, hp, seed, offset, queue, i1, max_steps,
                     outputs, store_theta, two_region, split):
    """:func:`escape_lanes` for the stateful step rules (heavy-ball or Nesterov momentum, Adam), without the bridge.

    Styblinski–Tang (any d) with one plane or a radius, one or two noise regions, dense or diagonal S: four
    particles in 4-wide vectors (:func:`_lanes_opt_step_intrinsic`), each lane with its optimizer state laid
    out like θ and zeroed when the lane takes a new particle. Per particle the draws, the arithmetic and the
    exit decisions are those of :func:`numerics.kernels.loops.escape_nd_opt` (and of the numpy reference).
    """
    sdiag, smat, use_diag = noise1
    sdiag2, smat2, use_diag2 = noise2
    d = start.shape[0]
    radius = crit == RADIUS
    r = kp[0]
    th = np.empty((2, d * _LANES))
    xi = np.zeros(d * _LANES)
    kick = np.zeros(d * _LANES)
    kick2 = np.zeros(d * _LANES)
    reg = np.zeros(_LANES)
    side = np.zeros(_LANES)
    sv = np.empty(_LANES)
    sb = np.zeros(2 * d * _LANES)          # u (or m) by coordinate, then lane; then v
    pp = np.ones(2 * _LANES)               # Adam's p₁ of the four lanes, then their p₂
    lsb = np.zeros((2, d))                 # one lane's state, for the overshoot test
    rates = np.empty(d)
    st = np.zeros((_LANES, 8), np.uint64)
    ps = np.full(_LANES, -1, np.int64)
    t0 = np.zeros(_LANES, np.int64)
    rows, work = np.empty((2, d)), np.empty((2, d))
    s_start = criterion_value(crit, cp, kid, kp, start)
    side_start = 0.0
    for j in range(d):
        side_start += (start[j] - split[j]) * split[d + j]
    reg_start = 1.0 if two_region and side_start >= 0.0 else 0.0
    for l in range(_LANES):
        for j in range(d):
            th[0, j * _LANES + l] = start[j]
    clock, cur = 0, 0
    active = 0
    mask = -1
    deadline = live = 0
    while True:
        if mask != 0 or clock >= deadline:
            active, deadline, live = _lanes_opt_turnover(
                kid, kp, opt, hp, start, s_start, mask, clock, cur, th, ps, t0, reg, reg_start, seed, offset,
                st, queue, i1, max_steps, outputs, store_theta, rows, work, active, sb, pp, lsb, rates)
            if active == 0:
                break
        for l in range(_LANES):            # each lane's normals of the step, in its stream's order
            if ps[l] < 0:
                continue
            nh, nl, nih, nil = st[l, 0], st[l, 1], st[l, 2], st[l, 3]
            if use_diag and not two_region:
                for k in range(d):
                    z, nh, nl = pcg_normal(nh, nl, nih, nil)
                    kick[k * _LANES + l] = sdiag[k] * z
            else:
                for k in range(d):
                    xi[k * _LANES + l], nh, nl = pcg_normal(nh, nl, nih, nil)
            st[l, 0], st[l, 1] = nh, nl
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
        if opt == ADAM:
            if radius:
                if two_region:
                    mask = _adam_radius2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
                else:
                    mask = _adam_radius(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
            elif two_region:
                mask = _adam_plane2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
            else:
                mask = _adam_plane(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
        elif opt == NESTEROV:
            if radius:
                if two_region:
                    mask = _nag_radius2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
                else:
                    mask = _nag_radius(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
            elif two_region:
                mask = _nag_plane2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
            else:
                mask = _nag_plane(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
        elif radius:
            if two_region:
                mask = _hb_radius2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
            else:
                mask = _hb_radius(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
        elif two_region:
            mask = _hb_plane2(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
        else:
            mask = _hb_plane(th, cur, kick, kick2, reg, cp, split, eta, r, sv, side, sb, pp, hp)
        if two_region:
            for l in range(_LANES):
                reg[l] = 1.0 if side[l] >= 0.0 else 0.0
        mask &= live
        clock += 1
        cur = 1 - cur
