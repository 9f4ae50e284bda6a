"""Quasi-potential barriers: the minimum action path from a minimum to a saddle (geometric MAM).

For the Itô SDE dθ = −∇L dt + √(2D(θ)) dW the mean escape time over a saddle b grows at small noise as
exp(ΔΦ), ΔΦ the Freidlin–Wentzell quasi-potential of b relative to the minimum a (Freidlin & Wentzell,
*Random Perturbations of Dynamical Systems*, ch. 4): the infimum over paths φ from a to b and times T of

    S_T[φ] = ¼ ∫₀ᵀ (φ̇ + ∇L)ᵀ D(φ)⁻¹ (φ̇ + ∇L) dt.

Minimised over the time parametrisation, this is the geometric action of Heymann & Vanden-Eijnden
(Comm. Pure Appl. Math. 61, 1052 (2008), §2), which depends only on the curve:

    Ŝ[φ] = ½ ∫₀¹ ( |φ'|_A |∇L|_A + ⟨φ', ∇L⟩_A ) dα,   A = D⁻¹,  ⟨u, v⟩_A = uᵀAv.

Checks: with white noise D = D₀I every path that climbs along ∇L gives Ŝ = ΔL/D₀ and no path gives
less (Cauchy–Schwarz), so ΔΦ = ΔL/D₀ (Kramers' exponent). In 1-D with the two-region noise of Xie et al.
(D = D_a before the split point c, D_b after it) ΔΦ = (L(c) − L(a))/D_a + (L(b) − L(c))/D_b, the
exponent of their Eq. (7). With D ∝ H (SGD-type noise) in d > 1 the dynamics is not reversible and
ΔΦ has no closed form.

Method. The path is a polyline of n + 1 vertices from a to b. Its geometric action is integrated
exactly up to Gauss–Legendre order on every segment (segments are split where a piecewise-constant D
jumps, at the plane of the two-region model), so it is an upper bound on ΔΦ up to quadrature
error, and it is minimised over the interior vertices by L-BFGS with gradients by central
differences: every segment touches one even and one odd vertex, so perturbing all vertices of one
parity at once gives every partial derivative with 4d evaluations of the action. Between rounds the
vertices are redistributed at equal arc length. This minimises Heymann & Vanden-Eijnden's
geometric action directly (their semi-implicit preconditioned descent is a different minimiser of
the same functional). The path is solved with n/2 and n segments; ΔΦ is the Richardson
extrapolation (the polyline's error is O(h²)) and the stated error is a third of the difference.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import minimize

from flatminima.errors import InputError
from flatminima.numerics.paths import resample

__all__ = ["Diffusion", "MinimumActionPath", "minimum_action_path", "geometric_action", "noise_diffusion",
           "QUASI_POTENTIAL_NOISE", "noise_scale", "reversible_along"]

QUASI_POTENTIAL_NOISE = ("white", "hessian_fixed", "hessian_two_region", "hessian_psd", "loss_hessian")
"""Noise models with a diffusion matrix D(θ) (Gaussian noise), hence a quasi-potential."""

INFINITE_ACTION = 1e100
"""An action above this means a path must move where D is singular (no noise there): ΔΦ = ∞."""

GAUSS_NODES = 4
"""Gauss–Legendre nodes per segment (exact for integrands of degree 7 along a segment)."""


@dataclass(frozen=True)
class Diffusion:
    """A diffusion matrix field D(θ) (SPD where the noise model makes it so), as the action needs it.

    Attributes
    ----------
    matrices : callable
        ``matrices(X (m, d)) -> (m, d, d)``: D at each row of X.
    constant : ndarray (d, d) or None
        D when it does not depend on θ (then ``matrices`` is not called).
    plane : (point, normal) or None
        A plane where D jumps (piecewise constant on each side, e.g. the two-region model's split at
        c with normal e); segments are split there so the quadrature stays exact.
    name : str
        What D is (the noise model), for reports.
    """

    matrices: Callable | None = None
    constant: np.ndarray | None = None
    plane: tuple | None = None
    name: str = ""

    @classmethod
    def fixed(cls, D, name: str = "constant") -> "Diffusion":
        """A constant D: a scalar (D·I needs ``dim``, so give a matrix) or a (d, d) SPD matrix."""
        D = np.atleast_2d(np.asarray(D, float))
        if D.shape[0] != D.shape[1] or not np.allclose(D, D.T, rtol=1e-12, atol=0.0):
            raise InputError(f"diffusion must be a symmetric (d, d) matrix; got shape {D.shape}")
        if np.linalg.eigvalsh(D)[0] <= 0:
            raise InputError("diffusion must be positive definite (its smallest eigenvalue is <= 0)")
        return cls(constant=D, name=name)

    def inverse_at(self, X: np.ndarray) -> np.ndarray:
        """A = D⁻¹ at the rows of X, (m, d, d); +inf-like where D is singular (noise-free directions)."""
        if self.constant is not None:
            return np.broadcast_to(np.linalg.inv(self.constant), (X.shape[0],) + self.constant.shape)
        D = np.asarray(self.matrices(X), float)
        w, V = np.linalg.eigh(D)
        scale = np.max(np.abs(w), axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            inv_w = np.where(w > 1e-12 * scale, 1.0 / np.where(w > 0, w, 1.0), 1e300)
        return np.einsum("mij,mj,mkj->mik", V, inv_w, V)


@dataclass(frozen=True)
class MinimumActionPath:
    """The minimum action path from a minimum to a saddle and its quasi-potential barrier ΔΦ.

    Attributes
    ----------
    quasi_potential : float
        ΔΦ, Richardson-extrapolated from ``n`` and ``n/2`` segments (dimensionless: the escape time
        grows as exp(ΔΦ)); ``inf`` when every path needs noise along a direction where D is singular.
    error : float
        |Ŝ_n − Ŝ_{n/2}|/3, the error estimate of ``quasi_potential``.
    action : float
        Ŝ of the polyline with ``n`` segments (an upper bound on ΔΦ up to quadrature error).
    action_coarse : float
        Ŝ with n/2 segments.
    points : ndarray (n + 1, d)
        The path, from the minimum (first row) to the saddle (last row).
    n_segments : int
    iterations : int
        L-BFGS iterations over both resolutions.
    converged : bool
        Whether the last round changed the action by less than the tolerance.
    diffusion : str
        The diffusion's name.
    """

    quasi_potential: float
    error: float
    action: float
    action_coarse: float
    points: np.ndarray
    n_segments: int
    iterations: int
    converged: bool
    diffusion: str

    def to_dict(self) -> dict:
        """Plain numbers for JSON (the path itself is left out)."""
        def num(x):
            return float(x) if math.isfinite(x) else None
        return {"value": num(self.quasi_potential), "error": num(self.error), "action": num(self.action),
                "action_coarse": num(self.action_coarse), "n_segments": int(self.n_segments),
                "converged": bool(self.converged), "diffusion": self.diffusion,
                "method": "geometric minimum action (Heymann & Vanden-Eijnden 2008), L-BFGS on the polyline, "
                          "Richardson over n/2 and n segments"}


# ---------------------------------------------------------------------- the discrete action
_GL_X, _GL_W = np.polynomial.legendre.leggauss(GAUSS_NODES)
_GL_S, _GL_W = 0.5 * (_GL_X + 1.0), 0.5 * _GL_W            # nodes and weights on [0, 1]


def _pieces(P: np.ndarray, plane) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces (start, end, segment index) of the polyline P, a segment split in two where it crosses ``plane``."""
    A, B = P[:-1], P[1:]
    owner = np.arange(P.shape[0] - 1)
    if plane is None:
        return A, B, owner
    c, e = plane
    fa, fb = (A - c) @ e, (B - c) @ e
    cross = fa * fb < 0
    if not np.any(cross):
        return A, B, owner
    t = np.where(cross, fa / np.where(cross, fa - fb, 1.0), 0.0)
    M = A + t[:, None] * (B - A)                                # where the segment meets the plane
    # a crossing segment becomes [A, M] and [M, B], in place
    reps = np.where(cross, 2, 1)
    first = np.cumsum(reps) - reps                              # index of each segment's first piece
    starts, ends = np.repeat(A, reps, axis=0), np.repeat(B, reps, axis=0)
    ends[first[cross]] = M[cross]
    starts[first[cross] + 1] = M[cross]
    return starts, ends, np.repeat(owner, reps)


def _segment_actions(landscape, diffusion: Diffusion, P: np.ndarray) -> np.ndarray:
    """Ŝ of every segment of the polyline P (n + 1, d): (n,), by Gauss–Legendre on each piece."""
    S0, S1, owner = _pieces(P, diffusion.plane)
    delta = S1 - S0                                             # φ' of each piece on s ∈ [0, 1]
    X = S0[:, None, :] + _GL_S[None, :, None] * delta[:, None, :]  # (pieces, q, d); nodes are interior
    m, q, d = X.shape
    flat = X.reshape(m * q, d)
    A = diffusion.inverse_at(flat).reshape(m, q, d, d)
    g = landscape.grads(flat).reshape(m, q, d)
    Ag = np.einsum("mqij,mqj->mqi", A, g)
    Ad = np.einsum("mqij,mj->mqi", A, delta)
    g_norm = np.sqrt(np.maximum(np.einsum("mqi,mqi->mq", g, Ag), 0.0))
    d_norm = np.sqrt(np.maximum(np.einsum("mi,mqi->mq", delta, Ad), 0.0))
    cross = np.einsum("mi,mqi->mq", delta, Ag)
    integrand = 0.5 * (d_norm * g_norm + cross)                 # ½(|φ'|_A|∇L|_A + ⟨φ', ∇L⟩_A)
    return np.bincount(owner, weights=integrand @ _GL_W, minlength=P.shape[0] - 1)


def geometric_action(landscape, diffusion: Diffusion, points) -> float:
    """Ŝ of the polyline through ``points`` (n + 1, d): ½∫(|φ'|_A|∇L|_A + ⟨φ', ∇L⟩_A) dα, segment by segment."""
    P = np.asarray(points, float)
    return float(np.sum(_segment_actions(landscape, diffusion, P)))


# ---------------------------------------------------------------------- minimisation
def _action_gradient(landscape, diffusion, P: np.ndarray, h: float) -> tuple[float, np.ndarray]:
    """Ŝ of the polyline P and ∂Ŝ/∂P (n + 1, d) (rows of the fixed ends are zero)."""
    if diffusion.constant is not None and diffusion.plane is None:
        return _action_gradient_constant(landscape, diffusion.constant, P, h)
    n, d = P.shape[0] - 1, P.shape[1]
    seg = _segment_actions(landscape, diffusion, P)
    grad = np.zeros_like(P)
    # central differences, coloured: every segment touches one even and one odd vertex, so moving all
    # vertices of one parity at once gives each of them its own derivative
    for parity in (0, 1):
        idx = np.arange(1 + parity, n, 2)                         # interior vertices of this parity
        for k in range(d if idx.size else 0):
            Pp, Pm = P.copy(), P.copy()
            Pp[idx, k] += h
            Pm[idx, k] -= h
            diff = _segment_actions(landscape, diffusion, Pp) - _segment_actions(landscape, diffusion, Pm)
            grad[idx, k] = (diff[idx - 1] + diff[idx]) / (2 * h)  # vertex i touches segments i − 1 and i
    grad[0] = grad[-1] = 0.0
    return float(np.sum(seg)), grad


def _action_gradient_constant(landscape, D: np.ndarray, P: np.ndarray, h: float) -> tuple[float, np.ndarray]:
    """Ŝ and ∂Ŝ/∂P for a constant D, by the chain rule (Hessian–vector products by differences of ∇L).

    On a segment x(s) = P_i + s·δ the integrand is F = ½(|δ|_A|g|_A + δᵀAg), g = ∇L(x(s)), so
    ∂F/∂δ = ½(Aδ·|g|_A/|δ|_A + Ag) and ∂F/∂x = H(x)·u with u = ½(Ag·|δ|_A/|g|_A + Aδ).
    """
    A = np.linalg.inv(D)
    S0, delta = P[:-1], np.diff(P, axis=0)
    m, d = delta.shape
    X = (S0[:, None, :] + _GL_S[None, :, None] * delta[:, None, :]).reshape(m * GAUSS_NODES, d)
    g = landscape.grads(X).reshape(m, GAUSS_NODES, d)
    Ag, Ad = g @ A, delta @ A                                   # A is symmetric
    g_norm = np.sqrt(np.maximum(np.einsum("mqi,mqi->mq", g, Ag), 0.0))
    d_norm = np.sqrt(np.maximum(np.einsum("mi,mi->m", delta, Ad), 0.0))
    F = 0.5 * (d_norm[:, None] * g_norm + np.einsum("mi,mqi->mq", delta, Ag))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_g = np.where(d_norm[:, None] > 0, g_norm / d_norm[:, None], 0.0)
        ratio_d = np.where(g_norm > 0, d_norm[:, None] / g_norm, 0.0)
    dF_ddelta = 0.5 * (Ad[:, None, :] * ratio_g[..., None] + Ag)               # (m, q, d)
    u = 0.5 * (Ag * ratio_d[..., None] + Ad[:, None, :])
    # H·u by central differences of ∇L, step scaled to each u
    un = np.linalg.norm(u, axis=2, keepdims=True)
    eps = h / np.where(un > 0, un, 1.0)
    U = (eps * u).reshape(-1, d)
    Hu = ((landscape.grads(X + U) - landscape.grads(X - U)).reshape(m, GAUSS_NODES, d)) / (2 * eps)
    w = _GL_W[None, :, None]
    d_start = np.sum(w * ((1.0 - _GL_S)[None, :, None] * Hu - dF_ddelta), axis=1)
    d_end = np.sum(w * (_GL_S[None, :, None] * Hu + dF_ddelta), axis=1)
    grad = np.zeros_like(P)
    grad[:-1] += d_start
    grad[1:] += d_end
    grad[0] = grad[-1] = 0.0
    return float(np.sum(F @ _GL_W)), grad


def _normal_frames(P: np.ndarray) -> np.ndarray:
    """Orthonormal bases (n − 1, d, d − 1) of the planes normal to the path at its interior vertices."""
    t = P[2:] - P[:-2]
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    d = P.shape[1]
    # Householder reflection mapping t to e_1: its other columns span t's normal plane
    e1 = np.zeros(d)
    e1[0] = 1.0
    v = t - e1
    nv = np.einsum("ij,ij->i", v, v)
    v = np.where(nv[:, None] > 1e-30, v, np.eye(d)[1])         # t = e_1: reflect along e_2 (any basis will do)
    nv = np.einsum("ij,ij->i", v, v)
    Hh = np.eye(d)[None] - 2.0 * v[:, :, None] * v[:, None, :] / nv[:, None, None]
    return Hh[:, :, 1:]


def _minimise(landscape, diffusion, P0: np.ndarray, *, rtol: float, max_rounds: int, max_iter: int):
    """Minimise Ŝ over moves of the interior vertices normal to the path; redistribute between rounds.

    Tangential moves only reparametrise the curve (Ŝ is geometric), so they are left out: this removes
    the near-degenerate directions that make a minimiser over all coordinates creep.
    """
    a, b = P0[0], P0[-1]
    if a.size == 1:       # in 1-D the segment a→b is the only path that does not double back (which costs)
        P = np.linspace(a, b, P0.shape[0])
        return P, geometric_action(landscape, diffusion, P), 0, True
    if not geometric_action(landscape, diffusion, P0) < INFINITE_ACTION:
        return P0, math.inf, 0, True           # no noise where the path must go (see minimum_action_path)
    h = 1e-6 * float(np.linalg.norm(b - a))
    P, iterations, last, converged = P0, 0, math.inf, False
    for _ in range(max_rounds):
        base, frames = P.copy(), _normal_frames(P)

        def fg(y, base=base, frames=frames):
            Q = base.copy()
            Q[1:-1] += np.einsum("ide,ie->id", frames, y.reshape(frames.shape[0], -1))
            value, grad = _action_gradient(landscape, diffusion, Q, h)
            return value, np.einsum("ide,id->ie", frames, grad[1:-1]).ravel()
        res = minimize(fg, np.zeros(frames.shape[0] * frames.shape[2]), jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-10 * abs(last if last < math.inf else 1.0)})
        iterations += int(res.nit)
        moved = base.copy()
        moved[1:-1] += np.einsum("ide,ie->id", frames, res.x.reshape(frames.shape[0], -1))
        P = resample(moved, P.shape[0] - 1)
        value = geometric_action(landscape, diffusion, P)
        if abs(last - value) <= rtol * abs(value):
            converged = True
            break
        last = value
    return P, geometric_action(landscape, diffusion, P), iterations, converged


def minimum_action_path(landscape, minimum, saddle, diffusion: Diffusion, *, n_segments: int = 64,
                        initial=None, rtol: float = 1e-10, max_rounds: int | None = None,
                        max_iter: int | None = None) -> MinimumActionPath:
    """The minimum action path from ``minimum`` to ``saddle`` and ΔΦ with its path-resolution error.

    Parameters
    ----------
    landscape : Landscape
    minimum, saddle : array_like (d,)
        The path's fixed ends a and b (critical points of L).
    diffusion : Diffusion
        D(θ) of the SDE dθ = −∇L dt + √(2D) dW.
    n_segments : int ≥ 4, even
        Segments of the finer polyline (the coarser has half as many).
    initial : array_like (m, d), optional
        A first path from a to b (e.g. the minimum energy path); default the straight segment.
    rtol : float
        A round of L-BFGS and redistribution that changes Ŝ by less than this (relative) ends the search.
    max_rounds, max_iter : int, optional
        Rounds of redistribution, and L-BFGS iterations per round (default 8 × 500 for a constant D,
        4 × 200 for a smooth D(θ), whose gradients cost 4d evaluations of D; ``converged`` says if that
        sufficed).

    Returns
    -------
    MinimumActionPath
    """
    a = np.asarray(minimum, float).ravel()
    b = np.asarray(saddle, float).ravel()
    if a.shape != (landscape.dim,) or b.shape != (landscape.dim,):
        raise InputError(f"minimum and saddle must have {landscape.dim} coordinates")
    if int(n_segments) != n_segments or n_segments < 4 or n_segments % 2:
        raise InputError(f"n_segments must be an even integer >= 4; got {n_segments!r}")
    if not isinstance(diffusion, Diffusion):
        raise InputError("diffusion must be a numerics.quasipotential.Diffusion")
    P = np.vstack([a, b]) if initial is None else np.asarray(initial, float)
    if P.ndim != 2 or P.shape[1] != a.size:
        raise InputError(f"initial must be a path of shape (m, {a.size})")
    P = P.copy()
    P[0], P[-1] = a, b
    fixed = diffusion.constant is not None or diffusion.plane is not None      # cheap to evaluate
    max_rounds = (8 if fixed else 4) if max_rounds is None else int(max_rounds)
    max_iter = (500 if fixed else 200) if max_iter is None else int(max_iter)
    coarse, s_coarse, it1, _ = _minimise(landscape, diffusion, resample(P, n_segments // 2), rtol=rtol,
                                         max_rounds=max_rounds, max_iter=max_iter)
    fine, s_fine, it2, conv = _minimise(landscape, diffusion, resample(coarse, n_segments), rtol=rtol,
                                        max_rounds=max_rounds, max_iter=max_iter)
    # Richardson with O(h²): ΔΦ ≈ Ŝ_n − (Ŝ_{n/2} − Ŝ_n)/3
    extrapolated = s_fine - (s_coarse - s_fine) / 3.0
    if not s_fine < INFINITE_ACTION:       # every path crosses a direction without noise: no escape at all
        extrapolated = s_fine = s_coarse = math.inf
    return MinimumActionPath(quasi_potential=float(extrapolated), error=abs(s_coarse - s_fine) / 3.0,
                             action=float(s_fine), action_coarse=float(s_coarse), points=fine,
                             n_segments=int(n_segments), iterations=it1 + it2, converged=conv,
                             diffusion=diffusion.name)


# ---------------------------------------------------------------------- the noise models' D(θ)
def noise_scale(noise: str, *, eta=None, temperature=None, batch_size=None, loss_unit: float = 1.0) -> float:
    """ε with D(θ) = ε·M(θ), M from :func:`noise_diffusion`; then ΔΦ = ΔΦ_M/ε.

    Per-step covariance Σ = 2Dη (D = ηC/2 for SGD-type noise C): white noise ε = temperature;
    C = λ·(H-shaped)/B gives ε = ηλ/(2B); Mori et al.'s C = 2L·H₊/B gives ε = η/(2B).
    """
    if noise == "white":
        return float(temperature)
    if noise == "loss_hessian":
        return float(eta) / (2.0 * float(batch_size))
    if noise in QUASI_POTENTIAL_NOISE:
        return float(eta) * float(loss_unit) / (2.0 * float(batch_size))
    raise InputError(f"noise must be one of {', '.join(QUASI_POTENTIAL_NOISE)} for a quasi-potential; got {noise!r}")


def _abs_psd(H: np.ndarray, floor: float) -> np.ndarray:
    """|H| + floor·I for a batch of symmetric matrices (|H| = V|Λ|Vᵀ)."""
    w, V = np.linalg.eigh(H)
    return np.einsum("mij,mj,mkj->mik", V, np.abs(w) + floor, V)


def noise_diffusion(noise: str, landscape, minimum, saddle=None, direction=None, *, delta: float = 0.0) -> Diffusion:
    """The shape M(θ) of a noise model's diffusion D = ε·M (ε from :func:`noise_scale`), as the action needs it.

    ============================  ===========================================================
    noise                         M(θ)
    ============================  ===========================================================
    white                         I
    hessian_fixed                 H_a (the Hessian at the minimum), everywhere
    hessian_two_region            H_a where (θ − c)·e < 0, |H_b| past the plane; c the split
                                  point (curvature along e changes sign on a→b), e the escape
                                  direction
    hessian_psd                   |H(θ)| + δI
    loss_hessian                  2·max(L(θ), 0)·H(θ)₊ (negative curvature clipped: no noise
                                  along it, so M is singular there)
    ============================  ===========================================================
    """
    a = np.asarray(minimum, float)
    d = a.size
    if noise == "white":
        return Diffusion.fixed(np.eye(d), name="white")
    if noise == "hessian_fixed":
        return Diffusion.fixed(landscape.hessian(a), name="hessian_fixed")
    if noise == "hessian_two_region":
        from flatminima.numerics.simulate import inflection_split

        if saddle is None or direction is None:
            raise InputError("hessian_two_region needs the saddle and the escape direction")
        b, e = np.asarray(saddle, float), np.asarray(direction, float)
        e = e / np.linalg.norm(e)
        if (b - a) @ e < 0:
            e = -e
        c = inflection_split(landscape, a, b, e)
        Ma, Mb = landscape.hessian(a), _abs_psd(landscape.hessian(b)[None], 0.0)[0]

        def two_region(X):
            past = (X - c) @ e >= 0.0
            return np.where(past[:, None, None], Mb, Ma)
        return Diffusion(matrices=two_region, plane=(c, e), name="hessian_two_region")
    if noise == "hessian_psd":
        if not delta >= 0:
            raise InputError(f"delta must be >= 0; got {delta!r}")
        return Diffusion(matrices=lambda X: _abs_psd(landscape.hessians(X), float(delta)), name="hessian_psd")
    if noise == "loss_hessian":
        def mori(X):
            w, V = np.linalg.eigh(landscape.hessians(X))
            amp = 2.0 * np.maximum(landscape.values(X), 0.0)
            return np.einsum("mij,mj,mkj->mik", V, amp[:, None] * np.maximum(w, 0.0), V)
        return Diffusion(matrices=mori, name="loss_hessian")
    raise InputError(f"noise must be one of {', '.join(QUASI_POTENTIAL_NOISE)} for a quasi-potential; got {noise!r}")



REVERSIBLE_RTOL = 1e-8
"""D counts as commuting with ∇²L when ‖[∇²L, D]‖ ≤ this·‖∇²L‖‖D‖ (round-off level)."""


def reversible_along(landscape, points, diffusion: Diffusion) -> bool:
    """Whether D(θ) commutes with ∇²L(θ) at every point: then D⁻¹∇L is a gradient along the path, the escape is
    reversible and Bouchet–Reygner's non-Gibbsianness correction vanishes."""
    X = np.asarray(points, float)
    Ds = (np.broadcast_to(diffusion.constant, (len(X),) + diffusion.constant.shape) if diffusion.constant is not None
          else diffusion.matrices(X))
    for x, D in zip(X, Ds):
        H = landscape.hessian(x)
        if np.linalg.norm(H @ D - D @ H) > REVERSIBLE_RTOL * np.linalg.norm(H) * np.linalg.norm(D):
            return False
    return True
