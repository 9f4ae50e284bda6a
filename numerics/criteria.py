"""Exit criteria of the escape simulator: when has a particle left the basin of the minimum a?

Four criteria (docs/theory.md §Escape criteria), each a different event with a different mean time
(docs/theory.md §Criterion and sharpness, §Which escape time):

- ``dividing_surface``: the particle crossed a hyperplane through a saddle b, normal to the escape
  direction e (optionally shifted along e). With Gaussian noise the crossing is detected for the
  continuous Euler path between two steps too (Brownian-bridge correction); the mean time to the
  plane through b is about half the Kramers time (docs/theory.md §Which escape time).
- ``basin``: the transition is complete: a deterministic quench (gradient descent) started from the
  particle ends in another minimum. This is the event whose mean time Kramers-type laws predict
  (docs/theory.md §Which escape time) and the default for rate comparisons.
- ``loss_level``: L(θ) − L(a) ≥ fraction·ΔL (reparametrization invariant, docs/theory.md §Criterion and sharpness).
- ``radius``: ‖θ − θ_a‖ ≥ r (Ibayashi & Imaizumi's criterion; not invariant,
  docs/theory.md §Criterion and sharpness, §Ibayashi and Imaizumi's code).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CRITERIA = ("dividing_surface", "basin", "loss_level", "radius")
"""Names of the exit criteria (docs/theory.md §Escape criteria)."""


def bridge_crossing_probability(d0: np.ndarray, d1: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """P(the continuous path crossed a plane between two steps that both end on the near side).

    For a Brownian motion with constant drift and variance σ² per step along the plane normal,
    conditioned on its end points at distances d0 > 0 and d1 > 0 from the plane, the probability
    that it touched the plane in between is

        p = exp(−2·d0·d1/σ²),

    the maximum of a Brownian bridge, by the reflection principle (e.g. A. N. Borodin & P. Salminen,
    Handbook of Brownian Motion, 2nd ed. 2002, Part II, formula 1.1.8 for the bridge maximum; used
    for Euler schemes by P. Baldi, Ann. Appl. Probab. 5, 1995 and E. Gobet, Stoch. Proc. Appl. 87,
    167 (2000)). The drift drops out of the bridge, so for an Euler step (drift and diffusion
    frozen at the start of the step) the formula is exact for the linearly interpolated SDE path.
    White noise: σ² = 2Dη·|n|² (n a unit normal); general Gaussian noise: σ² = nᵀΣn.

    Parameters
    ----------
    d0, d1 : ndarray
        Distances to the plane (positive on the near side) before and after the step.
    variance : ndarray
        σ² along the normal, broadcastable to d0.
    """
    d0, d1, variance = np.broadcast_arrays(np.asarray(d0, float), np.asarray(d1, float), np.asarray(variance, float))
    p = np.zeros(d0.shape)
    ok = (d0 > 0) & (d1 > 0) & (variance > 0)
    with np.errstate(over="ignore", under="ignore"):
        p[ok] = np.exp(-2.0 * d0[ok] * d1[ok] / variance[ok])
    return p


@dataclass
class DividingSurface:
    """Hyperplanes {θ : (θ − p_j)·n_j = 0}; a particle exits when (θ − p_j)·n_j ≥ 0 for some j.

    Parameters
    ----------
    points : ndarray (S, d)
        A point on each plane (the saddle b_j, or b_j + offset·e_j).
    normals : ndarray (S, d)
        Unit normals pointing away from the minimum (the escape directions e_j).
    bridge : bool
        Apply the Brownian-bridge crossing correction (Gaussian noise only).
    """

    points: np.ndarray
    normals: np.ndarray
    bridge: bool = True
    name: str = "dividing_surface"

    def signed(self, theta: np.ndarray) -> np.ndarray:
        """(θ − p_j)·n_j for every particle and plane, shape (n, S); ≥ 0 means beyond plane j."""
        return np.einsum("nsd,sd->ns", theta[:, None, :] - self.points[None, :, :], self.normals)

    def test(self, theta_old, theta_new, along=None, u=None):
        """Which particles exited during the step, and through which plane.

        Parameters
        ----------
        theta_old, theta_new : ndarray (n, d)
        along : callable or None
            The step's noise variance along unit normals (``StepOutput.along``); None disables
            the bridge correction.
        u : ndarray (n,) or None
            One aux-stream uniform per particle for this step (used only with the bridge).

        Returns
        -------
        exited : ndarray of bool (n,)
        index : ndarray of int (n,)
            The plane crossed (the one with the largest signed distance; for a bridge crossing the
            plane nearest after the step); −1 where not exited.
        """
        s1 = self.signed(theta_new)
        nearest = np.argmax(s1, axis=1)
        exited = (s1 >= 0).any(axis=1)
        index = np.where(exited, nearest, -1)
        if self.bridge and along is not None and u is not None:
            # the exit region is the union of the half-spaces; its distance is the nearest plane's, before
            # (d0) and after (d1) the step, with the noise variance along the plane nearest after it (the
            # compiled kernels' rule; exact when one plane dominates, as for saddles of different paths)
            rows = np.arange(len(s1))
            d0 = -np.max(self.signed(theta_old), axis=1)
            variance = np.broadcast_to(along(self.normals), s1.shape)
            p = bridge_crossing_probability(d0, -s1[rows, nearest], variance[rows, nearest])
            hit = ~exited & (u < p)
            index = np.where(hit, nearest, index)
            exited = exited | hit
        return exited, index

    def params(self) -> dict:
        return {"planes": self.points.tolist(), "normals": self.normals.tolist(), "bridge": bool(self.bridge)}


@dataclass
class Radius:
    """Exit when ‖θ − center‖ ≥ radius (docs/theory.md §Criterion and sharpness, check C11).

    The bridge correction uses the tangent plane of the sphere at the radial direction of the
    step's start: d = r − ‖θ − c‖ before and after, σ² along that direction. Exact for a plane,
    a good approximation when the step is small compared with r.
    """

    center: np.ndarray
    radius: float
    bridge: bool = True
    name: str = "radius"

    def test(self, theta_old, theta_new, along=None, u=None):
        r1 = np.linalg.norm(theta_new - self.center, axis=1)
        exited = r1 >= self.radius
        if self.bridge and along is not None and u is not None:
            diff = theta_old - self.center
            r0 = np.linalg.norm(diff, axis=1)
            n = np.where(r0[:, None] > 0, diff / np.where(r0 > 0, r0, 1.0)[:, None], 0.0)
            n[r0 == 0, 0] = 1.0
            p = bridge_crossing_probability(self.radius - r0, self.radius - r1, along(n[:, None, :])[:, 0])
            exited = exited | (u < p)
        return exited, np.where(exited, 0, -1)

    def params(self) -> dict:
        return {"center": np.asarray(self.center).tolist(), "radius": float(self.radius), "bridge": bool(self.bridge)}


@dataclass
class LossLevel:
    """Exit when L(θ) ≥ level, with level = L(a) + fraction·ΔL (docs/theory.md §Criterion and sharpness)."""

    level: float
    fraction: float
    name: str = "loss_level"

    def test_values(self, values_new: np.ndarray):
        exited = values_new >= self.level
        return exited, np.where(exited, 0, -1)

    def params(self) -> dict:
        return {"level": float(self.level), "fraction": float(self.fraction)}


@dataclass
class BasinExit:
    """The transition is complete: the particle is in a small ball around another minimum; checked every ``check_every`` steps.

    At each check step the particles that pass a cheap pre-test (beyond any dividing plane through a
    saddle of a's basin, or L(θ) ≥ ``pre_level``; with neither known, every particle) are examined:
    a particle counts as escaped when it lies within ``capture_radius`` of a known minimum other
    than a, or, when it is near none, when a deterministic quench (:func:`quench`) from it converges
    to a point that is no known minimum (an unlisted minimum) and the particle lies within
    ``capture_radius`` of that point. This is the hitting time of a small ball around the next
    minimum (Bovier et al. 2004, docs/theory.md §Eyring-Kramers law), whose mean is the full Kramers time
    (docs/theory.md §Which escape time).

    Why not "its quench lands in another minimum": a particle just past the saddle quenches into the
    other basin but still recrosses with probability about ½, so that event has a mean time between
    the saddle MFPT (½ the Kramers time) and the Kramers time, depending on ``check_every``
    (measured on θ⁴/4 − θ²/2 at ΔL/D = 4, η = 0.05, 500 runs, mean SDE times ± ~5%: plane through
    the saddle 127, quench-lands-elsewhere 175, ball around the other minimum 253, plane through the
    other minimum 255; exact MFPT to the other minimum 277.1, docs/theory.md table T2).

    Resolution and bias: when planes through the saddles exist, a particle past one of them is tested
    against the balls of the known minima at every step (the numpy path), so entering a known minimum's
    ball is recorded at the step it happens; only the quench that finds unlisted minima waits for the
    checks. Before, every test waited for the checks, and a check interval of 0.5 SDE time units missed
    most visits to a shallow neighbouring well: on Müller–Brown at ΔL/T = 5 (exact SDE rate 1.32 ± 1%)
    brute force measured 0.18. Without planes, or for an unlisted minimum, the recorded step is the
    first check at or after the particle entered the ball, late by less than ``check_every`` steps:
    keep ``check_every``·η small compared with the mean escape time then. The first-crossing step of
    the planes (no bridge correction) is recorded too, when planes exist.

    Parameters
    ----------
    minima : ndarray (M, d)
        Known minima; row 0 is a.
    capture_radius : float
        Radius of the ball around each minimum.
    planes : DividingSurface or None
        Planes through the saddles (the pre-test and the first-crossing record).
    pre_level : float or None
        Absolute loss above which a particle is examined.
    check_every : int
    quench_steps, quench_step, loss_scale
        Passed to :func:`quench`.
    """

    minima: np.ndarray
    capture_radius: float
    planes: DividingSurface | None
    pre_level: float | None
    check_every: int
    quench_steps: int = 5000
    quench_step: float = 1.0
    loss_scale: float = 1.0
    name: str = "basin"

    def nearest_ball(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(inside (n,), j (n,)): whether each particle lies within capture_radius of a known minimum, and which
        (the nearest); non-finite rows are inside none."""
        with np.errstate(invalid="ignore"):
            dist = np.linalg.norm(theta[:, None, :] - self.minima[None, :, :], axis=2)
            dist = np.where(np.isfinite(dist), dist, np.inf)
        j = np.argmin(dist, axis=1)
        return dist[np.arange(theta.shape[0]), j] < self.capture_radius, j

    def landed(self, theta: np.ndarray, ctx) -> tuple[np.ndarray, np.ndarray]:
        """(escaped (n,), index (n,)) for particles at a check: index into ``minima``, −2 unlisted, −1 none."""
        n = theta.shape[0]
        won = np.zeros(n, bool)
        index = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return won, index
        inside, j = self.nearest_ball(theta)
        won[inside & (j != 0)] = True
        index[inside] = j[inside]
        rest = np.flatnonzero(~inside)
        if rest.size:
            labels, ends = quench(ctx.values, ctx.grads, theta[rest], self.minima, self.capture_radius,
                                  step=self.quench_step, max_steps=self.quench_steps, loss_scale=self.loss_scale)
            new_min = (labels == -2) & (np.linalg.norm(theta[rest] - ends, axis=1) < self.capture_radius)
            won[rest[new_min]] = True
            index[rest[new_min]] = -2
        index[~won] = -1
        return won, index

    def pretest(self, theta: np.ndarray, values: np.ndarray | None) -> np.ndarray:
        """Which particles to quench at a check (bool (n,))."""
        if self.planes is None and self.pre_level is None:
            return np.ones(theta.shape[0], bool)
        out = np.zeros(theta.shape[0], bool)
        if self.planes is not None:
            out |= (self.planes.signed(theta) >= 0).any(axis=1)
        if self.pre_level is not None and values is not None:
            out |= values >= self.pre_level
        return out

    def params(self) -> dict:
        return {"minima": self.minima.tolist(), "capture_radius": float(self.capture_radius),
                "check_every": int(self.check_every), "pre_level": self.pre_level,
                "planes": None if self.planes is None else self.planes.points.tolist()}


def quench(values, grads, X: np.ndarray, minima: np.ndarray, capture_radius: float, *, step: float,
           loss_scale: float, max_steps: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic gradient descent from each row of X until it is captured by a known minimum.

    Per-particle step size s with backtracking: a step is accepted only when it lowers L by at least
    ½·s·‖∇L‖² minus a round-off slack (Armijo with c = ½), else refused and s halved; an accepted
    step grows s by 1.25 (up to 4× ``step``). For a quadratic the Armijo test holds exactly when
    s·κ ≤ 1 (κ the curvature along ∇L), so an accepted step never overshoots the minimum along its
    direction: the descent does not jump over a ridge into another basin.

    Parameters
    ----------
    values, grads : callable
        Batched L (n,) and ∇L (n, d) of rows (n, d); non-finite results as NaN.
    X : ndarray (n, d)
        Start points.
    minima : ndarray (M, d)
    capture_radius : float
        A quench within this distance of ``minima[j]`` ends there.
    step : float
        Initial step (about 1/λ_max of the Hessian at the minimum).
    loss_scale : float > 0
        A loss difference that matters (e.g. the barrier): a quench not captured by a known minimum
        has converged to an unlisted one when ‖∇L‖·capture_radius ≤ 1e-6·loss_scale, i.e. the loss
        could change by at most a millionth of it within the capture radius.
    max_steps : int

    Returns
    -------
    labels : ndarray of int (n,)
        j when captured by ``minima[j]``; −2 converged elsewhere (an unlisted critical point);
        −1 undecided within ``max_steps`` (or non-finite, or no descent even with steps 1e-20·``step``).
    X_end : ndarray (n, d)
    """
    X = np.array(X, float)
    n = X.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels, X
    s = np.full(n, float(step))
    gtol = 1e-6 * float(loss_scale) / float(capture_radius)
    with np.errstate(all="ignore"):
        L = values(X)
        G = grads(X)
        live = np.isfinite(L) & np.isfinite(G).all(axis=1)
        act = np.flatnonzero(live)
        for _ in range(int(max_steps) + 1):
            if act.size == 0:
                break
            dist = np.linalg.norm(X[act, None, :] - minima[None, :, :], axis=2)
            j = np.argmin(dist, axis=1)
            caught = dist[np.arange(act.size), j] < capture_radius
            labels[act[caught]] = j[caught]
            g2 = np.sum(G[act] ** 2, axis=1)
            flat = ~caught & (np.sqrt(g2) <= gtol)
            labels[act[flat]] = -2
            keep = ~(caught | flat)
            act, g2 = act[keep], g2[keep]
            if act.size == 0:
                break
            trial = X[act] - s[act, None] * G[act]
            Lt = values(trial)
            slack = 8 * np.finfo(float).eps * np.maximum(np.abs(L[act]), np.abs(np.where(np.isfinite(Lt), Lt, 0.0)))
            ok = np.isfinite(Lt) & (Lt <= L[act] - 0.5 * s[act] * g2 + slack)   # Armijo (c = ½), round-off slack
            acc = act[ok]
            X[acc] = trial[ok]
            L[acc] = Lt[ok]
            if acc.size:
                G[acc] = grads(X[acc])
            s[acc] = np.minimum(s[acc] * 1.25, 4.0 * step)
            s[act[~ok]] *= 0.5
            bad = ~np.isfinite(G[act]).all(axis=1) | (s[act] < 1e-20 * step)     # hopeless: far out on a steep wall
            act = act[~bad]
    return labels, X
