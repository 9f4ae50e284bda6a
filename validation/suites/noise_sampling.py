"""Minibatch sampling of the ``noise`` suite: indices of minibatch draws and the gradient noise ξ = g_B − ∇L.

Used by ``validation.suites.noise`` for both the C18 Gaussianity draws and the C17 B·C invariance draws.
"""
from __future__ import annotations

import numpy as np

from flatminima.errors import InputError

__all__ = ["minibatch_indices", "minibatch_noise"]


# ------------------------------------------------------------------------------------------ minibatches
def minibatch_indices(m: int, batch_size: int, n_draws: int, *, rng, replacement: bool = False) -> np.ndarray:
    """Sample indices of ``n_draws`` independent minibatches, shape (n_draws, batch_size).

    Without replacement each row is a uniform random subset (as one step of shuffling SGD sees); with
    replacement the B indices are i.i.d. uniform.
    """
    m, batch_size, n_draws = int(m), int(batch_size), int(n_draws)
    if not 1 <= batch_size <= (10**9 if replacement else m):
        raise InputError(f"batch_size must be between 1 and m = {m} without replacement; got {batch_size}")
    if replacement:
        return rng.integers(0, m, size=(n_draws, batch_size))
    return np.argpartition(rng.random((n_draws, m)), batch_size - 1, axis=1)[:, :batch_size]


def minibatch_noise(centred, batch_size: int, n_draws: int, *, rng, replacement: bool = False) -> np.ndarray:
    """Draws of the minibatch gradient noise ξ = g_B − ∇L from centred per-sample gradients.

    Parameters
    ----------
    centred : ndarray, shape (m, k)
        ∇ℓ_j − ∇L for every sample (or any linear projection of it, e.g. onto k directions).
    batch_size, n_draws : int
    rng : numpy.random.Generator
    replacement : bool

    Returns
    -------
    ndarray, shape (n_draws, k)
        ξ = (1/B) Σ_{j ∈ batch} (∇ℓ_j − ∇L), exact for each drawn batch; computed as one matrix product
        of the draws' (1/B)-weighted indicator matrix with ``centred``.
    """
    centred = np.asarray(centred, dtype=float)
    m = centred.shape[0]
    idx = minibatch_indices(m, batch_size, n_draws, rng=rng, replacement=replacement)
    W = np.zeros((int(n_draws), m))
    np.add.at(W, (np.repeat(np.arange(int(n_draws)), int(batch_size)), idx.ravel()), 1.0 / batch_size)
    return W @ centred
