"""Escape rates by adaptive multilevel splitting (AMS): rates far below what brute force can reach.

The discrete chain that SGD or SGLD runs (any dynamics, noise model, criterion and landscape the numpy
simulator runs) is a Markov chain, so the generalized AMS of Bréhier, Gazeau, Goudenège, Lelièvre &
Rousset (Ann. Appl. Probab. 26, 3559 (2016)) estimates without bias, for any score ξ and any number N of
replicas, the probability p that the chain started on a surface Σ reaches the product set B (the exit
criterion) before it comes back to the reactant set A around the minimum:

1. N replicas start from states on Σ and run until they return to A or reach B (ξ = +∞ in B).
2. Level Z = the k-th smallest of the replicas' maximal scores; every replica with maximum ≤ Z is killed
   (ties included; K of them). If K = N, p̂ = 0.
3. Each killed replica is replaced by a clone of a survivor chosen uniformly, copied up to its first state
   with ξ strictly above Z (the branch point, kept in the clone's record) and continued with fresh noise.
4. Repeat until Z = +∞; then p̂ = (N_B/N)·Π_q (1 − K_q/N), N_B the replicas in B.

Rate (Cérou, Guyader, Lelièvre & Pommier, J. Chem. Phys. 134, 054108 (2011)): free particles in the basin
cross Σ (after a visit to A) at a rate ν per step (measured by brute force, the "loops" A → Σ → A), and each
crossing leads to B before A with probability p; the mean exit time from the minimum is

    E[T] = (1/p − 1)·T_loop + T_(A→Σ) + T_(Σ→B),    T_loop = 1/ν,

and the rate is 1/(η·E[T]) per unit SDE time. Its error combines the spread of p̂ over independent AMS runs
and the spread of the crossing counts over the loop walkers (docs/theory.md §Rare-event sampling).

Score (``score``): ``projection`` (default when saddles are known) is max_j (θ − a)·e_j / (b_j − a)·e_j, 0 at
the minimum and 1 at each saddle; ``path`` (given the minimum energy paths) is the arc-length
fraction of θ's nearest point on the nearest path a → b_j (continued past b_j along e_j), which follows a curved
valley where a straight projection does not; ``distance`` is ‖θ − a‖/r (radius criterion); ``loss`` is
(L(θ) − L(a))/(level − L(a)) (loss_level criterion). A = {ξ ≤ z_A}, Σ = {ξ ≥ z_Σ}; by default z_A and z_Σ are
the 50% and 90% quantiles of ξ at equilibrium in the basin (measured), which keeps the loops short.
Each replica stores only its record states (a new running maximum of ξ): the branch point at a level is always one.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from flatminima.errors import InputError
from flatminima.numerics.parts import Basin, Criterion, Dynamics, NoiseModel, positive_int
from flatminima.numerics.simulate.reference import overshoot
from flatminima.numerics.simulate.run import PreparedRun, prepare_run

__all__ = ["AMSResult", "AMSStallWarning", "SCORES", "ams_escape"]

SCORES = ("auto", "projection", "path", "distance", "loss")
"""Names of the AMS scores (module docstring)."""

_Z95 = 1.959963984540054
BURN_LOOPS = 3
"""Σ crossings per loop walker, on average, before its counting window starts (see ``_loops``)."""


class AMSStallWarning(UserWarning):
    """An AMS run hit its iteration cap or all its replicas were killed: its p̂ is 0."""


@dataclass(frozen=True, eq=False)
class AMSResult:
    """An escape rate measured by adaptive multilevel splitting, with its 95% interval and how it was made.

    Units: ``rate`` and ``rate_ci`` are per unit SDE time (t = step·η); ``loop_steps`` and the other times are
    in steps. ``probability`` is p = P(B before A | start on Σ), the mean of the ``probability_runs`` of the
    independent AMS runs; ``relative_variance`` is their variance over p², ``ideal_relative_variance`` the
    value p^(−1/N) − 1 of the ideal score (the committor), so their ratio says how good the score is.
    """

    rate: float
    rate_ci: tuple
    log_rate_stderr: float
    probability: float
    probability_stderr: float
    probability_runs: np.ndarray = field(repr=False)
    iterations: np.ndarray = field(repr=False)
    loop_steps: float = 0.0
    loop_steps_stderr: float = 0.0
    n_loops: int = 0
    steps_to_sigma: float = 0.0
    steps_sigma_to_b: float = 0.0
    mean_exit_steps: float = 0.0
    score: str = "projection"
    level_a: float = 0.0
    level_sigma: float = 0.0
    n_replicas: int = 0
    n_ams_runs: int = 0
    kill_count: int = 1
    ideal_relative_variance: float = 0.0
    relative_variance: float = 0.0
    n_stalled: int = 0
    n_extinct: int = 0
    n_diverged: int = 0
    n_unfinished: int = 0
    n_direct: int = 0
    particle_steps: int = 0
    wall_seconds: float = 0.0
    seed: int = 0
    landscape: str = ""
    dim: int = 0
    noise: str = ""
    criterion: str = ""
    eta: float = 0.0
    temperature: float | None = None
    batch_size: int | None = None
    loss_unit: float = 1.0
    minimum: np.ndarray = field(default=None, repr=False)
    saddles: np.ndarray = field(default=None, repr=False)
    barrier: float | None = None
    h_ae: float | None = None
    h_be: float | None = None
    eta_lambda_max: float = 0.0
    discretization_dominated: bool = False
    notes: tuple = ()
    method: str = "ams"

    @property
    def rate_per_step(self) -> float:
        """The rate per iteration (= rate·η)."""
        return self.rate * self.eta


# ====================================================================== one step of the chain
class _Chain:
    """The chain of a prepared run, stepped for any batch of states: θ' = step(θ, fresh noise), B-test, divergence."""

    def __init__(self, prep: PreparedRun, score: str, paths=None):
        self.prep = prep
        self.crit = prep.crit
        self.nm = prep.noise_model
        self.ctx = prep.ctx
        self.eta = prep.eta
        g = prep.geom
        self.a = g.minimum
        self.score_name = score
        if score == "projection":
            if g.saddles.shape[0] == 0:
                raise InputError("score='projection' needs a saddle (pass saddle, or use score='distance' with the "
                                 "radius criterion)")
            scale = np.einsum("sd,sd->s", g.saddles - self.a, g.directions)
            if not np.all(scale > 0):
                raise InputError("the projection score does not separate A from B: an escape direction e_j does not "
                                 "point from the minimum to its saddle ((b_j − a)·e_j <= 0)")
            self.normals = g.directions / scale[:, None]
        elif score == "path":
            if not paths:
                raise InputError("score='path' needs the minimum energy paths (paths=[(n, d) arrays from a to b_j])")
            self._paths = [self._polyline(np.asarray(P, float), j) for j, P in enumerate(paths)]
        elif score == "distance":
            if prep.radius is None:
                raise InputError("score='distance' needs the radius criterion (it is ‖θ − a‖/radius)")
        elif score == "loss":
            if prep.level is None:
                raise InputError("score='loss' needs the loss_level criterion (it is (L − L(a))/(level − L(a)))")
            self.level_rise = prep.level - g.loss_minimum
            if not self.level_rise > 0:
                raise InputError("the loss score does not separate A from B: the exit level is not above L(a)")

    def _polyline(self, P: np.ndarray, j: int):
        """(start points, segment vectors, cumulative arc length at starts, total to b) of a path, continued past b."""
        g = self.prep.geom
        if P.ndim != 2 or P.shape[1] != self.prep.d or P.shape[0] < 2 or not np.all(np.isfinite(P)):
            raise InputError(f"paths[{j}] must be a finite (n >= 2, {self.prep.d}) array from the minimum to a saddle")
        seg = np.diff(P, axis=0)
        lengths = np.linalg.norm(seg, axis=1)
        total = float(lengths.sum())
        if not total > 0:
            raise InputError(f"the path score does not separate A from B: paths[{j}] has zero length")
        e = g.directions[j] if j < g.directions.shape[0] else seg[-1] / lengths[-1]
        P = np.vstack([P, P[-1] + 10.0 * total * e])          # past b along e, far beyond any exit
        seg = np.diff(P, axis=0)
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(seg, axis=1))[:-1]])
        return P[:-1], seg, cum, total

    def score(self, theta: np.ndarray) -> np.ndarray:
        """ξ(θ) (module docstring); NaN rows stay NaN."""
        if self.score_name == "projection":
            return np.max((theta - self.a) @ self.normals.T, axis=1)
        if self.score_name == "path":
            best = np.full(theta.shape[0], np.inf)
            out = np.full(theta.shape[0], np.nan)
            for start, seg, cum, total in self._paths:
                rel = theta[:, None, :] - start[None, :, :]                     # (n, m, d)
                t = np.clip(np.einsum("nmd,md->nm", rel, seg) / np.einsum("md,md->m", seg, seg), 0.0, 1.0)
                dist2 = np.einsum("nmd,nmd->nm", rel - t[:, :, None] * seg[None], rel - t[:, :, None] * seg[None])
                k = np.argmin(dist2, axis=1)
                rows = np.arange(theta.shape[0])
                d2 = dist2[rows, k]
                frac = (cum[k] + t[rows, k] * np.linalg.norm(seg[k], axis=1)) / total
                closer = d2 < best
                best = np.where(closer, d2, best)
                out = np.where(closer, frac, out)
            return out
        if self.score_name == "distance":
            return np.linalg.norm(theta - self.a, axis=1) / self.prep.radius
        return (self.ctx.values(theta) - self.prep.geom.loss_minimum) / self.level_rise

    def step(self, theta: np.ndarray, t: np.ndarray, gen: np.random.Generator):
        """One step of every row: (θ', in B (n,), diverged (n,)); t is each row's step count after the step."""
        n = theta.shape[0]
        out = self.nm.step(theta, self.nm.draw(gen, n), self.ctx)
        new = out.theta
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(new).all(axis=1)
            if out.grad is not None:
                bad |= ~np.isfinite(out.grad).all(axis=1)
        crit = self.crit
        if crit.name == "basin":
            # B: within capture_radius of another known minimum (every step); an unlisted minimum is found by
            # the quench at check steps, as in brute force (criteria.BasinExit)
            inside, j = crit.nearest_ball(new)
            ex = ~bad & inside & (j != 0)
            check = np.flatnonzero(~bad & ~ex & (t % crit.check_every == 0))
            if check.size:
                cand = check[crit.pretest(new[check], self.ctx.values(new[check]) if crit.pre_level is not None
                                          else None)]
                if cand.size:
                    won, _ = crit.landed(new[cand], self.ctx)
                    ex[cand[won]] = True
        elif crit.name == "loss_level":
            with np.errstate(invalid="ignore"):
                ex = crit.test_values(self.ctx.values(new))[0] & ~bad
        else:
            u = gen.random(n) if self.prep.bridge_on else None
            with np.errstate(invalid="ignore"):
                ex = crit.test(theta, new, out.along if self.prep.bridge_on else None, u)[0] & ~bad
        if ex.any():        # an exit by a locally unstable step is a divergence (as in brute force)
            sel = np.flatnonzero(ex)
            unstable = overshoot(self.ctx, theta[sel], None if out.grad is None else out.grad[sel], self.eta)
            ex[sel[unstable]] = False
            bad[sel[unstable]] = True
        return new, ex, bad


# ====================================================================== loops A → Σ → A (brute force)
@dataclass
class _Loops:
    """The loop phase: Σ-crossing states, crossing counts and windows per walker, first-crossing steps."""

    crossings: np.ndarray          # (n, d) states at the first step with ξ ≥ z_Σ after a visit to A
    counts: np.ndarray             # per walker: crossings in its counting window
    windows: np.ndarray            # per walker: the length of that window (one W per loop phase)
    first_steps: np.ndarray        # per walker: its first crossing step from the minimum
    n_direct: int                  # walkers that reached B during the loop phase (restarted at a)
    particle_steps: int

    @property
    def steps_to_sigma(self) -> float:
        """T_(A→Σ): the mean first-crossing step from the minimum."""
        return float(np.mean(self.first_steps))


def _levels(chain: _Chain, gen, *, n_walkers: int, relax: int) -> tuple[float, float, int, int]:
    """(z_A, z_Σ, particle steps, walkers that reached B): the 50% and 90% quantiles of ξ at equilibrium."""
    theta = np.repeat(chain.a[None, :], n_walkers, axis=0)
    t = np.zeros(n_walkers, np.int64)
    n_direct = 0
    samples = []
    for k in range(2 * relax):
        t += 1
        theta, ex, bad = chain.step(theta, t, gen)
        n_direct += int(ex.sum())
        theta[ex | bad] = chain.a
        if k >= relax:
            samples.append(chain.score(theta))
    xs = np.concatenate(samples)
    xs = xs[np.isfinite(xs)]
    z_a, z_s = (float(q) for q in np.quantile(xs, [0.5, 0.9]))
    return z_a, z_s, 2 * relax * n_walkers, n_direct


def _loops(chain: _Chain, gen, *, n_walkers: int, n_loops: int, z_a: float, z_s: float, max_steps: int) -> _Loops:
    """Free walkers from the minimum: about ``n_loops`` Σ crossings (after visits to A) in a window fixed in advance.

    The walkers first run until they have crossed Σ BURN_LOOPS times each on average (the first-crossing times
    give T_(A→Σ)); then every walker runs a window of W steps fixed from that burn-in, and ν = Σc_i/(M·W) with the
    standard error of the counts over walkers. A window that starts at a walker's own first crossing and a stop
    when a total count is reached both bias ν when each walker makes few loops (a renewal process started at a
    renewal crosses less often than its stationary rate over a short window); after the burn-in the walkers are
    close to stationary, and a fixed window has E[c_i] = ν·W.
    """
    d = chain.prep.d
    theta = np.repeat(chain.a[None, :], n_walkers, axis=0)
    t = np.zeros(n_walkers, np.int64)
    armed = np.ones(n_walkers, bool)            # visited A since the last crossing
    first = np.full(n_walkers, -1, np.int64)
    n_direct = 0

    def advance():
        nonlocal theta, n_direct
        t[:] += 1
        theta, ex, bad = chain.step(theta, t, gen)
        xi = chain.score(theta)
        cross = armed & ~ex & ~bad & (xi >= z_s)
        armed[cross] = False
        armed[xi <= z_a] = True
        reset = ex | bad
        if reset.any():
            n_direct += int(ex.sum())
            theta[reset] = chain.a
            armed[reset] = True
        return cross

    step = burn = 0
    while burn < BURN_LOOPS * n_walkers:
        if step >= max_steps:
            raise InputError(f"the loop walkers crossed Σ only {burn} times in {max_steps} steps; raise max_steps, "
                             "or the temperature")
        step += 1
        cross = advance()
        burn += int(cross.sum())
        first[cross & (first < 0)] = step
    window = int(math.ceil(step * n_loops / burn))          # about n_loops crossings at the burn-in rate
    count = np.zeros(n_walkers, np.int64)
    states = []
    for _ in range(window):
        cross = advance()
        if cross.any():
            states.append(theta[cross].copy())
            count[cross] += 1
    crossings = np.concatenate(states) if states else np.empty((0, d))
    seen = first >= 0
    return _Loops(crossings=crossings, counts=count, windows=np.full(n_walkers, window, np.int64),
                  first_steps=first[seen], n_direct=n_direct, particle_steps=(step + window) * n_walkers)


def _merge(a: _Loops, b: _Loops) -> _Loops:
    """Two independent loop phases as one sample of walkers."""
    return _Loops(crossings=np.concatenate([a.crossings, b.crossings]), counts=np.concatenate([a.counts, b.counts]),
                  windows=np.concatenate([a.windows, b.windows]),
                  first_steps=np.concatenate([a.first_steps, b.first_steps]), n_direct=a.n_direct + b.n_direct,
                  particle_steps=a.particle_steps + b.particle_steps)


# ====================================================================== the splitting
@dataclass
class _Replica:
    scores: np.ndarray     # record scores, strictly increasing (+inf last if it reached B)
    states: np.ndarray     # (m, d) the record states
    steps: np.ndarray      # (m,) the step (since Σ) of each record
    end_step: int = 0

    @property
    def top(self) -> float:
        return float(self.scores[-1])


def _run_branches(chain: _Chain, gen, starts: list, z_a: float, max_steps: int):
    """Continue each (record-prefix) replica from its last record until A, B, divergence or max_steps.

    Returns the finished replicas and counts (particle steps, diverged, unfinished).
    """
    n = len(starts)
    theta = np.stack([r.states[-1] for r in starts])
    t = np.array([r.steps[-1] for r in starts], np.int64)
    top = np.array([r.top for r in starts])
    rows = np.arange(n)
    new_recs = []             # (rows, scores, steps, states) per step
    end = np.zeros(n, np.int64)
    used = diverged = unfinished = 0
    live = np.isfinite(top)                            # a clone branched in B is already done
    end[~live] = t[~live]
    theta, t, top, rows = theta[live], t[live], top[live], rows[live]
    while rows.size:
        t += 1
        theta, ex, bad = chain.step(theta, t, gen)
        used += rows.size
        with np.errstate(invalid="ignore"):
            xi = np.where(ex, np.inf, chain.score(theta))
            rec = ~bad & (xi > top)
        if rec.any():
            new_recs.append((rows[rec], xi[rec], t[rec].copy(), theta[rec].copy()))
            top = np.where(rec, xi, top)
        with np.errstate(invalid="ignore"):
            done = ex | bad | (xi <= z_a) | (t >= max_steps)
        if done.any():
            diverged += int(bad.sum())
            unfinished += int((done & ~(ex | bad | (xi <= z_a))).sum())
            end[rows[done]] = t[done]
            keep = ~done
            theta, t, top, rows = theta[keep], t[keep], top[keep], rows[keep]
    out = [None] * n
    if new_recs:
        r = np.concatenate([x[0] for x in new_recs])
        order = np.argsort(r, kind="stable")
        r = r[order]
        sc = np.concatenate([x[1] for x in new_recs])[order]
        st = np.concatenate([x[2] for x in new_recs])[order]
        th = np.concatenate([x[3] for x in new_recs])[order]
        bounds = np.searchsorted(r, np.arange(n + 1))
    for i, base in enumerate(starts):
        if new_recs and bounds[i + 1] > bounds[i]:
            lo, hi = bounds[i], bounds[i + 1]
            out[i] = _Replica(np.concatenate([base.scores, sc[lo:hi]]), np.concatenate([base.states, th[lo:hi]]),
                              np.concatenate([base.steps, st[lo:hi]]), int(end[i]))
        else:
            out[i] = _Replica(base.scores, base.states, base.steps, int(end[i]))
    return out, used, diverged, unfinished


def _splitting(chain: _Chain, gen, starts: np.ndarray, *, n_replicas: int, kill: int, z_a: float,
               max_steps: int, max_iterations: int, progress=None):
    """R independent AMS runs (rows of ``starts`` grouped by n_replicas), all branches stepped together.

    ``progress(done, total, what)`` is told the finished runs and the lowest current level after each round.
    """
    R = starts.shape[0] // n_replicas
    N = n_replicas
    xi0 = chain.score(starts)
    init = [_Replica(np.array([xi0[i]]), starts[i:i + 1].copy(), np.zeros(1, np.int64)) for i in range(R * N)]
    reps, used, div, unf = _run_branches(chain, gen, init, z_a, max_steps)
    runs = [reps[r * N:(r + 1) * N] for r in range(R)]
    log_w = np.zeros(R)
    iters = np.zeros(R, np.int64)
    active = np.ones(R, bool)
    p_hat = np.zeros(R)
    stalled = extinct = 0
    while active.any():
        todo = []               # (run, slot, prefix)
        for r in np.flatnonzero(active):
            tops = np.array([x.top for x in runs[r]])
            z = np.partition(tops, kill - 1)[kill - 1]
            if not np.isfinite(z):                       # the k-th smallest maximum is in B: done
                p_hat[r] = np.isinf(tops).sum() / N * math.exp(log_w[r])
                active[r] = False
                continue
            killed = np.flatnonzero(tops <= z)
            if killed.size == N or iters[r] >= max_iterations:
                p_hat[r] = 0.0                            # extinction (part of the estimator) or a stall
                if killed.size == N:
                    extinct += 1
                else:
                    stalled += 1
                active[r] = False
                continue
            log_w[r] += math.log1p(-killed.size / N)
            iters[r] += 1
            survivors = np.flatnonzero(tops > z)
            parents = survivors[gen.integers(0, survivors.size, killed.size)]
            for slot, par in zip(killed, parents):
                src = runs[r][par]
                j = int(np.searchsorted(src.scores, z, side="right"))     # first record strictly above z
                todo.append((r, slot, _Replica(src.scores[:j + 1], src.states[:j + 1], src.steps[:j + 1])))
        if progress is not None:
            lows = [min(x.top for x in runs[r]) for r in np.flatnonzero(active)]
            progress(int(R - active.sum()), R, f"AMS: {int(R - active.sum())}/{R} runs done, lowest level "
                                                f"{min(lows) if lows else 1.0:.2f} of 1 (the saddle)")
        if not todo:
            break
        done, u, dv, uf = _run_branches(chain, gen, [x[2] for x in todo], z_a, max_steps)
        used, div, unf = used + u, div + dv, unf + uf
        for (r, slot, _), rep in zip(todo, done):
            runs[r][slot] = rep
    to_b = [x.end_step for run in runs for x in run if np.isinf(x.top)]
    return p_hat, iters, used, div, unf, stalled, extinct, (float(np.mean(to_b)) if to_b else float("nan"))


# ====================================================================== entry point
def ams_escape(landscape, start, *, dynamics: Dynamics, noise: NoiseModel, criterion: Criterion, seed: int,
               basin: Basin | None = None, execution=None, n_replicas: int = 100, n_ams_runs: int = 20, kill_count: int | None = None,
               n_loops: int | None = None, n_walkers: int = 200, score: str = "auto", paths=None, levels=None,
               max_steps: int = 10**6, max_iterations: int | None = None,
               target_log_ci: float | None = None, max_ams_runs: int = 400, progress=None) -> AMSResult:
    """The escape rate of the chain from ``start`` by adaptive multilevel splitting (module docstring).

    Parameters
    ----------
    landscape, start, dynamics, noise, criterion, basin
        As for :func:`numerics.simulate.simulate_escape` (bridge, if on, is drawn from the same noise stream).
    execution : Execution, optional
        Accepted so that the parts of :func:`numerics.parts.escape_parts` pass through; AMS runs the numpy path.
    seed : int ≥ 0
        Entropy of the one generator the whole estimate draws from.
    n_replicas : int ≥ 2
        N, replicas per AMS run.
    n_ams_runs : int ≥ 2
        Independent AMS runs (their spread gives the error of p̂).
    kill_count : int, optional
        k: the level is the k-th smallest maximum (1 ≤ k < N; default N/10).
    n_loops : int, optional
        Σ-crossings collected by the loop walkers (default max(2000, N·R)); the initial replicas are drawn from them
        without replacement.
    n_walkers : int ≥ 1
        Free walkers of the loop phase.
    score : {"auto", "projection", "path", "distance", "loss"}
        ξ; ``auto``: projection with a saddle, else distance (radius) or loss (loss_level). ``path`` costs more per
        step; use it when the result says the score is poor (a curved valley).
    paths : list of (n_j, d) arrays, optional
        Minimum energy paths from the minimum to each saddle (``EscapePath.mep_points`` of the basin analysis), for
        the ``path`` score.
    levels : (z_A, z_Σ), optional
        The reactant and Σ levels of ξ; default: the 50% and 90% quantiles at equilibrium.
    max_steps : int
        Cap on the steps of one branch (and of the loop phase); a branch that reaches it ends as a failure (counted).
    max_iterations : int, optional
        Cap on the iterations of one AMS run (default 200·N/k, enough for p ≈ e^(−200)); a run that reaches it
        returns p̂ = 0 with an :class:`AMSStallWarning`.
    target_log_ci : float, optional
        Add batches of ``n_ams_runs`` runs until the 95% half-width of log(rate) is at most this (or
        ``max_ams_runs`` runs have been made).
    progress : callable, optional
        ``progress(done, total, what)``, called after every round of branches (for a progress bar).
    """
    t0 = time.perf_counter()
    n_replicas = positive_int("n_replicas", n_replicas)
    n_ams_runs = positive_int("n_ams_runs", n_ams_runs)
    n_walkers = positive_int("n_walkers", n_walkers)
    max_steps = positive_int("max_steps", max_steps)
    seed = positive_int("seed", seed, 0)
    if n_replicas < 2:
        raise InputError(f"n_replicas must be >= 2 (AMS kills and clones replicas); got {n_replicas}")
    if n_ams_runs < 2:
        raise InputError(f"n_ams_runs must be >= 2 (the error of p̂ comes from their spread); got {n_ams_runs}")
    kill = max(1, n_replicas // 10) if kill_count is None else positive_int("kill_count", kill_count)
    if not 1 <= kill < n_replicas:
        raise InputError(f"kill_count must be between 1 and n_replicas - 1 = {n_replicas - 1}; got {kill}")
    if score not in SCORES:
        raise InputError(f"score must be one of {', '.join(SCORES)}; got {score!r}")
    if max_iterations is None:
        max_iterations = int(200 * n_replicas / kill)
    max_iterations = positive_int("max_iterations", max_iterations)
    if target_log_ci is not None and not (math.isfinite(float(target_log_ci)) and target_log_ci > 0):
        raise InputError(f"target_log_ci must be a finite number > 0; got {target_log_ci!r}")
    if levels is not None:
        try:
            levels = tuple(float(v) for v in levels)
        except (TypeError, ValueError):
            raise InputError(f"levels must be two numbers (z_A, z_Σ); got {levels!r}") from None
        if len(levels) != 2 or not all(map(math.isfinite, levels)):
            raise InputError(f"levels must be two finite numbers (z_A, z_Σ); got {levels!r}")
    if isinstance(dynamics, Dynamics) and dynamics.stateful:
        raise InputError(f"AMS splits plain SGD chains only (a replica is its θ); the {dynamics.kind} optimizer "
                         "carries state: use method simulate")
    prep = prepare_run(landscape, start, dynamics=dynamics, noise=noise, criterion=criterion, n_runs=1,
                       max_steps=max_steps, seed=seed, basin=basin)
    if score == "auto":
        score = ("projection" if prep.geom.saddles.shape[0]
                 else "distance" if prep.criterion == "radius" else "loss" if prep.criterion == "loss_level"
                 else "projection")
    chain = _Chain(prep, score, paths)
    gen = np.random.default_rng(np.random.SeedSequence([seed, 0x414D53]))    # "AMS"
    n_loops = max(2000, n_replicas * n_ams_runs) if n_loops is None else positive_int("n_loops", n_loops)
    h = prep.geom.h_a
    curv = (float(prep.geom.directions[0] @ h @ prep.geom.directions[0])
            if h is not None and prep.geom.saddles.shape[0] else prep.geom.lambda_max)
    relax = int(min(max_steps, max(10, math.ceil(2.0 / (prep.eta * max(curv, 1e-12))))))
    if levels is None:
        z_a, z_s, used, n_direct = _levels(chain, gen, n_walkers=n_walkers, relax=relax)
    else:
        (z_a, z_s), used, n_direct = levels, 0, 0
    if not z_a < z_s < 1.0:
        raise InputError(f"the AMS levels must satisfy z_A < z_Σ < 1 (1 = the saddle / the exit); got z_A = {z_a:.4g}, "
                         f"z_Σ = {z_s:.4g}: the score does not separate A from B at this noise level")
    take = n_replicas * n_ams_runs
    loops = _loops(chain, gen, n_walkers=n_walkers, n_loops=max(n_loops, take), z_a=z_a, z_s=z_s, max_steps=max_steps)
    pool = loops.crossings
    p_runs, iters = [], []
    div = unf = stalled = extinct = 0
    to_b = []
    while True:
        while pool.shape[0] < take:            # fresh walkers for fresh Σ states: the runs stay independent
            more = _loops(chain, gen, n_walkers=n_walkers, n_loops=take, z_a=z_a, z_s=z_s, max_steps=max_steps)
            loops, pool = _merge(loops, more), np.concatenate([pool, more.crossings])
        idx = gen.choice(pool.shape[0], take, replace=False)
        starts, pool = pool[idx], np.delete(pool, idx, axis=0)
        p, it, u, dv, uf, st, ex, tb = _splitting(chain, gen, starts, n_replicas=n_replicas, kill=kill, z_a=z_a,
                                              max_steps=max_steps, max_iterations=max_iterations,
                                              progress=progress)
        p_runs.append(p)
        iters.append(it)
        used, div, unf, stalled, extinct = used + u, div + dv, unf + uf, stalled + st, extinct + ex
        if np.isfinite(tb):
            to_b.append(tb)
        est = _estimate(np.concatenate(p_runs), loops, n_replicas)
        half = _half_width(est, sum(x.size for x in p_runs))
        if target_log_ci is None or half <= target_log_ci or len(p_runs) * n_ams_runs + n_ams_runs > max_ams_runs:
            break
    used += loops.particle_steps
    n_direct += loops.n_direct
    p_all = np.concatenate(p_runs)
    p_bar, p_se, log_se, nu, nu_se = est
    t_loop = 1.0 / nu if nu > 0 else float("inf")
    t_sb = float(np.mean(to_b)) if to_b else 0.0
    notes = list(prep.notes)
    if p_bar > 0:
        mean_steps = (1.0 / p_bar - 1.0) * t_loop + loops.steps_to_sigma + t_sb
        rate = 1.0 / (prep.eta * mean_steps)
        ci = (rate * math.exp(-half), rate * math.exp(half))
    else:
        mean_steps, rate, ci = float("inf"), 0.0, (0.0, float("nan"))
        notes.append("every AMS run returned p̂ = 0: no rate (raise n_replicas, or check the score)")
    ideal = p_bar ** (-1.0 / n_replicas) - 1.0 if p_bar > 0 else float("nan")
    rel_var = float(np.var(p_all, ddof=1) / p_bar ** 2) if p_bar > 0 else float("nan")
    if p_bar > 0 and p_all.size >= 10 and rel_var > 10 * ideal:
        notes.append(f"the score is poor: the variance of p̂ over runs is {rel_var / ideal:.3g}× that of the ideal "
                     f"score (committor); the interval is still valid but wide — more replicas or a better score help")
    if stalled:
        msg = (f"{stalled} of {p_all.size} AMS runs stalled ({max_iterations} iterations without reaching B) and "
               "returned p̂ = 0: the rate is biased low; raise max_iterations or use a better score")
        notes.append(msg)
        warnings.warn(msg, AMSStallWarning, stacklevel=2)
    if extinct:
        notes.append(f"{extinct} of {p_all.size} AMS runs ended with every replica at the level (ties) and p̂ = 0, "
                     "as the estimator prescribes")
    if div:
        notes.append(f"{div} branches diverged (counted as failures, never as escapes); lower eta")
    if unf:
        notes.append(f"{unf} branches reached max_steps = {max_steps} without ending (counted as failures)")
    if target_log_ci is not None and not half <= target_log_ci:
        notes.append(f"the 95% half-width of log(rate) is {half:.3g}, above target_log_ci = {target_log_ci:g}, after "
                     f"max_ams_runs = {max_ams_runs} runs")
    if p_bar > 0.1:
        notes.append(f"p = {p_bar:.3g} is not small: Σ is close to the exit, and brute force is cheaper here")
    g = prep.geom
    barrier, h_ae, h_be = g.first_path()
    return AMSResult(
        rate=float(rate), rate_ci=tuple(float(c) for c in ci), log_rate_stderr=float(log_se), probability=float(p_bar),
        probability_stderr=float(p_se), probability_runs=p_all, iterations=np.concatenate(iters),
        loop_steps=float(t_loop), loop_steps_stderr=float(nu_se / nu ** 2) if nu > 0 else float("nan"),
        n_loops=int(loops.counts.sum()), steps_to_sigma=float(loops.steps_to_sigma), steps_sigma_to_b=t_sb,
        mean_exit_steps=float(mean_steps), score=score, level_a=z_a, level_sigma=z_s, n_replicas=n_replicas,
        n_ams_runs=int(p_all.size), kill_count=kill, ideal_relative_variance=float(ideal), relative_variance=rel_var,
        n_stalled=stalled, n_extinct=extinct, n_diverged=div, n_unfinished=unf, n_direct=n_direct, particle_steps=int(used),
        wall_seconds=time.perf_counter() - t0, seed=seed, landscape=landscape.name, dim=prep.d, noise=prep.noise,
        criterion=prep.criterion, eta=prep.eta, temperature=prep.temperature, batch_size=prep.batch_size,
        loss_unit=prep.loss_unit, minimum=g.minimum, saddles=g.saddles,
        barrier=barrier, h_ae=h_ae, h_be=h_be,
        eta_lambda_max=prep.eta_lam, discretization_dominated=prep.flagged, notes=tuple(notes))


def _estimate(p_runs: np.ndarray, loops: _Loops, n_replicas: int):
    """(p̄, s.e. of p̄, s.e. of log rate, ν, s.e. of ν): p from the runs' spread, ν from the walkers' (ratio estimator).

    The variance of one run is taken as at least the ideal score's, p²(p^(−1/N) − 1), the smallest any score
    gives (Cérou & Guyader, Stoch. Anal. Appl. 25, 417 (2007)): with 20 runs the sample variance of a skewed p̂
    is itself uncertain, and too small exactly when p̄ comes out low.
    """
    R = p_runs.size
    p_bar = float(np.mean(p_runs))
    var = float(np.var(p_runs, ddof=1)) if R > 1 else float("inf")
    if p_bar > 0:
        var = max(var, p_bar ** 2 * (p_bar ** (-1.0 / n_replicas) - 1.0))
    p_se = math.sqrt(var / R)
    c, w = loops.counts.astype(float), loops.windows.astype(float)
    nu = float(c.sum() / w.sum()) if w.sum() > 0 else 0.0
    M = c.size
    nu_se = (float(np.sqrt(np.sum((c - nu * w) ** 2) / (M * (M - 1))) / w.mean()) if M > 1 else float("inf"))
    if p_bar <= 0 or nu <= 0:
        return p_bar, p_se, float("inf"), nu, nu_se
    return p_bar, p_se, math.hypot(p_se / p_bar, nu_se / nu), nu, nu_se


def _half_width(est, n_runs: int) -> float:
    """The 95% half-width of log(rate): Student's t (n_runs − 1 d.f.) for the p̄ part, normal for the ν part."""
    p_bar, p_se, _, nu, nu_se = est
    if not (p_bar > 0 and nu > 0):
        return float("inf")
    q = stats.t.ppf(0.975, max(1, n_runs - 1))
    return math.hypot(q * p_se / p_bar, _Z95 * nu_se / nu)
