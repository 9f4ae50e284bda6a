"""Predicted fit slopes: closed forms by hand, finite differences of the laws, the ŝ estimator."""
import numpy as np
import pytest

from flatminima import theory
from flatminima.theory import DomainError, predicted_slope

SGD = dict(eta=0.1, batch_size=10.0, loss_unit=2.0, barrier=0.25, h_ae=2.0, h_be=1.0, s=0.3)
BRACKET = 0.3 / 2.0 + 0.7 / 1.0                          # s/H_ae + (1−s)/|H_be|


def test_batch_size_slope():
    p = predicted_slope("sgd_rate_hanggi_klimontovich", wrt="batch_size", **SGD)
    assert p.leading == pytest.approx(2 * 0.25 / (0.1 * 2.0) * BRACKET, rel=1e-13)   # 2ΔL/(ηλ)·(…)
    assert p.neglected == 0.0 and p.y == "-log rate"


def test_inverse_eta_slope_sde_and_iteration():
    sde = predicted_slope("sgd_rate_ito", wrt="1/eta", **SGD)
    it = predicted_slope("sgd_rate_ito", wrt="1/eta", per="iteration", **SGD)
    assert sde.leading == pytest.approx(2 * 10.0 * 0.25 / 2.0 * BRACKET, rel=1e-13)  # 2BΔL/λ·(…)
    assert sde.neglected == 0.0
    assert it.leading == pytest.approx(sde.leading, rel=1e-13)
    assert it.neglected == pytest.approx(0.1, rel=1e-13)          # d(−log η)/d(1/η) = η (docs/theory.md §C20)


def test_inverse_sharpness_slope_keeps_prefactor_term():
    k = 3.0
    p = predicted_slope("sgd_rate_ito", wrt="1/sharpness", sharpness=k, **SGD)
    assert p.leading == pytest.approx(2 * 10.0 * 0.25 / (0.1 * 2.0) * BRACKET, rel=1e-13)
    assert p.neglected == pytest.approx(k, rel=1e-13)             # prefactor ∝ k ⇒ d(−log k)/d(1/k) = k
    assert p.total == pytest.approx(p.leading + k)


def test_slopes_match_finite_differences_of_the_law():
    reg = theory.formulas()
    law = reg["sgd_rate_stratonovich"]
    y = lambda **v: -law.log(**v)
    h = 1e-4
    # against 1/η
    u0 = 1 / SGD["eta"]
    fd = (y(**{**SGD, "eta": 1 / (u0 + h)}) - y(**{**SGD, "eta": 1 / (u0 - h)})) / (2 * h)
    assert predicted_slope(law.name, wrt="1/eta", **SGD).total == pytest.approx(fd, rel=1e-7)
    # against 1/k: curvatures scale with k
    k0 = 2.0
    yk = lambda k: y(**{**SGD, "h_ae": k * SGD["h_ae"], "h_be": k * SGD["h_be"]})
    fd = (yk(1 / (1 / k0 + h)) - yk(1 / (1 / k0 - h))) / (2 * h)
    assert predicted_slope(law.name, wrt="1/sharpness", sharpness=k0, **SGD).total == pytest.approx(fd, rel=1e-7)


def test_sgld_slopes():
    v = dict(h_ae=2.0, h_be=1.0, barrier=0.25, temperature=0.02)
    p = predicted_slope("kramers_1d_rate", wrt="log_sharpness", sharpness=4.0, **v)
    assert (p.leading, p.neglected, p.y) == (1.0, 0.0, "log rate")   # γ ∝ k exactly (docs/theory.md §Sharpness scaling)
    q = predicted_slope("kramers_1d_rate", wrt="1/temperature", **v)
    assert (q.leading, q.neglected) == (0.25, 0.0)                   # d(−log γ)/d(1/D) = ΔL
    e = predicted_slope("eyring_kramers_rate", wrt="log_sharpness", sharpness=4.0, h_be=1.0, det_ratio=0.3,
                        barrier=0.25, temperature=0.02)
    assert e.leading == pytest.approx(1.0)


def test_sgd_log_sharpness_is_dominated_by_the_exponent():
    p = predicted_slope("sgd_rate_ito", wrt="log_sharpness", sharpness=1.0, **SGD)
    assert p.leading == pytest.approx(1.0)                                     # the prefactor's k
    assert p.neglected == pytest.approx(2 * 10 * 0.25 / (0.1 * 2.0) * BRACKET)  # not negligible at all


def test_alternative_law_slopes():
    m = predicted_slope("mori_1d_rate", wrt="B/eta", eta=0.1, batch_size=10, h_star=2.0, h_ae=2.0, h_be=1.0,
                        loss_min=0.05, loss_saddle=0.3)
    # log(L_b/L_a)/h* (docs/theory.md §Mori power law)
    assert m.leading == pytest.approx(np.log(6.0) / 2.0, rel=1e-13)
    lv = predicted_slope("levy_sgd_rate", wrt="log(B/eta)", eta=0.1, batch_size=10, tail_index=1.5,
                         sample_noise_scale=0.01, width_left=1.0, width_right=2.0)
    assert lv.total == pytest.approx(0.5, rel=1e-12)                           # α − 1 (docs/theory.md §C13)


def test_vectorised_slopes():
    p = predicted_slope("sgd_rate_ito", wrt="1/sharpness", sharpness=np.array([1.0, 2.0, 4.0]), **SGD)
    np.testing.assert_allclose(p.neglected, [1.0, 2.0, 4.0])
    assert p.leading.shape == (3,)


def test_bad_requests():
    with pytest.raises(ValueError, match="wrt must be one of"):
        predicted_slope("sgd_rate_ito", wrt="lr", **SGD)
    with pytest.raises(ValueError, match="no parameter temperature"):
        predicted_slope("sgd_rate_ito", wrt="1/temperature", **SGD)
    with pytest.raises(DomainError, match="eta must be positive"):
        predicted_slope("sgd_rate_ito", wrt="1/eta", **{**SGD, "eta": -0.1})
    with pytest.raises(TypeError, match="needs eta"):
        predicted_slope("kramers_1d_rate", wrt="1/temperature", per="iteration", h_ae=2.0, h_be=1.0,
                        barrier=0.25, temperature=0.02)


def test_s_hat_round_trip_and_bounds():
    reg = theory.formulas()
    for s_true in (0.0, 0.3, 0.8, 1.0):
        kappa = 2 * 0.25 / 2.0 * (s_true / 2.0 + (1 - s_true) / 1.0)   # slope vs B/η: 2ΔL/λ·(…), by hand
        assert reg["s_hat"](slope=kappa, barrier=0.25, h_ae=2.0, h_be=1.0, loss_unit=2.0) == pytest.approx(s_true, abs=1e-12)
    with pytest.raises(DomainError, match="undefined"):
        reg["s_hat"](slope=0.1, barrier=0.25, h_ae=1.0, h_be=1.0, loss_unit=1.0)
    E = reg["sgd_exponent"]
    lo, hi = sorted(E(**{**SGD, "s": s}) for s in (0.0, 1.0))     # linear in s: extremes at the ends
    assert lo == pytest.approx(2 * 10 * 0.25 / (0.1 * 2.0 * max(2.0, 1.0)))
    assert hi == pytest.approx(2 * 10 * 0.25 / (0.1 * 2.0 * min(2.0, 1.0)))
