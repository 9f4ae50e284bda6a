"""The 2-D generator solver for a constant anisotropic D, solved in the eigenbasis of D.

Expected numbers come from independent computations: the 1-D log-space quadrature
(``numerics.reference.mfpt_1d``) for a rotated separable problem, the unchanged θ-grid stencil for
an isotropic D, and a brute-force Euler–Maruyama simulation for a non-reversible case. The
unequal-arm fitted rates are checked against the conditions that define them.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from flatminima.numerics.builtins import two_well_2d
from flatminima.numerics.reference import generator_2d, generator_2d_eigen, mfpt_1d, mfpt_2d
from flatminima.numerics.reference.generator2d import _fitted_rates, _fitted_rates_unequal


def _rotation(degrees):
    a = math.radians(degrees)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _two_well_grad(k, c, t):
    """∇L of L = (x² − 1)² + k(y − c(x² − 1))² + t·x (numerics.builtins.two_well_2d)."""
    def grad(th):
        x, y = th[:, 0], th[:, 1]
        r = y - c * (x**2 - 1)
        return np.column_stack([4 * x * (x**2 - 1) - 4 * k * c * x * r + t, 2 * k * r])
    return grad


def _two_well_hessian(k, c, t, p):
    """Hessian of the same L at p, differentiated by hand."""
    x, y = p
    r = y - c * (x**2 - 1)
    return np.array([[12 * x**2 - 4 + 8 * k * c**2 * x**2 - 4 * k * c * r, -4 * k * c * x],
                     [-4 * k * c * x, 2 * k]])


def test_hand_gradient_and_hessian_are_the_builtin_landscape():
    k, c, t = 2.0, 1.0, 0.2
    land = two_well_2d(stiffness=k, curvature=c, tilt=t)
    pts = np.random.default_rng(0).normal(size=(4, 2))
    np.testing.assert_allclose(_two_well_grad(k, c, t)(pts), land.grads(pts), rtol=1e-12, atol=1e-12)
    # central differences of the builtin gradient, step 1e-5 (error ~1e-10·|∂³L|)
    for p in pts:
        fd = np.column_stack([(land.grads((p + e)[None])[0] - land.grads((p - e)[None])[0]) / 2e-5
                              for e in 1e-5 * np.eye(2)])
        np.testing.assert_allclose(_two_well_hessian(k, c, t, p), fd, rtol=1e-7, atol=1e-7)


# ---------------------------------------------------------------- rotation invariance

def test_rotated_separable_double_well_matches_1d_quadrature():
    # L(u) = (u1² − 1)² + κ u2²/2 with D = diag(d1, d2) in u: u1 is an autonomous 1-D diffusion, so
    # the MFPT from u = (−1, 0) to {u1 ≥ 0} is the 1-D quadrature of (u² − 1)² at D = d1. Rotating
    # θ = Q u (loss, D, start and absorbing set all rotated by 30°) must not change it.
    kappa, d1, d2 = 4.0, 0.125, 2.0
    q = _rotation(30.0)
    def grad(th):                                   # Q ∇_u L(Qᵀθ)
        u = th @ q
        return np.column_stack([4 * u[:, 0] * (u[:, 0] ** 2 - 1), kappa * u[:, 1]]) @ q.T

    diffusion = q @ np.diag([d1, d2]) @ q.T
    corners = np.array([[-2.2, -1.2], [-2.2, 1.2], [0.3, -1.2], [0.3, 1.2]]) @ q.T    # u-box in θ
    bounds = tuple(zip(corners.min(axis=0), corners.max(axis=0)))
    start = q @ np.array([-1.0, 0.0])
    ref = mfpt_1d(lambda u: (u**2 - 1) ** 2, lambda u: 4 * u * (u**2 - 1), d1, start=-1.0, absorbing=0.0)
    with pytest.raises(ValueError, match="too anisotropic"):
        mfpt_2d(grad, diffusion, bounds=bounds, shape=(41, 41), absorbing=lambda th: (th @ q)[:, 0] >= 0,
                start=start, frame="grid")
    res = mfpt_2d(grad, diffusion, bounds=bounds, shape=(41, 41), absorbing=lambda th: (th @ q)[:, 0] >= 0,
                  start=start)
    assert res.frame == "eigen" and "eigen frame" in res.method
    # the frame found is Q up to the sign of its columns, and its origin is the start point
    np.testing.assert_allclose(np.abs(res.rotation.T @ q), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(res.origin, start, atol=1e-15)
    assert abs(res.escape_time - ref.escape_time) <= res.escape_time_error
    assert res.escape_time_error / res.escape_time < 5e-3
    # u2 decouples in the discrete problem too: T is constant along every u2 grid line
    field = res.escape_time_field
    assert np.max(np.ptp(field, axis=1)) < 1e-9 * field.max()
    # the mapped absorbing set is {u1 ≥ 0}, i.e. 1 from the start along ±u1 (−1e-9: rounding of θ @ q)
    u1_abs = (res.nodes().reshape(-1, 2) @ q)[:, 0].reshape(field.shape)
    assert np.array_equal(res.absorbed, u1_abs >= -1e-9) or np.array_equal(res.absorbed, u1_abs >= 1e-9)


# ---------------------------------------------------------------- reversible case: two frames agree

def test_isotropic_diffusion_gives_the_same_time_in_both_frames():
    # D = D0·I (reversible): the θ-grid 7-point stencil (here 5-point) and the eigen frame (R = I,
    # origin at the start, rectangle grown to put it on a node, boundary fitted) are two
    # discretisations of one problem. The start is the exact minimum (Newton), not a θ-grid node.
    k, c, t, d0 = 2.0, 0.5, 0.2, 0.2
    grad = _two_well_grad(k, c, t)
    p = np.array([-1.0, 0.0])
    for _ in range(20):
        p = p - np.linalg.solve(_two_well_hessian(k, c, t, p), grad(p[None])[0])
    assert np.max(np.abs(grad(p[None]))) < 1e-12
    args = dict(bounds=((-2.2, 0.0), (-1.5, 2.0)), shape=(45, 61), absorbing=lambda th: th[:, 0] >= -1e-12,
                start=tuple(p))
    grid = mfpt_2d(grad, d0, **args, frame="grid")
    eigen = mfpt_2d(grad, d0, **args, frame="eigen")
    auto = mfpt_2d(grad, d0, **args)
    assert (grid.frame, eigen.frame, auto.frame) == ("grid", "eigen", "grid")
    assert auto.escape_time == grid.escape_time                  # "auto" keeps the old path
    np.testing.assert_array_equal(eigen.rotation, np.eye(2))
    assert abs(grid.escape_time - eigen.escape_time) <= grid.escape_time_error + eigen.escape_time_error
    assert grid.escape_time_error / grid.escape_time < 5e-3
    assert abs(grid.rate - eigen.rate) <= grid.rate_error + eigen.rate_error


# ---------------------------------------------------------------- non-reversible: Euler–Maruyama

K, C = 2.0, 1.0          # curved two-well, tilt 0: minima (±1, 0), saddle (0, −1), ΔL = 1
X_ABSORB = 0.5           # past the saddle: T is flat there, so discrete monitoring costs ~nothing
EPS = 0.018              # D = ε H_a: exact MFPT ≈ 93


def _em_step(x, y, h, noise):
    """One Euler–Maruyama step of dθ = −∇L dt + noise, in place; h is the step (per path)."""
    q = x * x
    q -= 1.0
    r = y - C * q
    g = q - (K * C) * r
    g *= x
    g *= -4.0 * h
    x += g
    x += noise[0]
    r *= -2.0 * K * h
    y += r
    y += noise[1]


def _coupled_escape_times(h_a, eps, dt, n, seed, block=1000):
    """Escape times to {x ≥ X_ABSORB} from (−1, 0) by EM with steps dt and dt/2 on the same Brownian paths.

    Path i with step dt uses the sum of the two dt/2 increments of path i with step dt/2 (synchronous
    coupling), so the difference of the two means estimates the O(dt) bias with little noise. The
    first passage is checked once per dt on both.
    """
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(eps * h_a * dt)              # √(2D) ΔW over dt/2: covariance 2D·dt/2
    state = np.tile(np.array([[-1.0], [0.0]]), (1, 2 * n))  # columns: n with step dt, then n with dt/2
    times, alive, steps = np.full(2 * n, np.nan), np.arange(2 * n), 0
    while alive.size:
        inc = np.einsum("ij,sajn->sain", chol, rng.standard_normal((block, 2, 2, n)))[..., alive % n]
        coarse = alive < n
        # substep 1: dt-paths take their whole step, dt/2-paths their first half; substep 2: the second half
        h1, h2 = np.where(coarse, dt, dt / 2), np.where(coarse, 0.0, dt / 2)
        n1 = inc[:, 0] + np.where(coarse, inc[:, 1], 0.0)
        n2 = np.where(coarse, 0.0, inc[:, 1])
        x, y = state[0, alive], state[1, alive]
        hist = np.empty((block, alive.size))
        for s in range(block):
            _em_step(x, y, h1, n1[s])
            _em_step(x, y, h2, n2[s])
            hist[s] = x
        hit = hist >= X_ABSORB
        done = hit.any(axis=0)
        times[alive[done]] = (steps + np.argmax(hit, axis=0)[done] + 1) * dt
        state[0, alive], state[1, alive] = x, y
        alive, steps = alive[~done], steps + block
    return times[:n], times[n:]


@pytest.mark.slow            # ~14 s of Euler–Maruyama; rotation invariance and the M-matrix tests stay default
def test_nonreversible_curved_two_well_matches_euler_maruyama():
    # D = ε H_a with H_a = ∇²L(−1, 0) = [[8 + 8kc², 4kc], [4kc, 2k]] (by hand; checked against the
    # builtin landscape above): D ∝ H_a is not ∝ I, so −∇L is not D∇(potential) and the process is
    # non-reversible. On a square θ grid the positive stencil refuses this D, so "auto" uses the eigen frame.
    h_a = _two_well_hessian(K, C, 0.0, (-1.0, 0.0))
    np.testing.assert_array_equal(h_a, [[24.0, 8.0], [8.0, 4.0]])
    grad = _two_well_grad(K, C, 0.0)
    args = dict(bounds=((-2.0, 1.0), (-1.8, 2.2)), shape=(91, 121), absorbing=lambda th: th[:, 0] >= X_ABSORB,
                start=(-1.0, 0.0), rate=False)
    with pytest.raises(ValueError, match="too anisotropic.*frame='eigen'"):
        mfpt_2d(grad, EPS * h_a, **args, frame="grid")
    exact = mfpt_2d(grad, EPS * h_a, **args)
    assert exact.frame == "eigen"
    assert exact.escape_time_error / exact.escape_time < 0.01
    # EM, n = 400 runs (standard error ≈ 5%), dt = 0.004 and 0.002 (λ_max(H_a)·dt ≈ 0.1 and 0.05)
    n = 400
    t_dt, t_half = _coupled_escape_times(h_a, EPS, 0.004, n, seed=20240601)
    assert np.all(np.isfinite(t_half))
    mean, se = t_half.mean(), t_half.std(ddof=1) / math.sqrt(n)
    assert se / mean <= 0.055
    bias = abs(t_dt.mean() - mean)             # EM is weak order 1: bias(dt/2) ≈ bias(dt)/2 ≤ this
    assert bias < se                           # the coupling makes it a measurement, not a fudge
    assert abs(mean - exact.escape_time) <= 3 * se + bias + exact.escape_time_error, \
        (mean, se, bias, exact.escape_time)


# ---------------------------------------------------------------- M-matrix in the eigen frame

def test_eigen_frame_generator_is_an_m_matrix_for_condition_number_1e3():
    # D = Q diag(1e-4, 0.1) Qᵀ at 30° (cond 1e3), the curved two-well, and an absorbing half-plane
    # x ≥ 0 oblique to the eigen frame: the fitted boundary rows must keep the M-matrix property.
    q = _rotation(30.0)
    diffusion = q @ np.diag([1e-4, 0.1]) @ q.T
    grad = _two_well_grad(2.0, 0.5, 0.2)
    bounds, shape, origin = ((-2.2, 0.5), (-1.5, 2.0)), (41, 41), (-1.0, 0.0)
    with pytest.raises(ValueError, match="too anisotropic"):
        generator_2d(grad, diffusion, bounds=bounds, shape=shape)
    a, frame = generator_2d_eigen(grad, diffusion, bounds=bounds, shape=shape, origin=origin,
                                  absorbing=lambda th: th[:, 0] >= 0)
    plain, _ = generator_2d_eigen(grad, diffusion, bounds=bounds, shape=shape, origin=origin)
    assert np.linalg.cond(diffusion) == pytest.approx(1e3)
    np.testing.assert_allclose(frame.eigenvalues, [1e-4, 0.1], rtol=1e-12)
    off = (a - sp.diags(a.diagonal())).tocoo()
    assert off.data.min() >= 0 and np.all(a.diagonal() <= 0)
    assert np.max(np.abs(np.asarray(a.sum(axis=1)))) <= 1e-12 * np.max(np.abs(a.diagonal()))
    assert (a != plain).nnz > 0                                    # some rows were boundary-fitted
    # the rectangle in u covers the θ rectangle and the origin is a node of both levels
    corners = np.array([[x, y] for x in bounds[0] for y in bounds[1]])
    u = frame.from_theta(corners)
    assert all(frame.bounds[k][0] <= u[:, k].min() and u[:, k].max() <= frame.bounds[k][1] for k in (0, 1))
    for level in (frame, frame.refined()):
        assert all(np.min(np.abs(axis)) < 1e-12 for axis in level.axes())
    np.testing.assert_allclose(frame.to_theta(frame.from_theta(corners)), corners, atol=1e-14)


def test_unequal_arm_rates_are_exact_on_the_local_solutions():
    # r₊(f(a) − f(0)) + r₋(f(−c) − f(0)) = w f'' + b f' at 0 for f = s (gives b) and f = e^{−bs/w}
    # (gives 0); with a = c they are the Scharfetter–Gummel rates, with b = 0 Shortley–Weller's.
    rng = np.random.default_rng(1)
    w = rng.uniform(0.01, 2.0, 500)
    b = rng.normal(size=500) * 10.0 ** rng.uniform(-8, 2, 500)
    a, c = rng.uniform(1e-4, 0.1, 500), rng.uniform(1e-4, 0.1, 500)
    rp, rm = _fitted_rates_unequal(w, b, a, c)
    assert np.all(rp >= 0) and np.all(rm >= 0)
    np.testing.assert_allclose(rp * a - rm * c, b, rtol=1e-10, atol=1e-12 * np.max(w / a))
    p = b / w
    ok = np.abs(p) * np.maximum(a, c) < 30
    resid = rp * np.expm1(-p * a) + rm * np.expm1(p * c)
    scale = rp * np.abs(np.expm1(-p * a)) + rm * np.abs(np.expm1(p * c))
    assert np.all(np.abs(resid[ok]) <= 1e-12 * scale[ok])
    up, um = _fitted_rates(w, b, a)
    eq_p, eq_m = _fitted_rates_unequal(w, b, a, a)
    # _fitted_rates forms the smaller rate as a difference, r₊ = r₋ + b/h, which loses
    # eps·(|b|/h)/r₊ relatively; compare where that is below 1e-12
    sure = np.minimum(up, um) > 1e-4 * (w / a**2 + np.abs(b) / a)
    np.testing.assert_allclose(eq_p[sure], up[sure], rtol=1e-10)
    np.testing.assert_allclose(eq_m[sure], um[sure], rtol=1e-10)
    assert sure.sum() > 250
    sw_p, sw_m = _fitted_rates_unequal(w, 0 * b, a, c)
    np.testing.assert_allclose(sw_p, 2 * w / (a * (a + c)), rtol=1e-14)
    np.testing.assert_allclose(sw_m, 2 * w / (c * (a + c)), rtol=1e-14)


# ---------------------------------------------------------------- arguments and messages

def _separable_grad(th):
    return np.column_stack([th[:, 0] ** 3 - th[:, 0], th[:, 1]])


ARGS = dict(bounds=((-2.0, 0.0), (-1.0, 1.0)), shape=(21, 11), absorbing=lambda th: th[:, 0] >= -1e-12,
            start=(-1.0, 0.0))


@pytest.mark.parametrize("frame", ["rotated", "", None, "Eigen"])
def test_bad_frame_is_refused_naming_the_parameter(frame):
    with pytest.raises(ValueError, match=r"^frame must be one of 'auto', 'grid', 'eigen'; got ") as err:
        mfpt_2d(_separable_grad, 0.1, **ARGS, frame=frame)
    assert "\n" not in str(err.value)


def test_eigen_frame_needs_a_constant_diffusion_and_a_callable_absorbing_set():
    with pytest.raises(ValueError, match=r"^frame='eigen' needs a constant diffusion") as err:
        mfpt_2d(_separable_grad, lambda th: 0.1 * np.ones(len(th)), **ARGS, frame="eigen")
    assert "\n" not in str(err.value)
    mask = np.zeros((21, 11), bool)
    mask[-1] = True
    with pytest.raises(ValueError, match="absorbing must be a callable in the eigen frame"):
        mfpt_2d(_separable_grad, 0.1, **{**ARGS, "absorbing": mask}, refine=False, frame="eigen")


def test_refused_position_dependent_diffusion_says_what_to_do_and_the_advice_works():
    q = _rotation(30.0)
    base = q @ np.diag([1e-4, 0.1]) @ q.T
    field = lambda th: (1 + 0.1 * th[:, 0, None, None] ** 2) * base      # D(θ), same axes everywhere
    with pytest.raises(ValueError, match=r"too anisotropic.*choose shape so that h_x/h_y lies in") as err:
        generator_2d(_separable_grad, field, bounds=((-1, 1), (-1, 1)), shape=(41, 41))
    message = str(err.value)
    assert "\n" not in message
    lo, hi = (float(v) for v in message.split("[")[-1].split("]")[0].split(","))
    # |D_xy|/D_yy and D_xx/|D_xy| of this D, by hand
    assert lo == pytest.approx(abs(base[0, 1]) / base[1, 1], rel=1e-3)
    assert hi == pytest.approx(base[0, 0] / abs(base[0, 1]), rel=1e-3)
    hy = 0.05
    hx = 0.5 * (lo + hi) * hy
    a, _, _ = generator_2d(_separable_grad, field, bounds=((-1, -1 + 40 * hx), (-1, 1)), shape=(41, 41))
    assert (a - sp.diags(a.diagonal())).min() >= 0
