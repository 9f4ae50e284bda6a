"""Minimum energy paths, the inflection split s, and the climbing string method.

References: closed forms for the quartic double well θ⁴/4 − θ²/2 (docs/theory.md §The path parameter s: s = 4/9) and for
Styblinski–Tang (inflection at ±√(8/3), docs/theory.md §Styblinski-Tang); the saddle found by the single-ended search.
"""
import numpy as np
import pytest

from flatminima.numerics import LandscapeError, build_landscape
from flatminima.numerics.critical import find_minima, refine_saddle
from flatminima.numerics.saddles import min_mode_saddles
from flatminima.numerics.paths import minimum_energy_path, neb_path

LO, MID, HI = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)


def st1(x):
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x)


def test_double_well_mep_inflection_split_is_four_ninths():
    L = build_landscape("double-well")           # defaults: exactly θ⁴/4 − θ²/2
    mep = minimum_energy_path(L, [0.0], [-1.0])
    # L'' = 3θ² − 1 = 0 at θ = −1/√3: s = (L(−1/√3) − L(−1))/ΔL = (−5/36 + 1/4)/(1/4) = 4/9
    assert mep.s == pytest.approx(4.0 / 9.0, abs=1e-9)
    assert mep.inflection[0] == pytest.approx(-1.0 / np.sqrt(3.0), abs=1e-9)
    assert mep.barrier == pytest.approx(0.25, abs=1e-12)
    assert mep.escape_direction[0] == pytest.approx(1.0)        # away from a = −1
    assert abs(mep.tangent[0]) == pytest.approx(1.0)


@pytest.mark.parametrize("minimum,sign,printed", [(LO, 1.0, 0.4397), (HI, -1.0, 0.4493)])
def test_styblinski_tang_s_at_inflection(minimum, sign, printed):
    L = build_landscape("styblinski-tang:dim=1")
    mep = minimum_energy_path(L, [MID], [minimum])
    infl = -sign * np.sqrt(8.0 / 3.0)            # L1'' = 6x² − 16 = 0 between the minimum and the saddle
    closed = (st1(infl) - st1(minimum)) / (st1(MID) - st1(minimum))
    assert mep.s == pytest.approx(closed, abs=1e-8)
    assert mep.s == pytest.approx(printed, abs=1e-3)              # docs/theory.md §Styblinski-Tang
    assert mep.escape_direction[0] == pytest.approx(sign)


def test_mep_runs_from_minimum_to_saddle_with_rising_loss():
    L = build_landscape("two-well-2d")
    a = find_minima(L)[0]
    b = refine_saddle(L, L.saddles[0])
    mep = minimum_energy_path(L, b, a)
    np.testing.assert_allclose(mep.points[0], a)
    np.testing.assert_allclose(mep.points[-1], b)
    assert np.all(np.diff(mep.losses) > 0)        # steepest-descent path: L is monotone along it
    assert mep.barrier == pytest.approx(L.value(b) - L.value(a), rel=1e-12)
    # the straight chord is not the path: the valley floor y = c(x² − 1) is curved
    chord = a + np.outer(np.linspace(0, 1, len(mep.points)), b - a)
    assert np.max(np.linalg.norm(mep.points - chord, axis=1)) > 0.05
    assert 0.0 < mep.s < 1.0


def test_mep_rejects_saddle_outside_basin():
    L = build_landscape("styblinski-tang:dim=2")
    with pytest.raises(LandscapeError, match="not on the boundary of the basin"):
        minimum_energy_path(L, [MID, LO], [HI, HI])


@pytest.mark.parametrize("climbing", [True, False])
def test_two_well_neb_saddle_equals_min_mode_saddle(climbing):
    L = build_landscape("two-well-2d")
    a, b = sorted(find_minima(L), key=lambda m: m[0])
    single = min_mode_saddles(L, a)
    assert len(single) == 1
    saddle, path = neb_path(L, a, b, climbing=climbing)
    np.testing.assert_allclose(saddle, single[0], atol=1e-10)
    np.testing.assert_allclose(path[0], a)
    np.testing.assert_allclose(path[-1], b)


def test_muller_brown_string_finds_both_saddles():
    L = build_landscape("muller-brown")
    ma, mb, mc = find_minima(L)                  # by loss: MA, MB, MC (Müller & Brown 1979)
    s1, _ = neb_path(L, ma, mc)
    s2, _ = neb_path(L, mc, mb)
    np.testing.assert_allclose(s1, [-0.822002, 0.624313], atol=1e-4)
    np.testing.assert_allclose(s2, [0.212487, 0.292988], atol=1e-4)


def test_neb_bad_input():
    L = build_landscape("two-well-2d")
    with pytest.raises(LandscapeError, match="n_images must be an integer >= 3"):
        neb_path(L, [-1.0, 0.0], [1.0, 0.0], n_images=2)
    with pytest.raises(LandscapeError, match="b must have 2 coordinates"):
        neb_path(L, [-1.0, 0.0], [1.0])
