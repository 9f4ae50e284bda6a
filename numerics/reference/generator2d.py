"""2-D backward generator on a grid: mean first-passage time field and slowest decay rate.

The SDE is the Itô equation dθ = −∇L(θ) dt + √(2D(θ)) dW (THEORY.md §2.2, read as Itô: the noise
is evaluated at the current point, as in discrete SGD, §5.3), with D(θ) a 2×2 symmetric positive
definite matrix field. Its generator is

    𝒜f = −∇L·∇f + D:∇²f = −∇L·∇f + D_xx f_xx + 2 D_xy f_xy + D_yy f_yy.

For the α-convention (THEORY.md §2.4) pass the Itô-equivalent gradient ∇L − α ∇·D instead of ∇L.
The mean first-passage time T to an absorbing set solves 𝒜T = −1 with T = 0 on the set
(THEORY.md §10.3 in 2-D); the slowest decay rate is the smallest eigenvalue of −𝒜 on the
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
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigs, splu

__all__ = ["MFPT2DResult", "generator_2d", "mfpt_2d"]


def _grid(bounds, shape) -> tuple[np.ndarray, np.ndarray]:
    """Node coordinates x (nx,), y (ny,) of a rectangular grid, bounds included."""
    try:
        (x0, x1), (y0, y1) = bounds
        nx, ny = shape
    except (TypeError, ValueError):
        raise ValueError("bounds must be ((x_min, x_max), (y_min, y_max)) and shape (nx, ny)") from None
    if not all(np.isfinite(v) for v in (x0, x1, y0, y1)) or not (x1 > x0 and y1 > y0):
        raise ValueError(f"bounds must be finite with max > min; got {bounds!r}")
    if int(nx) != nx or int(ny) != ny or nx < 3 or ny < 3:
        raise ValueError(f"shape must be two integers >= 3; got {shape!r}")
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
        raise ValueError(f"diffusion must give a 2x2 matrix per point, shape (n, 2, 2); got {d.shape}")
    bad = ~np.all(np.isfinite(d), axis=(1, 2))
    bad |= np.abs(d[:, 0, 1] - d[:, 1, 0]) > 1e-12 * (np.abs(d[:, 0, 0]) + np.abs(d[:, 1, 1]))
    bad |= (d[:, 0, 0] <= 0) | (d[:, 0, 0] * d[:, 1, 1] - d[:, 0, 1] ** 2 <= 0)
    if np.any(bad):
        k = int(np.argmax(bad))
        raise ValueError(f"diffusion must be symmetric positive definite; fails at theta="
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
    """
    if not callable(grad):
        raise ValueError("grad must be a callable theta (n, 2) -> (n, 2)")
    x, y = _grid(bounds, shape)
    nx, ny = x.size, y.size
    hx, hy = x[1] - x[0], y[1] - y[0]
    xx, yy = np.meshgrid(x, y, indexing="ij")
    theta = np.column_stack([xx.ravel(), yy.ravel()])
    g = np.asarray(grad(theta), dtype=float)
    if g.shape != theta.shape:
        raise ValueError(f"grad must map theta (n, 2) to (n, 2); got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grad is not finite on the grid")
    d = _diffusion_field(diffusion, theta).copy()
    ii, jj = np.divmod(np.arange(nx * ny), ny)
    edge = (ii == 0) | (ii == nx - 1) | (jj == 0) | (jj == ny - 1)
    d[edge, 0, 1] = d[edge, 1, 0] = 0.0          # normal reflection at the outer boundary
    dxy = d[:, 0, 1]
    w_x = d[:, 0, 0] - np.abs(dxy) * hx / hy
    w_y = d[:, 1, 1] - np.abs(dxy) * hy / hx
    if np.any(w_x < -1e-12 * d[:, 0, 0]) or np.any(w_y < -1e-12 * d[:, 1, 1]):
        k = int(np.argmin(np.minimum(w_x / d[:, 0, 0], w_y / d[:, 1, 1])))
        raise ValueError(f"diffusion is too anisotropic for the monotone stencil at theta=({theta[k, 0]:.4g}, "
                         f"{theta[k, 1]:.4g}): need D_xx/h_x >= |D_xy|/h_y and D_yy/h_y >= |D_xy|/h_x")
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
        How the numbers were computed.
    x, y : ndarray
        Finest-grid node coordinates.
    escape_time_field : ndarray
        T on the finest grid, shape (nx, ny); 0 on absorbed nodes.
    absorbed : ndarray
        Boolean mask of absorbed nodes on the finest grid.
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
    """T field, absorbed mask, grid and λ₁ on one grid."""
    a, x, y = generator_2d(grad, diffusion, bounds=bounds, shape=shape)
    nx, ny = x.size, y.size
    if callable(absorbing):
        xx, yy = np.meshgrid(x, y, indexing="ij")
        mask = np.asarray(absorbing(np.column_stack([xx.ravel(), yy.ravel()])), dtype=bool).reshape(nx, ny)
    else:
        mask = np.asarray(absorbing, dtype=bool)
        if mask.shape != (nx, ny):
            raise ValueError(f"absorbing mask must have the grid shape {(nx, ny)}; got {mask.shape}")
    if not mask.any():
        raise ValueError("absorbing set contains no grid node")
    if mask.all():
        raise ValueError("absorbing set contains every grid node")
    free = np.flatnonzero(~mask.ravel())
    a_free = a[free]
    m = (-a_free[:, free]).tocsc()
    solve = _refined_solver(m, a_free[:, np.flatnonzero(mask.ravel())].sum(axis=1).A1)
    t_free = solve(np.ones(free.size))
    if not (np.all(np.isfinite(t_free)) and np.all(t_free > 0)):
        raise ValueError("the linear solve gave a T that is not finite and positive: the temperature is too "
                         "low for this grid (T overflows) or some node cannot reach the absorbing set")
    t = np.zeros(nx * ny)
    t[free] = t_free
    lam = math.nan
    if want_rate:
        # shift-invert at 0 with the refined solver; T is a positive start vector close to the
        # principal eigenvector (Perron–Frobenius: λ₁ is real and simple)
        op = LinearOperator(m.shape, matvec=solve, dtype=float)
        mu = eigs(op, k=1, which="LM", v0=t_free / np.linalg.norm(t_free), return_eigenvectors=False)
        lam = float(1.0 / mu[0].real)
    return t.reshape(nx, ny), mask, x, y, lam


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


def mfpt_2d(grad: Callable, diffusion, *, bounds, shape, absorbing, start,
            refine: bool = True, rate: bool = True) -> MFPT2DResult:
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
        The rectangle; its edges reflect.
    shape : (nx, ny)
        Nodes of the coarse grid. With ``refine`` the fine grid has (2nx − 1, 2ny − 1) nodes.
    absorbing : callable or bool array
        θ (n, 2) → bool (n,), or a mask of shape ``shape`` (a mask allows no refinement).
    start : (float, float)
        θ0; T is interpolated bilinearly (put it on a coarse node for a clean Richardson step).
    refine : bool
        Solve on a second grid with half the spacing and extrapolate, (4 T_{h/2} − T_h)/3.
    rate : bool
        Also compute the slowest decay rate λ₁ (ARPACK, shift-invert at 0).

    Returns
    -------
    MFPT2DResult

    Notes
    -----
    Meant for moderately low temperature (barrier/D up to ~20): T grows like e^{barrier/D} and the
    sparse LU solve loses about log10(T) digits.
    """
    try:
        start = (float(start[0]), float(start[1]))
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"start must be a point (x, y); got {start!r}") from None
    x, y = _grid(bounds, shape)
    if not (x[0] <= start[0] <= x[-1] and y[0] <= start[1] <= y[-1]):
        raise ValueError(f"start must lie inside bounds; got {start}")
    if refine and not callable(absorbing):
        raise ValueError("absorbing must be a callable when refine=True (a mask fixes one grid)")
    if callable(absorbing) and bool(np.asarray(absorbing(np.array([start]))).ravel()[0]):
        raise ValueError(f"start {start} lies in the absorbing set")
    coarse = _solve_on_grid(grad, diffusion, bounds, shape, absorbing, rate)
    t_c = _bilinear(coarse[0], coarse[2], coarse[3], start)
    if t_c <= 0:
        raise ValueError(f"start {start} lies in the absorbing set")
    if refine:
        fine_shape = (2 * x.size - 1, 2 * y.size - 1)
        fine = _solve_on_grid(grad, diffusion, bounds, fine_shape, absorbing, rate)
        t_f = _bilinear(fine[0], fine[2], fine[3], start)
        t_est = (4 * t_f - t_c) / 3                 # second-order scheme: Richardson with 2² − 1
        t_err = abs(t_f - t_est)
        lam = (4 * fine[4] - coarse[4]) / 3 if rate else math.nan
        lam_err = abs(fine[4] - lam) if rate else math.nan
        last, used = fine, fine_shape
        how = f"Richardson over grids {tuple(x.size for x in (coarse[2], coarse[3]))} and {fine_shape}"
    else:
        t_est, t_err, lam, lam_err, last, used = t_c, math.nan, coarse[4], math.nan, coarse, (x.size, y.size)
        how = f"one grid {used}"
    method = ("backward generator, 7-point positive stencil, Scharfetter-Gummel drift, reflecting "
              f"outer boundary, sparse LU; {how}")
    return MFPT2DResult(escape_time=t_est, log_escape_time=math.log(t_est), escape_time_error=t_err,
                        rate=lam, rate_error=lam_err, shape=tuple(used), method=method,
                        x=last[2], y=last[3], escape_time_field=last[0], absorbed=last[1])
