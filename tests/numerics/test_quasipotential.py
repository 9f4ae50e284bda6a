"""The minimum action method: quasi-potentials against closed forms (white noise, Eq. (7), linear systems)."""
import numpy as np
import pytest
from scipy.linalg import solve_continuous_lyapunov

from flatminima.numerics.critical import find_minimum, refine_saddle
from flatminima.numerics.landscape import Landscape
from flatminima.numerics.names import build_landscape
from flatminima.numerics.quasipotential import (Diffusion, geometric_action, minimum_action_path, noise_diffusion,
                                     noise_scale)


def _two_well():
    land = build_landscape("two-well-2d")
    a = find_minimum(land, [-1.0, 0.0])
    b = refine_saddle(land, [0.0, -0.5])
    return land, a, b


def test_white_noise_gives_the_barrier_over_d_to_1e6():
    # white noise is reversible: ΔΦ = ΔL/D (Kramers' exponent; Freidlin–Wentzell ch. 4, Thm 3.1)
    land, a, b = _two_well()
    barrier = land.value(b) - land.value(a)
    for D0 in (0.1, 0.37):
        r = minimum_action_path(land, a, b, Diffusion.fixed(D0 * np.eye(2)), n_segments=64)
        assert r.converged
        assert abs(r.quasi_potential * D0 / barrier - 1) < 1e-6
        # the unextrapolated polyline action is an upper bound and within its stated error
        assert r.action >= barrier / D0 - 1e-9 and abs(r.action - barrier / D0) <= 4 * r.error


def test_two_region_noise_on_a_1d_double_well_gives_the_exponent_of_eq7():
    # L = θ⁴/4 − θ²/2: a = −1, b = 0, H_a = 2, H_b = −1, split c = −1/√3 (L'' = 3c² − 1 = 0), so
    # Eq. (7) with D ∝ H: ΔΦ_M = (L(c) − L(a))/H_a + (L(b) − L(c))/|H_b| = (4/36)/2 + (5/36)/1 = 7/36
    land = build_landscape("double-well")
    M = noise_diffusion("hessian_two_region", land, [-1.0], [0.0], [1.0])
    r = minimum_action_path(land, [-1.0], [0.0], M, n_segments=16)
    assert abs(r.quasi_potential - 7 / 36) < 1e-6 * 7 / 36
    assert np.allclose(M.plane[0], [-1 / np.sqrt(3)], atol=1e-10)


def test_linear_system_with_anisotropic_noise_gives_the_lyapunov_quasi_potential():
    # dθ = −Hθ dt + √(2D) dW with constant D not commuting with H (irreversible): the stationary law is
    # N(0, Σ), HΣ + ΣH = 2D, and the quasi-potential is ½ xᵀΣ⁻¹x (Freidlin–Wentzell ch. 4, §3)
    H = np.array([[3.0, 1.0], [1.0, 1.0]])
    D = np.array([[0.5, -0.2], [-0.2, 0.3]])
    land = Landscape(name="quadratic", dim=2, loss=lambda t: 0.5 * (H[0, 0] * t[0] ** 2 + 2 * H[0, 1] * t[0] * t[1]
                                                                    + H[1, 1] * t[1] ** 2))
    sigma = solve_continuous_lyapunov(H, 2 * D)
    x = np.array([0.8, -1.1])
    exact = 0.5 * x @ np.linalg.solve(sigma, x)
    r = minimum_action_path(land, [0.0, 0.0], x, Diffusion.fixed(D), n_segments=64)
    assert abs(r.quasi_potential / exact - 1) < 1e-5
    assert abs(r.quasi_potential - exact) <= 4 * r.error + 1e-9
    # the straight segment is not the optimal path here: its action is strictly larger
    straight = geometric_action(land, Diffusion.fixed(D), np.linspace([0.0, 0.0], x, 65))
    assert straight > exact * (1 + 1e-3)


def test_error_shrinks_as_h_squared_and_richardson_is_within_its_stated_error():
    land, a, b = _two_well()
    M = Diffusion.fixed(land.hessian(a))            # SGD-type noise frozen at the minimum: irreversible here
    coarse = minimum_action_path(land, a, b, M, n_segments=32)
    fine = minimum_action_path(land, a, b, M, n_segments=128)
    # the polyline error is O(h²): doubling n divides Ŝ_n − ΔΦ by 4 (measured against the finest extrapolation)
    ratio = (coarse.action - fine.quasi_potential) / (fine.action - fine.quasi_potential) / 4 ** 2
    assert 0.8 < ratio < 1.25
    assert abs(coarse.quasi_potential - fine.quasi_potential) <= coarse.error


def test_hessian_shaped_noise_changes_the_quasi_potential_at_equal_trace():
    # not a closed form: a sanity relation. D = H_a/tr(H_a)·2 and white D = I have the same trace; along the
    # stiff direction H_a puts more noise, and the two-well's valley leaves a along it, so ΔΦ differs
    land, a, b = _two_well()
    Ha = land.hessian(a)
    aniso = minimum_action_path(land, a, b, Diffusion.fixed(2 * Ha / np.trace(Ha)), n_segments=32)
    white = minimum_action_path(land, a, b, Diffusion.fixed(np.eye(2)), n_segments=32)
    assert abs(aniso.quasi_potential - white.quasi_potential) > 10 * (aniso.error + white.error)


def test_loss_hessian_noise_has_no_noise_along_negative_curvature_so_no_escape():
    # Mori et al.'s C = 2L·H₊/B clips negative curvature: at the saddle there is no noise along e, and
    # every path to it needs some: the quasi-potential is infinite
    land = Landscape(name="shifted double well", dim=1, loss=lambda t: t[0] ** 4 / 4 - t[0] ** 2 / 2 + 1.0)
    r = minimum_action_path(land, [-1.0], [0.0], noise_diffusion("loss_hessian", land, [-1.0]), n_segments=8)
    assert r.quasi_potential == np.inf and r.to_dict()["value"] is None


def test_noise_scale_matches_the_per_step_covariance():
    # Σ = η²C per step and D = ηC/2: C = λH/B gives D = (ηλ/2B)·H
    assert noise_scale("hessian_fixed", eta=0.1, loss_unit=3.0, batch_size=4) == pytest.approx(0.1 * 3 / 8)
    assert noise_scale("loss_hessian", eta=0.1, batch_size=4) == pytest.approx(0.1 / 8)
    assert noise_scale("white", temperature=0.2) == 0.2


@pytest.mark.parametrize("kwargs,message", [
    ({"n_segments": 7}, "n_segments must be an even integer"),
    ({"n_segments": 2}, "n_segments must be an even integer"),
    ({"initial": np.zeros((3, 3))}, "initial must be a path of shape"),
])
def test_bad_arguments_are_refused(kwargs, message):
    land, a, b = _two_well()
    with pytest.raises(ValueError, match=message):
        minimum_action_path(land, a, b, Diffusion.fixed(np.eye(2)), **kwargs)


def test_bad_noise_and_diffusion_are_refused():
    land, a, _ = _two_well()
    with pytest.raises(ValueError, match="noise must be one of"):
        noise_diffusion("levy", land, a)
    with pytest.raises(ValueError, match="positive definite"):
        Diffusion.fixed(np.diag([1.0, -1.0]))
