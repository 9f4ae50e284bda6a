"""The exact SDE reference of a 2-D run against independent numbers.

On a separable landscape L = L_1(x) + k·y² with white noise the x-motion is an autonomous 1-D diffusion, so the
mean time to the plane x = x_b (the dividing surface through the saddle) is the 1-D quadrature MFPT of L_1
(``numerics.reference.mfpt_1d``, Gardiner's double integral), whatever y does.
"""
import numpy as np
import pytest

from flatminima.errors import InputError
from flatminima.numerics.basin import analyse_basin
from flatminima.numerics.names import build_landscape
from flatminima.numerics.reference import mfpt_1d
from flatminima.numerics.simulate import escape_parts
from flatminima.numerics.simulate.exact import exact_sde_rate_2d


@pytest.mark.parametrize("T", [0.3, 0.15, 0.08])        # ΔL/T = 4, 8, 15
def test_separable_exit_through_the_saddle_plane_is_the_1d_quadrature_time(T):
    land = build_landscape("two-well-2d:stiffness=3,curvature=0")         # (x² − 1)² + 3y² + 0.2x
    analysis = analyse_basin(land, [-1.0, 0.0])
    a, b = analysis.minimum, analysis.paths[0].saddle
    parts = escape_parts(noise="white", criterion="dividing_surface", eta=1e-3, temperature=T)
    res = exact_sde_rate_2d(land, a, **parts)
    ref = mfpt_1d(lambda x: (x ** 2 - 1) ** 2 + 0.2 * x, lambda x: 4 * x * (x ** 2 - 1) + 0.2, T,
                  start=float(a[0]), absorbing=float(b[0]))
    assert res.relative_error < 0.01
    # the stated two-grid error covers the difference (the quadrature's own error is below 1e-6)
    assert abs(ref.escape_time * res.rate - 1.0) <= res.relative_error


def test_three_dimensions_and_state_dependent_noise_are_refused():
    land = build_landscape("two-well-2d")
    analysis = analyse_basin(land, [-1.0, 0.0])
    with pytest.raises(InputError, match="constant noise"):
        exact_sde_rate_2d(land, analysis.minimum, **escape_parts(noise="hessian_psd", criterion="basin", eta=1e-3,
                                                                   batch_size=1, loss_unit=1.0))
    st3 = build_landscape("styblinski-tang:dim=3")
    with pytest.raises(InputError, match="2-D"):
        exact_sde_rate_2d(st3, -2.9 * np.ones(3), **escape_parts(noise="white", criterion="basin", eta=1e-3,
                                                                  temperature=5.0))
