"""A loss with per-sample losses, for real minibatch SGD on your own model (``--noise minibatch``).

L(θ) = (1/m) Σ_j ℓ_j(θ) with ℓ_j(θ) = (θ0² − 1)² + a_j·θ0 + θ1²/2: a double well in θ0 (minima near
±1, saddle near 0) that every sample tilts by its own slope a_j (the a_j average to zero, so the
mean loss is the untilted well). A minibatch gradient is the mean of B per-sample gradients, whose
spread along θ0 is the spread of the a_j: the gradient noise of real SGD, which ``flatminima check``
measures at the minimum and the saddle instead of assuming C ∝ H.

Run it::

    flatminima check examples/tilted_wells.py:loss --dynamics sgd --noise minibatch --minimum=-1,0 --eta 0.0125

What flatminima reads from this file:

- ``loss(theta)``: L(θ) for θ of shape (2,), written with ``autograd.numpy``;
- ``DIM``: the dimension (or pass ``--minimum``);
- ``sample_losses(theta, idx)``: the per-sample losses ℓ_j(θ) for the integer sample indices ``idx``
  (shape (B,) → (B,)); it may also take θ of shape (d, R) with idx of shape (B, R) and return (B, R),
  one minibatch per column, which this one does (numpy broadcasting) and which is faster;
- ``N_SAMPLES``: m (or set ``loss.n_samples``); ``loss`` must equal the mean of ``sample_losses`` over
  all m samples (checked when the file is loaded);
- optionally ``loss.saddles = [[0.0, 0.0]]`` (saddle guesses) and ``loss.minima``.
"""
import autograd.numpy as np
import numpy

TILTS = numpy.random.default_rng(0).normal(0.0, 6.0, 64)
TILTS -= TILTS.mean()
DIM = 2
N_SAMPLES = TILTS.size


def sample_losses(theta, idx):
    """ℓ_j(θ) = (θ0² − 1)² + a_j·θ0 + θ1²/2 for the samples j in idx."""
    return (theta[0] ** 2 - 1.0) ** 2 + TILTS[idx] * theta[0] + 0.5 * theta[1] ** 2


def loss(theta):
    """L(θ), the mean of the per-sample losses."""
    return np.mean(sample_losses(theta, numpy.arange(N_SAMPLES)))
