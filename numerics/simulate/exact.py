"""The exact escape rate of a 1-D run's discrete chain (``check --method exact``): a prepared run handed to
:func:`numerics.reference.chain_mfpt_1d`.

The chain is the one the simulator runs, θ' = θ − ηL'(θ) + σ(θ)ξ with σ² the noise model's per-step variance,
watched at whole steps (no Brownian bridge). Exits that the 1-D reference covers: ``dividing_surface`` (the plane
through the saddle, moved by plane_offset) and ``basin`` (the ball of capture_radius around the next minimum
beyond the saddle, entered from the saddle's side); one saddle; Gaussian noise. Runs that escape towards −θ are
solved on the mirrored coordinate y = −θ.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics.parts import Basin, Criterion, Dynamics, NoiseModel
from flatminima.numerics.reference.chain1d import chain_mfpt_1d
from flatminima.numerics.simulate.run import prepare_run

__all__ = ["ExactRate", "exact_chain_rate", "ExactSDERate", "exact_sde_rate_2d", "SDE_NOISES", "SDE_CRITERIA"]

LEFT_RISE = 40.0
"""The reflecting left end is put where L − L(a) is at least this many noise units σ²(a)/(2η)."""


@dataclass(frozen=True)
class ExactRate:
    """The exact mean exit time of a 1-D chain as a rate per unit SDE time, with its numerical relative error."""

    rate: float
    relative_error: float
    steps: float
    absorbing: float
    left: float
    mirrored: bool
    eta: float
    eta_lambda_max: float
    criterion: str
    notes: tuple = ()

    @property
    def rate_ci(self) -> tuple[float, float]:
        """The rate ± its numerical error (the reference's stated error; no sampling error)."""
        return self.rate * (1.0 - self.relative_error), self.rate * (1.0 + self.relative_error)


def exact_chain_rate(landscape, start, *, dynamics: Dynamics, noise: NoiseModel, criterion: Criterion,
                     basin: Basin | None = None, execution=None) -> ExactRate:
    """The escape rate of the run's 1-D discrete chain from ``start`` (module docstring); arguments as for
    :func:`numerics.simulate.simulate_escape` (``execution`` is accepted and ignored)."""
    if isinstance(dynamics, Dynamics) and dynamics.stateful:
        raise InputError(f"method exact solves the chain of θ alone; the {dynamics.kind} optimizer's state (momentum "
                         "buffers, moment estimates) makes the chain (θ, state), which it does not solve: use method "
                         "simulate")
    prep = prepare_run(landscape, start, dynamics=dynamics, noise=noise, criterion=criterion, n_runs=1,
                       max_steps=1, seed=0, basin=basin)
    if prep.d != 1:
        raise InputError(f"method exact needs a 1-D landscape (the exact discrete chain is 1-D); got dim {prep.d}")
    nm, g, crit, eta = prep.noise_model, prep.geom, prep.crit, prep.eta
    if not nm.gaussian:
        raise InputError(f"method exact needs Gaussian noise; {prep.noise} noise is not")
    if g.saddles.shape[0] != 1:
        raise InputError(f"method exact needs exactly one saddle (one way out); found {g.saddles.shape[0]}")
    sgn = 1.0 if g.directions[0][0] > 0 else -1.0
    a, b = float(g.minimum[0]), float(g.saddles[0][0])
    if crit.name == "dividing_surface":
        absorbing = sgn * float(np.atleast_2d(crit.points)[0][0])
    elif crit.name == "basin":
        beyond = [float(m[0]) for m in crit.minima[1:] if sgn * (float(m[0]) - b) > 0]
        if not beyond:
            raise InputError("method exact with the basin criterion needs a known minimum beyond the saddle")
        nxt = min(beyond, key=lambda m: abs(m - b))
        absorbing = sgn * nxt - float(crit.capture_radius)
    else:
        raise InputError(f"method exact covers the criteria dividing_surface and basin; got {crit.name}")
    notes = []
    if prep.bridge_on:
        notes.append("the exact chain looks at the exit only at whole steps; the simulator's Brownian bridge also "
                     "counts crossings between steps (a faster exit by O(√η))")
    ctx = prep.ctx

    def x_of(y):
        return (sgn * np.atleast_1d(np.asarray(y, float)))[:, None]

    def grad_y(y):
        return sgn * ctx.grads(x_of(y))[:, 0]

    def sigma_y(y):
        X = x_of(y)
        return np.sqrt(np.array([nm.covariance(x, ctx)[0, 0] for x in X]))

    y_a = sgn * a
    width = abs(b - a)
    d_a = float(sigma_y(y_a)[0]) ** 2 / (2 * eta)
    left = y_a - width
    for _ in range(40):
        if float(ctx.values(x_of(left))[0]) - g.loss_minimum >= LEFT_RISE * d_a:
            break
        left -= width
    else:
        notes.append(f"the loss rises less than {LEFT_RISE:g} noise units within 40 basin widths behind the minimum: "
                     "the reflecting end may hold back the chain")
    res = chain_mfpt_1d(grad_y, sigma_y, eta=eta, start=sgn * float(prep.starts[0][0]), absorbing=absorbing,
                        left=left)
    return ExactRate(rate=res.rate, relative_error=res.relative_error, steps=res.steps, absorbing=sgn * absorbing,
                     left=sgn * left, mirrored=sgn < 0, eta=eta, eta_lambda_max=prep.eta_lam, criterion=crit.name, notes=tuple(notes))


# ---------------------------------------------------------------------- 2-D: the SDE's exact generator
SDE_NOISES = ("white", "hessian_fixed")
"""Noise models with a constant covariance: their SDE's backward generator is solved exactly in 2-D."""

SDE_CRITERIA = ("basin", "dividing_surface")
"""Exit criteria whose exit set the 2-D generator represents (balls around minima, half-planes)."""

BOX_RISE = 20.0
"""The reflecting box is grown until L − L(a) on its edges is at least this many units of D's largest eigenvalue
(the stationary density there is below e^(−20) of its peak)."""


@dataclass(frozen=True)
class ExactSDERate:
    """The exact mean exit time of a 2-D run's SDE limit (η → 0) as a rate per unit SDE time, with its error."""

    rate: float
    relative_error: float
    diffusion: np.ndarray
    bounds: tuple
    grid: tuple
    criterion: str
    notes: tuple = ()

    def to_dict(self) -> dict:
        return {"rate": float(self.rate), "relative_error": float(self.relative_error),
                "rate_ci": [float(self.rate * (1 - self.relative_error)), float(self.rate * (1 + self.relative_error))],
                "grid": list(self.grid), "bounds": [list(b) for b in self.bounds], "criterion": self.criterion,
                "method": "exact backward generator of the SDE dθ = −∇L dt + √(2D) dW (η → 0), monotone finite "
                          "differences with Richardson over two grids (numerics.reference.mfpt_2d)",
                "notes": list(self.notes)}


GRIDS = (61, 91, 121, 181, 241, 321)
"""Coarse grids tried in turn (each solved with its refinement, for the two-grid error)."""


def exact_sde_rate_2d(landscape, start, *, dynamics: Dynamics, noise: NoiseModel, criterion: Criterion,
                      basin: Basin | None = None, execution=None, rtol: float = 0.01,
                      max_grid: int = GRIDS[-1]) -> ExactSDERate:
    """The escape rate of the SDE limit of a 2-D run with constant noise, from the exact backward generator.

    The run's per-step covariance Σ gives D = Σ/(2η); the exit set is the run's criterion: ``basin``, the balls
    of ``capture_radius`` around the other known minima; ``dividing_surface``, the half-planes beyond the planes.
    The reflecting box covers the minima and saddles and grows until the loss on its edges is ``BOX_RISE`` noise
    units above L(a). The generator is solved in the eigenbasis of D with the exit set fitted on the grid links
    (``mfpt_2d(frame="eigen")``, globally second order), on grids of 61² and up (to ``max_grid``²) until the
    two-grid error is below ``rtol``; the error stated is the last grid's, whatever it is.
    """
    from flatminima.numerics.reference import mfpt_2d

    prep = prepare_run(landscape, start, dynamics=dynamics, noise=noise, criterion=criterion, n_runs=1,
                       max_steps=1, seed=0, basin=basin)
    if prep.d != 2:
        raise InputError(f"the exact SDE generator is solved in 2-D; got dim {prep.d}")
    if prep.noise not in SDE_NOISES or prep.rule is not None:
        raise InputError(f"the exact SDE generator needs SGD or SGLD with constant noise ({', '.join(SDE_NOISES)}); "
                         f"got {prep.noise}" + (" with a stateful optimizer" if prep.rule is not None else ""))
    crit, g, eta, ctx = prep.crit, prep.geom, prep.eta, prep.ctx
    a = np.asarray(g.minimum, float)
    D = np.asarray(prep.noise_model.covariance(a, ctx), float) / (2.0 * eta)
    if crit.name == "basin":
        others = np.asarray(crit.minima, float)[1:]
        if not len(others):
            raise InputError("the basin criterion needs another known minimum for the exact SDE generator")
        radius = float(crit.capture_radius)

        def absorbing(X):
            return np.min(np.linalg.norm(X[:, None, :] - others[None], axis=2), axis=1) <= radius
    elif crit.name == "dividing_surface":
        def absorbing(X):
            return np.any(crit.signed(X) >= 0.0, axis=1)
        others = np.asarray(crit.points, float)
    else:
        raise InputError(f"the exact SDE generator covers the criteria {' and '.join(SDE_CRITERIA)}; got {crit.name}")
    pts = np.vstack([a[None], np.asarray(g.saddles, float), others])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.5 * float(np.max(hi - lo)) + 1e-9
    scale = float(np.linalg.eigvalsh(D)[-1])
    notes = []
    for _ in range(12):
        edge = np.linspace(0.0, 1.0, 101)
        box = [(lo[0] - pad, hi[0] + pad), (lo[1] - pad, hi[1] + pad)]
        ring = np.vstack([np.c_[box[0][0] + edge * (box[0][1] - box[0][0]), np.full(101, y)] for y in box[1]]
                         + [np.c_[np.full(101, x), box[1][0] + edge * (box[1][1] - box[1][0])] for x in box[0]])
        if float(np.min(ctx.values(ring))) - g.loss_minimum >= BOX_RISE * scale:
            break
        pad *= 1.5
    else:
        notes.append(f"the loss on the box's edges rises less than {BOX_RISE:g} noise units: the reflecting edges "
                     "may hold the process back")
    result = None
    for n in [m for m in GRIDS if m <= max_grid] or [GRIDS[0]]:
        result = mfpt_2d(lambda X: ctx.grads(X), D, bounds=box, shape=(n, n), absorbing=absorbing,
                         start=tuple(a), rate=False, frame="eigen")
        if result.escape_time_error <= rtol * result.escape_time:
            break
    else:
        notes.append(f"the two-grid error is {result.escape_time_error / result.escape_time:.2%} on the finest grid "
                     f"{n}², above {rtol:.0%}")
    T, err = float(result.escape_time), float(result.escape_time_error)
    return ExactSDERate(rate=1.0 / T, relative_error=err / T, diffusion=D, bounds=tuple(box), grid=(n, n),
                        criterion=crit.name, notes=tuple(notes))
