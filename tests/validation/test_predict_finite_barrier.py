"""predict()'s corrected_rate on 1-D white noise: Kramers' law with its next term in D, against the exact MFPT.

Reference: docs/theory.md table T1: on θ⁴/4 − θ²/2 (the default double well) the exact MFPT to the other minimum
is 1.043 τ_K at ΔL/D = 10, computed here again by the project's quadrature (numerics.reference.mfpt_1d), which
does not use the law. The corrected law gives 1 + c₁D = 1.0375 (c₁ = 3/2).
"""
import pytest

from flatminima.validation.experiments import basin_of, geometry
from flatminima.validation.predict import exact_escape_time_1d, predict

CONFIG = {"landscape": "double-well", "sharpness": 1.0, "minimum": [-1.0], "criterion": "basin", "noise": "white",
          "temperature": 0.025, "eta": 1e-3, "n_runs": 10, "max_steps": 100, "options": {}}


def _prediction(config):
    land, analysis = basin_of(config)
    geom = geometry(analysis)
    return predict(config, geom, land), exact_escape_time_1d(config, geom, land)


def test_corrected_rate_is_closer_to_the_exact_rate_than_kramers():
    pred, t_exact = _prediction(CONFIG)
    assert pred.corrected_law == "kramers_1d_finite_barrier_rate"
    assert pred.rate / pred.corrected_rate == pytest.approx(1.0375, rel=1e-4)    # 1 + c₁D, c₁ = 3/2, D = 0.025
    exact_rate = 1.0 / t_exact
    assert exact_rate / pred.rate == pytest.approx(1 / 1.043, abs=1e-3)            # table T1
    assert abs(exact_rate / pred.corrected_rate - 1) < abs(exact_rate / pred.rate - 1) / 5
    assert pred.to_dict()["corrected_rate"] == pred.corrected_rate


def test_no_corrected_rate_where_the_third_derivative_jumps():
    # The asymmetric double well is two quartics joined at the saddle: L‴ jumps there, so the correction is
    # O(√D) and c₁ does not apply.
    config = dict(CONFIG, landscape="double-well:barrier_left=0.25,barrier_right=0.5,h_left=2,h_right=4")
    pred, _ = _prediction(config)
    assert pred.corrected_rate is None and pred.corrected_law is None


def test_no_corrected_rate_for_sgd_noise():
    config = dict(CONFIG, noise="hessian_two_region", temperature=None, batch_size=2, loss_unit=1.0, eta=0.01)
    pred, _ = _prediction(config)
    assert pred.corrected_rate is None
