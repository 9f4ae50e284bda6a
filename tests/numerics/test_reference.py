"""Exact references: 1-D log-space MFPT quadrature and the 2-D generator solver.

Expected numbers come from docs/theory.md §Reference tables tables T1–T4 (printed to 3 decimals, hence atol 5e-4
on ratios), closed forms (Kramers' law, the flat-potential Dirichlet problem), an independent
mpmath double quadrature, and exact reductions (a 2-D process whose x-coordinate is autonomous).
"""
from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.sparse as sp

from flatminima.numerics.reference import mfpt_1d, mfpt_2d, generator_2d

# Quartic double well of docs/theory.md §Reference tables: minima ±1 (H_a = 2), saddle 0 (|H_b| = 1), ΔU = 1/4.
H_A, H_B, BARRIER = 2.0, 1.0, 0.25


def loss(theta):
    return theta**4 / 4 - theta**2 / 2


def grad(theta):
    return theta**3 - theta


def kramers_time(temperature):
    """2π/√(H_a|H_b|) e^{ΔU/D} (docs/theory.md §Kramers law in 1-D, 1-D Kramers)."""
    return 2 * math.pi / math.sqrt(H_A * H_B) * math.exp(BARRIER / temperature)


# ---------------------------------------------------------------- 1-D: tables T1–T4

# docs/theory.md §Reference tables, table T1: ΔU/D -> (to saddle, to other minimum)
T1 = {2: (0.561, 1.250), 3: (0.569, 1.194), 5: (0.549, 1.107), 8: (0.528, 1.057),
      10: (0.522, 1.043), 15: (0.514, 1.027), 20: (0.510, 1.020)}
TABLE_ATOL = 5e-4   # the tables print 3 decimals


@pytest.mark.parametrize("barrier_over_d", sorted(T1))
def test_t1_kramers_ratios_to_saddle_and_to_other_minimum(barrier_over_d):
    # "to saddle": start at a = −1, absorb at b = 0; "to other minimum": absorb at +1;
    # reflecting far left cut-off in both (docs/theory.md §Exact references, §Which escape time).
    d = BARRIER / barrier_over_d
    to_saddle = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0)
    to_minimum = mfpt_1d(loss, grad, d, start=-1.0, absorbing=1.0)
    want_saddle, want_minimum = T1[barrier_over_d]
    assert to_saddle.escape_time / kramers_time(d) == pytest.approx(want_saddle, abs=TABLE_ATOL)
    assert to_minimum.escape_time / kramers_time(d) == pytest.approx(want_minimum, abs=TABLE_ATOL)
    assert to_minimum.relative_error < 1e-4


def test_c2_saddle_time_is_half_the_kramers_time():
    # docs/theory.md §Which escape time and §C2: within 5% of ½ (to the saddle) and of 1 (beyond it) for ΔU/D ≥ 10
    for barrier_over_d in (10, 20, 40):
        d = BARRIER / barrier_over_d
        assert mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0).escape_time / kramers_time(d) \
            == pytest.approx(0.5, rel=0.05)
        assert mfpt_1d(loss, grad, d, start=-1.0, absorbing=1.0).escape_time / kramers_time(d) \
            == pytest.approx(1.0, rel=0.05)


def test_t2_exact_mfpt_277():
    # docs/theory.md §Reference tables, table T2: ΔU/D = 4, exit at θ ≥ 1, exact MFPT 277.1 (Kramers 242.6)
    res = mfpt_1d(loss, grad, BARRIER / 4, start=-1.0, absorbing=1.0)
    assert res.escape_time == pytest.approx(277.1, abs=0.05)
    assert kramers_time(BARRIER / 4) == pytest.approx(242.6, abs=0.05)


def _phi_integral_t3():
    """∫_{-1}^{0} L'(θ) e^{−0.9θ} dθ in closed form: ∫p e^{−kθ} = −e^{−kθ} Σ_j p^{(j)}/k^{j+1}."""
    k = 0.9

    def antiderivative(t):
        return -math.exp(-k * t) * ((t**3 - t) / k + (3 * t**2 - 1) / k**2 + 6 * t / k**3 + 6 / k**4)

    return antiderivative(0.0) - antiderivative(-1.0)


# docs/theory.md §Reference tables, table T3: ΔΦ -> ratios (Itô, Stratonovich, Hänggi–Klimontovich).
# Identified here: D = ε e^{0.9θ} with ε = 0.05, 0.02, 0.01, 0.005, ΔΦ = ∫_{a}^{b} L'/D from the
# minimum a = −1 to the saddle b = 0 (= 0.41201/ε), absorbing at the other minimum +1.
T3 = {0.05: (8.2, (1.099, 1.084, 1.086)), 0.02: (20.6, (1.033, 1.028, 1.030)),
      0.01: (41.2, (1.015, 1.013, 1.014)), 0.005: (82.4, (1.007, 1.006, 1.007))}
ALPHAS = {"ito": 0.0, "stratonovich": 0.5, "hanggi-klimontovich": 1.0}


@pytest.mark.parametrize("eps", sorted(T3))
def test_t3_position_dependent_temperature_three_conventions(eps):
    delta_phi, ratios = T3[eps]
    assert _phi_integral_t3() / eps == pytest.approx(delta_phi, abs=0.05)
    for (convention, alpha), want in zip(ALPHAS.items(), ratios):
        res = mfpt_1d(loss, grad, lambda t: eps * np.exp(0.9 * t), start=-1.0, absorbing=1.0,
                      convention=convention)
        # docs/theory.md §Prefactor conventions: 2π/√(H_a|H_b|) (D_b/D_a)^{1/2−α} e^{ΔΦ}, D_b/D_a = e^{0.9}
        log_asymptotic = (math.log(2 * math.pi / math.sqrt(H_A * H_B)) + (0.5 - alpha) * 0.9
                          + _phi_integral_t3() / eps)
        ratio = math.exp(res.log_escape_time - log_asymptotic)
        assert abs(math.log(ratio / want)) < 0.05            # the brief's tolerance (C9)
        assert ratio == pytest.approx(want, abs=TABLE_ATOL)  # and the printed decimals


def test_c9_convention_intercepts_differ_by_half_minus_alpha_log_d_ratio():
    # C9: at ΔΦ ≥ 40 log τ_α differs between conventions by (α' − α) log(D_b/D_a), within 0.05 nats
    eps = 0.01
    logs = {c: mfpt_1d(loss, grad, lambda t: eps * np.exp(0.9 * t), start=-1.0, absorbing=1.0,
                       convention=c).log_escape_time for c in ALPHAS}
    assert logs["ito"] - logs["hanggi-klimontovich"] == pytest.approx(0.9, abs=0.05)
    assert logs["ito"] - logs["stratonovich"] == pytest.approx(0.45, abs=0.05)


# docs/theory.md §Reference tables, table T4 (Mori-type D = εL, Itô): exponent log(L_b/L_a)/ε -> ratio.
# Identified here: ε = 0.05, 0.03, 0.02, 0.01 (log 6/ε = 35.8, 59.7, 89.6, 179.2), absorbing at +1.
T4 = {0.05: (35.8, 0.988), 0.03: (59.7, 0.993), 0.02: (89.6, 0.995), 0.01: (179.2, 0.998)}


@pytest.mark.parametrize("eps", sorted(T4))
def test_t4_mori_type_temperature(eps):
    exponent, want = T4[eps]
    mori_loss = lambda t: loss(t) + 0.3            # L_a = 0.05, L_b = 0.3
    assert math.log(6.0) / eps == pytest.approx(exponent, abs=0.05)
    res = mfpt_1d(mori_loss, grad, lambda t: eps * mori_loss(t), start=-1.0, absorbing=1.0,
                  convention="ito")
    log_mori = math.log(2 * math.pi / math.sqrt(2)) + (1 / eps + 0.5) * math.log(6.0)
    ratio = math.exp(res.log_escape_time - log_mori)
    assert ratio == pytest.approx(want, rel=0.015)       # C12
    assert ratio == pytest.approx(want, abs=TABLE_ATOL)


# ---------------------------------------------------------------- 1-D: extremes and oracles

def test_tiny_rates_stay_in_log_space_without_warnings():
    # ΔU/D = 800: T ≈ e^{801.5} overflows a float; log T must follow Kramers (docs/theory.md §Kramers law in 1-D),
    # whose relative correction is O(D) (T1 trend: 1.020 at ΔU/D = 20).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mfpt_1d(loss, grad, BARRIER / 800, start=-1.0, absorbing=1.0)
        near_limit = mfpt_1d(loss, grad, BARRIER / 680, start=-1.0, absorbing=1.0)
    log_kramers = math.log(2 * math.pi / math.sqrt(H_A * H_B)) + 800
    assert math.isfinite(res.log_escape_time)
    assert res.log_escape_time == pytest.approx(log_kramers, rel=0.02)
    assert abs(res.log_escape_time - log_kramers) < 5e-3
    assert res.escape_time == math.inf and res.rate == 0.0 and res.log_rate == -res.log_escape_time
    # a rate of ~1e-296 is still representable and equals e^{−log T}
    assert 0 < near_limit.rate < 1e-290
    assert near_limit.rate == pytest.approx(math.exp(-near_limit.log_escape_time), rel=1e-12)


def test_quadrature_matches_mpmath_double_integral():
    # independent: T = (1/D) ∫_{-1}^{0} e^{U(y)/D} ∫_{-3}^{y} e^{−U(z)/D} dz dy by mpmath
    # Gauss–Legendre (docs/theory.md §Exact references, constant D); the cut at −3 costs e^{−160}.
    mp.mp.dps = 15
    d = mp.mpf(1) / 10

    def inner(y):
        return mp.quad(lambda z: mp.exp(-(loss(z) - loss(y)) / d), [-3, -1, y], method="gauss-legendre")

    expected = float(mp.quad(inner, [-1, -0.5, 0], method="gauss-legendre") / d)
    res = mfpt_1d(loss, grad, 0.1, start=-1.0, absorbing=0.0)
    assert res.escape_time == pytest.approx(expected, rel=1e-8)
    assert res.relative_error < 1e-4


@pytest.mark.slow
def test_position_dependent_quadrature_matches_mpmath():
    # independent: D = ε e^{0.9θ}, Stratonovich, with Φ from its closed-form antiderivative and the
    # double integral ∫_{-1}^{1} s(y) ∫_{-2.5}^{y} m(z) dz dy by mpmath Gauss–Legendre
    # (docs/theory.md §Exact references)
    mp.mp.dps = 15
    k, eps, alpha = mp.mpf(9) / 10, mp.mpf(1) / 20, mp.mpf(1) / 2

    def antiderivative(t):
        return -mp.exp(-k * t) * ((t**3 - t) / k + (3 * t**2 - 1) / k**2 + 6 * t / k**3 + 6 / k**4)

    def log_s(t):
        return (antiderivative(t) - antiderivative(-1)) / eps - alpha * mp.log(eps * mp.exp(k * t))

    def log_m(t):
        return -(antiderivative(t) - antiderivative(-1)) / eps + (alpha - 1) * mp.log(eps * mp.exp(k * t))

    # the cut at −2.5 costs less than e^{-100} relative (Φ grows like ∫|L'|e^{0.9|θ|}/ε on the left)
    expected = float(mp.quad(lambda y: mp.quad(lambda z: mp.exp(log_m(z) + log_s(y)), [-2.5, -1, y],
                                                method="gauss-legendre"),
                             [-1, -0.5, 0, 0.5, 1], method="gauss-legendre"))
    res = mfpt_1d(loss, grad, lambda t: 0.05 * np.exp(0.9 * t), start=-1.0, absorbing=1.0,
                  convention="stratonovich")
    assert res.escape_time == pytest.approx(expected, rel=1e-7)


def test_two_sided_exit_from_flat_interval_is_quadratic():
    # L = 0, constant D, absorbing at both ends of (0, ℓ): T(x) = x(ℓ − x)/(2D)
    res = mfpt_1d(lambda t: 0 * t, lambda t: 0 * t, 0.3, start=0.5, absorbing=2.0, left=0.0,
                  left_kind="absorbing")
    assert res.escape_time == pytest.approx(0.5 * 1.5 / 0.6, rel=1e-9)


def test_two_sided_exit_against_reflecting_when_left_end_is_far():
    # absorbing far out on the left changes nothing when the density there is e^{-37}
    d = 0.1
    one = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0, left=-2.2)
    two = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0, left=-2.2, left_kind="absorbing")
    assert two.escape_time == pytest.approx(one.escape_time, rel=1e-9)
    # and an absorbing end close to the start makes it faster
    near = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0, left=-1.2, left_kind="absorbing")
    assert near.escape_time < 0.5 * one.escape_time


def test_result_is_frozen_and_records_its_inputs():
    res = mfpt_1d(loss, grad, 0.1, start=-1.0, absorbing=0.0)
    assert (res.start, res.absorbing, res.left_kind, res.convention) == (-1.0, 0.0, "reflecting", "ito")
    assert res.left < -1.0 and res.n_points > 1000 and "Richardson" in res.method
    with pytest.raises(AttributeError):
        res.escape_time = 1.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(start=0.0, absorbing=0.0), "absorbing must be > start"),
    (dict(start=0.5, absorbing=-1.0), "absorbing must be > start"),
    (dict(start=-1.0, absorbing=0.0, convention="ito2"), "convention must be one of"),
    (dict(start=-1.0, absorbing=0.0, left=-0.5), "left must be finite and < start"),
    (dict(start=-1.0, absorbing=0.0, left_kind="sticky"), "left_kind must be"),
    (dict(start=-1.0, absorbing=0.0, left_kind="absorbing"), "left must be given"),
    (dict(start=-1.0, absorbing=0.0, n_points=3), "n_points must be"),
    (dict(start=float("nan"), absorbing=0.0), "start must be finite"),
])
def test_bad_arguments_raise_value_error_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mfpt_1d(loss, grad, 0.1, **kwargs)


@pytest.mark.parametrize("temperature", [0.0, -0.1, float("inf")])
def test_non_positive_constant_temperature_is_refused(temperature):
    with pytest.raises(ValueError, match="temperature must be positive"):
        mfpt_1d(loss, grad, temperature, start=-1.0, absorbing=0.0)


def test_temperature_field_that_vanishes_is_refused():
    with pytest.raises(ValueError, match="temperature must be positive"):
        mfpt_1d(loss, grad, lambda t: 0.1 * t, start=-1.0, absorbing=0.0, left=-2.0)


def test_wrong_sign_grad_is_refused():
    with pytest.raises(ValueError, match="grad is not the derivative of loss"):
        mfpt_1d(loss, lambda t: -grad(t), 0.1, start=-1.0, absorbing=0.0)


def test_non_confining_loss_needs_an_explicit_left_end():
    with pytest.raises(ValueError, match="does not confine"):
        mfpt_1d(lambda t: t**3, lambda t: 3 * t**2, 0.1, start=-1.0, absorbing=0.0)


# ---------------------------------------------------------------- 2-D generator

def _grad_separable(hy):
    return lambda th: np.column_stack([grad(th[:, 0]), hy * th[:, 1]])


BOUNDS = ((-2.2, 0.0), (-1.5, 1.5))


def test_separable_2d_matches_1d_quadrature():
    # C4: double well in x, harmonic in y, constant isotropic D, absorbing half-plane x ≥ 0.
    # Same reflecting left end (−2.2) for both; Richardson over 111×13 and 221×25 nodes.
    d = 0.1
    ref = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0, left=-2.2)
    res = mfpt_2d(_grad_separable(3.0), d, bounds=BOUNDS, shape=(111, 13),
                  absorbing=lambda th: th[:, 0] >= -1e-12, start=(-1.0, 0.0))
    assert res.escape_time == pytest.approx(ref.escape_time, rel=1e-4)
    assert res.escape_time_error / res.escape_time < 1e-4       # the reported estimate
    assert abs(res.escape_time - ref.escape_time) < 10 * res.escape_time_error
    # metastability: λ₁ T(a) → 1 as ΔU/D grows; at ΔU/D = 2.5 it is 1.03 (checked loosely)
    assert res.rate * res.escape_time == pytest.approx(1.0, abs=0.05)
    assert res.escape_time_field.shape == res.shape == (221, 25)


def test_separable_2d_at_lower_temperature_uses_refinement_to_keep_digits():
    # ΔU/D = 25: T ≈ 1.6e11, so plain LU loses ~4 digits; the refined solve keeps 1e-4
    d = 0.01
    ref = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0, left=-2.2)
    res = mfpt_2d(_grad_separable(3.0), d, bounds=BOUNDS, shape=(111, 7),
                  absorbing=lambda th: th[:, 0] >= -1e-12, start=(-1.0, 0.0), rate=False)
    assert res.escape_time == pytest.approx(ref.escape_time, rel=1e-4)


def _anisotropic_diffusion(th):
    """D_xx = D(x) only; D_xy and D_yy vary with x and y. SPD and diagonally dominant in grid units."""
    x, y = th[:, 0], th[:, 1]
    d = np.empty((th.shape[0], 2, 2))
    d[:, 0, 0] = 0.1 * (1 + 0.3 * np.tanh(x + 1))
    d[:, 1, 1] = 0.4 * (1 + 0.5 * np.sin(x + y))
    d[:, 0, 1] = d[:, 1, 0] = 0.03 * np.sin(2 * y) * np.exp(x / 4)
    return d


def test_anisotropic_position_dependent_diffusion_keeps_x_autonomous():
    # Exact reduction: with ∂_x L depending on x only and D_xx = D(x), the x-coordinate of the Itô
    # SDE is itself a diffusion dx = −L'(x) dt + √(2D(x)) dB, whatever D_xy, D_yy and the y-loss are.
    # So T to {x ≥ 0} equals the 1-D Itô quadrature with D(x).
    d_x = lambda t: 0.1 * (1 + 0.3 * np.tanh(t + 1))
    ref = mfpt_1d(loss, grad, d_x, start=-1.0, absorbing=0.0, left=-2.2, convention="ito")
    grad_2d = lambda th: np.column_stack([grad(th[:, 0]), 2 * th[:, 1] * (1 + 0.2 * th[:, 0] ** 2)])
    res = mfpt_2d(grad_2d, _anisotropic_diffusion, bounds=BOUNDS, shape=(56, 31),
                  absorbing=lambda th: th[:, 0] >= -1e-12, start=(-1.0, 0.0), rate=False)
    assert res.escape_time == pytest.approx(ref.escape_time, rel=1e-4)
    # and the field hardly depends on y
    row = res.escape_time_field[np.argmin(np.abs(res.x + 1.0))]
    assert np.ptp(row) / row.mean() < 1e-4


def test_flat_landscape_with_constant_anisotropic_diffusion_is_exact():
    # L = 0, constant D with a cross term, absorbing at x = 0 and x = ℓ = 2, reflecting in y:
    # T = x(ℓ − x)/(2 D_xx) (quadratic, so the scheme is exact) and the discrete Dirichlet
    # eigenvalue (4 D_xx/h²) sin²(π h/(2ℓ)) (→ D_xx π²/ℓ²).
    d = np.array([[0.3, 0.1], [0.1, 0.5]])
    zero = lambda th: np.zeros_like(th)
    both_ends = lambda th: (th[:, 0] <= 1e-12) | (th[:, 0] >= 2 - 1e-12)
    res = mfpt_2d(zero, d, bounds=((0, 2), (0, 1)), shape=(41, 21), absorbing=both_ends,
                  start=(0.5, 0.3), refine=False)
    x = res.x[:, None]
    np.testing.assert_allclose(res.escape_time_field, np.broadcast_to(x * (2 - x) / 0.6, (41, 21)),
                               rtol=1e-11, atol=1e-12)
    h = 0.05
    assert res.rate == pytest.approx(4 * 0.3 / h**2 * math.sin(math.pi * h / 4) ** 2, rel=1e-10)
    refined = mfpt_2d(zero, d, bounds=((0, 2), (0, 1)), shape=(41, 21), absorbing=both_ends,
                      start=(0.5, 0.3))
    assert refined.rate == pytest.approx(0.3 * math.pi**2 / 4, rel=1e-6)
    # the sign of the cross term must not matter for this x-only problem
    mirrored = mfpt_2d(zero, d * np.array([[1, -1], [-1, 1]]), bounds=((0, 2), (0, 1)), shape=(41, 21),
                       absorbing=both_ends, start=(0.5, 0.3), refine=False, rate=False)
    assert mirrored.escape_time == pytest.approx(1.25, rel=1e-11)


def test_generator_is_an_m_matrix_at_very_low_temperature():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, x, y = generator_2d(_grad_separable(3.0), 1e-6, bounds=BOUNDS, shape=(45, 13))
    off = a - sp.diags(a.diagonal())
    assert np.all(np.isfinite(a.data))
    assert off.min() >= 0 and np.all(a.diagonal() <= 0)
    assert np.max(np.abs(np.asarray(a.sum(axis=1)))) < 1e-9 * np.max(np.abs(a.diagonal()))


@pytest.mark.parametrize("diffusion, message", [
    (np.array([[0.1, 0.2], [0.2, 0.1]]), "symmetric positive definite"),
    (np.array([[0.1, 0.0], [0.05, 0.1]]), "symmetric positive definite"),
    (-0.1, "symmetric positive definite"),
    (np.array([[0.1, 0.11], [0.11, 1.0]]), "too anisotropic"),
])
def test_bad_diffusion_is_refused(diffusion, message):
    with pytest.raises(ValueError, match=message):
        generator_2d(_grad_separable(1.0), diffusion, bounds=((-1, 1), (-1, 1)), shape=(11, 11))


@pytest.mark.parametrize("kwargs, message", [
    (dict(start=(5.0, 0.0)), "start must lie inside bounds"),
    (dict(start=(-1.0, 0.0), absorbing=lambda th: th[:, 0] > 10), "absorbing set contains no grid node"),
    (dict(start=(-1.0, 0.0), absorbing=np.zeros((21, 11), bool)), "absorbing must be a callable"),
    (dict(start=(-1.0, 0.0), shape=(2, 11)), "shape must be two integers"),
    (dict(start=(-1.0, 0.0), bounds=((0.0, -2.0), (-1, 1))), "bounds must be finite"),
    (dict(start=(0.0, 0.0)), "start .* lies in the absorbing set"),
])
def test_bad_2d_arguments_are_refused(kwargs, message):
    args = dict(bounds=((-2.0, 0.0), (-1.0, 1.0)), shape=(21, 11), absorbing=lambda th: th[:, 0] >= -1e-12)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        mfpt_2d(_grad_separable(1.0), 0.1, **args)


@pytest.mark.slow
def test_separable_2d_fine_grid_matches_1d_to_1e6():
    d = 0.25 / 15
    ref = mfpt_1d(loss, grad, d, start=-1.0, absorbing=0.0, left=-2.2)
    res = mfpt_2d(_grad_separable(3.0), d, bounds=BOUNDS, shape=(441, 25),
                  absorbing=lambda th: th[:, 0] >= -1e-12, start=(-1.0, 0.0))
    assert res.escape_time == pytest.approx(ref.escape_time, rel=1e-6)
    assert res.rate * res.escape_time == pytest.approx(1.0, abs=1e-3)
