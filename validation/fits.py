"""Straight-line fits of −log γ, comparison with predicted slopes, ŝ, the C7 exponent check and rival laws.

Every fitted y here is −log γ with γ per unit SDE time and the natural log (docs/theory.md §C20); its
standard error is 1/√n_escaped (:func:`validation.estimators.neg_log_rate`). The exponent constant is

    κ = ΔL (s/H_ae + (1 − s)/|H_be|),   so that   −log γ = (2B/(ηλ)) κ + log-prefactor

(docs/theory.md §The path parameter s, §C7, §C21; λ is the loss unit). The slope against B/η is 2κ/λ.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from flatminima.errors import InputError
from flatminima.validation.estimators import neg_log_rate

__all__ = [
    "LineFit",
    "SlopeComparison",
    "fit_line",
    "fit_neg_log_rate",
    "KappaEstimate",
    "kappa_from_fit",
    "SEstimate",
    "s_hat_from_slope",
    "ExponentComparison",
    "compare_exponents",
    "LawComparison",
    "compare_laws",
]

# A neglected slope term counts as small when below this fraction of the CI half-width: then adding it
# to the prediction moves the z-score by less than ~1 (half a 95 % half-width is ≈ 1 standard error).
NEGLECTED_FRACTION = 0.5
# docs/theory.md §C7: each fit needs R² ≥ 0.95 over at least one decade of γ.
MIN_R_SQUARED = 0.95
MIN_DECADES = 1.0
# ŝ is flagged ill-conditioned when |H_ae − |H_be|| is below this fraction of the larger curvature
# (docs/theory.md §The path parameter s: s then hardly changes the exponent), or when its CI is wider than
# [0, 1].
ILL_CONDITIONED_RTOL = 0.1


def _array(name: str, values) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1:
        raise InputError(f"{name} must be 1-D, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be finite (a rate of 0 has no log; raise max_steps or drop the point)")
    return a


def _xy(x, y, y_stderr):
    x, y = _array("x", x), _array("y", y)
    if x.shape != y.shape:
        raise InputError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < 3:
        raise InputError(f"a slope with a confidence interval needs at least 3 points, got {x.size}")
    if np.ptp(x) == 0:
        raise InputError("x has no spread: all values are equal")
    if y_stderr is not None:
        y_stderr = _array("y_stderr", y_stderr)
        if y_stderr.shape != y.shape:
            raise InputError("y_stderr must have the same length as y")
        if np.any(y_stderr <= 0):
            raise InputError("y_stderr must be positive")
    return x, y, y_stderr


def _wls(x, y, sigma):
    """Weighted least squares with known variances σ²: slope, intercept, their covariance, χ²."""
    w = 1.0 / sigma**2
    sw = w.sum()
    xm, ym = np.dot(w, x) / sw, np.dot(w, y) / sw
    sxx = np.dot(w, (x - xm) ** 2)
    slope = np.dot(w, (x - xm) * (y - ym)) / sxx
    intercept = ym - slope * xm
    var_slope = 1.0 / sxx
    var_intercept = 1.0 / sw + xm**2 / sxx
    cov = -xm / sxx
    resid = y - intercept - slope * x
    chi2 = float(np.dot(w, resid**2))
    ss_tot = float(np.dot(w, (y - ym) ** 2))
    return slope, intercept, var_slope, var_intercept, cov, chi2, ss_tot


def _two_sided(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise InputError(f"confidence_level must lie in (0, 1), got {level!r}")
    return 0.5 + level / 2


@functools.lru_cache(maxsize=256)
def _quantile(q: float, dof: int | None) -> float:
    # Known variances: the estimate is exactly normal. OLS: σ is estimated, Student t with n − 2 dof.
    return float(stats.norm.ppf(q) if dof is None else stats.t.ppf(q, dof))


@dataclass(frozen=True)
class SlopeComparison:
    """A measured slope against a predicted one (lifelines' "cmp to"), with the neglected term's weight.

    Attributes
    ----------
    predicted_slope : float
        The leading-order prediction.
    slope, slope_stderr : float
        The measured slope and its standard error.
    statistic : float
        (slope − predicted_slope)/slope_stderr: a t statistic (OLS) or z score (known variances).
    statistic_name : str
        "t" or "z".
    p_value : float
        Two-sided p-value of ``statistic``.
    confidence_level : float
        Level of ``ci`` and of ``within_ci``.
    ci : tuple of float
        The slope's confidence interval.
    within_ci : bool
        Whether ``predicted_slope`` lies in ``ci``.
    neglected_term : float
        A slope term the prediction leaves out (e.g. the prefactor's contribution).
    neglected_ratio : float
        |neglected_term| divided by the CI half-width.
    neglected_small : bool
        ``neglected_ratio < NEGLECTED_FRACTION`` (0.5).
    statistic_with_neglected : float
        The statistic against ``predicted_slope + neglected_term``.
    within_ci_with_neglected : bool
        Whether ``predicted_slope + neglected_term`` lies in ``ci``.
    """

    predicted_slope: float
    slope: float
    slope_stderr: float
    statistic: float
    statistic_name: str
    p_value: float
    confidence_level: float
    ci: tuple[float, float]
    within_ci: bool
    neglected_term: float
    neglected_ratio: float
    neglected_small: bool
    statistic_with_neglected: float
    within_ci_with_neglected: bool

    def to_dict(self) -> dict[str, object]:
        """Flat scalars for one row."""
        d = asdict(self)
        d["ci_low"], d["ci_high"] = d.pop("ci")
        return d


def _ratio(num: float, den: float) -> float:
    if den > 0:
        return num / den
    return 0.0 if num == 0 else math.copysign(math.inf, num)


@dataclass(frozen=True)
class LineFit:
    """A straight-line fit y = intercept + slope·x with standard errors, R² and (weighted) χ².

    Attributes
    ----------
    x_name, y_name : str
        What was fitted, e.g. ``"1/sharpness"`` and ``"-log rate"``.
    slope, slope_stderr, intercept, intercept_stderr : float
        Estimates and standard errors. With known variances (``weighted``) the errors are not
        rescaled by the residual scatter; look at ``reduced_chi2``.
    slope_intercept_cov : float
        Covariance of slope and intercept.
    r_squared : float
        Coefficient of determination (weighted by 1/σ² when ``weighted``).
    n : int
        Number of points.
    weighted : bool
        True for weighted least squares with known variances, False for OLS.
    chi2, reduced_chi2 : float
        Σ((y − fit)/σ)² and χ²/(n − 2) (nan for OLS). A reduced χ² far above 1 means the points
        scatter more than their error bars allow (model wrong, or errors underestimated).
    chi2_pvalue : float
        P(χ²_{n−2} ≥ chi2) (nan for OLS).
    x_min, x_max, y_min, y_max : float
        Range of the data.
    method : str
        How the fit was made and which distribution its intervals use.
    """

    x_name: str
    y_name: str
    slope: float
    slope_stderr: float
    intercept: float
    intercept_stderr: float
    slope_intercept_cov: float
    r_squared: float
    n: int
    weighted: bool
    chi2: float
    reduced_chi2: float
    chi2_pvalue: float
    x_min: float
    x_max: float
    y_min: float
    y_max: float
    method: str

    @property
    def dof(self) -> int:
        """Residual degrees of freedom, n − 2."""
        return self.n - 2

    def _quantile(self, confidence_level: float) -> float:
        return _quantile(_two_sided(confidence_level), None if self.weighted else self.dof)

    def slope_ci(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the slope: normal quantile with known variances, Student t(n − 2) for OLS."""
        half = self._quantile(confidence_level) * self.slope_stderr
        return self.slope - half, self.slope + half

    def intercept_ci(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the intercept (same distribution as :meth:`slope_ci`)."""
        half = self._quantile(confidence_level) * self.intercept_stderr
        return self.intercept - half, self.intercept + half

    def predict(self, x) -> np.ndarray:
        """intercept + slope·x."""
        return self.intercept + self.slope * np.asarray(x, dtype=float)

    def compare(self, predicted_slope: float, neglected_term: float = 0.0, *,
                confidence_level: float = 0.95) -> SlopeComparison:
        """How far the measured slope is from ``predicted_slope``, in standard errors; is ``neglected_term`` small?

        Parameters
        ----------
        predicted_slope : float
            The leading-order slope from theory.
        neglected_term : float, optional
            The slope contribution the prediction neglects over the fitted range (e.g. from the
            prefactor), as exported by ``theory`` together with the prediction.
        confidence_level : float, optional
            Level of the interval used for ``within_ci`` and ``neglected_ratio``.
        """
        predicted, neglected = float(predicted_slope), float(neglected_term)
        if not (math.isfinite(predicted) and math.isfinite(neglected)):
            raise InputError("predicted_slope and neglected_term must be finite")
        low, high = self.slope_ci(confidence_level)
        half = (high - low) / 2
        stat = _ratio(self.slope - predicted, self.slope_stderr)
        stat_full = _ratio(self.slope - predicted - neglected, self.slope_stderr)
        if self.weighted:
            p = 2 * stats.norm.sf(abs(stat))
        else:
            p = 2 * stats.t.sf(abs(stat), self.dof)
        ratio = _ratio(abs(neglected), half)
        return SlopeComparison(
            predicted_slope=predicted, slope=self.slope, slope_stderr=self.slope_stderr,
            statistic=stat, statistic_name="z" if self.weighted else "t", p_value=float(p),
            confidence_level=float(confidence_level), ci=(low, high), within_ci=bool(low <= predicted <= high),
            neglected_term=neglected, neglected_ratio=ratio, neglected_small=bool(ratio < NEGLECTED_FRACTION),
            statistic_with_neglected=stat_full,
            within_ci_with_neglected=bool(low <= predicted + neglected <= high),
        )

    def to_dict(self) -> dict[str, object]:
        """Flat scalars for one row, with the 95 % slope interval."""
        d = asdict(self)
        d["slope_ci_low"], d["slope_ci_high"] = self.slope_ci(0.95)
        return d

    def __str__(self) -> str:
        low, high = self.slope_ci()
        text = (f"slope({self.y_name} ~ {self.x_name}) = {self.slope:.4g} ± {self.slope_stderr:.2g} "
                f"(95% CI [{low:.4g}, {high:.4g}]), R² = {self.r_squared:.3f}, n = {self.n}")
        return text + (f", reduced χ² = {self.reduced_chi2:.2f}" if self.weighted else "")


def fit_line(x, y, *, y_stderr=None, x_name: str, y_name: str) -> LineFit:
    """y = intercept + slope·x by weighted least squares with known variances (``y_stderr``) or by OLS.

    Parameters
    ----------
    x, y : array_like
        At least 3 finite points, x not all equal.
    y_stderr : array_like, optional
        Known standard errors of y (e.g. 1/√n_escaped for −log γ̂). Given: weights 1/σ², parameter
        errors from the known variances (not rescaled), normal intervals, χ² reported. Omitted:
        ordinary least squares (``scipy.stats.linregress``), Student-t intervals.
    x_name, y_name : str
        Labels of the axes (e.g. ``"1/sharpness"``, ``"-log rate"``).

    Returns
    -------
    LineFit
    """
    x, y, y_stderr = _xy(x, y, y_stderr)
    ranges = dict(x_min=float(x.min()), x_max=float(x.max()), y_min=float(y.min()), y_max=float(y.max()))
    nan = float("nan")
    if y_stderr is None:
        # OLS is the weighted fit with unit weights and σ² estimated by the residual variance s² = RSS/(n − 2).
        slope, intercept, var_s, var_i, cov, rss, ss_tot = _wls(x, y, np.ones_like(y))
        s2 = rss / (x.size - 2)
        r2 = 1.0 - rss / ss_tot if ss_tot > 0 else nan
        return LineFit(x_name, y_name, float(slope), float(np.sqrt(var_s * s2)), float(intercept),
                       float(np.sqrt(var_i * s2)), float(cov * s2), r2, int(x.size), False, nan, nan, nan,
                       **ranges, method="ordinary least squares; Student t(n-2) intervals")
    slope, intercept, var_s, var_i, cov, chi2, ss_tot = _wls(x, y, y_stderr)
    dof = x.size - 2
    r2 = 1.0 - chi2 / ss_tot if ss_tot > 0 else nan
    return LineFit(x_name, y_name, float(slope), float(np.sqrt(var_s)), float(intercept), float(np.sqrt(var_i)),
                   float(cov), r2, int(x.size), True, chi2, chi2 / dof, float(special.chdtrc(dof, chi2)), **ranges,
                   method="weighted least squares with known variances (errors not rescaled); normal intervals")


def fit_neg_log_rate(x, rate, n_escaped, *, x_name: str) -> LineFit:
    """Weighted fit of −log γ̂ (standard error 1/√n_escaped) against x; zero rates are refused."""
    y, y_stderr = neg_log_rate(rate, n_escaped)
    return fit_line(x, y, y_stderr=y_stderr, x_name=x_name, y_name="-log rate")


# x_name -> (fixed quantities needed, κ per unit slope); docs/theory.md §C7 with the loss unit λ.
_KAPPA_AXES = {
    "batch_size": (("eta",), lambda eta, batch_size, lam: eta * lam / 2),             # slope·η·λ/2
    "1/eta": (("batch_size",), lambda eta, batch_size, lam: lam / (2 * batch_size)),  # slope·λ/(2B)
    "1/sharpness": (("eta", "batch_size"), lambda eta, batch_size, lam: eta * lam / (2 * batch_size)),
    "batch_size/eta": ((), lambda eta, batch_size, lam: lam / 2),                     # slope·λ/2
}


@dataclass(frozen=True)
class KappaEstimate:
    """An estimate of κ = ΔL(s/H_ae + (1 − s)/|H_be|) from one fitted slope (docs/theory.md §C7).

    Attributes
    ----------
    kappa, kappa_stderr : float
        κ = factor·slope and its standard error.
    factor : float
        The conversion from slope to κ (e.g. η·λ/2 for a batch-size sweep).
    fit : LineFit
        The fit it came from.
    """

    kappa: float
    kappa_stderr: float
    factor: float
    fit: LineFit

    def ci(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of κ: the fit's slope interval times ``factor``."""
        low, high = self.fit.slope_ci(confidence_level)
        return self.factor * low, self.factor * high


def kappa_from_fit(fit: LineFit, *, eta: float | None = None, batch_size: float | None = None,
                   loss_unit: float = 1.0) -> KappaEstimate:
    """κ from the slope of −log γ (per unit SDE time) against x = ``fit.x_name``.

    ====================  ===============  =====================
    ``fit.x_name``        held fixed       κ
    ====================  ===============  =====================
    ``"batch_size"``      eta              slope·η·λ/2
    ``"1/eta"``           batch_size       slope·λ/(2B)
    ``"1/sharpness"``     eta, batch_size  slope·η·λ/(2B)
    ``"batch_size/eta"``  —                slope·λ/2
    ====================  ===============  =====================

    References
    ----------
    .. [1] docs/theory.md §C7 (three independent estimates of κ) and §C20 (fit γ per SDE time).
    """
    if fit.x_name not in _KAPPA_AXES:
        raise InputError(f"cannot turn a slope against {fit.x_name!r} into kappa; x_name must be one of "
                         f"{sorted(_KAPPA_AXES)}")
    needed, factor_of = _KAPPA_AXES[fit.x_name]
    given = {"eta": eta, "batch_size": batch_size}
    for name in needed:
        value = given[name]
        if value is None or not (math.isfinite(value) and value > 0):
            raise InputError(f"a slope against {fit.x_name} needs the fixed {name} (positive), got {value!r}")
    if not (math.isfinite(loss_unit) and loss_unit > 0):
        raise InputError(f"loss_unit must be positive, got {loss_unit!r}")
    factor = float(factor_of(eta, batch_size, loss_unit))
    return KappaEstimate(factor * fit.slope, factor * fit.slope_stderr, factor, fit)


@dataclass(frozen=True)
class SEstimate:
    """ŝ, the path parameter implied by a measured κ (docs/theory.md §The path parameter s).

    Attributes
    ----------
    s : float
        ŝ = (κ/ΔL − 1/|H_be|)/(1/H_ae − 1/|H_be|). May fall outside [0, 1] (a finding, docs/theory.md §C8).
    s_ci : tuple of float
        κ's interval mapped through the (linear) formula; (nan, nan) when no interval was given.
    ill_conditioned : bool
        H_ae ≈ |H_be| (relative difference below ``ILL_CONDITIONED_RTOL``) or the interval is wider
        than 1: s is then not determined by the data.
    note : str
        Why it is ill-conditioned, or "".
    """

    s: float
    s_ci: tuple[float, float]
    ill_conditioned: bool
    note: str


def s_hat_from_slope(kappa, barrier: float, h_ae: float, h_be: float, *, kappa_ci=None,
                     confidence_level: float = 0.95) -> SEstimate:
    """ŝ = (κ/ΔL − 1/|H_be|)/(1/H_ae − 1/|H_be|), the inverse of κ = ΔL(s/H_ae + (1 − s)/|H_be|).

    Parameters
    ----------
    kappa : float or KappaEstimate
        κ in the convention of this module (:func:`kappa_from_fit`). A :class:`KappaEstimate`
        brings its own interval at ``confidence_level``.
    barrier : float
        ΔL, the barrier height.
    h_ae, h_be : float
        Curvature at the minimum and |curvature| at the saddle along the escape direction.
    kappa_ci : tuple of float, optional
        Interval of κ to propagate (exactly: the map is linear).

    References
    ----------
    .. [1] docs/theory.md §The path parameter s (estimator; ill-conditioned when H_ae ≈ |H_be|), §C8.
    """
    if isinstance(kappa, KappaEstimate):
        if kappa_ci is None:
            kappa_ci = kappa.ci(confidence_level)
        kappa = kappa.kappa
    values = {"kappa": kappa, "barrier": barrier, "h_ae": h_ae, "h_be": h_be}
    for name, value in values.items():
        if not math.isfinite(value):
            raise InputError(f"{name} must be finite, got {value!r}")
    for name in ("barrier", "h_ae", "h_be"):
        if values[name] <= 0:
            raise InputError(f"{name} must be positive, got {values[name]!r}")
    if h_ae == h_be:
        raise InputError("h_ae == h_be: s does not enter the exponent and cannot be estimated")
    gap = 1.0 / h_ae - 1.0 / h_be

    def s_of(k):
        return (k / barrier - 1.0 / h_be) / gap

    s = s_of(float(kappa))
    if kappa_ci is None:
        s_ci = (float("nan"), float("nan"))
    else:
        ends = sorted((s_of(float(kappa_ci[0])), s_of(float(kappa_ci[1]))))
        s_ci = (ends[0], ends[1])
    notes = []
    if abs(h_ae - h_be) < ILL_CONDITIONED_RTOL * max(h_ae, h_be):
        notes.append(f"h_ae and h_be differ by less than {ILL_CONDITIONED_RTOL:.0%}, so s barely affects the exponent")
    if s_ci[1] - s_ci[0] > 1.0:
        notes.append("the interval of s is wider than [0, 1]")
    return SEstimate(float(s), s_ci, bool(notes), "; ".join(notes))


@dataclass(frozen=True)
class ExponentComparison:
    """Whether independent estimates of κ agree (docs/theory.md §C7).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per estimate: x_name, slope, slope_stderr, kappa, kappa_stderr, kappa_ci_low,
        kappa_ci_high, r_squared, n, decades (span of γ in decades), fit_ok.
    agree : bool
        All κ intervals share a common point (max of lows ≤ min of highs).
    fits_ok : bool
        Every fit has R² ≥ 0.95 over at least one decade of γ.
    passed : bool
        ``agree and fits_ok``.
    kappa_mean, kappa_mean_stderr : float
        Inverse-variance weighted mean of the κ estimates and its standard error.
    homogeneity_chi2, homogeneity_pvalue : float
        Cochran's Q = Σ((κ_i − κ̄)/se_i)² and P(χ²_{m−1} ≥ Q): a second, stricter test of agreement.
    verdict : str
        One sentence.
    """

    table: pd.DataFrame
    agree: bool
    fits_ok: bool
    passed: bool
    kappa_mean: float
    kappa_mean_stderr: float
    homogeneity_chi2: float
    homogeneity_pvalue: float
    confidence_level: float
    verdict: str


def compare_exponents(estimates: Sequence[KappaEstimate] | Mapping[str, KappaEstimate], *,
                      confidence_level: float = 0.95) -> ExponentComparison:
    """Do the κ estimates from B, 1/η and 1/k sweeps agree within their confidence intervals? (docs/theory.md §C7)

    Parameters
    ----------
    estimates : sequence (or mapping) of KappaEstimate
        At least two, from :func:`kappa_from_fit`.
    confidence_level : float, optional
        Level of each κ interval (C7: 95 %).
    """
    items = list(estimates.values()) if isinstance(estimates, Mapping) else list(estimates)
    if len(items) < 2 or not all(isinstance(e, KappaEstimate) for e in items):
        raise InputError("compare_exponents needs at least two KappaEstimate objects (see kappa_from_fit)")
    rows = []
    for e in items:
        low, high = e.ci(confidence_level)
        decades = (e.fit.y_max - e.fit.y_min) / math.log(10.0)        # y = −ln γ
        rows.append(dict(x_name=e.fit.x_name, slope=e.fit.slope, slope_stderr=e.fit.slope_stderr,
                         kappa=e.kappa, kappa_stderr=e.kappa_stderr, kappa_ci_low=low, kappa_ci_high=high,
                         r_squared=e.fit.r_squared, n=e.fit.n, decades=decades,
                         fit_ok=bool(e.fit.r_squared >= MIN_R_SQUARED and decades >= MIN_DECADES)))
    table = pd.DataFrame(rows)
    agree = bool(table["kappa_ci_low"].max() <= table["kappa_ci_high"].min())
    fits_ok = bool(table["fit_ok"].all())
    w = 1.0 / table["kappa_stderr"].to_numpy() ** 2
    kappa = table["kappa"].to_numpy()
    mean = float(np.dot(w, kappa) / w.sum())
    q = float(np.dot(w, (kappa - mean) ** 2))
    p = float(stats.chi2.sf(q, len(items) - 1))
    verdict = (f"{len(items)} estimates of kappa {'agree' if agree else 'do not agree'} within their "
               f"{confidence_level:.0%} intervals (weighted mean {mean:.4g}, Cochran p = {p:.3g}); "
               + ("every fit has R² ≥ 0.95 over ≥ 1 decade of rate" if fits_ok
                  else "some fit has R² < 0.95 or spans less than one decade of rate"))
    return ExponentComparison(table, agree, fits_ok, agree and fits_ok, mean, float(1.0 / np.sqrt(w.sum())),
                              q, p, float(confidence_level), verdict)


@dataclass(frozen=True)
class LawComparison:
    """Rival escape laws fitted to the same (x, −log γ, stderr) data, ranked by AIC.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per law, best first: law, formula, n_params, intercept, slope, chi2, chi2_pvalue,
        log_likelihood, aic, aicc, delta_aic, akaike_weight.
    best : str
        The law with the lowest AIC.
    """

    table: pd.DataFrame
    best: str


def compare_laws(x, y, y_stderr, *, xie_slope: float | None = None, mori_slope: float | None = None,
                 x_name: str = "batch_size/eta") -> LawComparison:
    """Fit Xie, Mori, Lévy and white-noise laws to −log γ against x = B/η and rank them by AIC.

    Laws (y = −log γ, weights 1/σ² from ``y_stderr``):

    - ``xie``: y = a + b·x (Arrhenius in B/η, docs/theory.md §Batch size and learning rate); b fixed to
      ``xie_slope`` if given.
    - ``mori``: y = a + ``mori_slope``·x, the slope set by the log-loss ratio (Mori et al.,
      docs/theory.md §Mori power law, §C12); only when ``mori_slope`` is given.
    - ``levy``: y = a + c·log x, a power law in B/η (α-stable noise, docs/theory.md §C13).
    - ``white``: y = a, no dependence on B (white noise at fixed temperature, docs/theory.md §C10).

    Each law's Gaussian log-likelihood with the known variances, ℓ = −½Σ[(r/σ)² + log 2πσ²],
    gives AIC = 2k − 2ℓ and AICc = AIC + 2k(k+1)/(n−k−1) (nan when n ≤ k+1). A free-slope Xie law
    and a Mori law are both straight lines in x: only a *predicted* slope tells them apart.

    Parameters
    ----------
    x : array_like
        B/η (positive: the Lévy law takes its log).
    y, y_stderr : array_like
        −log γ̂ and its standard error (:func:`validation.estimators.neg_log_rate`).
    xie_slope, mori_slope : float, optional
        Predicted slopes of −log γ against x (Xie: 2κ/λ).
    x_name : str, optional
        Label of x.
    """
    x, y, y_stderr = _xy(x, y, y_stderr)
    if y_stderr is None:
        raise InputError("compare_laws needs y_stderr (known variances) for its likelihoods")
    if np.any(x <= 0):
        raise InputError(f"{x_name} must be positive (the Levy law uses its log)")
    for name, value in (("xie_slope", xie_slope), ("mori_slope", mori_slope)):
        if value is not None and not math.isfinite(value):
            raise InputError(f"{name} must be finite")
    n = x.size
    w = 1.0 / y_stderr**2

    def fixed_slope(b, u):                       # intercept only: weighted mean of y − b·u
        a = float(np.dot(w, y - b * u) / w.sum())
        return a, float(b)

    def free(u):
        slope, intercept, *_ = _wls(u, y, y_stderr)
        return float(intercept), float(slope)

    laws = []
    if xie_slope is None:
        laws.append(("xie", f"a + b*{x_name}", 2, free(x), x))
    else:
        laws.append(("xie", f"a + {xie_slope:.4g}*{x_name}", 1, fixed_slope(xie_slope, x), x))
    if mori_slope is not None:
        laws.append(("mori", f"a + {mori_slope:.4g}*{x_name}", 1, fixed_slope(mori_slope, x), x))
    laws.append(("levy", f"a + c*log({x_name})", 2, free(np.log(x)), np.log(x)))
    laws.append(("white", "a", 1, fixed_slope(0.0, x), x))
    const = float(np.sum(np.log(2 * np.pi * y_stderr**2)))
    rows = []
    for law, formula, k, (a, b), u in laws:
        chi2 = float(np.dot(w, (y - a - b * u) ** 2))
        loglik = -0.5 * (chi2 + const)
        aic = 2 * k - 2 * loglik
        aicc = aic + 2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else float("nan")
        rows.append(dict(law=law, formula=formula, n_params=k, intercept=a, slope=b, chi2=chi2,
                         chi2_pvalue=float(stats.chi2.sf(chi2, n - k)), log_likelihood=loglik,
                         aic=aic, aicc=aicc))
    table = pd.DataFrame(rows).sort_values("aic", kind="stable", ignore_index=True)
    table["delta_aic"] = table["aic"] - table["aic"].iloc[0]
    rel = np.exp(-0.5 * table["delta_aic"].to_numpy())
    table["akaike_weight"] = rel / rel.sum()
    return LawComparison(table, str(table["law"].iloc[0]))
