"""The per-step noise factor S of fixed-noise dynamics θ ← θ − η∇L(θ) + S·ξ: white and ``hessian_fixed`` noise."""
from __future__ import annotations

import numpy as np

from flatminima.errors import InputError


def white_noise_matrix(dim: int, eta: float, temperature: float) -> np.ndarray:
    """S = √(2Dη)·I, the per-step noise factor of white-noise dynamics (docs/theory.md §White noise)."""
    eta, temperature = check_positive("eta", eta), check_positive("temperature", temperature)
    return np.sqrt(2.0 * temperature * eta) * np.eye(int(dim))


def hessian_fixed_noise_matrix(hessian, eta: float, batch_size: int, loss_unit: float = 1.0) -> np.ndarray:
    """S = η·√(λ/B)·chol(H_a): per-step noise covariance η²λH_a/B frozen at the minimum (docs/theory.md §hessian_fixed).

    Parameters
    ----------
    hessian : ndarray (d, d)
        H_a, symmetric positive definite.
    eta : float > 0
    batch_size : int ≥ 1
        B.
    loss_unit : float > 0
        λ.
    """
    eta, loss_unit = check_positive("eta", eta), check_positive("loss_unit", loss_unit)
    if int(batch_size) != batch_size or batch_size < 1:
        raise InputError(f"batch_size must be an integer >= 1; got {batch_size}")
    h = np.asarray(hessian, float)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.all(np.isfinite(h)):
        raise InputError(f"hessian must be a finite square matrix; got shape {h.shape}")
    try:
        f = np.linalg.cholesky(0.5 * (h + h.T))
    except np.linalg.LinAlgError:
        raise InputError(f"hessian must be positive definite; its eigenvalues are "
                         f"{np.array2string(np.linalg.eigvalsh(0.5 * (h + h.T)), precision=4)}") from None
    return eta * np.sqrt(loss_unit / int(batch_size)) * f


def check_positive(name, value) -> float:
    """``value`` as a float, checked to be finite and > 0 (an InputError naming the argument otherwise)."""
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a finite number > 0; got {value}")
    return value
