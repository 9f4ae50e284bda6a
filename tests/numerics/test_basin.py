"""Per-minimum analysis: all escape paths, barriers, h_ae, h_be, s, the √k identities and the JSON.

References: the double well θ⁴/4 − θ²/2 (docs/theory.md §The path parameter s, table T1), Styblinski–Tang
closed forms (roots of 4x³ − 32x + 5; inflection at ±√(8/3); docs/theory.md §Styblinski-Tang), and
H_k = kH, ΔL_k = ΔL under L_k(θ) = L(√k θ) (docs/theory.md §Sharpness scaling).
"""
import json

import numpy as np
import pytest

from flatminima.numerics import build_landscape, sharpened
from flatminima.numerics.basin import analyse_basin

LO, MID, HI = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)


def st1(x):
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x)


def st1_curv(x):
    return 6.0 * x**2 - 16.0


def st_s(m):
    """s for escaping a 1-D Styblinski–Tang minimum m over MID, split where L1'' = 0 (x = ±√(8/3))."""
    infl = np.sqrt(8.0 / 3.0) * (1.0 if m > MID else -1.0)
    return (st1(infl) - st1(m)) / (st1(MID) - st1(m))


def test_double_well_defaults():
    res = analyse_basin(build_landscape("double-well"), [-0.9])
    assert res.minimum[0] == pytest.approx(-1.0, abs=1e-12)
    assert len(res.paths) == 1
    p = res.paths[0]
    assert p.barrier == pytest.approx(0.25, abs=1e-12)
    assert p.h_ae == pytest.approx(2.0, rel=1e-9)
    assert p.h_be == pytest.approx(1.0, rel=1e-9)
    assert p.s == pytest.approx(4.0 / 9.0, abs=1e-9)
    assert p.escape_direction[0] == pytest.approx(1.0)


@pytest.mark.parametrize("signs", [(LO, LO), (LO, HI), (HI, LO), (HI, HI)])
def test_styblinski_tang_2d_every_minimum_has_two_paths(signs):
    L = build_landscape("styblinski-tang:dim=2")
    m = np.array(signs)
    res = analyse_basin(L, m + 0.05)
    np.testing.assert_allclose(res.minimum, m, atol=1e-10)
    assert len(res.paths) == 2
    expected = sorted([(st1(MID) - st1(x), i, x) for i, x in enumerate(m)])
    for p, (barrier, i, x) in zip(res.paths, expected):
        assert p.barrier == pytest.approx(barrier, rel=1e-6)
        np.testing.assert_allclose(p.saddle[i], MID, atol=1e-10)
        assert abs(p.escape_direction[i]) == pytest.approx(1.0)
        assert np.sign(p.escape_direction[i]) == np.sign(MID - x)
        assert p.h_ae == pytest.approx(st1_curv(x), rel=1e-6)
        assert p.h_be == pytest.approx(-st1_curv(MID), rel=1e-6)
        assert p.s == pytest.approx(st_s(x), abs=1e-6)
    # printed values, docs/theory.md §Styblinski-Tang
    printed = {39.361778: 0.4397, 25.225059: 0.4493}
    for p in res.paths:
        key = min(printed, key=lambda b: abs(b - p.barrier))
        assert p.barrier == pytest.approx(key, abs=1e-6)
        assert p.s == pytest.approx(printed[key], abs=1e-3)


@pytest.mark.parametrize("pattern", [[LO] * 10, [HI] + [LO] * 9, [HI, LO, HI, HI, LO, LO, HI, LO, LO, HI]])
def test_styblinski_tang_10d_ten_paths_out_of_every_minimum(pattern):
    L = build_landscape("styblinski-tang:dim=10")
    m = np.array(pattern)
    res = analyse_basin(L, m)
    assert len(res.paths) == 10
    moved = sorted(int(np.argmax(np.abs(p.saddle - m))) for p in res.paths)
    assert moved == list(range(10))
    for p in res.paths:
        i = int(np.argmax(np.abs(p.saddle - m)))
        assert p.barrier == pytest.approx(st1(MID) - st1(m[i]), rel=1e-6)
        assert p.s == pytest.approx(st_s(m[i]), abs=1e-6)


@pytest.mark.parametrize("k", [0.5, 2.0, 10.0])
def test_sharpened_scales_hessian_by_k_and_keeps_barriers(k):
    base = build_landscape("styblinski-tang:dim=2")
    Lk = sharpened(base, k)
    m = np.array([LO, HI])
    res1 = analyse_basin(base, m)
    resk = analyse_basin(Lk, m / np.sqrt(k))
    np.testing.assert_allclose(resk.minimum, m / np.sqrt(k), atol=1e-10)
    np.testing.assert_allclose(Lk.hessian(resk.minimum), k * base.hessian(m), rtol=1e-10)
    np.testing.assert_allclose(resk.hessian_eigenvalues, k * np.sort(st1_curv(m)), rtol=1e-9)
    assert len(resk.paths) == len(res1.paths) == 2
    for p1, pk in zip(res1.paths, resk.paths):
        assert pk.barrier == pytest.approx(p1.barrier, rel=1e-9)
        assert pk.h_ae == pytest.approx(k * p1.h_ae, rel=1e-6)
        assert pk.h_be == pytest.approx(k * p1.h_be, rel=1e-6)
        assert pk.s == pytest.approx(p1.s, abs=1e-6)
        np.testing.assert_allclose(pk.saddle, p1.saddle / np.sqrt(k), atol=1e-10)


def test_to_dict_is_design_section_7_json():
    res = analyse_basin(build_landscape("styblinski-tang:dim=2"), [LO, LO])
    d = res.to_dict()
    assert set(d) == {"landscape", "dim", "minimum", "paths", "search"}
    assert set(d["minimum"]) == {"theta", "loss", "hessian_eigenvalues", "zero_modes"}
    assert d["minimum"]["zero_modes"] == 0
    assert set(d["search"]) == {"summary", "seconds", "budget_ended", "saddles_not_adjacent", "saddles_unchecked"}
    for p in d["paths"]:
        assert set(p) == {"saddle", "barrier", "h_ae", "h_be", "s", "escape_direction", "tangent_curvature",
                          "tangent_angle_deg", "e_eigen_angle_deg"}
        assert set(p["saddle"]) == {"theta", "loss", "hessian_eigenvalues", "zero_modes"}
    again = json.loads(json.dumps(d, allow_nan=False))
    assert again == d
    assert d["dim"] == 2 and d["landscape"] == "styblinski-tang:dim=2"
    assert type(d["paths"][0]["barrier"]) is float
    assert all(type(v) is float for v in d["minimum"]["theta"])
    assert d["paths"][0]["barrier"] == pytest.approx(st1(MID) - st1(LO), rel=1e-6)


def test_max_paths_and_hints_only():
    L = build_landscape("styblinski-tang:dim=10")
    res = analyse_basin(L, np.full(10, LO), max_paths=3)
    assert len(res.paths) == 3
    only_hints = analyse_basin(L, np.full(10, LO), search=False)
    assert len(only_hints.paths) == 1               # the built-in's single saddle hint


def test_h_ae_is_taken_along_the_same_e_as_h_be_and_the_tangent_curvature_is_reported():
    # Eq. (7) uses one direction e for both curvatures: h_ae = eᵀH_a e with e the unstable eigenvector of H_b
    land = build_landscape("two-well-2d")
    res = analyse_basin(land, [-1.0, 0.0])
    p = res.paths[0]
    H_a, H_b = land.hessian(res.minimum), land.hessian(p.saddle)
    w, V = np.linalg.eigh(H_b)
    e = V[:, 0]
    assert p.h_ae == pytest.approx(e @ H_a @ e, rel=1e-9)
    assert p.h_be == pytest.approx(-w[0], rel=1e-9)
    # the curved valley leaves a along the soft eigenvector of H_a, far from e: the warning says so
    soft = np.linalg.eigh(H_a)[1][:, 0]
    assert p.tangent_curvature == pytest.approx(np.linalg.eigvalsh(H_a)[0], rel=1e-4)
    assert abs(abs(p.tangent @ soft) - 1) < 1e-4
    assert p.tangent_angle > 10 and "heuristic" in p.heuristic_warning()


def test_straight_separable_paths_need_no_warning():
    land = build_landscape("two-well-2d:curvature=0")
    p = analyse_basin(land, [-1.0, 0.0]).paths[0]
    assert p.tangent_angle < 1e-3 and p.e_eigen_angle < 1e-6
    assert p.h_ae == pytest.approx(p.tangent_curvature, rel=1e-6)
    assert p.heuristic_warning() is None
