"""Issue 2: an index-1 saddle next to an MLP minimum, found by the minimum-mode search (HVP-capable)."""
import numpy as np
import pytest

from flatminima.numerics import build_landscape
from flatminima.numerics.critical import find_minimum
from flatminima.numerics.saddles import min_mode_saddles
from flatminima.numerics.mlp import initial_theta


@pytest.mark.parametrize("spec", ["mlp:data=breast_cancer,hidden=2,n_samples=100",
                                  "mlp:data=wine,hidden=2,n_samples=60"])
def test_min_mode_search_finds_an_index_one_saddle_next_to_the_minimum(spec):
    land = build_landscape(spec)
    a = find_minimum(land, initial_theta(land, seed=0))
    assert np.linalg.norm(land.grad(a)) <= 1e-8
    saddles = min_mode_saddles(land, a, softest_modes=2)
    assert saddles, "no saddle found"
    b = saddles[0]
    eigs = np.linalg.eigvalsh(land.hessian(b))          # independent of the search: dense eigh
    scale = np.max(np.abs(eigs))
    assert np.sum(eigs < -1e-9 * scale) == 1
    assert np.linalg.norm(land.grad(b)) <= 1e-7 * max(1.0, scale)
    assert land.value(b) > land.value(a)                 # a saddle above the minimum it borders
