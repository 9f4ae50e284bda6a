"""Critical points of a landscape: minima, Newton refinement to index-1 saddles, Hessian spectra.

Minima come from quasi-Newton (scipy L-BFGS-B with the autograd gradient) followed by a Newton
polish; saddles are refined by Newton on ∇L = 0 with a Hessian-index check (the searches that
produce saddle guesses are in ``numerics.saddles``).

Up to ``DENSE_MAX`` coordinates the Hessian is formed and diagonalised (``numpy.linalg.eigh``).
Above it only Hessian-vector products are used: the lowest modes come from
``scipy.sparse.linalg.eigsh`` on a ``LinearOperator`` and Newton systems are solved by MINRES/CG.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, cg, eigsh, lobpcg, minres

from flatminima.numerics.errors import LandscapeError

__all__ = ["CriticalPointError", "WrongIndexError", "DENSE_MAX", "find_minimum", "find_minima", "refine_saddle",
           "hessian_spectrum", "lowest_modes", "length_scale", "unique_points", "zero_mode_mask"]

DENSE_MAX = 200
"""Largest dimension for which Hessians are formed densely; above it only HVPs are used."""

NEWTON_KRYLOV_MAX = 500
"""Krylov iterations per Newton step above DENSE_MAX (CG at a minimum, MINRES at a saddle)."""

# An eigenvalue counts as negative when it is below −EIG_REL·max|λ|, and as a zero mode (a flat
# direction, e.g. a valley of minima or an MLP symmetry) when |λ| ≤ EIG_REL·max|λ|: far above the
# ~1e-13 relative round-off of a Hessian at a Newton-polished point, far below any curvature a
# simulation can resolve (a condition number of 1e8).
EIG_REL = 1e-8


class CriticalPointError(LandscapeError):
    """A critical-point search did not converge, or converged to a point of the wrong index."""


class WrongIndexError(CriticalPointError):
    """Newton converged, but to a critical point whose Hessian index is not the one asked for."""


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
    return LinearOperator((d, d), matvec=lambda v: landscape.search_hvp(x, np.ravel(v)), dtype=float)


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


def zero_mode_mask(eigenvalues) -> np.ndarray:
    """Which Hessian eigenvalues are zero modes: |λ| ≤ EIG_REL·max|λ| (flat directions)."""
    w = np.asarray(eigenvalues, float)
    if w.size == 0:
        return np.zeros(0, bool)
    return np.abs(w) <= EIG_REL * max(float(np.max(np.abs(w))), 1e-300)


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

    A heuristic: it scales as 1/√k under the √k reparametrization, as distances do (docs/theory.md §Sharpness scaling).
    """
    x = _point(landscape, x, "theta")
    lam = _largest_eigenvalue(landscape, x)
    return float(np.sqrt(max(1.0, abs(landscape.value(x))) / max(lam, 1e-12)))


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
    # an inexact Newton step (the gradient is exact, so the iteration still converges): a few hundred
    # Krylov iterations, not the 10·d an exact solve of an ill-conditioned MLP Hessian would need
    maxiter = min(10 * landscape.dim, NEWTON_KRYLOV_MAX)
    if minimum:
        step, _ = cg(op, -g, rtol=1e-12, maxiter=maxiter)
    else:
        step, _ = minres(op, -g, rtol=1e-12, maxiter=maxiter)
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
def find_minimum(landscape, start, *, gtol: float | None = None, maxiter: int = 10_000,
                 near: bool = False) -> np.ndarray:
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
    near : bool
        ``start`` is already close to the minimum (e.g. the end of a steepest descent): try Newton
        alone first. L-BFGS-B's first step has unit length whatever the gradient, which can jump
        out of a small or shallow basin.

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
    if near:
        try:
            x, gnorm = _newton(landscape, x0, minimum=True, max_iter=50, max_step=None)
            w = hessian_spectrum(landscape, x, k=2)
            if gnorm <= _gtol(landscape, x, gtol) and not _n_negative(w, max(np.max(np.abs(w)), 1e-300)):
                return x
        except LandscapeError:
            pass
    try:
        with np.errstate(all="ignore"):
            res = optimize.minimize(lambda t: landscape.value(t), x0, jac=lambda t: landscape.grad(t),
                                    method="L-BFGS-B",
                                    options={"maxiter": int(maxiter), "gtol": 1e-10, "ftol": 1e-15})
    except LandscapeError as exc:       # e.g. the search ran to where the loss overflows
        raise CriticalPointError(f"no minimum found from {_fmt(x0)} on {landscape.name}: "
                                 f"{str(exc).splitlines()[0]}") from None
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


def find_minima(landscape, starts=None, *, rng=None, n_starts: int | None = None, spread: float = 3.0,
                gtol: float | None = None, stop=None) -> list[np.ndarray]:
    """Distinct local minima of L, sorted by loss (lowest first).

    Parameters
    ----------
    landscape : Landscape
    starts : array_like of shape (n, d), optional
        Starting points. Default: the landscape's known ``minima`` hints; without hints, ``n_starts``
        points from the landscape's ``sampler`` (seeds 0, 1, ...) or else drawn N(0, spread²·I) from
        ``rng``, plus the points next to each known saddle hint.
    rng : numpy Generator or int seed, optional
        Randomness for the default starts (SPEC 7); None means seed 0, so results are reproducible.
    stop : callable, optional
        ``stop() -> bool``: start no further search once it says so (a time budget); at least one
        start always runs.
    n_starts, spread : int, float
        Number and spread of random starts when there are no hints; default 32 starts up to 10
        coordinates (cheap there, and a 2-D landscape with four basins is then covered), 16 up to
        ``DENSE_MAX``, 1 above (each start of a large network is a training run: pass ``starts``, or
        ``--minimum``, for more).

    Raises
    ------
    CriticalPointError
        When no start converges to a minimum.
    """
    if n_starts is None:
        n_starts = 32 if landscape.dim <= 10 else 16 if landscape.dim <= DENSE_MAX else 1
    if starts is None:
        if landscape.minima:
            starts = list(landscape.minima)
        elif landscape.sampler is not None:
            starts = [np.asarray(landscape.sampler(seed), float) for seed in range(int(n_starts))]
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
        if found and stop is not None and stop():
            break
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
        raise WrongIndexError(f"the critical point {_fmt(x1)} near {_fmt(x0)} on {landscape.name} has "
                                 f"{n_neg} negative Hessian eigenvalues, not 1 (not an index-1 saddle)")
    return x1
