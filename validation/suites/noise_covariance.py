"""The exact gradient-noise covariance against the Hessian for the ``noise`` suite's C17 checks (docs/theory.md §C17).

The diagonal power law log(B·C_ii) against log H_ii with its confidence interval, and the Rayleigh ratios
of B·C on the top Hessian eigenvectors. Used by ``validation.suites.noise``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics.samples import gradient_noise_covariance
from flatminima.validation.fits import LineFit, fit_line

__all__ = [
    "H_FLOOR_REL", "ZYT_RANGE", "CONFIDENCE",
    "DiagonalScaling", "diagonal_scaling", "CovarianceComparison", "compare_covariance_hessian",
]

# Diagonal entries enter the log–log fit when H_ii (resp. H_ii − wd) exceeds this fraction of the largest
# one and C_ii > 0: pixels that are constant in the data give H_ii = wd exactly and C_ii = 0.
H_FLOOR_REL = 1e-6
# Zhang–Yang–Tu (docs/theory.md §Hessian noise and the loss unit, item 4): C_ii ∝ H_ii^γ with 1 ≤ γ ≤ 2;
# Xie: γ = 1.
ZYT_RANGE = (1.0, 2.0)
CONFIDENCE = 0.95


# ------------------------------------------------------------------------------------------ C vs H
@dataclass(frozen=True)
class DiagonalScaling:
    """The fit log(B·C_ii) = a + γ·log(h_i) over the entries with h_i above the floor (docs/theory.md §C17).

    Attributes
    ----------
    regressor : str
        What h is (``"H_ii"`` or ``"H_ii - wd"``).
    fit : validation.fits.LineFit
        OLS fit in natural logs; γ = ``fit.slope``.
    ci : tuple of float
        95% confidence interval of γ (Student t, n − 2).
    used : ndarray of bool
        Which diagonal entries entered the fit.
    ratio_median : float
        exp(median log(B·C_ii/h_i)) over the used entries: the loss-unit constant λ of C = λH/B if γ = 1.
    supports_xie : bool
        1 inside ``ci``.
    supports_zyt : bool
        ``ci`` overlaps [1, 2].
    """

    regressor: str
    fit: LineFit
    ci: tuple
    used: np.ndarray = field(repr=False)
    ratio_median: float
    supports_xie: bool
    supports_zyt: bool


def diagonal_scaling(scaled_cov_diag, h_diag, *, regressor: str = "H_ii") -> DiagonalScaling:
    """Slope γ of log(B·C_ii) against log h_i, with its 95% CI (Xie: γ = 1; Zhang–Yang–Tu: 1 ≤ γ ≤ 2).

    Parameters
    ----------
    scaled_cov_diag : array_like, shape (P,)
        Diagonal of B·C (independent of B with replacement: the per-sample gradient covariance).
    h_diag : array_like, shape (P,)
        Diagonal of the Hessian (or of H − wd·I).
    regressor : str
        Name of h for tables.

    Returns
    -------
    DiagonalScaling

    Notes
    -----
    Entries with h_i ≤ ``H_FLOOR_REL``·max h or C_ii ≤ 0 are left out (log undefined or floor-dominated).
    The CI treats the scatter of the points about the line as independent noise; it measures how well
    a single power law describes the diagonal, not a sampling error (C and H are exact at θ*).
    """
    c = np.asarray(scaled_cov_diag, dtype=float)
    h = np.asarray(h_diag, dtype=float)
    if c.shape != h.shape or c.ndim != 1:
        raise InputError(f"the two diagonals must be 1-D of equal length; got {c.shape} and {h.shape}")
    used = (h > H_FLOOR_REL * np.max(h)) & (c > 0) & np.isfinite(c) & np.isfinite(h)
    if used.sum() < 3:
        raise InputError(f"only {int(used.sum())} diagonal entries have h > floor and C > 0; a slope needs 3")
    x, y = np.log(h[used]), np.log(c[used])
    fit = fit_line(x, y, x_name=f"log {regressor}", y_name="log B*C_ii")
    ci = fit.slope_ci(CONFIDENCE)
    return DiagonalScaling(regressor, fit, ci, used, float(np.exp(np.median(y - x))),
                           bool(ci[0] <= 1.0 <= ci[1]), bool(ci[0] <= ZYT_RANGE[1] and ci[1] >= ZYT_RANGE[0]))


@dataclass(frozen=True)
class CovarianceComparison:
    """The exact noise covariance against the Hessian at one θ (docs/theory.md §C17).

    Attributes
    ----------
    scaled_cov : ndarray, shape (P, P)
        B·C_B with replacement (= the per-sample gradient covariance S, the same for every B).
    hessian : ndarray, shape (P, P)
        H, symmetrised.
    weight_decay : float
    eigenvalues, eigenvectors : ndarray
        Hessian eigenpairs, descending (the top ones first).
    diag_h, diag_h_data : DiagonalScaling
        Fits against H_ii and against H_ii − wd.
    rayleigh : list of dict
        Per top eigenvector v_i: ``eigenvalue``, ``vCv`` (vᵀ(B·C)v), ``ratio`` (÷ λ_i), ``ratio_data``
        (÷ (λ_i − wd)).
    batch_size : int
        The B at which C_B was computed by ``gradient_noise_covariance`` (multiplied back by B).
    """

    scaled_cov: np.ndarray = field(repr=False)
    hessian: np.ndarray = field(repr=False)
    weight_decay: float
    eigenvalues: np.ndarray = field(repr=False)
    eigenvectors: np.ndarray = field(repr=False)
    diag_h: DiagonalScaling
    diag_h_data: DiagonalScaling
    rayleigh: list
    batch_size: int


def compare_covariance_hessian(landscape, theta, *, weight_decay: float = 0.0, batch_size: int = 32,
                               n_top: int = 3, hessian=None) -> CovarianceComparison:
    """C_B against H/B at θ: diagonal power law, Rayleigh ratios on top Hessian eigenvectors (docs/theory.md §C17).

    Parameters
    ----------
    landscape : Landscape
        A finite-sum landscape (``numerics.samples``).
    theta : array_like, shape (P,)
        Usually a minimum (away from it the ∇L∇Lᵀ term of C and the Fisher–Hessian mismatch grow).
    weight_decay : float
        The wd·I that the loss adds to H but not to C (0 if none).
    batch_size : int
        B of the exact C_B (with replacement); B·C_B does not depend on it.
    n_top : int
        Number of top Hessian eigenvectors for the Rayleigh ratios.
    hessian : ndarray, optional
        H at θ if already computed.

    Returns
    -------
    CovarianceComparison
    """
    B = int(batch_size)
    S = B * gradient_noise_covariance(landscape, theta, B, replacement=True)
    H = np.asarray(landscape.hessian(theta) if hessian is None else hessian, dtype=float)
    H = 0.5 * (H + H.T)
    w, V = np.linalg.eigh(H)
    w, V = w[::-1], V[:, ::-1]
    wd = float(weight_decay)
    h = np.diag(H)
    rayleigh = []
    for i in range(min(int(n_top), w.size)):
        v = V[:, i]
        vcv = float(v @ S @ v)
        rayleigh.append({"index": i + 1, "eigenvalue": float(w[i]), "vCv": vcv, "ratio": vcv / float(w[i]),
                         "ratio_data": vcv / float(w[i] - wd) if w[i] > wd else float("nan")})
    return CovarianceComparison(S, H, wd, w, V, diagonal_scaling(np.diag(S), h, regressor="H_ii"),
                                diagonal_scaling(np.diag(S), h - wd, regressor="H_ii - wd"), rayleigh, B)
