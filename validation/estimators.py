"""Escape-rate estimators: the censored exponential MLE with exact Poisson intervals, and exponentiality checks.

Conventions (docs/theory.md §Time and rates, §C19, §C20)
--------------------------------------------------------
A run is a sequence of iterations started in a basin. ``steps[i]`` is the iteration at which run ``i``
left the basin (``escaped[i]`` True), diverged (``diverged[i]`` True) or was right-censored (neither,
typically ``steps[i] == max_steps``). SDE time is ``t = step * eta``; rates are per unit SDE time, and
``rate * eta`` is the rate per iteration.

Burn-in (left truncation). Only time after ``burn_in_steps`` counts. A run that escaped or diverged at
or before the burn-in is dropped (it was never at risk in the measured window); every other run
contributes the exposure ``steps[i] - burn_in_steps``. By memorylessness the post-burn-in durations of
an exponential law are again exponential with the same rate, so the estimator is unchanged in form.

Diverged runs. A divergence is a *competing event*, never an escape: a diverged run is counted as
censored at the step where divergence was detected (its exposure up to then counts, its event does
not). With constant hazards the likelihood of the two event types factorises, and escapes over total
exposure is then exactly the MLE of the escape hazard (the "cause-specific hazard"); dropping diverged
runs altogether would bias the rate upwards, because a run that survives long is more likely to
diverge. ``n_diverged`` is always reported; a large fraction means the step size is the problem.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from flatminima.errors import InputError

__all__ = [
    "RateEstimate",
    "estimate_rate",
    "ExponentialityCheck",
    "check_exponentiality",
    "neg_log_rate",
]


@dataclass(frozen=True)
class RateEstimate:
    """An escape rate estimated from right-censored, left-truncated escape steps.

    Attributes
    ----------
    rate : float
        Censored exponential MLE γ̂ = n_escaped / exposure, per unit SDE time (t = step·eta).
        0.0 when no run escaped; then use ``rate_upper``.
    rate_ci : tuple of float
        Two-sided exact (Garwood, χ²) confidence interval for the rate per unit SDE time: the Poisson
        interval on ``n_escaped`` divided by ``exposure``.
    rate_upper : float
        One-sided upper confidence bound at ``confidence_level`` (−log(1 − level)/exposure, i.e.
        ≈ 3/exposure at 95 %, when nothing escaped). The number to report when ``rate`` is 0.
    log_rate_stderr : float
        Delta-method standard error of log γ̂, 1/√n_escaped (inf when nothing escaped).
    n_runs : int
        Number of runs given.
    n_at_risk : int
        Runs still in the basin at the end of the burn-in (the runs that contribute exposure).
    n_escaped : int
        Escapes after the burn-in (the Poisson count).
    n_censored : int
        Runs at risk that neither escaped nor diverged.
    n_diverged : int
        Runs at risk that diverged (censored at divergence, never escapes).
    n_dropped_burn_in : int
        Runs that escaped or diverged during the burn-in (left truncation).
    exposure : float
        Total SDE time at risk after the burn-in, Σ (steps − burn_in_steps)·eta.
    exposure_steps : float
        The same exposure in iterations.
    eta : float
        Step size used to convert iterations to SDE time.
    burn_in_steps : int
        Iterations discarded at the start of every run.
    confidence_level : float
        Level of ``rate_ci`` and ``rate_upper``.
    method : str
        How the estimate was made, in words.
    """

    rate: float
    rate_ci: tuple[float, float]
    rate_upper: float
    log_rate_stderr: float
    n_runs: int
    n_at_risk: int
    n_escaped: int
    n_censored: int
    n_diverged: int
    n_dropped_burn_in: int
    exposure: float
    exposure_steps: float
    eta: float
    burn_in_steps: int
    confidence_level: float
    method: str

    @property
    def is_upper_bound(self) -> bool:
        """Whether nothing escaped, so that only ``rate_upper`` is informative."""
        return self.n_escaped == 0

    @property
    def rate_stderr(self) -> float:
        """Delta-method standard error of γ̂, γ̂/√n_escaped (nan when nothing escaped)."""
        return self.rate / np.sqrt(self.n_escaped) if self.n_escaped else float("nan")

    @property
    def rate_per_step(self) -> float:
        """The rate per iteration, γ̂·eta (docs/theory.md §C20)."""
        return self.rate * self.eta

    @property
    def rate_per_step_ci(self) -> tuple[float, float]:
        """The confidence interval of the rate per iteration."""
        return self.rate_ci[0] * self.eta, self.rate_ci[1] * self.eta

    @property
    def escape_time(self) -> float:
        """Mean escape time per unit SDE time, 1/γ̂ (inf when nothing escaped)."""
        return 1.0 / self.rate if self.rate > 0 else float("inf")

    def to_dict(self) -> dict[str, object]:
        """Flat scalars for one tidy row: the fields, the CIs split into ``_low``/``_high``, per-step rates."""
        d = asdict(self)
        low, high = d.pop("rate_ci")
        d["rate_ci_low"], d["rate_ci_high"] = low, high
        d["rate_stderr"] = self.rate_stderr
        d["rate_per_step"] = self.rate_per_step
        d["rate_per_step_ci_low"], d["rate_per_step_ci_high"] = self.rate_per_step_ci
        d["is_upper_bound"] = self.is_upper_bound
        return d


def _check_level(confidence_level: float) -> float:
    level = float(confidence_level)
    if not 0.0 < level < 1.0:
        raise InputError(f"confidence_level must lie in (0, 1), got {confidence_level!r}")
    return level


def _runs(steps, escaped, diverged, eta, burn_in_steps):
    """Validated arrays (steps, escaped, diverged) and scalars (eta, burn_in_steps)."""
    steps = np.asarray(steps, dtype=float)
    escaped = np.asarray(escaped)
    if steps.ndim != 1 or steps.size == 0:
        raise InputError(f"steps must be a non-empty 1-D array, got shape {steps.shape}")
    if escaped.shape != steps.shape or escaped.dtype != bool:
        raise InputError("escaped must be a boolean array of the same shape as steps")
    if diverged is None:
        diverged = np.zeros_like(escaped)
    else:
        diverged = np.asarray(diverged)
        if diverged.shape != steps.shape or diverged.dtype != bool:
            raise InputError("diverged must be a boolean array of the same shape as steps")
        if np.any(diverged & escaped):
            raise InputError("a run cannot both escape and diverge (a divergence is never an escape)")
    if not np.all(np.isfinite(steps)) or np.any(steps < 0):
        raise InputError("steps must be finite and non-negative")
    eta = float(eta)
    if not (np.isfinite(eta) and eta > 0):
        raise InputError(f"eta must be positive and finite, got {eta!r}")
    if burn_in_steps < 0 or int(burn_in_steps) != burn_in_steps:
        raise InputError(f"burn_in_steps must be a non-negative integer, got {burn_in_steps!r}")
    return steps, escaped, diverged, eta, int(burn_in_steps)


def estimate_rate(
    steps,
    escaped,
    *,
    eta: float,
    burn_in_steps: int = 0,
    confidence_level: float = 0.95,
    diverged=None,
) -> RateEstimate:
    """γ̂ = n_escaped / Σ (steps − burn_in)·eta: the censored exponential MLE of an escape rate.

    Parameters
    ----------
    steps : array_like of shape (n_runs,)
        Iteration at which each run escaped, diverged or was censored (usually ``max_steps``).
    escaped : array_like of bool, shape (n_runs,)
        True where the run escaped at ``steps``.
    eta : float
        Step size; SDE time is ``t = step * eta``.
    burn_in_steps : int, optional
        Iterations discarded at the start of every run (relaxation into the basin). Runs that
        escaped or diverged at ``steps <= burn_in_steps`` are dropped; the others count only the
        time after the burn-in.
    confidence_level : float, optional
        Level of the two-sided interval and of the one-sided upper bound.
    diverged : array_like of bool, optional
        True where the run diverged at ``steps``. Treated as censored there (module docstring).

    Returns
    -------
    RateEstimate

    Notes
    -----
    The count of escapes over a total time on test is treated as Poisson; the interval is Garwood's
    exact one, ``[χ²_{α/2}(2n)/2, χ²_{1−α/2}(2n+2)/2] / exposure``. With iterations as time the same
    formula is the exact MLE of a geometric per-step hazard; reading it per unit SDE time assumes
    that hazard is small (rate·eta ≪ 1). The bias of log γ̂ is O(1/n_escaped) (about +1/(2n) without
    censoring). Never estimate a rate from the mean of escaped runs only (docs/theory.md §C19).

    References
    ----------
    .. [1] docs/theory.md §C19 (censoring-aware estimation), §C20 (units), §Time and rates.
    .. [2] F. Garwood, "Fiducial limits for the Poisson distribution", Biometrika 28 (1936) 437–442.
    """
    level = _check_level(confidence_level)
    steps, escaped, diverged, eta, burn_in = _runs(steps, escaped, diverged, eta, burn_in_steps)
    ended_early = steps <= burn_in
    dropped = ended_early & (escaped | diverged)
    at_risk = steps > burn_in                     # censored at or before burn-in: zero exposure, dropped
    n_escaped = int(np.count_nonzero(escaped & at_risk))
    n_diverged = int(np.count_nonzero(diverged & at_risk))
    n_at_risk = int(np.count_nonzero(at_risk))
    exposure_steps = float(np.sum(steps[at_risk] - burn_in))
    if exposure_steps <= 0:
        raise InputError(f"no exposure after a burn-in of {burn_in} steps: every run ended before it")
    exposure = exposure_steps * eta
    alpha = 1.0 - level
    low = stats.chi2.ppf(alpha / 2, 2 * n_escaped) / 2 if n_escaped else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * n_escaped + 2) / 2
    upper = stats.chi2.ppf(level, 2 * n_escaped + 2) / 2
    method = (
        f"censored exponential MLE (escapes / exposure) after a burn-in of {burn_in} steps; "
        f"exact Garwood {level:.0%} interval on the Poisson count; per unit SDE time t = step*eta"
    )
    if n_diverged:
        method += f"; {n_diverged} diverged runs censored at divergence"
    if n_escaped == 0:
        method += f"; no escape: rate 0, one-sided {level:.0%} upper bound reported"
    return RateEstimate(
        rate=n_escaped / exposure,
        rate_ci=(float(low) / exposure, float(high) / exposure),
        rate_upper=float(upper) / exposure,
        log_rate_stderr=1.0 / np.sqrt(n_escaped) if n_escaped else float("inf"),
        n_runs=int(steps.size),
        n_at_risk=n_at_risk,
        n_escaped=n_escaped,
        n_censored=n_at_risk - n_escaped - n_diverged,
        n_diverged=n_diverged,
        n_dropped_burn_in=int(np.count_nonzero(dropped)),
        exposure=exposure,
        exposure_steps=exposure_steps,
        eta=eta,
        burn_in_steps=burn_in,
        confidence_level=level,
        method=method,
    )


def neg_log_rate(rate, n_escaped):
    """−log γ̂ and its delta-method standard error 1/√n_escaped, the inputs of a fit of −log γ.

    Parameters
    ----------
    rate : array_like
        Estimated rates (all positive).
    n_escaped : array_like
        Escape counts behind each rate (all positive).

    Returns
    -------
    y, y_stderr : ndarray
        −log rate and 1/√n_escaped.
    """
    rate = np.asarray(rate, dtype=float)
    n_escaped = np.asarray(n_escaped, dtype=float)
    if rate.shape != n_escaped.shape:
        raise InputError("rate and n_escaped must have the same shape")
    if not np.all(np.isfinite(rate)) or np.any(rate <= 0) or np.any(n_escaped <= 0):
        raise InputError("a rate of 0 (no escape) has no log; raise max_steps or n_runs, or drop that point")
    return -np.log(rate), 1.0 / np.sqrt(n_escaped)


@dataclass(frozen=True)
class ExponentialityCheck:
    """Diagnostics of whether post-burn-in escape times follow the fitted exponential law.

    Attributes
    ----------
    rate : float
        The fitted rate γ̂ per unit SDE time (from :func:`estimate_rate`).
    km_max_distance : float
        sup_t |S_KM(t) − exp(−γ̂ t)| over the observed range of t (time after burn-in): Kaplan–Meier
        survival (``scipy.stats.ecdf`` on ``CensoredData``) against the fitted exponential.
    km_band : float
        A rough scale for ``km_max_distance``: the 95 % Kolmogorov quantile 1.36/√n_escaped. The
        distance is expected below it for exponential data (conservative-ish; γ̂ is fitted).
    ks_statistic, ks_pvalue : float
        Kolmogorov–Smirnov test of the escape times (after burn-in) against the exponential with
        rate γ̂, truncated at the common censoring window when there is censoring. nan when it could
        not be computed (``ks_method`` says why).
    ks_method : str
        What the KS test did.
    cv : float
        Coefficient of variation (std/mean) of the escape times after burn-in (escaped runs only).
    cv_expected : float
        The value ``cv`` should take under the fitted law: 1 without censoring, that of the
        exponential truncated at the censoring window otherwise.
    cv_stderr : float
        Asymptotic standard error of ``cv`` for exponential data without censoring, 1/√n_escaped
        (a guide under censoring).
    n_escaped, n_censored : int
        Events and censored runs used.
    """

    rate: float
    km_max_distance: float
    km_band: float
    ks_statistic: float
    ks_pvalue: float
    ks_method: str
    cv: float
    cv_expected: float
    cv_stderr: float
    n_escaped: int
    n_censored: int

    def to_dict(self) -> dict[str, object]:
        """Flat scalars for one tidy row."""
        return asdict(self)


def _truncated_exponential(rate: float, window: float):
    """CDF, mean and standard deviation of Exp(rate) conditioned on T ≤ window."""
    a = rate * window
    mass = -np.expm1(-a)                                   # P(T <= window)

    def cdf(t):
        return -np.expm1(-rate * np.clip(t, 0.0, window)) / mass

    if a < 1.0:
        # u = t/window has density ∝ e^{-a u} on [0, 1]; m_k = ∫ u^k e^{-a u} du = Σ_j (-a)^j / (j! (k+j+1)),
        # summed as a series because the closed form cancels catastrophically for small a.
        j = np.arange(30)
        c = np.cumprod(np.r_[1.0, -a / j[1:]])             # (-a)^j / j!
        m0, m1, m2 = (np.sum(c / (k + j + 1)) for k in range(3))
        mean_u = m1 / m0
        return cdf, window * mean_u, window * np.sqrt(m2 / m0 - mean_u**2)
    tail = np.exp(-a) / mass                               # closed form, safe for a >= 1
    mean = 1.0 / rate - window * tail
    second = 2.0 / (rate**2 * mass) - tail * (window**2 + 2.0 * window / rate + 2.0 / rate**2)
    return cdf, mean, np.sqrt(second - mean**2)


def check_exponentiality(
    steps,
    escaped,
    *,
    eta: float,
    burn_in_steps: int = 0,
    diverged=None,
) -> ExponentialityCheck:
    """max |KM − exp(−γ̂ t)|, a KS test and the coefficient of variation of post-burn-in escape times.

    Parameters
    ----------
    steps, escaped, eta, burn_in_steps, diverged
        As in :func:`estimate_rate` (diverged runs are censored at divergence).

    Returns
    -------
    ExponentialityCheck

    Notes
    -----
    Times are measured from the end of the burn-in, in SDE units. The KS test needs a fully
    specified null: without censoring it compares the escape times with Exp(γ̂); with censoring
    and a *common* censoring window w (the usual ``max_steps``), the escape times of the escaped
    runs are, under the exponential law, i.i.d. Exp(γ) truncated at w, and that is the null used.
    With censoring at different times (diverged runs) the KS test is skipped (nan) and only the
    Kaplan–Meier distance is reported. Because γ̂ is estimated from the same data the KS p-value
    is conservative (Lilliefors): a small p-value is evidence against the exponential law, a
    large one is weak evidence for it. Needs at least 2 escapes.

    References
    ----------
    .. [1] docs/theory.md §C3 (KS test after a relaxation time) and §C19 (log-survival is linear).
    """
    fit = estimate_rate(steps, escaped, eta=eta, burn_in_steps=burn_in_steps, diverged=diverged)
    steps, escaped, diverged, eta, burn_in = _runs(steps, escaped, diverged, eta, burn_in_steps)
    at_risk = steps > burn_in
    t = (steps[at_risk] - burn_in) * eta
    event = escaped[at_risk]
    n_events = int(np.count_nonzero(event))
    if n_events < 2:
        raise InputError(f"an exponentiality check needs at least 2 escapes after burn-in, got {n_events}")
    rate = fit.rate
    t_event, t_cens = t[event], t[~event]

    km = stats.ecdf(stats.CensoredData(uncensored=t_event, right=t_cens)).sf
    jumps, after = km.quantiles, km.probabilities
    before = np.r_[1.0, after[:-1]]
    model = np.exp(-rate * jumps)
    dist = max(np.max(np.abs(after - model)), np.max(np.abs(before - model)))
    dist = max(dist, abs(after[-1] - np.exp(-rate * t.max())))     # flat tail up to the last observation

    if t_cens.size == 0:
        ks = stats.kstest(t_event, stats.expon(scale=1.0 / rate).cdf)
        ks_method = "KS against Exp(rate) (no censoring; rate fitted, so p is conservative)"
        cv_expected = 1.0
    elif np.all(t_cens == t_cens[0]) and np.all(t_event <= t_cens[0]):
        cdf, mean, sd = _truncated_exponential(rate, float(t_cens[0]))
        ks = stats.kstest(t_event, cdf)
        ks_method = ("KS of escaped runs against Exp(rate) truncated at the common censoring window "
                     "(rate fitted, so p is conservative)")
        cv_expected = sd / mean
    else:
        ks = None
        ks_method = "not computed: runs are censored at different times; use km_max_distance"
        cv_expected = float("nan")
    return ExponentialityCheck(
        rate=rate,
        km_max_distance=float(dist),
        km_band=1.36 / np.sqrt(n_events),
        ks_statistic=float(ks.statistic) if ks is not None else float("nan"),
        ks_pvalue=float(ks.pvalue) if ks is not None else float("nan"),
        ks_method=ks_method,
        cv=float(np.std(t_event, ddof=1) / np.mean(t_event)),
        cv_expected=float(cv_expected),
        cv_stderr=1.0 / np.sqrt(n_events),
        n_escaped=n_events,
        n_censored=int(t_cens.size),
    )
