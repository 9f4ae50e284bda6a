"""Benchmark landscapes whose local minima and adjacent index-1 saddles are known independently.

Each :class:`SaddleCase` builds a flatminima :class:`~numerics.landscape.Landscape` (with no
``minima``/``saddles`` hints, so a search must find everything unaided) and, lazily, a
:class:`Reference`: every local minimum (or, where the case says so, a declared subset of them) and,
for each minimum a, every index-1 saddle b ADJACENT to it: steepest descent dθ/dt = −∇L started at
b ± ε·e (e the unit eigenvector of H_b's negative eigenvalue) reaches a on one of the two sides.

The reference computations never use flatminima's own search code (``numerics.critical``,
``numerics.paths``, ``numerics.basin``) nor autograd (``autograd.numpy`` only writes each Landscape's
loss; the references use a hand-written numpy gradient and Hessian of the same formula, and
``test_saddle_benchmark.py`` checks with autograd that they are critical points of the Landscape).
They come from one of two independent recipes, named in each case's ``source``:

closed form
    The critical points are written down (e.g. roots of a cubic per coordinate for separable or
    valley-reducible losses); they are then Newton-polished with a hand-written gradient and Hessian.
root grid
    ``scipy.optimize.root`` (MINPACK ``hybr``) on ∇L = 0 from a grid (or a seeded random set) of
    starts, with a hand-written analytic gradient and Jacobian (the Hessian); solutions are
    Newton-polished to ‖∇L‖ ≈ 1e-13, deduplicated, and classified by the signs of
    ``numpy.linalg.eigvalsh`` of the Hessian. A point with a near-zero eigenvalue makes the
    reference computation fail (the case would be unclear, not silently wrong). Every such
    landscape is coercive, so the counts c_k of critical points of index k must satisfy
    Σ_k (−1)^k c_k = 1 (``_euler_check``), a completeness check on the grid.

In both recipes adjacency is computed the same way: ``scipy.integrate.solve_ivp`` (LSODA with the
analytic Jacobian −H, rtol 1e-11, atol 1e-13) integrates −∇L from b ± ε·e, ε = 1e-5·(1 + ‖b‖),
until the trajectory comes within 1e-6 of a reference minimum (a terminal event). Each side is
integrated again with 100·ε and must reach the same minimum (a descent that grazes another saddle's
stable manifold would make the verdict depend on ε: the case would be unclear). In a case that
declares every minimum, a side that reaches none of them is an error.

Accuracy: after Newton polishing ‖∇L‖ is at rounding level, so each point is accurate to about
‖∇L‖/|λ|_min ≲ 1e-10 in θ, well inside the 1e-6 a benchmark test allows.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np
from scipy import integrate, optimize

from flatminima.numerics.builtins import muller_brown, styblinski_tang
from flatminima.numerics.landscape import Landscape

__all__ = ["Reference", "SaddleCase", "CASES", "case_by_name"]

# ---------------------------------------------------------------------- tolerances of the recipes
DESCENT_EPS = 1e-5        # relative offset ε/(1 + ‖b‖) along ±e for the adjacency descents
HIT_RADIUS = 1e-6         # a descent has reached a minimum when it is this close to it
SAME_POINT = 1e-7         # two critical points are the same when closer than this·(1 + ‖x‖)
ZERO_EIG = 1e-9           # |λ| < ZERO_EIG·max|λ| counts as a zero eigenvalue (the case is then unclear)


# ---------------------------------------------------------------------- data classes
@dataclass(frozen=True)
class Reference:
    """The reference critical points of one benchmark case.

    Attributes
    ----------
    minima : list of ndarray (d,)
        Local minima, sorted by loss (lowest first): every local minimum of L when ``all_minima``,
        else only the declared ones (see ``region``).
    adjacent : list of list of ndarray (d,)
        ``adjacent[i]``: every index-1 saddle adjacent to ``minima[i]``, sorted by loss. Complete
        for each declared minimum, also when ``all_minima`` is False.
    saddle_losses : list of list of float
        L at each saddle of ``adjacent`` (same nesting).
    minimum_losses : list of float
        L at each minimum.
    all_minima : bool
        Whether ``minima`` is every local minimum of the landscape.
    region : str
        What is declared, in words (e.g. "all of R^2", or "the global minimum only").
    """

    minima: list
    adjacent: list
    saddle_losses: list
    minimum_losses: list
    all_minima: bool = True
    region: str = "all of R^d"

    @property
    def saddles(self) -> list:
        """The distinct saddles of ``adjacent`` (each once), sorted by loss."""
        out, losses = [], []
        for row, lrow in zip(self.adjacent, self.saddle_losses):
            for b, lb in zip(row, lrow):
                if not any(_same(b, c) for c in out):
                    out.append(b)
                    losses.append(lb)
        return [out[k] for k in np.argsort(losses, kind="stable")]


@dataclass(frozen=True)
class SaddleCase:
    """One benchmark landscape and its lazily computed reference minima and adjacent saddles.

    Attributes
    ----------
    name : str
        Short identifier (used as the pytest id).
    landscape : callable
        ``landscape()`` builds the flatminima Landscape (no minima/saddles hints).
    references : callable
        ``references()`` returns the :class:`Reference` (cached after the first call).
    source : str
        How the references were made.
    slow : bool
        True when ``analyse_basin`` on this case may take more than about 20 s in all.
    """

    name: str
    landscape: Callable[[], Landscape]
    references: Callable[[], Reference]
    source: str
    slow: bool = False


# ---------------------------------------------------------------------- the independent recipes
def _same(x, y, tol: float = SAME_POINT) -> bool:
    """Whether two points coincide to ``tol``·(1 + ‖y‖)."""
    return float(np.linalg.norm(np.asarray(x) - np.asarray(y))) <= tol * (1.0 + float(np.linalg.norm(y)))


def _polish(grad, hess, x, *, max_iter: int = 60) -> np.ndarray:
    """Newton's method x ← x − H⁻¹∇L until ‖∇L‖ stops decreasing; the best iterate.

    Raises
    ------
    ArithmeticError
        When the best ‖∇L‖ is above 1e-11·(1 + ‖H‖) (the start was not near a critical point).
    """
    x = np.array(x, float)
    g = grad(x)
    best_x, best_g = x.copy(), float(np.linalg.norm(g))
    stalls = 0
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            try:
                x = x - np.linalg.solve(hess(x), g)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(x)):
                break
            g = grad(x)
            gn = float(np.linalg.norm(g))
            if not np.isfinite(gn):
                break
            if gn < best_g:
                stalls = 0 if gn < 0.5 * best_g else stalls + 1
                best_x, best_g = x.copy(), gn
            else:
                stalls += 1
            if best_g == 0.0 or stalls >= 3:
                break
    scale = 1.0 + float(np.max(np.abs(np.linalg.eigvalsh(hess(best_x)))))
    if not best_g <= 1e-11 * scale:
        raise ArithmeticError(f"Newton polish stalled at ‖∇L‖ = {best_g:.3g} from {x}")
    return best_x


def _index(hess, x) -> int:
    """Number of negative Hessian eigenvalues at x (numpy.linalg.eigvalsh).

    Raises
    ------
    ArithmeticError
        When an eigenvalue is zero to ``ZERO_EIG`` relative (a degenerate point: unclear reference).
    """
    w = np.linalg.eigvalsh(hess(x))
    scale = float(np.max(np.abs(w)))
    if np.min(np.abs(w)) < ZERO_EIG * scale:
        raise ArithmeticError(f"degenerate critical point {x}: Hessian eigenvalues {w}")
    return int(np.sum(w < 0))


def _root_grid(grad, hess, starts) -> list[np.ndarray]:
    """Distinct critical points reached by ``scipy.optimize.root`` (hybr) from ``starts``, polished.

    Parameters
    ----------
    grad, hess : callable
        Hand-written ∇L and ∇²L of one point (d,).
    starts : iterable of ndarray (d,)
    """
    found = []
    with np.errstate(all="ignore"):
        for s in starts:
            try:
                sol = optimize.root(grad, np.asarray(s, float), jac=hess, method="hybr", options={"xtol": 1e-13})
            except (ValueError, np.linalg.LinAlgError):
                continue
            x = sol.x
            if not np.all(np.isfinite(x)):
                continue
            g = grad(x)
            if not (np.all(np.isfinite(g)) and np.linalg.norm(g) <= 1e-6 * (1.0 + np.linalg.norm(x))):
                continue
            try:
                x = _polish(grad, hess, x)
            except ArithmeticError:
                continue
            if not any(_same(x, y) for y in found):
                found.append(x)
    return found


def _grid(lo, hi, n: int) -> list[np.ndarray]:
    """The n^d points of a uniform grid on the box [lo, hi] (lo, hi of length d)."""
    axes = [np.linspace(a, b, n) for a, b in zip(lo, hi)]
    return [np.array(p) for p in itertools.product(*axes)]


def _descend(grad, hess, x0, minima) -> int | None:
    """Index of the reference minimum the gradient flow dθ/dt = −∇L from x0 reaches, or None.

    ``solve_ivp`` with LSODA (stiff-capable, Jacobian −H), rtol 1e-11, atol 1e-13, stopped by a
    terminal event when the distance to the nearest minimum falls below ``HIT_RADIUS``.
    """
    M = np.asarray(minima, float)

    def near(_, x):
        return float(np.min(np.linalg.norm(M - x, axis=1))) - HIT_RADIUS

    near.terminal = True
    with np.errstate(all="ignore"):
        sol = integrate.solve_ivp(lambda _, x: -grad(x), (0.0, 1e8), np.asarray(x0, float), method="LSODA",
                                  jac=lambda _, x: -hess(x), rtol=1e-11, atol=1e-13, events=near)
    if sol.status != 1:
        return None
    return int(np.argmin(np.linalg.norm(M - sol.y[:, -1], axis=1)))


def _reference(loss, grad, hess, minima, saddles, *, all_minima: bool = True, region: str = "all of R^d",
               polish: bool = True) -> Reference:
    """A :class:`Reference` from candidate minima and index-1 saddles: polish, check, find adjacency.

    Every point is Newton-polished (``polish``) and its Hessian index checked (0 for minima, 1 for
    saddles). For each saddle b the flow is integrated from b ± ε·e (``_descend``), and again from
    b ± 100ε·e (same minimum required); b is adjacent to the minima the two sides reach. With ``all_minima`` a side that reaches no listed minimum is an
    error; otherwise that side is left out (it leaves the declared region).
    """
    mins = [_polish(grad, hess, m) if polish else np.asarray(m, float) for m in minima]
    sads = [_polish(grad, hess, b) if polish else np.asarray(b, float) for b in saddles]
    for m in mins:
        if _index(hess, m) != 0:
            raise ArithmeticError(f"reference minimum {m} is not a minimum")
    for b in sads:
        if _index(hess, b) != 1:
            raise ArithmeticError(f"reference saddle {b} is not an index-1 saddle")
    mins.sort(key=loss)
    adjacent = [[] for _ in mins]
    for b in sads:
        w, V = np.linalg.eigh(hess(b))
        e = V[:, 0] / np.linalg.norm(V[:, 0])
        eps = DESCENT_EPS * (1.0 + np.linalg.norm(b))
        for sign in (1.0, -1.0):
            i = _descend(grad, hess, b + sign * eps * e, mins)
            if i != _descend(grad, hess, b + 100.0 * sign * eps * e, mins):
                raise ArithmeticError(f"descent from the saddle {b} along {sign:+g}e depends on ε")
            if i is None:
                if all_minima:
                    raise ArithmeticError(f"descent from the saddle {b} along {sign:+g}e reaches no reference minimum")
                continue
            if not any(_same(b, c) for c in adjacent[i]):
                adjacent[i].append(b)
    adjacent = [sorted(row, key=loss) for row in adjacent]
    return Reference(minima=mins, adjacent=adjacent, saddle_losses=[[float(loss(b)) for b in row] for row in adjacent],
                     minimum_losses=[float(loss(m)) for m in mins], all_minima=all_minima, region=region)


def _euler_check(indices) -> None:
    """Check Σ_k (−1)^k c_k = 1, c_k the number of critical points of index k.

    For a coercive Morse function on R^d (L → ∞ as ‖θ‖ → ∞, every critical point non-degenerate)
    this alternating sum is the Euler characteristic of R^d, 1 (Morse theory; Milnor, Morse Theory,
    1963, §5). A root grid that missed a critical point of one index only would fail it (missing a
    pair of adjacent indices would not: the check is necessary, not sufficient).
    """
    chi = sum((-1) ** k for k in indices)
    if chi != 1:
        counts = {k: list(indices).count(k) for k in sorted(set(indices))}
        raise ArithmeticError(f"critical points by index {counts}: alternating sum {chi} ≠ 1, some were missed")


def _classified_root_grid(loss, grad, hess, starts) -> Reference:
    """Root-grid recipe: every critical point from ``starts``, split by Hessian index, then adjacency.

    The landscapes using it are coercive, so the index counts must pass ``_euler_check``.
    """
    pts = _root_grid(grad, hess, starts)
    idx = [_index(hess, x) for x in pts]
    _euler_check(idx)
    minima = [x for x, k in zip(pts, idx) if k == 0]
    saddles = [x for x, k in zip(pts, idx) if k == 1]
    return _reference(loss, grad, hess, minima, saddles, polish=False)


def _rotation2(phi: float) -> np.ndarray:
    """The 2-D rotation matrix R(φ) = [[cos φ, −sin φ], [sin φ, cos φ]]."""
    c, s = np.cos(phi), np.sin(phi)
    return np.array([[c, -s], [s, c]])


# ====================================================================== the cases
# Each case: a loss in autograd.numpy (coordinate first: θ of shape (d,) or (d, n)), a hand-written
# numpy gradient and Hessian of the same formula for one point, and a cached reference function.

# ---------------------------------------------------------------------- Müller–Brown
# Müller & Brown, Theor. Chim. Acta 53, 75 (1979): V = Σ_k A_k exp(q_k),
# q_k = a_k(x−x0_k)² + b_k(x−x0_k)(y−y0_k) + c_k(y−y0_k)². Constants typed from the paper (not
# imported from numerics.builtins, so a typo there would show up as a mismatch).
_MB = dict(A=np.array([-200.0, -100.0, -170.0, 15.0]), a=np.array([-1.0, -1.0, -6.5, 0.7]),
           b=np.array([0.0, 0.0, 11.0, 0.6]), c=np.array([-10.0, -10.0, -6.5, 0.7]),
           x0=np.array([1.0, 0.0, -0.5, -1.0]), y0=np.array([0.0, 0.5, 1.5, 1.0]))


def _mb_terms(t):
    dx, dy = t[0] - _MB["x0"], t[1] - _MB["y0"]
    E = _MB["A"] * np.exp(_MB["a"] * dx**2 + _MB["b"] * dx * dy + _MB["c"] * dy**2)
    qx = 2.0 * _MB["a"] * dx + _MB["b"] * dy          # ∂q_k/∂x
    qy = _MB["b"] * dx + 2.0 * _MB["c"] * dy          # ∂q_k/∂y
    return E, qx, qy


def _mb_loss(t):
    return float(np.sum(_mb_terms(t)[0]))


def _mb_grad(t):
    E, qx, qy = _mb_terms(t)
    return np.array([np.sum(E * qx), np.sum(E * qy)])


def _mb_hess(t):
    E, qx, qy = _mb_terms(t)
    hxy = np.sum(E * (qx * qy + _MB["b"]))
    return np.array([[np.sum(E * (qx**2 + 2.0 * _MB["a"])), hxy], [hxy, np.sum(E * (qy**2 + 2.0 * _MB["c"]))]])


@functools.lru_cache(maxsize=None)
def _mb_reference() -> Reference:
    # Root grid: 41 × 41 starts on [−2.5, 1.5] × [−1, 2.5] (every critical point of V lies in the
    # box [−1.5, 1.2] × [−0.5, 2]; outside it the positive fourth term dominates and |∇V| grows).
    return _classified_root_grid(_mb_loss, _mb_grad, _mb_hess, _grid([-2.5, -1.0], [1.5, 2.5], 41))


def _mb_landscape() -> Landscape:
    return dataclasses.replace(muller_brown(), minima=(), saddles=())


# ---------------------------------------------------------------------- Wolfe–Quapp
# W(x, y) = x⁴ + y⁴ − 2x² − 4y² + xy + 0.3x + 0.1y (Wolfe, Schlegel et al. J. Chem. Phys. 63, 1975;
# Quapp, J. Theor. Comput. Chem. 2, 385 (2003)).
def _wq_loss_ad(t):
    x, y = t[0], t[1]
    return x**4 + y**4 - 2.0 * x**2 - 4.0 * y**2 + x * y + 0.3 * x + 0.1 * y


def _wq_grad(t):
    x, y = t
    return np.array([4.0 * x**3 - 4.0 * x + y + 0.3, 4.0 * y**3 - 8.0 * y + x + 0.1])


def _wq_hess(t):
    x, y = t
    return np.array([[12.0 * x**2 - 4.0, 1.0], [1.0, 12.0 * y**2 - 8.0]])


@functools.lru_cache(maxsize=None)
def _wq_reference() -> Reference:
    # Root grid: 31 × 31 starts on [−2.5, 2.5]² (|∇W| > 0 outside [−2, 2]²: the cubic terms dominate).
    return _classified_root_grid(lambda t: float(_wq_loss_ad(t)), _wq_grad, _wq_hess, _grid([-2.5, -2.5], [2.5, 2.5], 31))


# ---------------------------------------------------------------------- Himmelblau
# H(x, y) = (x² + y − 11)² + (x + y² − 7)² (Himmelblau, Applied Nonlinear Programming, 1972):
# four minima (all with H = 0), four index-1 saddles and one maximum.
def _hb_loss_ad(t):
    x, y = t[0], t[1]
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _hb_grad(t):
    x, y = t
    u, v = x**2 + y - 11.0, x + y**2 - 7.0
    return np.array([4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v])


def _hb_hess(t):
    x, y = t
    u, v = x**2 + y - 11.0, x + y**2 - 7.0
    hxy = 4.0 * x + 4.0 * y
    return np.array([[4.0 * u + 8.0 * x**2 + 2.0, hxy], [hxy, 2.0 + 4.0 * v + 8.0 * y**2]])


@functools.lru_cache(maxsize=None)
def _hb_reference() -> Reference:
    # Root grid: 31 × 31 starts on [−6, 6]² (all nine critical points lie in [−4, 4]²).
    return _classified_root_grid(lambda t: float(_hb_loss_ad(t)), _hb_grad, _hb_hess, _grid([-6, -6], [6, 6], 31))


# ---------------------------------------------------------------------- curved asymmetric valley
# L = (x² − 1)² + 0.3x³ + 0.2x + 2(y − x²)². Closed form: ∂L/∂y = 4(y − x²) = 0 gives y = x², and
# then ∂L/∂x = 4x³ + 0.9x² − 4x + 0.2 = 0, a cubic with three real roots (minimum, saddle, minimum
# along the valley floor y = x²).
def _cv_loss_ad(t):
    x, y = t[0], t[1]
    return (x**2 - 1.0) ** 2 + 0.3 * x**3 + 0.2 * x + 2.0 * (y - x**2) ** 2


def _cv_grad(t):
    x, y = t
    return np.array([4.0 * x * (x**2 - 1.0) + 0.9 * x**2 + 0.2 - 8.0 * x * (y - x**2), 4.0 * (y - x**2)])


def _cv_hess(t):
    x, y = t
    return np.array([[12.0 * x**2 - 4.0 + 1.8 * x - 8.0 * (y - x**2) + 16.0 * x**2, -8.0 * x], [-8.0 * x, 4.0]])


@functools.lru_cache(maxsize=None)
def _cv_reference() -> Reference:
    xs = np.sort(np.roots([4.0, 0.9, -4.0, 0.2]).real)
    pts = [np.array([x, x**2]) for x in xs]
    return _reference(lambda t: float(_cv_loss_ad(t)), _cv_grad, _cv_hess, [pts[0], pts[2]], [pts[1]])


# ---------------------------------------------------------------------- banana double well
# L = (x² − 1)² + 0.25x + 100(y − x² + 1)²: a tilted double well along the strongly curved, narrow
# valley y = x² − 1 (Rosenbrock-like; curvature 200 across it). Closed form: ∂L/∂y = 0 gives
# y = x² − 1, then ∂L/∂x = 4x³ − 4x + 0.25 = 0 (three real roots).
_BAN_C, _BAN_T = 100.0, 0.25


def _ban_loss_ad(t):
    x, y = t[0], t[1]
    return (x**2 - 1.0) ** 2 + _BAN_T * x + _BAN_C * (y - x**2 + 1.0) ** 2


def _ban_grad(t):
    x, y = t
    r = y - x**2 + 1.0
    return np.array([4.0 * x * (x**2 - 1.0) + _BAN_T - 4.0 * _BAN_C * x * r, 2.0 * _BAN_C * r])


def _ban_hess(t):
    x, y = t
    r = y - x**2 + 1.0
    return np.array([[12.0 * x**2 - 4.0 - 4.0 * _BAN_C * r + 8.0 * _BAN_C * x**2, -4.0 * _BAN_C * x],
                     [-4.0 * _BAN_C * x, 2.0 * _BAN_C]])


@functools.lru_cache(maxsize=None)
def _ban_reference() -> Reference:
    xs = np.sort(np.roots([4.0, 0.0, -4.0, _BAN_T]).real)
    pts = [np.array([x, x**2 - 1.0]) for x in xs]
    return _reference(lambda t: float(_ban_loss_ad(t)), _ban_grad, _ban_hess, [pts[0], pts[2]], [pts[1]])


# ---------------------------------------------------------------------- separable and rotated stiff wells
# L(u) = p(u0² − 1)² + c·u1² in coordinates u = Rᵀθ (R a rotation; R = I for the unrotated ones).
# Closed form: minima θ = R(±1, 0), one index-1 saddle θ = 0 (no other critical points: ∂L/∂u1 = 0
# forces u1 = 0, then 4p·u0(u0² − 1) = 0). Condition number of H at the minima: max(8p, 2c)/min(8p, 2c).
def _well_case(p: float, c: float, R: np.ndarray):
    R = np.asarray(R, float)

    def loss_ad(t):
        u0 = R[0, 0] * t[0] + R[1, 0] * t[1]          # u = Rᵀθ
        u1 = R[0, 1] * t[0] + R[1, 1] * t[1]
        return p * (u0**2 - 1.0) ** 2 + c * u1**2

    def grad(t):
        u = R.T @ t
        return R @ np.array([4.0 * p * u[0] * (u[0] ** 2 - 1.0), 2.0 * c * u[1]])

    def hess(t):
        u = R.T @ t
        return R @ np.diag([p * (12.0 * u[0] ** 2 - 4.0), 2.0 * c]) @ R.T

    @functools.lru_cache(maxsize=None)
    def reference() -> Reference:
        mins = [R @ np.array([-1.0, 0.0]), R @ np.array([1.0, 0.0])]
        return _reference(lambda t: float(loss_ad(t)), grad, hess, mins, [np.zeros(2)])

    return loss_ad, reference


# ---------------------------------------------------------------------- rotated 3-D separable double well
# L(u) = (u0² − 1)² + 0.5(u1² − 1)² + 100·u2², u = Qᵀθ, Q orthogonal from the QR factorisation of a
# seeded 3 × 3 normal matrix (numpy default_rng(7)). Closed form: minima Q(±1, ±1, 0) (four), index-1
# saddles Q(0, ±1, 0) (ΔL = 1) and Q(±1, 0, 0) (ΔL = 0.5); the origin is index 2. Each minimum has
# two adjacent saddles.
_Q3, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((3, 3)))
_W3 = np.array([1.0, 0.5])          # depths of the two double-well coordinates
_C3 = 100.0                         # stiffness of the harmonic coordinate


def _rot3_loss_ad(t):
    u = [_Q3[0, k] * t[0] + _Q3[1, k] * t[1] + _Q3[2, k] * t[2] for k in range(3)]
    return _W3[0] * (u[0] ** 2 - 1.0) ** 2 + _W3[1] * (u[1] ** 2 - 1.0) ** 2 + _C3 * u[2] ** 2


def _rot3_grad(t):
    u = _Q3.T @ t
    return _Q3 @ np.array([4.0 * _W3[0] * u[0] * (u[0] ** 2 - 1.0), 4.0 * _W3[1] * u[1] * (u[1] ** 2 - 1.0),
                           2.0 * _C3 * u[2]])


def _rot3_hess(t):
    u = _Q3.T @ t
    return _Q3 @ np.diag([_W3[0] * (12.0 * u[0] ** 2 - 4.0), _W3[1] * (12.0 * u[1] ** 2 - 4.0), 2.0 * _C3]) @ _Q3.T


@functools.lru_cache(maxsize=None)
def _rot3_reference() -> Reference:
    mins = [_Q3 @ np.array([s0, s1, 0.0]) for s0 in (-1.0, 1.0) for s1 in (-1.0, 1.0)]
    sads = [_Q3 @ np.array([0.0, s, 0.0]) for s in (-1.0, 1.0)] + [_Q3 @ np.array([s, 0.0, 0.0]) for s in (-1.0, 1.0)]
    return _reference(lambda t: float(_rot3_loss_ad(t)), _rot3_grad, _rot3_hess, mins, sads)


# ---------------------------------------------------------------------- Styblinski–Tang
# f(θ) = ½ Σ_i (θ_i⁴ − 16θ_i² + 5θ_i). Closed form per coordinate: the 1-D critical points are the
# roots of 4x³ − 32x + 5 = 0, lo ≈ −2.9035 (global minimum), mid ≈ 0.1567 (maximum), hi ≈ 2.7468.
# Critical points of f are the products of these; index = number of coordinates at mid. The flow
# is separable, so from a saddle with coordinate i at mid the two descents change only coordinate i.
_ST_LO, _ST_MID, _ST_HI = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)


def _st_grad(t):
    return 0.5 * (4.0 * t**3 - 32.0 * t + 5.0)


def _st_hess(t):
    return np.diag(0.5 * (12.0 * t**2 - 32.0))


def _st_loss(t):
    return float(0.5 * np.sum(t**4 - 16.0 * t**2 + 5.0 * t))


def _st_case(dim: int):
    @functools.lru_cache(maxsize=None)
    def reference() -> Reference:
        if dim <= 2:       # every minimum (each coordinate lo or hi) and every index-1 saddle
            mins = [np.array(p) for p in itertools.product((_ST_LO, _ST_HI), repeat=dim)]
            sads = [np.array(p[:i] + (_ST_MID,) + p[i:]) for i in range(dim)
                    for p in itertools.product((_ST_LO, _ST_HI), repeat=dim - 1)]
            return _reference(_st_loss, _st_grad, _st_hess, mins, sads)
        # only the global minimum (lo, ..., lo) and its d adjacent saddles (coordinate i at mid):
        # an index-1 saddle adjacent to it must have every other coordinate at lo (separable flow).
        lo = np.full(dim, _ST_LO)
        sads = [np.where(np.arange(dim) == i, _ST_MID, _ST_LO) for i in range(dim)]
        return _reference(_st_loss, _st_grad, _st_hess, [lo], sads, all_minima=False,
                          region=f"the global minimum (lo,...,lo) only, of the 2^{dim} minima")

    return reference


def _st_landscape(dim: int):
    return lambda: dataclasses.replace(styblinski_tang(dim=dim), minima=(), saddles=())


# ---------------------------------------------------------------------- two paths (2-D)
# L = (x² + y² − 1)² + β·y², β = 0.6: a ring valley squeezed in y. Closed form: ∂L/∂x = 4x(r² − 1)
# vanishes for x = 0 or r = 1; r = 1 with ∂L/∂y = 2βy = 0 gives the minima (±1, 0); x = 0 gives
# y = 0 (the maximum, L = 1) or y² = 1 − β/2 (two index-1 saddles (0, ±√0.7), L = β − β²/4 = 0.51).
# Both saddles join the same two minima, above and below the central hill; the straight segment
# between the minima crosses the maximum.
_TP_BETA = 0.6


def _tp_loss_ad(t):
    x, y = t[0], t[1]
    return (x**2 + y**2 - 1.0) ** 2 + _TP_BETA * y**2


def _tp_grad(t):
    x, y = t
    s = x**2 + y**2 - 1.0
    return np.array([4.0 * x * s, 4.0 * y * s + 2.0 * _TP_BETA * y])


def _tp_hess(t):
    x, y = t
    s = x**2 + y**2 - 1.0
    return np.array([[4.0 * s + 8.0 * x**2, 8.0 * x * y], [8.0 * x * y, 4.0 * s + 8.0 * y**2 + 2.0 * _TP_BETA]])


@functools.lru_cache(maxsize=None)
def _tp_reference() -> Reference:
    ys = np.sqrt(1.0 - _TP_BETA / 2.0)
    return _reference(lambda t: float(_tp_loss_ad(t)), _tp_grad, _tp_hess,
                      [np.array([-1.0, 0.0]), np.array([1.0, 0.0])], [np.array([0.0, ys]), np.array([0.0, -ys])])


# ---------------------------------------------------------------------- two channels (3-D)
# L = (x² + y² + z² − 1)² + 0.6y² + 1.2z² + 0.3yz + 0.2y³ + 0.1x: a spherical-shell valley, cheapest
# to cross in the (x, y) plane, with the y ↔ −y symmetry broken (0.2y³) and a tilt in x. Out of
# each minimum near (±1, 0, 0) two index-1 saddles near (0, ±0.8, ·) of different height lead to the
# same neighbouring minimum. No closed form: root grid.
def _tc_loss_ad(t):
    x, y, z = t[0], t[1], t[2]
    return (x**2 + y**2 + z**2 - 1.0) ** 2 + 0.6 * y**2 + 1.2 * z**2 + 0.3 * y * z + 0.2 * y**3 + 0.1 * x


def _tc_grad(t):
    x, y, z = t
    s = x**2 + y**2 + z**2 - 1.0
    return np.array([4.0 * x * s + 0.1, 4.0 * y * s + 1.2 * y + 0.3 * z + 0.6 * y**2, 4.0 * z * s + 2.4 * z + 0.3 * y])


def _tc_hess(t):
    x, y, z = t
    s = x**2 + y**2 + z**2 - 1.0
    H = 8.0 * np.outer(t, t) + 4.0 * s * np.eye(3)
    H += np.array([[0.0, 0.0, 0.0], [0.0, 1.2 + 1.2 * y, 0.3], [0.0, 0.3, 2.4]])
    return H


@functools.lru_cache(maxsize=None)
def _tc_reference() -> Reference:
    # Root grid: 13³ starts on [−1.5, 1.5]³ (critical points satisfy r ≤ 1.1: outside, the radial
    # derivative 4r²(r² − 1) exceeds the quadratic and linear terms).
    return _classified_root_grid(lambda t: float(_tc_loss_ad(t)), _tc_grad, _tc_hess, _grid([-1.5] * 3, [1.5] * 3, 13))


# ---------------------------------------------------------------------- a tiny tanh MLP
# f(x) = v1·tanh(w1·x + b1) + v2·tanh(w2·x + b2) + c, θ = (w1, w2, b1, b2, v1, v2, c) (d = 7), on
# 8 fixed points x_n = linspace(−2, 2, 8), y_n = sin(1.5x_n) + 0.3x_n² − 0.2;
# L(θ) = (1/8) Σ_n (f(x_n) − y_n)² + 1e-3·‖θ‖² (the weight decay makes L coercive and every
# critical point isolated). L is invariant under swapping the hidden units and under flipping the
# signs of (w_i, b_i, v_i) of one unit (tanh is odd): a group of 8 maps, so every critical point
# comes with up to 7 images.
_MLP_X = np.linspace(-2.0, 2.0, 8)
_MLP_Y = np.sin(1.5 * _MLP_X) + 0.3 * _MLP_X**2 - 0.2
_MLP_DECAY = 1e-3
_MLP_SWAP = np.array([1, 0, 3, 2, 5, 4, 6])      # hidden-unit permutation of the coordinates


def _mlp_loss_ad(t):
    shape = (len(_MLP_X),) + (1,) * (anp.ndim(t) - 1)      # samples first, then the batch axis
    X, Y = _MLP_X.reshape(shape), _MLP_Y.reshape(shape)
    f = t[4] * anp.tanh(t[0] * X + t[2]) + t[5] * anp.tanh(t[1] * X + t[3]) + t[6]
    return anp.mean((f - Y) ** 2, axis=0) + _MLP_DECAY * anp.sum(t**2, axis=0)


def _mlp_parts(t):
    """Hidden activations h (2, N), tanh' = 1 − h², residuals r (N,) and the Jacobian J = ∂f/∂θ (7, N)."""
    w, b, v = t[0:2], t[2:4], t[4:6]
    h = np.tanh(np.outer(w, _MLP_X) + b[:, None])
    s = 1.0 - h**2
    r = v @ h + t[6] - _MLP_Y
    J = np.concatenate([v[:, None] * s * _MLP_X, v[:, None] * s, h, np.ones((1, len(_MLP_X)))])
    return h, s, r, J


def _mlp_loss(t):
    return float(np.mean(_mlp_parts(t)[2] ** 2) + _MLP_DECAY * t @ t)


def _mlp_grad(t):
    # chain rule: ∇L = (2/N) J r + 2λθ
    _, _, r, J = _mlp_parts(t)
    return 2.0 / len(_MLP_X) * J @ r + 2.0 * _MLP_DECAY * t


def _mlp_hess(t):
    # ∇²L = (2/N)(J Jᵀ + Σ_n r_n ∇²f_n) + 2λI; the non-zero second derivatives of f are, for unit i
    # (tanh'' = −2h(1 − h²)): ∂²f/∂w_i² = v_i tanh''·x², ∂²f/∂w_i∂b_i = v_i tanh''·x,
    # ∂²f/∂b_i² = v_i tanh'', ∂²f/∂v_i∂w_i = tanh'·x, ∂²f/∂v_i∂b_i = tanh'.
    h, s, r, J = _mlp_parts(t)
    n = len(_MLP_X)
    H = 2.0 / n * J @ J.T + 2.0 * _MLP_DECAY * np.eye(7)
    for i in range(2):
        d2 = -2.0 * h[i] * s[i]
        w, b, v = i, 2 + i, 4 + i
        for (p, q), val in {(w, w): t[v] * d2 * _MLP_X**2, (w, b): t[v] * d2 * _MLP_X, (b, b): t[v] * d2,
                            (v, w): s[i] * _MLP_X, (v, b): s[i]}.items():
            e = 2.0 / n * float(np.sum(r * val))
            H[p, q] += e
            if p != q:
                H[q, p] += e
    return H


def _mlp_images(t) -> list[np.ndarray]:
    """The 8 images of θ under the unit swap and the per-unit sign flips."""
    out = []
    for u in (t, t[_MLP_SWAP]):
        for s1, s2 in itertools.product((1.0, -1.0), repeat=2):
            out.append(u * np.array([s1, s2, s1, s2, s1, s2, 1.0]))
    return out


@functools.lru_cache(maxsize=None)
def _mlp_reference() -> Reference:
    # Random root set: scipy.optimize.root (hybr) from 1200 starts N(0, 2²·I) (seed 0), with the
    # chain-rule gradient and Hessian above; then every point's 8 symmetry images are added (exact:
    # the images of a critical point are critical points of the same index). Found: 8 minima (one
    # orbit), 12 index-1 saddles, 5 index-2 points (2000 starts with spreads 1, 3 and 4.5 and other
    # seeds find the same 25 points; Σ(−1)^k c_k = 8 − 12 + 5 = 1 as Morse theory requires).
    rng = np.random.default_rng(0)
    pts = []
    for x in _root_grid(_mlp_grad, _mlp_hess, 2.0 * rng.standard_normal((1200, 7))):
        for y in _mlp_images(x):
            if not any(_same(y, z) for z in pts):
                pts.append(y)
    idx = [_index(_mlp_hess, x) for x in pts]
    _euler_check(idx)
    full = _reference(_mlp_loss, _mlp_grad, _mlp_hess, [x for x, k in zip(pts, idx) if k == 0],
                      [x for x, k in zip(pts, idx) if k == 1], polish=False)
    # Declared: the minimum a with w1, w2 > 0 and b2 > b1, and its unit-swapped image P(a); they are
    # joined by an index-1 saddle on the plane of equal units, and each has two more adjacent saddles
    # (a dead unit: w_i = b_i = v_i = 0 at two critical points of the one-unit net), which lead to
    # sign-flipped images.
    a = next(m for m in full.minima if m[0] > 0 and m[1] > 0 and m[3] > m[2])
    keep = [i for i, m in enumerate(full.minima) if _same(m, a) or _same(m, a[_MLP_SWAP])]
    return Reference(minima=[full.minima[i] for i in keep], adjacent=[full.adjacent[i] for i in keep],
                     saddle_losses=[full.saddle_losses[i] for i in keep],
                     minimum_losses=[full.minimum_losses[i] for i in keep], all_minima=False,
                     region="a minimum and its hidden-unit-swapped image (2 of the 8 minima); "
                            "each with every adjacent index-1 saddle")


# ====================================================================== the list
def _simple(name: str, dim: int, loss_ad) -> Callable[[], Landscape]:
    """A factory of a hint-free Landscape for an autograd loss."""
    return lambda: Landscape(name=name, dim=dim, loss=loss_ad)


_ROOT_GRID = ("root grid: scipy.optimize.root (hybr) from {starts} with a hand-written gradient and Hessian, "
              "Newton polish, eigvalsh index; adjacency by LSODA gradient flow from b ± ε·e")
_CLOSED = "closed form: {what}; Newton polish, eigvalsh index; adjacency by LSODA gradient flow from b ± ε·e"

_PHI = 0.6   # rotation angle (rad) of the rotated wells
_wells = {
    "stiff-well-c1": (1.0, 1.0, np.eye(2)),
    "stiff-well-c100": (1.0, 100.0, np.eye(2)),
    "stiff-well-c1e4": (1.0, 1e4, np.eye(2)),
    "stiff-double-well-p100": (100.0, 1.0, np.eye(2)),
    "rotated-well-c100": (1.0, 100.0, _rotation2(_PHI)),
    "rotated-well-c1e4": (1.0, 1e4, _rotation2(_PHI)),
}


# Cases whose analyse_basin calls take more than a minute in all (2 cores; benchmarks/saddles.json has
# the current times: mlp-1-2-1-tanh 89 s; the next slowest, rotated-3d-double-well, 20 s).
_SLOW = {"mlp-1-2-1-tanh"}


def _well_cases() -> list[SaddleCase]:
    out = []
    for name, (p, c, R) in _wells.items():
        loss_ad, ref = _well_case(p, c, R)
        rot = "" if np.allclose(R, np.eye(2)) else f" in coordinates rotated by {_PHI} rad"
        out.append(SaddleCase(
            name=name, landscape=_simple(f"{name}: {p:g}(u0²−1)² + {c:g}u1²{rot}", 2, loss_ad), references=ref,
            source=_CLOSED.format(what=f"minima R(±1, 0), saddle 0 of {p:g}(u0²−1)² + {c:g}u1², u = Rᵀθ"),
            slow=name in _SLOW))
    return out


CASES: list[SaddleCase] = [
    SaddleCase("muller-brown", _mb_landscape, _mb_reference,
               _ROOT_GRID.format(starts="a 41×41 grid on [−2.5, 1.5]×[−1, 2.5]")),
    SaddleCase("wolfe-quapp", _simple("wolfe-quapp", 2, _wq_loss_ad), _wq_reference,
               _ROOT_GRID.format(starts="a 31×31 grid on [−2.5, 2.5]²")),
    SaddleCase("himmelblau", _simple("himmelblau", 2, _hb_loss_ad), _hb_reference,
               _ROOT_GRID.format(starts="a 31×31 grid on [−6, 6]²")),
    SaddleCase("curved-valley", _simple("curved-valley", 2, _cv_loss_ad), _cv_reference,
               _CLOSED.format(what="(x, x²) at the roots of 4x³ + 0.9x² − 4x + 0.2")),
    SaddleCase("banana-double-well", _simple("banana-double-well", 2, _ban_loss_ad), _ban_reference,
               _CLOSED.format(what="(x, x² − 1) at the roots of 4x³ − 4x + 0.25")),
    *_well_cases(),
    SaddleCase("rotated-3d-double-well", _simple("rotated-3d-double-well", 3, _rot3_loss_ad), _rot3_reference,
               _CLOSED.format(what="minima Q(±1, ±1, 0), saddles Q(0, ±1, 0) and Q(±1, 0, 0)"),
               slow="rotated-3d-double-well" in _SLOW),
    SaddleCase("styblinski-tang-2d", _st_landscape(2), _st_case(2),
               _CLOSED.format(what="products of the roots of 4x³ − 32x + 5 per coordinate; all 4 minima")),
    SaddleCase("styblinski-tang-5d", _st_landscape(5), _st_case(5),
               _CLOSED.format(what="roots of 4x³ − 32x + 5 per coordinate; global minimum and its 5 saddles only")),
    SaddleCase("styblinski-tang-10d", _st_landscape(10), _st_case(10),
               _CLOSED.format(what="roots of 4x³ − 32x + 5 per coordinate; global minimum and its 10 saddles only")),
    SaddleCase("two-paths-2d", _simple("two-paths-2d", 2, _tp_loss_ad), _tp_reference,
               _CLOSED.format(what="minima (±1, 0), saddles (0, ±√(1 − β/2)) of (x²+y²−1)² + βy², β = 0.6")),
    SaddleCase("two-channels-3d", _simple("two-channels-3d", 3, _tc_loss_ad), _tc_reference,
               _ROOT_GRID.format(starts="a 13³ grid on [−1.5, 1.5]³")),
    SaddleCase("mlp-1-2-1-tanh", _simple("mlp-1-2-1-tanh", 7, _mlp_loss_ad), _mlp_reference,
               _ROOT_GRID.format(starts="1200 seeded N(0, 4·I) starts plus the 8 symmetry images of each root")
               + "; declared: one minimum and its unit-swapped image", slow="mlp-1-2-1-tanh" in _SLOW),
]


def case_by_name(name: str) -> SaddleCase:
    """The case called ``name``."""
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)
