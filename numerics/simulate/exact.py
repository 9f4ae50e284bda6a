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

__all__ = ["ExactRate", "exact_chain_rate"]

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
