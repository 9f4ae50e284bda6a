"""Tests of the ``noise`` suite (docs/theory.md §C17, §C18): statistics on cases with known answers, one tiny run.

Oracles: scipy's own Anderson–Darling table; closed-form tail indices (Gaussian α = 2, Cauchy α = 1,
``scipy.stats.levy_stable`` α = 1.5); the exact covariance of minibatch means with and without replacement
(docs/theory.md §SGD noise); and two finite sums where C is known in closed form at the minimum —
least-squares linear regression with noise independent of x (B·C = σ²H, diagonal slope 1) and shifted
quadratics (B·C = H Σ_c H, diagonal slope 2). Statistical tolerances are Z_TOL standard errors with fixed seeds.
"""
from __future__ import annotations

import math
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import stats

from flatminima.numerics.landscape import Landscape
from flatminima.numerics.samples import gradient_noise_covariance
from flatminima.validation.suite import SuiteResult
from flatminima.validation.suites import noise
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors

FIGURE_KINDS = {"fit", "survival", "scatter", "histogram", "spectrum", "landscape2d"}   # validation.suite.Figure


# ------------------------------------------------------------------------------------------ Anderson–Darling
def test_anderson_darling_critical_value_is_scipys_table():
    x = np.random.default_rng(11).standard_normal(2000)
    with warnings.catch_warnings():                       # the legacy critical values are deprecated in scipy 1.17
        warnings.simplefilter("ignore", FutureWarning)
        legacy = stats.anderson(x, dist="norm")
    ad = noise.anderson_darling_normal(x)
    assert ad.statistic == pytest.approx(float(legacy.statistic), rel=1e-12)
    assert list(legacy.significance_level)[-1] == 1.0
    assert ad.critical_value == pytest.approx(float(legacy.critical_values[-1]), abs=5e-4)   # scipy rounds to 3 dp


def test_anderson_darling_accepts_gaussian_and_rejects_student_t():
    rng = np.random.default_rng(12)
    assert not noise.anderson_darling_normal(rng.standard_normal(2000)).rejected
    assert noise.anderson_darling_normal(rng.standard_t(3, 2000)).rejected


def test_anderson_darling_refuses_bad_samples():
    with pytest.raises(ValueError, match="at least 8 finite"):
        noise.anderson_darling_normal([1.0, 2.0])
    with pytest.raises(ValueError, match="not constant"):
        noise.anderson_darling_normal(np.ones(20))


# ------------------------------------------------------------------------------------------ tail index
@pytest.mark.parametrize("alpha, sampler", [
    (2.0, lambda rng, n: rng.standard_normal(n)),
    (1.0, lambda rng, n: rng.standard_cauchy(n)),
    (1.5, lambda rng, n: stats.levy_stable.rvs(1.5, 0.0, size=n, random_state=rng)),
])
def test_mmo_tail_index_recovers_known_alpha(alpha, sampler):
    rng = np.random.default_rng(13)
    ti = noise.tail_index_across_draws(sampler(rng, 4000), rng=rng, n_boot=200)
    assert ti.alpha_stderr > 0
    assert abs(ti.alpha - alpha) < Z_TOL * ti.alpha_stderr, (ti.alpha, ti.alpha_stderr)


def test_pooled_tail_index_sees_scale_mixture_as_heavy_tail():
    # Gaussian coordinates with scales over two decades: pooled raw values are a heavy-tailed scale mixture
    # (docs/theory.md §Levy escape, Xie's rebuttal); standardising each coordinate gives back α ≈ 2.
    rng = np.random.default_rng(14)
    scales = np.logspace(-1, 1, 400)
    xi = rng.standard_normal((500, 400)) * scales
    raw = noise.tail_index_pooled(xi, rng=rng)
    std = noise.tail_index_pooled(xi, rng=rng, standardise=True)
    assert raw.alpha < 2.0 - Z_TOL * raw.alpha_stderr - 0.5
    assert abs(std.alpha - 2.0) < 0.1          # bias of MMO with K = 400 values, far below the raw shift


def test_mmo_refuses_zeros():
    with pytest.raises(ValueError, match="non-zero"):
        noise.mmo_inverse_alpha(np.r_[np.ones(10), 0.0], rng=np.random.default_rng(0))


# ------------------------------------------------------------------------------------------ minibatches
@pytest.mark.parametrize("replacement", [False, True])
def test_minibatch_noise_variance_is_exact_covariance(replacement):
    rng = np.random.default_rng(15)
    m, B, n = 200, 50, 20000
    z = rng.exponential(size=(m, 1)) ** 2                 # skewed per-sample values
    z -= z.mean()
    xi = noise.minibatch_noise(z, B, n, rng=rng, replacement=replacement)[:, 0]
    exact = float(np.mean(z**2)) / B * (1.0 if replacement else (m - B) / (m - 1))   # docs/theory.md §SGD noise
    se = float(np.std(xi**2, ddof=1) / math.sqrt(n))
    assert abs(np.mean(xi**2) - exact) < Z_TOL * se


def test_minibatch_indices_without_replacement_are_subsets():
    idx = noise.minibatch_indices(30, 30, 5, rng=np.random.default_rng(0))
    assert all(sorted(row) == list(range(30)) for row in idx)
    with pytest.raises(ValueError, match="batch_size"):
        noise.minibatch_indices(30, 31, 5, rng=np.random.default_rng(0))


# ------------------------------------------------------------------------------------------ C against H
def _linear_regression(m=3000, d=20, sigma=0.3, seed=16):
    """ℓ_j = ½(x_jᵀθ − y_j)², x_ja = s_a z_ja with s_a over two decades, y = xᵀθ₀ + σε (ε ⟂ x)."""
    rng = np.random.default_rng(seed)
    s = np.logspace(-1, 1, d)
    X = rng.standard_normal((m, d)) * s
    y = X @ rng.standard_normal(d) + sigma * rng.standard_normal(m)

    def loss(theta):
        r = anp.dot(X, theta) - (y if theta.ndim == 1 else y[:, None])
        return 0.5 * anp.mean(r**2, axis=0)

    def minibatch_loss(theta, idx):
        pred = anp.sum(X[idx] * anp.transpose(theta)[None, :, :], axis=2)         # (B, R)
        return 0.5 * anp.mean((pred - y[idx]) ** 2, axis=0)

    land = Landscape(name="linear-regression", dim=d, loss=loss, n_samples=m, minibatch_loss=minibatch_loss)
    theta = np.linalg.lstsq(X, y, rcond=None)[0]
    return land, theta, X, y


def _shifted_quadratics(m=3000, d=20, spread=0.3, seed=17):
    """ℓ_j = ½ Σ_a h_a (θ_a − c_ja)², centred shifts: θ* = 0, B·C_aa = h_a² var(c_a), H_aa = h_a."""
    rng = np.random.default_rng(seed)
    h = np.logspace(-1, 1, d)
    c = spread * rng.standard_normal((m, d))
    c -= c.mean(axis=0)

    def loss(theta):
        t = theta[None, :] if theta.ndim == 1 else anp.transpose(theta)[:, None, :]
        return anp.mean(0.5 * anp.sum(h * (t - c) ** 2, axis=-1), axis=-1)

    def minibatch_loss(theta, idx):
        diff = anp.transpose(theta)[None, :, :] - c[idx]                            # (B, R, d)
        return anp.mean(0.5 * anp.sum(h * diff**2, axis=2), axis=0)

    return Landscape(name="shifted-quadratics", dim=d, loss=loss, n_samples=m, minibatch_loss=minibatch_loss), np.zeros(d)


def test_linear_regression_noise_is_sigma2_hessian_over_b():
    land, theta, X, y = _linear_regression()
    comp = noise.compare_covariance_hessian(land, theta, batch_size=16, n_top=3)
    # exact algebra first: H = XᵀX/m and B·C = (1/m) Σ r_j² x_j x_jᵀ at the least-squares θ (∇L = 0)
    r = X @ theta - y
    np.testing.assert_allclose(comp.hessian, X.T @ X / len(y), rtol=1e-10)
    np.testing.assert_allclose(comp.scaled_cov, (X * r[:, None] ** 2).T @ X / len(y), rtol=1e-8, atol=1e-12)
    # slope 1 within its CI (Xie's form holds exactly in expectation here)
    d = comp.diag_h
    assert d.used.all()
    assert d.ci[0] <= 1.0 <= d.ci[1], d.ci
    assert d.supports_xie and d.supports_zyt
    # Rayleigh ratio = σ̂²-weighted: within Z_TOL s.e. of the residual variance (s.e. from per-sample terms)
    sigma2 = float(np.mean(r**2))
    for row, v in zip(comp.rayleigh, comp.eigenvectors.T):
        a2 = (X @ v) ** 2
        se = float(np.std(r**2 * a2 - sigma2 * a2, ddof=1) / math.sqrt(len(y)) / np.mean(a2))
        assert abs(row["ratio"] - sigma2) < Z_TOL * se


def test_shifted_quadratics_give_slope_two_and_reject_xie():
    land, theta = _shifted_quadratics()
    comp = noise.compare_covariance_hessian(land, theta, batch_size=8)
    d = comp.diag_h
    assert d.ci[0] <= 2.0 <= d.ci[1], d.ci
    assert not d.supports_xie                       # the fit can tell 1 from 2
    assert d.supports_zyt


def test_diagonal_scaling_floor_and_errors():
    h = np.r_[np.logspace(-2, 0, 10), 1e-12, 0.5]
    c = np.r_[np.logspace(-2, 0, 10) * 0.1, 1e-13, 0.0]
    d = noise.diagonal_scaling(c, h)
    assert d.used.sum() == 10 and d.fit.slope == pytest.approx(1.0, abs=1e-10)
    assert d.ratio_median == pytest.approx(0.1, rel=1e-10)
    with pytest.raises(ValueError, match="a slope needs 3"):
        noise.diagonal_scaling(np.zeros(5), np.ones(5))


# ------------------------------------------------------------------------------------------ the suite, tiny
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("noise-tiny")
    return out, noise.run(out, size="tiny", progress=False)


def _finite_numbers(rows):
    for row in rows:
        for v in row:
            if isinstance(v, (float, np.floating)):
                yield float(v)


def test_tiny_suite_structure(tiny):
    out, res = tiny
    cfg = noise.CONFIGS["tiny"]
    assert res.suite == "noise" and res.size == "tiny" and res.criteria
    assert {v.check for v in res.verdicts} == {"C17", "C18"}
    assert len(res.verdicts) == 5
    for v in res.verdicts:
        assert isinstance(v.passed, bool) and v.measured and v.predicted and v.tolerance
        assert v.value is not None and math.isfinite(v.value)
    names = {t.name for t in res.tables}
    assert {"minimum", "gaussianity", "tail_index", "diagonal_fit", "rayleigh", "batch_invariance"} <= names
    for t in res.tables:
        assert t.caption and all(len(row) == len(t.columns) for row in t.rows)
        p_col = t.columns.index("p (interpolated)") if "p (interpolated)" in t.columns else None
        for row in t.rows:
            for j, v in enumerate(row):
                if isinstance(v, (float, np.floating)) and j != p_col:
                    assert math.isfinite(v), (t.name, t.columns[j], v)
    gauss = next(t for t in res.tables if t.name == "gaussianity")
    assert len(gauss.rows) == len(cfg.gauss_batch_sizes) * (cfg.n_top + cfg.n_random + 2)
    assert {f.kind for f in res.figures} <= FIGURE_KINDS
    assert {f.kind for f in res.figures} >= {"scatter", "histogram", "spectrum"}
    prov = res.provenance
    assert prov["versions"]["numpy"] == np.__version__ and prov["model_spec"].startswith("mlp:data=digits")
    assert prov["wall_time_seconds"] > 0 and prov["suite_seed"] == noise.SEED
    loaded = SuiteResult.load(out)
    assert [v.claim for v in loaded.verdicts] == [v.claim for v in res.verdicts]
    assert loaded.to_dict() == res.to_dict()


def test_tiny_suite_minimum_and_figures_are_consistent(tiny):
    _, res = tiny
    cfg = noise.CONFIGS["tiny"]
    minimum = {row[0]: row[1] for row in next(t for t in res.tables if t.name == "minimum").rows}
    P = minimum["parameters P"]
    assert minimum["|∇L(θ*)|"] < 1e-8
    assert minimum["λ_min(H)"] > 0
    fit_row = next(t for t in res.tables if t.name == "diagonal_fit").rows[0]
    assert fit_row[0] == "H_ii - wd"
    scatter = next(f for f in res.figures if f.kind == "scatter")
    x, y = np.asarray(scatter.data["x"]), np.asarray(scatter.data["y"])
    assert x.shape == y.shape == (fit_row[1],) and np.all(x > 0) and np.all(y > 0)
    # the figure's line (log10 axes) is the table's fit (natural logs): same slope, intercept / ln 10
    slope = stats.linregress(np.log(x), np.log(y)).slope
    assert scatter.data["fit"]["slope"] == pytest.approx(slope, rel=1e-10) == pytest.approx(fit_row[3], rel=1e-10)
    for f in (f for f in res.figures if f.kind == "histogram"):
        values = np.asarray(f.data["values"])
        sd = f.data["gaussian"]["std"]
        assert values.size == cfg.n_draws and sd > 0
        # the overlay is the exact √(vᵀC_Bv); the sample sd agrees within Z_TOL s.e. (≈ sd·√((κ+2)/(4n)))
        kurt = stats.kurtosis(values)
        assert abs(values.std() - sd) < Z_TOL * sd * math.sqrt((kurt + 2) / (4 * values.size))
    spectrum = next(f for f in res.figures if f.kind == "spectrum")
    assert all(len(v) == P for v in spectrum.data["series"].values())
    for eigs in spectrum.data["series"].values():       # a symlog axis needs no ±1e-18 round-off values
        e = np.abs(np.asarray(eigs, float))
        assert np.all((e == 0) | (e > noise.SPECTRUM_ROUNDOFF * e.max()))


def test_tiny_suite_batch_correction_is_exact(tiny):
    _, res = tiny
    rows = next(t for t in res.tables if t.name == "batch_invariance").rows
    assert [r[0] for r in rows] == list(noise.CONFIGS["tiny"].cov_batch_sizes)
    for r in rows:
        # (m−1)/(m−B)·B·C_without = B·C_with, docs/theory.md §SGD noise
        assert r[3] == pytest.approx(r[1], rel=1e-9)
        assert abs(r[6]) < Z_TOL and abs(r[10]) < Z_TOL
    assert rows[-1][2] < rows[0][2]                        # uncorrected B·C_without shrinks with B


def test_tiny_suite_resume_is_deterministic(tiny):
    out, res = tiny
    again = noise.run(out, size="tiny", resume=True, progress=False)
    assert again.provenance["minima_cached"] == [True]
    assert [v.value for v in again.verdicts] == [v.value for v in res.verdicts]
    assert again.to_dict()["tables"] == res.to_dict()["tables"]


def test_unknown_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown size"):
        noise.run(tmp_path, size="huge")
