"""Optimizer laws (docs/theory.md §Optimizer exponents), each against an independent expected value.

Expected numbers come from closed forms computed by hand here, or from direct numpy iteration of the optimizers'
update rules (impulse responses, pure-noise Monte Carlo, spectral radii of the one-step maps), never from the
SymPy expressions under test.
"""
import numpy as np
import pytest
import sympy as sp

from flatminima import theory
from flatminima.theory.alternatives import derive_optimizers

SGD = dict(eta=0.1, batch_size=10.0, loss_unit=2.0, barrier=0.25, h_ae=2.0, h_be=1.0, s=0.3)
BRACKET = 0.3 / 2.0 + 0.7 / 1.0                          # s/H_ae + (1−s)/|H_be| for SGD above


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


def sgd_exponent(eta, batch_size, loss_unit, barrier, h_ae, h_be, s):
    """Xie et al. 2021, Eq. (7)'s exponent with the loss unit, typed by hand (docs/theory.md §SGD law)."""
    return 2 * batch_size * barrier / (eta * loss_unit) * (s / h_ae + (1 - s) / h_be)


def sgd_rate_ito(**v):
    """Itô two-region rate per unit SDE time, H_ae/(2π)·e^{−ΔΦ} (docs/theory.md §Prefactor conventions)."""
    return v["h_ae"] / (2 * np.pi) * np.exp(-sgd_exponent(**v))


def n_pnm(beta0):
    return np.sqrt((1 + beta0) ** 2 + beta0**2)


def _num(expr, **values):
    """A derivation result evaluated at values keyed by symbol name."""
    return float(expr.subs({s: values[s.name] for s in expr.free_symbols}))


# ------------------------------------------------------------------------------------- optimizers by hand (numpy)
def heavy_ball(eta, beta):
    def step(theta, m, g, t):
        m = beta * m + g
        return theta - eta * m, m
    return step


def nesterov(eta, beta):
    def step(theta, m, g, t):
        m = beta * m + g
        return theta - eta * (g + beta * m), m
    return step


def ema(eta, beta1, precond):
    def step(theta, m, g, t):                             # Adam's m without bias correction (long times)
        m = beta1 * m + (1 - beta1) * g
        return theta - eta * precond * m, m
    return step


def pnm(eta, beta1, beta0):
    n = n_pnm(beta0)

    def step(theta, m, g, t):                             # m = (m_even, m_odd); the buffer of this step's parity
        pos, neg = (0, 1) if t % 2 == 0 else (1, 0)
        m = list(m)
        m[pos] = beta1**2 * m[pos] + (1 - beta1**2) * g
        return theta - eta * ((1 + beta0) * m[pos] - beta0 * m[neg]) / n, tuple(m)
    return step


def impulse_weight(step, m0, t0=0, n_steps=4000):
    """Total displacement −Σ Δθ caused by one unit gradient at step t0 (no landscape: g = 0 otherwise)."""
    theta, m = 0.0, m0
    for t in range(t0, t0 + n_steps):
        theta, m = step(theta, m, 1.0 if t == t0 else 0.0, t)
    return -theta


def test_long_time_weights_by_impulse_response():
    w = derive_optimizers().results
    eta, beta, b1, b0, P = 0.01, 0.9, 0.8, 1.0, 0.7
    # heavy ball and Nesterov: iterate the PyTorch updates with one unit gradient, sum the displacements
    hb = impulse_weight(heavy_ball(eta, beta), 0.0)
    assert hb == pytest.approx(eta / (1 - beta), rel=1e-10)                 # η/(1−β)
    assert _num(w["weight_heavy_ball"], eta=eta, beta=beta) == pytest.approx(hb, rel=1e-10)
    nag = impulse_weight(nesterov(eta, beta), 0.0)
    assert nag == pytest.approx(hb, rel=1e-10)                              # η(1 + β/(1−β)) = η/(1−β)
    assert _num(w["weight_nesterov"], eta=eta, beta=beta) == pytest.approx(nag, rel=1e-10)
    # Adam-style EMA with a fixed preconditioner P: weight ηP
    e = impulse_weight(ema(eta, b1, P), 0.0)
    assert e == pytest.approx(eta * P, rel=1e-10)
    assert _num(w["weight_adam_ema"], eta=eta, P=P) == pytest.approx(e, rel=1e-10)
    # PNM: the gradient enters the buffer of its step's parity; both parities give η/n, independent of β₁
    for parity in (0, 1):
        for beta1 in (0.5, 0.9):
            p = impulse_weight(pnm(eta, beta1, b0), (0.0, 0.0), t0=10 + parity)
            assert p == pytest.approx(eta / n_pnm(b0), rel=1e-10)
    assert _num(w["weight_pnm"], eta=eta, beta_0=b0) == pytest.approx(eta / n_pnm(b0), rel=1e-12)


def noise_variance_per_step(step, m0, n_walkers=4000, n_steps=3000, seed=0):
    """Var(θ_T)/T of the optimizer driven by unit white gradient noise only (Monte Carlo over walkers)."""
    rng = np.random.default_rng(seed)
    theta = np.zeros(n_walkers)
    m = tuple(np.zeros(n_walkers) for _ in m0) if isinstance(m0, tuple) else np.zeros(n_walkers)
    for t in range(n_steps):
        theta, m = step(theta, m, rng.standard_normal(n_walkers), t)
    return theta.var() / n_steps


def test_green_kubo_noise_is_the_squared_total_weight():
    """The long-time noise per step is w²·C (C = 1 here), not the instantaneous-variance reading n²(η/n)² = η².

    Monte Carlo: 4000 walkers, 3000 steps; the sampling error of a variance is √(2/4000) ≈ 2%, memory effects
    ~ (1/(1−β))/3000 < 1%; tolerance 8%. The independent-buffer reading would be 5× larger for PNM at β₀ = 1.
    """
    eta = 0.01
    hb = noise_variance_per_step(heavy_ball(eta, 0.9), 0.0)
    assert hb == pytest.approx((eta / 0.1) ** 2, rel=0.08)
    p = noise_variance_per_step(pnm(eta, 0.9, 1.0), (0, 0), seed=1)
    assert p == pytest.approx((eta / n_pnm(1.0)) ** 2, rel=0.08)
    assert abs(p / eta**2 - 1) > 0.5                        # far from the independent-buffer value η²


# ---------------------------------------------------------------------------------------------------- PNM laws
def test_pnm_long_time_and_independent_laws(reg):
    b0 = 1.0
    n = n_pnm(b0)                                           # √5
    matched = sgd_exponent(**{**SGD, "eta": SGD["eta"] / n})
    assert reg["pnm_long_time_exponent"](**SGD, pnm_beta0=b0) == pytest.approx(matched, rel=1e-12)
    assert reg["pnm_exponent"](**SGD, pnm_beta0=b0) == pytest.approx(matched / 5.0, rel=1e-12)   # ÷ n² = 5
    assert reg["pnm_exponent_ratio_long_time"]() == 1.0
    assert reg["pnm_exponent_ratio_independent"](pnm_beta0=b0) == pytest.approx(1 / 5.0, rel=1e-14)
    assert reg["pnm_exponent_ratio_independent"](pnm_beta0=0.5) == pytest.approx(1 / (1.5**2 + 0.25), rel=1e-14)
    # rate per unit t = step·η: SGD's Itô rate at η/n times (η/n)/η = 1/n
    rate = sgd_rate_ito(**{**SGD, "eta": SGD["eta"] / n}) / n
    assert reg["pnm_rate_ito"](**SGD, pnm_beta0=b0) == pytest.approx(rate, rel=1e-12)
    # escapes per step are those of SGD at η/n: γ_PNM·η = γ_SGD(η/n)·η/n
    assert reg["pnm_rate_ito"](**SGD, pnm_beta0=b0) * SGD["eta"] == pytest.approx(
        reg["sgd_rate_ito"](**{**SGD, "eta": SGD["eta"] / n}) * SGD["eta"] / n, rel=1e-12)


# ----------------------------------------------------------------------------------------------------- momentum
def test_momentum_underdamped_ratio(reg):
    eta, beta, hb = 0.001, 0.9, 1.0
    x = 4 * eta * hb / (1 - beta) ** 2                      # 0.4 (mass η, friction 1 − β)
    by_hand = 2 / x * (np.sqrt(1 + x) - 1)                  # 0.9161
    got = reg["momentum_underdamped_ratio"](eta=eta, momentum=beta, h_be=hb)
    assert got == pytest.approx(by_hand, rel=1e-12) and got == pytest.approx(0.916, abs=1e-3)
    # independent: the unstable root of M s² + γ_f s − |H_b| = 0 over the overdamped |H_b|/γ_f
    s_plus = max(np.roots([eta, 1 - beta, -hb]).real)
    assert got == pytest.approx(s_plus * (1 - beta) / hb, rel=1e-10)
    # the discrete heavy ball at the barrier top (L = −|H_b|x²/2): unstable multiplier of the one-step map, as a
    # growth rate per unit t = step·η, over the overdamped rate. It differs from R(x) by the next-order mass
    # η(1+β)/2 (0.9197 against 0.9161): within 1%.
    A = np.array([[1 + eta * hb, -eta * beta], [-hb, beta]])          # (x, m) ← heavy ball with g = −|H_b|x
    z = max(abs(np.linalg.eigvals(A)))
    assert np.log(z) / eta * (1 - beta) / hb == pytest.approx(got, rel=0.01)
    assert reg["momentum_underdamped_ratio"](eta=1e-9, momentum=0.5, h_be=1.0) == pytest.approx(1.0, abs=1e-8)


def test_momentum_rate(reg):
    beta = 0.5
    eff = {**SGD, "eta": SGD["eta"] / (1 - beta)}
    x = 4 * SGD["eta"] * SGD["h_be"] / (1 - beta) ** 2
    R = 2 / x * (np.sqrt(1 + x) - 1)
    rate = sgd_rate_ito(**eff) / (1 - beta) * R              # time factor η_eff/η = 1/(1−β)
    assert reg["momentum_rate_ito"](**SGD, momentum=beta) == pytest.approx(rate, rel=1e-12)
    assert reg["momentum_escape_time_ito"](**SGD, momentum=beta) == pytest.approx(1 / rate, rel=1e-12)
    assert reg["momentum_exponent"](**SGD, momentum=beta) == pytest.approx(sgd_exponent(**eff), rel=1e-12)
    with pytest.raises(theory.DomainError, match="below 1"):
        reg["momentum_rate_ito"](**SGD, momentum=1.5)


@pytest.mark.parametrize("law,extra,eta_eff", [
    ("momentum_rate_ito", {"momentum": 0.5}, 0.1 / 0.5),
    ("pnm_rate_ito", {"pnm_beta0": 1.0}, 0.1 / np.sqrt(5.0)),
    ("adai_rate_ito", {}, 0.1)])
def test_batch_slope_is_sgd_slope_at_effective_eta(law, extra, eta_eff):
    """The slope machinery differentiates the registered rates: d(−log γ)/dB = 2ΔL/(η_eff λ)·(…), no prefactor term."""
    p = theory.predicted_slope(law, wrt="batch_size", **SGD, **extra)
    assert p.leading == pytest.approx(2 * 0.25 / (eta_eff * 2.0) * BRACKET, rel=1e-12)
    assert p.neglected == 0.0


def test_adai_is_sgd_at_eta(reg):
    assert reg["adai_exponent"](**SGD) == pytest.approx(sgd_exponent(**SGD), rel=1e-12)
    assert reg["adai_rate_ito"](**SGD) == pytest.approx(sgd_rate_ito(**SGD), rel=1e-12)


# ---------------------------------------------------------------------------------------------------------- Adam
def test_adam_frozen_exponent_and_rate(reg):
    v = dict(SGD)
    sqrtB, lam = np.sqrt(v["batch_size"]), v["loss_unit"]
    # ε = 0, by hand: (2√B ΔL/(η√λ))(s/√H_ae + (1−s)√H_ae/|H_be|)
    e0 = 2 * sqrtB * 0.25 / (0.1 * np.sqrt(lam)) * (0.3 / np.sqrt(2.0) + 0.7 * np.sqrt(2.0) / 1.0)
    assert reg["adam_frozen_exponent"](**v, epsilon=0.0) == pytest.approx(e0, rel=1e-12)
    # ε > 0: SGD's exponent with every curvature × P, P = 1/(√(λH_ae/B) + ε)
    eps = 0.3
    P = 1 / (np.sqrt(lam * 2.0 / 10.0) + eps)
    scaled = {**v, "h_ae": P * 2.0, "h_be": P * 1.0}
    assert reg["adam_frozen_exponent"](**v, epsilon=eps) == pytest.approx(sgd_exponent(**scaled), rel=1e-12)
    assert reg["adam_rate_ito"](**v, epsilon=eps) == pytest.approx(sgd_rate_ito(**scaled), rel=1e-12)
    with pytest.raises(theory.DomainError, match="ε"):
        reg["adam_frozen_exponent"](**v, epsilon=-0.1)


def test_adam_frozen_is_sgd_on_the_reparametrised_loss():
    """Adam with frozen P (long-time weight ηP) on L, in θ = √P φ, is SGD at η on L(√P φ) with noise √P ξ:
    the iterates agree step by step with common random numbers (a numpy check of the change of variables)."""
    rng = np.random.default_rng(3)
    eta, P, n = 0.01, 0.37, 2000
    grad = lambda th: th**3 - th                              # L = θ⁴/4 − θ²/2
    xi = 0.5 * rng.standard_normal(n)
    theta, phi = 0.9, 0.9 / np.sqrt(P)
    for k in range(n):
        theta = theta - eta * P * (grad(theta) + xi[k])
        phi = phi - eta * (np.sqrt(P) * grad(np.sqrt(P) * phi) + np.sqrt(P) * xi[k])   # ∇_φ L(√P φ) = √P L′
    assert theta == pytest.approx(np.sqrt(P) * phi, rel=1e-9)


def test_adam_frozen_against_adaptive_on_the_double_well(reg):
    # L = θ⁴/4 − θ²/2: H_ae = 2, |H_be| = 1, ΔL = 1/4, s = 4/9 (inflection at 1/√3)
    v = dict(eta=0.01, batch_size=16.0, loss_unit=1.0, barrier=0.25, h_ae=2.0, h_be=1.0, s=4 / 9)
    frozen = reg["adam_frozen_exponent"](**v, epsilon=0.0)
    adaptive = reg["adam_exponent"](**v)
    by_hand = (4 / 9 / np.sqrt(2) + 5 / 9 * np.sqrt(2)) / (4 / 9 / np.sqrt(2) + 5 / 9)     # 1.2645
    assert frozen / adaptive == pytest.approx(by_hand, rel=1e-12)
    assert frozen / adaptive == pytest.approx(1.26, abs=0.01)


def test_adam_slopes(reg):
    v = dict(SGD)
    lam, B = v["loss_unit"], v["batch_size"]
    E = lambda **w: reg["adam_frozen_exponent"](**w)
    # ε = 0: ΔΦ is exactly linear in √B with slope (2ΔL/(η√λ))(s/√H_ae + (1−s)√H_ae/|H_be|)
    slope0 = 2 * 0.25 / (0.1 * np.sqrt(lam)) * (0.3 / np.sqrt(2.0) + 0.7 * np.sqrt(2.0))
    assert reg["adam_frozen_slope_sqrt_batch"](**v, epsilon=0.0) == pytest.approx(slope0, rel=1e-12)
    for b in (4.0, 25.0, 100.0):
        assert E(**{**v, "batch_size": b}, epsilon=0.0) == pytest.approx(slope0 * np.sqrt(b), rel=1e-12)
    # ε > 0 (ε√(B/(λH_ae)) = 0.08, inside the linear regime): the formula is the local derivative; central finite
    # difference in u = √B
    eps, h = 0.05, 1e-4
    u0 = np.sqrt(B)
    Eu = lambda u: E(**{**v, "batch_size": u**2}, epsilon=eps)
    fd = (Eu(u0 + h) - Eu(u0 - h)) / (2 * h)
    assert reg["adam_frozen_slope_sqrt_batch"](**v, epsilon=eps) == pytest.approx(fd, rel=1e-7)
    # sharpness L_k(θ) = L(√k θ): every curvature × k; ε = 0 ⇒ ΔΦ ∝ k^{−1/2}, slope = ΔΦ at k = 1
    Ek = lambda k, e: E(**{**v, "h_ae": k * 2.0, "h_be": k * 1.0}, epsilon=e)
    assert reg["adam_frozen_slope_inv_sqrt_sharpness"](**v, epsilon=0.0, sharpness=3.0) == pytest.approx(
        Ek(1.0, 0.0), rel=1e-12)
    assert Ek(4.0, 0.0) == pytest.approx(Ek(1.0, 0.0) / 2, rel=1e-12)
    k0 = 3.0
    w0 = k0 ** -0.5
    fd = (Ek((w0 + h) ** -2, eps) - Ek((w0 - h) ** -2, eps)) / (2 * h)
    assert reg["adam_frozen_slope_inv_sqrt_sharpness"](**v, epsilon=eps, sharpness=k0) == pytest.approx(fd, rel=1e-7)
    # linearity needs ε√(B/(λH_ae)) ≪ 1: 0.2·√(10/4) = 0.32 is flagged
    with pytest.warns(theory.RegimeWarning, match="linear in √B"):
        reg["adam_frozen_slope_sqrt_batch"](**v, epsilon=0.2)


# ----------------------------------------------------------------------------------------------- stability limits
def one_step_matrix(step, m0, h, t):
    """The linear one-step map of an optimizer on L = hx²/2 (g = hx), column by column from the update rule."""
    dim = 1 + (len(m0) if isinstance(m0, tuple) else 1)
    cols = []
    for i in range(dim):
        e = np.eye(dim)[i]
        m = tuple(e[1:]) if isinstance(m0, tuple) else e[1]
        x, m = step(e[0], m, h * e[0], t)
        cols.append([x, *(m if isinstance(m, tuple) else (m,))])
    return np.array(cols).T


def largest_stable(spectral_radius, lo=1e-3, hi=20.0):
    """Bisection on η·h for the spectral radius crossing 1 (stable for small η·h, unstable for large)."""
    assert spectral_radius(lo) < 1 and spectral_radius(hi) > 1
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if spectral_radius(mid) < 1 else (lo, mid)
    return lo


@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9, 0.99])
def test_two_by_two_stability_limits(reg, beta):
    rho = lambda make, m0: lambda a: max(abs(np.linalg.eigvals(one_step_matrix(make(a), m0, 1.0, 0))))
    hb = largest_stable(rho(lambda a: heavy_ball(a, beta), 0.0))           # η·h with h = 1
    assert reg["momentum_stability_limit"](momentum=beta) == pytest.approx(hb, rel=1e-8)
    nag = largest_stable(rho(lambda a: nesterov(a, beta), 0.0))
    assert reg["nesterov_stability_limit"](momentum=beta) == pytest.approx(nag, rel=1e-8)
    P = 0.3
    ad = largest_stable(rho(lambda a: ema(a / P, beta, P), 0.0), hi=1e4)   # the bound is on η·P·h
    assert reg["adam_stability_limit"](momentum=beta) == pytest.approx(ad, rel=1e-8)


@pytest.mark.parametrize("beta1", [0.3, 0.9, 0.99])
@pytest.mark.parametrize("beta0", [0.5, 1.0, 2.0])
def test_pnm_stability_limit_by_spectral_radius(reg, beta1, beta0):
    def rho(a):                                              # two-step map (one step of each parity), h = 1
        step = pnm(a, beta1, beta0)
        M = one_step_matrix(step, (0, 0), 1.0, 1) @ one_step_matrix(step, (0, 0), 1.0, 0)
        return max(abs(np.linalg.eigvals(M)))
    assert reg["pnm_stability_limit"](pnm_beta0=beta0) == pytest.approx(largest_stable(rho), rel=1e-7)
    if beta0 == 1.0:
        assert reg["pnm_stability_limit"](pnm_beta0=1.0) == pytest.approx(2 * np.sqrt(5) / 3, rel=1e-12)


def test_optimizer_derivation_records_its_steps():
    d = derive_optimizers()
    assert all(c.passed for c in d.checks) and len(d.checks) >= 30
    text = " ".join(st.statement for st in d.steps)
    assert "Green–Kubo" in text and "Jury" in text and "Kramers–Hänggi" in text
    assert any("simulation decides" in note for note in d.notes)
    assert d.results["pnm_ratio_long_time"] == 1 and isinstance(d.results["pnm_ratio_long_time"], sp.Integer)
