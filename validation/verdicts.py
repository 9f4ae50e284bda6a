"""Three-valued verdicts on a measured escape rate: PASS, FAIL or INCONCLUSIVE, with the reason.

A measured rate comes with an exact (Garwood) 95% interval from the censored exponential MLE
(``validation.estimators``). A prediction comes with the relative error its law is allowed
(``validation.predict.Prediction.rel_error``). The verdict is

- **FAIL** when the prediction lies outside the measured interval widened by that error: the
  interval is exact for any number of escapes, so even zero escapes can contradict a prediction
  (the upper end then bounds the rate);
- **PASS** when it lies inside and at least :data:`MIN_ESCAPES` escapes were seen;
- **INCONCLUSIVE** otherwise: with fewer escapes the interval is too wide for agreement to mean
  anything (at 3 escapes it spans a factor 14), or too many particles diverged for the rate to be
  trusted.

Before simulating, :func:`expected_escapes` tells whether an experiment can decide at all.
"""
from __future__ import annotations

import math

MIN_ESCAPES = 10
"""Fewest escapes for a PASS: the exact 95% interval on the rate is then [0.48, 1.84] times the estimate."""

MIN_EXPECTED = 20.0
"""Fewest expected escapes worth simulating: with a mean of 20, fewer than 10 are seen with probability 0.5%."""

MAX_DIVERGED_FRACTION = 0.05
"""More diverged particles than this (censored at their last finite step) make the rate untrustworthy."""

Z_TOL = 4.0
"""Statistical tolerance of the suites, in standard errors (fixed seeds; a pass is not tuned): a correct
claim fails by chance with probability 6e-5 per two-sided comparison."""


def expected_escapes(rate: float, *, eta: float, max_steps: int, n_runs: int) -> float:
    """n_runs·(1 − exp(−γ·η·max_steps)): expected escapes of runs capped at max_steps (γ per unit SDE time)."""
    return float(n_runs * -math.expm1(-rate * eta * max_steps))


def judge(rate: float, rel_error: float, ci: tuple[float, float], *, n_escaped: int, n_runs: int,
          n_diverged: int = 0) -> tuple[bool | None, str]:
    """(agrees, reason): True (PASS), False (FAIL) or None (INCONCLUSIVE) for a predicted rate.

    Parameters
    ----------
    rate : float
        Predicted rate per unit SDE time.
    rel_error : float
        Relative error the law is allowed; the measured interval is widened to
        [lo/(1 + rel_error), hi·(1 + rel_error)].
    ci : (float, float)
        The measured exact 95% interval.
    n_escaped, n_runs, n_diverged : int
    """
    lo, hi = ci
    wlo, whi = lo / (1.0 + rel_error), hi * (1.0 + rel_error)
    if n_diverged > MAX_DIVERGED_FRACTION * n_runs:
        return None, (f"{n_diverged} of {n_runs} particles diverged (more than {MAX_DIVERGED_FRACTION:.0%}): "
                      "the measured rate is biased; lower the step η")
    if rate > whi:
        if n_escaped == 0:
            return False, (f"no escape seen: the rate is at most {hi:.3g} (95%), below the prediction "
                           f"{rate:.3g} even with the law's ±{rel_error:.2g} allowance")
        return False, f"the prediction {rate:.3g} lies above the widened 95% interval [{wlo:.3g}, {whi:.3g}]"
    if rate < wlo:
        return False, f"the prediction {rate:.3g} lies below the widened 95% interval [{wlo:.3g}, {whi:.3g}]"
    if n_escaped < MIN_ESCAPES:
        return None, (f"only {n_escaped} escape{'s' if n_escaped != 1 else ''} (fewer than {MIN_ESCAPES}): the 95% "
                      f"interval [{lo:.3g}, {hi:.3g}] is too wide to confirm the prediction {rate:.3g}")
    return True, ""
