"""Normality test and tail-index estimators of the ``noise`` suite's C18 checks (docs/theory.md §C18).

Anderson–Darling normality at the 1% level, and the Mohammadi–Mohammadpour–Ogata (MMO) tail index α
across minibatch draws (Xie's protocol) and across the pooled coordinates of one draw (Şimşekli et al.'s
protocol); see docs/theory.md §Gradient-noise measurements. Used by ``validation.suites.noise``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from flatminima.errors import InputError

__all__ = [
    "AD_LEVEL", "AD_CRITICAL_1PCT",
    "AndersonDarling", "anderson_darling_normal",
    "TailIndex", "mmo_inverse_alpha", "tail_index_across_draws", "tail_index_pooled",
]

# docs/theory.md §C18: Anderson–Darling normality at the 1% level.
AD_LEVEL = 0.01
# 1% critical value of the AD statistic for the normal with mean and variance estimated, asymptotic form
# A*² = A²(1 + 0.75/n + 2.25/n²): D'Agostino & Stephens (1986), Goodness-of-Fit Techniques, Table 4.7 —
# the table behind scipy.stats.anderson's critical values.
AD_CRITICAL_1PCT = 1.035


# ------------------------------------------------------------------------------------------ normality
@dataclass(frozen=True)
class AndersonDarling:
    """Anderson–Darling test of normality (mean and variance estimated) of one sample.

    Attributes
    ----------
    statistic : float
        A².
    critical_value : float
        The critical value of A² at ``level`` for this n.
    p_value : float
        scipy's p-value interpolated in the same tables (clipped to the tabulated range); nan on scipy
        versions without ``method=``.
    rejected : bool
        ``statistic > critical_value``: normality rejected at ``level``.
    n : int
    level : float
    """

    statistic: float
    critical_value: float
    p_value: float
    rejected: bool
    n: int
    level: float = AD_LEVEL


def anderson_darling_normal(x) -> AndersonDarling:
    """Anderson–Darling test of normality at the 1% level (docs/theory.md §C18).

    Parameters
    ----------
    x : array_like, shape (n,)
        At least 8 finite values, not all equal.

    Returns
    -------
    AndersonDarling

    Notes
    -----
    The statistic is scipy's ``anderson(x, dist="norm")``. The 1% critical value is
    ``AD_CRITICAL_1PCT / (1 + 0.75/n + 2.25/n²)`` (D'Agostino & Stephens 1986, Table 4.7), the value
    scipy tabulates; it is computed here because scipy ≥ 1.17 is phasing out its critical values.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 8 or not np.all(np.isfinite(x)):
        raise InputError(f"the Anderson–Darling test needs a 1-D sample of at least 8 finite values; got shape {x.shape}")
    if np.ptp(x) == 0:
        raise InputError("the Anderson–Darling test needs a sample that is not constant")
    n = x.size
    try:
        res = stats.anderson(x, dist="norm", method="interpolate")
        stat, p = float(res.statistic), float(res.pvalue)
    except TypeError:                         # scipy < 1.17: no `method`, no p-value
        stat, p = float(stats.anderson(x, dist="norm").statistic), float("nan")
    crit = AD_CRITICAL_1PCT / (1.0 + 0.75 / n + 2.25 / n**2)
    return AndersonDarling(stat, crit, p, bool(stat > crit), n)


# ------------------------------------------------------------------------------------------ tail index
@dataclass(frozen=True)
class TailIndex:
    """A tail-index estimate α̂ (2 for Gaussian, < 2 for α-stable heavy tails).

    Attributes
    ----------
    alpha, alpha_stderr : float
        α̂ and its standard error.
    n : int
        Values per estimate (K = K1·K2 used by the estimator).
    k1 : int
        Block length K1 of the MMO estimator.
    method : str
        How the estimate and its error were made.
    """

    alpha: float
    alpha_stderr: float
    n: int
    k1: int
    method: str


def _blocks(n: int) -> tuple[int, int]:
    k1 = int(math.isqrt(n))
    if k1 < 2:
        raise InputError(f"the MMO tail-index estimator needs at least 4 values; got {n}")
    return k1, n // k1


def mmo_inverse_alpha(x, *, rng) -> np.ndarray:
    """1/α̂ of the Mohammadi–Mohammadpour–Ogata estimator, for each row of ``x``.

    1/α̂ = (1/log K1)·[(1/K2) Σ_i log|Y_i| − (1/K) Σ_j log|X_j|], with K = K1·K2, K1 = ⌊√n⌋ and Y_i the
    sums of K1-blocks of the (randomly permuted) values (docs/theory.md §Gradient-noise measurements). For a
    symmetric α-stable sample this estimates 1/α; for a finite-variance sample, 1/2.

    Parameters
    ----------
    x : array_like, shape (n,) or (r, n)
        Centred values (mean zero), none exactly zero.
    rng : numpy.random.Generator
        Randomness of the permutation into blocks (the order of pooled coordinates is not random).

    Returns
    -------
    float or ndarray, shape (r,)
    """
    a = np.asarray(x, dtype=float)
    one = a.ndim == 1
    a = np.atleast_2d(a)
    if a.ndim != 2 or not np.all(np.isfinite(a)):
        raise InputError("x must be a finite 1-D or 2-D array")
    if np.any(a == 0):
        raise InputError("the MMO estimator takes log|x|: values must be non-zero (drop coordinates without noise)")
    k1, k2 = _blocks(a.shape[1])
    a = rng.permuted(a, axis=1)[:, :k1 * k2]
    y = a.reshape(a.shape[0], k2, k1).sum(axis=2)
    with np.errstate(divide="ignore"):           # a block sum of exactly 0 has probability 0
        inv = (np.mean(np.log(np.abs(y)), axis=1) - np.mean(np.log(np.abs(a)), axis=1)) / math.log(k1)
    return float(inv[0]) if one else inv


def tail_index_across_draws(x, *, rng, n_boot: int = 200) -> TailIndex:
    """α̂ of one projection across minibatch draws (Xie's protocol), with a bootstrap standard error.

    Parameters
    ----------
    x : array_like, shape (n_draws,)
        The projection ⟨ξ, v⟩ of each draw.
    rng : numpy.random.Generator
    n_boot : int
        Bootstrap replicates (draws resampled with replacement; each replicate re-permutes the blocks).

    Returns
    -------
    TailIndex
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise InputError("x must be 1-D (one value per draw)")
    alpha = 1.0 / mmo_inverse_alpha(x, rng=rng)
    boot = 1.0 / mmo_inverse_alpha(x[rng.integers(0, x.size, size=(int(n_boot), x.size))], rng=rng)
    k1, k2 = _blocks(x.size)
    return TailIndex(float(alpha), float(np.std(boot, ddof=1)), k1 * k2, k1,
                     f"MMO across {x.size} draws; s.e. from {int(n_boot)} bootstrap resamples of the draws")


def tail_index_pooled(noise, *, rng, standardise: bool = False) -> TailIndex:
    """α̂ across the pooled coordinates of each draw's noise vector (Şimšekli et al.'s protocol).

    One MMO estimate per draw over its P coordinates; the reported α̂ is 1/mean(1/α̂_draw), and its
    standard error comes from the spread of the per-draw estimates (draws are independent).

    Parameters
    ----------
    noise : array_like, shape (n_draws, P)
        ξ per draw, coordinates with identically zero noise removed.
    rng : numpy.random.Generator
    standardise : bool
        Divide each coordinate by its standard deviation across draws first. Pooling raw coordinates
        mixes scales, and a scale mixture of Gaussians is heavy-tailed; standardising removes that effect.

    Returns
    -------
    TailIndex
    """
    a = np.asarray(noise, dtype=float)
    if a.ndim != 2 or a.shape[0] < 2:
        raise InputError("noise must have shape (n_draws >= 2, P)")
    if standardise:
        a = a / np.sqrt(np.mean(a**2, axis=0))         # ξ has mean zero exactly: no centring
    inv = mmo_inverse_alpha(a, rng=rng)
    m_inv, se_inv = float(np.mean(inv)), float(np.std(inv, ddof=1) / math.sqrt(inv.size))
    k1, k2 = _blocks(a.shape[1])
    what = "standardised" if standardise else "raw"
    return TailIndex(1.0 / m_inv, se_inv / m_inv**2, k1 * k2, k1,
                     f"MMO across {a.shape[1]} pooled {what} coordinates of one draw, averaged (as 1/α) over "
                     f"{a.shape[0]} draws; s.e. from the spread across draws (delta method)")
