"""The non-reversible Eyring–Kramers law (Bouchet & Reygner 2016): symbolic reductions and the numeric helper.

Expected values are computed here independently of ``theory.bouchet_reygner``: by hand (noted in comments), from
``numpy.linalg.eigvalsh`` / Kronecker-product solves, or from the registry's Eyring–Kramers and 1-D Kramers laws.
"""
import warnings

import numpy as np
import pytest
import sympy as sp

from flatminima import theory
from flatminima.theory import DomainError, RegimeWarning
from flatminima.theory.bouchet_reygner import bouchet_reygner_prefactor, derive_bouchet_reygner, solve_lyapunov

g = {n: theory.GLOSSARY[n].symbol for n in ("mu", "det_Q_a", "abs_det_Q_b", "quasi_potential_barrier",
                                            "instanton_divergence", "h_be", "det_ratio", "barrier", "temperature")}


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


def _rotated(eigenvalues, angle):
    """R(angle) diag(eigenvalues) R(angle)ᵀ, rotating the first two coordinates."""
    n = len(eigenvalues)
    R = np.eye(n)
    c, s = np.cos(angle), np.sin(angle)
    R[:2, :2] = [[c, -s], [s, c]]
    return R @ np.diag(eigenvalues) @ R.T


def _kron_lyapunov(h, d):
    """Σ from the vectorised equation (I⊗H + H⊗I) vec Σ = vec 2D (independent of the eigenbasis solve)."""
    n = h.shape[0]
    A = np.kron(np.eye(n), h) + np.kron(h, np.eye(n))
    return np.linalg.solve(A, (2 * d).reshape(-1)).reshape(n, n)


# ----------------------------------------------------------------------------------------------- symbolic
def test_symbolic_reduction_to_eyring_kramers_in_the_registry(reg):
    """D = D₀·I: Q = H/D₀, μ = |H_be|, ΔΦ = ΔL/D₀, I_ℓ = 0 make the law the registry's eyring_kramers_rate."""
    h_a1, h_a2, h_b2 = sp.symbols("h_a1 h_a2 h_b2", positive=True)       # eigenvalues, n = 2
    D, dL, hbe = g["temperature"], g["barrier"], g["h_be"]
    br = reg["bouchet_reygner_rate"].expr.subs({
        g["mu"]: hbe, g["det_Q_a"]: h_a1 * h_a2 / D**2, g["abs_det_Q_b"]: hbe * h_b2 / D**2,
        g["quasi_potential_barrier"]: dL / D, g["instanton_divergence"]: 0})
    ek = reg["eyring_kramers_rate"].expr.subs(g["det_ratio"], hbe * h_b2 / (h_a1 * h_a2))
    assert sp.simplify(br - ek) == 0
    # the check can fail: μ = D·|H_be| (an eigenvalue of −D·H_b instead of −H_b) is detected
    assert sp.simplify(reg["bouchet_reygner_rate"].expr.subs({
        g["mu"]: D * hbe, g["det_Q_a"]: h_a1 * h_a2 / D**2, g["abs_det_Q_b"]: hbe * h_b2 / D**2,
        g["quasi_potential_barrier"]: dL / D, g["instanton_divergence"]: 0}) - ek) != 0


@pytest.mark.parametrize("n", [2, 3])
def test_derivation_records_the_reduction(n):
    d = derive_bouchet_reygner(n)
    assert all(c.passed for c in d.checks) and len(d.checks) > 30
    text = " ".join(st.statement for st in d.steps)
    assert "Lyapunov" in text and "Eyring–Kramers" in text and "sp.simplify" in text
    assert "Bouchet" in d.source and "2016" in d.source
    assert sp.simplify(d.results["isotropic_rate"] - d.results["eyring_kramers_rate"]) == 0
    assert set(d.results) >= {"rate", "escape_time", "exponent", "prefactor"}
    assert sp.simplify(d.results["rate"] * d.results["escape_time"]) == 1


def test_symbolic_2d_lyapunov_solution_by_substitution():
    """The recorded 2-D closed form solves HΣ + ΣH = 2D for a non-commuting pair (substituted here)."""
    sig = derive_bouchet_reygner().results["lyapunov_2d"]
    names = sp.symbols("h11 h12 h22 d11 d12 d22", real=True)
    H = sp.Matrix([[3, -1], [-1, -sp.Rational(1, 2)]])                 # indefinite: det = −5/2, tr = 5/2 ≠ 0
    D = sp.Matrix([[2, sp.Rational(1, 3)], [sp.Rational(1, 3), 1]])
    vals = dict(zip(names, (H[0, 0], H[0, 1], H[1, 1], D[0, 0], D[0, 1], D[1, 1])))
    S = sig.subs(vals)
    assert (H * S + S * H - 2 * D).applyfunc(sp.simplify) == sp.zeros(2, 2)
    assert S != H.inv() * D                                               # not the commuting answer


def test_registry_law_has_the_stated_form(reg):
    f = reg["bouchet_reygner_rate"]
    assert list(f.params) == ["mu", "det_Q_a", "abs_det_Q_b", "quasi_potential_barrier", "instanton_divergence"]
    assert {"non-reversible", "anisotropic", "quasi-potential"} <= set(f.tags)
    assert "Bouchet" in f.source and "2016" in f.source
    # γ = μ/(2π)·√(det Q_a/|det Q_b|)·e^{−I_ℓ}·e^{−ΔΦ}: μ = 1, ratio 4, I_ℓ = 0.5, ΔΦ = 10
    want = 1 / (2 * np.pi) * 2.0 * np.exp(-0.5) * np.exp(-10.0)
    got = f(mu=1.0, det_Q_a=8.0, abs_det_Q_b=2.0, quasi_potential_barrier=10.0, instanton_divergence=0.5)
    assert got == pytest.approx(want, rel=1e-13)
    assert reg["bouchet_reygner_escape_time"](mu=1.0, det_Q_a=8.0, abs_det_Q_b=2.0, quasi_potential_barrier=10.0,
                                               instanton_divergence=0.5) == pytest.approx(1 / want, rel=1e-13)
    with pytest.warns(RegimeWarning, match="low temperature"):
        f(mu=1.0, det_Q_a=8.0, abs_det_Q_b=2.0, quasi_potential_barrier=2.0, instanton_divergence=0.0)
    with pytest.raises(DomainError, match="mu must be positive"):
        f(mu=-1.0, det_Q_a=8.0, abs_det_Q_b=2.0, quasi_potential_barrier=10.0, instanton_divergence=0.0)


# ------------------------------------------------------------------------------------------------ numeric
@pytest.mark.parametrize("D0", [0.01, 0.3, 2.0])
def test_isotropic_prefactor_is_eyring_kramers(reg, D0):
    """D = D0·I: μ = |H_be|, det Q = det H/D0^d, prefactor |H_be|/(2π)·√(det H_a/|det H_b|) (no D0: D0⁰ = 1)."""
    h_a = _rotated([1.5, 4.0, 0.7], 0.4)
    h_b = _rotated([-0.8, 2.5, 0.9], -1.1)
    out = bouchet_reygner_prefactor(h_a, h_b, D0 * np.eye(3))
    ea, eb = np.linalg.eigvalsh(h_a), np.linalg.eigvalsh(h_b)
    assert out["mu"] == pytest.approx(0.8, rel=1e-12)
    assert out["det_Q_a"] == pytest.approx(np.prod(ea) / D0**3, rel=1e-10)
    assert out["abs_det_Q_b"] == pytest.approx(abs(np.prod(eb)) / D0**3, rel=1e-10)
    by_hand = 0.8 / (2 * np.pi) * np.sqrt((1.5 * 4.0 * 0.7) / (0.8 * 2.5 * 0.9))
    assert out["prefactor"] == pytest.approx(by_hand, rel=1e-10)
    np.testing.assert_allclose(out["Q_a"], h_a / D0, rtol=1e-10, atol=1e-12 / D0)
    # the full rate equals the registry's Eyring–Kramers rate (ΔΦ = ΔL/D0, I_ℓ = 0)
    dL = 12 * D0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegimeWarning)
        br = reg["bouchet_reygner_rate"](mu=out["mu"], det_Q_a=out["det_Q_a"], abs_det_Q_b=out["abs_det_Q_b"],
                                         quasi_potential_barrier=dL / D0, instanton_divergence=0.0)
        ek = reg["eyring_kramers_rate"](h_be=0.8, det_ratio=(0.8 * 2.5 * 0.9) / (1.5 * 4.0 * 0.7), barrier=dL,
                                        temperature=D0)
    assert br == pytest.approx(ek, rel=1e-10)


def test_diagonal_anisotropic_case_by_hand():
    # H_a = diag(2, 5), H_b = diag(−1, 4), D = diag(0.5, 0.2): Q = D⁻¹H (diagonal, commuting)
    # Q_a = diag(4, 25), det 100; Q_b = diag(−2, 20), |det| 40; μ = 1; prefactor = √(100/40)/(2π) = √2.5/(2π)
    out = bouchet_reygner_prefactor(np.diag([2.0, 5.0]), np.diag([-1.0, 4.0]), np.diag([0.5, 0.2]))
    assert out["mu"] == pytest.approx(1.0, rel=1e-14)
    assert out["det_Q_a"] == pytest.approx(100.0, rel=1e-12)
    assert out["abs_det_Q_b"] == pytest.approx(40.0, rel=1e-12)
    assert out["prefactor"] == pytest.approx(np.sqrt(2.5) / (2 * np.pi), rel=1e-12)
    np.testing.assert_allclose(out["Q_b"], np.diag([-2.0, 20.0]), rtol=1e-12)


def test_separable_case_is_1d_kramers_along_the_escape_direction(reg):
    """L = L1(θ1) + L2(θ2), D = diag(d1, d2): the θ1-motion is a 1-D diffusion with coefficient d1."""
    d1, d2, h_ae, h_be, h2, dL = 0.04, 0.5, 3.0, 1.2, 7.0, 0.5
    out = bouchet_reygner_prefactor(np.diag([h_ae, h2]), np.diag([-h_be, h2]), np.diag([d1, d2]))
    rate = out["prefactor"] * np.exp(-dL / d1)
    assert rate == pytest.approx(reg["kramers_1d_rate"](h_ae=h_ae, h_be=h_be, barrier=dL, temperature=d1),
                                 rel=1e-12)


def test_non_commuting_case_by_hand():
    # D = diag(1, 2), H_a = [[2, 1], [1, 2]]: solving 2σ11 + σ12 = 1, σ12 + 2σ22 = 2, 4σ12 + σ11 + σ22 = 0 by hand
    # gives Σ_a = [[3/4, −1/2], [−1/2, 5/4]], det Σ_a = 11/16, det Q_a = 16/11.
    # H_b = [[−1, 1], [1, 2]]: −σ11 + σ12 = 1, σ12 + 2σ22 = 2, σ12 + σ11 + σ22 = 0 give Σ_b = diag(−1, 1),
    # |det Q_b| = 1. μ = positive root of λ² + λ − 3 (eigenvalues of −H_b) = (√13 − 1)/2.
    D = np.diag([1.0, 2.0])
    h_a, h_b = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[-1.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(solve_lyapunov(h_a, D), [[0.75, -0.5], [-0.5, 1.25]], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(solve_lyapunov(h_b, D), [[-1.0, 0.0], [0.0, 1.0]], rtol=1e-13, atol=1e-14)
    out = bouchet_reygner_prefactor(h_a, h_b, D)
    mu = (np.sqrt(13) - 1) / 2
    assert out["mu"] == pytest.approx(mu, rel=1e-13)
    assert out["det_Q_a"] == pytest.approx(16 / 11, rel=1e-13)
    assert out["abs_det_Q_b"] == pytest.approx(1.0, rel=1e-13)
    assert out["prefactor"] == pytest.approx(mu / (2 * np.pi) * 4 / np.sqrt(11), rel=1e-13)
    # not the Eyring–Kramers prefactor with the same Hessians (det H_a = 3 = |det H_b|): 4/√11 ≠ 1
    assert out["prefactor"] / (mu / (2 * np.pi)) == pytest.approx(4 / np.sqrt(11), rel=1e-13)


def test_lyapunov_residual_random_matrices():
    rng = np.random.default_rng(20240611)
    for d in (2, 4, 7):
        A = rng.normal(size=(d, d))
        D = A @ A.T + 0.1 * np.eye(d)                                     # SPD
        U, _ = np.linalg.qr(rng.normal(size=(d, d)))
        ev_a = rng.uniform(0.2, 3.0, d)
        ev_b = np.concatenate([[-rng.uniform(0.2, 3.0)], rng.uniform(0.2, 3.0, d - 1)])
        h_a, h_b = U @ np.diag(ev_a) @ U.T, U[::-1] @ np.diag(ev_b) @ U[::-1].T
        out = bouchet_reygner_prefactor(h_a, h_b, D)
        for h, Q in ((h_a, out["Q_a"]), (h_b, out["Q_b"])):
            sigma = np.linalg.inv(Q)
            scale = np.linalg.norm(D)
            assert np.linalg.norm(h @ sigma + sigma @ h - 2 * D) < 1e-9 * scale
            np.testing.assert_allclose(sigma, _kron_lyapunov(h, D), rtol=1e-8, atol=1e-10 * scale)
            assert np.linalg.norm(Q @ D @ Q - (h @ Q + Q @ h) / 2) < 1e-8 * np.linalg.norm(Q) ** 2 * scale
            assert np.trace(D @ Q) == pytest.approx(np.trace(h), rel=1e-8, abs=1e-10)   # ∇·ℓ = 0 near c
        assert np.all(np.linalg.eigvalsh(out["Q_a"]) > 0)
        assert np.sum(np.linalg.eigvalsh(out["Q_b"]) < 0) == 1                       # inertia of H_b
        assert out["det_Q_a"] == pytest.approx(np.linalg.det(out["Q_a"]), rel=1e-8)
        assert out["abs_det_Q_b"] == pytest.approx(-np.linalg.det(out["Q_b"]), rel=1e-8)
        assert out["mu"] == pytest.approx(-ev_b[0], rel=1e-10)                        # independent of D


GOOD = dict(h_a=np.diag([2.0, 5.0]), h_b=np.diag([-1.0, 4.0]), diffusion=np.diag([0.5, 0.2]))


@pytest.mark.parametrize("bad,match", [
    ({"h_a": [[2.0, 1.0], [0.0, 5.0]]}, "h_a is not symmetric"),
    ({"h_b": [[-1.0, 0.5], [0.0, 4.0]]}, "h_b is not symmetric"),
    ({"diffusion": [[0.5, 0.1], [0.0, 0.2]]}, "diffusion is not symmetric"),
    ({"h_a": np.diag([2.0, -5.0])}, "h_a is not positive definite"),
    ({"h_b": np.diag([1.0, 4.0])}, "h_b is not an index-1 saddle"),
    ({"h_b": np.diag([-1.0, -4.0])}, "h_b is not an index-1 saddle"),
    ({"h_b": np.diag([-1.0, 0.0])}, "h_b is not an index-1 saddle"),
    ({"diffusion": np.diag([0.5, -0.2])}, "diffusion is not symmetric positive definite"),
    ({"diffusion": np.diag([0.5, 0.0])}, "diffusion is not symmetric positive definite"),
    ({"h_b": np.diag([-1.0, 1.0]), "diffusion": [[0.5, 0.1], [0.1, 0.2]]}, "Lyapunov equation at the saddle"),
    ({"h_a": np.ones((2, 3))}, "h_a must be a square"),
    ({"h_a": np.diag([2.0, np.nan])}, "h_a must be finite"),
    ({"diffusion": np.eye(3)}, "same shape"),
])
def test_bad_input_errors(bad, match):
    with pytest.raises(ValueError, match=match) as info:
        bouchet_reygner_prefactor(**{**GOOD, **bad})
    assert "\n" not in str(info.value)
