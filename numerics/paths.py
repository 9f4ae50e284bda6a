"""Escape paths: steepest-descent minimum energy paths from saddles, and the climbing string method.

A minimum energy path (MEP) is the steepest-descent curve from an index-1 saddle b, started along
∓e (e the negative-curvature eigenvector), down to a minimum a; here it is integrated in arc length,
dθ/dσ = −∇L/‖∇L‖, with an adaptive Runge–Kutta method and dense output. Along an MEP the tangent is
t = ∇L/‖∇L‖, so the curvature along the path is d²L/dσ² = tᵀHt (the term ∇L·dt/dσ vanishes because
dt/dσ ⊥ t ∥ ∇L); the inflection split c is where it changes sign, and s = (L(c) − L(a))/ΔL
(docs/theory.md §The path parameter s).

The double-ended search is the climbing string method (E, Ren & Vanden-Eijnden, J. Chem. Phys. 126,
164103 (2007); climbing image as in Ren & Vanden-Eijnden, J. Chem. Phys. 138, 134105 (2013)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq

from flatminima.numerics.critical import (DENSE_MAX, CriticalPointError, WrongIndexError, _largest_eigenvalue, _point,
                               find_minimum, length_scale, lowest_modes, refine_saddle)
from flatminima.numerics.errors import LandscapeError

__all__ = ["MinimumEnergyPath", "minimum_energy_path", "descend", "Stopped", "neb_path", "far_minimum", "relax_string",
           "flat_connected"]


@dataclass(frozen=True)
class MinimumEnergyPath:
    """The half of the MEP between a minimum a and an index-1 saddle b on its basin boundary.

    Attributes
    ----------
    minimum, saddle : ndarray (d,)
        a (refined) and b.
    escape_direction : ndarray (d,)
        e, the unit negative-curvature eigenvector of H_b, oriented away from a (descending from b
        along −e reaches a).
    tangent : ndarray (d,)
        t, the unit direction in which the path leaves a.
    points : ndarray (n, d)
        Points along the path from a (first) to b (last), equally spaced in arc length.
    losses : ndarray (n,)
        L at ``points``.
    arc_length : ndarray (n,)
        Arc length from a.
    inflection : ndarray (d,)
        c, the first point from a where the curvature along the path changes sign.
    s : float
        (L(c) − L(a))/ΔL, docs/theory.md §The path parameter s.
    """

    minimum: np.ndarray
    saddle: np.ndarray
    escape_direction: np.ndarray
    tangent: np.ndarray
    points: np.ndarray
    losses: np.ndarray
    arc_length: np.ndarray
    inflection: np.ndarray
    s: float

    @property
    def barrier(self) -> float:
        """ΔL = L(b) − L(a)."""
        return float(self.losses[-1] - self.losses[0])


@dataclass(frozen=True)
class _Descent:
    solution: object        # scipy OdeSolution: θ(σ)
    length: float           # arc length at the end
    end: np.ndarray
    converged: bool         # stopped by ‖∇L‖ ≤ g_stop (not by max_length)


class _Budget(Exception):
    """Internal: the descent used up its gradient evaluations."""


class Stopped(Exception):
    """A computation was stopped from outside (its ``stop`` callable said so: a time budget ended)."""


def descend(landscape, start, *, g_stop: float, max_length: float, rtol: float = 1e-7,
            atol: float = 1e-10, stop_at=None, stop_radius: float = 0.0,
            max_evaluations: int = 20_000, stop=None) -> _Descent:
    """Steepest descent in arc length, dθ/dσ = −∇L/‖∇L‖, from ``start`` until ‖∇L‖ ≤ g_stop.

    Integrated by BDF with the exact Jacobian up to ``DENSE_MAX`` coordinates (the flow is stiff in
    ill-conditioned valleys), by RK45 above it.

    Parameters
    ----------
    g_stop : float
        Gradient norm at which the path is considered to have reached a minimum.
    max_length : float
        Largest arc length integrated.
    stop_at, stop_radius : array, float, optional
        Also stop within ``stop_radius`` of the point ``stop_at`` (a known minimum).
    max_evaluations : int
        Gradient budget; exceeding it raises CriticalPointError.
    stop : callable, optional
        ``stop() -> bool``, asked at every gradient; True raises :class:`Stopped` (a time budget).
    """
    x0 = _point(landscape, start, "start")

    cache: dict[bytes, np.ndarray] = {}

    def grad(x):
        # RK45 evaluates the event at the step end, where the last stage already took the gradient
        key = x.tobytes()
        if key not in cache:
            if len(cache) > 8:
                cache.clear()
            cache[key] = landscape.grads(x[None, :])[0]     # the compiled gradient for built-ins
        return cache[key]

    calls = [0]

    def rhs(_, x):
        # dθ/dσ = −∇L/√(‖∇L‖² + g_stop²): arc length while ‖∇L‖ ≫ g_stop, a smooth slow-down (no
        # chattering across the minimum, where −∇L/‖∇L‖ is discontinuous) when ‖∇L‖ ~ g_stop.
        calls[0] += 1
        if calls[0] > max_evaluations:
            raise _Budget
        if stop is not None and stop():
            raise Stopped
        g = grad(x)
        return -g / np.sqrt(g @ g + g_stop**2)

    def flat(_, x):
        return np.linalg.norm(grad(x)) - g_stop
    flat.terminal = True
    events = [flat]
    if stop_at is not None:
        target = np.asarray(stop_at, float)

        def near(_, x):
            return np.linalg.norm(x - target) - stop_radius
        near.terminal = True
        events.append(near)
    stiff = {}
    if landscape.dim <= DENSE_MAX:
        # the flow is stiff where the Hessian is ill-conditioned (a narrow valley, an MLP): an implicit
        # method (BDF) with the exact Jacobian of f = −g/s, s = √(g·g + g_stop²):
        # ∂f/∂θ = −H/s + g (gᵀH)/s³
        def jac(_, x):
            g = grad(x)
            H = landscape.search_hessian(x)
            s = np.sqrt(g @ g + g_stop**2)
            return -H / s + np.outer(g, g @ H) / s**3
        stiff = {"method": "BDF", "jac": jac}
    try:
        sol = solve_ivp(rhs, (0.0, float(max_length)), x0, rtol=rtol, atol=atol, dense_output=True, events=events,
                        **(stiff or {"method": "RK45"}))
    except _Budget:
        raise CriticalPointError(f"steepest descent from {np.round(x0, 6).tolist()[:4]} on {landscape.name} "
                                 f"did not reach a minimum within {max_evaluations} gradient evaluations") from None
    if sol.status == -1:
        raise CriticalPointError(f"steepest descent from {x0.tolist()[:4]} failed on {landscape.name}: {sol.message}")
    return _Descent(sol.sol, float(sol.t[-1]), sol.y[:, -1].copy(), sol.status == 1)


def _side(landscape, b, direction, eps, g_stop, max_length, minimum, stop):
    """Descend from b + eps·direction; return (descent, polished end minimum), None where they fail."""
    near = {} if minimum is None else {"stop_at": minimum, "stop_radius": 1e-6 * (1.0 + np.linalg.norm(minimum))}
    try:
        desc = descend(landscape, b + eps * direction, g_stop=g_stop, max_length=max_length, stop=stop, **near)
    except CriticalPointError:
        return None, None
    if stop is not None and stop():
        raise Stopped
    try:
        end = find_minimum(landscape, desc.end, near=True)
    except CriticalPointError:
        end = None
    return desc, end


def _same(x, y, rtol=1e-5) -> bool:
    return x is not None and y is not None and np.linalg.norm(x - y) <= rtol * (1.0 + np.linalg.norm(y))


def minimum_energy_path(landscape, saddle, minimum=None, *, n_points: int = 65,
                        max_length: float | None = None, stop=None) -> MinimumEnergyPath:
    """The MEP from an index-1 saddle down to ``minimum`` (or to whichever minimum −e leads).

    Parameters
    ----------
    landscape : Landscape
    saddle : array_like (d,)
        An index-1 saddle (e.g. from ``refine_saddle``).
    minimum : array_like (d,), optional
        The minimum a whose basin boundary the saddle should lie on. When given, both descents ±e
        are tried and the one reaching a is kept.
    n_points : int
        Number of stored points, equally spaced in arc length.
    max_length : float, optional
        Largest arc length of a descent; default 100 length scales (plus ‖b − a‖).
    stop : callable, optional
        ``stop() -> bool``: True ends the descents early with :class:`Stopped` (a time budget).

    Raises
    ------
    CriticalPointError
        When neither descent from the saddle reaches ``minimum``.
    Stopped
        When ``stop`` said so.
    """
    b = _point(landscape, saddle, "saddle")
    a_hint = None if minimum is None else _point(landscape, minimum, "minimum")
    w, V = lowest_modes(landscape, b, 1)
    h_be = abs(float(w[0]))
    e = V[:, 0] / np.linalg.norm(V[:, 0])
    ell = length_scale(landscape, b)
    eps = 1e-2 * ell                       # start offset along −e (the MEP is straight there to O(eps²));
    #                                        its gradient h_be·eps is 10·g_stop below
    # stop the descent at ‖∇L‖ = 1e-3·h_be·ℓ (about 1e-3 ℓ from a, inside its quadratic region) and
    # join the polished minimum by a straight segment: following the flow further only resolves
    # the chattering of −∇L/‖∇L‖ across the minimum.
    g_stop = 1e-3 * max(h_be, 1e-12) * ell
    if max_length is None:
        max_length = 100.0 * ell + (0.0 if a_hint is None else 10.0 * np.linalg.norm(b - a_hint))
    if a_hint is not None and (b - a_hint) @ e < 0:
        e = -e                             # first guess: e points away from a
    desc, end = _side(landscape, b, -e, eps, g_stop, max_length, a_hint, stop)
    if a_hint is not None and not _same(end, a_hint):
        e = -e
        desc, end = _side(landscape, b, -e, eps, g_stop, max_length, a_hint, stop)
        if not _same(end, a_hint):
            raise CriticalPointError(f"the saddle {np.round(b, 6).tolist()[:4]} is not on the boundary of the "
                                     f"basin of {np.round(a_hint, 6).tolist()[:4]} on {landscape.name}")
    if end is None:
        raise CriticalPointError(f"steepest descent from the saddle {np.round(b, 6).tolist()[:4]} reaches no "
                                 f"minimum on {landscape.name}")
    a = end if a_hint is None else a_hint
    return _assemble(landscape, a, b, e, desc, eps, n_points)


def far_minimum(landscape, saddle, minimum) -> np.ndarray | None:
    """A minimum on the far side of an index-1 saddle from ``minimum``: quasi-Newton from b ± 0.1ℓ·e.

    Used to find neighbouring minima for the double-ended search, so an end in a third basin is
    harmless; None when neither side ends at a minimum other than ``minimum``.
    """
    b = _point(landscape, saddle, "saddle")
    a = _point(landscape, minimum, "minimum")
    _, V = lowest_modes(landscape, b, 1)
    step = 0.1 * length_scale(landscape, b) * V[:, 0]
    for sign in (1.0, -1.0):
        try:
            end = find_minimum(landscape, b + sign * step)
        except CriticalPointError:
            continue
        if not _same(end, a):
            return end
    return None


def _curvature_along(landscape, x) -> float:
    """tᵀHt with t = ∇L/‖∇L‖: d²L/dσ² along a steepest-descent path."""
    g = landscape.grad(x)
    n = np.linalg.norm(g)
    if n == 0:
        return float("nan")
    t = g / n
    return float(t @ landscape.search_hvp(x, t))


def _curvatures_along(landscape, X: np.ndarray) -> np.ndarray:
    """tᵀHt at each row of X (n, d), batched: one vectorised Hessian call when d ≤ DENSE_MAX."""
    if landscape.dim > DENSE_MAX:
        return np.array([_curvature_along(landscape, x) for x in X])
    G = landscape.grads(X)
    H = landscape.hessians(X)
    n = np.linalg.norm(G, axis=1)
    T = G / np.where(n > 0, n, 1.0)[:, None]
    out = np.einsum("ni,nij,nj->n", T, H, T)
    return np.where(n > 0, out, np.nan)


def _assemble(landscape, a, b, e, desc, eps, n_points) -> MinimumEnergyPath:
    S = desc.length
    r0 = float(np.linalg.norm(desc.end - a))     # straight join from a to the end of the descent
    total = r0 + S + eps                   # arc length from a to b

    def theta_at(u):
        """θ at arc length u from a: the join [0, r0], the descent, the straight start [.., total] along −e."""
        if u <= r0:
            return a + (u / r0) * (desc.end - a) if r0 > 0 else np.array(a, float)
        sig = S - (u - r0)
        if sig >= 0:
            return np.asarray(desc.solution(min(sig, S)), float)
        return b - (total - u) * e

    us = np.linspace(0.0, total, int(n_points))
    pts = np.array([theta_at(u) for u in us])
    pts[0], pts[-1] = a, b
    losses = landscape.values(pts)
    L_a, L_b = float(losses[0]), float(losses[-1])
    barrier = L_b - L_a
    # tangent at a: the direction from a to the path point at distance 1e-3·‖b − a‖ (the direction in which
    # the most probable path leaves a, docs/theory.md §Assumptions), found on the dense output.
    r = 1e-3 * np.linalg.norm(b - a)

    def dist(u):
        return np.linalg.norm(theta_at(u) - a) - r
    u_hi = us[1]
    while dist(u_hi) < 0 and u_hi < total:
        u_hi = min(2 * u_hi, total)
    u_lo = 0.0 if dist(0.0) < 0 else None
    if u_lo is None or dist(u_hi) < 0:
        t_vec = (pts[1] - a)
    else:
        t_vec = theta_at(brentq(dist, u_lo, u_hi, xtol=1e-14 * max(total, 1.0))) - a
    tangent = t_vec / np.linalg.norm(t_vec)
    # inflection split: first sign change of the curvature along the path, scanning from a
    n_scan = max(64, int(n_points))
    grid = np.linspace(r0, r0 + S, n_scan + 1)          # points of the descent
    kap = _curvatures_along(landscape, np.array([theta_at(u) for u in grid]))
    c = None
    for i in range(len(grid) - 1):
        if kap[i] > 0 and kap[i + 1] <= 0:
            u_c = brentq(lambda u: _curvature_along(landscape, theta_at(u)), grid[i], grid[i + 1],
                         xtol=1e-12 * max(total, 1.0), rtol=1e-12)
            c = theta_at(u_c)
            break
    if c is None:           # curvature never turns along the path: no inflection point resolved
        c, s = a.copy(), float("nan")
    else:
        s = (landscape.value(c) - L_a) / barrier if barrier > 0 else float("nan")
    return MinimumEnergyPath(minimum=np.asarray(a, float), saddle=b, escape_direction=e, tangent=tangent,
                             points=pts, losses=losses, arc_length=us, inflection=c, s=float(s))


# ---------------------------------------------------------------------- climbing string method
def resample(points: np.ndarray, n: int) -> np.ndarray:
    """n + 1 points at equal (Euclidean) arc length along the polyline ``points``, its ends kept exactly."""
    P = np.asarray(points, float)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(P, axis=0), axis=1))]
    if s[-1] == 0:
        return np.repeat(P[:1], n + 1, axis=0)
    u = np.linspace(0.0, s[-1], n + 1)
    out = np.column_stack([np.interp(u, s, P[:, k]) for k in range(P.shape[1])])
    out[0], out[-1] = P[0], P[-1]
    return out


def _reparametrise(images: np.ndarray, fixed: int | None) -> np.ndarray:
    """Images redistributed at equal arc length (piecewise linear), keeping image ``fixed`` in place."""
    def equal(seg):
        return resample(seg, len(seg) - 1)
    if fixed is None or fixed <= 0 or fixed >= len(images) - 1:
        return equal(images)
    left, right = equal(images[: fixed + 1]), equal(images[fixed:])
    return np.vstack([left[:-1], right])


def relax_string(landscape, images, *, climbing: bool, max_iter: int, tol: float, dt: float,
                 done=None) -> np.ndarray:
    """The string method's iteration: images move down −∇L (FIRE steps), then are redistributed at equal arc length.

    End images stay fixed. With ``climbing`` (after 20 iterations) the highest interior image moves
    by −∇L + 2(∇L·t)t instead, t the tangent, and the segments on each side of it are redistributed
    separately. Stops when the largest force perpendicular to the string (and the climbing image's
    full force) is below ``tol``, when no image moves by more than 1e-6 of a segment, or when
    ``done(images)`` (asked every 25 iterations) says so. Only ``landscape.values`` and
    ``landscape.grads`` are used.
    """
    n = len(images)
    span = float(np.linalg.norm(images[-1] - images[0]))
    top, moved = None, np.inf
    # FIRE (Bitzek, Koskinen, Gähler, Moseler & Gumbsch, Phys. Rev. Lett. 97, 170201 (2006)): velocity
    # steps mixed towards the force while the power F·v stays positive, the time step growing to
    # 10·dt; reset when F·v < 0. Soft directions relax in ~√(condition number) iterations instead
    # of ~condition number for plain descent.
    v = np.zeros((n - 2, images.shape[1]))
    h, alpha, n_pos = float(dt), 0.1, 0
    for it in range(int(max_iter)):
        if done is not None and it >= 20 and it % 25 == 0 and done(images):
            break
        G = landscape.grads(images[1:-1])
        F = -G
        tang = images[2:] - images[:-2]
        tang /= np.linalg.norm(tang, axis=1, keepdims=True)
        E = landscape.values(images[1:-1])
        perp = F - np.sum(F * tang, axis=1, keepdims=True) * tang
        top = int(np.argmax(E)) + 1 if climbing and it >= 20 else None
        if top is not None:
            t = tang[top - 1]
            F[top - 1] = -G[top - 1] + 2.0 * (G[top - 1] @ t) * t
        worst = np.max(np.linalg.norm(perp, axis=1))
        if top is not None:
            worst = max(worst, np.linalg.norm(F[top - 1]))
        if it > 20 and (worst < tol or moved < 1e-6 * span / (n - 1)):
            break                           # converged, or stalled at the string's discretisation error
        Fm = perp.copy()                    # the parallel part is the reparametrisation's business
        if top is not None:
            Fm[top - 1] = F[top - 1]
        if float(np.sum(Fm * v)) > 0.0:
            v = (1.0 - alpha) * v + alpha * np.linalg.norm(v) * Fm / max(float(np.linalg.norm(Fm)), 1e-300)
            n_pos += 1
            if n_pos > 5:
                h, alpha = min(1.1 * h, 10.0 * dt), 0.99 * alpha
        else:
            v[:] = 0.0
            h, alpha, n_pos = 0.5 * h, 0.1, 0
        v += h * Fm
        step = h * v
        cap = 0.5 * span / (n - 1)          # no image moves more than half a segment per iteration
        norms = np.linalg.norm(step, axis=1, keepdims=True)
        step *= np.minimum(1.0, cap / np.maximum(norms, 1e-300))
        new = images.copy()
        new[1:-1] += step
        new = _reparametrise(new, top)
        moved = float(np.max(np.linalg.norm(new - images, axis=1)))
        images = new
    return images


def flat_connected(landscape, x, y, *, n_images: int = 21, max_iter: int = 2000) -> bool:
    """Whether two minima lie in one valley of minima: a relaxed string between them never rises.

    The string starts straight; it counts as flat when the loss along it (at the images and at
    points between them) is at most 1e-6·λ_max·‖y − x‖² above the higher end (λ_max the larger top
    curvature at the two ends: the loss a step of 1e-3‖y − x‖ along the stiffest direction would
    cost), i.e. at the string's convergence tolerance, and it has not slid away along the valley
    (a string longer than 3‖y − x‖ is refused).
    """
    x = _point(landscape, x, "minimum")
    y = _point(landscape, y, "minimum")
    span = float(np.linalg.norm(y - x))
    if span == 0.0:
        return True
    lam = max(_largest_eigenvalue(landscape, p) for p in (x, y))
    top = max(landscape.value(x), landscape.value(y))
    allowed = 1e-6 * lam * span**2
    images = x + np.linspace(0.0, 1.0, n_images)[:, None] * (y - x)
    if _max_along(landscape, images) - top <= allowed:
        return True
    images = relax_string(landscape, images, climbing=False, max_iter=max_iter, tol=1e-4 * lam * span,
                          dt=0.5 / lam)
    length = float(np.sum(np.linalg.norm(np.diff(images, axis=0), axis=1)))
    if length > 3.0 * span:
        return False        # the string slid far along the valley: its straight segments prove nothing
    return bool(_max_along(landscape, images) - top <= allowed)


def _max_along(landscape, images, per_segment: int = 8) -> float:
    """The largest loss on the polygon through the images, sampled at ``per_segment`` points per segment
    (a barrier between two images is seen, not only at them)."""
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[1:, None]
    between = (images[:-1, None, :] + t[None] * np.diff(images, axis=0)[:, None, :]).reshape(-1, images.shape[1])
    return float(np.max(landscape.values(np.vstack([images, between]))))


def neb_path(landscape, a, b, *, n_images: int = 21, climbing: bool = True, max_iter: int = 5000,
             tol: float | None = None, initial=None) -> tuple[np.ndarray, np.ndarray]:
    """Index-1 saddle between two minima by the climbing string method, refined by Newton.

    Images start on the straight line from a to b and descend the gradient, then are redistributed
    at equal arc length (string method). Every 25 iterations Newton is tried from the highest image;
    the string stops as soon as that gives an index-1 saddle. With ``climbing``, the highest interior image instead
    moves by −∇L + 2(∇L·t)t, t the path tangent, so it climbs to the saddle along the path and
    descends across it; the segments on each side of it are redistributed separately.

    Parameters
    ----------
    landscape : Landscape
    a, b : array_like (d,)
        The two end points (minima; they are not moved).
    n_images : int ≥ 3
        Number of images including the end points.
    climbing : bool
        Use the climbing image (otherwise the highest image of the relaxed string is refined).
    max_iter : int
        Iteration limit.
    tol : float, optional
        Stop when the largest force perpendicular to the string (and the climbing image's full
        force) is below this, default 1e-3·λ_max·‖b − a‖; or when no image moves by more than
        1e-6 of a segment in an iteration (the string has stalled at its discretisation error).
    initial : array_like (n_images, d), optional
        The initial string (first row a, last row b); default the straight segment.

    Returns
    -------
    saddle : ndarray (d,)
        The refined index-1 saddle (``refine_saddle``).
    path_points : ndarray (n_images, d)
        The final string, with the climbing image replaced by the refined saddle.

    Raises
    ------
    CriticalPointError
        When the highest image does not refine to an index-1 saddle.
    """
    a = _point(landscape, a, "a")
    b = _point(landscape, b, "b")
    if int(n_images) != n_images or n_images < 3:
        raise LandscapeError(f"n_images must be an integer >= 3; got {n_images}")
    n = int(n_images)
    if np.allclose(a, b):
        raise LandscapeError("a and b must be different points")
    lam = max(_largest_eigenvalue(landscape, p) for p in (a, b))
    dt = 0.5 / lam                          # explicit Euler is stable for dt·λ_max < 2
    tol = 1e-3 * lam * np.linalg.norm(b - a) if tol is None else float(tol)
    if initial is None:
        images = a + np.linspace(0.0, 1.0, n)[:, None] * (b - a)
    else:
        images = np.array(initial, dtype=float)
        if images.shape != (n, landscape.dim):
            raise LandscapeError(f"initial must have shape ({n}, {landscape.dim}); got {images.shape}")
        images[0], images[-1] = a, b
        images = _reparametrise(images, None)
    early = {}

    def top_refines(imgs):
        # Newton from the highest image: once it converges to a critical point the string has done its
        # job (an index-1 saddle), or cannot do it (a higher-index point: the string lies across a ridge
        # of two or more barriers, e.g. between minima that differ in several coordinates)
        top = imgs[int(np.argmax(landscape.values(imgs[1:-1]))) + 1]
        try:
            early["saddle"] = refine_saddle(landscape, top, max_iter=12)
        except WrongIndexError as exc:
            early["wrong"] = exc
        except CriticalPointError:
            return False
        return True
    images = relax_string(landscape, images, climbing=climbing, max_iter=max_iter, tol=tol, dt=dt,
                          done=top_refines if climbing else None)
    i_top = int(np.argmax(landscape.values(images[1:-1]))) + 1
    if "wrong" in early:
        raise early["wrong"]
    if "saddle" in early:
        out = images.copy()
        out[i_top] = early["saddle"]
        return early["saddle"], out
    if not climbing:
        # highest point of a cubic spline through the images, then Newton
        d = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(images, axis=0), axis=1))]
        spl = CubicSpline(d, images)
        u = np.linspace(d[i_top - 1], d[i_top + 1], 201)
        guess = spl(u[int(np.argmax(landscape.values(spl(u))))])
    else:
        guess = images[i_top]
    saddle = refine_saddle(landscape, guess)
    out = images.copy()
    out[i_top] = saddle
    return saddle, out
