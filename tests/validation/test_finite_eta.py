"""The η-expansion of the discrete chain's exponent (theory.finite_eta) against the exact discrete chain.

Reference: the exact mean exit time of θ' = θ − ηL′(θ) + η√(c(θ)/B)ξ (numerics.reference.chain_mfpt_1d, a grid
solve with exact Gaussian cell masses, independent of the theory). Its slope of −log γ against B at fixed η is
fitted through exponents (B/η)I₀ = 16 … 48 with a + κB + m/B + n/B² (the 1/B terms are the finite-barrier
corrections of the prefactor); the spread between two sets of B is the fit's error. The prediction is
κ = Σ η^{j−1} I_j (docs/theory.md §Discretisation).
"""
import numpy as np
import pytest
import sympy as sp

from flatminima.numerics.reference import chain_mfpt_1d
from flatminima.validation.finite_eta import exponent_terms

X = sp.Symbol("x", real=True)
LOSS = X**4 / 4 - X**2 / 2                     # a = −1, b = 0
A, B_SADDLE = -1.0, 0.0
NOISE = {"white": sp.Integer(1) + 0 * X,                       # constant c: the O(η) term vanishes
         "position-dependent": sp.exp(X / 2)}                  # c varying along the path
LEFT, EXIT = -1.9, 0.4          # reflecting end far up the outer wall; exit well beyond the saddle


def _derivatives(expr, n, start):
    return [sp.lambdify(X, sp.diff(expr, X, k) + 0 * X, "numpy") for k in range(start, start + n)]


def _quad(f):
    from scipy.integrate import quad
    return quad(f, A, B_SADDLE, epsabs=1e-14, epsrel=1e-13)[0]


def _chain_slope(grad, c, eta, i0, exponents):
    """Fitted d(−log γ)/dB of the exact chain through B = E·η/I₀ for the exponents E."""
    bs = [e * eta / i0 for e in exponents]
    log_tau = [np.log(chain_mfpt_1d(grad, lambda t, B=B: eta * np.sqrt(c(t) / B) * np.ones_like(t), eta=eta,
                                    start=A, absorbing=EXIT, left=LEFT).escape_time) for B in bs]
    design = np.array([[1.0, B] + [B**-k for k in range(1, len(bs) - 1)] for B in bs])
    return float(np.linalg.solve(design, log_tau)[1])


@pytest.fixture(scope="module", params=sorted(NOISE))
def case(request):
    c_expr = NOISE[request.param]
    terms = exponent_terms(_derivatives(LOSS, 9, 1), _derivatives(c_expr, 9, 0), A, B_SADDLE)
    return request.param, _derivatives(LOSS, 1, 1)[0], _derivatives(c_expr, 1, 0)[0], terms


def test_leading_term_is_the_sde_exponent(case):
    name, _, c, terms = case
    # I₀ = 2∫L′/c; for c = 1 it is 2ΔL = 1/2 exactly
    assert terms.integrals[0] == pytest.approx(2 * _quad(lambda t: (t**3 - t) / c(t)), rel=1e-10)
    if name == "white":
        assert terms.integrals[0] == pytest.approx(0.5, rel=1e-12)
        assert terms.integrals[1] == pytest.approx(0.0, abs=1e-13)      # a total derivative: ∫p₁ = 0
        # I₂ = ∫L′²L‴/6 = ∫x(x³ − x)² = −(1/8 − 1/3 + 1/4) = −1/24 on [−1, 0], by hand
        assert terms.integrals[2] == pytest.approx(-1 / 24, rel=1e-10)


@pytest.mark.slow          # 18 exact-chain solves per case (about 3 minutes)
@pytest.mark.parametrize("eta", [0.05, 0.1, 0.2])
def test_chain_slope_matches_the_expansion_to_third_order(case, eta):
    name, grad, c, terms = case
    i0 = terms.integrals[0]
    k1 = _chain_slope(grad, c, eta, i0, (16, 24, 32, 40))
    k2 = _chain_slope(grad, c, eta, i0, (24, 32, 40, 48, 56))
    measured, spread = (k1 + k2) / 2 - i0 / eta, abs(k1 - k2)
    predicted = terms.correction(eta, order=3)
    # within 5% of the correction, plus the fit's own spread
    assert abs(measured - predicted) <= 0.05 * abs(measured) + spread, (name, eta, measured, predicted, spread)
    if name == "position-dependent" and eta >= 0.1:
        # the first-order term alone misses: the O(η²) term is as large at ηH_a = 0.2–0.4
        first = terms.correction(eta, order=1)
        assert abs(measured - first) > 0.05 * abs(measured) + spread


def test_too_few_derivatives_is_a_one_line_error():
    from flatminima.errors import InputError
    with pytest.raises(InputError, match=r"loss_derivatives needs L′ … L\^\(3\)"):
        exponent_terms(_derivatives(LOSS, 1, 1), _derivatives(NOISE["white"], 3, 0), A, B_SADDLE)
