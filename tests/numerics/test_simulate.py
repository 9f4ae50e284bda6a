"""The escape simulator against closed forms, quadrature, exact identities and its own invariances.

Checks C1, C3, C6, C11, C15 and C21 of docs/theory.md §Checks; expected numbers come from closed forms
(docs/theory.md §Discretisation), the exact 1-D mean first-passage time by quadrature (docs/theory.md
§Exact references; reproduces table T2's 277.1) and exact identities, never from the simulator.
Statistical tolerances are Z_TOL standard errors computed in the test.
"""
import json
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from scipy import stats
from scipy.integrate import cumulative_trapezoid, trapezoid

from flatminima.numerics import Landscape, build_landscape, sharpened
from flatminima.numerics.simulate import EscapeResult, NoEscapeExpectedWarning
from flatminima.numerics.simulate import simulate_options as simulate
from flatminima.numerics.streams import NOISE, particle_stream
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors



# ---------------------------------------------------------------------- landscapes written as a user would
def _quartic(t):
    return anp.sum(0.25 * t**4 - 0.5 * t**2, axis=0)       # double-well defaults: H_a = 2, |H_b| = 1, ΔL = 1/4


QUARTIC = Landscape(name="quartic", dim=1, loss=_quartic, minima=(np.array([-1.0]), np.array([1.0])),
                    saddles=(np.array([0.0]),))


def _quadratic(t):
    return anp.sum(0.5 * t**2, axis=0)                     # h = 1; sharpened(·, k) gives h = k


QUADRATIC = Landscape(name="quadratic", dim=1, loss=_quadratic, minima=(np.zeros(1),))


def mfpt(U, D, x0, c, lo, n=400_001):
    """Exact 1-D MFPT from x0 to c, reflecting far left: (1/D)∫_{x0}^c e^{U/D}∫_{lo}^y e^{−U/D}.

    See docs/theory.md §Exact references.
    """
    y = np.linspace(lo, c, n)
    u = U(y) / D
    u = u - u.min()
    f = np.exp(u) * cumulative_trapezoid(np.exp(-u), y, initial=0.0)
    m = y >= x0
    return trapezoid(f[m], y[m]) / D


def mfpt_ball(D, kh, r, n=200_001):
    """Exact MFPT of the OU process dθ = −khθ dt + √(2D) dW from 0 to |θ| = r (symmetric: reflect at 0)."""
    y = np.linspace(0.0, r, n)
    u = 0.5 * kh * y**2 / D
    return trapezoid(np.exp(u) * cumulative_trapezoid(np.exp(-u), y, initial=0.0), y) / D


def U_quartic(y):
    return y**4 / 4 - y**2 / 2


def test_quadrature_reproduces_table_T2():
    assert abs(mfpt(U_quartic, 1 / 16, -1.0, 1.0, -3.0) - 277.1) < 0.1      # docs/theory.md table T2


# ---------------------------------------------------------------------- bad input and guards
BASE = dict(noise="white", criterion="dividing_surface", eta=0.05, n_runs=4, max_steps=10, seed=0,
            temperature=0.1, backend="numpy")


@pytest.mark.parametrize("change,message", [
    ({"n_runs": 0}, "n_runs must be an integer >= 1; got 0"),
    ({"max_steps": 0}, "max_steps must be an integer >= 1; got 0"),
    ({"temperature": 0.0}, "temperature must be a finite number > 0; got 0.0"),
    ({"temperature": -1.0}, "temperature must be a finite number > 0"),
    ({"eta": 0.0}, "eta must be a finite number > 0"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"noise": "pink"}, "unknown noise 'pink'; allowed: white, hessian_fixed"),
    ({"criterion": "vibes"}, "unknown criterion 'vibes'; allowed: dividing_surface, basin, loss_level, radius"),
    ({"backend": "gpu"}, "unknown backend 'gpu'; allowed: auto, numpy, numba"),
    ({"noise": "hessian_fixed", "temperature": None, "batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
    ({"noise": "hessian_fixed", "temperature": None}, "batch_size is required"),
    ({"batch_size": 4}, "batch_size applies only to SGD-type noise"),
    ({"noise": "levy", "alpha": 2.5}, r"alpha must be in \(0, 2\]"),
    ({"criterion": "radius"}, "radius is required"),
    ({"noise": "minibatch", "temperature": None, "batch_size": 2}, "minibatch noise needs a finite-sum landscape"),
])
def test_bad_input_is_a_one_line_value_error(change, message):
    kw = {**BASE, **change}
    with pytest.raises(ValueError, match=message) as info:
        simulate(QUARTIC, [-1.0], **kw)
    assert "\n" not in str(info.value)


def test_C15_unstable_eta_is_refused_with_the_allowed_range():
    # H_a = 2: eta·λ_max = 2.0 is refused, and the message names eta and 2/λ_max = 1
    with pytest.raises(ValueError, match=r"eta = 1 is unstable.*eta·λ_max\(H_a\) = 2 >= 2; eta must be < 2/λ_max = 1"):
        simulate(QUARTIC, [-1.0], **{**BASE, "eta": 1.0})
    # after sharpening by k = 4 (docs/theory.md §Discretisation: η < 2/(kλ_max)) the same eta = 0.3 is refused
    with pytest.raises(ValueError, match="eta·λ_max"):
        simulate(sharpened(QUARTIC, 4.0), [-0.5], **{**BASE, "eta": 0.3})


@pytest.mark.filterwarnings("ignore::numerics.simulate.NoEscapeExpectedWarning")
def test_C15_discretization_dominated_flag():
    ok = simulate(QUARTIC, [-1.0], **{**BASE, "eta": 0.1})              # η·H_a = 0.2 exactly
    bad = simulate(QUARTIC, [-1.0], **{**BASE, "eta": 0.15})            # 0.3
    assert not ok.discretization_dominated and np.isclose(ok.eta_lambda_max, 0.2)
    assert bad.discretization_dominated and any("discretization-dominated" in s for s in bad.notes)


def test_C21_styblinski_tang_with_unit_loss_unit_warns():
    st = build_landscape("styblinski-tang:dim=1")
    with pytest.warns(NoEscapeExpectedWarning, match="raise max_steps or loss_unit"):
        r = simulate(st, [-2.9], noise="hessian_fixed", criterion="dividing_surface", eta=0.005, n_runs=4,
                            max_steps=50, seed=0, batch_size=1, backend="numpy")
    # docs/theory.md §Styblinski-Tang
    assert np.isclose(r.barrier, 39.361778, atol=1e-5) and np.isclose(r.h_ae, 34.583, atol=1e-3)


# ---------------------------------------------------------------------- streams: chunking and prefixes
@pytest.mark.parametrize("noise,extra", [
    ("white", {"temperature": 0.15}),
    ("hessian_two_region", {"batch_size": 1, "loss_unit": 6.0}),
    ("hessian_psd", {"batch_size": 1, "loss_unit": 6.0, "delta": 0.1}),
    ("loss_hessian", {"batch_size": 1}),
    ("levy", {"temperature": 0.02, "alpha": 1.5}),
])
def test_same_seed_different_chunking_gives_identical_runs(noise, extra):
    land = Landscape(name="q+", dim=1, loss=lambda t: _quartic(t) + 2.0, minima=QUARTIC.minima,
                     saddles=QUARTIC.saddles)          # the offset feeds loss_hessian noise only
    kw = dict(noise=noise, criterion="dividing_surface", eta=0.05, n_runs=24, max_steps=200, seed=17,
              backend="numpy", **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoEscapeExpectedWarning)
        a = simulate(land, [-1.0], **kw)
        b = simulate(land, [-1.0], chunk_size=5, buffer_steps=7, **kw)
        c = simulate(land, [-1.0], n_runs=10, max_steps=200, seed=17, backend="numpy",
                            **{k: v for k, v in kw.items() if k not in ("n_runs", "max_steps", "seed", "backend")})
    # loss_hessian noise vanishes past the inflection point (H₊ = 0), so it rarely escapes in 1-D
    assert 0 < a.n_escaped < 24 or noise in ("levy", "loss_hessian")
    assert np.array_equal(a.steps, b.steps) and np.array_equal(a.exit_index, b.exit_index)
    assert np.array_equal(a.final_theta, b.final_theta)
    assert np.array_equal(a.steps[:10], c.steps)          # particle i depends only on (seed, i)


def test_a_different_seed_gives_different_runs():
    kw = dict(BASE, n_runs=8, max_steps=300, temperature=0.3)
    assert not np.array_equal(simulate(QUARTIC, [-1.0], **kw).steps,
                              simulate(QUARTIC, [-1.0], **{**kw, "seed": 1}).steps)


# ---------------------------------------------------------------------- C6: √k identities bit for bit
def _two_well_geometry():
    from flatminima.numerics.critical import find_minimum, refine_saddle
    land = build_landscape("two-well-2d")
    a, b = find_minimum(land, land.minima[0]), refine_saddle(land, land.saddles[0])
    w, V = np.linalg.eigh(land.hessian(b))
    return land, a, b, V[:, 0] * np.sign(V[:, 0] @ (b - a))


@pytest.mark.parametrize("noise,kw_k,kw_1", [
    ("white", {"temperature": 0.25}, {"temperature": 0.25}),
    ("hessian_fixed", {"batch_size": 1, "loss_unit": 8.0}, {"batch_size": 1, "loss_unit": 8.0}),
    # C = λ(|H|+δ)/B: the identity needs δ scaled with the Hessian, δ_k = k·δ
    ("hessian_psd", {"batch_size": 1, "loss_unit": 8.0, "delta": 0.4}, {"batch_size": 1, "loss_unit": 8.0, "delta": 0.1}),
])
def test_C6_sharpness_identity_bit_for_bit(noise, kw_k, kw_1):
    """Noise on L(√k θ) with step η is noise on L with step kη in φ = √k θ; k = 4, √k = 2 exact.

    See docs/theory.md §Sharpness scaling.
    """
    land, a, b, e = _two_well_geometry()
    eta, n_runs, max_steps = 0.005, 12, 300
    r_k = simulate(sharpened(land, 4.0), a / 2, noise=noise, criterion="dividing_surface", eta=eta,
                          n_runs=n_runs, max_steps=max_steps, seed=7, minimum=a / 2, saddle=b / 2, escape_direction=e,
                          backend="numpy", **kw_k)
    r_1 = simulate(land, a, noise=noise, criterion="dividing_surface", eta=4 * eta, n_runs=n_runs,
                          max_steps=max_steps, seed=7, minimum=a, saddle=b, escape_direction=e, backend="numpy", **kw_1)
    assert 0 < r_1.n_escaped
    assert np.array_equal(r_k.steps, r_1.steps) and np.array_equal(r_k.escaped, r_1.escaped)
    assert np.array_equal(2.0 * r_k.final_theta, r_1.final_theta)
    assert r_k.sharpness == 4.0 and r_1.sharpness == 1.0


# ---------------------------------------------------------------------- C1: stationary variance
def test_C1_stationary_variance_of_hessian_fixed_noise():
    """Var = ηλ/(B(2 − ηh)) for L = (h/2)θ² with per-step noise covariance η²λh/B (docs/theory.md §Discretisation, §C1).

    Independent particles run 60 steps from 0: the variance has relaxed by (1 − ηh)^120 = 2.5e-12, so
    the final states are i.i.d. stationary samples and the standard error needs no autocorrelation
    correction: SE(Var̂)/Var = √(2/n) = 0.45%, and 2% ≥ 4 SE.
    """
    h, eta, lam, B, n = 2.0, 0.1, 3.0, 2, 100_000
    land = sharpened(QUADRATIC, h)
    with pytest.warns(NoEscapeExpectedWarning):
        r = simulate(land, [0.0], noise="hessian_fixed", criterion="radius", radius=50.0, eta=eta, n_runs=n,
                            max_steps=60, seed=3, batch_size=B, loss_unit=lam, backend="numpy")
    assert r.n_censored == n
    x2 = r.final_theta[:, 0] ** 2
    var_hat, se = x2.mean(), x2.std() / np.sqrt(n)
    var = eta * lam / (B * (2 - eta * h))
    assert Z_TOL * se / var <= 0.02
    assert abs(var_hat - var) <= Z_TOL * se
    assert abs(var_hat / var - 1) <= 0.02


def test_stationary_variance_of_white_noise():
    """SGLD on (h/2)θ²: Var = D/(h(1 − ηh/2)) (docs/theory.md §Discretisation)."""
    h, eta, D, n = 2.0, 0.1, 0.3, 20_000
    with pytest.warns(NoEscapeExpectedWarning):
        r = simulate(sharpened(QUADRATIC, h), [0.0], noise="white", criterion="radius", radius=50.0, eta=eta,
                            n_runs=n, max_steps=100, seed=4, temperature=D, backend="numpy")
    x2 = r.final_theta[:, 0] ** 2
    assert abs(x2.mean() - D / (h * (1 - eta * h / 2))) <= Z_TOL * x2.std() / np.sqrt(n)


# ---------------------------------------------------------------------- the bridge correction is unbiased
@pytest.mark.filterwarnings("ignore:Output seems independent of input")     # autograd: H = 0 on a slope
def test_bridge_gives_exact_first_passage_law_of_drifted_brownian_motion():
    """L = −μθ: the Euler path is exact, so with the bridge the exit-step law is exact at every grid time.

    P(T ≤ t) for Brownian motion with drift μ and variance σ² = 2D per unit time to hit c (inverse
    Gaussian): Φ((μt − c)/(σ√t)) + e^{2μc/σ²}·Φ((−μt − c)/(σ√t)). Without the bridge the discretely
    monitored exit is late, so the same check fails there (the test can fail).
    """
    mu, D, c, eta, n = 1.0, 0.5, 1.0, 0.2, 4000
    land = Landscape(name="slope", dim=1, loss=lambda t: anp.sum(-mu * t, axis=0))
    kw = dict(noise="white", criterion="dividing_surface", eta=eta, n_runs=n, max_steps=200, seed=9, temperature=D,
              minimum=[0.0], saddle=[c], escape_direction=[1.0], backend="numpy")
    sigma = np.sqrt(2 * D)

    def cdf(t):
        return (stats.norm.cdf((mu * t - c) / (sigma * np.sqrt(t)))
                + np.exp(2 * mu * c / sigma**2) * stats.norm.cdf((-mu * t - c) / (sigma * np.sqrt(t))))

    def worst(r):
        z = []
        for k in (2, 4, 6, 10, 15):
            p = cdf(k * eta)
            z.append((np.mean(r.steps[r.escaped] <= k) * 1.0 * r.n_escaped / n - p) / np.sqrt(p * (1 - p) / n))
        return np.max(np.abs(z))

    assert worst(simulate(land, [0.0], **kw)) <= Z_TOL
    assert worst(simulate(land, [0.0], bridge=False, **kw)) > Z_TOL


# ---------------------------------------------------------------------- C3: white-noise Kramers problem
def _c3(n_runs, D, eta, seed, backend="numpy", landscape=QUARTIC):
    tau = mfpt(U_quartic, D, -1.0, 1.0, -3.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoEscapeExpectedWarning)          # a feasible run must not warn
        r = simulate(landscape, [-1.0], noise="white", criterion="dividing_surface", temperature=D, eta=eta,
                            n_runs=n_runs, max_steps=int(12 * tau / eta), seed=seed, saddle=[0.0],
                            escape_direction=[1.0], plane_offset=1.0, backend=backend)   # exit at θ ≥ 1 (T2)
    return r, tau


def _check_c3(r, tau):
    assert r.n_diverged == 0 and r.n_censored <= 1
    T = r.escape_time[r.escaped]
    se = T.std() / np.sqrt(T.size)
    assert abs(T.mean() - tau) <= Z_TOL * se
    # exponential law after relaxation (t0 = 10 ≫ 1/H_a = 0.5): KS on the excess times
    t0 = 10.0
    excess = T[T > t0] - t0
    assert stats.kstest(excess, "expon", args=(0, excess.mean())).pvalue > 0.01
    return se


def test_C3_small_white_noise_mean_exit_time_matches_quadrature():
    """ΔL/D = 2, η·H_a = 0.1 (docs/theory.md §Discretisation), 1500 runs: SE ≈ 2.5%, tolerance 4 SE."""
    r, tau = _c3(1500, 1 / 8, 0.05, seed=3)
    _check_c3(r, tau)


@pytest.mark.slow
def test_C3_white_noise_T2():
    """docs/theory.md table T2 / §C3: ΔL/D = 4, exact MFPT 277.1; 14000 runs so that 4 SE ≤ 3.5%, η·H_a = 0.04.

    Runs the compiled kernel when available (it follows the same stream contract and reproduces
    this numpy path bit for bit, see test_numba_backend_matches_numpy), else the numpy path.
    """
    r, tau = _c3(14000, 1 / 16, 0.02, seed=4, backend="auto", landscape=build_landscape("double-well"))
    assert abs(tau - 277.1) < 0.1
    se = _check_c3(r, tau)
    assert Z_TOL * se / tau <= 0.035
    assert abs(r.escape_time.mean() / tau - 1) <= 0.035


# ---------------------------------------------------------------------- basin criterion
def test_basin_criterion_is_the_hitting_time_of_the_ball_around_the_other_minimum():
    """The basin event is the first check inside the ball (radius ¼ of the distance to the saddle) around +1.

    Expected: the exact MFPT from −1 to 0.75 (docs/theory.md §Exact references), plus half a check interval.
    """
    D, eta = 1 / 8, 0.05
    r = simulate(QUARTIC, [-1.0], noise="white", criterion="basin", temperature=D, eta=eta, n_runs=600,
                        max_steps=int(12 * 41 / eta), seed=5, backend="numpy")
    assert r.criterion_params["capture_radius"] == 0.25 and r.criterion_params["check_every"] == 10
    assert r.n_escaped == 600 - r.n_censored and r.n_censored <= 1
    assert set(r.exit_index[r.escaped]) == {1} and np.allclose(r.minima, [[-1.0], [1.0]])
    assert np.all((r.first_crossing[r.escaped] > 0) & (r.first_crossing[r.escaped] <= r.steps[r.escaped]))
    assert np.all(r.final_theta[r.escaped, 0] > 0.75)
    T = r.escape_time[r.escaped]
    expected = mfpt(U_quartic, D, -1.0, 0.75, -3.5) + 0.5 * 10 * eta
    assert abs(T.mean() - expected) <= Z_TOL * T.std() / np.sqrt(T.size)


def test_loss_level_and_radius_exits_satisfy_their_criterion():
    kw = dict(noise="white", eta=0.05, n_runs=50, max_steps=3000, seed=2, temperature=0.1, backend="numpy")
    r = simulate(QUARTIC, [-1.0], criterion="loss_level", fraction=0.5, **kw)
    L = QUARTIC.values(r.final_theta[r.escaped])
    assert r.n_escaped > 40 and np.all(L + 0.25 >= 0.5 * 0.25)
    r = simulate(QUARTIC, [-1.0], criterion="radius", radius=0.6, bridge=False, **kw)
    assert r.n_escaped > 40 and np.all(np.abs(r.final_theta[r.escaped, 0] + 1.0) >= 0.6)


@pytest.mark.filterwarnings("ignore::numerics.simulate.NoEscapeExpectedWarning")
def test_default_two_region_split_is_the_inflection_point():
    r = simulate(QUARTIC, [-1.0], noise="hessian_two_region", criterion="dividing_surface", eta=0.05,
                        n_runs=2, max_steps=5, seed=0, batch_size=1, backend="numpy")
    assert np.isclose(r.noise_params["split"][0], -1 / np.sqrt(3), atol=1e-10)      # L'' = 3θ² − 1 = 0
    assert np.allclose(r.saddles, [[0.0]]) and np.allclose(r.escape_directions, [[1.0]])
    assert np.isclose(r.h_ae, 2.0) and np.isclose(r.h_be, 1.0) and np.isclose(r.barrier, 0.25)


# ---------------------------------------------------------------------- C11: criterion reversal
def test_C11_radius_exit_reverses_the_sharpness_dependence():
    """Quadratic, exit at |θ| = 1: SGD-type noise τ ∝ 1/k; white noise log τ grows with k.

    See docs/theory.md §Criterion and sharpness.

    References: the OU MFPT by quadrature with the discrete-time temperature D/(1 − ηkh/2), which is
    exact for the stationary law of the discrete chain on a quadratic (docs/theory.md §Discretisation).
    """
    eta, lam, D, n = 0.02, 25.0, 0.25, 700
    logs = {}
    for noise, k, kw in (("hessian_fixed", 1, {"batch_size": 1, "loss_unit": lam}),
                         ("hessian_fixed", 4, {"batch_size": 1, "loss_unit": lam}),
                         ("white", 1, {"temperature": D}), ("white", 2, {"temperature": D})):
        r = simulate(sharpened(QUADRATIC, k), [0.0], noise=noise, criterion="radius", radius=1.0, eta=eta,
                            n_runs=n, max_steps=12_000, seed=5 + k, backend="numpy", **kw)
        assert r.n_escaped == n
        T = r.escape_time
        # D = ηλH/(2B), docs/theory.md §hessian_fixed
        d_sde = eta * lam * k / 2 if noise == "hessian_fixed" else D
        ref = mfpt_ball(d_sde / (1 - eta * k / 2), k, 1.0)
        assert abs(T.mean() - ref) <= Z_TOL * T.std() / np.sqrt(n), (noise, k, T.mean(), ref)
        logs[noise, k] = (np.log(T.mean()), T.std() / T.mean() / np.sqrt(n))
    sgd = logs["hessian_fixed", 4][0] + np.log(4) - logs["hessian_fixed", 1][0]
    white = logs["white", 2][0] - logs["white", 1][0]
    se = np.sqrt(logs["hessian_fixed", 4][1] ** 2 + logs["hessian_fixed", 1][1] ** 2)
    assert abs(sgd) <= 0.06 + Z_TOL * se           # τ·k independent of k up to the ηkh/2 temperature shift
    assert white > 0.9                             # quadrature: log(τ_2/τ_1) = 1.06 for costs 2 → 4


# ---------------------------------------------------------------------- divergence
def test_divergent_particles_are_reported_diverged_not_escaped():
    """L = θ²/2 + θ⁴: η·H_a = 1.5 is allowed (flagged), but |θ| > 1/6 is unstable (η·L'' > 2) and blows up."""
    land = Landscape(name="steep", dim=1, loss=lambda t: anp.sum(0.5 * t**2 + t**4, axis=0), minima=(np.zeros(1),))
    kw = dict(noise="white", eta=1.5, n_runs=50, max_steps=200, seed=1, temperature=0.05, backend="numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoEscapeExpectedWarning)
        for crit, extra in (("radius", {"radius": 2.0}), ("basin", {"capture_radius": 0.1}),
                            ("radius", {"radius": 2.0, "bridge": False})):
            r = simulate(land, [0.0], criterion=crit, **kw, **extra)
            assert r.discretization_dominated
            assert r.n_diverged == 50 and r.n_escaped == 0, (crit, r.n_diverged, r.n_escaped)
            assert np.all(np.isfinite(r.final_theta))


# ---------------------------------------------------------------------- minibatch SGD, replicated
def _manual_sgd(land, theta0, eta, B, seed, i, n_steps):
    """One replica by hand: B uniforms per step from the particle's noise stream, ⌊u·m⌋, autograd gradient."""
    gen = particle_stream(seed, i, NOISE)
    m = land.n_samples
    th = np.array(theta0, float)
    for _ in range(n_steps):
        idx = np.minimum((gen.random(B) * m).astype(int), m - 1)
        g = autograd.grad(lambda t: anp.mean(land.sample_loss(t, idx)))(th)
        th = th - eta * g
    return th


@pytest.mark.parametrize("spec", ["finite-sum:base=styblinski-tang;dim=2,n_samples=16,spread=0.3,seed=1",
                                  "mlp:data=iris,hidden=3,n_samples=30"])
def test_replicated_minibatch_sgd_equals_one_replica_at_a_time(spec):
    land = build_landscape(spec)
    if land.minima:
        start = land.minima[0]
    else:
        from flatminima.numerics.mlp import initial_theta
        start = initial_theta(land, seed=0)
    eta, B, n_runs, n_steps = 0.01, 4, 6, 25
    kw = dict(noise="minibatch", criterion="radius", radius=1e3, eta=eta, n_runs=n_runs, max_steps=n_steps, seed=13,
              batch_size=B, minimum=start, backend="numpy")
    r = simulate(land, start, **kw)
    r2 = simulate(land, start, chunk_size=4, buffer_steps=3, **kw)
    assert r.n_censored == n_runs and np.array_equal(r.final_theta, r2.final_theta)
    for i in (0, 5):
        assert np.allclose(r.final_theta[i], _manual_sgd(land, start, eta, B, 13, i, n_steps), rtol=1e-10, atol=1e-12)
    assert not np.allclose(r.final_theta[0], r.final_theta[1])


def test_minibatch_without_replacement_uses_distinct_samples():
    land = build_landscape("finite-sum:n_samples=4,spread=0.5,seed=2")
    kw = dict(noise="minibatch", criterion="radius", radius=10.0, eta=0.1, n_runs=3, max_steps=1, seed=1,
              batch_size=4, backend="numpy")
    # B = m without replacement: every step uses all samples, i.e. the full gradient
    r = simulate(land, [-0.8], replacement=False, **kw)
    assert np.allclose(r.final_theta[:, 0], -0.8 - 0.1 * land.grad([-0.8])[0], rtol=1e-13)
    with pytest.raises(ValueError, match="batch_size must be <= n_samples = 4 without replacement"):
        simulate(land, [-0.8], replacement=False, **{**kw, "batch_size": 5})


# ---------------------------------------------------------------------- records and backends
def test_result_records_round_trip():
    r = simulate(QUARTIC, [-1.0], **{**BASE, "n_runs": 5, "max_steps": 3000, "temperature": 0.1})
    d = json.loads(json.dumps(r.to_dict()))
    back = EscapeResult.from_dict(d)
    assert np.array_equal(back.steps, r.steps) and np.array_equal(back.final_theta, r.final_theta)
    rec = r.to_records()
    assert len(rec) == 5 and rec[0]["noise"] == "white" and rec[0]["criterion"] == "dividing_surface"
    assert rec[0]["escape_time"] == pytest.approx(rec[0]["step"] * 0.05)
    assert {"temperature", "eta", "seed", "sharpness", "loss_unit", "escaped", "diverged", "censored"} <= set(rec[0])
    assert np.allclose(r.escape_time, r.steps * r.eta)


@pytest.mark.filterwarnings("ignore::numerics.simulate.NoEscapeExpectedWarning")
def test_result_rejects_inconsistent_arrays():
    r = simulate(QUARTIC, [-1.0], **BASE)
    d = r.to_dict()
    d["escaped"] = [False] * 4
    d["steps"] = [3, 3, 3, 3]
    with pytest.raises(ValueError, match="censored at max_steps"):
        EscapeResult.from_dict(d)


def test_numba_backend_matches_numpy_or_is_refused():
    land = build_landscape("double-well")
    kw = dict(noise="white", criterion="dividing_surface", eta=0.05, n_runs=30, max_steps=1500, seed=3,
              temperature=1 / 8)
    try:
        from flatminima.numerics.kernels import fixed_noise_escape  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="backend='numba' cannot run"):
            simulate(land, [-1.0], backend="numba", **kw)
        return
    a = simulate(land, [-1.0], backend="numba", **kw)
    b = simulate(land, [-1.0], backend="numpy", **kw)
    assert a.backend == "numba" and b.backend == "numpy"
    assert np.array_equal(a.steps, b.steps) and np.array_equal(a.escaped, b.escaped)
    with pytest.raises(ValueError, match="backend='numba' cannot run"):
        simulate(QUARTIC, [-1.0], backend="numba", **kw)            # a user landscape has no kernel


@pytest.mark.parametrize("land_spec, noise, extra", [
    ("styblinski-tang:dim=1", "white", {"temperature": 2.0}),
    ("styblinski-tang:dim=2", "white", {"temperature": 2.0}),
    ("styblinski-tang:dim=1", "hessian_psd", {"batch_size": 1, "loss_unit": 200.0, "delta": 1.0}),
])
def test_compiled_paths_count_overshooting_exits_as_divergence_like_numpy(land_spec, noise, extra):
    """η = 0.05 on Styblinski–Tang: stable at the minimum (ηH_a = 1.73) but η·L'' > 2 just beyond it
    (L'' = 6θ² − 16 > 40 for |θ| > 2.94), so many exits are overshoots of an unstable step. The compiled
    kernels must flag the same particles as diverged, at the same steps, as the numpy reference path."""
    land = build_landscape(land_spec)
    kw = dict(noise=noise, criterion="radius", radius=1.0, eta=0.05, n_runs=200, max_steps=2000, seed=3,
              bridge=False, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = simulate(land, land.minima[0], backend="numpy", **kw)
        fast = simulate(land, land.minima[0], backend="numba", **kw)
    assert fast.backend == "numba"
    assert 0 < ref.n_diverged < kw["n_runs"] and ref.n_escaped > 0        # both outcomes occur
    np.testing.assert_array_equal(fast.diverged, ref.diverged)
    np.testing.assert_array_equal(fast.escaped, ref.escaped)
    np.testing.assert_array_equal(fast.steps, ref.steps)


def test_two_planes_with_the_bridge_give_the_same_exits_on_both_backends():
    """Styblinski–Tang 2-D out of its global minimum: two saddles, two planes, the bridge on. The numpy
    path and the compiled kernel apply the same rule (the nearest plane before and after the step), so the
    backends agree particle by particle; the runs leave through both planes."""
    land = build_landscape("styblinski-tang:dim=2")
    a = np.array(land.minima[0])
    kw = dict(noise="white", temperature=8.0, criterion="dividing_surface", eta=0.005, n_runs=200,
              max_steps=4000, seed=5, saddle=[a + [5.65, 0.0], a + [0.0, 5.65]],
              escape_direction=[[1.0, 0.0], [0.0, 1.0]])
    fast = simulate(land, a, backend="numba", **kw)
    ref = simulate(land, a, backend="numpy", **kw)
    assert fast.backend == "numba" and ref.backend == "numpy"
    assert np.array_equal(fast.steps, ref.steps) and np.array_equal(fast.escaped, ref.escaped)
    assert np.array_equal(fast.exit_index, ref.exit_index)
    assert fast.escaped.sum() >= 50 and set(fast.exit_index[fast.escaped].tolist()) == {0, 1}
