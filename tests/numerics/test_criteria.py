"""Exit criteria: bridge crossing probability, plane/radius/level tests, quench and basin labels."""
import math

import autograd.numpy as anp
import numpy as np

from flatminima.numerics import Landscape, NonFiniteLossError
from flatminima.numerics import criteria as cr
from flatminima.numerics import noise as nz
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors



def test_bridge_probability_closed_form_and_edge_cases():
    p = cr.bridge_crossing_probability([0.1, 0.1, -0.1, 0.1], [0.2, -0.2, 0.2, 0.0], [0.04, 0.04, 0.04, 0.04])
    assert np.isclose(p[0], np.exp(-2 * 0.1 * 0.2 / 0.04), rtol=1e-15)
    assert np.array_equal(p[1:], [0.0, 0.0, 0.0])      # an end beyond or on the plane: handled directly


def test_bridge_probability_against_fine_brownian_bridges():
    """Brownian bridges on a 2000-step grid from −d0 to −d1 (σ² = 1 over the step) touch 0 as often as predicted."""
    rng = np.random.default_rng(21)
    n, m = 20000, 2000
    d0, d1 = 0.3, 0.5
    t = np.linspace(0, 1, m + 1)
    W = np.concatenate([np.zeros((n, 1)), np.cumsum(rng.standard_normal((n, m)) / np.sqrt(m), axis=1)], axis=1)
    bridge = -d0 + W - t * W[:, -1:] + t * (d0 - d1)       # pinned at −d0 and −d1
    frac = np.mean(bridge.max(axis=1) >= 0)
    p = cr.bridge_crossing_probability(d0, d1, 1.0)
    # the grid misses crossings between grid points: it undercounts by O(m^{-1/2}) (≈0.58·σ/√m shift)
    p_low = cr.bridge_crossing_probability(d0 + 0.5826 / np.sqrt(m), d1 + 0.5826 / np.sqrt(m), 1.0)
    se = np.sqrt(p * (1 - p) / n)
    assert p_low - Z_TOL * se <= frac <= p + Z_TOL * se


def test_dividing_surface_reports_the_plane_crossed():
    ds = cr.DividingSurface(np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), bridge=False)
    old = np.array([[-1.0, -1.0], [-1.0, -1.0], [-1.0, -1.0]])
    new = np.array([[0.5, -1.0], [-1.0, 0.2], [-0.5, -0.5]])
    ex, idx = ds.test(old, new)
    assert ex.tolist() == [True, True, False] and idx.tolist() == [0, 1, -1]


def test_dividing_surface_bridge_uses_the_uniform():
    ds = cr.DividingSurface(np.array([[0.0]]), np.array([[1.0]]), bridge=True)
    old, new = np.array([[-0.1], [-0.1]]), np.array([[-0.1], [-0.1]])
    along = lambda normals: np.full((2, 1), 0.02)            # σ² along n
    p = np.exp(-2 * 0.1 * 0.1 / 0.02)
    ex, idx = ds.test(old, new, along, np.array([p - 1e-9, p + 1e-9]))
    assert ex.tolist() == [True, False] and idx.tolist() == [0, -1]


def test_radius_criterion():
    rad = cr.Radius(np.zeros(2), 1.0, bridge=False)
    ex, _ = rad.test(np.zeros((2, 2)), np.array([[0.6, 0.8], [0.6, 0.79]]))
    assert ex.tolist() == [True, False]


def test_loss_level():
    ll = cr.LossLevel(level=0.5, fraction=1.0)
    assert ll.test_values(np.array([0.4, 0.5, np.nan]))[0].tolist() == [False, True, False]


# ---------------------------------------------------------------------- quench and basin
def _quartic(t):
    return anp.sum(0.25 * t**4 - 0.5 * t**2, axis=0)


def _triple(t):          # minima at 0 and ±√3 (L = x⁶/6 − x⁴ + 1.5x²; L' = x(x² − 1)(x² − 3))
    return anp.sum(t**6 / 6 - t**4 + 1.5 * t**2, axis=0)


def _fns(land):
    """Batched L and ∇L that return NaN rows instead of raising on overflow (as the simulator's do)."""
    def safe(fn, shape):
        def f(X):
            with np.errstate(all="ignore"):
                try:
                    return fn(X)
                except NonFiniteLossError:
                    return np.full((X.shape[0], *shape), np.nan)
        return f
    return safe(land.values, ()), safe(land.grads, (land.dim,))


def test_quench_lands_in_the_right_minimum():
    land = Landscape(name="quartic", dim=1, loss=_quartic)
    values, grads = _fns(land)
    X = np.array([[-1.7], [-0.01], [0.01], [0.4], [1.9]])
    labels, ends = cr.quench(values, grads, X, np.array([[-1.0], [1.0]]), 0.25, step=0.5, loss_scale=0.25)
    assert labels.tolist() == [0, 0, 1, 1, 1]
    assert np.all(np.abs(np.abs(ends[:, 0]) - 1.0) < 0.25)


def test_quench_finds_an_unlisted_minimum():
    land = Landscape(name="triple", dim=1, loss=_triple)
    values, grads = _fns(land)
    X = np.array([[0.5], [1.2], [2.2]])
    labels, ends = cr.quench(values, grads, X, np.array([[0.0]]), 0.2, step=0.05, max_steps=20000, loss_scale=1.0)
    assert labels.tolist() == [0, -2, -2]
    assert np.allclose(ends[1:, 0], np.sqrt(3.0), atol=1e-6)


def test_quench_far_out_on_a_steep_wall_is_not_a_minimum():
    """At θ = 1e20 on θ⁶ the natural step is tiny, yet the point is no critical point: undecided."""
    land = Landscape(name="triple", dim=1, loss=_triple)
    values, grads = _fns(land)
    labels, _ = cr.quench(values, grads, np.array([[1e20]]), np.array([[0.0]]), 0.2, step=0.05, max_steps=50,
                          loss_scale=1.0)
    assert labels.tolist() == [-1]


def test_basin_escape_needs_the_ball_around_another_minimum():
    land = Landscape(name="quartic", dim=1, loss=_quartic)
    ctx = nz.StepInputs(land, 0.1, land.grads, land.values, land.hessians)
    basin = cr.BasinExit(np.array([[-1.0], [1.0]]), 0.25, None, None, 10, quench_step=0.5, loss_scale=0.25)
    won, idx = basin.landed(np.array([[0.1], [0.8], [-0.9]]), ctx)
    # 0.1 quenches to +1 but is not committed; 0.8 is inside the ball around +1; −0.9 is home
    assert won.tolist() == [False, True, False] and idx.tolist() == [-1, 1, -1]


def test_basin_counts_an_unlisted_minimum():
    land = Landscape(name="triple", dim=1, loss=_triple)
    ctx = nz.StepInputs(land, 0.05, land.grads, land.values, land.hessians)
    basin = cr.BasinExit(np.array([[0.0]]), 0.2, None, None, 10, quench_step=0.05, loss_scale=1.0)
    won, idx = basin.landed(np.array([[1.8], [1.3]]), ctx)
    assert won.tolist() == [True, False] and idx.tolist() == [-2, -1]


def test_several_planes_bridge_through_the_nearest_plane():
    """Two planes x = 1 and y = 1; before the step the particle is 0.2 from x = 1 and 0.5 from y = 1,
    after it 0.1 from y = 1 and 0.3 from x = 1. The union's distance is the nearest plane's: d0 = 0.2,
    d1 = 0.1, with the variance along the plane nearest after the step (y = 1, variance 0.04):
    p = exp(−2·0.2·0.1/0.04) = exp(−1) (the compiled kernels' rule)."""
    ds = cr.DividingSurface(np.array([[1.0, 0.0], [0.0, 1.0]]), np.eye(2), bridge=True)
    old, new = np.array([[0.8, 0.5]]), np.array([[0.7, 0.9]])

    def along(normals):
        return np.array([[0.09, 0.04]])           # variance along x's normal, along y's normal
    p = math.exp(-1.0)
    for u, hit in ((p * (1 - 1e-9), True), (p * (1 + 1e-9), False)):
        exited, index = ds.test(old, new, along, np.array([u]))
        assert bool(exited[0]) is hit and index[0] == (1 if hit else -1)
