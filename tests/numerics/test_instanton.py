"""The instanton under constant anisotropic noise and Bouchet–Reygner's non-Gibbsianness I_ℓ along it.

Expected values are independent of the method: I_ℓ = 0 wherever the dynamics is reversible (D commuting with
∇²L along the path: ℓ = −∇L + D∇Φ vanishes identically, Bouchet & Reygner 2016, §1); the instanton's action
∫pᵀDp dt must equal ΔΦ of the geometric minimum action path (a different minimiser of the same functional) and,
where Φ is known in closed form (Φ = L/D₀, or L_1/d_1 + L_2/d_2 for a separable loss), ΔL/D. The Lyapunov
Hessians come from SciPy's solver, not from the project's theory module.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.linalg import solve_continuous_lyapunov

from flatminima.errors import InputError
from flatminima.numerics.basin import analyse_basin
from flatminima.numerics.instanton import instanton
from flatminima.numerics.landscape import Landscape
from flatminima.numerics.names import build_landscape
from flatminima.numerics.quasipotential import Diffusion, minimum_action_path


def _cubic_valley(t):
    """A curved valley of our own: the floor y = x(x² − 1)/2 turns twice, the saddle sits on a slanted floor."""
    x, y = t[0], t[1]
    return (x ** 2 - 1) ** 2 + 0.2 * x + 3.0 * (y - 0.5 * x * (x ** 2 - 1)) ** 2


def _q(h, D):
    """The quasi-potential Hessian at a critical point: Q⁻¹ = Σ solves HΣ + ΣH = 2D."""
    return np.linalg.inv(solve_continuous_lyapunov(h, 2.0 * D))


@functools.cache
def _setup(spec: str, D: tuple):
    land = (Landscape(name="cubic-valley", dim=2, loss=_cubic_valley) if spec == "cubic-valley"
            else build_landscape(spec))
    analysis = analyse_basin(land, [-1.0, 0.0], search=False, saddles=[np.array([0.0, -0.3])])
    path = analysis.paths[0]
    D = np.array(D, float).reshape(2, 2) if D else land.hessian(analysis.minimum)      # () → hessian_fixed
    mam = minimum_action_path(land, analysis.minimum, path.saddle, Diffusion.fixed(D), initial=path.mep_points)
    a, z = analysis.minimum, path.saddle
    ins = instanton(land, a, z, D, mam.points, _q(land.hessian(a), D), _q(land.hessian(z), D))
    return land, analysis, path, D, mam, ins


@pytest.mark.parametrize("spec,D", [
    ("two-well-2d:stiffness=3", (1.0, 0.0, 0.0, 1.0)),                  # white noise on a curved valley
    ("two-well-2d:stiffness=3,curvature=0", (1.0, 0.0, 0.0, 3.0)),      # separable loss, diagonal anisotropic D
])
def test_reversible_escapes_have_no_non_gibbsianness_and_the_action_is_the_closed_form(spec, D):
    land, analysis, path, D, mam, ins = _setup(spec, D)
    assert ins.converged
    assert abs(ins.non_gibbsianness) <= ins.error <= 1e-3
    # Φ = L/D₀ (white) or L_1/d_1 + L_2/d_2 (separable, escape along x): ΔΦ = ΔL/D_xx
    assert ins.action == pytest.approx(path.barrier / D[0, 0], rel=1e-5)


def test_the_instanton_action_is_the_minimum_action_paths_quasi_potential():
    # non-reversible (D = H_a on a curved valley): two minimisers of the same functional
    land, analysis, path, D, mam, ins = _setup("cubic-valley", ())
    assert ins.action == pytest.approx(mam.quasi_potential, rel=1e-4)


@pytest.mark.slow            # ~7 s; an identity of the method, the physics is tested against the exact generator
def test_non_gibbsianness_does_not_depend_on_the_noise_scale():
    # D → 4D gives Φ → Φ/4, p → p/4, Q → Q/4: θ̇ = 2Dp − ∇L and tr(DQ) are unchanged, so the instanton and I_ℓ
    # are the same and the action is a quarter
    land, analysis, path, D, mam, ins = _setup("cubic-valley", ())
    *_, ins4 = _setup("cubic-valley", tuple((4.0 * D).ravel()))
    assert ins.converged and ins4.converged and abs(ins.non_gibbsianness) > 0.1
    assert abs(ins4.non_gibbsianness - ins.non_gibbsianness) <= ins.error + ins4.error
    assert ins4.action == pytest.approx(ins.action / 4.0, rel=1e-4)


def test_a_near_resonant_saddle_is_not_extrapolated():
    # two-well-2d's default saddle has |H_be| = 3.965 against the transverse 4.005: under D = H_a the rates of the
    # saddle's Lagrangian plane nearly cancel the rate of arrival, Q reaches Q_b as r^0.01 and I_ℓ(r) drifts
    land, analysis, path, D, mam, ins = _setup("two-well-2d", ())
    assert ins.tail_rate < 0.2
    assert not ins.converged and ins.error == np.inf


def test_bad_ladders_and_shapes_are_refused():
    land, analysis, path, D, mam, ins = _setup("cubic-valley", ())
    a, z = analysis.minimum, path.saddle
    Qa, Qb = _q(land.hessian(a), D), _q(land.hessian(z), D)
    with pytest.raises(InputError, match="distances"):
        instanton(land, a, z, D, mam.points, Qa, Qb, distances=(1e-2, 4e-3, 2e-3))
    with pytest.raises(InputError, match="Q_a"):
        instanton(land, a, z, D, mam.points, Qa[:1], Qb)
    with pytest.raises(InputError, match="n_steps"):
        instanton(land, a, z, D, mam.points, Qa, Qb, n_steps=101)
