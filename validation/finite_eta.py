"""The exponent of the discrete 1-D SGD chain at finite learning rate: the η-expansion of ``theory.finite_eta``
evaluated on a loss and a noise function by quadrature.

For θ' = θ − ηL′(θ) + η√(c(θ)/B)ξ, −log γ = (B/η)·Σ_j η^j I_j + prefactor, I_j = ∫_a^b p_j dθ, where p₀ = 2L′/c
is the SDE limit and p₁, p₂, p₃ the corrections (docs/theory.md §Discretisation). The slope of −log γ against B
at fixed η is therefore Σ_j η^{j−1} I_j, up to O(η³) and to terms that vanish as B grows.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import numpy as np
from scipy.integrate import quad

from flatminima.errors import InputError

__all__ = ["ExponentTerms", "exponent_terms"]


@dataclass(frozen=True)
class ExponentTerms:
    """I₀ … I₃ of the discrete chain's exponent (module docstring), with their quadrature errors."""

    integrals: tuple[float, ...]
    errors: tuple[float, ...]

    def slope(self, eta: float, order: int = 3) -> float:
        """d(−log γ)/dB at fixed η to the given order: Σ_{j ≤ order} η^{j−1} I_j."""
        if not 0 <= order < len(self.integrals):
            raise InputError(f"order must be in 0..{len(self.integrals) - 1}; got {order}")
        return float(sum(eta**(j - 1) * self.integrals[j] for j in range(order + 1)))

    def correction(self, eta: float, order: int = 3) -> float:
        """The slope minus its SDE limit I₀/η: Σ_{1 ≤ j ≤ order} η^{j−1} I_j."""
        return self.slope(eta, order) - self.integrals[0] / eta


def exponent_terms(loss_derivatives: Sequence[Callable], noise_derivatives: Sequence[Callable], a: float,
                   b: float) -> ExponentTerms:
    """The integrals I_j = ∫_a^b p_j dθ for a 1-D loss and noise function.

    Parameters
    ----------
    loss_derivatives : sequence of callables
        L′, L″, L‴ (the densities to third order use derivatives up to L‴; further entries are ignored).
    noise_derivatives : sequence of callables
        c, c′, c″ likewise (c > 0 on [a, b]; c = λH near the minimum for SGD-type noise, a constant for white
        noise, where the per-step noise variance is η²c/B).
    a, b : float
        The minimum and the saddle (L′(a) = L′(b) = 0).
    """
    from flatminima.theory.finite_eta import C, G, exponent_density_functions, needed_derivatives
    if not (np.isfinite(a) and np.isfinite(b)) or a == b:
        raise InputError(f"a and b must be finite and different; got {a!r}, {b!r}")
    n_g, n_c = needed_derivatives()
    if len(loss_derivatives) < n_g or len(noise_derivatives) < n_c:
        raise InputError(f"loss_derivatives needs L′ … L^({n_g}) ({n_g} functions) and noise_derivatives c … "
                         f"c^({n_c - 1}) ({n_c} functions); got {len(loss_derivatives)} and {len(noise_derivatives)}")
    unused = (lambda t: 0.0)           # symbols beyond the needed ones do not appear in the densities
    g = list(loss_derivatives)[:n_g] + [unused] * (len(G) - n_g)
    c = list(noise_derivatives)[:n_c] + [unused] * (len(C) - n_c)

    def density(j):
        f = exponent_density_functions()[j]
        return lambda t: float(f(*(h(t) for h in g), *(h(t) for h in c)))

    lo, hi = min(a, b), max(a, b)
    sign = 1.0 if b > a else -1.0
    values, errors = [], []
    for j in range(len(exponent_density_functions())):
        v, e = quad(density(j), lo, hi, epsabs=1e-14, epsrel=1e-12, limit=200)
        values.append(sign * v)
        errors.append(e)
    return ExponentTerms(tuple(values), tuple(errors))
