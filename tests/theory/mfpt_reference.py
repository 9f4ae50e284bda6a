"""Independent reference for the tests: the exact 1-D mean first-passage time by quadrature.

See docs/theory.md §Exact references.

T(a) = ∫_a^c dy /(D(y) p(y)) ∫_{left}^y p(z) dz with p = D^{α−1} exp(−Φ), Φ′ = U′/D (α-convention,
reflecting at ``left``, absorbing at ``c``). Evaluated on a grid in log space with cumulative trapezoids,
p normalised by its maximum before exponentiating (the recipe of docs/theory.md §Exact references). Uses
numpy only; it
shares no code with ``theory``.
"""
import numpy as np


def _cumtrapz(y, x):
    out = np.zeros_like(y)
    out[1:] = np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))
    return out


def exact_mfpt(du, diffusion, *, start, stop, left, alpha=0.0, n=400_001):
    """Mean first-passage time from ``start`` to ``stop`` for dx = (−U′ + αD′)dt + √(2D)dW."""
    x = np.linspace(left, stop, n)
    D = diffusion(x)
    phi = _cumtrapz(du(x) / D, x)
    logp = (alpha - 1.0) * np.log(D) - phi
    shift = logp.max()
    F = _cumtrapz(np.exp(logp - shift), x)          # ∫_left^y p, scaled by e^{-shift}
    with np.errstate(divide="ignore"):
        log_outer = -np.log(D) - (logp - shift) + np.log(F)
    i0 = np.searchsorted(x, start)
    xs, lo = x[i0:], log_outer[i0:]
    m = lo[np.isfinite(lo)].max()
    return float(np.exp(m) * np.trapezoid(np.exp(lo - m), xs))
