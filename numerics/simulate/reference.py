"""The numpy reference path of the simulator: batched steps, noise draws, exit tests and the overshoot rule.

It is the one numpy reference: ``simulate_escape`` runs it for ``backend="numpy"``, and
:func:`fixed_noise_reference` runs it with the arguments of the compiled kernels, which are tested
against it (same streams, same exit steps).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import criteria as _criteria
from flatminima.numerics import noise as _noise
from flatminima.numerics.errors import LandscapeError, NonFiniteLossError
from flatminima.numerics.streams import AUX, NOISE, particle_streams

# Bytes of pre-drawn variates per chunk (the buffer length adapts to it; results do not depend on it).
_BUFFER_BYTES = 64 * 2**20


def _safe(batch, single, X: np.ndarray, shape: tuple) -> np.ndarray:
    """batch(X) with floating-point warnings silenced; rows that are or give non-finite values become NaN.

    The fast path is one vectorised call; only when it reports a non-finite value (a diverging
    particle) are the rows evaluated one by one to find the culprits.
    """
    n = X.shape[0]
    out = np.full((n, *shape), np.nan)
    if n == 0:
        return out
    finite = np.isfinite(X).all(axis=1)
    with np.errstate(all="ignore"):
        if finite.all():
            try:
                return np.asarray(batch(X), float).reshape((n, *shape))
            except NonFiniteLossError:
                pass
        for i in np.flatnonzero(finite):
            try:
                out[i] = single(X[i])
            except NonFiniteLossError:
                pass
    return out


def step_inputs(landscape, eta: float) -> _noise.StepInputs:
    d = landscape.dim

    def grads(X):
        return _safe(landscape.grads, landscape.grad, X, (d,))

    def values(X):
        return _safe(landscape.values, landscape.value, X, ())

    def hessians(X):
        return _safe(landscape.hessians, landscape.hessian, X, (d, d))

    mb = None
    if landscape.minibatch_loss is not None and landscape.n_samples:
        from flatminima.numerics.samples import minibatch_gradients

        def mb(X, idx):
            out = np.full(X.shape, np.nan)
            if X.shape[0] == 0:
                return out
            with np.errstate(all="ignore"):
                try:
                    return minibatch_gradients(landscape, X, idx)
                except NonFiniteLossError:
                    pass
                for i in range(X.shape[0]):
                    try:
                        out[i] = minibatch_gradients(landscape, X[i:i + 1], idx[:, i:i + 1])[0]
                    except (NonFiniteLossError, LandscapeError):
                        pass
            return out
    return _noise.StepInputs(landscape, eta, grads, values, hessians, mb)



def overshoot(ctx, theta_old: np.ndarray, grad_old: np.ndarray | None, eta) -> np.ndarray:
    """True where a plain gradient step from θ raises L: the iteration is locally unstable there.

    ``eta`` is the step's rate: a float, or per particle and coordinate (n, d) for an optimizer's equivalent
    rate (:meth:`numerics.optimizers.StepRule.overshoot_rate`).

    For a quadratic, L(θ − ηg) − L(θ) = −η|g|²(1 − ηκ_g/2) with κ_g the curvature along g, so the
    loss goes up exactly when η·κ_g > 2 (docs/theory.md §Discretisation). An exit taken by such a step is an
    overshoot
    of an unstable iteration, reported as divergence, not as an escape.
    """
    if theta_old.shape[0] == 0:
        return np.zeros(0, bool)
    g = ctx.grads(theta_old) if grad_old is None else grad_old
    with np.errstate(all="ignore"):
        L0 = ctx.values(theta_old)
        L1 = ctx.values(theta_old - eta * g)
    return ~(L1 <= L0)


def run_chunk(ids, theta0, *, noise_model, crit, ctx, seed, max_steps, eta, bridge_on, buffer_steps,
               level, basin_values, rule=None):
    """Step particles ``ids`` from ``theta0`` until each exits, diverges or reaches ``max_steps``.

    ``rule`` (a :class:`numerics.optimizers.StepRule`, None for plain SGD) applies an optimizer's update to the
    noise model's kick, with state per particle; the overshoot test then uses its equivalent gradient-descent
    rate. Returns (steps, escaped, diverged, exit index, first crossing step, final θ).
    """
    n, d = theta0.shape
    if rule is not None:
        from flatminima.numerics.optimizers import StepRule
        rule = StepRule(rule.kind, rule.eta, rule.hyper)
        rule.start(n, d)
    steps = np.full(n, max_steps, dtype=np.int64)
    escaped = np.zeros(n, bool)
    diverged = np.zeros(n, bool)
    exit_index = np.full(n, -1, dtype=np.int64)
    first = np.full(n, -1, dtype=np.int64)
    final = np.array(theta0, float)
    gens = particle_streams(seed, ids, NOISE)
    aux = particle_streams(seed, ids, AUX) if bridge_on else None
    per_step = int(np.prod(noise_model.shape)) * 8
    theta = np.array(theta0, float)
    pos = np.arange(n)
    is_basin = crit.name == "basin"
    planes = crit.planes if is_basin else None
    step = 0
    while step < max_steps and pos.size:
        K = int(min(buffer_steps, max_steps - step, max(1, _BUFFER_BYTES // max(1, pos.size * per_step))))
        buf = noise_model.fill([gens[i] for i in pos], K)
        ubuf = np.stack([aux[i].random(K) for i in pos]) if bridge_on else None
        row = np.arange(pos.size)
        for k in range(K):
            if rule is None:
                out = noise_model.step(theta, buf[row, k], ctx)
                new, grad, along = out.theta, out.grad, out.along
            else:
                kick = noise_model.kick(theta, buf[row, k], ctx)
                with np.errstate(all="ignore"):
                    new = rule.step(theta, kick)
                if kick.bad is not None:
                    new[kick.bad] = np.nan
                grad, along = (kick.grad if kick.full else None), None
            step += 1
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(new).all(axis=1)
                if grad is not None:
                    bad |= ~np.isfinite(grad).all(axis=1)
            if is_basin:
                ex = np.zeros(pos.size, bool)
                idx = np.full(pos.size, -1, dtype=np.int64)
                cross = beyond = np.zeros(pos.size, bool)
                if planes is not None:
                    with np.errstate(invalid="ignore"):
                        beyond = ~bad & (planes.signed(new) >= 0).any(axis=1)
                    cross = beyond & (first[pos] < 0)
            elif crit.name == "loss_level":
                vals = ctx.values(new)
                with np.errstate(invalid="ignore"):
                    ex, idx = crit.test_values(vals)
                ex &= ~bad
            else:
                u = ubuf[row, k] if bridge_on else None
                with np.errstate(invalid="ignore"):
                    ex, idx = crit.test(theta, new, along if bridge_on else None, u)
                ex &= ~bad
            # an exit (or, for basin, a first crossing) by an unstable step is a divergence
            check = cross if is_basin else ex
            unstable = np.zeros(pos.size, bool)
            if check.any():
                sel = np.flatnonzero(check)
                rate = eta if rule is None else rule.overshoot_rate(sel)
                unstable[sel] = overshoot(ctx, theta[sel], None if grad is None else grad[sel], rate)
                if is_basin:
                    first[pos[sel[~unstable[sel]]]] = step
                else:
                    ex &= ~unstable
            div = bad | unstable
            if is_basin and beyond.any():
                # entering the ball of another known minimum is seen at every step (a cheap distance test for the
                # particles past a plane); the quench that finds unlisted minima runs every check_every steps
                sel = np.flatnonzero(beyond & ~div)
                inside, j = crit.nearest_ball(new[sel])
                won = inside & (j != 0)
                ex[sel[won]] = True
                idx[sel[won]] = j[won]
            if is_basin and (step % crit.check_every == 0 or step == max_steps):
                live = np.flatnonzero(~div)
                vals = ctx.values(new[live]) if basin_values else None
                cand = live[crit.pretest(new[live], vals)]
                won, lab = crit.landed(new[cand], ctx)
                ex[cand[won]] = True
                idx[cand[won]] = lab[won]
            # record
            done = np.flatnonzero(ex)
            steps[pos[done]] = step
            escaped[pos[done]] = True
            exit_index[pos[done]] = idx[done]
            final[pos[done]] = new[done]
            gone = np.flatnonzero(div)
            steps[pos[gone]] = step
            diverged[pos[gone]] = True
            final[pos[gone]] = theta[gone]
            keep = ~(ex | div)
            if not keep.all():
                theta, pos, row = new[keep], pos[keep], row[keep]
                if rule is not None:
                    rule.keep(keep)
            else:
                theta = new
            if pos.size == 0 or step == max_steps:
                break
    final[pos] = theta
    return steps, escaped, diverged, exit_index, first, final


# ====================================================================== the compiled kernels' reference
def fixed_noise_reference(landscape, start, *, eta: float, noise_matrix=None, n_runs: int, max_steps: int,
                          seed: int, criterion: str, point=None, normal=None, center=None,
                          radius: float | None = None, level: float | None = None,
                          minimum_loss: float | None = None, particle_offset: int = 0, bridge: bool = False,
                          temperature: float | None = None, return_theta: bool = False,
                          noise_matrix_after=None, split_point=None, split_normal=None, optimizer: str = "sgd",
                          optimizer_params: dict | None = None):
    """:func:`numerics.kernels.fixed_noise_escape` run by this module's numpy loop: the kernels' reference.

    Same arguments, checks and result (``KernelEscape``) as the kernel. The run is :func:`run_chunk`, the
    loop ``simulate_escape(..., execution=Execution(backend="numpy"))`` runs, with the kernel's matrix as
    noise (:class:`numerics.noise.FixedMatrixNoise`), the exit tests of :mod:`numerics.criteria`, and
    autograd losses and gradients (the landscape without its compiled kernel), so the compiled code is
    checked against code that shares none of it. Contract: the same exit steps and outcomes, except where
    a decision lies within a few ulps of its boundary (a statistic within rounding of 0, or a bridge
    uniform within rounding of its crossing probability), since the two sum in different orders.
    ``optimizer`` (a :data:`numerics.parts.DYNAMICS` kind) with ``optimizer_params`` (its hyper-parameters, defaults
    filled in) runs that optimizer's update (:mod:`numerics.optimizers`) instead of plain SGD.
    """
    from flatminima.numerics.kernels.driver import KernelEscape, prepare, second_region
    from flatminima.numerics.kernels.loops import DIVIDING, RADIUS

    start, eta, S, n_runs, max_steps, seed, crit, cp, _, offset = prepare(
        landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion, point, normal,
        center, radius, level, minimum_loss, particle_offset, bridge, lambda th: landscape.value(th))
    d = landscape.dim
    two, split, S2, _ = second_region(landscape, S, noise_matrix_after, split_point, split_normal, bridge, cp, crit)
    plain = replace(landscape, kernel=None)          # autograd, not the compiled losses and gradients
    ctx = step_inputs(plain, eta)
    sampler = _noise.FixedMatrixNoise(S, S2 if two else None, split[:d] if two else None, split[d:] if two else None)
    if crit == DIVIDING:
        m = int(cp[0])
        exit_test = _criteria.DividingSurface(cp[1:1 + m * d].reshape(m, d), cp[1 + m * d:].reshape(m, d),
                                              bridge=bool(bridge))
    elif crit == RADIUS:
        exit_test = _criteria.Radius(cp[:d], float(radius), bridge=False)
    else:
        exit_test = _criteria.LossLevel(cp[0] + cp[1], float("nan"))
    s = start[None, :]
    beyond = (exit_test.test_values(ctx.values(s))[0] if crit not in (DIVIDING, RADIUS)
              else exit_test.test(s, s)[0])
    if beyond[0]:
        raise InputError(f"start already satisfies the {criterion} criterion")
    rule = None
    if optimizer != "sgd":
        from flatminima.numerics.optimizers import step_rule
        from flatminima.numerics.parts import Dynamics
        rule = step_rule(Dynamics(eta, optimizer, **(optimizer_params or {})))
    with np.errstate(all="ignore"):
        steps, escaped, diverged, _, _, final = run_chunk(
            offset + np.arange(n_runs), np.tile(start, (n_runs, 1)), noise_model=sampler, crit=exit_test, ctx=ctx,
            seed=seed, max_steps=max_steps, eta=eta, bridge_on=bool(bridge), buffer_steps=256, level=None,
            basin_values=False, rule=rule)
    return KernelEscape(steps, escaped, diverged, final if return_theta else None)
