"""Line fits, slope intervals, comparison with predictions, ŝ, the C7 exponent check and rival laws."""
import numpy as np
import pytest
from scipy import stats

from flatminima.validation.fits import (
    NEGLECTED_FRACTION,
    LineFit,
    compare_exponents,
    compare_laws,
    fit_line,
    fit_neg_log_rate,
    kappa_from_fit,
    s_hat_from_slope,
)
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors

X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
Y = np.array([2.1, 3.9, 6.2, 7.8, 10.1])
SIGMA = np.array([0.1, 0.2, 0.1, 0.3, 0.2])


def test_weighted_fit_matches_the_closed_form():
    """Reference: the Δ-determinant formulas of weighted LS (Numerical Recipes, §15.2) and numpy.polyfit."""
    fit = fit_line(X, Y, y_stderr=SIGMA, x_name="batch_size", y_name="-log rate")
    w = 1 / SIGMA**2
    s, sx, sy, sxx, sxy = w.sum(), (w * X).sum(), (w * Y).sum(), (w * X * X).sum(), (w * X * Y).sum()
    delta = s * sxx - sx**2
    slope, intercept = (s * sxy - sx * sy) / delta, (sxx * sy - sx * sxy) / delta
    assert fit.slope == pytest.approx(slope, rel=1e-12)
    assert fit.intercept == pytest.approx(intercept, rel=1e-12)
    assert fit.slope_stderr == pytest.approx(np.sqrt(s / delta), rel=1e-12)
    assert fit.intercept_stderr == pytest.approx(np.sqrt(sxx / delta), rel=1e-12)
    assert fit.slope_intercept_cov == pytest.approx(-sx / delta, rel=1e-12)
    chi2 = np.sum(((Y - intercept - slope * X) / SIGMA) ** 2)
    assert fit.chi2 == pytest.approx(chi2, rel=1e-12) and fit.reduced_chi2 == pytest.approx(chi2 / 3, rel=1e-12)
    coef, cov = np.polyfit(X, Y, 1, w=1 / SIGMA, cov="unscaled")
    assert (fit.slope, fit.intercept) == pytest.approx(tuple(coef), rel=1e-10)
    assert fit.slope_stderr**2 == pytest.approx(cov[0, 0], rel=1e-10)
    assert fit.weighted and fit.n == 5 and "known variances" in fit.method
    low, high = fit.slope_ci(0.95)
    assert (high - low) / 2 == pytest.approx(stats.norm.ppf(0.975) * fit.slope_stderr)


def test_ols_matches_linregress_and_uses_student_t():
    fit = fit_line(X, Y, x_name="1/eta", y_name="-log rate")
    r = stats.linregress(X, Y)
    assert (fit.slope, fit.intercept, fit.r_squared) == pytest.approx((r.slope, r.intercept, r.rvalue**2))
    assert (fit.slope_stderr, fit.intercept_stderr) == pytest.approx((r.stderr, r.intercept_stderr))
    assert not fit.weighted and np.isnan(fit.reduced_chi2)
    low, high = fit.slope_ci(0.9)
    assert (high - low) / 2 == pytest.approx(stats.t.ppf(0.95, 3) * r.stderr)
    assert "Student t" in fit.method
    assert str(fit).startswith("slope(-log rate ~ 1/eta) = ")


@pytest.mark.parametrize("weighted", [False, True])
def test_slope_ci_coverage_over_4000_seeded_repetitions(weighted):
    """5 points per data set, Gaussian errors with unequal σ: 95 % intervals cover within a binomial band.

    With only n − 2 = 3 dof an OLS interval with a normal quantile would cover ≈ 86 %, and a weighted
    one with a t quantile ≈ 99 %, so the band separates the right distributions from the wrong ones.
    """
    n_reps, slope = 4000, -1.7
    rng = np.random.default_rng(99 + weighted)
    sigma = np.array([0.5, 0.2, 1.0, 0.3, 0.6]) if weighted else np.full(5, 0.4)
    y = 3.0 + slope * X + rng.normal(size=(n_reps, 5)) * sigma
    fits = [fit_line(X, row, y_stderr=sigma if weighted else None, x_name="x", y_name="y") for row in y]
    covered = np.mean([lo <= slope <= hi for lo, hi in (f.slope_ci(0.95) for f in fits)])
    band = Z_TOL * np.sqrt(0.95 * 0.05 / n_reps)                   # ±1.4 %
    assert abs(covered - 0.95) < band, covered


def test_compare_reports_standard_errors_and_the_neglected_term():
    fit = fit_line(X, Y, y_stderr=SIGMA, x_name="batch_size", y_name="-log rate")
    low, high = fit.slope_ci(0.95)
    half = (high - low) / 2
    cmp = fit.compare(2.0)
    assert cmp.statistic == pytest.approx((fit.slope - 2.0) / fit.slope_stderr)
    assert cmp.statistic_name == "z" and cmp.within_ci
    assert cmp.p_value == pytest.approx(2 * stats.norm.sf(abs(cmp.statistic)))
    small = fit.compare(2.0, neglected_term=0.4 * half)
    assert small.neglected_small and small.neglected_ratio == pytest.approx(0.4)
    big = fit.compare(2.0, neglected_term=-3 * half)
    assert not big.neglected_small and big.neglected_ratio == pytest.approx(3.0) and not big.within_ci_with_neglected
    assert big.statistic_with_neglected == pytest.approx((fit.slope - 2.0 + 3 * half) / fit.slope_stderr)
    far = fit.compare(fit.slope + 10 * fit.slope_stderr)
    assert not far.within_ci and far.statistic == pytest.approx(-10.0)
    assert 0 < NEGLECTED_FRACTION < 1
    assert set(cmp.to_dict()) >= {"ci_low", "ci_high", "statistic", "predicted_slope"}


def test_s_hat_inverts_the_forward_formula():
    barrier, h_ae, h_be = 39.362, 34.583, 15.853          # Styblinski–Tang, docs/theory.md §Styblinski-Tang / §C21
    for s in (-0.5, 0.0, 0.4397, 1.0, 1.7):
        kappa = barrier * (s / h_ae + (1 - s) / h_be)
        est = s_hat_from_slope(kappa, barrier, h_ae, h_be, kappa_ci=(kappa * 0.99, kappa * 1.01))
        assert est.s == pytest.approx(s, abs=1e-12)
        for end, k in zip(sorted(est.s_ci), sorted([kappa * 0.99, kappa * 1.01])[::-1]):   # h_ae > h_be: decreasing
            assert barrier * (end / h_ae + (1 - end) / h_be) == pytest.approx(k, rel=1e-12)
        assert not est.ill_conditioned
    # C21's number: s = 0.4397 gives kappa = 1.892 for the global minimum.
    assert s_hat_from_slope(1.892, barrier, h_ae, h_be).s == pytest.approx(0.4397, abs=2e-3)


def test_s_hat_flags_ill_conditioning_and_refuses_bad_input():
    est = s_hat_from_slope(0.1, 1.0, 10.0, 10.5, kappa_ci=(0.099, 0.101))
    assert est.ill_conditioned and "barely affects" in est.note
    wide = s_hat_from_slope(0.15, 1.0, 10.0, 5.0, kappa_ci=(0.05, 0.25))
    assert wide.ill_conditioned and "wider than [0, 1]" in wide.note
    with pytest.raises(ValueError, match="h_ae == h_be"):
        s_hat_from_slope(0.1, 1.0, 10.0, 10.0)
    with pytest.raises(ValueError, match="barrier must be positive"):
        s_hat_from_slope(0.1, -1.0, 10.0, 5.0)
    with pytest.raises(ValueError, match="kappa must be finite"):
        s_hat_from_slope(np.nan, 1.0, 10.0, 5.0)


def _synthetic_sweeps(rng, kappa, loss_unit=1.0, wrong_slope_factor=1.0):
    """Noisy −log γ for B, 1/η and 1/k sweeps from −log γ = 2Bκ/(ηkλ) + const, σ = 1/√n_escaped."""
    n_escaped = np.array([400, 300, 200, 150, 100, 80])
    sigma = 1 / np.sqrt(n_escaped)
    b = np.array([4, 6, 8, 10, 12, 14.0])
    inv_eta = np.array([10, 14, 18, 22, 26, 30.0])
    inv_k = np.array([0.5, 0.7, 0.9, 1.1, 1.3, 1.5])
    def y(z):
        return 1.3 + z + rng.normal(size=6) * sigma
    fits = {
        "B": fit_line(b, y(2 * b * kappa / (0.05 * loss_unit)), y_stderr=sigma, x_name="batch_size", y_name="-log rate"),
        "eta": fit_line(inv_eta, y(2 * 8 * inv_eta * kappa / loss_unit), y_stderr=sigma, x_name="1/eta", y_name="-log rate"),
        "k": fit_line(inv_k, y(wrong_slope_factor * 2 * 8 * inv_k * kappa / (0.05 * loss_unit)), y_stderr=sigma,
                      x_name="1/sharpness", y_name="-log rate"),
    }
    return {
        "B": kappa_from_fit(fits["B"], eta=0.05, loss_unit=loss_unit),
        "eta": kappa_from_fit(fits["eta"], batch_size=8, loss_unit=loss_unit),
        "k": kappa_from_fit(fits["k"], eta=0.05, batch_size=8, loss_unit=loss_unit),
    }


def test_three_exponent_estimates_agree_when_the_law_holds():
    estimates = _synthetic_sweeps(np.random.default_rng(5), kappa=0.02, loss_unit=2.0)
    for e in estimates.values():
        assert abs(e.kappa - 0.02) < Z_TOL * e.kappa_stderr
    result = compare_exponents(estimates)
    assert result.agree and result.fits_ok and result.passed, result.table
    assert result.homogeneity_pvalue > 0.001 and "agree within" in result.verdict
    assert list(result.table["x_name"]) == ["batch_size", "1/eta", "1/sharpness"]
    assert abs(result.kappa_mean - 0.02) < Z_TOL * result.kappa_mean_stderr


def test_exponent_estimates_disagree_when_one_sweep_has_another_slope():
    estimates = _synthetic_sweeps(np.random.default_rng(5), kappa=0.02, wrong_slope_factor=1.5)
    result = compare_exponents(estimates)
    assert not result.agree and not result.passed and "do not agree" in result.verdict
    assert result.homogeneity_pvalue < 1e-6


def test_kappa_from_fit_needs_the_fixed_quantities():
    fit = fit_line(X, Y, x_name="batch_size", y_name="-log rate")
    with pytest.raises(ValueError, match="needs the fixed eta"):
        kappa_from_fit(fit)
    assert kappa_from_fit(fit, eta=0.1, loss_unit=3.0).kappa == pytest.approx(fit.slope * 0.1 * 3.0 / 2)
    with pytest.raises(ValueError, match="x_name must be one of"):
        kappa_from_fit(fit_line(X, Y, x_name="B", y_name="-log rate"), eta=0.1)
    with pytest.raises(ValueError, match="at least two"):
        compare_exponents([kappa_from_fit(fit, eta=0.1)])


@pytest.mark.parametrize("truth", ["xie", "levy", "white"])
def test_compare_laws_picks_the_law_that_generated_the_data(truth):
    rng = np.random.default_rng({"xie": 1, "levy": 2, "white": 3}[truth])
    x = np.geomspace(20, 400, 8)                                   # B/eta over more than a decade
    sigma = np.full(8, 0.1)
    mean = {"xie": 2.0 + 0.05 * x, "levy": 1.0 + 3.0 * np.log(x), "white": np.full(8, 6.0)}[truth]
    result = compare_laws(x, mean + rng.normal(size=8) * sigma, sigma, mori_slope=0.02)
    assert result.best == truth, result.table
    assert result.table["akaike_weight"].sum() == pytest.approx(1.0)
    assert result.table["delta_aic"].iloc[0] == 0.0 and set(result.table["law"]) == {"xie", "mori", "levy", "white"}


def test_compare_laws_with_predicted_slopes_separates_xie_from_mori():
    rng = np.random.default_rng(8)
    x = np.linspace(20, 200, 8)
    sigma = np.full(8, 0.1)
    y = 2.0 + 0.05 * x + rng.normal(size=8) * sigma
    result = compare_laws(x, y, sigma, xie_slope=0.05, mori_slope=0.03)
    row = result.table.set_index("law")
    assert result.best == "xie" and row.loc["xie", "n_params"] == 1 and row.loc["xie", "slope"] == 0.05
    assert row.loc["mori", "delta_aic"] > 100
    # log-likelihood by hand for the white law: constant = weighted mean.
    resid = y - y.mean()
    loglik = -0.5 * np.sum(resid**2 / sigma**2 + np.log(2 * np.pi * sigma**2))
    assert row.loc["white", "log_likelihood"] == pytest.approx(loglik)
    assert row.loc["white", "aic"] == pytest.approx(2 - 2 * loglik)


@pytest.mark.parametrize("call,message", [
    (lambda: fit_line([1, 2], [1, 2], x_name="x", y_name="y"), "at least 3 points"),
    (lambda: fit_line([1, 2, 3], [1, np.inf, 2], x_name="x", y_name="y"), "y must be finite"),
    (lambda: fit_line([1, 2, 3], [1, 2], x_name="x", y_name="y"), "same length"),
    (lambda: fit_line([2, 2, 2], [1, 2, 3], x_name="x", y_name="y"), "no spread"),
    (lambda: fit_line([1, 2, 3], [1, 2, 3], y_stderr=[1, 0, 1], x_name="x", y_name="y"), "positive"),
    (lambda: fit_neg_log_rate([1, 2, 3], [0.1, 0.0, 0.2], [10, 0, 5], x_name="x"), "rate of 0"),
    (lambda: compare_laws([1, 2, 3], [1, 2, 3], None), "needs y_stderr"),
    (lambda: compare_laws([0, 2, 3], [1, 2, 3], [1, 1, 1]), "must be positive"),
    (lambda: fit_line(X, Y, x_name="x", y_name="y").slope_ci(95), "confidence_level"),
])
def test_bad_input_raises_one_line_value_errors(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_fit_neg_log_rate_weights_by_escape_counts():
    rate = np.exp(-np.array([1.0, 2.0, 3.0, 4.0]))
    fit = fit_neg_log_rate([1, 2, 3, 4], rate, [100, 50, 25, 10], x_name="batch_size")
    assert isinstance(fit, LineFit) and fit.y_name == "-log rate"
    assert fit.slope == pytest.approx(1.0) and fit.intercept == pytest.approx(0.0, abs=1e-12)
