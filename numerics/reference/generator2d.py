"""2-D backward generator on a grid: mean first-passage time field and slowest decay rate.

The SDE is the Itô equation dθ = −∇L(θ) dt + √(2D(θ)) dW (docs/theory.md §The SDE, read as Itô: the noise
is evaluated at the current point, as in discrete SGD, docs/theory.md §Stochastic calculus conventions),
with D(θ) a 2×2 symmetric positive
definite matrix field. Its generator is

    𝒜f = −∇L·∇f + D:∇²f = −∇L·∇f + D_xx f_xx + 2 D_xy f_xy + D_yy f_yy.

For the α-convention (docs/theory.md §Stochastic calculus conventions) pass the Itô-equivalent gradient
∇L − α ∇·D instead of ∇L.
The mean first-passage time T to an absorbing set solves 𝒜T = −1 with T = 0 on the set
(docs/theory.md §Exact references in 2-D); the slowest decay rate is the smallest eigenvalue of −𝒜 on the
non-absorbed nodes (Dirichlet on the set), ≈ 1/T from a metastable minimum.

Discretisation (node-centred finite differences, rows of the matrix sum to zero, so it is the
generator of a continuous-time Markov chain on the grid):

* D is split into non-negative weights on four lattice directions (a 7-point "positive" stencil):
  along x, w_x = D_xx − |D_xy| h_x/h_y; along y, w_y = D_yy − |D_xy| h_y/h_x; along the diagonal
  (h_x, sign(D_xy) h_y), |D_xy|/(h_x h_y). This needs D_xx/h_x ≥ |D_xy|/h_y and D_yy/h_y ≥ |D_xy|/h_x
  (diagonal dominance in grid units); otherwise a ``ValueError`` is raised.
* The drift acts along the axes and is exponentially fitted together with w_x, w_y
  (Scharfetter–Gummel / Il'in–Allen–Southwell): with Péclet number P = b h/w,
  rate to +h = (w/h²) B(−P), rate to −h = (w/h²) B(P), B(z) = z/(eᶻ − 1). Both are ≥ 0 for any
  temperature, so the matrix stays an M-matrix; as w → 0 this becomes upwinding, as P → 0
  central differences. The scheme is second order in h.
* Reflecting outer boundary: transitions that would leave the grid are dropped, and the cross
  term is dropped on boundary nodes (so the reflection is normal to the boundary). Put the outer
  boundary where the stationary density is negligible; the boundary treatment is then irrelevant.

Eigen frame (constant D only). The positive stencil cannot represent a strongly anisotropic D
whose axes are oblique to the grid. For a constant D = R diag(d1, d2) Rᵀ the generator is instead
discretised in the coordinates u = Rᵀ(θ − θ0), where
𝒜f = −(Rᵀ∇L)·∇_u f + d1 f_{u1u1} + d2 f_{u2u2} has no cross term, so the 5-point stencil with
fitted drift is an M-matrix for every D:

* the grid is a rectangle in u covering the user's rectangle (so the reflecting outer boundary
  moves outwards; it must still lie where the stationary density is negligible), with θ0 (the
  start point) on a node of every grid and spacing (R_xk²/h_x² + R_yk²/h_y²)^{−1/2} along u_k,
  the user's grid spacing in that direction;
* the axes are not rescaled to equal diffusion coefficients: for a diagonal D the fitted rates
  (w/h²) B(∓b h/w) are invariant under u_k → u_k/√d_k, so the rescaled scheme is the same matrix;
* the absorbing set is in general oblique to this grid. A free node next to it keeps its fitted
  rates, but on the unequal stencil (−c, 0, +a) whose short arm ends on the boundary, located by
  bisection along the grid link (Shortley & Weller, J. Appl. Phys. 9, 334 (1938), for the
  second derivative; the drift is fitted like the Scharfetter–Gummel rates above). A staircase
  boundary would cost O(h); the fitted one is locally O(h) but globally O(h²) (Bramble & Hubbard,
  Numer. Math. 4, 313 (1962), for the Laplacian). Its h² coefficient depends on where the
  boundary cuts the cells, so the Richardson value is not of higher order there; the reported
  two-grid error |T_{h/2} − T_extrapolated| stays a conservative estimate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigs, splu

from flatminima.errors import InputError

__all__ = ["FRAMES", "EigenFrame", "MFPT2DResult", "eigen_frame", "generator_2d", "generator_2d_eigen",
           "mfpt_2d"]

#: Values of ``mfpt_2d(frame=...)``: pick automatically, the θ grid, or the eigenbasis of a constant D.
FRAMES = ("auto", "grid", "eigen")


def _grid(bounds, shape) -> tuple[np.ndarray, np.ndarray]:
    """Node coordinates x (nx,), y (ny,) of a rectangular grid, bounds included."""
    try:
        (x0, x1), (y0, y1) = bounds
        nx, ny = shape
    except (TypeError, ValueError):
        raise InputError("bounds must be ((x_min, x_max), (y_min, y_max)) and shape (nx, ny)") from None
    if not all(np.isfinite(v) for v in (x0, x1, y0, y1)) or not (x1 > x0 and y1 > y0):
        raise InputError(f"bounds must be finite with max > min; got {bounds!r}")
    if int(nx) != nx or int(ny) != ny or nx < 3 or ny < 3:
        raise InputError(f"shape must be two integers >= 3; got {shape!r}")
    return np.linspace(x0, x1, int(nx)), np.linspace(y0, y1, int(ny))


def _diffusion_field(diffusion, theta: np.ndarray) -> np.ndarray:
    """D at the points ``theta`` (n, 2), as (n, 2, 2); checked symmetric positive definite."""
    n = theta.shape[0]
    if callable(diffusion):
        d = np.asarray(diffusion(theta), dtype=float)
        if d.shape == (2, 2):
            d = np.broadcast_to(d, (n, 2, 2))
        elif d.shape == (n,):       # a scalar field D(θ)·I
            d = d[:, None, None] * np.eye(2)
    else:
        d = np.asarray(diffusion, dtype=float)
        d = d * np.eye(2) if d.ndim == 0 else d
        d = np.broadcast_to(d, (n, 2, 2))
    if d.shape != (n, 2, 2):
        raise InputError(f"diffusion must give a 2x2 matrix per point, shape (n, 2, 2); got {d.shape}")
    bad = ~np.all(np.isfinite(d), axis=(1, 2))
    bad |= np.abs(d[:, 0, 1] - d[:, 1, 0]) > 1e-12 * (np.abs(d[:, 0, 0]) + np.abs(d[:, 1, 1]))
    bad |= (d[:, 0, 0] <= 0) | (d[:, 0, 0] * d[:, 1, 1] - d[:, 0, 1] ** 2 <= 0)
    if np.any(bad):
        k = int(np.argmax(bad))
        raise InputError(f"diffusion must be symmetric positive definite; fails at theta="
                         f"({theta[k, 0]:.4g}, {theta[k, 1]:.4g}): {d[k].tolist()}")
    return d


def _fitted_rates(w: np.ndarray, b: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Exponentially fitted rates (to +h, to −h) of w f'' + b f' (Scharfetter–Gummel), both ≥ 0.

    rate_minus = (w/h²) B(P), rate_plus = rate_minus + b/h = (w/h²) B(−P), P = b h/w,
    B(z) = z/(eᶻ − 1); w = 0 gives upwinding.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        pe = np.where(b == 0, 0.0, b * h / w)
        small = np.abs(pe) < 1e-3
        big_pos = (b / h) * np.exp(-pe) / -np.expm1(-pe)
        big_neg = (b / h) / np.expm1(pe)
        minus = np.where(small, w / h**2 * (1 - pe / 2 + pe**2 / 12), np.where(pe > 0, big_pos, big_neg))
    plus = np.maximum(minus + b / h, 0.0)
    return plus, np.maximum(minus, 0.0)


def _bernoulli(z: np.ndarray) -> np.ndarray:
    """B(z) = z/(eᶻ − 1) = |z| e^{−max(z, 0)}/(1 − e^{−|z|}), which neither overflows nor cancels."""
    az = np.abs(z)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        return np.where(az == 0, 1.0, az * np.exp(-np.maximum(z, 0.0)) / -np.expm1(-az))


def _psi(z: np.ndarray) -> np.ndarray:
    """ψ(z) = (1 − B(z))/z for z ≥ 0; Taylor series 1/2 − z/12 + z³/720 − z⁵/30240 below 1e-2."""
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = (1 - _bernoulli(z)) / z
    return np.where(z < 1e-2, 0.5 - z / 12 + z**3 / 720 - z**5 / 30240, direct)


def _phi_neg(x: np.ndarray) -> np.ndarray:
    """φ(−x) = (e^{−x} − 1 + x)/x² for x ≥ 0; Taylor series below 1e-2."""
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = (np.expm1(-x) + x) / x**2
    series = 0.5 - x / 6 + x**2 / 24 - x**3 / 120 + x**4 / 720 - x**5 / 5040
    return np.where(x < 1e-2, series, direct)


def _fitted_rates_unequal(w: np.ndarray, b: np.ndarray, a: np.ndarray,
                          c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exponentially fitted rates (to +a, to −c) of w f'' + b f' on the unequal stencil −c, 0, +a.

    The rates r₊, r₋ make r₊(f(a) − f(0)) + r₋(f(−c) − f(0)) exact for f = s and f = e^{−Ps},
    P = b/w (the solutions of w f'' + b f' = b and = 0), which is how the uniform Scharfetter–Gummel
    rates arise (a = c = h gives ``_fitted_rates``). For P ≥ 0 they are

        r₊ = w / (a·Δ),   r₋ = w B(Pc) / (c B(−Pa)·Δ),   Δ = c ψ(Pc) + a B(Pc) φ(−Pa),

    with ψ(z) = (1 − B(z))/z and φ(z) = (eᶻ − 1 − z)/z², all bounded and positive; P < 0 follows by
    the mirror s → −s. With b = 0 this is the Shortley–Weller stencil 2w/(a(a + c)), 2w/(c(a + c)).
    Requires w > 0.
    """
    flip = b < 0
    down, up = np.where(flip, c, a), np.where(flip, a, c)        # arms along and against the drift
    p = np.abs(b) / w
    b_up = _bernoulli(p * up)
    delta = up * _psi(p * up) + down * b_up * _phi_neg(p * down)
    along = w / (down * delta)
    against = w * b_up / (up * _bernoulli(-p * down) * delta)
    return np.where(flip, against, along), np.where(flip, along, against)


def _axis_weights(d: np.ndarray, hx: float, hy: float) -> tuple[np.ndarray, np.ndarray]:
    """Axis weights w_x = D_xx − |D_xy| h_x/h_y, w_y = D_yy − |D_xy| h_y/h_x of the positive stencil."""
    dxy = np.abs(d[:, 0, 1])
    return d[:, 0, 0] - dxy * hx / hy, d[:, 1, 1] - dxy * hy / hx


def _is_monotone(d: np.ndarray, w_x: np.ndarray, w_y: np.ndarray) -> bool:
    """Whether the axis weights are non-negative (to rounding), i.e. the stencil is an M-matrix."""
    return not (np.any(w_x < -1e-12 * d[:, 0, 0]) or np.any(w_y < -1e-12 * d[:, 1, 1]))


def _anisotropy_advice(d: np.ndarray, position_dependent: bool) -> str:
    """One-line remedy for a refused D: the admissible grid aspect ratios, or the eigen frame."""
    dxy = np.abs(d[:, 0, 1])
    cross = dxy > 0
    lo = float(np.max(dxy[cross] / d[cross, 1, 1], initial=0.0))       # h_x/h_y >= |D_xy|/D_yy
    hi = float(np.min(d[cross, 0, 0] / dxy[cross], initial=math.inf))  # h_x/h_y <= D_xx/|D_xy|
    if not position_dependent:
        return (f"for a constant D use mfpt_2d(..., frame='eigen') (what frame='auto' picks), "
                f"or a shape with h_x/h_y in [{lo:.4g}, {hi:.4g}]")
    if lo <= hi:
        return (f"choose shape so that h_x/h_y lies in [{lo:.4g}, {hi:.4g}] everywhere, or rotate the "
                f"coordinates so that D is nearly diagonal (a constant D passed as an array is rotated by "
                f"mfpt_2d)")
    return (f"no grid aspect ratio works (h_x/h_y would need >= {lo:.4g} and <= {hi:.4g}): rotate the "
            f"coordinates so that D is nearly diagonal, or pass a constant D (frame='eigen')")


def generator_2d(grad: Callable, diffusion, *, bounds, shape) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The discretised backward generator 𝒜f = −∇L·∇f + D:∇²f on a grid, reflecting outer boundary.

    Parameters
    ----------
    grad : callable
        ∇L: θ of shape (n, 2) → (n, 2).
    diffusion : float, (2, 2) array or callable
        D: a constant scalar (D·I), a constant matrix, or θ (n, 2) → (n, 2, 2) (or (n,) for D(θ)·I).

    Other Parameters
    ----------------
    bounds : ((x_min, x_max), (y_min, y_max))
    shape : (nx, ny)
        Number of nodes along x and y, bounds included.

    Returns
    -------
    A : scipy.sparse.csr_matrix
        (nx·ny, nx·ny) generator; node (i, j) is row i·ny + j; rows sum to zero, off-diagonals ≥ 0.
    x, y : ndarray
        Node coordinates.

    Raises
    ------
    ValueError
        If D is too anisotropic for the positive stencil on this grid; the one-line message gives
        the admissible aspect ratios h_x/h_y and, for a constant D, points to the eigen frame
        (``generator_2d_eigen``, ``mfpt_2d(frame="eigen")``).
    """
    if not callable(grad):
        raise InputError("grad must be a callable theta (n, 2) -> (n, 2)")
    x, y = _grid(bounds, shape)
    nx, ny = x.size, y.size
    hx, hy = x[1] - x[0], y[1] - y[0]
    xx, yy = np.meshgrid(x, y, indexing="ij")
    theta = np.column_stack([xx.ravel(), yy.ravel()])
    g = np.asarray(grad(theta), dtype=float)
    if g.shape != theta.shape:
        raise InputError(f"grad must map theta (n, 2) to (n, 2); got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise InputError("grad is not finite on the grid")
    d = _diffusion_field(diffusion, theta).copy()
    ii, jj = np.divmod(np.arange(nx * ny), ny)
    edge = (ii == 0) | (ii == nx - 1) | (jj == 0) | (jj == ny - 1)
    d[edge, 0, 1] = d[edge, 1, 0] = 0.0          # normal reflection at the outer boundary
    dxy = d[:, 0, 1]
    w_x, w_y = _axis_weights(d, hx, hy)
    if not _is_monotone(d, w_x, w_y):
        k = int(np.argmin(np.minimum(w_x / d[:, 0, 0], w_y / d[:, 1, 1])))
        raise InputError(f"diffusion is too anisotropic for the monotone stencil at theta=({theta[k, 0]:.4g}, "
                         f"{theta[k, 1]:.4g}): need D_xx/h_x >= |D_xy|/h_y and D_yy/h_y >= |D_xy|/h_x; "
                         + _anisotropy_advice(d[~edge], callable(diffusion)))
    w_x, w_y = np.maximum(w_x, 0.0), np.maximum(w_y, 0.0)
    b = -g
    px, mx = _fitted_rates(w_x, b[:, 0], hx)
    py, my = _fitted_rates(w_y, b[:, 1], hy)
    diag_pp = np.maximum(dxy, 0.0) / (hx * hy)   # direction (+1, +1) and (−1, −1)
    diag_pm = np.maximum(-dxy, 0.0) / (hx * hy)  # direction (+1, −1) and (−1, +1)
    rows, cols, vals = [], [], []
    for di, dj, rate in ((1, 0, px), (-1, 0, mx), (0, 1, py), (0, -1, my),
                         (1, 1, diag_pp), (-1, -1, diag_pp), (1, -1, diag_pm), (-1, 1, diag_pm)):
        ti, tj = ii + di, jj + dj
        keep = (ti >= 0) & (ti < nx) & (tj >= 0) & (tj < ny) & (rate > 0)
        rows.append(np.flatnonzero(keep))
        cols.append(ti[keep] * ny + tj[keep])
        vals.append(rate[keep])
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    out = np.bincount(rows, weights=vals, minlength=nx * ny)
    n = nx * ny
    a = sp.coo_matrix((np.concatenate([vals, -out]), (np.concatenate([rows, np.arange(n)]),
                                                       np.concatenate([cols, np.arange(n)]))), shape=(n, n))
    return a.tocsr(), x, y


@dataclass(frozen=True, eq=False)
class EigenFrame:
    """A rectangular grid in the eigenbasis of a constant diffusion: θ = origin + R u, D = R diag(d) Rᵀ.

    Attributes
    ----------
    rotation : ndarray, shape (2, 2)
        R, a rotation (orthogonal, det +1); column k is the unit eigenvector of D for
        ``eigenvalues[k]``, i.e. the direction of the u_k axis in θ.
    eigenvalues : ndarray, shape (2,)
        (d1, d2), ascending: the diffusion coefficients along u1 and u2.
    origin : ndarray, shape (2,)
        θ at u = 0, a node of this grid and of its refinements.
    bounds : ((u1_min, u1_max), (u2_min, u2_max))
        The rectangle in u.
    shape : (n1, n2)
        Nodes along u1 and u2, bounds included.
    """

    rotation: np.ndarray
    eigenvalues: np.ndarray
    origin: np.ndarray
    bounds: tuple
    shape: tuple

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Node coordinates u1 (n1,) and u2 (n2,)."""
        return _grid(self.bounds, self.shape)

    def nodes(self) -> np.ndarray:
        """u of every node, shape (n1·n2, 2); node (i, j) is row i·n2 + j, as in ``generator_2d``."""
        u1, u2 = self.axes()
        uu1, uu2 = np.meshgrid(u1, u2, indexing="ij")
        return np.column_stack([uu1.ravel(), uu2.ravel()])

    def to_theta(self, u) -> np.ndarray:
        """θ = origin + R u for points u of shape (n, 2)."""
        return self.origin + np.asarray(u, dtype=float) @ self.rotation.T

    def from_theta(self, theta) -> np.ndarray:
        """u = Rᵀ(θ − origin) for points θ of shape (n, 2)."""
        return (np.asarray(theta, dtype=float) - self.origin) @ self.rotation

    def refined(self) -> "EigenFrame":
        """The same rectangle with half the spacing: (2n1 − 1, 2n2 − 1) nodes, the old ones included."""
        return replace(self, shape=(2 * self.shape[0] - 1, 2 * self.shape[1] - 1))


def _constant_diffusion(diffusion) -> np.ndarray:
    """A constant D (scalar or 2×2) as a checked symmetric positive definite (2, 2) matrix."""
    if callable(diffusion):
        raise InputError("frame='eigen' needs a constant diffusion (a number or a 2x2 array); got a callable")
    return _diffusion_field(diffusion, np.zeros((1, 2)))[0]


def eigen_frame(diffusion, *, bounds, shape, origin) -> EigenFrame:
    """The eigen-frame grid of a constant D covering the θ rectangle ``bounds``, ``origin`` on a node.

    Parameters
    ----------
    diffusion : float or (2, 2) array
        Constant D, symmetric positive definite.

    Other Parameters
    ----------------
    bounds : ((x_min, x_max), (y_min, y_max))
        The θ rectangle to cover.
    shape : (nx, ny)
        The θ grid whose resolution is kept: the spacing along u_k is (R_xk²/h_x² + R_yk²/h_y²)^{−1/2},
        the θ grid's spacing in the direction of u_k (h_x, h_y for an axis-aligned D).
    origin : (float, float)
        θ0, put at u = 0.

    Returns
    -------
    EigenFrame
        The smallest rectangle in u with nodes at integer multiples of the spacing that contains
        the four corners of ``bounds`` (and u = 0). For an oblique D it is larger than ``bounds``,
        up to twice the area, and has correspondingly more nodes than ``shape``.
    """
    evals, rot = np.linalg.eigh(_constant_diffusion(diffusion))
    if np.linalg.det(rot) < 0:
        rot[:, 1] = -rot[:, 1]
    x, y = _grid(bounds, shape)
    h = 1.0 / np.sqrt(rot[0] ** 2 / (x[1] - x[0]) ** 2 + rot[1] ** 2 / (y[1] - y[0]) ** 2)
    origin = np.array([float(origin[0]), float(origin[1])])
    corners = (np.array([[x[0], y[0]], [x[0], y[-1]], [x[-1], y[0]], [x[-1], y[-1]]]) - origin) @ rot
    below = np.maximum(np.ceil(-corners.min(axis=0) / h - 1e-9), 0)
    above = np.maximum(np.ceil(corners.max(axis=0) / h - 1e-9), 0)
    ubounds = tuple((float(-below[k] * h[k]), float(above[k] * h[k])) for k in range(2))
    ushape = tuple(int(below[k] + above[k]) + 1 for k in range(2))
    return EigenFrame(rotation=rot, eigenvalues=evals, origin=origin, bounds=ubounds, shape=ushape)


def _frame_drift(grad: Callable, frame: EigenFrame) -> Callable:
    """∇_u L(u) = Rᵀ ∇L(origin + R u) as a callable of u (n, 2)."""
    def grad_u(u):
        g = np.asarray(grad(frame.to_theta(u)), dtype=float)
        return g @ frame.rotation if g.shape == u.shape else g     # a wrong shape is reported downstream
    return grad_u


def _absorbed_mask(absorbing, theta: np.ndarray, shape: tuple) -> np.ndarray:
    """Boolean mask of the absorbed nodes (``shape``) from a callable of θ or a given mask."""
    if callable(absorbing):
        return np.asarray(absorbing(theta), dtype=bool).reshape(shape)
    mask = np.asarray(absorbing, dtype=bool)
    if mask.shape != shape:
        raise InputError(f"absorbing mask must have the grid shape {shape}; got {mask.shape}")
    return mask


def _crossing_fraction(absorbing: Callable, frame: EigenFrame, u: np.ndarray, step: np.ndarray,
                       iters: int = 45) -> np.ndarray:
    """Fraction s ∈ (0, 1] at which the link u → u + step enters the absorbing set, by bisection."""
    lo, hi = np.zeros(len(u)), np.ones(len(u))
    for _ in range(iters):                       # invariant: u + lo·step free, u + hi·step absorbed
        mid = 0.5 * (lo + hi)
        hit = np.asarray(absorbing(frame.to_theta(u + mid[:, None] * step)), dtype=bool).ravel()
        lo, hi = np.where(hit, lo, mid), np.where(hit, mid, hi)
    return hi


def _next_to_absorbed(mask: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the free nodes whose neighbour at +h, resp. −h, along ``axis`` is absorbed."""
    n = mask.shape[axis]
    cut = lambda lo, hi: tuple(slice(lo, hi) if k == axis else slice(None) for k in range(2))
    plus, minus = np.zeros_like(mask), np.zeros_like(mask)
    plus[cut(0, n - 1)] = mask[cut(1, n)]
    minus[cut(1, n)] = mask[cut(0, n - 1)]
    return ~mask & plus, ~mask & minus


def _fitted_links(frame: EigenFrame, grad_u: Callable, mask: np.ndarray, absorbing: Callable, axis: int):
    """Rows, columns and unequal-arm fitted rates along ``axis`` of the free nodes next to the absorbed set."""
    plus, minus = (m.ravel() for m in _next_to_absorbed(mask, axis))
    node = np.flatnonzero(plus | minus)
    u = frame.nodes()[node]
    h = np.diff(frame.axes()[axis][:2])[0]
    arms = np.ones((2, node.size))                                 # arm lengths / h towards +, −
    for k, (sel, sign) in enumerate(((plus[node], 1.0), (minus[node], -1.0))):
        if sel.any():
            arms[k, sel] = _crossing_fraction(absorbing, frame, u[sel], sign * h * np.eye(2)[axis])
    drift = -grad_u(u)[:, axis]
    r_plus, r_minus = _fitted_rates_unequal(frame.eigenvalues[axis], drift, arms[0] * h, arms[1] * h)
    stride = frame.shape[1] if axis == 0 else 1
    at = np.indices(frame.shape)[axis].ravel()[node]
    has_p, has_m = at < frame.shape[axis] - 1, at > 0              # reflecting edge: no link outwards
    rows = np.concatenate([node[has_p], node[has_m]])
    cols = np.concatenate([node[has_p] + stride, node[has_m] - stride])
    return rows, cols, np.concatenate([r_plus[has_p], r_minus[has_m]])


def _fit_absorbing_boundary(a: sp.csr_matrix, frame: EigenFrame, grad_u: Callable, mask: np.ndarray,
                            absorbing: Callable) -> sp.csr_matrix:
    """``a`` with the links of free nodes next to the absorbing set replaced by unequal-arm fitted rates.

    The new rates (``_fitted_rates_unequal``) put T = 0 where the link crosses the boundary, not at
    the absorbed node (Shortley & Weller 1938); the diagonal is rebuilt so rows still sum to zero.
    """
    links = [_fitted_links(frame, grad_u, mask, absorbing, axis) for axis in (0, 1)]
    new_rows, new_cols, new_vals = (np.concatenate(parts) for parts in zip(*links))
    n = a.shape[0]
    old = a.tocoo()
    keep = (old.row != old.col) & ~np.isin(old.row * n + old.col, new_rows * n + new_cols)
    rows = np.concatenate([old.row[keep], new_rows])
    cols = np.concatenate([old.col[keep], new_cols])
    vals = np.concatenate([old.data[keep], new_vals])
    out = np.bincount(rows, weights=vals, minlength=n)
    return sp.coo_matrix((np.concatenate([vals, -out]), (np.concatenate([rows, np.arange(n)]),
                                                         np.concatenate([cols, np.arange(n)]))),
                         shape=(n, n)).tocsr()


def _frame_generator(grad: Callable, frame: EigenFrame, absorbing) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Generator in an eigen frame and the absorbed mask (None without ``absorbing``)."""
    grad_u = _frame_drift(grad, frame)
    a, _, _ = generator_2d(grad_u, np.diag(frame.eigenvalues), bounds=frame.bounds, shape=frame.shape)
    if absorbing is None:
        return a, None
    mask = _absorbed_mask(absorbing, frame.to_theta(frame.nodes()), frame.shape)
    return _fit_absorbing_boundary(a, frame, grad_u, mask, absorbing), mask


def generator_2d_eigen(grad: Callable, diffusion, *, bounds, shape, origin,
                       absorbing: Callable | None = None) -> tuple[sp.csr_matrix, EigenFrame]:
    """The discretised backward generator in the eigen frame of a constant D (an M-matrix for any D).

    Parameters
    ----------
    grad : callable
        ∇L: θ (n, 2) → (n, 2), in the user's coordinates θ.
    diffusion : float or (2, 2) array
        Constant D, symmetric positive definite.

    Other Parameters
    ----------------
    bounds, shape, origin
        The θ rectangle to cover, the θ grid whose resolution to keep, and θ0; see ``eigen_frame``.
    absorbing : callable, optional
        θ (n, 2) → bool (n,). If given, the rows of free nodes next to the absorbing set use
        unequal-arm fitted rates that put the boundary where the grid links cross it.

    Returns
    -------
    A : scipy.sparse.csr_matrix
        (n1·n2, n1·n2) generator of u = Rᵀ(θ − origin) on ``frame.axes()``: node (i, j) is row
        i·n2 + j; rows sum to zero and off-diagonals are ≥ 0.
    frame : EigenFrame
    """
    if absorbing is not None and not callable(absorbing):
        raise InputError("absorbing must be a callable theta (n, 2) -> bool (n,) in the eigen frame")
    frame = eigen_frame(diffusion, bounds=bounds, shape=shape, origin=origin)
    return _frame_generator(grad, frame, absorbing)[0], frame


@dataclass(frozen=True)
class MFPT2DResult:
    """Mean first-passage time and slowest decay rate of a 2-D diffusion, from the grid generator.

    Attributes
    ----------
    escape_time : float
        T(start), Richardson-extrapolated over grids h and h/2 (fine-grid value if no refinement).
    log_escape_time : float
        log T(start).
    escape_time_error : float
        |T_{h/2} − T_extrapolated|, an error estimate (NaN without refinement).
    rate : float
        Slowest decay rate λ₁ (smallest eigenvalue of −𝒜 with Dirichlet on the absorbing set),
        Richardson-extrapolated; NaN if not computed.
    rate_error : float
        |λ₁(h/2) − λ₁ extrapolated| (NaN without refinement or rate).
    shape : tuple of int
        Shape of the finest grid.
    method : str
        How the numbers were computed, ending with the frame.
    x, y : ndarray
        Finest-grid node coordinates: θ_x, θ_y in the grid frame, u1, u2 in the eigen frame.
    escape_time_field : ndarray
        T on the finest grid, shape (nx, ny); 0 on absorbed nodes.
    absorbed : ndarray
        Boolean mask of absorbed nodes on the finest grid.
    frame : str
        ``"grid"`` (θ coordinates) or ``"eigen"`` (u = Rᵀ(θ − origin), D = R diag(d1, d2) Rᵀ).
    rotation : ndarray, shape (2, 2)
        R (the identity in the grid frame).
    origin : ndarray, shape (2,)
        θ at x = y = 0 (zero in the grid frame, the start point in the eigen frame).
    """

    escape_time: float
    log_escape_time: float
    escape_time_error: float
    rate: float
    rate_error: float
    shape: tuple
    method: str
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    escape_time_field: np.ndarray = field(repr=False)
    absorbed: np.ndarray = field(repr=False)
    frame: str = "grid"
    rotation: np.ndarray = field(default_factory=lambda: np.eye(2), repr=False)
    origin: np.ndarray = field(default_factory=lambda: np.zeros(2), repr=False)

    def nodes(self) -> np.ndarray:
        """θ of every finest-grid node, shape (nx, ny, 2): origin + R (x_i, y_j)."""
        xx, yy = np.meshgrid(self.x, self.y, indexing="ij")
        return self.origin + np.stack([xx, yy], axis=-1) @ self.rotation.T


def _bilinear(values: np.ndarray, x: np.ndarray, y: np.ndarray, point: tuple[float, float]) -> float:
    """Bilinear interpolation of nodal ``values`` (nx, ny) at ``point``."""
    fx = (point[0] - x[0]) / (x[1] - x[0])
    fy = (point[1] - y[0]) / (y[1] - y[0])
    i = min(max(int(math.floor(fx + 1e-9)), 0), x.size - 2)
    j = min(max(int(math.floor(fy + 1e-9)), 0), y.size - 2)
    tx, ty = fx - i, fy - j
    v = values
    return float((1 - tx) * (1 - ty) * v[i, j] + tx * (1 - ty) * v[i + 1, j]
                 + (1 - tx) * ty * v[i, j + 1] + tx * ty * v[i + 1, j + 1])


def _solve_on_grid(grad, diffusion, bounds, shape, absorbing, want_rate):
    """T field, absorbed mask, grid and λ₁ on one θ grid."""
    a, x, y = generator_2d(grad, diffusion, bounds=bounds, shape=shape)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    mask = _absorbed_mask(absorbing, np.column_stack([xx.ravel(), yy.ravel()]), (x.size, y.size))
    t, lam = _solve_generator(a, mask, want_rate)
    return t, mask, x, y, lam


def _solve_in_frame(grad, frame: EigenFrame, absorbing, want_rate):
    """T field, absorbed mask, grid (u1, u2) and λ₁ on one eigen-frame grid."""
    a, mask = _frame_generator(grad, frame, absorbing)
    t, lam = _solve_generator(a, mask, want_rate)
    return (t, mask, *frame.axes(), lam)


def _solve_generator(a: sp.csr_matrix, mask: np.ndarray, want_rate: bool) -> tuple[np.ndarray, float]:
    """T solving 𝒜T = −1 (0 on ``mask``, shaped like it) and λ₁ of −𝒜 with Dirichlet on ``mask``."""
    if not mask.any():
        raise InputError("absorbing set contains no grid node")
    if mask.all():
        raise InputError("absorbing set contains every grid node")
    free = np.flatnonzero(~mask.ravel())
    a_free = a[free]
    m = (-a_free[:, free]).tocsc()
    solve = _refined_solver(m, a_free[:, np.flatnonzero(mask.ravel())].sum(axis=1).A1)
    t_free = solve(np.ones(free.size))
    if not (np.all(np.isfinite(t_free)) and np.all(t_free > 0)):
        raise InputError("the linear solve gave a T that is not finite and positive: the temperature is too "
                         "low for this grid (T overflows) or some node cannot reach the absorbing set")
    t = np.zeros(mask.size)
    t[free] = t_free
    lam = math.nan
    if want_rate:
        # shift-invert at 0 with the refined solver; T is a positive start vector close to the
        # principal eigenvector (Perron–Frobenius: λ₁ is real and simple)
        op = LinearOperator(m.shape, matvec=solve, dtype=float)
        mu = eigs(op, k=1, which="LM", v0=t_free / np.linalg.norm(t_free), return_eigenvectors=False)
        lam = float(1.0 / mu[0].real)
    return t.reshape(mask.shape), lam


def _refined_solver(m: sp.csc_matrix, leak: np.ndarray, steps: int = 6) -> Callable:
    """Solve M v = r for the M-matrix M = −𝒜 (free nodes) with iterative refinement.

    At low temperature T ~ e^{barrier/D} is nearly flat inside the basin and M is ill-conditioned
    (cond ~ T‖M‖), so an LU solve alone loses digits. The residual is computed without
    cancellation from the zero row sums of 𝒜: (M v)_i = Σ_j a_ij (v_i − v_j) + leak_i v_i, where
    a_ij ≥ 0 are the free-to-free rates and leak_i the rates into the absorbing set. With an
    accurate residual, refinement recovers the digits the factorisation lost.
    """
    lu = splu(m)
    off = sp.coo_matrix(-m)
    keep = off.row != off.col
    rows, cols, rates = off.row[keep], off.col[keep], off.data[keep]

    def apply(v: np.ndarray) -> np.ndarray:
        return np.bincount(rows, weights=rates * (v[rows] - v[cols]), minlength=v.size) + leak * v

    def solve(r: np.ndarray) -> np.ndarray:
        v = lu.solve(r)
        for _ in range(steps):
            delta = lu.solve(r - apply(v))
            v = v + delta
            if np.max(np.abs(delta)) <= 4 * np.finfo(float).eps * np.max(np.abs(v)):
                break
        return v

    return solve


def _parse_start(start, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``start`` as a point (x, y) inside the rectangle spanned by the nodes ``x``, ``y``."""
    try:
        start = (float(start[0]), float(start[1]))
    except (TypeError, ValueError, IndexError):
        raise InputError(f"start must be a point (x, y); got {start!r}") from None
    if not (x[0] <= start[0] <= x[-1] and y[0] <= start[1] <= y[-1]):
        raise InputError(f"start must lie inside bounds; got {start}")
    return start


def _choose_frame(frame: str, diffusion, x: np.ndarray, y: np.ndarray) -> str:
    """The frame to use: ``"auto"`` is ``"eigen"`` only for a constant D the positive stencil refuses."""
    if frame != "auto" or callable(diffusion):
        return "grid" if frame == "auto" else frame
    try:
        d = _diffusion_field(diffusion, np.zeros((1, 2)))
    except ValueError:
        return "grid"                           # generator_2d reports the bad D as before
    return "grid" if _is_monotone(d, *_axis_weights(d, x[1] - x[0], y[1] - y[0])) else "eigen"


def _method(how: str, frame: EigenFrame | None) -> str:
    """The ``method`` text of an ``MFPT2DResult``; ``frame`` is None for the θ grid."""
    if frame is None:
        return ("backward generator, 7-point positive stencil, Scharfetter-Gummel drift, reflecting "
                f"outer boundary, sparse LU; {how}; grid frame")
    d1, d2 = frame.eigenvalues
    return (f"backward generator in the eigenbasis of D = R diag({d1:.4g}, {d2:.4g}) R^T, "
            "u = R^T(theta - start), 5-point stencil, Scharfetter-Gummel drift, absorbing boundary fitted "
            f"on grid links, reflecting outer rectangle covering bounds, sparse LU; {how}; eigen frame")


def mfpt_2d(grad: Callable, diffusion, *, bounds, shape, absorbing, start,
            refine: bool = True, rate: bool = True, frame: str = "auto") -> MFPT2DResult:
    """Mean first-passage time T(start) of dθ = −∇L dt + √(2D(θ)) dW (Itô) to an absorbing set.

    Parameters
    ----------
    grad : callable
        ∇L: θ (n, 2) → (n, 2). For a non-Itô convention pass ∇L − α ∇·D (module docstring).
    diffusion : float, (2, 2) array or callable
        D(θ), symmetric positive definite; see ``generator_2d``.

    Other Parameters
    ----------------
    bounds : ((x_min, x_max), (y_min, y_max))
        The rectangle; its edges reflect (in the eigen frame: a larger rectangle covering it).
    shape : (nx, ny)
        Nodes of the coarse grid. With ``refine`` the fine grid has (2nx − 1, 2ny − 1) nodes.
        In the eigen frame: the resolution to keep (see ``eigen_frame``), not the node count.
    absorbing : callable or bool array
        θ (n, 2) → bool (n,), or a mask of shape ``shape`` (a mask allows neither refinement nor the
        eigen frame).
    start : (float, float)
        θ0; T is interpolated bilinearly (put it on a coarse node for a clean Richardson step; in
        the eigen frame it is a node).
    refine : bool
        Solve on a second grid with half the spacing and extrapolate, (4 T_{h/2} − T_h)/3.
    rate : bool
        Also compute the slowest decay rate λ₁ (ARPACK, shift-invert at 0).
    frame : {"auto", "grid", "eigen"}
        ``"grid"``: the 7-point positive stencil on the θ grid, for any D(θ) it can represent.
        ``"eigen"``: constant D only; the 5-point stencil in u = Rᵀ(θ − start), D = R diag(d1, d2) Rᵀ
        (module docstring), an M-matrix for any D. Its reflecting outer boundary is the smallest
        rectangle in u covering ``bounds``, so it moves outwards and must, as before, lie where the
        stationary density is negligible. ``"auto"``: ``"grid"`` unless D is constant and the
        positive stencil refuses it, so every case the grid stencil handles is computed as before.

    Returns
    -------
    MFPT2DResult
        ``frame``, ``rotation`` and ``origin`` say which frame was used and how its nodes map to θ.

    Notes
    -----
    Meant for moderately low temperature (barrier/D up to ~20): T grows like e^{barrier/D} and the
    sparse LU solve loses about log10(T) digits.
    """
    if frame not in FRAMES:
        raise InputError(f"frame must be one of 'auto', 'grid', 'eigen'; got {frame!r}")
    x, y = _grid(bounds, shape)
    start = _parse_start(start, x, y)
    if refine and not callable(absorbing):
        raise InputError("absorbing must be a callable when refine=True (a mask fixes one grid)")
    if callable(absorbing) and bool(np.asarray(absorbing(np.array([start]))).ravel()[0]):
        raise InputError(f"start {start} lies in the absorbing set")
    if _choose_frame(frame, diffusion, x, y) == "grid":
        levels = (shape, (2 * x.size - 1, 2 * y.size - 1))
        return _extrapolate(lambda k: _solve_on_grid(grad, diffusion, bounds, levels[k], absorbing, rate),
                            start, start, refine, rate, None)
    if not callable(absorbing):
        raise InputError("absorbing must be a callable in the eigen frame (a mask belongs to the theta grid)")
    frames = (eigen_frame(diffusion, bounds=bounds, shape=shape, origin=start),)
    frames += (frames[0].refined(),)
    return _extrapolate(lambda k: _solve_in_frame(grad, frames[k], absorbing, rate),
                        (0.0, 0.0), start, refine, rate, frames[0])


def _extrapolate(solve: Callable, point: tuple, start: tuple, refine: bool, rate: bool,
                 frame: EigenFrame | None) -> MFPT2DResult:
    """T(point) and λ₁ from ``solve(0)`` (coarse grid) and, with ``refine``, ``solve(1)``; Richardson."""
    coarse = solve(0)
    t_c = _bilinear(coarse[0], coarse[2], coarse[3], point)
    if t_c <= 0:
        raise InputError(f"start {start} lies in the absorbing set")
    if refine:
        fine = solve(1)
        t_f = _bilinear(fine[0], fine[2], fine[3], point)
        t_est = (4 * t_f - t_c) / 3                 # second-order scheme: Richardson with 2² − 1
        t_err = abs(t_f - t_est)
        lam = (4 * fine[4] - coarse[4]) / 3 if rate else math.nan
        lam_err = abs(fine[4] - lam) if rate else math.nan
        last, how = fine, f"Richardson over grids {coarse[0].shape} and {fine[0].shape}"
    else:
        t_est, t_err, lam, lam_err, last = t_c, math.nan, coarse[4], math.nan, coarse
        how = f"one grid {coarse[0].shape}"
    geometry = {} if frame is None else dict(frame="eigen", rotation=frame.rotation, origin=frame.origin)
    return MFPT2DResult(escape_time=t_est, log_escape_time=math.log(t_est), escape_time_error=t_err,
                        rate=lam, rate_error=lam_err, shape=tuple(last[0].shape), method=_method(how, frame),
                        x=last[2], y=last[3], escape_time_field=last[0], absorbed=last[1], **geometry)
