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


# ------------------------------------------------------------------ instanton: characteristics and Riccati
NEW_CHECKS = ("∂K/∂p = 2Dp − ∇L", "−∂K/∂θ = ∇²L p", "∂_iE = (Qθ̇ − Hp)_i",
              "∂_i∂_jE = Σ_k Φ_ijk θ̇_k − [∇³L[p] + HQ + QH − 2QDQ]_ij",
              "Φ = L/D₀ and D = D₀·I (then E = 0): Σ_k Φ_ijk θ̇_k", "HQ + QH − 2QDQ = 0 for Q = Σ⁻¹",
              "∇·(−∇L + D∇Φ) = tr(DQ) − ΔL", "tr(D₀I·H/D₀) − ΔL = 0", "H − 2DΣ⁻¹ = −ΣHΣ⁻¹")


def test_derivation_records_the_instanton_riccati_and_divergence_checks():
    d = derive_bouchet_reygner()
    for start in NEW_CHECKS:
        found = [c for c in d.checks if c.description.startswith(start)]
        assert len(found) == 1, start
        assert found[0].passed and sp.expand(found[0].difference) == 0, start
    text = " ".join(st.statement for st in d.steps)
    assert "Hamilton's equations" in text and "Riccati equation" in text and "fixed points" in text
    assert any(st.source.startswith("method of characteristics (Courant & Hilbert") for st in d.steps)
    integral = [st for st in d.steps if st.statement.startswith("Hence I_ℓ")]
    assert len(integral) == 1 and integral[0].expr.lhs == g["instanton_divergence"]
    assert integral[0].expr.rhs.limits[0][1:] == (-sp.oo, sp.oo)
    # the recorded right-hand side is ∇³L[p] + HQ + QH − 2QDQ for generic L(x_1, x_2), Φ(x_1, x_2): at a point where
    # ∇Φ = 0 and ∇²Φ = 0 it vanishes, with ∇²Φ = I and D = I it is 2∇²L − 2I (xreplace: exact derivative objects)
    R = d.results["riccati"]
    assert R.shape == (2, 2) and (R - R.T).expand() == sp.zeros(2, 2)
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    Phi, L = sp.Function("Phi")(x1, x2), sp.Function("L")(x1, x2)
    flat = {sp.Derivative(Phi, x1): 0, sp.Derivative(Phi, x2): 0, sp.Derivative(Phi, x1, x2): 0,
            sp.Derivative(Phi, (x1, 2)): 0, sp.Derivative(Phi, (x2, 2)): 0}
    assert R.xreplace(flat).expand() == sp.zeros(2, 2)
    unit = {sp.Derivative(Phi, x1): 0, sp.Derivative(Phi, x2): 0, sp.Derivative(Phi, x1, x2): 0,
            sp.Derivative(Phi, (x1, 2)): 1, sp.Derivative(Phi, (x2, 2)): 1}
    dn = dict(zip(sp.symbols("d11 d12 d22", real=True), (1, 0, 1)))
    assert (R.xreplace(unit).xreplace(dn) - (2 * sp.hessian(L, (x1, x2)) - 2 * sp.eye(2))).expand() == sp.zeros(2, 2)


# L(x, y) = x⁴/4 − x²/2 + xy + y²: ∇L = (x³ − x + y, x + 2y), ∇²L = [[3x² − 1, 1], [1, 2]] (by hand)
def _grad_L(v):
    x, y = v
    return np.array([x**3 - x + y, x + 2 * y])


def _hess_L(v):
    return np.array([[3 * v[0] ** 2 - 1, 1.0], [1.0, 2.0]])


D_ANISO = np.array([[1.0, 0.3], [0.3, 2.0]])


def _riccati_sides(grad_L, hess_L, grad_Phi, hess_Phi, D, theta, h=1e-5):
    """(dQ/dt along θ̇ = 2D∇Φ − ∇L, ∇³L[p] + HQ + QH − 2QDQ) at θ, both third-order terms by central differences
    of the analytic Hessians (dQ/dt = Σ_k Φ_ijk θ̇_k, ∇³L[p] = Σ_k L_ijk p_k)."""
    p = grad_Phi(theta)
    v = 2 * D @ p - grad_L(theta)
    dQ = (hess_Phi(theta + h * v) - hess_Phi(theta - h * v)) / (2 * h)
    T3 = (hess_L(theta + h * p) - hess_L(theta - h * p)) / (2 * h)
    H, Q = hess_L(theta), hess_Phi(theta)
    return dQ, T3 + H @ Q + Q @ H - 2 * Q @ D @ Q


@pytest.mark.parametrize("theta", [(0.4, -0.3), (-1.1, 0.7), (1.3, 0.2)])
def test_riccati_identity_off_shell_by_finite_differences(theta):
    """Any smooth Φ, D = [[1, 0.3], [0.3, 2]]: Σ_k Φ_ijk θ̇_k − [∇³L[p] + HQ + QH − 2QDQ] = ∇²E and ∇E = Qθ̇ − Hp,
    E = ∇ΦᵀD∇Φ − ∇L·∇Φ differentiated by finite differences."""
    # Φ = 0.3x⁴ − 0.2x² + 0.4xy + 0.7y² + 0.25x²y (by hand: gradient and Hessian)
    def grad_Phi(v):
        x, y = v
        return np.array([1.2 * x**3 - 0.4 * x + 0.4 * y + 0.5 * x * y, 0.4 * x + 1.4 * y + 0.25 * x**2])

    def hess_Phi(v):
        x, y = v
        return np.array([[3.6 * x**2 - 0.4 + 0.5 * y, 0.4 + 0.5 * x], [0.4 + 0.5 * x, 1.4]])

    def E(v):
        p = grad_Phi(v)
        return p @ D_ANISO @ p - _grad_L(v) @ p

    th = np.array(theta)
    h, e = 1e-4, np.eye(2)
    grad_E = np.array([(E(th + h * e[i]) - E(th - h * e[i])) / (2 * h) for i in range(2)])
    hess_E = np.array([[(E(th + h * (e[i] + e[j])) - E(th + h * (e[i] - e[j])) - E(th - h * (e[i] - e[j]))
                         + E(th - h * (e[i] + e[j]))) / (4 * h * h) for j in range(2)] for i in range(2)])
    p = grad_Phi(th)
    v = 2 * D_ANISO @ p - _grad_L(th)
    np.testing.assert_allclose(grad_E, hess_Phi(th) @ v - _hess_L(th) @ p, rtol=1e-7, atol=1e-7)
    dQ, rhs = _riccati_sides(_grad_L, _hess_L, grad_Phi, hess_Phi, D_ANISO, th)
    assert np.max(np.abs(hess_E)) > 0.1                       # off shell: the ∇²E term is really there
    np.testing.assert_allclose(dQ - rhs, hess_E, rtol=1e-5, atol=1e-5)
    # the check can fail: without the factor 2 on QDQ the identity is off by QDQ
    assert np.max(np.abs(dQ - (rhs + hess_Phi(th) @ D_ANISO @ hess_Phi(th)) - hess_E)) > 0.1


@pytest.mark.parametrize("theta", [(0.4, -0.3), (-1.1, 0.7), (1.3, 0.2)])
def test_riccati_along_the_characteristic_reversible_case(theta):
    """D = D₀·I and Φ = L/D₀ (E ≡ 0): dQ/dt along θ̇ = 2D∇Φ − ∇L equals ∇³L[p] + HQ + QH − 2QDQ; the
    integrand tr(DQ) − ΔL of I_ℓ vanishes."""
    D0 = 0.7
    D = D0 * np.eye(2)
    th = np.array(theta)
    p = _grad_L(th) / D0
    assert p @ D @ p - _grad_L(th) @ p == pytest.approx(0.0, abs=1e-13)
    dQ, rhs = _riccati_sides(_grad_L, _hess_L, lambda v: _grad_L(v) / D0, lambda v: _hess_L(v) / D0, D, th)
    np.testing.assert_allclose(dQ, rhs, rtol=1e-8, atol=1e-8)
    assert abs(dQ[0, 0]) > 0.1                                 # Q really changes along the path (L_xxx = 6x ≠ 0)
    assert np.trace(D @ _hess_L(th) / D0) - np.trace(_hess_L(th)) == pytest.approx(0.0, abs=1e-13)


@pytest.mark.parametrize("theta", [(0.4, -0.3), (-1.1, 0.7), (1.3, 0.2)])
def test_riccati_along_the_characteristic_non_reversible_case(theta):
    """D = [[1, 0.3], [0.3, 2]] with an exact non-reversible solution of the Hamilton–Jacobi equation: for M = D + J
    (J antisymmetric), Mu = λu, Q₀ with MQ₀ symmetric and Φ = ½θᵀQ₀θ + ψ(u·θ), the loss L = ½θᵀMQ₀θ + λψ(u·θ)
    has ∇L = M∇Φ, so E = ∇ΦᵀD∇Φ − ∇ΦᵀM∇Φ = 0 while ℓ_θ = −J∇Φ ≠ 0 and DQ ≠ QD."""
    J = np.array([[0.0, 0.2], [-0.2, 0.0]])
    M = D_ANISO + J                                            # [[1, 0.5], [0.1, 2]]
    lam = (3 + np.sqrt(1.2)) / 2                               # eigenvalues (3 ± √(9 − 4·1.95))/2
    u = np.array([0.5, lam - 1.0])                             # (M − λ)u = 0 from the first row
    np.testing.assert_allclose(M @ u, lam * u, rtol=1e-14)
    Q0 = np.array([[2.0, 0.3], [0.3, 1.0]])                    # b = c/2 − a/10 makes MQ₀ symmetric
    assert np.allclose(M @ Q0, (M @ Q0).T) and not np.allclose(D_ANISO @ Q0, Q0 @ D_ANISO)

    def grad_Phi(v):                                           # ψ(s) = s⁴/4 − s²: ψ′ = s³ − 2s, ψ″ = 3s² − 2
        s = u @ v
        return Q0 @ v + (s**3 - 2 * s) * u

    def hess_Phi(v):
        return Q0 + (3 * (u @ v) ** 2 - 2) * np.outer(u, u)

    def grad_L(v):
        return M @ grad_Phi(v)

    def hess_L(v):
        return M @ Q0 + lam * (3 * (u @ v) ** 2 - 2) * np.outer(u, u)

    th = np.array(theta)
    np.testing.assert_allclose(hess_L(th), hess_L(th).T, rtol=1e-14)          # L is a potential
    p = grad_Phi(th)
    assert p @ D_ANISO @ p - grad_L(th) @ p == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.norm(-grad_L(th) + D_ANISO @ p) > 0.05                     # ℓ_θ ≠ 0: not reversible
    dQ, rhs = _riccati_sides(grad_L, hess_L, grad_Phi, hess_Phi, D_ANISO, th)
    np.testing.assert_allclose(dQ, rhs, rtol=1e-7, atol=1e-7)
    assert np.max(np.abs(dQ)) > 0.1
    # ∇·ℓ_θ by finite differences of ℓ_θ = −∇L + D∇Φ equals tr(DQ) − ΔL
    h, e = 1e-5, np.eye(2)
    def ell(v):
        return -grad_L(v) + D_ANISO @ grad_Phi(v)

    div = sum((ell(th + h * e[i])[i] - ell(th - h * e[i])[i]) / (2 * h) for i in range(2))
    assert div == pytest.approx(np.trace(D_ANISO @ hess_Phi(th)) - np.trace(hess_L(th)), rel=1e-7, abs=1e-8)
