"""The selection suite (C16): its compiled long-run loop against independent references, and a tiny run."""
import math

import numpy as np
import pytest

from flatminima.validation.experiments import basin_of
from flatminima.validation.suite import SuiteResult
from flatminima.validation.suites import get_suite
from flatminima.validation.suites import selection as S


def test_long_run_gradient_matches_autograd():
    land = basin_of({"landscape": S.LANDSCAPE, "minimum": [-1.0]})[0]
    xs = np.linspace(-1.5, 1.8, 331)
    ours = S.grad_double_well(np.asarray(land.kernel[1], float), xs)
    ref = np.array([land.grad(np.array([x]))[0] for x in xs])
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_minima_and_inflection_points_are_critical_and_flat():
    land = basin_of({"landscape": S.LANDSCAPE, "minimum": [-1.0]})[0]
    ms, mf = S.minima_positions()
    sl, sr = S.inflection_points()
    assert ms < sl < 0.0 < sr < mf
    for x, h in ((ms, S.H_SHARP), (mf, S.H_FLAT), (0.0, -S.H_SADDLE), (sl, 0.0), (sr, 0.0)):
        assert land.hessian(np.array([x]))[0, 0] == pytest.approx(h, abs=1e-8)


def test_long_run_occupancy_matches_exact_quadrature_white_noise():
    """Two-state identity against an independent reference: occupancy ratio of the compiled long run vs
    τ_flat/τ_sharp from the exact 1-D quadrature of the same SDE (no escape simulation involved)."""
    setting = {"noise": "white", "temperature": S.BARRIER / 3.0}
    t_s, t_f = S.exact_times(setting)
    relax = t_s * t_f / (t_s + t_f)
    cfg = {"landscape": S.LANDSCAPE, "eta": S.ETA, "n_particles": 60, "noise": "white",
           "temperature": setting["temperature"], "burn_in_steps": int(10 * relax / S.ETA),
           "window_steps": int(400 * (t_s + t_f) / S.ETA / 60)}
    row = S.occupancy_task(cfg, seed=20260)[0]
    log_occ, se = S.occupancy_ratio(row)
    assert sum(row["switches"]) > 500
    assert 0 < se < 0.1
    # discretisation: effective temperature inflated by (1 − ηH/2)^-1 at each minimum (docs/theory.md §Discretisation),
    # which shifts log τ by about ΔL/D·ηH/2; the difference between the two sides bounds the bias
    disc = 3.0 * S.ETA * (S.H_SHARP - S.H_FLAT) / 2.0
    assert abs(log_occ - math.log(t_f / t_s)) <= 1.96 * se + disc, (math.exp(log_occ), t_f / t_s, se)


@pytest.mark.slow
def test_selection_suite_tiny(tmp_path):
    result = get_suite("selection").run(tmp_path, size="tiny", workers=2, progress=False)
    result.save(tmp_path)
    again = SuiteResult.load(tmp_path)
    assert [v.claim for v in again.verdicts] == [v.claim for v in result.verdicts]
    assert len(result.verdicts) == 6 and all(v.check == "C16" for v in result.verdicts)
    assert {f.name for f in result.figures} == {"selection-sgd", "selection-white"}
    occ = next(t for t in result.tables if t.name == "selection-occupancy")
    assert len(occ.rows) == 6
    identity = result.verdicts[1]
    assert "Two-state identity" in identity.claim
    assert identity.passed, identity.measured
    # SGD selection grows with x: the fitted slope is positive and resolved
    sgd = result.verdicts[2]
    assert sgd.value > 0 and sgd.stderr < 0.5 * sgd.value
