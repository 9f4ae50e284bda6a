"""Fast gradient paths of a landscape: MLP ``fast_grads`` and ``Landscape.search_hessian`` against autograd.

``fast_grads`` is the hand-written backward pass of an MLP's full-batch loss; ``grad``/``grads`` use it and
``search_hessian`` differentiates it by central differences. Every reference below is computed
independently with ``autograd`` on the landscape's ``loss``.
"""
from __future__ import annotations

from dataclasses import replace

import autograd
import numpy as np
import pytest

from flatminima.numerics import build_landscape, sharpened
from flatminima.numerics.mlp import initial_theta

SPEC = "mlp:data=iris,hidden=2,n_samples=40"     # 4-2-3 tanh network: d = 4·2 + 2 + 2·3 + 3 = 19
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def mlp():
    return build_landscape(SPEC)


def test_the_mlp_landscape_has_fast_grads(mlp):
    assert mlp.dim == 19 and mlp.fast_grads is not None and mlp.kernel is None


@pytest.mark.parametrize("seed", SEEDS)
def test_grad_equals_autograd(mlp, seed):
    theta = initial_theta(mlp, seed)
    reference = autograd.grad(mlp.loss)(theta)
    # the same sums in another order: round-off ~ a few ε = 2.2e-16 relative, bound 1e-12
    scale = np.max(np.abs(reference))
    assert scale > 1e-3                                   # not a critical point: the comparison means something
    assert np.max(np.abs(mlp.grad(theta) - reference)) <= 1e-12 * scale
    thetas = np.stack([initial_theta(mlp, s) for s in range(5)])
    batch = mlp.grads(thetas)
    for row, t in zip(batch, thetas):
        ref = autograd.grad(mlp.loss)(t)
        assert np.max(np.abs(row - ref)) <= 1e-12 * np.max(np.abs(ref))


@pytest.mark.parametrize("seed", SEEDS)
def test_search_hessian_agrees_with_autograd_hessian(mlp, seed):
    theta = initial_theta(mlp, seed)
    exact = mlp.hessian(theta)
    approx = mlp.search_hessian(theta)
    lam_max = float(np.max(np.abs(np.linalg.eigvalsh(exact))))
    # Central differences with δ_i = 1e-5·(1 + |θ_i|) ≤ 3e-5 here (|θ_i| ≤ 1.7 at these initial points):
    # truncation δ²/6·|∂⁴L| ≈ 1.5e-10·|∂⁴L| and round-off ~ε‖∇L‖/δ ≈ 2e-16·0.7/1e-5 ≈ 1.5e-11 per entry,
    # both ~1e-10 of λ_max ~ 1 (the docstring's estimate; measured 3e-11 to 1.2e-10). The bound 1e-8·λ_max
    # leaves a factor 100 for larger fourth derivatives, and is the EIG_REL scale below which eigenvalues
    # count as zero modes (numerics.critical), so the searches see the same spectrum.
    assert np.max(np.abs(approx - exact)) <= 1e-8 * lam_max
    assert np.max(np.abs(np.linalg.eigvalsh(approx) - np.linalg.eigvalsh(exact))) <= 1e-8 * lam_max
    assert np.array_equal(approx, approx.T)
    assert not np.array_equal(approx, exact)          # it really is the difference route, not autograd


def test_search_hessian_is_one_batch_of_2d_fast_gradients(mlp):
    calls = []

    def counting(thetas):
        calls.append(np.shape(thetas))
        return mlp.fast_grads(thetas)

    land = replace(mlp, fast_grads=counting)
    land.search_hessian(initial_theta(mlp, 0))
    assert calls == [(2 * mlp.dim, mlp.dim)]


def test_sharpened_fast_grads_follow_the_gradient_identity(mlp):
    k = 4.0
    sharp = sharpened(mlp, k)
    assert sharp.fast_grads is not None and sharp.params["sharpness"] == k
    r = np.sqrt(k)
    grad_sharp = autograd.grad(sharp.loss)                # autograd on L_k(θ) = L(√k·θ)
    grad_base = autograd.grad(mlp.loss)
    thetas = np.stack([initial_theta(sharp, s) for s in SEEDS])   # θ/√k: the same networks as at k = 1
    fast = sharp.grads(thetas)
    for row, t in zip(fast, thetas):
        by_autograd = grad_sharp(t)
        by_identity = r * grad_base(r * t)                # ∇L_k(θ) = √k·∇L(√k·θ)
        scale = np.max(np.abs(by_autograd))
        assert np.max(np.abs(row - by_autograd)) <= 1e-12 * scale
        assert np.max(np.abs(row - by_identity)) <= 1e-12 * scale
        assert np.max(np.abs(sharp.grad(t) - by_autograd)) <= 1e-12 * scale
    # Hessians scale by k: H_k(θ) = k·H(√k·θ); the difference route keeps the 1e-8·λ_max bound (as above)
    t = thetas[0]
    exact = sharp.hessian(t)
    assert np.max(np.abs(exact - k * mlp.hessian(r * t))) <= 1e-12 * np.max(np.abs(exact))
    lam_max = float(np.max(np.abs(np.linalg.eigvalsh(exact))))
    assert np.max(np.abs(sharp.search_hessian(t) - exact)) <= 1e-8 * lam_max


@pytest.mark.parametrize("spec,theta", [
    ("double-well", [-0.7]),
    ("two-well-2d", [0.3, -0.2]),
])
def test_without_fast_grads_search_hessian_is_the_hessian(spec, theta):
    land = build_landscape(spec)
    assert land.fast_grads is None
    theta = np.asarray(theta, float)
    assert np.array_equal(land.search_hessian(theta), land.hessian(theta))
