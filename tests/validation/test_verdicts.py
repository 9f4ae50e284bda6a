"""Three-valued verdicts (``validation.verdicts``): expected escapes, PASS/FAIL/INCONCLUSIVE, and that PASS is no luck.

The measured intervals below are built the way ``flatminima check`` builds them: synthetic censored
escape steps go through ``validation.estimators.estimate_rate`` (exact Garwood interval). Where a test
needs the interval's numbers they are also written out from ``scipy.stats.chi2`` (Garwood's formula
[χ²_{0.025}(2n)/2, χ²_{0.975}(2n+2)/2] / exposure), so that a change in either is caught.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from flatminima.validation.estimators import estimate_rate
from flatminima.validation.verdicts import MAX_DIVERGED_FRACTION, MIN_ESCAPES, MIN_EXPECTED, expected_escapes, judge

ETA = 0.01
MAX_STEPS = 1000
N_RUNS = 200


def _data(escape_steps, *, n_runs=N_RUNS, max_steps=MAX_STEPS, n_diverged=0, diverge_at=500):
    """Censored steps: runs escaping at ``escape_steps``, ``n_diverged`` diverging, the rest censored at max_steps."""
    n_esc = len(escape_steps)
    steps = np.full(n_runs, float(max_steps))
    steps[:n_esc] = escape_steps
    steps[n_esc:n_esc + n_diverged] = diverge_at
    escaped = np.zeros(n_runs, bool)
    escaped[:n_esc] = True
    diverged = np.zeros(n_runs, bool)
    diverged[n_esc:n_esc + n_diverged] = True
    return estimate_rate(steps, escaped, eta=ETA, diverged=diverged)


# ---------------------------------------------------------------------- expected_escapes
@pytest.mark.parametrize("rate,eta,max_steps,n_runs", [
    (0.05, 0.02, 5000, 200),        # γηT = 5: nearly every run escapes
    (1e-3, 0.025, 79_125, 100),     # γηT ≈ 1.98 (double well at ΔL/D = 5, as `check` plans it)
    (5.29e-6, 0.003473, 200_000, 300),   # γηT ≈ 3.7e-3: the two-well-2d example at D = 0.1 (≈ 1.1 escapes)
])
def test_expected_escapes_is_the_closed_form(rate, eta, max_steps, n_runs):
    # P(a run escapes by step T) = 1 − e^{−γηT} for an exponential exit time of rate γ per unit SDE time
    exact = n_runs * (1.0 - math.exp(-rate * eta * max_steps))
    assert expected_escapes(rate, eta=eta, max_steps=max_steps, n_runs=n_runs) == pytest.approx(exact, rel=1e-12)


def test_expected_escapes_small_rate_limit_is_n_gamma_eta_t():
    # 1 − e^{−x} = x(1 − x/2 + O(x²)): at x = 1e-3 the relative gap to n·x is x/2 = 5e-4 (to O(x²) ≈ 1.7e-7)
    x = 1e-3
    got = expected_escapes(x / (0.01 * 1000), eta=0.01, max_steps=1000, n_runs=200)
    assert got / (200 * x) == pytest.approx(1.0 - x / 2, abs=1e-6)
    # below double-precision resolution of 1 − e^{−x} (x = 1e-17 < ε/2): expm1 keeps full relative accuracy,
    # whereas the naive 1 − exp(−x) gives exactly 0 in doubles
    x = 1e-17
    assert 1.0 - math.exp(-x) == 0.0
    got = expected_escapes(x / (0.01 * 1000), eta=0.01, max_steps=1000, n_runs=200)
    assert got == pytest.approx(200 * x, rel=1e-12)


def test_expected_escapes_saturates_at_n_runs_and_is_zero_at_zero_rate():
    assert expected_escapes(1e3, eta=0.1, max_steps=1000, n_runs=150) == pytest.approx(150.0, rel=1e-15)
    assert expected_escapes(0.0, eta=0.1, max_steps=1000, n_runs=150) == 0.0


def test_documented_thresholds():
    # MIN_EXPECTED's docstring: with a Poisson mean of 20, fewer than 10 escapes have probability 0.5%
    assert MIN_EXPECTED == 20.0 and stats.poisson.cdf(MIN_ESCAPES - 1, MIN_EXPECTED) == pytest.approx(0.005, abs=2e-4)
    # MIN_ESCAPES's docstring: at 10 escapes the exact 95% interval is [0.48, 1.84] × the estimate
    assert MIN_ESCAPES == 10
    assert stats.chi2.ppf(0.025, 2 * 10) / 2 / 10 == pytest.approx(0.48, abs=5e-3)
    assert stats.chi2.ppf(0.975, 2 * 10 + 2) / 2 / 10 == pytest.approx(1.84, abs=5e-3)
    assert MAX_DIVERGED_FRACTION == 0.05


# ---------------------------------------------------------------------- judge on fixed data sets
def test_no_escape_with_a_prediction_above_the_bound_fails():
    est = _data([])
    # exposure 200 runs × 1000 steps × η = 0.01 → 2000; upper end χ²_{0.975}(2)/2 / 2000 = 3.689/2000
    assert est.rate_ci[0] == 0.0
    assert est.rate_ci[1] == pytest.approx(stats.chi2.ppf(0.975, 2) / 2 / 2000.0, rel=1e-12)
    assert est.rate_ci[1] == pytest.approx(1.8444e-3, rel=1e-4)
    # a prediction of 0.01 is 5.4× the bound: FAIL even with the law's ±20% allowance
    agrees, reason = judge(0.01, 0.2, est.rate_ci, n_escaped=0, n_runs=N_RUNS)
    assert agrees is False
    assert "no escape" in reason and "0.01" in reason


def test_no_escape_with_a_prediction_inside_is_inconclusive_never_pass():
    est = _data([])
    hi = est.rate_ci[1]
    # with no escape the lower end is 0, so every prediction up to hi·(1 + rel_error) lies inside
    for predicted in (1e-9, 1e-4, 0.5 * hi, hi, hi * 1.2 * (1 - 1e-12)):
        agrees, reason = judge(predicted, 0.2, est.rate_ci, n_escaped=0, n_runs=N_RUNS)
        assert agrees is None, predicted
        assert "only 0 escapes" in reason and f"fewer than {MIN_ESCAPES}" in reason


def test_three_escapes_inside_are_inconclusive():
    est = _data([100, 400, 700])
    # exposure (100 + 400 + 700 + 197·1000)·0.01 = 1982; Garwood [χ²_{.025}(6)/2, χ²_{.975}(8)/2]/1982
    exposure = 1982.0
    assert est.exposure == pytest.approx(exposure, rel=1e-12)
    lo, hi = stats.chi2.ppf(0.025, 6) / 2 / exposure, stats.chi2.ppf(0.975, 8) / 2 / exposure
    assert est.rate_ci == pytest.approx((lo, hi), rel=1e-12)
    agrees, reason = judge(est.rate, 0.1, est.rate_ci, n_escaped=3, n_runs=N_RUNS)
    assert agrees is None
    assert "only 3 escapes" in reason and "too wide" in reason


def test_enough_escapes_inside_pass():
    steps = np.linspace(50, 950, MIN_ESCAPES + 2)          # 12 escapes spread over the window
    est = _data(steps)
    assert est.n_escaped == MIN_ESCAPES + 2
    agrees, reason = judge(est.rate, 0.1, est.rate_ci, n_escaped=est.n_escaped, n_runs=N_RUNS)
    assert (agrees, reason) == (True, "")
    # exactly MIN_ESCAPES is enough
    est = _data(np.linspace(50, 950, MIN_ESCAPES))
    assert judge(est.rate, 0.1, est.rate_ci, n_escaped=MIN_ESCAPES, n_runs=N_RUNS)[0] is True
    # one fewer is not, even with the prediction at the estimate
    est = _data(np.linspace(50, 950, MIN_ESCAPES - 1))
    assert judge(est.rate, 0.1, est.rate_ci, n_escaped=MIN_ESCAPES - 1, n_runs=N_RUNS)[0] is None


def test_widened_interval_edges():
    est = _data(np.linspace(50, 950, 40))
    lo, hi = est.rate_ci
    rel = 0.25
    kw = dict(n_escaped=40, n_runs=N_RUNS)
    # inside up to the widened ends [lo/(1 + rel), hi·(1 + rel)] (rounding margin 1e-12 relative)
    assert judge(hi * (1 + rel) * (1 - 1e-12), rel, (lo, hi), **kw)[0] is True
    assert judge(lo / (1 + rel) * (1 + 1e-12), rel, (lo, hi), **kw)[0] is True
    above = judge(hi * (1 + rel) * (1 + 1e-9), rel, (lo, hi), **kw)
    assert above[0] is False and "above the widened 95% interval" in above[1]
    below = judge(lo / (1 + rel) * (1 - 1e-9), rel, (lo, hi), **kw)
    assert below[0] is False and "below the widened 95% interval" in below[1]


def test_prediction_below_the_widened_lower_end_fails():
    est = _data(np.linspace(50, 950, 30))
    # 30 escapes: the lower end is χ²_{.025}(60)/2/exposure ≈ 0.67 × the estimate; a tenth of it is far below
    assert est.rate_ci[0] == pytest.approx(stats.chi2.ppf(0.025, 60) / 2 / est.exposure, rel=1e-12)
    agrees, reason = judge(0.1 * est.rate, 0.3, est.rate_ci, n_escaped=30, n_runs=N_RUNS)
    assert agrees is False and "below" in reason
    # with few escapes a prediction far below also fails (the interval is exact at any count)
    est = _data([300, 600])
    agrees, reason = judge(est.rate_ci[0] / 10, 0.3, est.rate_ci, n_escaped=2, n_runs=N_RUNS)
    assert agrees is False and "below" in reason


def test_too_many_diverged_particles_are_inconclusive():
    limit = int(MAX_DIVERGED_FRACTION * N_RUNS)            # 10 of 200
    est = _data(np.linspace(50, 950, 30), n_diverged=limit + 1)
    assert est.n_diverged == limit + 1
    agrees, reason = judge(est.rate, 0.1, est.rate_ci, n_escaped=30, n_runs=N_RUNS, n_diverged=est.n_diverged)
    assert agrees is None
    assert f"{limit + 1} of {N_RUNS} particles diverged" in reason and "lower the step" in reason
    # the check comes first: a biased rate can neither confirm nor refute (prediction 10× the estimate)
    assert judge(10 * est.rate, 0.1, est.rate_ci, n_escaped=30, n_runs=N_RUNS, n_diverged=limit + 1)[0] is None
    # exactly at the limit (5%, not more) the verdict is made as usual
    est = _data(np.linspace(50, 950, 30), n_diverged=limit)
    assert judge(est.rate, 0.1, est.rate_ci, n_escaped=30, n_runs=N_RUNS, n_diverged=limit)[0] is True


# ---------------------------------------------------------------------- PASS is not luck
K = 400
FAIL_BOUND = 0.05 + 4.0 * math.sqrt(0.05 * 0.95 / K)    # nominal 5% plus 4 binomial standard errors = 0.094


@pytest.mark.parametrize("gamma_eta_t,seed", [
    (0.5, 20240601),      # 200·(1 − e^{−0.5}) = 78.7 escapes expected: verdicts are made
    (0.01005, 20240602),  # 200·(1 − e^{−0.01005}) = 2.0 expected: P(0 escapes) = e^{−2} ≈ 13.5% of data sets
])
def test_fail_rate_at_the_truth_is_the_nominal_level(gamma_eta_t, seed):
    """Data sets whose true rate equals the prediction: FAIL at most at the interval's 5% level.

    Each of K = 400 data sets has 200 exponential exit times (rate γ per unit SDE time) censored at
    max_steps; the step of an exit is the continuous t/η, so the data follow the estimator's model
    exactly. With rel_error = 0 a FAIL is the true rate falling outside the exact 95% interval, which
    Garwood's construction makes at most about 5% likely (it is conservative at low counts).
    """
    gamma = gamma_eta_t / (ETA * MAX_STEPS)
    rng = np.random.default_rng(seed)
    t = rng.exponential(1.0 / gamma, size=(K, N_RUNS))
    raw = t / ETA
    escaped = raw < MAX_STEPS
    steps = np.minimum(raw, MAX_STEPS)
    verdicts, counts = [], []
    for k in range(K):
        est = estimate_rate(steps[k], escaped[k], eta=ETA)
        agrees, _ = judge(gamma, 0.0, est.rate_ci, n_escaped=est.n_escaped, n_runs=N_RUNS)
        verdicts.append(agrees)
        counts.append(est.n_escaped)
    verdicts, counts = np.array(verdicts, dtype=object), np.array(counts)
    n_fail = int(np.sum(verdicts == False))      # noqa: E712 (object array: compare element-wise)
    assert n_fail / K <= FAIL_BOUND, (n_fail, K)
    # never a PASS without MIN_ESCAPES escapes, in particular never with zero escapes
    assert not any(v is True for v, c in zip(verdicts, counts) if c < MIN_ESCAPES)
    if gamma_eta_t == 0.5:
        # the test has power: FAILs do occur (≥ 5% − 4 s.e. = 0.6% of K), and everything else PASSes
        assert n_fail / K >= 0.05 - 4.0 * math.sqrt(0.05 * 0.95 / K)
        assert np.sum(verdicts == True) == K - n_fail  # noqa: E712
        assert counts.min() >= MIN_ESCAPES
    else:
        n_zero = int(np.sum(counts == 0))
        # binomial(400, e^{−2}) has mean 54 and s.e. 6.8: the zero-escape case is really exercised
        assert 54 - 4 * 6.8 <= n_zero <= 54 + 4 * 6.8
        assert all(v is None for v, c in zip(verdicts, counts) if c == 0)   # truth is inside [0, hi] here
        assert not any(v is True for v in verdicts)
