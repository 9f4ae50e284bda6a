"""Per-sample and minibatch gradients and the exact noise covariance C (docs/theory.md §SGD noise).

Oracles: loops of autograd gradients of ``sample_loss``/``minibatch_loss`` (one sample or one
replica at a time); the exact covariance over *all* minibatches, enumerated; and a Monte-Carlo
estimate over many real minibatches, compared within its standard error.
"""
import itertools

import autograd
import numpy as np
import pytest

from flatminima.numerics import LandscapeError, build_landscape, sharpened
from flatminima.numerics import samples
from flatminima.numerics.names import finite_sum
from flatminima.numerics.mlp import initial_theta, mlp
from flatminima.numerics.samples import gradient_noise_covariance, minibatch_gradients, per_sample_gradients
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors

EXACT = 1e-12     # two exact computations of the same quantity: round-off only


def _mlp_point(land, seed=0):
    return initial_theta(land, seed) + 0.3 * np.random.default_rng(seed).standard_normal(land.dim)


def _cases():
    """(landscape, θ): an MLP (hand-written backward pass), a sharpened MLP and a finite sum (autograd)."""
    net = mlp("wine", hidden="4", n_samples=40, seed=3)
    fs = finite_sum("styblinski-tang;dim=3", n_samples=25, spread=0.4, seed=1)
    return [(net, _mlp_point(net)), (sharpened(net, 2.5), _mlp_point(net) / np.sqrt(2.5)),
            (fs, np.array([0.4, -1.2, 2.0]))]


CASES = _cases()
IDS = ["mlp", "sharpened-mlp", "finite-sum"]


@pytest.mark.parametrize("land,theta", CASES, ids=IDS)
def test_per_sample_gradients_equal_a_loop_of_autograd(land, theta):
    idx = np.array([0, 5, 5, 17, land.n_samples - 1])
    got = per_sample_gradients(land, theta, idx)
    ref = np.array([autograd.grad(lambda t, j=j: land.sample_loss(t, np.array([j]))[0])(theta) for j in idx])
    assert got.shape == (idx.size, land.dim)
    assert np.max(np.abs(got - ref)) < EXACT * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("land,theta", CASES, ids=IDS)
def test_mean_of_all_per_sample_gradients_is_the_full_gradient(land, theta):
    G = per_sample_gradients(land, theta, np.arange(land.n_samples))
    np.testing.assert_allclose(G.mean(axis=0), land.grad(theta), rtol=1e-11, atol=1e-13)


def test_per_sample_gradients_in_chunks(monkeypatch):
    land, theta = CASES[0]
    whole = per_sample_gradients(land, theta, np.arange(land.n_samples))
    monkeypatch.setattr(samples, "_CHUNK", 7)
    np.testing.assert_array_equal(per_sample_gradients(land, theta, np.arange(land.n_samples)), whole)


@pytest.mark.parametrize("land,theta", CASES, ids=IDS)
def test_minibatch_gradients_equal_per_replica_autograd(land, theta):
    rng = np.random.default_rng(4)
    R, B = 5, 6
    thetas = theta + 0.1 * rng.standard_normal((R, land.dim))
    idx = rng.integers(0, land.n_samples, size=(B, R))
    got = minibatch_gradients(land, thetas, idx)
    ref = np.array([autograd.grad(lambda t, r=r: land.minibatch_loss(t[:, None], idx[:, r:r + 1])[0])(thetas[r])
                    for r in range(R)])
    assert np.max(np.abs(got - ref)) < EXACT * max(1.0, np.abs(ref).max())


def _exact_covariance_by_enumeration(land, theta, batch_size, replacement):
    """Cov of g_B over every equally likely minibatch (ordered tuples, or subsets), from minibatch_gradients."""
    m = land.n_samples
    pick = itertools.product if replacement else itertools.combinations
    batches = np.array(list(pick(range(m), repeat=batch_size) if replacement else pick(range(m), batch_size)))
    g = minibatch_gradients(land, np.tile(theta, (len(batches), 1)), batches.T)
    xi = g - land.grad(theta)
    return xi.T @ xi / len(batches)


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("which", ["mlp", "finite-sum"])
def test_covariance_equals_enumeration_of_all_minibatches(which, replacement):
    if which == "mlp":
        land = mlp("iris", hidden="2", n_samples=7, seed=1)
        theta = _mlp_point(land, 2)
    else:
        land = finite_sum("two-well-2d", n_samples=7, spread=0.5, seed=2)
        theta = np.array([0.3, -0.2])
    B = 3          # 7^3 = 343 ordered tuples, C(7,3) = 35 subsets
    ref = _exact_covariance_by_enumeration(land, theta, B, replacement)
    got = gradient_noise_covariance(land, theta, B, replacement=replacement)
    assert np.max(np.abs(got - ref)) < 1e-10 * np.abs(ref).max()
    other = gradient_noise_covariance(land, theta, B, replacement=not replacement)
    assert np.max(np.abs(other - ref)) > 0.1 * np.abs(ref).max()     # the two cases are told apart


@pytest.mark.parametrize("replacement", [True, False])
def test_covariance_matches_monte_carlo_over_real_minibatches(replacement):
    land = mlp("iris", hidden="3", n_samples=40, seed=5)
    theta = _mlp_point(land, 1)
    m, B, N = land.n_samples, 20, 20_000        # B = m/2: the (m−B)/(m−1) factor is ≈ 0.51, not a detail
    rng = np.random.default_rng(20240611)
    if replacement:
        idx = rng.integers(0, m, size=(B, N))
    else:
        idx = np.argsort(rng.random((m, N)), axis=0)[:B]   # first B of a uniform permutation = uniform subset
    xi = minibatch_gradients(land, np.tile(theta, (N, 1)), idx) - land.grad(theta)   # E ξ = 0 exactly
    C = gradient_noise_covariance(land, theta, B, replacement=replacement)
    directions = [np.eye(land.dim)[int(np.argmax(np.diag(C)))]] + \
        list(np.random.default_rng(7).standard_normal((4, land.dim)))
    for v in directions:
        q = (xi @ v) ** 2                     # unbiased for vᵀCv; its mean has stderr std(q)/√N
        z = (q.mean() - v @ C @ v) / (q.std(ddof=1) / np.sqrt(N))
        assert abs(z) < Z_TOL, (v @ C @ v, q.mean(), z)
    q = np.sum(xi * xi, axis=1)               # the trace
    assert abs(q.mean() - np.trace(C)) / (q.std(ddof=1) / np.sqrt(N)) < Z_TOL


def test_covariance_is_symmetric_psd_and_scales_as_one_over_b():
    land, theta = CASES[0]
    C1 = gradient_noise_covariance(land, theta, 1)
    C8 = gradient_noise_covariance(land, theta, 8)
    np.testing.assert_allclose(C8, C1 / 8, rtol=1e-13, atol=0)
    assert np.array_equal(C1, C1.T) and np.linalg.eigvalsh(C1)[0] > -1e-14 * np.abs(C1).max()
    full = gradient_noise_covariance(land, theta, land.n_samples, replacement=False)
    assert np.max(np.abs(full)) == 0.0     # the full batch has no noise


@pytest.mark.parametrize("call,match", [
    (lambda l, t: gradient_noise_covariance(build_landscape("styblinski-tang"), np.zeros(2), 2),
     r"not a finite-sum landscape"),
    (lambda l, t: gradient_noise_covariance(l, t, 0), r"batch_size must be an integer >= 1; got 0"),
    (lambda l, t: gradient_noise_covariance(l, t, 2.5), r"batch_size must be an integer >= 1; got 2.5"),
    (lambda l, t: gradient_noise_covariance(l, t, 41, replacement=False),
     r"batch_size must be <= n_samples = 40 without replacement; got 41"),
    (lambda l, t: per_sample_gradients(l, t, np.array([0, 40])), r"idx must lie in \[0, 39\]; got values in \[0, 40\]"),
    (lambda l, t: per_sample_gradients(l, t, np.array([0.5])), r"idx must be a non-empty 1-D array of integer"),
    (lambda l, t: minibatch_gradients(l, np.tile(t, (3, 1)), np.zeros((4, 2), int)),
     r"idx must have shape \(batch_size, 3\)"),
    (lambda l, t: per_sample_gradients(l, t[:-1], np.array([0])), r"theta must have shape"),
])
def test_bad_input_errors_are_one_line(call, match):
    land, theta = CASES[0]
    with pytest.raises(LandscapeError, match=match) as info:
        call(land, theta)
    assert "\n" not in str(info.value)
