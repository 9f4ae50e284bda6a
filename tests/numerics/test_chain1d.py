"""The exact discrete-chain reference (numerics.reference.chain1d): against brute-force simulation of the same
chain, against the SDE quadrature as η → 0, and its stated error against a finer grid."""
import math

import numpy as np
import pytest

from flatminima.errors import InputError
from flatminima.numerics.builtins import double_well
from flatminima.numerics.kernels import fixed_noise_escape, psd_noise_escape
from flatminima.numerics.reference import mfpt_1d
from flatminima.numerics.reference.chain1d import chain_mfpt_1d
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors

DW = double_well()                      # L = piecewise quartic, minima ∓1 (H = 2), saddle 0 (|H| = 1), ΔL = 0.25
# Siegmund's constant β = −ζ(1/2)/√(2π): a Gaussian random walk watched at whole steps crosses a level
# about β·σ later than the continuous path (D. Siegmund, Sequential Analysis, Springer 1985, §X.3;
# M. Broadie, P. Glasserman & S. Kou, Math. Finance 7, 325 (1997), the discrete-monitoring correction)
SIEGMUND_BETA = 0.5825971579390106


def _grad(x):
    x = np.atleast_1d(np.asarray(x, float))
    return np.asarray(DW.grads(x[:, None]))[:, 0]


def _loss(x):
    return np.asarray(DW.values(np.atleast_1d(np.asarray(x, float))[:, None])).reshape(np.shape(x))


def _hess(x):
    return np.asarray(DW.hessians(np.atleast_1d(np.asarray(x, float))[:, None]))[:, 0, 0]


ETA, LAM = 0.05, 6.0
C = ETA * math.sqrt(LAM)               # η√(λ/B) with B = 1
SPLIT = -1.0 / math.sqrt(3.0)          # the double well's inflection point (L'' = 0) between −1 and 0
SETTINGS = {
    # name: (σ(x) of the chain, kernel, kernel arguments)
    "white": (lambda x: math.sqrt(2 * 0.12 * ETA) + 0 * x, fixed_noise_escape, dict(temperature=0.12)),
    "two-region": (lambda x: np.where(x < SPLIT, C * math.sqrt(2.0), C * 1.0), fixed_noise_escape,
                   dict(noise_matrix=[[C * math.sqrt(2.0)]], noise_matrix_after=[[C]], split_point=[SPLIT],
                        split_normal=[1.0])),
    "hessian_psd": (lambda x: C * np.sqrt(np.abs(_hess(x)) + 0.5), psd_noise_escape,
                    dict(batch_size=1, loss_unit=LAM, delta=0.5)),
}


@pytest.mark.parametrize("name", SETTINGS)
def test_the_chain_matches_brute_force_simulation_of_the_same_chain(name):
    sigma, kernel, kw = SETTINGS[name]
    exact = chain_mfpt_1d(_grad, sigma, eta=ETA, start=-1.0, absorbing=0.0, left=-2.0)
    assert exact.relative_error < 2e-3
    sim = kernel(DW, [-1.0], eta=ETA, n_runs=20000, max_steps=10**7, seed=3, criterion="dividing_surface",
                 point=[0.0], normal=[1.0], **kw)
    assert sim.escaped.all()
    steps = sim.steps.astype(float)
    se = steps.std(ddof=1) / math.sqrt(steps.size)
    assert abs(steps.mean() - exact.steps) <= Z_TOL * se + exact.steps_error, (name, steps.mean(), se, exact)
    assert se / exact.steps < 0.01          # a 1% test: not vacuous


def test_the_chain_tends_to_the_sde_with_the_level_moved_by_siegmunds_constant():
    """White noise, D = 0.05: the chain exits later than the SDE by O(√η) (it looks at the level only at
    whole steps); with the level moved out by β·σ, σ = √(2Dη), the difference is O(η)."""
    D = 0.05
    plain, moved = [], []
    for eta in (0.02, 0.01, 0.005):
        sigma = math.sqrt(2 * D * eta)
        chain = chain_mfpt_1d(_grad, lambda x: sigma + 0 * x, eta=eta, start=-1.0, absorbing=0.0, left=-2.0)
        assert chain.relative_error < 1e-4
        plain.append(chain.escape_time / mfpt_1d(_loss, _grad, D, start=-1.0, absorbing=0.0).escape_time - 1)
        sde = mfpt_1d(_loss, _grad, D, start=-1.0, absorbing=SIEGMUND_BETA * sigma)
        moved.append(chain.escape_time / sde.escape_time - 1)
    for a, b in zip(plain, plain[1:]):
        assert 1.3 < a / b < 1.5            # halving η divides the error by √2
    for a, b in zip(moved, moved[1:]):
        assert 1.8 < a / b < 2.3            # ... and by 2 once the level is moved
    assert abs(moved[-1]) < 0.05 * plain[-1]


def test_the_stated_error_covers_a_finer_grid():
    sigma, _, _ = SETTINGS["white"]
    coarse = chain_mfpt_1d(_grad, sigma, eta=ETA, start=-1.0, absorbing=0.0, left=-2.0, n_nodes=60)
    fine = chain_mfpt_1d(_grad, sigma, eta=ETA, start=-1.0, absorbing=0.0, left=-2.0, n_nodes=240)
    assert abs(coarse.steps - fine.steps) <= coarse.steps_error
    assert fine.steps_error < coarse.steps_error


@pytest.mark.parametrize("kw,needle", [
    (dict(eta=0.0), "eta must be > 0"),
    (dict(left=0.5), "left < start < absorbing"),
    (dict(n_nodes=10**6), "n_nodes must give"),
])
def test_bad_input_is_one_line(kw, needle):
    args = {**dict(eta=ETA, start=-1.0, absorbing=0.0, left=-2.0), **kw}
    with pytest.raises(InputError, match=needle):
        chain_mfpt_1d(_grad, SETTINGS["white"][0], **args)
