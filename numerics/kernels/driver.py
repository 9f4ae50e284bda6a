"""Compiled fixed-noise escape simulation: argument checks, the choice of loop, the threads, the result type.

:func:`fixed_noise_escape`: θ ← θ − η∇L(θ) + S·ξ with a fixed (d, d) matrix S on a compiled built-in.
Four particles side by side in 4-wide (AVX2) vectors (:mod:`numerics.kernels.lanes`) for the common
cases: Styblinski–Tang with one plane or a radius (any d, one or two noise regions, dense or diagonal
S, bridge), and any 1-D landscape with one plane or a radius. Other cases step one particle at a time
per thread (two side by side in 1-D; :mod:`numerics.kernels.loops`), with the noise drawn and
multiplied by S a block ahead. Memory is O(n_runs) for the outputs only; several threads can run (the
loops release the GIL). The reference is the simulator's numpy loop run with this module's arguments
(:func:`numerics.simulate.reference.fixed_noise_reference`); both give the same exit steps and outcomes.

``optimizer="momentum"`` (heavy ball or Nesterov), ``"adam"``, ``"pnm"`` and ``"adai"`` apply that optimizer's
update (:mod:`numerics.optimizers`) to the same gradient and kick, with state per particle: the stateful loops
``loops.escape_nd_opt`` (any case; PNM and Adai always) and ``lanes.escape_lanes_opt`` (momentum and Adam on
Styblinski–Tang with one plane or a radius).

Stream use (particle ``i`` is stream index ``particle_offset + i``): ``NOISE`` gives d standard normals
per step, in coordinate order; ``AUX`` gives one uniform per step, every step, only when ``bridge=True``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import streams
from flatminima.numerics.kernels.lanes import escape_lanes, escape_lanes1, escape_lanes_opt
from flatminima.numerics.kernels.landscapes import ST, kernel_spec, loss_at
from flatminima.numerics.kernels.loops import (ADAI, ADAM, CRITERIA, DIVIDING, HEAVY_BALL, HP_A, HP_B0, HP_B1, HP_B2,
                                               HP_C0, HP_C1, HP_C2, HP_EE, HP_ETA, HP_HI, HP_NORM, HP_RATE,
                                               HP_TWO_ETA2, N_HP, NESTEROV, OPTIMIZERS, PNM, RADIUS, criterion_value,
                                               escape_1d, escape_nd, escape_nd_opt)
from flatminima.numerics.kernels.noise import check_positive, white_noise_matrix
from flatminima.numerics.kernels.rng import check_index, check_stream_backend, kernel_seed
from flatminima.numerics.kernels.threads import run_in_chunks
from flatminima.numerics.landscape import Landscape


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


def prepare(landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion,
            point, normal, center, radius, level, minimum_loss, particle_offset, bridge, loss_fn):
    """Validate the arguments shared by the compiled and reference simulators."""
    d = landscape.dim
    start = np.asarray(start, dtype=float)
    if start.shape != (d,) or not np.all(np.isfinite(start)):
        raise InputError(f"start must be a finite array of shape ({d},); got shape {start.shape}")
    eta = check_positive("eta", eta)
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
    if crit == DIVIDING:
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
        if crit == RADIUS:
            if radius is None:
                raise InputError("criterion 'radius' needs radius=")
            r = check_positive("radius", radius)
            c = start if center is None else np.asarray(center, float)
            if c.shape != (d,) or not np.all(np.isfinite(c)):
                raise InputError(f"center must be a finite array of shape ({d},)")
            cp = np.concatenate([c, [r * r]])
        else:
            if level is None:
                raise InputError("criterion 'loss_level' needs level=")
            lv = check_positive("level", level)
            la = float(loss_fn(start)) if minimum_loss is None else float(minimum_loss)
            if not np.isfinite(la):
                raise InputError(f"minimum_loss must be finite; got {la}")
            cp = np.array([la, lv])
    return start, eta, S, int(n_runs), int(max_steps), seed, crit, np.ascontiguousarray(cp), bridge_c, int(particle_offset)


def check_run(kid, kp, crit, cp, start, criterion, seed, offset, n_runs, workers) -> int:
    """The checks every compiled driver makes after :func:`prepare`; returns the kernel seed."""
    if criterion_value(crit, cp, kid, kp, start) >= 0:
        raise InputError(f"start already satisfies the {criterion} criterion")
    check_index("particle_offset + n_runs", offset + n_runs)
    if int(workers) != workers or workers < 1:
        raise InputError(f"workers must be an integer >= 1; got {workers}")
    return kernel_seed(seed)


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


def second_region(landscape, S, noise_matrix_after, split_point, split_normal, bridge, cp, crit):
    """(two regions?, split = [q, e], S2, bridge constant of S2): the second noise region, or inert placeholders
    when there is none."""
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
    if bridge and crit == DIVIDING:
        m = int(cp[0])
        c2 = _bridge_constant(S2, cp[1 + m * d:].reshape(m, d))
    return True, np.concatenate([q, e]), S2, c2


def _matrix_layout(S):
    """(use_diag, diagonal of S, Sᵀ contiguous) for the compiled noise application."""
    use_diag = bool(np.count_nonzero(S - np.diag(np.diag(S))) == 0)
    return use_diag, np.ascontiguousarray(np.diag(S).copy()), np.ascontiguousarray(S.T)


def optimizer_args(optimizer, optimizer_params, eta, bridge) -> tuple[int, np.ndarray]:
    """(step-rule id, hyper-parameter array ``hp`` of the stateful loops) for ``optimizer`` and its parameters.

    The parameters are checked as :class:`numerics.parts.Dynamics` checks them (β, β₁, β₂ in [0, 1), ε ≥ 0,
    ``nesterov`` a bool; defaults filled in); the overshoot rates come from
    :class:`numerics.optimizers.StepRule`, the numpy reference's rule. ``hp`` slots: ``loops.HP_*``; the
    constants the reference computes in Python (PNM's β₁², 1 − β₁², 1 + β₀, √((1+β₀)²+β₀²); Adai's 1 − β₂, 1 − ε)
    are computed here by the same expressions, so the loop uses the same doubles.
    """
    if optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)} for the compiled kernel; got {optimizer!r}")
    if optimizer_params is not None and not isinstance(optimizer_params, dict):
        raise InputError(f"optimizer_params must be a dict of hyper-parameters; got {type(optimizer_params).__name__}")
    params = dict(optimizer_params or {})
    if optimizer == "sgd":
        if params:
            raise InputError(f"optimizer_params do not apply to sgd; got {sorted(params)}")
        return 0, np.zeros(N_HP)
    from flatminima.numerics.optimizers import step_rule
    from flatminima.numerics.parts import OPTIMIZER_DEFAULTS, Dynamics

    allowed = OPTIMIZER_DEFAULTS[optimizer]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InputError(f"optimizer_params {', '.join(unknown)} do not apply to {optimizer} (its parameters: "
                         f"{', '.join(allowed)})")
    if bridge:
        raise InputError(f"bridge=True applies to sgd only (the bridge is SGD's diffusive-step correction); "
                         f"got optimizer {optimizer!r}")
    dyn = Dynamics(eta, optimizer, **params)
    rule = step_rule(dyn)
    hp = np.zeros(N_HP)
    h = rule.hyper
    if optimizer == "pnm":                # StepRule.step: b = h["momentum"] ** 2, ÷ np.sqrt((1 + β₀)² + β₀²)
        b, b0 = h["momentum"] ** 2, h["pnm_beta0"]
        hp[HP_B1], hp[HP_C1] = b, 1.0 - b
        hp[HP_B0], hp[HP_C0] = b0, 1.0 + b0
        hp[HP_NORM] = float(np.sqrt((1.0 + b0) ** 2 + b0 ** 2))
        hp[HP_A] = rule.stability_limit()
        hp[HP_RATE] = rule.overshoot_rate()       # 2η/A
        return PNM, hp
    if optimizer == "adai":               # overshoot rate η·(1 − β₁)/(1 + β₁) per coordinate, from the loop's β₁
        b2 = h["beta2"]
        hp[HP_B2], hp[HP_C2] = b2, 1.0 - b2
        hp[HP_B0], hp[HP_HI] = h["adai_beta0"], 1.0 - h["epsilon"]
        hp[HP_ETA] = rule.eta
        return ADAI, hp
    b1 = dyn.momentum
    hp[HP_B1], hp[HP_C1] = b1, 1.0 - b1
    hp[HP_A] = rule.stability_limit()
    if optimizer == "adam":
        b2 = dyn.beta2
        hp[HP_B2], hp[HP_C2] = b2, 1.0 - b2
        hp[HP_EE] = rule.eta * dyn.epsilon
        hp[HP_TWO_ETA2] = 2.0 * rule.eta * rule.eta
        return ADAM, hp
    hp[HP_RATE] = rule.overshoot_rate()
    return (NESTEROV if dyn.nesterov else HEAVY_BALL), hp


def _one_plane_or_radius(crit, cp) -> bool:
    return (crit == DIVIDING and cp[0] == 1.0) or crit == RADIUS


def _loop(kid, d, crit, cp, diagonal):
    """The compiled loop for a run: four lanes in vectors for one plane or a radius, on Styblinski–Tang
    or in 1-D (any 1-D S is diagonal); otherwise one particle at a time, two side by side in 1-D."""
    one_plane_or_radius = _one_plane_or_radius(crit, cp)
    if d == 1 and diagonal:
        return escape_lanes1 if one_plane_or_radius else escape_1d
    return escape_lanes if kid == ST and one_plane_or_radius else escape_nd


def fixed_noise_escape(landscape: Landscape, start, *, eta: float, noise_matrix=None, n_runs: int,
                       max_steps: int, seed: int, criterion: str, point=None, normal=None, center=None,
                       radius: float | None = None, level: float | None = None, minimum_loss: float | None = None,
                       particle_offset: int = 0, bridge: bool = False, temperature: float | None = None,
                       workers: int = 1, return_theta: bool = False, noise_matrix_after=None,
                       split_point=None, split_normal=None, optimizer: str = "sgd",
                       optimizer_params: dict | None = None) -> KernelEscape:
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
    optimizer : {"sgd", "momentum", "adam", "pnm", "adai"}
        The step rule (:mod:`numerics.optimizers`): ``sgd`` the update above; ``momentum``, ``adam``, ``pnm`` and
        ``adai`` apply their update to q = η∇L(θ) − S·ξ with per-particle state reset at the start, and the
        overshoot rule at the rule's equivalent gradient-descent rate
        (:meth:`numerics.optimizers.StepRule.overshoot_rate`). Not with ``bridge=True``.
    optimizer_params : dict, optional
        ``momentum``: ``momentum`` (β in [0, 1), default 0.9), ``nesterov`` (default False); ``adam``:
        ``momentum`` (β₁ in [0, 1), 0.9), ``beta2`` (β₂ in [0, 1), 0.999), ``epsilon`` (ε ≥ 0, 1e-8); ``pnm``:
        ``momentum`` (β₁ in [0, 1), 0.9), ``pnm_beta0`` (β₀ ≥ 0, 1.0); ``adai``: ``adai_beta0`` (β₀ > 0, 0.1),
        ``beta2`` (β₂ in [0, 1), 0.99), ``epsilon`` (ε in (0, 1), 1e-3).

    Returns
    -------
    KernelEscape
        ``(steps, escaped, diverged, theta)``.
    """
    kid, kp = kernel_spec(landscape)
    check_stream_backend()
    start, eta, S, n_runs, max_steps, seed, crit, cp, bridge_c, offset = prepare(
        landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion,
        point, normal, center, radius, level, minimum_loss, particle_offset, bridge,
        lambda th: loss_at(kid, kp, th))
    seed = check_run(kid, kp, crit, cp, start, criterion, seed, offset, n_runs, workers)
    opt, hp = optimizer_args(optimizer, optimizer_params, eta, bridge)
    d = landscape.dim
    two, split, S2, bridge_c2 = second_region(landscape, S, noise_matrix_after, split_point, split_normal,
                                              bridge, cp, crit)
    use_diag, sdiag, S_t = _matrix_layout(S)
    use_diag2, sdiag2, S2_t = _matrix_layout(S2)
    steps = np.empty(n_runs, np.int64)
    escaped = np.empty(n_runs, np.bool_)
    diverged = np.empty(n_runs, np.bool_)
    theta = np.empty((n_runs, d)) if return_theta else np.empty((1, d))

    noise1 = (sdiag, S_t, use_diag)
    noise2 = (sdiag2, S2_t, use_diag2)
    outputs = (steps, escaped, diverged, theta)
    if opt:
        lanes = kid == ST and _one_plane_or_radius(crit, cp) and opt not in (PNM, ADAI)
        block = escape_lanes_opt if lanes else escape_nd_opt

        def run(queue, i1):
            block(kid, kp, start, eta, noise1, noise2, crit, cp, opt, hp, seed, offset, queue, i1, max_steps,
                  outputs, bool(return_theta), two, split)
    else:
        block = _loop(kid, d, crit, cp, use_diag and use_diag2)

        def run(queue, i1):
            block(kid, kp, start, eta, noise1, noise2, crit, cp, bool(bridge), bridge_c, bridge_c2, seed, offset,
                  queue, i1, max_steps, outputs, bool(return_theta), two, split)

    run_in_chunks(run, n_runs, workers)
    return KernelEscape(steps, escaped, diverged, theta if return_theta else None)
