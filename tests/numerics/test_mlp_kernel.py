"""The compiled MLP gradient kernel (numerics.kernels.mlp) against the numpy reference backward pass
and autograd: every activation and loss, R in {1, 3, 64}, batch 1 and 32, with and without weight
decay, one and two hidden layers; its exp and tanh against numpy's; argument checks."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numba import njit

from flatminima.numerics.kernels import mlp as mlp_kernel
from flatminima.numerics.mlp import ACTIVATIONS, KERNEL_MAX_PARAMS, LOSSES, MLPModel

CLOSE = 1e-12     # two implementations of one formula, different summation orders: round-off only


def _model(hidden, activation, loss, weight_decay, n_classes=3, m=80, seed=0):
    """An MLP on m seeded Gaussian rows of 7 features with n_classes labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 7))
    y = rng.integers(0, n_classes, size=m)
    return MLPModel(X, y, (7, *hidden, n_classes), activation, loss, weight_decay)


def _thetas(model, R, seed=1):
    """R seeded parameter vectors of scale 1 (tanh/sigmoid away from their linear range)."""
    return np.random.default_rng(seed).standard_normal((R, model.dim))


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def test_every_activation_and_loss_has_a_kernel_code():
    assert set(mlp_kernel.ACTIVATION_CODES) == set(ACTIVATIONS)
    assert set(mlp_kernel.LOSS_CODES) == set(LOSSES)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("B", [1, 32])
@pytest.mark.parametrize("R", [1, 3, 64])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kernel_equals_numpy_reference(activation, loss, R, B, weight_decay):
    model = _model((6,), activation, loss, weight_decay)
    thetas = _thetas(model, R)
    idx = np.random.default_rng(2).integers(0, model.n_samples, size=(B, R))
    got = model.minibatch_grad_compiled(thetas, idx)
    ref = model.minibatch_grad_reference(thetas, idx)
    assert _rel(got, ref) < CLOSE


@pytest.mark.parametrize("B", [1, 5, 32])                 # odd B: the last sample has no partner
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kernel_two_hidden_layers_equals_numpy_reference(activation, B):
    model = _model((5, 4), activation, "cross_entropy", 0.01, n_classes=2)
    thetas = _thetas(model, 3)
    idx = np.random.default_rng(3).integers(0, model.n_samples, size=(B, 3))
    assert _rel(model.minibatch_grad_compiled(thetas, idx), model.minibatch_grad_reference(thetas, idx)) < CLOSE


@pytest.mark.parametrize("hidden", [(), (6,), (5, 4)])
@pytest.mark.parametrize("loss", LOSSES)
def test_kernel_equals_autograd(hidden, loss):
    """Independent of both hand-written passes: autograd's gradient of the summed minibatch losses."""
    model = _model(hidden, "tanh", loss, 0.01)
    thetas = _thetas(model, 4)
    idx = np.random.default_rng(4).integers(0, model.n_samples, size=(7, 4))
    ref = autograd.grad(lambda T: anp.sum(model.minibatch_loss(T, idx)))(thetas.T.copy()).T
    assert _rel(model.minibatch_grad_compiled(thetas, idx), ref) < CLOSE


def test_kernel_saturated_units_and_large_logits():
    """|z| far beyond tanh's and softmax's overflow points: still finite and equal to the reference."""
    model = _model((6,), "tanh", "cross_entropy", 0.0)
    thetas = 200.0 * _thetas(model, 5)
    idx = np.random.default_rng(5).integers(0, model.n_samples, size=(8, 5))
    got = model.minibatch_grad_compiled(thetas, idx)
    assert np.all(np.isfinite(got))
    assert _rel(got, model.minibatch_grad_reference(thetas, idx)) < CLOSE


def test_out_argument_layouts_and_aliasing():
    model = _model((6,), "softplus", "mse", 0.01)
    thetas = _thetas(model, 4)
    idx = np.random.default_rng(6).integers(0, model.n_samples, size=(3, 4))
    ref = model.minibatch_grad_reference(thetas, idx)
    out = np.full_like(thetas, np.nan)
    assert model.minibatch_grad_compiled(thetas, idx, out=out) is out
    np.testing.assert_allclose(out, ref, rtol=CLOSE, atol=0)
    strided = np.full((model.dim, 4), np.nan).T                # a non-contiguous out
    assert model.minibatch_grad_compiled(thetas.T.copy().T, idx.astype(np.int32), out=strided) is strided
    np.testing.assert_array_equal(strided, out)
    same = thetas.copy()                                       # out may be thetas itself
    model.minibatch_grad_compiled(same, idx, out=same)
    np.testing.assert_array_equal(same, out)


@pytest.mark.parametrize("thetas_shape,idx_shape,out_shape,error", [
    ((4, 999), (3, 4), None, r"thetas must have shape \(R, \d+\)"),
    (None, (3, 5), None, r"idx must have shape \(B, 4\)"),
    (None, (3,), None, r"idx must have shape \(B, 4\)"),
    (None, (3, 4), (4, 3), r"out must have shape"),
])
def test_bad_shapes_are_refused(thetas_shape, idx_shape, out_shape, error):
    model = _model((6,), "tanh", "cross_entropy", 0.0)
    thetas = np.zeros(thetas_shape or (4, model.dim))
    out = None if out_shape is None else np.zeros(out_shape)
    with pytest.raises(ValueError, match=error):
        model.minibatch_grad_compiled(thetas, np.zeros(idx_shape, int), out=out)


@pytest.mark.parametrize("bad", [-1, 80])
def test_out_of_range_indices_are_refused(bad):
    model = _model((6,), "tanh", "cross_entropy", 0.0)
    idx = np.zeros((3, 2), int)
    idx[1, 1] = bad
    with pytest.raises(IndexError, match=r"minibatch indices must be in \[0, 80\)"):
        model.minibatch_grad_compiled(np.zeros((2, model.dim)), idx)


@pytest.mark.parametrize("hidden,compiled", [((6,), True), ((150,), False)])
def test_minibatch_grad_picks_the_kernel_for_small_networks(hidden, compiled, monkeypatch):
    model = _model(hidden, "tanh", "cross_entropy", 0.01)
    assert (model.dim <= KERNEL_MAX_PARAMS) == compiled
    calls = []
    for name in ("minibatch_grad_compiled", "minibatch_grad_reference"):
        method = getattr(model, name)
        monkeypatch.setattr(model, name, lambda *a, _m=method, _n=name, **k: calls.append(_n) or _m(*a, **k))
    thetas = _thetas(model, 3)
    idx = np.random.default_rng(8).integers(0, model.n_samples, size=(4, 3))
    got = model.minibatch_grad(thetas, idx)
    assert calls == ["minibatch_grad_compiled" if compiled else "minibatch_grad_reference"]
    ref = autograd.grad(lambda T: anp.sum(model.minibatch_loss(T, idx)))(thetas.T.copy()).T
    assert _rel(got, ref) < CLOSE


def test_a_replicas_gradient_does_not_depend_on_the_other_replicas():
    model = _model((6,), "tanh", "cross_entropy", 0.01)
    thetas = _thetas(model, 70)
    idx = np.random.default_rng(10).integers(0, model.n_samples, size=(5, 70))
    whole = model.minibatch_grad(thetas, idx)
    for lo, hi in [(0, 1), (3, 10), (60, 70)]:
        np.testing.assert_array_equal(model.minibatch_grad(thetas[lo:hi], idx[:, lo:hi]), whole[lo:hi])


@njit
def _exp_all(x):
    out = np.empty_like(x)
    for j in range(x.shape[0]):
        out[j] = mlp_kernel._exp_small(x[j])
    return out


@njit
def _tanh_all(x):
    out = np.empty_like(x)
    for j in range(x.shape[0]):
        out[j] = mlp_kernel._tanh(x[j])
    return out


def test_exp_and_tanh_match_numpy():
    x = np.concatenate([np.linspace(-700, 700, 200_001), np.random.default_rng(7).standard_normal(100_000)])
    assert np.max(np.abs(_exp_all(x) / np.exp(x) - 1.0)) <= 4 * np.finfo(float).eps
    z = np.concatenate([np.linspace(-40, 40, 200_001), [0.0, 1e-300, -1e-300, 19.9, 20.1, -1e4, 1e4]])
    t = _tanh_all(z)
    assert np.max(np.abs(t - np.tanh(z))) <= 4e-16
    assert np.all(np.abs(t) <= 1.0) and t[-1] == 1.0 and t[-2] == -1.0


def test_no_replicas_and_more_replicas_than_a_chunk():
    model = _model((6,), "relu", "cross_entropy", 0.01)
    assert model.minibatch_grad_compiled(np.zeros((0, model.dim)), np.zeros((4, 0), int)).shape == (0, model.dim)
    R = 2 * mlp_kernel._CHUNK + 5
    thetas = _thetas(model, R)
    idx = np.random.default_rng(9).integers(0, model.n_samples, size=(3, R))
    assert _rel(model.minibatch_grad_compiled(thetas, idx), model.minibatch_grad_reference(thetas, idx)) < CLOSE
