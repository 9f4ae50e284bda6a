"""Escape-rate estimator: hand values, Monte-Carlo coverage and bias, censoring, burn-in, divergence, diagnostics."""
import numpy as np
import pytest
from scipy import stats

from flatminima.validation.estimators import RateEstimate, check_exponentiality, estimate_rate, neg_log_rate
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors



def _geometric_runs(rng, n_reps, n_runs, hazard, max_steps):
    """Escape steps with a constant per-step hazard, right-censored at max_steps: (steps, escaped)."""
    first = rng.geometric(hazard, size=(n_reps, n_runs))
    return np.minimum(first, max_steps), first <= max_steps


def test_hand_computed_example_with_burn_in():
    steps = np.array([3, 10, 20, 30, 40, 40])
    escaped = np.array([True, True, True, False, False, False])
    est = estimate_rate(steps, escaped, eta=0.1, burn_in_steps=5)
    # Run 0 escaped during burn-in and is dropped; exposure (5 + 15 + 25 + 35 + 35) steps = 11.5 SDE time.
    assert est.n_dropped_burn_in == 1 and est.n_at_risk == 5 and est.n_runs == 6
    assert est.n_escaped == 2 and est.n_censored == 3 and est.n_diverged == 0
    assert est.exposure_steps == 115 and est.exposure == pytest.approx(11.5)
    assert est.rate == pytest.approx(2 / 11.5) and est.rate_per_step == pytest.approx(0.2 / 11.5)
    # Garwood interval written with gamma quantiles instead of chi-square ones (the same law, other route).
    assert est.rate_ci == pytest.approx((stats.gamma.ppf(0.025, 2) / 11.5, stats.gamma.ppf(0.975, 3) / 11.5), rel=1e-12)
    assert est.log_rate_stderr == pytest.approx(1 / np.sqrt(2))
    assert "burn-in of 5 steps" in est.method and "Garwood" in est.method


def test_zero_escapes_give_an_upper_bound_not_an_error():
    est = estimate_rate(np.full(50, 1000), np.zeros(50, bool), eta=0.01, confidence_level=0.95)
    assert est.rate == 0.0 and est.is_upper_bound and est.n_escaped == 0
    assert est.rate_upper == pytest.approx(-np.log(0.05) / 500.0)           # ≈ 3/exposure, rule of three
    assert est.rate_ci[0] == 0.0 and est.rate_ci[1] == pytest.approx(-np.log(0.025) / 500.0)
    assert est.log_rate_stderr == np.inf and np.isnan(est.rate_stderr) and est.escape_time == np.inf
    assert "upper bound" in est.method
    with pytest.raises(ValueError, match="rate of 0"):
        neg_log_rate([est.rate], [est.n_escaped])


def test_coverage_and_log_bias_over_2000_censored_truncated_repetitions():
    """2000 seeded data sets: 400 runs, per-step hazard 0.002, burn-in 100 steps, censoring at 1000 steps."""
    n_reps, n_runs, hazard, max_steps, burn_in, eta = 2000, 400, 0.002, 1000, 100, 0.01
    rng = np.random.default_rng(20240501)
    steps, escaped = _geometric_runs(rng, n_reps, n_runs, hazard, max_steps)
    true_rate = hazard / eta                   # the estimand: per-step hazard in SDE units (module notes)
    fits = [estimate_rate(s, e, eta=eta, burn_in_steps=burn_in) for s, e in zip(steps, escaped)]
    covered = np.mean([f.rate_ci[0] <= true_rate <= f.rate_ci[1] for f in fits])
    assert 0.93 <= covered <= 0.97, covered

    # Expected bias of log γ̂ = log d − log S to second order: Var S/(2 E[S]^2) − Var d/(2 E[d]^2), with
    # E[d] = hazard·E[S] exactly. Moments by exact enumeration of one run's post-burn-in law.
    window = max_steps - burn_in
    k = np.arange(1, window + 1)
    pk = hazard * (1 - hazard) ** (k - 1)
    tail = (1 - hazard) ** window
    at_risk = (1 - hazard) ** burn_in
    s1, s2 = np.sum(k * pk) + window * tail, np.sum(k**2 * pk) + window**2 * tail
    mean_s, var_s = n_runs * at_risk * s1, n_runs * (at_risk * s2 - (at_risk * s1) ** 2)
    p_event = at_risk * (1 - tail)
    mean_d, var_d = n_runs * p_event, n_runs * p_event * (1 - p_event)
    expected_bias = var_s / (2 * mean_s**2) - var_d / (2 * mean_d**2)      # ≈ 5e-4 with E[d] ≈ 273

    log_err = np.log([f.rate for f in fits]) - np.log(true_rate)
    mc_stderr = log_err.std(ddof=1) / np.sqrt(n_reps)
    assert abs(log_err.mean() - expected_bias) < Z_TOL * mc_stderr
    # The delta-method standard error matches the spread of log γ̂ (ratio within ~4 s.e. of a sd, 1.6 %).
    assert np.mean([f.log_rate_stderr for f in fits]) == pytest.approx(log_err.std(ddof=1), rel=0.07)


def test_uncensored_data_give_the_gamma_pivot_coverage():
    """Without censoring 2γS ~ χ²(2n) exactly; the Garwood interval must cover at least nominally."""
    rng = np.random.default_rng(7)
    steps = rng.exponential(scale=1 / 0.5, size=(2000, 30)) / 0.1           # γ = 0.5 per SDE time, eta = 0.1
    fits = [estimate_rate(s, np.ones(30, bool), eta=0.1) for s in steps]
    covered = np.mean([f.rate_ci[0] <= 0.5 <= f.rate_ci[1] for f in fits])
    assert 0.93 <= covered <= 0.97, covered
    # Known exact bias without censoring: E log γ̂ − log γ = log n − ψ(n).
    bias = np.mean(np.log([f.rate for f in fits])) - np.log(0.5)
    from scipy.special import digamma
    assert abs(bias - (np.log(30) - digamma(30))) < Z_TOL * np.sqrt(1 / 30 / 2000)


def test_diverged_runs_are_censored_never_escapes():
    """Competing risks: escape hazard 0.002 and divergence hazard 0.001 per step; the escape rate is recovered."""
    rng = np.random.default_rng(11)
    n_runs, max_steps, eta = 20000, 600, 0.05
    t_escape, t_diverge = rng.geometric(0.002, n_runs), rng.geometric(0.001, n_runs)
    end = np.minimum(np.minimum(t_escape, t_diverge), max_steps)
    escaped = (t_escape <= t_diverge) & (t_escape <= max_steps)
    diverged = (t_diverge < t_escape) & (t_diverge <= max_steps)
    est = estimate_rate(end, escaped, eta=eta, diverged=diverged)
    assert est.n_diverged == diverged.sum() > 0 and est.n_escaped == escaped.sum()
    assert est.n_censored + est.n_escaped + est.n_diverged == n_runs
    z = (np.log(est.rate) - np.log(0.002 / eta)) / est.log_rate_stderr
    assert abs(z) < Z_TOL
    # Negative control: dropping diverged runs altogether would be biased by many standard errors.
    dropped = estimate_rate(end[~diverged], escaped[~diverged], eta=eta)
    assert (np.log(dropped.rate) - np.log(0.002 / eta)) / dropped.log_rate_stderr > Z_TOL
    assert "diverged runs censored" in est.method


@pytest.mark.parametrize("kwargs,message", [
    (dict(steps=[1, 2], escaped=[True]), "same shape"),
    (dict(steps=[1, 2], escaped=[1, 0]), "boolean"),
    (dict(steps=[], escaped=[]), "non-empty"),
    (dict(steps=[-1, 2], escaped=[True, False]), "non-negative"),
    (dict(steps=[np.nan, 2], escaped=[True, False]), "finite"),
    (dict(steps=[1, 2], escaped=[True, False], eta=0.0), "eta must be positive"),
    (dict(steps=[1, 2], escaped=[True, False], diverged=[True, False]), "both escape and diverge"),
    (dict(steps=[1, 2], escaped=[True, False], confidence_level=1.0), "confidence_level"),
    (dict(steps=[1, 2], escaped=[True, False], burn_in_steps=2), "no exposure after a burn-in of 2"),
    (dict(steps=[1, 2], escaped=[True, False], burn_in_steps=1.5), "non-negative integer"),
])
def test_bad_input_raises_one_line_value_errors(kwargs, message):
    kwargs = {"eta": 0.1, **kwargs}
    kwargs["escaped"] = np.asarray(kwargs["escaped"], dtype=bool if message != "boolean" else int)
    with pytest.raises(ValueError, match=message) as info:
        estimate_rate(kwargs.pop("steps"), kwargs.pop("escaped"), **kwargs)
    assert "\n" not in str(info.value)


def test_to_dict_is_flat_and_consistent():
    est = estimate_rate([5, 8, 10], np.array([True, True, False]), eta=0.5)
    row = est.to_dict()
    assert isinstance(est, RateEstimate)
    assert all(np.isscalar(v) for v in row.values())
    assert row["rate_ci_low"] == est.rate_ci[0] and row["rate_per_step_ci_high"] == est.rate_ci[1] * 0.5
    y, y_stderr = neg_log_rate([est.rate], [est.n_escaped])
    assert y[0] == pytest.approx(-np.log(2 / 11.5)) and y_stderr[0] == pytest.approx(1 / np.sqrt(2))


def test_exponential_data_pass_the_diagnostics():
    rng = np.random.default_rng(3)
    steps = np.ceil(rng.exponential(scale=400.0, size=3000)).astype(int) + 50      # 50-step burn-in
    check = check_exponentiality(steps, np.ones(steps.size, bool), eta=0.01, burn_in_steps=50)
    assert check.km_max_distance < check.km_band
    assert check.ks_pvalue > 0.01 and "no censoring" in check.ks_method
    assert check.cv_expected == 1.0 and abs(check.cv - 1.0) < Z_TOL * check.cv_stderr


def test_weibull_data_fail_the_diagnostics():
    """Weibull shape 2 (an increasing hazard, i.e. no quasi-equilibrium) with the same scale: all three flag it."""
    rng = np.random.default_rng(4)
    steps = np.ceil(400.0 * rng.weibull(2.0, size=3000)).astype(int)
    check = check_exponentiality(steps, np.ones(steps.size, bool), eta=0.01)
    assert check.km_max_distance > 2 * check.km_band
    assert check.ks_pvalue < 1e-6
    assert abs(check.cv - 1.0) > Z_TOL * check.cv_stderr                 # Weibull(2) has cv ≈ 0.52


def test_common_censoring_window_uses_the_truncated_law():
    rng = np.random.default_rng(5)
    steps, escaped = _geometric_runs(rng, 1, 4000, 0.002, 600)
    check = check_exponentiality(steps[0], escaped[0], eta=0.1)
    fitted = estimate_rate(steps[0], escaped[0], eta=0.1).rate
    law = stats.truncexpon(b=fitted * 60.0, scale=1 / fitted)                # independent: scipy's truncated law
    assert check.cv_expected == pytest.approx(law.std() / law.mean(), rel=1e-9)
    assert "truncated at the common censoring window" in check.ks_method and check.ks_pvalue > 0.01
    assert abs(check.cv - check.cv_expected) < Z_TOL * check.cv_stderr
    assert check.km_max_distance < check.km_band and check.n_censored == (~escaped[0]).sum()


def test_unequal_censoring_skips_the_ks_test():
    steps = np.array([5, 7, 9, 12, 20, 20, 15])
    escaped = np.array([True, True, True, True, False, False, False])
    diverged = np.array([False] * 6 + [True])
    check = check_exponentiality(steps, escaped, eta=1.0, diverged=diverged)
    assert np.isnan(check.ks_pvalue) and "not computed" in check.ks_method and np.isnan(check.cv_expected)
    assert 0.0 <= check.km_max_distance <= 1.0
    with pytest.raises(ValueError, match="at least 2 escapes"):
        check_exponentiality(steps, np.eye(7, dtype=bool)[0], eta=1.0)
