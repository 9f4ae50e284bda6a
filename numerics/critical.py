"""Critical points of a landscape: minima, Newton refinement and index-1 saddle searches.

Minima come from quasi-Newton (scipy L-BFGS-B with the autograd gradient) followed by a Newton
polish; saddles from Newton on ∇L = 0 with a Hessian-index check, and from single-ended
minimum-mode (eigenvector) following out of a minimum (Cerjan & Miller, J. Chem. Phys. 75, 2800
(1981); partitioned rational-function steps of Baker, J. Comput. Chem. 7, 385 (1986)).

Up to ``DENSE_MAX`` coordinates the Hessian is formed and diagonalised (``numpy.linalg.eigh``).
Above it only Hessian-vector products are used: the lowest modes come from
``scipy.sparse.linalg.eigsh`` on a ``LinearOperator`` and Newton systems are solved by MINRES/CG.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, cg, eigsh, lobpcg, minres

from numerics.errors import LandscapeError

__all__ = ["CriticalPointError", "DENSE_MAX", "find_minimum", "find_minima", "refine_saddle",
           "min_mode_saddles", "follow_mode", "hessian_spectrum", "lowest_modes", "length_scale", "mode_length",
           "unique_points"]

DENSE_MAX = 200
"""Largest dimension for which Hessians are formed densely; above it only HVPs are used."""

# An eigenvalue counts as negative when it is below −EIG_REL·max|λ| (zero modes of flat
# directions, e.g. MLP symmetries, are neither negative nor positive).
EIG_REL = 1e-8


class CriticalPointError(LandscapeError):
    """A critical-point search did not converge, or converged to a point of the wrong index."""


# ---------------------------------------------------------------------- small helpers
def _point(landscape, x, what: str) -> np.ndarray:
    """x as a float array of shape (d,), or a one-line LandscapeError."""
    t = np.asarray(x, dtype=float)
    if t.shape != (landscape.dim,):
        raise LandscapeError(f"{what} must have {landscape.dim} coordinates for {landscape.name}; "
                             f"got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise LandscapeError(f"{what} must be finite; got {t.tolist()}")
    return t


def _hvp_operator(landscape, x) -> LinearOperator:
    d = landscape.dim
    return LinearOperator((d, d), matvec=lambda v: landscape.hvp(x, np.ravel(v)), dtype=float)


def _fmt(x: np.ndarray) -> str:
    x = np.asarray(x)
    if x.size <= 4:
        return "[" + ", ".join(f"{v:.6g}" for v in x) + "]"
    return f"[{x[0]:.6g}, {x[1]:.6g}, ... ({x.size} coordinates)]"


def lowest_modes(landscape, x, k: int, *, v0=None) -> tuple[np.ndarray, np.ndarray]:
    """The k lowest Hessian eigenpairs at x: (eigenvalues (k,), eigenvectors (d, k)), ascending.

    Dense ``eigh`` when d ≤ ``DENSE_MAX``; otherwise ``eigsh`` (smallest algebraic) on the
    Hessian-vector-product operator, with ``lobpcg`` as the fallback when ARPACK fails (e.g. on an
    exactly degenerate Hessian such as c·I). ``v0`` warm-starts the iterative solvers.
    """
    x = _point(landscape, x, "theta")
    d = landscape.dim
    k = int(min(k, d))
    if d <= DENSE_MAX:
        w, V = np.linalg.eigh(landscape.hessian(x))
        return w[:k], V[:, :k]
    op = _hvp_operator(landscape, x)
    rng = np.random.default_rng(0)
    if v0 is None and k < d - 1:
        # cold start: Lanczos (ARPACK) from a seeded random vector
        try:
            w, V = eigsh(op, k=k, which="SA", v0=rng.standard_normal(d), tol=1e-10, maxiter=min(20 * d, 5000))
            order = np.argsort(w)
            return w[order], V[:, order]
        except (ArpackNoConvergence, ArpackError):
            pass
    # warm start (mode tracking) or fallback: LOBPCG from the previous block. Lanczos started on a
    # near-eigenvector of a degenerate Hessian (e.g. Styblinski–Tang: c·I plus one moved coordinate)
    # spans an invariant 2-D subspace and restarts without end; the block method does not.
    X0 = rng.standard_normal((d, k))
    if v0 is not None:
        v0 = np.asarray(v0, float).reshape(d, -1)
        X0 = 1e-3 * X0 / np.sqrt(d)
        X0[:, : min(k, v0.shape[1])] += v0[:, :k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # lobpcg's "not reaching the requested tolerance"
        w, V = lobpcg(op, X0, largest=False, tol=1e-7, maxiter=100)
    order = np.argsort(w)
    return np.asarray(w)[order], np.asarray(V)[:, order]


def hessian_spectrum(landscape, x, *, k: int = 8) -> np.ndarray:
    """Hessian eigenvalues at x, ascending: all of them when d ≤ ``DENSE_MAX``, else the k lowest."""
    x = _point(landscape, x, "theta")
    if landscape.dim <= DENSE_MAX:
        return np.linalg.eigvalsh(landscape.hessian(x))
    return lowest_modes(landscape, x, k)[0]


def _n_negative(w: np.ndarray, scale: float) -> int:
    return int(np.sum(w < -EIG_REL * scale))


def _largest_eigenvalue(landscape, x) -> float:
    if landscape.dim <= DENSE_MAX:
        return float(np.max(np.abs(np.linalg.eigvalsh(landscape.hessian(x)))))
    w = eigsh(_hvp_operator(landscape, x), k=1, which="LM", tol=1e-6, return_eigenvectors=False,
              v0=np.ones(landscape.dim))
    return float(abs(w[0]))


def length_scale(landscape, x) -> float:
    """ℓ = √(max(1, |L(x)|)/λ_max(H(x))): a step length for searches started at x.

    A heuristic: it scales as 1/√k under the √k reparametrization, as distances do (THEORY §6.5).
    """
    x = _point(landscape, x, "theta")
    lam = _largest_eigenvalue(landscape, x)
    return float(np.sqrt(max(1.0, abs(landscape.value(x))) / max(lam, 1e-12)))


def mode_length(landscape, x, u) -> float:
    """ℓ_u = |∂²_u L| / |∂³_u L| at x: the distance along unit u over which the curvature changes by itself.

    The third derivative comes from a central difference of the gradient, uᵀ(∇L(x+δu) − 2∇L(x) +
    ∇L(x−δu))/δ². Capped by ``length_scale`` (used when L is nearly quadratic along u). Invariant in
    form under the √k reparametrization (it scales as 1/√k).
    """
    x = _point(landscape, x, "theta")
    u = np.asarray(u, float) / np.linalg.norm(u)
    cap = length_scale(landscape, x)
    delta = 1e-3 * min(cap, 1.0 + np.linalg.norm(x) / np.sqrt(landscape.dim))
    curv = abs(float(u @ landscape.hvp(x, u)))
    third = abs(float(u @ (landscape.grad(x + delta * u) - 2.0 * landscape.grad(x)
                           + landscape.grad(x - delta * u)))) / delta**2
    return float(min(cap, curv / third)) if third > 0 else cap


def unique_points(points, *, rtol: float = 1e-6) -> list[np.ndarray]:
    """Points with duplicates removed: two points are equal when ‖x − y‖ ≤ rtol·(1 + ‖x‖)."""
    out: list[np.ndarray] = []
    for p in points:
        p = np.asarray(p, float)
        if all(np.linalg.norm(p - q) > rtol * (1.0 + np.linalg.norm(q)) for q in out):
            out.append(p)
    return out


# ---------------------------------------------------------------------- Newton on ∇L = 0
def _newton_step(landscape, x, g, *, minimum: bool) -> np.ndarray:
    """Newton step −H⁻¹g; for a minimum with |λ| in place of λ (a descent direction).

    Eigen-directions with |λ| ≤ EIG_REL·max|λ| (flat directions) are left alone.
    """
    if landscape.dim <= DENSE_MAX:
        w, V = np.linalg.eigh(landscape.hessian(x))
        cut = EIG_REL * max(np.max(np.abs(w)), 1e-300)
        w_eff = np.abs(w) if minimum else w
        c = V.T @ g
        keep = np.abs(w) > cut
        step = np.zeros_like(c)
        step[keep] = -c[keep] / w_eff[keep]
        return V @ step
    op = _hvp_operator(landscape, x)
    if minimum:
        step, _ = cg(op, -g, rtol=1e-12, maxiter=10 * landscape.dim)
    else:
        step, _ = minres(op, -g, rtol=1e-12, maxiter=10 * landscape.dim)
    return step


def _newton(landscape, x, *, minimum: bool, max_iter: int, max_step: float | None):
    """Newton iterations until the gradient stops shrinking (round-off floor); returns the best point."""
    best_x = x
    best_g = float(np.linalg.norm(landscape.grad(x)))
    stalls = 0
    for _ in range(max_iter):
        if best_g == 0.0:
            break
        g = landscape.grad(best_x)
        step = _newton_step(landscape, best_x, g, minimum=minimum)
        n = np.linalg.norm(step)
        if max_step is not None and n > max_step:
            step *= max_step / n
        x_new = best_x + step
        try:
            g_new = float(np.linalg.norm(landscape.grad(x_new)))
        except LandscapeError:
            break
        if g_new < best_g:
            progress = g_new < 0.5 * best_g
            best_x, best_g = x_new, g_new
            stalls = 0 if progress else stalls + 1
        else:
            stalls += 1
        if stalls >= 2:
            break
    return best_x, best_g


def _gtol(landscape, x, gtol: float | None) -> float:
    # accepted gradient norm: 1e-7 in units of loss per unit length, max(1, |L|)/max(1, ‖θ‖) — far
    # above the round-off floor the Newton polish reaches (≈1e-13 on the built-ins) and far below
    # anything an optimiser stops at by accident (also on a loss that runs off to −∞, where |L|
    # and ‖θ‖ grow together).
    if gtol is not None:
        return float(gtol)
    return 1e-7 * max(1.0, abs(landscape.value(x))) / max(1.0, float(np.linalg.norm(x)))


# ---------------------------------------------------------------------- minima
def find_minimum(landscape, start, *, gtol: float | None = None, maxiter: int = 10_000) -> np.ndarray:
    """A local minimum of L: L-BFGS-B from ``start`` then Newton polish to the round-off floor.

    Parameters
    ----------
    landscape : Landscape
    start : array_like, shape (d,)
        Starting point.
    gtol : float, optional
        Largest accepted ‖∇L‖ after polishing; default 1e-7·max(1, |L|)/max(1, ‖θ‖).
    maxiter : int
        Iteration limit of the quasi-Newton stage.

    Returns
    -------
    ndarray, shape (d,)
        θ* with ‖∇L(θ*)‖ ≤ gtol and no negative Hessian eigenvalue (zero modes allowed).

    Raises
    ------
    CriticalPointError
        When the search does not converge or ends at a point that is not a minimum.
    """
    x0 = _point(landscape, start, "start")
    with np.errstate(all="ignore"):
        res = optimize.minimize(lambda t: landscape.value(t), x0, jac=lambda t: landscape.grad(t),
                                method="L-BFGS-B",
                                options={"maxiter": int(maxiter), "gtol": 1e-10, "ftol": 1e-15})
    x = np.asarray(res.x, float)
    if not np.all(np.isfinite(x)):
        raise CriticalPointError(f"no minimum found from {_fmt(x0)} on {landscape.name}: the search diverged")
    try:
        x, gnorm = _newton(landscape, x, minimum=True, max_iter=30, max_step=None)
    except LandscapeError as exc:
        raise CriticalPointError(f"no minimum found from {_fmt(x0)} on {landscape.name}: "
                                 f"{str(exc).splitlines()[0]}") from None
    tol = _gtol(landscape, x, gtol)
    if not gnorm <= tol:
        raise CriticalPointError(f"no minimum found from {_fmt(x0)} on {landscape.name}: "
                                 f"|grad L| = {gnorm:.3g} > {tol:.3g} after {res.nit} quasi-Newton steps")
    w = hessian_spectrum(landscape, x, k=2)
    scale = max(np.max(np.abs(w)), 1e-300)
    if _n_negative(w, scale):
        raise CriticalPointError(f"the search from {_fmt(x0)} on {landscape.name} ended at a critical point "
                                 f"{_fmt(x)} with negative curvature {w[0]:.6g}, not a minimum")
    return x


def find_minima(landscape, starts=None, *, rng=None, n_starts: int = 16, spread: float = 3.0,
                gtol: float | None = None) -> list[np.ndarray]:
    """Distinct local minima of L, sorted by loss (lowest first).

    Parameters
    ----------
    landscape : Landscape
    starts : array_like of shape (n, d), optional
        Starting points. Default: the landscape's known ``minima`` hints; without hints, ``n_starts``
        points drawn N(0, spread²·I) from ``rng`` plus the points next to each known saddle hint.
    rng : numpy Generator or int seed, optional
        Randomness for the default starts (SPEC 7); None means seed 0, so results are reproducible.
    n_starts, spread : int, float
        Number and spread of random starts when there are no hints.

    Raises
    ------
    CriticalPointError
        When no start converges to a minimum.
    """
    if starts is None:
        if landscape.minima:
            starts = list(landscape.minima)
        else:
            gen = np.random.default_rng(0 if rng is None else rng)
            starts = list(spread * gen.standard_normal((int(n_starts), landscape.dim)))
            for b in landscape.saddles:
                w, V = lowest_modes(landscape, b, 1)
                step = 0.1 * max(1.0, np.linalg.norm(b)) * V[:, 0]
                starts += [b + step, b - step]
    else:
        starts = np.asarray(starts, float)
        if starts.ndim == 1:
            starts = starts[None, :]
        if starts.ndim != 2 or starts.shape[1] != landscape.dim:
            raise LandscapeError(f"starts must have shape (n, {landscape.dim}) for {landscape.name}; "
                                 f"got shape {starts.shape}")
        starts = list(starts)
    found, last = [], None
    for s in starts:
        try:
            found.append(find_minimum(landscape, s, gtol=gtol))
        except CriticalPointError as exc:
            last = exc
    if not found:
        raise CriticalPointError(f"no minimum found on {landscape.name} from {len(starts)} starts ({last})")
    minima = unique_points(found)
    return sorted(minima, key=landscape.value)


# ---------------------------------------------------------------------- saddles
def refine_saddle(landscape, x, *, gtol: float | None = None, max_iter: int = 50,
                  max_step: float | None = None) -> np.ndarray:
    """An index-1 saddle: Newton on ∇L = 0 from x, accepted only with exactly one negative eigenvalue.

    Parameters
    ----------
    landscape : Landscape
    x : array_like, shape (d,)
        A point near the saddle.
    gtol : float, optional
        Largest accepted ‖∇L‖; default 1e-7·max(1, |L|)/max(1, ‖θ‖).
    max_step : float, optional
        Trust radius of each Newton step (default: none).

    Raises
    ------
    CriticalPointError
        When Newton does not converge, or the critical point has ≠ 1 negative Hessian eigenvalue.
    """
    x0 = _point(landscape, x, "saddle guess")
    try:
        x1, gnorm = _newton(landscape, x0, minimum=False, max_iter=max_iter, max_step=max_step)
    except LandscapeError as exc:
        raise CriticalPointError(f"no saddle found near {_fmt(x0)} on {landscape.name}: "
                                 f"{str(exc).splitlines()[0]}") from None
    tol = _gtol(landscape, x1, gtol)
    if not gnorm <= tol:
        raise CriticalPointError(f"no saddle found near {_fmt(x0)} on {landscape.name}: "
                                 f"|grad L| = {gnorm:.3g} > {tol:.3g} after Newton")
    w = hessian_spectrum(landscape, x1, k=2)
    n_neg = _n_negative(w, max(np.max(np.abs(w)), 1e-300))
    if n_neg != 1:
        raise CriticalPointError(f"the critical point {_fmt(x1)} near {_fmt(x0)} on {landscape.name} has "
                                 f"{n_neg} negative Hessian eigenvalues, not 1 (not an index-1 saddle)")
    return x1


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
        hy = landscape.hvp(x, y) - lam * y
        return hy - vt * (vt @ hy)

    pg = g - vt * (vt @ g)
    y, _ = cg(LinearOperator((d, d), matvec=mv, dtype=float), -pg, rtol=1e-8, maxiter=200)
    return y - vt * (vt @ y)


def follow_mode(landscape, minimum, direction, *, max_step: float, max_steps: int = 300,
                max_distance: float | None = None, stiffen_limit: float = 4.0,
                n_modes: int | None = None) -> np.ndarray | None:
    """Eigenvector following: climb from ``minimum`` along the Hessian mode that continues ``direction``.

    Each step maximises along the followed mode (the eigenvector with the largest overlap with the
    previous one) and minimises along all others, by partitioned rational-function steps (Baker 1986)
    capped at ``max_step``. The walk ends when the followed mode has negative curvature and the step
    is negligible; the end point is then refined by ``refine_saddle``.

    Parameters
    ----------
    landscape : Landscape
    minimum : array_like, shape (d,)
    direction : array_like, shape (d,)
        Initial direction (usually a Hessian eigenvector at the minimum, with a sign).
    max_step : float
        Trust radius of each step.
    max_steps : int
        Step budget.
    max_distance : float, optional
        Give up when the walk is farther than this from the minimum; default 40·max_step.
    stiffen_limit : float
        Give up when the followed curvature exceeds this multiple of its value at the minimum (the
        walk is climbing a wall, not approaching a saddle).
    n_modes : int, optional
        For d > DENSE_MAX: how many lowest modes are computed at each step (the followed mode must
        stay among them). Default 3.

    Returns
    -------
    ndarray or None
        The refined index-1 saddle, or None when the walk gives up or does not converge.
    """
    a = _point(landscape, minimum, "minimum")
    u = np.asarray(direction, float)
    u = u / np.linalg.norm(u)
    dense = landscape.dim <= DENSE_MAX
    k = landscape.dim if dense else int(n_modes or 3)
    x = a + 0.5 * max_step * u
    v = u
    max_distance = 40.0 * max_step if max_distance is None else float(max_distance)
    b0 = None
    block = None
    for _ in range(int(max_steps)):
        try:
            g = landscape.grad(x)
            w, V = lowest_modes(landscape, x, k, v0=block)
        except LandscapeError:
            return None
        block = V
        ov = V.T @ v
        j = int(np.argmax(np.abs(ov)))
        vt = V[:, j] * np.sign(ov[j])
        bt = float(w[j])
        if b0 is None:
            b0 = bt
        if (b0 > 0 and bt > stiffen_limit * b0) or np.linalg.norm(x - a) > max_distance:
            return None
        F = float(vt @ g)
        h = _rfo_maximise(bt, F) * vt
        others = np.delete(np.arange(w.size), j)
        if dense:
            Vo = V[:, others]
            h = h + Vo @ _rfo_minimise(w[others], Vo.T @ g)
        else:
            b_next = float(np.min(w[others])) if others.size else 1.0
            h = h + _complement_step(landscape, x, g, vt, b_next)
        n = np.linalg.norm(h)
        if n > max_step:
            h *= max_step / n
        x = x + h
        v = vt
        if bt < 0 and n < 1e-6 * max_step:
            break
    else:
        if not bt < 0:
            return None
    try:
        return refine_saddle(landscape, x, max_step=max_step)
    except CriticalPointError:
        return None


def min_mode_saddles(landscape, minimum, *, softest_modes: int | None = None, max_step: float | None = None,
                     max_steps: int = 300, max_distance: float | None = None,
                     stiffen_limit: float = 4.0) -> list[np.ndarray]:
    """Index-1 saddles reached by eigenvector following from a minimum, both ways along each mode.

    Parameters
    ----------
    landscape : Landscape
    minimum : array_like, shape (d,)
        A minimum (e.g. from ``find_minimum``).
    softest_modes : int, optional
        Follow only this many softest Hessian modes. Default: all modes when d ≤ ``DENSE_MAX``,
        4 otherwise (lowest modes from ``eigsh`` on the Hessian-vector-product operator).
    max_step : float, optional
        Trust radius; default a quarter of ``mode_length`` along each followed mode.
    max_steps, max_distance, stiffen_limit : int, float, float
        Passed to ``follow_mode`` (default max_distance: 40·max_step).

    Returns
    -------
    list of ndarray
        Distinct refined index-1 saddles, sorted by loss. Possibly empty.
    """
    a = _point(landscape, minimum, "minimum")
    d = landscape.dim
    if softest_modes is None:
        softest_modes = d if d <= DENSE_MAX else 4
    m = int(min(softest_modes, d))
    if m < 1:
        raise LandscapeError(f"softest_modes must be >= 1; got {softest_modes}")
    _, V = lowest_modes(landscape, a, m)
    found = []
    for i in range(m):
        step = 0.25 * mode_length(landscape, a, V[:, i]) if max_step is None else float(max_step)
        for sign in (1.0, -1.0):
            sad = follow_mode(landscape, a, sign * V[:, i], max_step=step, max_steps=max_steps,
                              max_distance=max_distance, stiffen_limit=stiffen_limit, n_modes=min(d - 1, i + 2) if d > DENSE_MAX else None)
            if sad is not None:
                found.append(sad)
    return sorted(unique_points(found), key=landscape.value)
