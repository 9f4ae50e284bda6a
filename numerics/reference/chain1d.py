"""Exact mean exit time of the discrete 1-D chain x' = x − ηL'(x) + σ(x)ξ that SGD and SGLD actually run.

The SDE references (:mod:`numerics.reference.mfpt1d`) describe the small-η limit; the chain itself exits
later (it looks at the boundary only at whole steps) and feels the drift through the map x − ηL'(x).
Its mean number of steps T(x) to the first x_n ≥ c solves

    T(x) = 1 + E[T(x') ; x' < c],   x' ~ N(μ(x), σ(x)²),   μ(x) = x − ηL'(x).

Here T is piecewise linear on a uniform grid y_0 = l, …, y_N = c (collocation at the nodes), and
the expectation of every hat function under the Gaussian is exact (closed forms in Φ and φ), so the only
error is the interpolation of T: O(h²), removed by Richardson extrapolation (grids h, h/2, h/4; the
change of the extrapolated value from (h, h/2) to (h/2, h/4) is the stated error). Mass falling below the left end l is put on y_0 (a
reflecting end far up the outer wall of the well, where the chain practically never goes).

The linear system (I − M)T = 1 is solved by state reduction (the Grassmann–Taksar–Heyman elimination):
every quantity is a sum of non-negative terms, the diagonal is the exit mass plus the mass to states not
yet eliminated (never 1 − M_ii), so mean exit times of 10¹⁴ steps keep their relative accuracy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import ndtr

from flatminima.errors import InputError

__all__ = ["Chain1DResult", "chain_mfpt_1d"]

TAIL_SIGMAS = 12.0          # Gaussian mass beyond 12σ (e^-72) is dropped from the band
NODES_PER_SIGMA = 8.0       # default grid: h = min σ / 8
MAX_NODES = 20_000


@dataclass(frozen=True)
class Chain1DResult:
    """Mean exit steps of the discrete chain from ``start`` through ``absorbing``, with its error.

    ``steps`` is the Richardson value of the grids h/2 and h/4 (the O(h²) term removed), ``steps_error`` its
    difference from the Richardson value of h and h/2 (an upper estimate of what is left, which shrinks
    faster than that difference); ``escape_time`` = steps·η in SDE time units and ``rate`` =
    1/escape_time per unit SDE time.
    """
    steps: float
    steps_error: float
    eta: float
    start: float
    absorbing: float
    left: float
    n_nodes: int

    @property
    def escape_time(self) -> float:
        return self.steps * self.eta

    @property
    def rate(self) -> float:
        return 1.0 / self.escape_time

    @property
    def relative_error(self) -> float:
        return self.steps_error / self.steps


def _hat_masses(mu: np.ndarray, s: np.ndarray, y: np.ndarray):
    """E[φ_j(x')] for x' ~ N(μ_i, s_i²) over the cells of the grid y, and the mass above y_N.

    Returns (M (n, n) with M[i, j] the expectation of hat j, the mass below y_0 put on hat 0; above (n,)).
    On cell [a, b] (width h) the two linear pieces are (b − x)/h and (x − a)/h; with α = (a − μ)/s,
    β = (b − μ)/s: P = Φ(β) − Φ(α) and E[(x − a)/h ; cell] = ((μ − a)P + s(φ(α) − φ(β)))/h. Only the
    cells within ``TAIL_SIGMAS`` of μ_i are computed (the band of the matrix).
    """
    n = len(y)
    h = y[1] - y[0]
    width = int(math.ceil(2 * TAIL_SIGMAS * float(np.max(s)) / h)) + 2          # cells per row in the band
    first = np.clip(np.floor((mu - TAIL_SIGMAS * s - y[0]) / h).astype(int), 0, max(n - 1 - width, 0))
    cells = first[:, None] + np.arange(min(width, n - 1))[None, :]               # (n, W) cell indices
    a = y[0] + h * cells
    alpha = (a - mu[:, None]) / s[:, None]
    beta = alpha + h / s[:, None]
    upper = alpha > 0                      # P = Φ(β) − Φ(α) in the tail where both are small (no cancellation)
    P = np.where(upper, ndtr(-alpha) - ndtr(-beta), ndtr(beta) - ndtr(alpha))
    pdf_a = np.exp(-0.5 * alpha * alpha) / math.sqrt(2 * math.pi)
    pdf_b = np.exp(-0.5 * beta * beta) / math.sqrt(2 * math.pi)
    right = np.clip(((mu[:, None] - a) * P + s[:, None] * (pdf_a - pdf_b)) / h, 0.0, None)
    right = np.minimum(right, P)
    M = np.zeros((n, n))
    rows = np.repeat(np.arange(n), cells.shape[1])
    np.add.at(M, (rows, cells.ravel()), (P - right).ravel())
    np.add.at(M, (rows, cells.ravel() + 1), right.ravel())
    M[:, 0] += ndtr((y[0] - mu) / s)
    above = ndtr((mu - y[-1]) / s)
    return M, above


def _solve_state_reduction(M: np.ndarray, out: np.ndarray) -> np.ndarray:
    """T with T = 1 + M T, where row i of M plus out_i is a probability distribution (GTH elimination).

    Eliminating state k leaves the chain censored on the states after it: for rows i > k,
    M_ij += M_ik M_kj / S_k, out_i += M_ik out_k / S_k, b_i += M_ik b_k / S_k, with
    S_k = out_k + Σ_{j>k} M_kj (mass leaving k to the future; no subtraction anywhere). Then
    T_k = (b_k + Σ_{j>k} M_kj T_j) / S_k from the last state back.
    """
    M = M.copy()
    out = out.copy()
    n = len(out)
    b = np.ones(n)
    S = np.empty(n)
    nz = M > 0
    idx = np.arange(n)
    low = np.maximum(np.where(nz.any(axis=0), n - 1 - np.argmax(nz[::-1], axis=0), 0), idx)   # last row of column k
    high = np.maximum(np.where(nz.any(axis=1), n - 1 - np.argmax(nz[:, ::-1], axis=1), 0), idx)  # last column of row k
    hi = np.maximum.accumulate(high)                     # fill-in stays inside the running band
    lo = np.maximum.accumulate(low)
    for k in range(n):
        c1 = hi[k] + 1
        S[k] = out[k] + M[k, k + 1:c1].sum()
        r1 = lo[k] + 1
        if r1 > k + 1:
            f = M[k + 1:r1, k] / S[k]
            M[k + 1:r1, k + 1:c1] += np.outer(f, M[k, k + 1:c1])
            out[k + 1:r1] += f * out[k]
            b[k + 1:r1] += f * b[k]
    T = np.empty(n)
    for k in range(n - 1, -1, -1):
        c1 = hi[k] + 1
        T[k] = (b[k] + M[k, k + 1:c1] @ T[k + 1:c1]) / S[k]
    return T


def _steps_on_grid(grad, sigma, eta, y, start) -> float:
    mu = y - eta * np.asarray(grad(y), float)
    s = np.broadcast_to(np.asarray(sigma(y), float), y.shape).astype(float)
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise InputError("grad and sigma must be finite on [left, absorbing], sigma > 0")
    M, above = _hat_masses(mu, s, y)
    T = _solve_state_reduction(M, above)
    return float(np.interp(start, y, T))


def chain_mfpt_1d(grad: Callable, sigma: Callable, *, eta: float, start: float, absorbing: float, left: float,
                  n_nodes: int | None = None) -> Chain1DResult:
    """Mean exit steps of x' = x − ηL'(x) + σ(x)ξ from ``start`` to the first x_n ≥ ``absorbing``.

    Parameters
    ----------
    grad : callable
        L'(x), vectorised over a 1-D array.
    sigma : callable
        The per-step noise standard deviation σ(x), vectorised (white noise: √(2Dη); SGD-type noise:
        η√(λC(x)/B)); a constant may be returned as a scalar.
    eta : float > 0
        The step; SDE time per step.
    start, absorbing, left : float
        left < start < absorbing; the chain exits at the first step with x_n ≥ absorbing, and mass below
        ``left`` is returned to ``left`` (put it where L − L(a) is many noise units high).
    n_nodes : int, optional
        Nodes of the coarsest grid (the others have 2× and 4× its cells); default: h = min σ / 8.

    Returns
    -------
    Chain1DResult
    """
    for name, v in (("eta", eta), ("start", start), ("absorbing", absorbing), ("left", left)):
        if not math.isfinite(float(v)):
            raise InputError(f"{name} must be finite; got {v!r}")
    if not eta > 0:
        raise InputError(f"eta must be > 0; got {eta!r}")
    if not left < start < absorbing:
        raise InputError(f"need left < start < absorbing; got {left}, {start}, {absorbing}")
    if n_nodes is None:
        probe = np.linspace(left, absorbing, 2001)
        s_min = float(np.min(np.broadcast_to(np.asarray(sigma(probe), float), probe.shape)))
        if not s_min > 0:
            raise InputError("sigma must be > 0 on [left, absorbing]")
        n_nodes = int(math.ceil((absorbing - left) / s_min * NODES_PER_SIGMA)) + 1
    if not 3 <= 4 * (n_nodes - 1) + 1 <= MAX_NODES:
        raise InputError(f"n_nodes must give between 3 and {MAX_NODES} fine nodes; got {n_nodes} "
                         "(σ too small for the interval: pass n_nodes or a shorter interval)")
    t = [_steps_on_grid(grad, sigma, eta, np.linspace(left, absorbing, (n_nodes - 1) * m + 1), start)
         for m in (1, 2, 4)]
    r1, r2 = (4.0 * t[1] - t[0]) / 3.0, (4.0 * t[2] - t[1]) / 3.0       # Richardson: the h² term removed
    return Chain1DResult(steps=r2, steps_error=abs(r2 - r1), eta=float(eta), start=float(start),
                         absorbing=float(absorbing), left=float(left), n_nodes=int(n_nodes))
