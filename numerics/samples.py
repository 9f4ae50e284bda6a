"""Per-sample and minibatch gradients, and the exact covariance of minibatch gradient noise.

Works for any finite-sum landscape (``Landscape.n_samples`` and ``minibatch_loss`` set): the
built-in ``finite_sum`` and MLP losses alike. Gradients are computed for many replicas in one
vectorised autograd backward pass over ``minibatch_loss``; an MLP landscape's hand-written
backward pass (``MLPModel.minibatch_grad``, tested equal to autograd) is used when available.

Noise covariance (docs/theory.md §SGD noise): for a minibatch of size B drawn uniformly with replacement,

    C(θ) = (1/B)·[(1/m) Σ_j ∇ℓ_j ∇ℓ_jᵀ − ∇L ∇Lᵀ],

and without replacement the same times (m − B)/(m − 1).
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np

from flatminima.numerics.errors import LandscapeError

# Columns per backward pass in per_sample_gradients: bounds memory (d × chunk floats per copy of θ).
_CHUNK = 4096


def _check_finite_sum(landscape) -> int:
    if landscape.minibatch_loss is None or not landscape.n_samples:
        raise LandscapeError(f"{landscape.name} is not a finite-sum landscape (no minibatch_loss / n_samples); "
                             "use finite-sum or mlp")
    return int(landscape.n_samples)


def _check_idx(idx, m: int, ndim: int, what: str) -> np.ndarray:
    a = np.asarray(idx)
    if a.ndim != ndim or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
        raise LandscapeError(f"{what} must be a non-empty {ndim}-D array of integer sample indices; "
                             f"got dtype {a.dtype}, shape {a.shape}")
    if a.min() < 0 or a.max() >= m:
        raise LandscapeError(f"{what} must lie in [0, {m - 1}]; got values in [{a.min()}, {a.max()}]")
    return a


def _fast_grad(landscape):
    """The hand-written replicated minibatch gradient behind ``minibatch_loss``, if it has one."""
    owner = getattr(landscape.minibatch_loss, "__self__", None)
    return getattr(owner, "minibatch_grad", None)


def minibatch_gradients(landscape, thetas, idx) -> np.ndarray:
    """Minibatch gradients g_r = (1/B) Σ_{j ∈ idx[:, r]} ∇ℓ_j(θ_r) of R replicas at once.

    Parameters
    ----------
    landscape : Landscape
        A finite-sum landscape (``n_samples`` and ``minibatch_loss`` set).
    thetas : array_like, shape (R, d)
        One θ per row.
    idx : array_like of int, shape (B, R)
        Column r holds replica r's minibatch (sample indices in [0, m)).

    Returns
    -------
    ndarray, shape (R, d)
        Row r is the gradient of replica r's minibatch loss (weight decay included for MLPs).
    """
    m = _check_finite_sum(landscape)
    T = landscape._thetas(thetas)
    idx = _check_idx(idx, m, 2, "idx")
    if idx.shape[1] != T.shape[0]:
        raise LandscapeError(f"idx must have shape (batch_size, {T.shape[0]}) (one column per replica); got {idx.shape}")
    fast = _fast_grad(landscape)
    if fast is not None:
        g = fast(T, idx)
    else:
        mb = landscape.minibatch_loss
        g = landscape._call(autograd.grad(lambda X: anp.sum(mb(X, idx))), T.T.copy(), what="minibatch gradient")
        g = np.asarray(g, float).T
    return landscape._finite(g, "the minibatch gradient")


def per_sample_gradients(landscape, theta, idx) -> np.ndarray:
    """Per-sample gradients ∇ℓ_j(θ) for the samples j in ``idx``, at one θ.

    Vectorised: θ is copied into B replicas, each with a minibatch of one sample, and one backward
    pass (autograd, or the landscape's hand-written one) gives all B gradients.

    Parameters
    ----------
    landscape : Landscape
        A finite-sum landscape.
    theta : array_like, shape (d,)
    idx : array_like of int, shape (B,)
        Sample indices in [0, m).

    Returns
    -------
    ndarray, shape (B, d)
    """
    m = _check_finite_sum(landscape)
    t = landscape._theta(theta)
    idx = _check_idx(idx, m, 1, "idx")
    out = np.empty((idx.size, t.size))
    for start in range(0, idx.size, _CHUNK):
        part = idx[start:start + _CHUNK]
        out[start:start + part.size] = minibatch_gradients(landscape, np.tile(t, (part.size, 1)), part[None, :])
    return out


def gradient_noise_covariance(landscape, theta, batch_size: int, *, replacement: bool = True) -> np.ndarray:
    """C(θ) = (1/B)[(1/m) Σ_j ∇ℓ_j∇ℓ_jᵀ − ∇L∇Lᵀ], times (m − B)/(m − 1) without replacement.

    The exact covariance of the minibatch gradient g_B(θ) over uniformly drawn minibatches of size B
    (docs/theory.md §SGD noise), from all m per-sample gradients.

    Parameters
    ----------
    landscape : Landscape
        A finite-sum landscape with m samples.
    theta : array_like, shape (d,)
    batch_size : int ≥ 1
        B; at most m without replacement.
    replacement : bool
        Whether the B samples are drawn with replacement (i.i.d.) or as a uniform subset.

    Returns
    -------
    ndarray, shape (d, d)
        Symmetric positive semi-definite.
    """
    m = _check_finite_sum(landscape)
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise LandscapeError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    B = int(batch_size)
    if not replacement and B > m:
        raise LandscapeError(f"batch_size must be <= n_samples = {m} without replacement; got {B}")
    G = per_sample_gradients(landscape, theta, np.arange(m))
    centred = G - G.mean(axis=0)
    S = centred.T @ centred / m             # (1/m) Σ ∇ℓ_j∇ℓ_jᵀ − ∇L∇Lᵀ, in a cancellation-free form
    C = S / B
    if not replacement:
        C *= (m - B) / (m - 1)
    return 0.5 * (C + C.T)
