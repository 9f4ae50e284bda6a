"""The instanton of a constant anisotropic diffusion and Bouchet–Reygner's non-Gibbsianness integral I_ℓ along it.

For dθ = −∇L dt + √(2D) dW with a constant SPD matrix D, write the quasi-potential Φ (the escape time grows as
e^{ΔΦ}) and p = ∇Φ. Φ solves the Hamilton–Jacobi equation pᵀDp − ∇L·p = 0, and the instanton (the most likely
escape path, run forward in time from the minimum a to the saddle z) is a characteristic of it, a solution of
Hamilton's equations for 𝓗(θ, p) = pᵀDp − ∇L(θ)·p:

    θ̇ = −∇L(θ) + 2Dp,      ṗ = ∇²L(θ) p.

Bouchet & Reygner (Ann. Henri Poincaré 17 (2016) 3499, their generalised Eyring–Kramers formula, with their
ℓ = −∇L + D∇Φ in θ-coordinates) write the rate as the local Eyring–Kramers-type prefactor times e^{−I_ℓ}, with

    I_ℓ = ∫ ∇·ℓ(θ_t) dt = ∫ [tr(D Q(t)) − ΔL(θ_t)] dt,     Q = ∇²Φ along the instanton,

which vanishes for reversible dynamics (Φ = L/D₀ for D = D₀I). This module computes it in two steps.

1. **The instanton** as a two-point boundary value problem for Hamilton's equations (``scipy.integrate.solve_bvp``,
   collocation, so the saddle's hyperbolicity does not spoil it as it spoils shooting): it starts on the minimum's
   local Lagrangian manifold p = Q_a(θ − a) at ``START``·|z − a| and ends at z + r·v, v the direction in which
   the instanton reaches the saddle (the unstable eigenvector of N_b = ∇²L(z) − 2DQ_b). The minimum action path
   (``numerics.quasipotential``) gives the first guess away from the ends, with time dt = ds/λ and
   λ = |∇L|_{D⁻¹}/|φ'|_{D⁻¹} (Heymann & Vanden-Eijnden 2008, §2), the linearised flows near them.
2. **Q along it**, by the Riccati equation that the Hamilton–Jacobi equation implies for the Hessian of Φ along a
   characteristic (differentiate 𝓗(θ, ∇Φ(θ)) = 0 twice):

       Q̇ = ∇³L[p] + ∇²L Q + Q ∇²L − 2 Q D Q.

   Forward in time it is stable near the minimum, but not near the saddle: there it has a second fixed point
   (the flat continuation of Φ beyond the saddle) that attracts, and the wanted Q_b repels along the arrival
   direction. The repelling part is exactly Q's action on the tangent, which the instanton gives without any
   equation: p(t) = ∇Φ(θ_t) implies Q θ̇ = ṗ = ∇²L p. So only the block of Q normal to θ̇ is integrated
   (stable near both ends) and Q = K + PYP is reassembled with K fixed by Q t = ∇²L p/|θ̇|.

Near the saddle Q − Q_b decays as e^{−κt}, κ = min(ν, |ν − |n_j||) (``instanton``'s Notes), so the end omitted
beyond r contributes f(r)/κ, f the integrand there; what that estimate misses shrinks geometrically as r halves,
and Aitken's extrapolation over a ladder of r gives I_ℓ with a stated error. The start, at 10⁻⁵ of |z − a|,
contributes nothing measurable. Checked (tests/numerics/test_instanton.py, tests/validation/
test_quasi_potential_law.py): I_ℓ = 0 for reversible escapes, the instanton's action equals the minimum action
path's ΔΦ, and the Bouchet–Reygner rate with e^{−I_ℓ} matches the exact 2-D generator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_bvp
from scipy.interpolate import CubicSpline
from scipy.linalg import solve_continuous_lyapunov

from flatminima.errors import InputError

__all__ = ["Instanton", "instanton"]


@dataclass(frozen=True)
class Instanton:
    """The instanton from a minimum to a saddle under constant D, and I_ℓ along it.

    Attributes
    ----------
    non_gibbsianness : float
        I_ℓ = ∫ [tr(DQ) − ΔL] dt (Bouchet & Reygner's correction; the rate carries e^{−I_ℓ}).
    error : float
        Its error estimate (Runge–Kutta Richardson step plus a quarter of the end corrections).
    action : float
        ΔΦ recomputed along the instanton, ∫ pᵀDp dt plus the quadratic ends: an independent check of the
        minimum action path's ΔΦ.
    times, points, momenta : ndarray
        t ∈ [0, T], θ(t) (m, d) and p(t) (m, d) on the collocation mesh.
    residual : float
        The boundary value solver's largest relative residual.
    converged : bool
        Whether I_ℓ(r) converged fast enough as the ends approached the critical points to extrapolate.
    ratio : float
        The last ratio of successive differences of I_ℓ(r) over halvings of r (2^(−β)).
    truncated : tuple of float
        I_ℓ(r), the integral with the end cut at each of ``distances`` plus the end's estimate f/κ.
    distances : tuple of float
    tail_rate : float
        κ/ν, the exponent with which Q reaches Q_b along the instanton (below ``RESONANT``: near-resonant saddle).
    """

    non_gibbsianness: float
    error: float
    action: float
    times: np.ndarray
    points: np.ndarray
    momenta: np.ndarray
    residual: float
    converged: bool
    ratio: float
    truncated: tuple
    distances: tuple
    tail_rate: float

    def to_dict(self) -> dict:
        """Plain numbers for JSON (the path itself is left out)."""
        def num(x):
            return float(x) if math.isfinite(x) else None
        return {"value": num(self.non_gibbsianness), "error": num(self.error), "converged": self.converged,
                "ratio": num(self.ratio), "tail_rate": num(self.tail_rate), "action": num(self.action),
                "truncated": list(self.truncated), "distances": list(self.distances),
                "duration": num(self.times[-1]) if self.times.size else None, "residual": num(self.residual),
                "method": "instanton by collocation (solve_bvp) from the minimum action path; Riccati equation "
                          "for the Hessian of the quasi-potential normal to it, RK4 with Richardson; ends cut at "
                          "halving distances and Aitken-extrapolated"}


def _hvp(landscape, X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """∇²L(x)·v for rows of X and V, by central differences of ∇L (step 1e-6 of the scale along v̂)."""
    n = np.linalg.norm(V, axis=1, keepdims=True)
    h = 1e-6 * (1.0 + np.linalg.norm(X, axis=1, keepdims=True))
    U = np.where(n > 0, V / np.where(n > 0, n, 1.0), 0.0) * h
    return (landscape.grads(X + U) - landscape.grads(X - U)) / (2.0 * h) * n


def _third(landscape, X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """∇³L(x)[v] (the derivative of ∇²L along v) for rows of X and V, by central differences of Hessians."""
    n = np.linalg.norm(V, axis=1)
    h = 1e-4 * (1.0 + np.linalg.norm(X, axis=1))
    U = np.where(n[:, None] > 0, V / np.where(n > 0, n, 1.0)[:, None], 0.0) * h[:, None]
    dH = landscape.hessians(X + U) - landscape.hessians(X - U)
    return dH * (n / (2.0 * h))[:, None, None]


def _arrival(h_b: np.ndarray, D: np.ndarray, Q_b: np.ndarray, towards: np.ndarray):
    """(v, ν, eigenvalues of N_b): the direction v (unit, pointing to ``towards``) in which the instanton reaches
    the saddle, its rate ν, and N_b's (real) eigenvalues.

    Near z the instanton obeys θ̇ = −N_b(θ − z) with N_b = H_b − 2DQ_b; it arrives along the eigenvector of the
    one positive eigenvalue ν of N_b.
    """
    w, V = np.linalg.eig(h_b - 2.0 * D @ Q_b)
    positive = np.flatnonzero(w.real > 1e-12 * np.max(np.abs(w)))
    if positive.size != 1 or abs(w[positive[0]].imag) > 1e-9 * abs(w[positive[0]]):
        raise InputError(f"the saddle's linearised instanton flow has {positive.size} unstable directions, not 1: "
                         "Q_b is not the saddle's quasi-potential Hessian")
    v = np.real(V[:, positive[0]])
    v /= np.linalg.norm(v)
    return (v if v @ towards >= 0 else -v), float(w[positive[0]].real), w.real


INNER = 0.02
"""The first guess follows the minimum action path only farther than this fraction of |z − a| from both ends;
closer, it follows the linearised flows (the polyline's ends are too coarse to give p there)."""


def _first_guess(landscape, A, P, r_a: float, r_b: float, a, z, N_a, Q_a, v, nu, Q_b, m: int = 400):
    """Time, θ and p of a first guess for the instanton from distance r_a of a to z + r_b·v.

    Between the distances INNER·|z − a| of both ends: the minimum action path with dt = ds/λ and
    p = D⁻¹(λφ' + ∇L)/2. Before: the linearised departure θ − a = e^{−N_a t}x₀, p = Q_a(θ − a). After: the
    linearised approach at rate ν, turned onto v, with p = Q_b(θ − z).
    """
    from scipy.linalg import expm

    ell = float(np.linalg.norm(z - a))
    rho_a, rho_b = INNER * ell, max(INNER * ell, r_b)
    seg = np.linalg.norm(np.diff(P, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    phi = CubicSpline(s, P)
    fine = np.linspace(0.0, s[-1], 20001)
    X = phi(fine)
    da, dz = np.linalg.norm(X - a, axis=1), np.linalg.norm(X - z, axis=1)
    s0 = fine[np.argmax(da >= rho_a)]
    s1 = fine[len(fine) - 1 - np.argmax(dz[::-1] >= rho_b)]
    ss = np.linspace(s0, s1, 20 * m + 1)
    X, dX = phi(ss), phi(ss, 1)
    G = landscape.grads(X)
    lam = np.sqrt(np.einsum("ij,jk,ik->i", G, A, G) / np.einsum("ij,jk,ik->i", dX, A, dX))
    Pm = 0.5 * (lam[:, None] * dX + G) @ A                       # p = D⁻¹(θ̇ + ∇L)/2, θ̇ = λφ'
    t = np.concatenate([[0.0], np.cumsum(np.diff(ss) * 0.5 * (1 / lam[1:] + 1 / lam[:-1]))])
    # m nodes evenly spread in time (the flow's rates are of order one in t, not in arc length)
    keep = np.unique(np.searchsorted(t, np.linspace(0.0, t[-1], m + 1)).clip(0, len(t) - 1))
    t, X, Pm = t[keep], X[keep], Pm[keep]
    k = max(20, m // 10)
    x0 = X[0] - a
    s_a = math.log(np.linalg.norm(x0) / r_a) / float(np.min(np.linalg.eigvals(-N_a).real))
    back = np.linspace(s_a, 0.0, k, endpoint=False)              # backwards in time: the departure shrinks
    Xa = a + np.array([expm(N_a * b) @ x0 for b in back])
    xe = X[-1] - z
    s_z = math.log(np.linalg.norm(xe) / r_b) / nu
    w = np.linspace(0.0, 1.0, k + 1)[1:, None]
    turned = (1 - w) * xe + w * np.linalg.norm(xe) * v           # onto the arrival direction
    Xz = z + np.exp(-nu * w * s_z) * turned / np.linalg.norm(turned, axis=1, keepdims=True) * np.linalg.norm(xe)
    times = np.concatenate([s_a - back, s_a + t, s_a + t[-1] + w[:, 0] * s_z])
    return (times, np.vstack([Xa, X, Xz]),
            np.vstack([(Xa - a) @ Q_a, Pm, (Xz - z) @ Q_b]))


DISTANCES = (1.6e-2, 8e-3, 4e-3, 2e-3)
"""End distances (fractions of |z − a|) of the instanton's boundary value problems, each half the previous."""

START = 1e-5
"""Where the instanton starts, as a fraction of |z − a| from the minimum: the start condition p = Q_a(θ − a) is
exact to O(r²), and an error off the minimum's manifold grows again where the loss curves downwards."""

SLOW_RATIO = 0.8
"""Successive differences of the estimates I_ℓ(r) that shrink by less than this factor per halving of r have not
reached their geometric regime: the extrapolation is not trusted."""

FLOOR = 1e-4
"""Changes of I_ℓ(r) below this (the boundary value solver's precision; 0.01% of a rate) are not extrapolated."""

RESONANT = 0.2
"""κ/ν below this (the gap |ν − |n_j|| between the saddle's rates small against ν) is a near-resonant saddle:
Q reaches Q_b as r^{κ/ν}, too slowly for the small-noise limit to be reached or extrapolated."""


def _solve(landscape, D, Qa, a, end, t0, X0, P0, tol):
    """The instanton from the minimum's manifold p = Q_a(θ − a) to the point ``end`` in time t0[-1] (collocation)."""
    d = a.size
    T = float(t0[-1])

    def rhs(tau, y):
        X, Pm = y[:d].T, y[d:].T
        return T * np.vstack([(-landscape.grads(X) + 2.0 * Pm @ D).T, _hvp(landscape, X, Pm).T])

    def jac(tau, y):
        X, Pm = y[:d].T, y[d:].T
        H = landscape.hessians(X)
        J = np.zeros((2 * d, 2 * d, X.shape[0]))
        J[:d, :d] = -H.transpose(1, 2, 0)
        J[:d, d:] = 2.0 * D[:, :, None]
        J[d:, :d] = _third(landscape, X, Pm).transpose(1, 2, 0)    # ∂(∇²L p)/∂θ = ∇³L[p] (symmetric)
        J[d:, d:] = H.transpose(1, 2, 0)
        return T * J

    def bc(ya, yb):
        return np.concatenate([ya[d:] - Qa @ (ya[:d] - a), yb[:d] - end])

    y0 = np.vstack([X0.T, P0.T])
    y0[:d, -1] = end
    sol = solve_bvp(rhs, bc, t0 / T, y0, fun_jac=jac, tol=tol, max_nodes=20000)
    if not sol.success:
        raise InputError(f"the instanton's boundary value problem did not converge ({sol.message})")
    return sol, T


def _closer(sol, T, z, v, nu, Q_b, m: int = 20):
    """A first guess ending half as far from z: the solution with the linearised approach appended.

    Near z the instanton arrives along v at rate ν with p = Q_b(θ − z), so one more halving takes ln 2/ν.
    """
    d = z.size
    t, Y = sol.x * T, sol.y
    s = np.linspace(0.0, math.log(2.0) / nu, m + 1)[1:]
    r = float(np.linalg.norm(Y[:d, -1] - z))
    Xz = z + r * np.exp(-nu * s)[:, None] * v
    return (np.concatenate([t, t[-1] + s]), np.vstack([Y[:d].T, Xz]), np.vstack([Y[d:].T, (Xz - z) @ Q_b]))


def _riccati_integral(landscape, sol, T, D, n: int) -> tuple[float, float]:
    """(∫₀ᵀ f dt, f(T)) for f = tr(DQ) − ΔL along the solved instanton: RK4 with n steps on the normal block of the
    Riccati equation."""
    d = D.shape[0]
    tau = np.linspace(0.0, 1.0, 2 * n + 1)
    Ysol = sol.sol(tau)
    X, Pm = Ysol[:d].T, Ysol[d:].T
    G = landscape.grads(X)
    H = landscape.hessians(X)
    T3 = _third(landscape, X, Pm)
    Hp = np.einsum("mij,mj->mi", H, Pm)
    V = -G + 2.0 * Pm @ D                                          # θ̇
    speed = np.linalg.norm(V, axis=1)
    tv = V / speed[:, None]
    acc = -np.einsum("mij,mj->mi", H, V) + 2.0 * Hp @ D            # θ̈ = −∇²L θ̇ + 2D ṗ
    dtv = (acc - tv * np.einsum("mi,mi->m", tv, acc)[:, None]) / speed[:, None]
    g = Hp / speed[:, None]                                        # Q t = ṗ/|θ̇|
    lap = np.trace(H, axis1=1, axis2=2)
    eye = np.eye(d)

    def f(k, Y):
        t_, g_ = tv[k], g[k]
        Pr = eye - np.outer(t_, t_)
        Q = np.outer(t_, g_) + np.outer(g_, t_) - (t_ @ g_) * np.outer(t_, t_) + Pr @ Y @ Pr
        R = T3[k] + H[k] @ Q + Q @ H[k] - 2.0 * Q @ D @ Q
        dPr = -(np.outer(dtv[k], t_) + np.outer(t_, dtv[k]))
        dY = dPr @ Q @ Pr + Pr @ R @ Pr + Pr @ Q @ dPr
        return 0.5 * (dY + dY.T), float(np.sum(D * Q) - lap[k])

    h = T / n
    Pr0 = eye - np.outer(tv[0], tv[0])
    # Q at the start: the local solution QDQ = ½(HQ + QH) with H = ∇²L(θ_0) (exact where D commutes with it)
    Q0 = np.linalg.inv(solve_continuous_lyapunov(H[0], 2.0 * D))
    Y = Pr0 @ (Q0 + Q0.T) / 2 @ Pr0
    integral = 0.0
    for i in range(n):
        k = 2 * i
        k1, f1 = f(k, Y)
        k2, f2 = f(k + 1, Y + 0.5 * h * k1)
        k3, _ = f(k + 1, Y + 0.5 * h * k2)
        k4, _ = f(k + 2, Y + h * k3)
        Y = Y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        _, f3 = f(k + 2, Y)
        integral += h / 6.0 * (f1 + 4.0 * f2 + f3)                 # Simpson on the RK4 stages
    return integral, f3


def instanton(landscape, minimum, saddle, diffusion, path, Q_a, Q_b, *, distances=DISTANCES,
              n_steps: int = 2000, tol: float = 1e-8) -> Instanton:
    """The instanton from ``minimum`` to ``saddle`` for constant ``diffusion`` D, and I_ℓ along it.

    Parameters
    ----------
    landscape : Landscape
    minimum, saddle : array_like (d,)
    diffusion : array_like (d, d)
        The constant SPD diffusion matrix D (its scale cancels from I_ℓ and from the path; ΔΦ scales as 1/D).
    path : array_like (m, d)
        A path from the minimum to the saddle close to the instanton (the minimum action path's points).
    Q_a, Q_b : array_like (d, d)
        Hessians of Φ at the minimum and the saddle (Q⁻¹ solves ∇²L Σ + Σ ∇²L = 2D).
    distances : sequence of ≥ 3 floats, each half the previous
        End distances r (fractions of |z − a|) of the truncated instantons; I_ℓ(r) is extrapolated to r → 0.
    n_steps : int ≥ 100, even
        Runge–Kutta steps of the Riccati equation (also run with half as many, for Richardson).
    tol : float
        ``solve_bvp``'s tolerance.

    Notes
    -----
    Near the saddle the instanton approaches z as e^{−νt} and Q − Q_b decays as e^{−κt}, κ = min(ν, |ν − |n_j||)
    over the stable rates n_j of N_b (the gap between the rate of arrival and the rates of the saddle's own
    Lagrangian plane). The omitted end is estimated as f(T)/κ; what that misses shrinks geometrically as r halves,
    so Aitken's extrapolation over the ladder gives I_ℓ, with the error |extrapolation step| + its change from the
    previous triple + the Runge–Kutta error. ``converged`` is False when successive differences do not shrink by
    at least ``SLOW_RATIO`` per halving, or when κ < ``RESONANT``·ν (a near-resonant saddle: the limit ε → 0 is
    then approached as ε^{κ/2ν}, out of reach); the error is then infinite.
    """
    a, z = np.asarray(minimum, float).ravel(), np.asarray(saddle, float).ravel()
    D, Qa, Qb = (np.asarray(x, float) for x in (diffusion, Q_a, Q_b))
    d = a.size
    P = np.asarray(path, float)
    if D.shape != (d, d) or Qa.shape != (d, d) or Qb.shape != (d, d) or P.ndim != 2 or P.shape[1] != d:
        raise InputError(f"diffusion, Q_a, Q_b must be ({d}, {d}) and path (m, {d})")
    distances = tuple(float(r) for r in distances)
    if len(distances) < 3 or not 0 < distances[0] <= 0.1 or any(
            abs(r1 / r0 - 0.5) > 1e-9 for r0, r1 in zip(distances, distances[1:])):
        raise InputError(f"distances must be >= 3 fractions in (0, 0.1], each half the previous; got {distances!r}")
    if int(n_steps) != n_steps or n_steps < 100 or n_steps % 2:
        raise InputError(f"n_steps must be an even integer >= 100; got {n_steps!r}")
    A = np.linalg.inv(D)
    ell = float(np.linalg.norm(z - a))
    H_b = landscape.hessian(z)
    v, nu, n_b = _arrival(H_b, D, Qb, P[-2] - z)
    N_a = landscape.hessian(a) - 2.0 * D @ Qa
    # N_b = −Σ_b H_b Σ_b⁻¹ is similar to −H_b, so the gaps are |μ − h_j| over the saddle's positive curvatures
    kappa = float(np.min(np.concatenate([[nu], np.abs(nu + n_b[n_b < 0])])))
    if kappa < RESONANT * nu:
        nothing = np.empty((0, d))
        return Instanton(non_gibbsianness=math.nan, error=math.inf, action=math.nan, times=np.empty(0),
                         points=nothing, momenta=nothing, residual=math.nan, converged=False, ratio=math.nan,
                         truncated=(), distances=distances, tail_rate=kappa / nu)
    values, rk_errors, sol, T = [], [], None, 0.0
    for r in distances:
        end = z + r * ell * v
        try:
            sol, T = _solve(landscape, D, Qa, a, end,
                            *_first_guess(landscape, A, P, START * ell, r * ell, a, z, N_a, Qa, v, nu, Qb), tol)
        except InputError:
            if sol is None:
                raise
            sol, T = _solve(landscape, D, Qa, a, end, *_closer(sol, T, z, v, nu, Qb), tol)   # continuation
        (fine, f_end), (coarse, _) = (_riccati_integral(landscape, sol, T, D, n) for n in (n_steps, n_steps // 2))
        # the omitted end: f decays as e^{−κt} once Q is near Q_b, so ∫_T^∞ f dt = f(T)/κ
        values.append(fine + (fine - coarse) / 15.0 + f_end / kappa)   # RK4: error O(h⁴)
        rk_errors.append(abs(fine - coarse) / 15.0)
    diffs = np.diff(values)
    ratios = diffs[1:] / np.where(diffs[:-1] != 0, diffs[:-1], np.nan)
    extrapolated = [values[k + 2] + diffs[k + 1] * q / (1.0 - q) if 0 < q <= SLOW_RATIO else math.nan
                    for k, q in enumerate(ratios)]
    q = float(ratios[-1])
    floor = 10 * max(rk_errors) + FLOOR                  # differences at the solver's precision: nothing to extrapolate
    if np.max(np.abs(diffs[-2:])) <= floor:
        value, error, converged = float(values[-1]), float(np.max(np.abs(diffs[-2:])) + floor), True
    else:
        converged = bool(np.isfinite(extrapolated[-1]))
        value = float(extrapolated[-1]) if converged else float(values[-1])
        change = abs(extrapolated[-1] - extrapolated[-2]) if len(extrapolated) > 1 else 0.0
        error = abs(value - values[-1]) + (change if np.isfinite(change) else abs(value - values[-1])) + rk_errors[-1]
    Xs, Ps = sol.y[:d].T, sol.y[d:].T
    times = sol.x * T
    x0 = Xs[0] - a
    quad = np.einsum("mi,ij,mj->m", Ps, D, Ps)                       # dΦ/dt = pᵀDp on the characteristic
    work = float(np.sum(np.diff(times) * 0.5 * (quad[1:] + quad[:-1])))
    xb = Xs[-1] - z
    action = work + 0.5 * float(x0 @ Qa @ x0) - 0.5 * float(xb @ Qb @ xb)
    return Instanton(non_gibbsianness=value, error=float(error) if converged else math.inf, action=action,
                     times=times, points=Xs.copy(), momenta=Ps.copy(),
                     residual=float(np.max(sol.rms_residuals)) if sol.rms_residuals.size else 0.0,
                     converged=converged, ratio=q, truncated=tuple(float(x) for x in values),
                     distances=distances, tail_rate=kappa / nu)
