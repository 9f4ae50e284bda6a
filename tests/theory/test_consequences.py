"""Consequences and alternative laws, checked by hand or by independent numerics.

See docs/theory.md §Consequences, §Optimizer exponents and §Alternative hypotheses.
"""
import numpy as np
import pytest
from scipy.integrate import quad

from flatminima import theory
from flatminima.theory.consequences import derive_minima_selection, derive_multiple_paths
from flatminima.theory.illposed import derive_ill_posed, quartic_integral

SGD = dict(eta=0.1, batch_size=10.0, loss_unit=2.0, barrier=0.25, h_ae=2.0, h_be=1.0, s=0.3)


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


def test_rates_add_and_minima_selection():
    assert all(c.passed for c in derive_multiple_paths().checks)
    assert all(c.passed for c in derive_minima_selection().checks)


def test_two_valley_occupancy(reg):
    # stationary two-state chain by linear algebra (independent): generator Q, solve πQ = 0
    ta, tb = 3.0, 7.0
    Q = np.array([[-1 / ta, 1 / ta], [1 / tb, -1 / tb]])
    w, v = np.linalg.eig(Q.T)
    pi = np.real(v[:, np.argmin(abs(w))])
    pi /= pi.sum()
    assert reg["occupancy_two_valleys"](escape_time_a=ta, escape_time_b=tb) == pytest.approx(pi[0], rel=1e-12)


def test_flat_vs_sharp_ratios(reg):
    v = dict(eta=0.1, batch_size=10.0, loss_unit=1.0, barrier=0.25, s=0.5, h_ae_flat=1.0, h_ae_sharp=4.0)
    # docs/theory.md §Flat versus sharp minima, by hand
    expo = np.exp(2 * 10 * 0.25 * 0.5 / 0.1 * (1 / 1.0 - 1 / 4.0))
    assert reg["flat_sharp_ratio_sgd_hanggi_klimontovich"](**v) == pytest.approx(expo, rel=1e-12)
    assert reg["flat_sharp_ratio_sgd_ito"](**v) == pytest.approx(4.0 * expo, rel=1e-12)
    assert reg["flat_sharp_ratio_sgld_1d"](h_ae_flat=1.0, h_ae_sharp=4.0) == pytest.approx(2.0)
    # equals the ratio of the registered laws
    t = reg["sgd_escape_time_hanggi_klimontovich"]
    common = dict(eta=0.1, batch_size=10.0, loss_unit=1.0, barrier=0.25, s=0.5, h_be=3.0)
    assert t(**common, h_ae=1.0) / t(**common, h_ae=4.0) == pytest.approx(expo, rel=1e-10)


@pytest.mark.parametrize("conv", ["ito", "stratonovich", "hanggi_klimontovich"])
def test_sharpness_identity_numeric(reg, conv):
    """τ_k(η, B) = τ_1(kη, B)/k with every curvature × k (docs/theory.md §Sharpness scaling)."""
    f, k = reg[f"sgd_escape_time_{conv}"], 3.0
    lhs = f(**{**SGD, "h_ae": k * SGD["h_ae"], "h_be": k * SGD["h_be"]})
    rhs = f(**{**SGD, "eta": k * SGD["eta"]}) / k
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_white_noise_rate_proportional_to_sharpness(reg):
    f = reg["eyring_kramers_rate"]
    v = dict(h_be=1.5, det_ratio=0.4, barrier=0.25, temperature=0.02)
    assert f(**{**v, "h_be": 5 * 1.5}) / f(**v) == pytest.approx(5.0, rel=1e-13)


def test_determinant_ratio():
    # |det H_b| / det H_a by hand: |(−2)(3)(4)| / (1·2·6) = 2
    assert theory.determinant_ratio([-2.0, 3.0, 4.0], [1.0, 2.0, 6.0]) == pytest.approx(2.0, rel=1e-14)
    with pytest.raises(theory.DomainError, match="exactly one negative"):
        theory.determinant_ratio([-2.0, -3.0], [1.0, 2.0])
    with pytest.raises(theory.DomainError, match="positive definite"):
        theory.determinant_ratio([-2.0, 3.0], [1.0, -2.0])
    with pytest.raises(theory.DomainError, match="equal length"):
        theory.determinant_ratio([-2.0, 3.0], [1.0])


# ------------------------------------------------------------------------------------------------ alternatives
def test_levy_escape_time_by_independent_tail_integral(reg):
    a, eps, bm, bp = 1.5, 0.02, 1.0, 2.0
    tail = lambda edge: quad(lambda y: y ** (-1 - a), edge / eps, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]     # ν-mass of leaving jumps
    assert reg["levy_rate"](tail_index=a, noise_scale=eps, width_left=bm, width_right=bp) == pytest.approx(
        tail(bm) + tail(bp), rel=1e-8)


def test_levy_sgd_scaling(reg):
    a, sig, eta, B = 1.5, 0.01, 0.1, 10.0
    eps = sig * (eta / B) ** (1 - 1 / a)                                            # docs/theory.md §Levy escape
    got = reg["levy_sgd_escape_time"](tail_index=a, sample_noise_scale=sig, eta=eta, batch_size=B,
                                      width_left=1.0, width_right=2.0)
    assert got == pytest.approx(reg["levy_escape_time"](tail_index=a, noise_scale=eps, width_left=1.0,
                                                        width_right=2.0), rel=1e-12)


def test_levy_regime_warning(reg):
    with pytest.warns(theory.RegimeWarning, match="small-noise"):
        reg["levy_rate"](tail_index=1.5, noise_scale=0.5, width_left=1.0, width_right=2.0)


def test_mori_against_xie_for_small_barrier(reg):
    """log τ_Mori − log τ_Xie(λ = 2L_a, H = h*) = (B/(ηh*))(log(1+x) − x) + ½log(1+x), x = ΔL/L_a → 0.

    See docs/theory.md §Mori power law.
    """
    La, dL, eta, B = 10.0, 0.01, 0.01, 100.0
    x = dL / La
    v = dict(eta=eta, batch_size=B, h_star=1.0, h_ae=1.0, h_be=1.0, loss_min=La, loss_saddle=La + dL)
    xie = dict(eta=eta, batch_size=B, loss_unit=2 * La, barrier=dL, h_ae=1.0, h_be=1.0, s=0.5)
    diff = reg["mori_1d_escape_time"].log(**v) - reg["sgd_escape_time_stratonovich"].log(**xie)
    assert diff == pytest.approx(B / eta * (np.log1p(x) - x) + 0.5 * np.log1p(x), abs=1e-9)
    assert abs(diff) < 0.01 * reg["sgd_exponent"](**xie)          # the exponents agree to leading order


def test_optimizer_exponents(reg):
    E = reg["sgd_exponent"](**SGD)
    assert reg["momentum_exponent"](**SGD, momentum=0.5) == pytest.approx(
        reg["sgd_exponent"](**{**SGD, "eta": SGD["eta"] / 0.5}), rel=1e-12)          # η_eff = η/(1−β)
    adam = 2 * np.sqrt(10.0) * 0.25 / (0.1 * np.sqrt(2.0)) * (0.3 / np.sqrt(2.0) + 0.7 / 1.0)
    # docs/theory.md §Optimizer exponents (with λ)
    assert reg["adam_exponent"](**SGD) == pytest.approx(adam, rel=1e-12)
    n2 = (1 + 1.0) ** 2 + 1.0**2
    # PNM, independent-buffer reading: SGD's exponent at η/n (= n·E) divided by n²
    assert reg["pnm_exponent"](**SGD, pnm_beta0=1.0) == pytest.approx(E * np.sqrt(n2) / n2, rel=1e-12)
    # PNM, long-time law: SGD's exponent at η/n with the same C, i.e. n·E; the two readings differ by n² = 5
    assert reg["pnm_long_time_exponent"](**SGD, pnm_beta0=1.0) == pytest.approx(E * np.sqrt(n2), rel=1e-12)
    # Adai in 1-D: SGD's exponent at η; frozen Adam at ε = 0 differs from the adaptive reading in the (1−s) term only
    assert reg["adai_exponent"](**SGD) == pytest.approx(E, rel=1e-12)
    frozen = 2 * np.sqrt(10.0) * 0.25 / (0.1 * np.sqrt(2.0)) * (0.3 / np.sqrt(2.0) + 0.7 * np.sqrt(2.0) / 1.0)
    assert reg["adam_frozen_exponent"](**SGD, epsilon=0.0) == pytest.approx(frozen, rel=1e-12)
    assert "follows C(θ)" in reg["adam_exponent"].description


# -------------------------------------------------------------------------------------------------- T5
# docs/theory.md §Ill-posed Hessian noise, table T5: ∫_{-1}^0 L′/(|L″|+δ) and the implied s
T5 = [(1.0, 0.166, 0.67), (0.5, 0.260, -0.08), (0.2, 0.417, -1.33), (0.1, 0.553, -2.42), (0.01, 1.047, -6.4),
      (0.001, 1.557, -10.5)]


@pytest.mark.parametrize("delta,integral,s_implied", T5)
def test_t5(delta, integral, s_implied):
    assert quartic_integral(delta) == pytest.approx(integral, abs=6e-4)
    row = {r[0]: r for r in derive_ill_posed().tables[0].rows}[f"{delta:g}"]
    assert float(row[2]) == pytest.approx(s_implied, abs=0.051)


def test_log_divergence_coefficient():
    c = float(derive_ill_posed().results["log_coefficient"])
    assert c == pytest.approx(2 / 9)
    # T5's last two rows: (1.557 − 1.047)/ln 10 ≈ c
    assert (1.557 - 1.047) / np.log(10) == pytest.approx(c, abs=0.005)
