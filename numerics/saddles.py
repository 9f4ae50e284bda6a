"""Index-1 saddles next to a minimum: minimum-mode following and climbing strings, under a time budget.

Two searches, both ending in a Newton refinement with an index check (``critical.refine_saddle``):

- **Single-ended**: eigenvector (minimum-mode) following out of the minimum along every Hessian
  eigendirection, both signs (Cerjan & Miller, J. Chem. Phys. 75, 2800 (1981)); each step maximises
  along the followed mode and minimises along all others by partitioned rational-function steps
  (Baker, J. Comput. Chem. 7, 385 (1986)). The step is a trust region that adapts to the landscape:
  it doubles while the local quadratic model predicts the next gradient well and shrinks when it does
  not (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 4.1, with the gradient's prediction
  error in place of the loss ratio, because a saddle search is not a descent). Stiff directions
  cost nothing: the minimising part is a Newton step there. A walk gives up when the followed
  curvature stiffens (it climbs a wall), when the curvature stays within 10% while the distance from
  the minimum doubles (a harmonic plateau holds no saddle), or when the budget ends.
- **Double-ended**: the climbing string method (``paths.neb_path``) between the minimum and each
  neighbouring minimum, from the straight segment and from segments bent both ways along the
  two softest transverse modes, so that two channels between the same pair of minima are both found;
  and a minimum-mode walk from the midpoint of the two minima along its softest mode, which finds
  the saddle of a symmetric subspace between symmetric minima (an MLP's dead-unit saddle).

Every attempt is recorded (:class:`Attempt`), so that a search that finds nothing can say what it
tried (:meth:`SaddleSearch.summary`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg

from flatminima.numerics.critical import (DENSE_MAX, CriticalPointError, _fmt, _point, lowest_modes, refine_saddle,
                               unique_points)
from flatminima.numerics.errors import LandscapeError

__all__ = ["Budget", "Attempt", "SaddleSearch", "follow_mode", "min_mode_saddles", "string_saddles",
           "search_saddles", "initial_radius"]

STIFFEN_LIMIT = 10.0
"""A walk gives up when the followed curvature exceeds this multiple of its value at the start."""

PLATEAU_CHANGE = 0.1
"""A walk gives up when its (positive) followed curvature changed by less than this fraction while its
distance from the minimum doubled: a harmonic plateau (e.g. weight decay far out) holds no saddle."""

MAX_WALK_STEPS = 400
"""Trust-region steps per walk (the radius doubles on good steps, so this spans many length scales)."""

STRING_ITERATIONS = 2000
"""Iterations per climbing string (each stops early once Newton from its top gives a saddle)."""

BENT_MAX_DIM = 10
"""Bent initial strings (for a second channel to the same minimum) up to this dimension; straight above."""

STRING_NEIGHBOURS = 4
"""Above BENT_MAX_DIM, strings run to this many nearest neighbouring minima only."""


class Budget:
    """A wall-clock allowance for a search, with an optional progress hook.

    Parameters
    ----------
    seconds : float or None
        The allowance; None means no limit.
    progress : callable, optional
        ``progress(done, total, what)``, called as parts of a search finish (the CLI draws a bar).
    """

    def __init__(self, seconds: float | None = None, progress: Callable | None = None):
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise LandscapeError(f"budget must be a finite number of seconds > 0; got {seconds}")
        self.seconds = None if seconds is None else float(seconds)
        self.started = time.monotonic()
        self.progress = progress

    def elapsed(self) -> float:
        """Seconds since the budget was made."""
        return time.monotonic() - self.started

    def expired(self) -> bool:
        """Whether the allowance is used up."""
        return self.seconds is not None and self.elapsed() >= self.seconds

    def until(self, fraction: float) -> "Budget":
        """A budget sharing this one's start and hook that ends at ``fraction`` of its allowance."""
        part = Budget(None, self.progress)
        part.started = self.started
        part.seconds = None if self.seconds is None else fraction * self.seconds
        return part

    def report(self, done: int, total: int, what: str) -> None:
        """Tell the progress hook that ``done`` of ``total`` parts are finished."""
        if self.progress is not None:
            self.progress(done, total, what)


@dataclass(frozen=True)
class Attempt:
    """One search attempt: how it started, how it ended, and the saddle it gave (or None)."""

    method: str                 # "mode following", "string", "hint"
    start: str                  # e.g. "mode 2 (−)", "to the minimum at (1, 0), bent +"
    outcome: str                # e.g. "saddle at (0, 0)", "gave up: the followed curvature stiffened"
    saddle: np.ndarray | None = None
    steps: int = 0


@dataclass(frozen=True)
class SaddleSearch:
    """The index-1 saddles found around a minimum and a record of every attempt.

    Attributes
    ----------
    minimum : ndarray (d,)
    saddles : list of ndarray
        Distinct refined index-1 saddles, lowest first (adjacency to the minimum is checked by
        ``basin.analyse_basin``, which descends from each).
    attempts : list of Attempt
    seconds : float
        Wall time of the search.
    budget_ended : bool
        Whether the time budget ended before every planned attempt ran.
    planned : int
        Number of attempts planned.
    """

    minimum: np.ndarray
    saddles: list
    attempts: list = field(default_factory=list)
    seconds: float = 0.0
    budget_ended: bool = False
    planned: int = 0

    def summary(self) -> str:
        """One line: what was searched, what it gave, and whether the budget ended it."""
        def count(method):
            done = [a for a in self.attempts if a.method == method]
            hits = sum(a.saddle is not None for a in done)
            return len(done), hits
        parts = []
        n, hits = count("mode following")
        if n:
            parts.append(f"{n} minimum-mode walks ({hits} reached a saddle)")
        n, hits = count("string")
        if n:
            parts.append(f"{n} climbing strings to neighbouring minima ({hits} reached a saddle)")
        n, hits = count("midpoint walk")
        if n:
            parts.append(f"{n} walks from midpoints between minima ({hits} reached a saddle)")
        n, hits = count("hint")
        if n:
            parts.append(f"{n} saddle hints ({hits} refined to an index-1 saddle)")
        text = ", ".join(parts) if parts else "no search"
        text += f" in {self.seconds:.1f} s"
        if self.budget_ended:
            text += f"; the time budget ended after {len(self.attempts)} of {self.planned} planned attempts"
        return text


# ---------------------------------------------------------------------- partitioned RFO steps
def _rfo_minimise(b: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Rational-function (RFO) step that minimises along eigen-directions b with gradient components F.

    The shift λ_n is the lowest eigenvalue of the augmented Hessian [[diag b, F], [Fᵀ, 0]]
    (Baker 1986, Eq. (10)); the step is h_i = −F_i/(b_i − λ_n).
    """
    if b.size == 0:
        return b
    m = b.size
    A = np.zeros((m + 1, m + 1))
    A[:m, :m] = np.diag(b)
    A[:m, m] = A[m, :m] = F
    lam = np.linalg.eigvalsh(A)[0]
    den = b - lam
    out = np.zeros_like(F)
    ok = den > 1e-14 * max(np.max(np.abs(b)), 1.0)
    out[ok] = -F[ok] / den[ok]
    return out


def _rfo_maximise(b: float, F: float) -> float:
    """P-RFO step along the followed mode: λ_p = b/2 + √(b² + 4F²)/2, h = −F/(b − λ_p) (Baker 1986)."""
    lam = 0.5 * b + 0.5 * np.hypot(b, 2.0 * F)
    den = b - lam
    return 0.0 if den == 0.0 else -F / den


def _complement_step(landscape, x, g, vt, b_next) -> np.ndarray:
    """Large-d minimising step orthogonal to vt: CG on P(H − λ_n)P y = −Pg with P = I − vt vtᵀ."""
    d = landscape.dim
    lam = 0.0 if b_next > 0 else 2.0 * b_next - 1e-8

    def mv(y):
        y = np.ravel(y)
        y = y - vt * (vt @ y)
        hy = landscape.search_hvp(x, y) - lam * y
        return hy - vt * (vt @ hy)

    pg = g - vt * (vt @ g)
    y, _ = cg(LinearOperator((d, d), matvec=mv, dtype=float), -pg, rtol=1e-8, maxiter=200)
    return y - vt * (vt @ y)


# ---------------------------------------------------------------------- single-ended walks
def initial_radius(landscape, x, u) -> float:
    """A tenth of ℓ_u = |∂²_u L| / |∂³_u L| at x: the first trust radius of a walk along unit u.

    ℓ_u is the distance along u over which the curvature changes by its own size, i.e. the distance
    at which a saddle can first appear. The third derivative is a central difference of the
    gradient. For a direction that is harmonic to round-off (no third derivative), 1 + ‖x‖/√d.
    Both scale as 1/√k under the reparametrisation L(√k θ).
    """
    x = _point(landscape, x, "theta")
    u = np.asarray(u, float) / np.linalg.norm(u)
    scale = 1.0 + np.linalg.norm(x) / np.sqrt(landscape.dim)
    curv = abs(float(u @ landscape.search_hvp(x, u)))
    delta = 1e-3 * scale
    ell = scale
    for _ in range(8):      # shrink δ until the difference resolves ℓ (δ ≪ ℓ)
        third = abs(float(u @ (landscape.grad(x + delta * u) - 2.0 * landscape.grad(x)
                               + landscape.grad(x - delta * u)))) / delta**2
        if third <= 1e-8 * max(curv, 1e-300) / delta:
            break           # below the difference's round-off: harmonic along u
        ell = curv / third if curv > 0 else delta
        if delta <= 1e-2 * ell:
            break
        delta = 1e-2 * ell
    return 0.1 * ell


class _Modes:
    """Gradient and Hessian eigenpairs at a point: all of them (dense) or the few lowest (HVP)."""

    def __init__(self, landscape, n_modes: int | None):
        self.landscape = landscape
        self.dense = landscape.dim <= DENSE_MAX
        self.k = landscape.dim if self.dense else int(n_modes or 3)
        self.block = None

    def at(self, x):
        land = self.landscape
        g = land.grad(x)
        if self.dense:
            H = land.search_hessian(x)
            w, V = np.linalg.eigh(H)
            return g, w, V, (lambda h: H @ h)
        w, V = lowest_modes(land, x, self.k, v0=self.block)
        self.block = V
        return g, w, V, (lambda h: land.search_hvp(x, h))


def _model_fit(g, Hh, h, f, g_new, f_new, w_new, V_new, vt) -> float:
    """How badly the quadratic model at x predicted the step h: 0 perfect, > 1 reject the step.

    The largest of three normalised misfits: the gradient's prediction error
    ‖g_new − (g + Hh)‖ / max(‖g‖, ‖g_new‖) over 0.5; the loss change's ratio to its prediction
    g·h + ½hᵀHh, |log ρ| over log 4 (ρ outside [1/4, 4] rejects); and the followed mode's
    continuation, (1 − |P v_t|) over 0.2, P the projection onto the new eigenvector of largest overlap
    and those whose eigenvalues lie within 10% of its own (an overlap below 0.8 rejects: the walk
    would lose track of its mode).
    """
    gnorm = max(float(np.linalg.norm(g)), float(np.linalg.norm(g_new)), 1e-300)
    grad_err = float(np.linalg.norm(g_new - g - Hh)) / gnorm / 0.5
    pred = float(g @ h + 0.5 * h @ Hh)
    actual = f_new - f
    scale = max(abs(pred), abs(actual))
    if scale <= 1e-12 * max(abs(f), abs(f_new), 1e-300):
        loss_err = 0.0              # both changes at round-off: nothing to judge
    elif pred * actual <= 0:
        loss_err = 2.0
    else:
        loss_err = abs(np.log(actual / pred)) / np.log(4.0)
    ov = np.abs(V_new.T @ vt)
    j = int(np.argmax(ov))
    # a near-degenerate cluster (eigenvalues within 10% of the followed one's) counts as one mode:
    # within it the eigenvectors are arbitrary, so the overlap is the projection onto the cluster
    w = np.asarray(w_new, float)
    cluster = np.abs(w - w[j]) <= 0.1 * abs(w[j]) + 1e-8 * float(np.max(np.abs(w)))
    overlap = float(np.sqrt(np.sum(ov[cluster] ** 2)))
    mode_err = (1.0 - min(overlap, 1.0)) / 0.2
    return max(grad_err, loss_err, mode_err)


def follow_mode(landscape, minimum, direction, *, radius: float | None = None, max_steps: int = MAX_WALK_STEPS,
                stiffen_limit: float = STIFFEN_LIMIT, n_modes: int | None = None,
                budget: Budget | None = None) -> tuple[np.ndarray | None, str, int]:
    """Eigenvector following from ``minimum`` (or any start point) along the Hessian mode that continues ``direction``.

    Each step maximises along the followed mode (the eigenvector with the largest overlap with the
    previous one) and minimises along all others (partitioned RFO, Baker 1986), inside a trust
    radius that adapts: a step is rejected (and the radius cut to a quarter of it) when the local
    quadratic model mispredicts it (:func:`_model_fit`: the new gradient, the loss change, or the
    followed mode); the radius doubles after a step the model predicted well.

    Parameters
    ----------
    landscape : Landscape
    minimum : array_like (d,)
    direction : array_like (d,)
        Initial direction (usually a Hessian eigenvector at the minimum, with a sign).
    radius : float, optional
        First trust radius; default :func:`initial_radius` along ``direction``.
    max_steps : int
        Step budget.
    stiffen_limit : float
        Give up when the followed curvature exceeds this multiple of its value at the start.
    n_modes : int, optional
        For d > DENSE_MAX: how many lowest modes are tracked (default 3).
    budget : Budget, optional
        Stop when it ends.

    Returns
    -------
    (saddle or None, outcome, steps)
        The refined index-1 saddle (``critical.refine_saddle``) or None, a short outcome text and the
        number of steps taken.
    """
    a = _point(landscape, minimum, "minimum")
    u = np.asarray(direction, float)
    u = u / np.linalg.norm(u)
    r = initial_radius(landscape, a, u) if radius is None else float(radius)
    r0 = r
    modes = _Modes(landscape, n_modes)
    x = a + 1e-3 * r * u            # the first P-RFO step along u is then a full trust-region step
    v = u
    b0 = None
    history = []                    # (distance from the minimum, followed curvature) at accepted points
    steps = 0
    bt = np.nan
    try:
        g, w, V, hmul = modes.at(x)
        f = landscape.value(x)
    except LandscapeError as exc:
        return None, f"gave up: the loss failed at the first step ({str(exc).splitlines()[0]})", 0
    while steps < int(max_steps):
        if budget is not None and budget.expired():
            return None, "stopped: the time budget ended", steps
        steps += 1
        ov = V.T @ v
        j = int(np.argmax(np.abs(ov)))
        vt = V[:, j] * np.sign(ov[j])
        bt = float(w[j])
        if b0 is None:
            b0 = bt
        dist = float(np.linalg.norm(x - a))
        if b0 > 0 and bt > stiffen_limit * b0:
            return None, "gave up: the followed curvature stiffened (a wall, not a saddle)", steps
        if not history or dist != history[-1][0]:
            history.append((dist, bt))
        if bt > 0 and dist > 10.0 * r0:     # beyond ℓ_u, where a third derivative would have shown
            # curvature at the last accepted point within half the present distance
            half = next((c for d_, c in reversed(history) if d_ <= 0.5 * dist), None)
            if half is not None and half > 0 and abs(bt - half) <= PLATEAU_CHANGE * half:
                return None, "gave up: the followed curvature is flat while the distance doubles (no saddle that way)", steps
        F = float(vt @ g)
        h = _rfo_maximise(bt, F) * vt
        if modes.dense:
            others = np.delete(np.arange(w.size), j)
            Vo = V[:, others]
            h = h + Vo @ _rfo_minimise(w[others], Vo.T @ g)
        else:
            others = np.delete(np.arange(w.size), j)
            b_next = float(np.min(w[others])) if others.size else 1.0
            h = h + _complement_step(landscape, x, g, vt, b_next)
        n = float(np.linalg.norm(h))
        if bt < 0 and n <= 1e-8 * max(r0, dist):
            break                   # converged on a point of negative followed curvature
        if n > r:
            h *= r / n
            n = r
        x_new = x + h
        try:
            g_new, w_new, V_new, hmul_new = modes.at(x_new)
            f_new = landscape.value(x_new)
        except LandscapeError:
            r = 0.25 * n            # the loss failed there (overflow, domain): a smaller step
            if r < 1e-12 * max(r0, dist):
                return None, "gave up: the loss is not finite along the walk", steps
            continue
        fit = _model_fit(g, hmul(h), h, f, g_new, f_new, w_new, V_new, vt)
        if fit > 1.0 and n > 1e-9 * max(r0, dist):
            r = 0.25 * n            # the quadratic model failed over this step: reject it
            continue
        if fit < 0.2 and n >= 0.99 * r:
            r *= 2.0
        elif fit > 0.5:
            r = 0.5 * n
        x, f, g, w, V, hmul = x_new, f_new, g_new, w_new, V_new, hmul_new
        v = vt
    else:
        if not bt < 0:
            return None, f"gave up after {steps} steps without reaching negative curvature", steps
    try:
        return refine_saddle(landscape, x, max_step=max(r, r0)), "saddle", steps
    except CriticalPointError as exc:
        return None, f"gave up: Newton from the walk's end did not give an index-1 saddle ({exc})", steps


def _record(attempts, method, start, result):
    saddle, outcome, steps = result
    if saddle is not None:
        outcome = f"saddle at {_fmt(saddle)}"
    attempts.append(Attempt(method=method, start=start, outcome=outcome, saddle=saddle, steps=steps))
    return saddle


def min_mode_saddles(landscape, minimum, *, softest_modes: int | None = None, budget: Budget | None = None,
                     attempts: list | None = None, modes=None, **walk) -> list[np.ndarray]:
    """Index-1 saddles reached by eigenvector following from a minimum, both ways along each mode.

    Parameters
    ----------
    landscape : Landscape
    minimum : array_like (d,)
    softest_modes : int, optional
        Follow this many softest Hessian modes. Default: all when d ≤ DENSE_MAX, 4 otherwise.
    budget : Budget, optional
    attempts : list, optional
        Receives one :class:`Attempt` per walk.
    modes : (eigenvalues, eigenvectors), optional
        The minimum's lowest Hessian modes, ascending, if already computed (at least ``softest_modes``).
    **walk
        Passed to :func:`follow_mode` (``radius``, ``max_steps``, ``stiffen_limit``).

    Returns
    -------
    list of ndarray
        Distinct refined index-1 saddles, lowest first. Possibly empty.
    """
    a = _point(landscape, minimum, "minimum")
    d = landscape.dim
    if softest_modes is None:
        softest_modes = d if d <= DENSE_MAX else 4
    m = int(min(softest_modes, d))
    if m < 1:
        raise LandscapeError(f"softest_modes must be >= 1; got {softest_modes}")
    V = lowest_modes(landscape, a, m)[1] if modes is None or modes[1].shape[1] < m else modes[1][:, :m]
    log = [] if attempts is None else attempts
    found = []
    for i in range(m):
        for sign in (1.0, -1.0):
            if budget is not None and budget.expired():
                return sorted(unique_points(found), key=landscape.value)
            res = follow_mode(landscape, a, sign * V[:, i], budget=budget,
                              n_modes=min(d - 1, i + 2) if d > DENSE_MAX else None, **walk)
            sad = _record(log, "mode following", f"mode {i + 1} ({'+' if sign > 0 else '−'})", res)
            if sad is not None:
                found.append(sad)
            if budget is not None:
                budget.report(len(log), 2 * m, "minimum-mode walks")
    return sorted(unique_points(found), key=landscape.value)


# ---------------------------------------------------------------------- double-ended
def _bent_starts(landscape, a, b, n_images: int) -> list[tuple[str, np.ndarray]]:
    """Initial strings from a to b: straight, and (up to BENT_MAX_DIM coordinates) bent both ways along the
    two softest modes ⟂ (b − a)."""
    t = np.linspace(0.0, 1.0, n_images)[:, None]
    straight = a + t * (b - a)
    out = [("straight", straight)]
    if not 2 <= landscape.dim <= BENT_MAX_DIM:
        return out
    ab = (b - a) / np.linalg.norm(b - a)
    mid = 0.5 * (a + b)
    try:
        _, V = lowest_modes(landscape, mid, min(landscape.dim, 3))
    except LandscapeError:
        return out
    bow = np.sin(np.pi * t)                 # zero at both ends
    span = np.linalg.norm(b - a)
    for i in range(V.shape[1]):
        n = V[:, i] - ab * (ab @ V[:, i])
        if np.linalg.norm(n) < 0.1:
            continue
        n /= np.linalg.norm(n)
        for sign in (1.0, -1.0):
            out.append((f"bent {'+' if sign > 0 else '−'} along mode {i + 1} at the midpoint",
                        straight + sign * 0.5 * span * bow * n))
        if len(out) >= 5:
            break
    return out


def _midpoint_walk(landscape, a, m, budget):
    """Minimum-mode following from (a + m)/2 along its softest mode, when that mode has negative curvature.

    Between two minima related by a symmetry of the loss (an MLP unit's sign flip or a swap of two
    units) the midpoint lies in the symmetric subspace, and its softest mode breaks the symmetry:
    following it (maximising along it, minimising along the rest) reaches the index-1 saddle of the
    subspace, a saddle that climbing strings, drawn to lower channels, miss (a dead-unit saddle).
    """
    mid = 0.5 * (a + m)
    try:
        w, V = lowest_modes(landscape, mid, 1)
    except LandscapeError as exc:
        return None, f"gave up: {str(exc).splitlines()[0]}", 0
    if not w[0] < 0:
        return None, "no negative curvature at the midpoint", 0
    return follow_mode(landscape, mid, V[:, 0], budget=budget)


def string_saddles(landscape, minimum, neighbours, *, budget: Budget | None = None, attempts: list | None = None,
                   n_images: int = 21) -> list[np.ndarray]:
    """Index-1 saddles between ``minimum`` and each neighbouring minimum by climbing strings.

    From each initial string of :func:`_bent_starts` (straight and bent), ``paths.neb_path`` relaxes
    the string with a climbing image and refines its top by Newton.
    """
    from flatminima.numerics.paths import neb_path

    a = _point(landscape, minimum, "minimum")
    log = [] if attempts is None else attempts
    found = []
    for m in neighbours:
        m = _point(landscape, m, "neighbouring minimum")
        if np.linalg.norm(m - a) <= 1e-9 * (1.0 + np.linalg.norm(a)):
            continue
        if budget is not None and budget.expired():
            return found
        sad = _record(log, "midpoint walk", f"from the midpoint to the minimum at {_fmt(m)}",
                      _midpoint_walk(landscape, a, m, budget))
        if sad is not None:
            found.append(sad)
        for label, start in _bent_starts(landscape, a, m, n_images):
            if budget is not None and budget.expired():
                return found
            try:
                sad, _ = neb_path(landscape, a, m, n_images=n_images, initial=start, max_iter=STRING_ITERATIONS)
                res = (sad, "saddle", 0)
            except (CriticalPointError, LandscapeError) as exc:
                res = (None, f"gave up: {str(exc).splitlines()[0]}", 0)
            sad = _record(log, "string", f"to the minimum at {_fmt(m)}, {label}", res)
            if sad is not None:
                found.append(sad)
    return found


def search_saddles(landscape, minimum, *, hints=(), neighbours=(), softest_modes: int | None = None,
                   budget: Budget | None = None, modes=None) -> SaddleSearch:
    """Every index-1 saddle these searches reach around ``minimum``: hints, walks, then strings.

    Parameters
    ----------
    landscape : Landscape
    minimum : array_like (d,)
        A polished minimum.
    hints : sequence of array_like
        Saddle guesses (``--saddle``, a loss file's ``saddles``); each is refined by Newton.
    neighbours : sequence of array_like
        Other minima; climbing strings are run to each, and to the minima that the walks' saddles
        lead to on their far side.
    softest_modes : int, optional
        Modes followed (default all when d ≤ DENSE_MAX, else 4).
    budget : Budget, optional
    modes : (eigenvalues, eigenvectors), optional
        The minimum's lowest Hessian modes if already computed.
    """
    from flatminima.numerics.paths import far_minimum

    a = _point(landscape, minimum, "minimum")
    budget = Budget() if budget is None else budget
    t0 = time.monotonic()
    attempts: list[Attempt] = []
    found = []
    for h in hints:
        try:
            res = (refine_saddle(landscape, h), "saddle", 0)
        except CriticalPointError as exc:
            res = (None, f"not an index-1 saddle near the hint ({exc})", 0)
        sad = _record(attempts, "hint", f"the hint {_fmt(np.asarray(h, float))}", res)
        if sad is not None:
            found.append(sad)
    d = landscape.dim
    m = int(min(softest_modes if softest_modes is not None else (d if d <= DENSE_MAX else 4), d))
    planned = len(attempts) + 2 * m
    if m == 0:                  # hints only
        return SaddleSearch(minimum=a, saddles=sorted(unique_points(found), key=landscape.value),
                            attempts=attempts, seconds=time.monotonic() - t0, planned=planned)
    found += min_mode_saddles(landscape, a, softest_modes=m, budget=budget, attempts=attempts, modes=modes)
    others = [np.asarray(n, float) for n in neighbours]
    for b in unique_points(found):
        if budget.expired():
            break
        far = far_minimum(landscape, b, a)
        if far is not None:
            others.append(far)
    others = [o for o in unique_points(others) if np.linalg.norm(o - a) > 1e-6 * (1.0 + np.linalg.norm(a))]
    if d > BENT_MAX_DIM:        # many minima in many dimensions (an MLP's symmetric copies): the nearest ones
        others = sorted(others, key=lambda o: float(np.linalg.norm(o - a)))[:STRING_NEIGHBOURS]
    planned += 6 * len(others)
    found += string_saddles(landscape, a, others, budget=budget, attempts=attempts)
    saddles = sorted(unique_points(found), key=landscape.value)
    return SaddleSearch(minimum=a, saddles=saddles, attempts=attempts, seconds=time.monotonic() - t0,
                        budget_ended=budget.expired() and len(attempts) < planned, planned=planned)
