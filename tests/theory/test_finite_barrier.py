"""The finite-barrier Kramers law τ = τ_K(1 + c₁D + O(D²)) against exact quadrature of the mean first-passage time.

Reference: the exact 1-D MFPT of dθ = −L′dt + √(2D)dW from the minimum a to a point c beyond the saddle,
τ = (1/D)∫_a^c e^{L(x)/D} ∫_{−∞}^x e^{−L(y)/D} dy dx (Gardiner, Stochastic Methods, §5.2.7), computed here by
composite Simpson quadrature on a fine grid, independently of the SymPy derivation. If c₁ were wrong by δ, the
remainder τ/τ_K − 1 − c₁D would fall like δ·D (halving when D halves) instead of like D² (quartering).
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial import Polynomial
from scipy.integrate import cumulative_simpson, simpson

import flatminima

# L = θ⁴/4 − θ²/2 (symmetric; L‴(b) = 0) and L = θ⁴/4 + 0.1θ³ − θ²/2 (asymmetric; L‴(b) = 0.6 ≠ 0).
WELLS = {"symmetric": Polynomial([0, 0, -0.5, 0, 0.25]), "asymmetric": Polynomial([0, 0, -0.5, 0.1, 0.25])}


def _critical_points(L: Polynomial) -> tuple[float, float, float]:
    """(a, b, c): the left minimum, the saddle at 0, the right minimum (real roots of L′, sorted)."""
    roots = np.sort(L.deriv().roots().real)
    return float(roots[0]), float(roots[1]), float(roots[2])


def exact_mfpt(L: Polynomial, D: float, n: int = 400_001) -> float:
    """Exact MFPT from a to c (the far minimum) by nested Simpson quadrature, scaled to avoid overflow."""
    a, b, c = _critical_points(L)
    x = np.linspace(a - 3.0, c, n)
    inner = cumulative_simpson(np.exp(-(L(x) - L(a)) / D), x=x, initial=0.0)   # ∫_{a−3}^x e^{−(L−L_a)/D}
    outer_x = x >= a
    outer = simpson(np.exp((L(x[outer_x]) - L(b)) / D) * inner[outer_x], x=x[outer_x])
    return float(np.exp((L(b) - L(a)) / D) * outer / D)


def _law_terms(L: Polynomial):
    a, b, _ = _critical_points(L)
    d2, d3, d4 = L.deriv(2), L.deriv(3), L.deriv(4)
    params = dict(h_ae=d2(a), h_be=-d2(b), third_a=d3(a), fourth_a=d4(a), third_b=d3(b), fourth_b=d4(b))
    return params, L(b) - L(a)


@pytest.mark.parametrize("well", sorted(WELLS))
def test_remainder_falls_as_d_squared(well):
    L = WELLS[well]
    params, barrier = _law_terms(L)
    F = flatminima.formulas()
    c1 = F["kramers_1d_next_term_c1"](**params)
    remainders = []
    for ratio in (20.0, 40.0, 80.0):                    # ΔL/D
        D = barrier / ratio
        tau_k = F["kramers_1d_escape_time"](barrier=barrier, h_ae=params["h_ae"], h_be=params["h_be"], temperature=D)
        tau_fb = F["kramers_1d_finite_barrier_escape_time"](barrier=barrier, temperature=D, **params)
        exact = exact_mfpt(L, D)
        assert tau_fb / tau_k == pytest.approx(1 + c1 * D, rel=1e-12)
        # the corrected law is closer to the exact time than Kramers' at every barrier
        assert abs(exact / tau_fb - 1) < abs(exact / tau_k - 1) / 3
        remainders.append(exact / tau_k - 1 - c1 * D)
    # Halving D twice: an O(D²) remainder shrinks about 4× each time (O(D³) terms allow 3.2–4.8), an error δ in
    # c₁ would leave an O(D) remainder shrinking 2×.
    for big, small in zip(remainders, remainders[1:]):
        assert 3.2 < big / small < 4.8, (well, remainders)


def test_symmetric_double_well_value_of_c1():
    # c₁ = 5·36/(24·8) − 6/(8·4) + 0 + 6/(8·1) = 3/2 for θ⁴/4 − θ²/2, by hand from the closed form.
    params, _ = _law_terms(WELLS["symmetric"])
    assert flatminima.formulas()["kramers_1d_next_term_c1"](**params) == pytest.approx(1.5, rel=1e-12)


def test_quadrature_reproduces_the_documented_reference_point():
    # Independent check of the quadrature itself: at ΔL/D = 10 on θ⁴/4 − θ²/2, τ/τ_K = 1.0434 (docs/theory.md
    # §Finite barrier, from an independent 1-D quadrature).
    L = WELLS["symmetric"]
    D = 0.025
    tau_k = 2 * np.pi / np.sqrt(2.0) * np.exp(0.25 / D)
    assert exact_mfpt(L, D) / tau_k == pytest.approx(1.0434, abs=5e-4)


def test_the_derivation_records_its_checks():
    from flatminima.theory.finite_barrier import derive_kramers_next_term
    d = derive_kramers_next_term()
    assert all(c.passed for c in d.checks)
    assert any("3/2" in c.description for c in d.checks)
