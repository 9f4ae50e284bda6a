"""Critical points: minima, Newton refinement and eigenvector-following saddle searches.

Reference values come from closed forms (roots of 4x³ − 32x + 5 by numpy.roots for Styblinski–Tang,
docs/theory.md §Styblinski-Tang), from the literature (Müller & Brown 1979) and from an independent root-find with
hand-written derivatives; never from the code under test.
"""
import numpy as np
import pytest
from scipy import optimize

from flatminima.numerics import Landscape, LandscapeError, build_landscape
from flatminima.numerics.critical import CriticalPointError, find_minima, find_minimum, lowest_modes, refine_saddle
from flatminima.numerics.saddles import min_mode_saddles

# Styblinski–Tang per coordinate, L1(x) = ½(x⁴ − 16x² + 5x): critical points are the roots of
# L1'(x) = ½(4x³ − 32x + 5); L1''(x) = 6x² − 16 (docs/theory.md §Styblinski-Tang).
LO, MID, HI = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)


def st1(x):
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x)


def st1_curv(x):
    return 6.0 * x**2 - 16.0


def test_roots_match_theory_table():
    # docs/theory.md §Styblinski-Tang, printed to 6 decimals (θ, f) and 3 decimals (f'')
    np.testing.assert_allclose([LO, MID, HI], [-2.903534, 0.156731, 2.746803], atol=5e-7)
    np.testing.assert_allclose([st1(LO), st1(MID), st1(HI)], [-39.166166, 0.195612, -25.029447], atol=5e-7)
    np.testing.assert_allclose([st1_curv(LO), st1_curv(MID), st1_curv(HI)], [34.583, -15.853, 29.270], atol=5e-4)


def test_styblinski_tang_1d_minima_saddle_values_and_curvatures():
    L = build_landscape("styblinski-tang:dim=1")
    minima = find_minima(L, starts=[[-4.0], [-1.0], [1.0], [4.5]])
    assert len(minima) == 2
    np.testing.assert_allclose([m[0] for m in minima], [LO, HI], rtol=1e-12)
    for m, x in zip(minima, [LO, HI]):
        assert L.value(m) == pytest.approx(st1(x), rel=1e-6)
        assert L.hessian(m)[0, 0] == pytest.approx(st1_curv(x), rel=1e-6)
        assert np.linalg.norm(L.grad(m)) < 1e-10
    b = refine_saddle(L, [0.5])
    assert b[0] == pytest.approx(MID, rel=1e-12)
    assert L.value(b) == pytest.approx(st1(MID), rel=1e-6)
    assert L.hessian(b)[0, 0] == pytest.approx(st1_curv(MID), rel=1e-6)


def test_styblinski_tang_2d_four_minima_and_four_saddles_without_hints():
    L = build_landscape("styblinski-tang:dim=2")
    rng = np.random.default_rng(20240611)
    starts = rng.uniform(-4.5, 4.5, size=(24, 2))
    minima = find_minima(L, starts)
    expected = sorted([np.array([p, q]) for p in (LO, HI) for q in (LO, HI)], key=lambda m: st1(m[0]) + st1(m[1]))
    assert len(minima) == 4
    for m, e in zip(minima, expected):
        np.testing.assert_allclose(m, e, atol=1e-10)
        assert L.value(m) == pytest.approx(st1(e[0]) + st1(e[1]), rel=1e-6)
    saddles = []
    for m in minima:                      # search only: min_mode_saddles never reads the hints
        saddles += min_mode_saddles(L, m)
    found = {tuple(np.round(s, 8)) for s in saddles}
    want = {tuple(np.round(s, 8)) for s in
            [np.array([MID, LO]), np.array([MID, HI]), np.array([LO, MID]), np.array([HI, MID])]}
    assert found == want
    for s in saddles:
        w = np.linalg.eigvalsh(L.hessian(s))
        assert (w < 0).sum() == 1
        np.testing.assert_allclose(sorted(w), sorted(st1_curv(s)), rtol=1e-6)


def test_styblinski_tang_10d_min_mode_finds_one_saddle_per_coordinate():
    L = build_landscape("styblinski-tang:dim=10")
    a = find_minimum(L, np.full(10, -2.5))
    np.testing.assert_allclose(a, LO, atol=1e-10)
    saddles = min_mode_saddles(L, a)
    assert len(saddles) == 10
    moved = sorted(int(np.argmax(np.abs(s - a))) for s in saddles)
    assert moved == list(range(10))
    for s in saddles:
        i = int(np.argmax(np.abs(s - a)))
        assert s[i] == pytest.approx(MID, abs=1e-10)
        np.testing.assert_allclose(np.delete(s, i), LO, atol=1e-10)


# ---------------------------------------------------------------------- Müller–Brown
# Müller & Brown, Theor. Chim. Acta 53, 75 (1979): three minima and two saddles. Positions to 3
# decimals as reproduced from the paper in H. Heidenreich, "Müller-Brown potential (1979)",
# hunterheidenreich.com/notes/benchmark-problems/muller-brown-1979: MA (−0.558, 1.442),
# MB (0.623, 0.028), MC (−0.050, 0.467), S1 (−0.822, 0.624), S2 (0.212, 0.293). The 6-decimal values
# below are the widely used literature values (e.g. in NEB/string-method benchmarks); the test checks
# them against an independent scipy root-find with the hand-written gradient, then the code against them.
MB_MINIMA = np.array([[-0.558224, 1.441726], [0.623499, 0.028038], [-0.050011, 0.466694]])
MB_SADDLES = np.array([[-0.822002, 0.624313], [0.212487, 0.292988]])
MB_ROUNDED = np.array([[-0.558, 1.442], [0.623, 0.028], [-0.050, 0.467], [-0.822, 0.624], [0.212, 0.293]])
_A = np.array([-200.0, -100.0, -170.0, 15.0])
_a = np.array([-1.0, -1.0, -6.5, 0.7])
_b = np.array([0.0, 0.0, 11.0, 0.6])
_c = np.array([-10.0, -10.0, -6.5, 0.7])
_X = np.array([1.0, 0.0, -0.5, -1.0])
_Y = np.array([0.0, 0.5, 1.5, 1.0])


def mb_grad(p):
    """Hand-written ∇V of the Müller–Brown potential (independent of autograd)."""
    dx, dy = p[0] - _X, p[1] - _Y
    e = _A * np.exp(_a * dx**2 + _b * dx * dy + _c * dy**2)
    return np.array([np.sum(e * (2 * _a * dx + _b * dy)), np.sum(e * (_b * dx + 2 * _c * dy))])


def mb_jac(p):
    dx, dy = p[0] - _X, p[1] - _Y
    e = _A * np.exp(_a * dx**2 + _b * dx * dy + _c * dy**2)
    gx, gy = 2 * _a * dx + _b * dy, _b * dx + 2 * _c * dy
    return np.array([[np.sum(e * (gx * gx + 2 * _a)), np.sum(e * (gx * gy + _b))],
                     [np.sum(e * (gx * gy + _b)), np.sum(e * (gy * gy + 2 * _c))]])


def test_muller_brown_literature_values_agree_with_independent_root_find():
    indep = np.array([optimize.root(mb_grad, p, jac=mb_jac, tol=1e-14).x for p in MB_ROUNDED])
    np.testing.assert_allclose(indep, np.vstack([MB_MINIMA, MB_SADDLES]), atol=1e-6)
    np.testing.assert_allclose(indep, MB_ROUNDED, atol=1e-3)


def test_muller_brown_minima_and_saddles_match_literature():
    L = build_landscape("muller-brown")
    minima = find_minima(L)
    assert len(minima) == 3
    np.testing.assert_allclose(np.array(minima), MB_MINIMA, atol=1e-4)   # sorted by loss: MA, MB, MC
    saddles = [refine_saddle(L, s) for s in MB_ROUNDED[3:]]
    np.testing.assert_allclose(np.array(saddles), MB_SADDLES, atol=1e-4)
    for s in saddles:
        assert np.linalg.norm(mb_grad(s)) < 1e-8
        assert (np.linalg.eigvalsh(mb_jac(s)) < 0).sum() == 1


def test_muller_brown_search_from_intermediate_minimum_finds_both_saddles():
    L = build_landscape("muller-brown")
    saddles = min_mode_saddles(L, MB_MINIMA[2])
    np.testing.assert_allclose(sorted(map(tuple, saddles)), sorted(map(tuple, MB_SADDLES)), atol=1e-4)


# ---------------------------------------------------------------------- large d (HVP path)
def test_lowest_modes_iterative_matches_closed_form_in_250d():
    L = build_landscape("styblinski-tang:dim=250")
    x = np.random.default_rng(7).uniform(-3.0, 3.0, 250)
    w, V = lowest_modes(L, x, 3)                  # eigsh on the HVP operator (d > DENSE_MAX)
    np.testing.assert_allclose(w, np.sort(st1_curv(x))[:3], rtol=1e-8)   # diagonal Hessian
    for i in range(3):
        assert abs(V[np.argmin(np.abs(st1_curv(x) - w[i])), i]) == pytest.approx(1.0, abs=1e-6)


def test_min_mode_saddles_large_d_uses_hvp_and_finds_known_saddles():
    L = build_landscape("styblinski-tang:dim=250")
    rng = np.random.default_rng(11)
    a = find_minimum(L, LO + 0.2 * rng.standard_normal(250))
    np.testing.assert_allclose(a, LO, atol=1e-10)
    saddles = min_mode_saddles(L, a, softest_modes=1)
    assert saddles
    barrier = st1(MID) - st1(LO)
    for s in saddles:
        at_mid = np.isclose(s, MID, atol=1e-8)
        assert at_mid.sum() == 1
        np.testing.assert_allclose(s[~at_mid], LO, atol=1e-8)
        assert L.value(s) - L.value(a) == pytest.approx(barrier, rel=1e-9)


# ---------------------------------------------------------------------- bad input
def _one_line(exc):
    return "\n" not in str(exc.value)


def test_wrong_dimension_start_is_a_one_line_error():
    L = build_landscape("styblinski-tang:dim=2")
    with pytest.raises(LandscapeError, match=r"start must have 2 coordinates") as exc:
        find_minimum(L, [1.0, 2.0, 3.0])
    assert _one_line(exc)
    with pytest.raises(LandscapeError, match=r"saddle guess must have 2 coordinates"):
        refine_saddle(L, [0.1])
    with pytest.raises(LandscapeError, match=r"starts must have shape"):
        find_minima(L, np.zeros((3, 5)))


def test_no_minimum_raises_one_line_error():
    # L(θ) = θ₀ + θ₁² is unbounded below: no minimum anywhere
    L = Landscape(name="tilted", dim=2, loss=lambda t: t[0] + t[1] ** 2)
    with pytest.raises(CriticalPointError, match=r"no minimum found") as exc:
        find_minimum(L, [0.0, 1.0], maxiter=200)
    assert _one_line(exc)


def test_refine_saddle_rejects_wrong_index():
    L = build_landscape("styblinski-tang:dim=2")
    with pytest.raises(CriticalPointError, match=r"0 negative Hessian eigenvalues, not 1") as exc:
        refine_saddle(L, [-2.8, -2.8])            # Newton lands on the minimum
    assert _one_line(exc)
    with pytest.raises(CriticalPointError, match=r"2 negative Hessian eigenvalues, not 1"):
        refine_saddle(L, [0.2, 0.2])              # the maximum (MID, MID)


def test_find_minimum_rejects_a_saddle_start():
    L = build_landscape("styblinski-tang:dim=2")
    # exactly at the index-1 saddle the gradient vanishes, L-BFGS does not move and Newton stays
    with pytest.raises(CriticalPointError, match=r"not a minimum"):
        find_minimum(L, [MID, LO])
