"""The scalar escape loops, one or two particles at a time, and the per-step helpers every loop shares.

:func:`escape_nd` steps one particle at a time per thread (any compiled landscape and criterion), with
the noise drawn and multiplied by S a block ahead; :func:`escape_1d` steps two 1-D particles side by
side. The four-lane loops of :mod:`numerics.kernels.lanes` take the common cases (the driver,
:func:`numerics.kernels.driver.fixed_noise_escape`, picks the loop) and use the helpers here: the
criterion statistic, the Brownian-bridge test, the overshoot test and the record of an outcome.
:func:`escape_nd_opt` is :func:`escape_nd` for the stateful step rules (heavy-ball and Nesterov momentum,
Adam, PNM, Adai: :data:`OPTIMIZERS`), with :func:`overshot`, their overshoot test.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from flatminima.numerics.kernels.landscapes import DW, ST, dw_grad1, grad1, grad_row, loss1, loss_row, st_grad1
from flatminima.numerics.kernels.rng import pcg_double, pcg_normal, seed_lane
from flatminima.numerics.kernels.threads import claim

CRITERIA = {"dividing_surface": 0, "radius": 1, "loss_level": 2}
"""Exit criteria supported by :func:`numerics.kernels.driver.fixed_noise_escape` and their integer ids."""

DIVIDING, RADIUS, LEVEL = 0, 1, 2
"""The ids of :data:`CRITERIA`, as compiled code compares them."""

RUNNING, ESCAPED, DIVERGED = 0, 1, 2
"""A particle's status in the loops."""

_NB, _NB_FIRST = 32, 4
"""Steps of noise drawn ahead per block, and the first block's length (it doubles up to _NB, so a
particle that exits within a few steps wastes few draws)."""


@njit(cache=True, nogil=True, inline="always")
def _criterion_row(crit, cp, kid, kp, ths, i):
    """The criterion's statistic at θ = row i of ``ths``; the particle has escaped when it is ≥ 0."""
    d = ths.shape[1]
    if crit == DIVIDING:           # cp = [m, p_1..p_m (m·d), n_1..n_m (m·d)]: max_s (θ − p_s)·n_s
        m = int(cp[0])
        best = -np.inf
        for q in range(m):
            s = 0.0
            for j in range(d):
                s += (ths[i, j] - cp[1 + q * d + j]) * cp[1 + (m + q) * d + j]
            if s > best:
                best = s
        return best
    if crit == RADIUS:             # cp = [c (d), r²]: ‖θ − c‖² − r²
        s = 0.0
        for j in range(d):
            z = ths[i, j] - cp[j]
            s += z * z
        return s - cp[d]
    return loss_row(kid, kp, ths, i) - cp[0] - cp[1]    # cp = [L_a, level]: L(θ) − L_a − level


@njit(cache=True, nogil=True)
def criterion_value(crit, cp, kid, kp, th):
    """The criterion's statistic at one θ (d,); the particle has escaped when it is ≥ 0."""
    return _criterion_row(crit, cp, kid, kp, np.ascontiguousarray(th).reshape(1, -1), 0)


@njit(cache=True, nogil=True)
def uphill(kid, kp, olds, i, work, eta):
    """Whether a plain gradient step from θ = row i of ``olds`` raises L (called at exits only)."""
    grad_row(kid, kp, olds, i, work)
    for j in range(olds.shape[1]):
        work[i, j] = olds[i, j] - eta * work[i, j]
    return not loss_row(kid, kp, work, i) <= loss_row(kid, kp, olds, i)


@njit(cache=True, inline="always")
def _criterion1(crit, cp, kid, kp, x):
    """:func:`criterion_value` for d = 1 on a scalar θ (the same floating-point operations)."""
    if crit == DIVIDING:
        m = int(cp[0])
        best = -np.inf
        for q in range(m):
            s = (x - cp[1 + q]) * cp[1 + m + q]
            if s > best:
                best = s
        return best
    if crit == RADIUS:
        z = x - cp[0]
        return z * z - cp[1]
    return loss1(kid, kp, x) - cp[0] - cp[1]


@njit(cache=True, inline="always")
def bridge_hit(u, q):
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
def _draw_block(st, lane, s0, n, bridge, zt, ub):
    """Draws for steps s0..n−1 of a lane's block: zt[lane, k, s] ← normal k of step s, ub[lane, s] ← the AUX uniform.

    The generator state stays in registers for the whole call (one load and one store of it); each
    stream is consumed in the order of the stream contract.
    """
    nh, nl, nih, nil = st[lane, 0], st[lane, 1], st[lane, 2], st[lane, 3]
    for s in range(s0, n):
        for k in range(zt.shape[1]):
            zt[lane, k, s], nh, nl = pcg_normal(nh, nl, nih, nil)
    st[lane, 0], st[lane, 1] = nh, nl
    if bridge:
        ah, al, aih, ail = st[lane, 4], st[lane, 5], st[lane, 6], st[lane, 7]
        for s in range(s0, n):
            ub[lane, s], ah, al = pcg_double(ah, al, aih, ail)
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
def region(two_region, split, ths, cur):
    """The noise region of θ = row ``cur`` of ``ths``: 1 where (θ − q)·e ≥ 0 (``split`` = [q, e]), else 0."""
    if not two_region:
        return 0
    d = ths.shape[1]
    side = 0.0
    for j in range(d):
        side += (ths[cur, j] - split[j]) * split[d + j]
    return 1 if side >= 0.0 else 0


@njit(cache=True, nogil=True, inline="always")
def record(outputs, p, t, status, store_theta, ths, row):
    """Write particle p's outcome: exit (or censoring) step, flags, and θ = row ``row`` of ``ths``."""
    steps, escaped, diverged, theta_out = outputs
    steps[p] = t
    escaped[p] = status == ESCAPED
    diverged[p] = status == DIVERGED
    if store_theta:
        for j in range(ths.shape[1]):
            theta_out[p, j] = ths[row, j]


@njit(cache=True, inline="always")
def _steps_nd(kid, kp, crit, cp, eta, bridge, bridge_c, bridge_c2, two_region, split, ths, gs, kicks, ub,
              cb, n, st, zt, cur, s_prev):
    """Up to n steps of one particle of :func:`escape_nd`, drawing the next block meanwhile: the hot loop.

    Step s uses row s of the block's kicks (and column s of uniform row ``cb``), then draws step s of
    the next block into ``zt`` and uniform row 1 − cb. The draws are independent of θ, so the CPU can
    overlap them with the step (measured on ST-10D: 5–10% faster than drawing the whole block first).
    A next block shorter than n (the last one before ``max_steps``) gets its n columns all the same:
    the extra draws are never used, and testing for them in the loop cost 2 ns per step (measured).
    θ is row ``cur`` of ``ths``; the new θ goes to the other row.

    Styblinski–Tang with one plane or a radius runs in :func:`numerics.kernels.lanes.escape_lanes`
    instead; this loop takes every other landscape and criterion.
    Returns (row of θ, statistic, status, steps taken).
    """
    d = ths.shape[1]
    r = kp[0]
    nh, nl, nih, nil = st[0, 0], st[0, 1], st[0, 2], st[0, 3]
    ah, al, aih, ail = st[0, 4], st[0, 5], st[0, 6], st[0, 7]
    status = RUNNING
    taken = n
    for s in range(n):
        reg = region(two_region, split, ths, cur)
        nw = 1 - cur
        if kid == ST:              # separable gradient: elementwise over coordinates (SIMD)
            for j in range(d):
                v = ths[cur, j]
                ths[nw, j] = v - eta * st_grad1(r, v) + kicks[reg, s, j]
        else:
            grad_row(kid, kp, ths, cur, gs)
            for j in range(d):
                ths[nw, j] = ths[cur, j] - eta * gs[cur, j] + kicks[reg, s, j]
        cur = nw
        for k in range(d):         # step s of the next block
            zt[0, k, s], nh, nl = pcg_normal(nh, nl, nih, nil)
        if bridge:
            ub[1 - cb, s], ah, al = pcg_double(ah, al, aih, ail)
        fin = 0.0                  # NaN unless every coordinate is finite; with it, the statistic
        sv = 0.0
        for j in range(d):
            fin += ths[cur, j] - ths[cur, j]
        if fin != 0.0:
            status, taken = DIVERGED, s + 1
            break
        sv = _criterion_row(crit, cp, kid, kp, ths, cur)
        if sv >= 0.0 or (bridge and bridge_hit(ub[cb, s], (bridge_c2 if reg else bridge_c) * s_prev * sv)):
            s_prev = sv
            status, taken = ESCAPED, s + 1
            break
        s_prev = sv
    st[0, 0], st[0, 1] = nh, nl
    st[0, 4], st[0, 5] = ah, al
    return cur, s_prev, status, taken


@njit(cache=True, nogil=True)
def escape_nd(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset,
              queue, i1, max_steps, outputs, store_theta, two_region, split):
    """Run particles taken from ``queue`` while below i1 (stream index offset + i), one at a time, in blocks of steps.

    :func:`claim` takes each particle; the threads of one call share the queue.

    A block's normals are multiplied by S all at once (vectorised over the block's steps), and
    drawn while the previous block is stepped. A particle that exits mid-block leaves the rest of
    its draws unused; its trajectory, exit step and outcome are those of a run on its own.

    With ``two_region``, the kick is S2·ξ where (θ − q)·e ≥ 0, ``split = [q (d), e (d)]``, and S·ξ
    elsewhere (the two-region model of docs/theory.md §hessian_two_region); the region is decided at the
    start of each step (Itô: noise evaluated at the current iterate).

    Styblinski–Tang with one plane or a radius runs four particles at a time instead
    (:func:`numerics.kernels.lanes.escape_lanes`, picked by the driver; the same results).
    """
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
    s_start = criterion_value(crit, cp, kid, kp, start)
    while True:
        p = claim(queue)
        if p >= i1:
            break
        seed_lane(seed, offset + p, bridge, st, 0)
        for j in range(d):
            ths[0, j] = start[j]
        cur = 0
        s_prev = s_start
        t = 0
        status = RUNNING
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
            if status != RUNNING or t >= max_steps:
                break
            if n_next > n:           # the next block is longer than this one: draw its remaining columns
                _draw_block(st, 0, n, n_next, bridge, zt, ub[1 - cb:])
            n = n_next
            cb = 1 - cb
        # an exit by a step that plain gradient descent would take uphill (η·curvature > 2 there,
        # docs/theory.md §Discretisation) is the overshoot of an unstable iteration: divergence, not escape
        if status == ESCAPED and uphill(kid, kp, ths, 1 - cur, gs, eta):
            status = DIVERGED
        record(outputs, p, t, status, store_theta, ths, cur)


@njit(cache=True, inline="always")
def _step1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split, x, s_prev, z, u):
    """One step of a 1-D particle: (θ', criterion statistic at θ', status)."""
    after = False
    if two_region:
        after = (x - split[0]) * split[1] >= 0.0
    x = x - eta * grad1(kid, kp, x) + (sd2 if after else sd) * z
    if x - x != 0.0:
        return x, s_prev, DIVERGED
    s = _criterion1(crit, cp, kid, kp, x)
    if s >= 0.0 or (bridge and bridge_hit(u, (bc2 if after else bc) * s_prev * s)):
        return x, s, ESCAPED
    return x, s, RUNNING


@njit(cache=True, inline="always")
def _stretch1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split, zt, ub, m,
              xa, sa, ka, runa, xb, sb, kb, runb):
    """m steps of both lanes of :func:`escape_1d` (a lane stops at its exit): the hot loop.

    The two lanes are written out: the same step as a helper returning each lane's six state values
    measured 3× slower (40 against 13 ns per particle-step on the 1-D bridge benchmark).
    Returns per lane (θ, statistic, status, θ before the last step, steps taken).
    """
    sta = stb = RUNNING
    xoa, xob = xa, xb
    na = nb = m
    for i in range(m):
        if runa:
            xoa = xa
            xa, sa, sta = _step1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split,
                                 xa, sa, zt[0, 0, ka + i], ub[0, ka + i])
            if sta != RUNNING:
                runa = False
                na = i + 1
        if runb:
            xob = xb
            xb, sb, stb = _step1(kid, kp, crit, cp, eta, sd, sd2, bc, bc2, bridge, two_region, split,
                                 xb, sb, zt[1, 0, kb + i], ub[1, kb + i])
            if stb != RUNNING:
                runb = False
                nb = i + 1
    return xa, sa, sta, xoa, na, xb, sb, stb, xob, nb


@njit(cache=True, nogil=True)
def escape_1d(kid, kp, start, eta, noise1, noise2, crit, cp, bridge, bridge_c, bridge_c2, seed, offset,
              queue, i1, max_steps, outputs, store_theta, two_region, split):
    """:func:`escape_nd` for d = 1 with a diagonal (scalar) S, two particles side by side ("lanes").

    One plane or a radius runs in :func:`numerics.kernels.lanes.escape_lanes1` (four lanes in vectors,
    picked by the driver); this loop takes several planes and the loss level. A 1-D step is one short dependency chain; two lanes give the
    CPU two to overlap. θ and the criterion statistic of both lanes stay in registers within a
    stretch of steps; each lane draws its own blocks. A lane whose particle finishes waits for the end
    of the stretch (at most _NB steps), then takes the next particle, so each trajectory is that of a
    run on its own.
    """
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
        p = claim(queue)
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
            if status == ESCAPED:
                olds[0, 0] = x_old
                if uphill(kid, kp, olds, 0, work, eta):
                    status = DIVERGED
            if status == RUNNING and t < max_steps:
                xs[lane], sp[lane], ts[lane] = x, s, t
                pos[lane] += n
                if pos[lane] == lens[lane]:
                    lens[lane] = min(nbs[lane], max_steps - t)
                    nbs[lane] = min(2 * nbs[lane], _NB)
                    pos[lane] = 0
                    _draw_block(st, lane, 0, lens[lane], bridge, zt, ub)
                continue
            olds[0, 0] = x
            record(outputs, p, t, status, store_theta, olds, 0)
            ps[lane] = -1
            p = claim(queue)
            if p < i1:
                _lane_next(lane, p, seed, offset, bridge, max_steps, x0, s0, st, zt, ub, ps, xs, sp, ts, pos, lens, nbs)


@njit(cache=True, inline="always")
def _lane_next(lane, p, seed, offset, bridge, max_steps, x0, s0, st, zt, ub, ps, xs, sp, ts, pos, lens, nbs):
    """Start particle p in a lane of :func:`escape_1d` (seed its streams, draw its first block)."""
    seed_lane(seed, offset + p, bridge, st, lane)
    ps[lane], xs[lane], sp[lane], ts[lane], pos[lane] = p, x0, s0, 0, 0
    lens[lane] = min(_NB_FIRST, max_steps)
    nbs[lane] = min(2 * _NB_FIRST, _NB)
    _draw_block(st, lane, 0, lens[lane], bridge, zt, ub)


# ====================================================================== stateful optimizers (momentum, Adam, PNM, Adai)
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 3, "pnm": 4, "adai": 5}
"""Step rules of the compiled loops and their integer ids (momentum with ``nesterov`` is :data:`NESTEROV`).
PNM and Adai run in :func:`escape_nd_opt` only (the four-lane loop has no branch for them)."""

SGD, HEAVY_BALL, NESTEROV, ADAM, PNM, ADAI = 0, 1, 2, 3, 4, 5
"""The ids of the step rules, as compiled code compares them."""

HP_B1, HP_C1, HP_B2, HP_C2, HP_EE, HP_TWO_ETA2, HP_A, HP_RATE, HP_B0, HP_C0, HP_NORM, HP_HI, HP_ETA = range(13)
"""Slots of the hyper-parameter array ``hp`` of the stateful loops: β (β₁; PNM's b = β₁²), 1 − β₁ (1 − b), β₂,
1 − β₂, η·ε, 2η·η, the stability limit A, the overshoot test's gradient-descent rate 2η/A (momentum, PNM),
β₀ (PNM's or Adai's), 1 + β₀ (PNM), PNM's √((1+β₀)²+β₀²), Adai's 1 − ε, and η (Adai's overshoot rate)."""

N_HP = 13
"""The length of ``hp``."""


@njit(cache=True, nogil=True)
def uphill_rates(kid, kp, olds, i, work, rates):
    """:func:`uphill` with a rate per coordinate (Adam's equivalent gradient-descent rate)."""
    grad_row(kid, kp, olds, i, work)
    for j in range(olds.shape[1]):
        work[i, j] = olds[i, j] - rates[j] * work[i, j]
    return not loss_row(kid, kp, work, i) <= loss_row(kid, kp, olds, i)


@njit(cache=True, nogil=True, inline="always")
def adam_rate(hp, v, p2):
    """Adam's overshoot rate of one coordinate, 2η²/((√(v·(1/(1−p₂))) + ηε)·A), in the reference's operation order
    (:meth:`numerics.optimizers.StepRule.overshoot_rate`)."""
    return hp[HP_TWO_ETA2] / ((np.sqrt(v * (1.0 / (1.0 - p2))) + hp[HP_EE]) * hp[HP_A])


@njit(cache=True, inline="always")
def _steps_nd_opt(kid, kp, crit, cp, eta, opt, hp, two_region, split, ths, gs, kicks, n, st, zt, cur, s_prev,
                  sb, pp, t0):
    """Up to n steps of one particle of :func:`escape_nd_opt`: :func:`_steps_nd` with a stateful update.

    The kick ζ = S·ξ and the gradient g at θ give q = η·g − ζ (``numerics.optimizers.StepRule``); per
    coordinate, in the reference's operation order: heavy ball u ← β·u + q, θ ← θ − u; Nesterov θ ← θ − (q + β·u);
    Adam m ← β₁·m + (1−β₁)·q, v ← β₂·v + (1−β₂)·(q·q), θ ← θ − η·(m/(1−p₁))/(√(v/(1−p₂)) + η·ε) with
    p₁ ← p₁·β₁, p₂ ← p₂·β₂ once per step; PNM (b = β₁²) on odd steps m₁ ← b·m₁ + (1−b)·q,
    θ ← θ − ((1+β₀)·m₁ − β₀·m₂)/√((1+β₀)²+β₀²), on even steps the same with m₁ and m₂ swapped; Adai
    v ← β₂·v + (1−β₂)·(q·q), p₂ ← p₂·β₂, v̂ = v/(1−p₂), μ = (v̂₁ + … + v̂_d)/d (left to right),
    β₁ = clip(1 − (β₀·v̂)/μ, 0, 1−ε), m ← β₁·m + (1−β₁)·q, Π ← Π·β₁, θ ← θ − m/(1−Π).
    ``sb`` (6, d) holds u (or m, PNM's m₁), v (PNM's m₂), and Adai's Π, β₁ of the last step, v̂ and q (scratch);
    ``pp`` = [p₁, p₂]; ``t0`` the steps taken before this block (PNM's parity). As for Adam's p, Adai's p₂ and
    Π are set to 0.0 once 1 − p is exactly 1.0 (the same 1 − p from then on, and no subnormal products).
    Returns (row of θ, statistic, status, steps taken).
    """
    d = ths.shape[1]
    r = kp[0]
    b1, c_b1, b2, c_b2, ee = hp[HP_B1], hp[HP_C1], hp[HP_B2], hp[HP_C2], hp[HP_EE]
    b0, c0, nrm, hi = hp[HP_B0], hp[HP_C0], hp[HP_NORM], hp[HP_HI]
    nh, nl, nih, nil = st[0, 0], st[0, 1], st[0, 2], st[0, 3]
    status = RUNNING
    taken = n
    for s in range(n):
        reg = region(two_region, split, ths, cur)
        nw = 1 - cur
        if kid == ST:
            for j in range(d):
                gs[cur, j] = st_grad1(r, ths[cur, j])
        elif kid == DW:            # inline, as grad_row computes it (its call made 1-D steps 80 ns, not 45: measured)
            gs[cur, 0] = dw_grad1(kp, ths[cur, 0])
        else:
            grad_row(kid, kp, ths, cur, gs)
        if opt == ADAM:
            p1 = pp[0] * b1
            p2 = pp[1] * b2
            c1 = 1.0 - p1
            c2 = 1.0 - p2
            # once 1 − p is exactly 1.0 it stays so (p only shrinks): p may then be 0.0, the same 1 − p, and
            # p never reaches the subnormals (where β·p sticks at the smallest one, each product a slow assist)
            pp[0] = 0.0 if c1 == 1.0 else p1
            pp[1] = 0.0 if c2 == 1.0 else p2
            i1 = 1.0 / c1                  # the reference's reciprocals: one division per step, not per coordinate
            i2 = 1.0 / c2
            for j in range(d):
                q = eta * gs[cur, j] - kicks[reg, s, j]
                m = b1 * sb[0, j] + c_b1 * q
                v = b2 * sb[1, j] + c_b2 * (q * q)
                sb[0, j] = m
                sb[1, j] = v
                ths[nw, j] = ths[cur, j] - eta * (m * i1) / (np.sqrt(v * i2) + ee)
        elif opt == PNM:
            ip, ineg = (0, 1) if (t0 + s + 1) % 2 == 1 else (1, 0)     # odd steps update m₁
            for j in range(d):
                q = eta * gs[cur, j] - kicks[reg, s, j]
                mp = b1 * sb[ip, j] + c_b1 * q
                sb[ip, j] = mp
                ths[nw, j] = ths[cur, j] - (c0 * mp - b0 * sb[ineg, j]) / nrm
        elif opt == ADAI:
            p2 = pp[1] * b2
            c2 = 1.0 - p2
            pp[1] = 0.0 if c2 == 1.0 else p2
            total = 0.0
            for j in range(d):
                q = eta * gs[cur, j] - kicks[reg, s, j]
                v = b2 * sb[1, j] + c_b2 * (q * q)
                sb[1, j] = v
                vh = v / c2
                sb[4, j] = vh
                sb[5, j] = q
                total += vh        # 0.0 + v̂₁ = v̂₁ exactly (v̂ ≥ 0 or NaN): the reference's sum from v̂₁
            mean = total / d
            for j in range(d):
                a = 1.0 - b0 * sb[4, j] / mean
                if a < 0.0:        # np.clip(a, 0, 1 − ε), NaN kept
                    a = 0.0
                elif a > hi:
                    a = hi
                m = a * sb[0, j] + (1.0 - a) * sb[5, j]
                pr = sb[2, j] * a
                cp_ = 1.0 - pr
                sb[2, j] = 0.0 if cp_ == 1.0 else pr
                sb[0, j] = m
                sb[3, j] = a
                ths[nw, j] = ths[cur, j] - m / cp_
        elif opt == NESTEROV:
            for j in range(d):
                q = eta * gs[cur, j] - kicks[reg, s, j]
                u = b1 * sb[0, j] + q
                sb[0, j] = u
                ths[nw, j] = ths[cur, j] - (q + b1 * u)
        else:
            for j in range(d):
                q = eta * gs[cur, j] - kicks[reg, s, j]
                u = b1 * sb[0, j] + q
                sb[0, j] = u
                ths[nw, j] = ths[cur, j] - u
        cur = nw
        for k in range(d):         # step s of the next block
            zt[0, k, s], nh, nl = pcg_normal(nh, nl, nih, nil)
        fin = 0.0
        for j in range(d):
            fin += ths[cur, j] - ths[cur, j]
        if fin != 0.0:
            status, taken = DIVERGED, s + 1
            break
        sv = _criterion_row(crit, cp, kid, kp, ths, cur)
        s_prev = sv
        if sv >= 0.0:
            status, taken = ESCAPED, s + 1
            break
    st[0, 0], st[0, 1] = nh, nl
    return cur, s_prev, status, taken


@njit(cache=True, nogil=True)
def overshot(kid, kp, opt, hp, olds, i, work, sb, p2, rates):
    """Whether an exit from θ = row i of ``olds`` is an overshoot for the step rule ``opt``: a gradient step at the
    rule's equivalent rate (:meth:`numerics.optimizers.StepRule.overshoot_rate`; Adam's from its state after the
    step: v = ``sb[1]``, p₂; Adai's η·(1 − β₁)/(1 + β₁) per coordinate from the step's β₁ = ``sb[3]``) raises L."""
    if opt == ADAM:
        for j in range(olds.shape[1]):
            rates[j] = adam_rate(hp, sb[1, j], p2)
        return uphill_rates(kid, kp, olds, i, work, rates)
    if opt == ADAI:
        for j in range(olds.shape[1]):
            rates[j] = hp[HP_ETA] * (1.0 - sb[3, j]) / (1.0 + sb[3, j])
        return uphill_rates(kid, kp, olds, i, work, rates)
    return uphill(kid, kp, olds, i, work, hp[HP_RATE])


@njit(cache=True, nogil=True)
def escape_nd_opt(kid, kp, start, eta, noise1, noise2, crit, cp, opt, hp, seed, offset, queue, i1, max_steps,
                  outputs, store_theta, two_region, split):
    """:func:`escape_nd` for the stateful step rules (heavy-ball or Nesterov momentum, Adam, PNM, Adai): any
    landscape, criterion and d (1 included), one particle at a time, without the bridge.

    The optimizer state (buffers, Adam's p₁ = β₁ᵗ and p₂ = β₂ᵗ by products, Adai's p₂ and Π = 1) is reset when a
    particle starts;
    the noise is drawn and multiplied by S a block ahead as in :func:`escape_nd`. An exit by a step from a θ
    where gradient descent at the rule's equivalent rate goes uphill counts as a divergence (:func:`overshot`).
    """
    sdiag, smat, use_diag = noise1
    sdiag2, smat2, use_diag2 = noise2
    d = start.shape[0]
    ths = np.empty((2, d))
    gs = np.empty((2, d))
    zt = np.empty((1, d, _NB))
    ub = np.empty((2, _NB))
    kicks = np.empty((2, _NB, d))
    acc = np.empty(_NB)
    st = np.zeros((1, 8), np.uint64)
    sb = np.zeros((6, d))                  # u (momentum) or m, v (Adam); PNM's m₁, m₂; Adai's m, v, Π, β₁, v̂, q
    pp = np.ones(2)                        # Adam's p₁, p₂
    rates = np.empty(d)
    s_start = criterion_value(crit, cp, kid, kp, start)
    while True:
        p = claim(queue)
        if p >= i1:
            break
        seed_lane(seed, offset + p, False, st, 0)
        for j in range(d):
            ths[0, j] = start[j]
            sb[0, j] = 0.0
            sb[1, j] = 0.0
            sb[2, j] = 1.0
        pp[0] = pp[1] = 1.0
        cur = 0
        s_prev = s_start
        t = 0
        status = RUNNING
        n = min(_NB_FIRST, max_steps)
        _draw_block(st, 0, 0, n, False, zt, ub)
        while True:
            _kick_block(zt, n, sdiag, smat, use_diag, kicks, 0, acc)
            if two_region:
                _kick_block(zt, n, sdiag2, smat2, use_diag2, kicks, 1, acc)
            n_next = min(2 * n, _NB, max_steps - t - n)
            cur, s_prev, status, taken = _steps_nd_opt(kid, kp, crit, cp, eta, opt, hp, two_region, split, ths, gs,
                                                       kicks, n, st, zt, cur, s_prev, sb, pp, t)
            t += taken
            if status != RUNNING or t >= max_steps:
                break
            if n_next > n:
                _draw_block(st, 0, n, n_next, False, zt, ub)
            n = n_next
        if status == ESCAPED and overshot(kid, kp, opt, hp, ths, 1 - cur, gs, sb, pp[1], rates):
            status = DIVERGED
        record(outputs, p, t, status, store_theta, ths, cur)
