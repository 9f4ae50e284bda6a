"""Noise models: one-step moments against closed forms, stream semantics, α-stable and minibatch draws."""
import numpy as np
import pytest
from scipy import linalg, stats

from flatminima.numerics import Landscape, build_landscape
from flatminima.numerics import noise as nz
from flatminima.numerics.streams import NOISE, particle_stream
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors



# ---------------------------------------------------------------------- a 2-D test function with closed forms
def _loss(t):
    x, y = t[0], t[1]
    return x**4 / 4 - x**2 / 2 + 2.0 * y**2 + 0.5 * x * y + 1.0


def _grad(t):        # hand-derived, independent of autograd
    x, y = t
    return np.array([x**3 - x + 0.5 * y, 4.0 * y + 0.5 * x])


def _hess(t):
    x, _ = t
    return np.array([[3 * x**2 - 1.0, 0.5], [0.5, 4.0]])


LAND = Landscape(name="test2d", dim=2, loss=_loss)


def _ctx(eta):
    return nz.StepInputs(LAND, eta, LAND.grads, LAND.values, LAND.hessians)


def _increments(model, theta, eta, n=40000, seed=1):
    """ζ for n particles at the same θ: new − (θ − η∇L(θ)) with the closed-form gradient."""
    z = np.random.default_rng(seed).standard_normal((n, 2))
    X = np.tile(theta, (n, 1))
    out = model.step(X, z, _ctx(eta))
    return out.theta - (theta - eta * _grad(theta)), out


def _assert_cov(zeta, cov):
    """Sample covariance (mean known: 0) against cov, entry by entry within Z_TOL standard errors."""
    n = zeta.shape[0]
    S = zeta.T @ zeta / n
    for i in range(2):
        for j in range(2):
            se = np.sqrt((cov[i, i] * cov[j, j] + cov[i, j] ** 2) / n)
            assert abs(S[i, j] - cov[i, j]) <= Z_TOL * se + 1e-15, (i, j, S[i, j], cov[i, j], se)
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(zeta.mean(axis=0)) <= Z_TOL * se_mean + 1e-15)


THETA = np.array([0.2, 0.1])          # here H has eigenvalues of both signs


def test_closed_forms_match_the_landscape():
    assert np.allclose(LAND.grad(THETA), _grad(THETA), rtol=1e-13)
    assert np.allclose(LAND.hessian(THETA), _hess(THETA), rtol=1e-13)
    assert np.linalg.eigvalsh(_hess(THETA))[0] < 0


def test_white_noise_covariance_is_2_D_eta():
    eta, D = 0.05, 0.3
    zeta, out = _increments(nz.WhiteNoise(2, D, eta), THETA, eta)
    _assert_cov(zeta, 2 * D * eta * np.eye(2))          # docs/theory.md §White noise
    n = np.array([[0.6, 0.8]])
    assert np.allclose(out.along(n), 2 * D * eta)


def test_hessian_fixed_covariance_is_eta2_lambda_H_over_B():
    eta, lam, B = 0.05, 3.0, 4
    h_a = _hess(np.array([1.2, -0.15]))                 # positive definite
    zeta, out = _increments(nz.HessianFixedNoise(h_a, lam, B, eta), THETA, eta)
    cov = eta**2 * lam * h_a / B                         # docs/theory.md §hessian_fixed
    _assert_cov(zeta, cov)
    n = np.array([[0.6, 0.8], [1.0, 0.0]])
    assert np.allclose(out.along(n)[0], np.einsum("sd,de,se->s", n, cov, n), rtol=1e-12)


def test_hessian_fixed_refuses_an_indefinite_matrix():
    with pytest.raises(ValueError, match="positive semi-definite"):
        nz.HessianFixedNoise(_hess(THETA), 1.0, 1, 0.1)


def test_a_zero_mode_gets_no_noise_and_the_rest_keeps_its_covariance():
    # H = diag(8, 0): a flat direction (a valley of minima). F Fᵀ must equal H, so no kick along θ1.
    h = np.diag([8.0, 0.0])
    F = nz._psd_factor(h, "H")
    np.testing.assert_allclose(F @ F.T, h, atol=1e-14)
    np.testing.assert_allclose(F[1], 0.0, atol=1e-14)


def test_two_region_noise_switches_at_the_split():
    eta, lam, B = 0.05, 2.0, 1
    h_a = _hess(np.array([1.0, 0.0]))
    h_b = _hess(np.array([0.0, 0.0]))                    # indefinite: |H_b| is used
    e = np.array([1.0, 0.0])
    model = nz.HessianTwoRegionNoise(h_a, h_b, np.array([0.5, 0.0]), e, lam, B, eta)
    abs_hb = np.real(linalg.sqrtm(h_b @ h_b))            # |H| = (H²)^{1/2}, an independent route
    for theta, h in ((np.array([0.2, 0.1]), h_a), (np.array([0.7, 0.1]), abs_hb)):
        zeta, _ = _increments(model, theta, eta)
        _assert_cov(zeta, eta**2 * lam * h / B)


def test_hessian_psd_covariance_uses_eigen_absolute_values_and_delta():
    eta, lam, B, delta = 0.05, 2.0, 2, 0.3
    zeta, out = _increments(nz.HessianPSDNoise(2, delta, lam, B, eta), THETA, eta)
    h = _hess(THETA)
    cov = eta**2 * lam * (np.real(linalg.sqrtm(h @ h)) + delta * np.eye(2)) / B    # docs/theory.md §hessian_psd
    _assert_cov(zeta, cov)
    n = np.array([[0.6, 0.8]])
    assert np.allclose(out.along(n)[:1, 0], n[0] @ cov @ n[0], rtol=1e-10)


def test_loss_hessian_covariance_is_2L_H_plus_over_B():
    eta, B = 0.05, 2
    zeta, _ = _increments(nz.LossHessianNoise(2, B, eta), THETA, eta)
    h = _hess(THETA)
    w, V = np.linalg.eigh(h)
    h_plus = (V * np.maximum(w, 0)) @ V.T                 # PSD projection: negative curvature clipped
    cov = eta**2 * 2 * float(_loss(THETA)) * h_plus / B   # docs/theory.md §loss_hessian (Mori)
    _assert_cov(zeta, cov)
    # along the negative-curvature eigenvector there is no noise at all
    assert np.max(np.abs(zeta @ V[:, 0])) < 1e-12


def test_loss_hessian_has_no_noise_where_the_loss_is_negative():
    land = Landscape(name="neg", dim=2, loss=lambda t: _loss(t) - 10.0)
    ctx = nz.StepInputs(land, 0.1, land.grads, land.values, land.hessians)
    X = np.tile(np.array([1.0, 0.0]), (5, 1))
    out = nz.LossHessianNoise(2, 1, 0.1).step(X, np.ones((5, 2)), ctx)
    assert np.array_equal(out.theta, X - 0.1 * land.grads(X))


# ---------------------------------------------------------------------- stream semantics
@pytest.mark.parametrize("model", [nz.WhiteNoise(3, 1.0, 0.1), nz.LevyNoise(3, 1.0, 1.5, 0.1),
                                   nz.MinibatchNoise(5, 20, True)])
def test_buffered_draws_equal_step_by_step_draws(model):
    """K steps drawn at once give the numbers of K one-step draws, in order (numerics.streams)."""
    g1, g2 = particle_stream(11, 4, NOISE), particle_stream(11, 4, NOISE)
    block = model.fill([g1], 7)[0]
    single = np.stack([model.fill([g2], 1)[0, 0] for _ in range(7)])
    assert np.array_equal(block, single)
    g3 = particle_stream(11, 4, NOISE)
    if model.kind == "normal":                      # the kernel contract: standard_normal(d) per step
        assert np.array_equal(block[0], g3.standard_normal(3))
    else:
        assert np.array_equal(block[0], g3.random(model.shape))


# ---------------------------------------------------------------------- α-stable variates
def test_cms_at_alpha_2_is_the_gaussian_identity():
    u = np.random.default_rng(3).random((2, 1000))
    x = nz.stable_variates(u[0], u[1], 2.0)
    V, W = np.pi * (u[0] - 0.5), -np.log1p(-u[1])
    assert np.allclose(x, 2 * np.sqrt(W) * np.sin(V), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.8, 1.5, 1.9])
def test_cms_characteristic_function(alpha):
    """E cos(uX) = exp(−|u|^α) for the standard symmetric α-stable law."""
    u = np.random.default_rng(5).random((2, 200_000))
    x = nz.stable_variates(u[0], u[1], alpha)
    for t in (0.3, 1.0, 2.0):
        c = np.cos(t * x)
        assert abs(c.mean() - np.exp(-t**alpha)) <= Z_TOL * c.std() / np.sqrt(c.size)


def test_cms_at_alpha_1_is_cauchy():
    u = np.random.default_rng(6).random((2, 5000))
    assert stats.kstest(nz.stable_variates(u[0], u[1], 1.0), stats.cauchy.cdf).pvalue > 0.01


def test_levy_step_scale_is_eta_D_to_the_one_over_alpha():
    eta, D, alpha = 0.1, 0.5, 1.5
    model = nz.LevyNoise(2, D, alpha, eta)
    u = np.random.default_rng(8).random((1000, 2, 2))
    X = np.tile(THETA, (1000, 1))
    out = model.step(X, u, _ctx(eta))
    expected = X - eta * _grad(THETA) + (eta * D) ** (1 / alpha) * nz.stable_variates(u[:, 0], u[:, 1], alpha)
    assert np.allclose(out.theta, expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- minibatch indices and steps
def test_indices_with_replacement_are_uniform():
    m, B, n = 7, 3, 40000
    idx = nz.minibatch_indices(np.random.default_rng(9).random((n, B)), m, True)
    assert idx.shape == (B, n) and idx.min() == 0 and idx.max() == m - 1
    counts = np.bincount(idx.ravel(), minlength=m)
    p = 1 / m
    se = np.sqrt(idx.size * p * (1 - p))
    assert np.all(np.abs(counts - idx.size * p) <= Z_TOL * se)


def test_indices_without_replacement_are_uniform_subsets():
    m, B, n = 6, 3, 30000
    idx = nz.minibatch_indices(np.random.default_rng(10).random((n, B)), m, False)
    assert all(len(set(col)) == B for col in idx.T)
    # each of the C(6,3) = 20 subsets has probability 1/20 (Floyd's algorithm)
    keys = np.sort(idx, axis=0)
    codes = (keys * np.array([[36], [6], [1]])).sum(axis=0)
    counts = np.unique(codes, return_counts=True)[1]
    assert counts.size == 20
    se = np.sqrt(n * (1 / 20) * (19 / 20))
    assert np.all(np.abs(counts - n / 20) <= Z_TOL * se)


def test_minibatch_step_is_the_mean_per_sample_gradient():
    m, spread, seed = 8, 0.3, 2
    land = build_landscape(f"finite-sum:n_samples={m},spread={spread},seed={seed}")
    # the shifts as finite_sum documents them: N(0, spread²) from SeedSequence(seed), then centred
    c = np.random.default_rng(np.random.SeedSequence(seed)).standard_normal((m, 1)) * spread
    c -= c.mean(axis=0)
    from flatminima.numerics.samples import minibatch_gradients
    ctx = nz.StepInputs(land, 0.1, land.grads, land.values, land.hessians,
                        lambda X, idx: minibatch_gradients(land, X, idx))
    model = nz.MinibatchNoise(3, m, False)
    u = np.random.default_rng(12).random((4, 3))
    X = np.array([[-1.0], [-0.5], [0.3], [1.1]])
    out = model.step(X, u, ctx)
    idx = nz.minibatch_indices(u, m, False)
    for r in range(4):
        y = X[r, 0] - c[idx[:, r], 0]
        assert np.isclose(out.theta[r, 0], X[r, 0] - 0.1 * np.mean(y**3 - y), rtol=1e-13, atol=1e-15)
    assert out.along is None and out.grad is None


def test_build_noise_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown noise 'pink'; allowed: white"):
        nz.build_noise("pink", dim=1, eta=0.1)
