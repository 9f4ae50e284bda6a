"""Built-in landscapes: test functions with known critical points, written coordinate-first.

Each factory takes documented keyword parameters and returns a :class:`~numerics.landscape.Landscape`
whose ``minima``/``saddles`` are exact where a closed form exists and Newton-ready hints otherwise.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from flatminima.numerics.constants import MB_A, MB_a, MB_b, MB_c, MB_x0, MB_y0
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.landscape import Landscape


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise LandscapeError(f"{name} must be a finite number > 0; got {value}")
    return value


def _load_kernels() -> None:
    """Import the compiled kernels, which register the built-ins' compiled L and ∇L for ``Landscape.values``
    and ``grads`` (numerics.landscape.register_compiled); without numba the built-ins run on autograd."""
    try:
        import flatminima.numerics.kernels  # noqa: F401
    except ImportError:
        pass


# ---------------------------------------------------------------------- Styblinski–Tang
def styblinski_tang(dim: int = 2) -> Landscape:
    """L(θ) = ½ Σ_i (θ_i⁴ − 16 θ_i² + 5 θ_i) (docs/theory.md §Styblinski-Tang).

    Per coordinate the critical points are the roots of 4x³ − 32x + 5: −2.903534 (global minimum),
    0.156731 (maximum) and 2.746803 (local minimum). Every sign pattern of minima is a minimum of the
    d-dimensional function (2^d of them); index-1 saddles have exactly one coordinate at the maximum.

    Parameters
    ----------
    dim : int
        Dimension d ≥ 1.
    """
    if int(dim) != dim or dim < 1:
        raise LandscapeError(f"dim must be an integer >= 1; got {dim}")
    dim = int(dim)
    lo, mid, hi = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)

    def loss(theta):
        return 0.5 * anp.sum(theta**4 - 16.0 * theta**2 + 5.0 * theta, axis=0)

    if dim <= 3:   # all 2^d minima, and every index-1 saddle between neighbouring minima
        grid = np.array(np.meshgrid(*[[lo, hi]] * dim, indexing="ij")).reshape(dim, -1).T
        minima = [m for m in grid]
        saddles = [np.r_[m[:i], mid, m[i + 1:]] for m in grid for i in range(dim) if m[i] == lo]
    else:          # representatives: the global minimum, one local minimum and the saddle between
        minima = [np.full(dim, lo), np.r_[hi, np.full(dim - 1, lo)]]
        saddles = [np.r_[mid, np.full(dim - 1, lo)]]
    _load_kernels()
    return Landscape(
        name=f"styblinski-tang:dim={dim}", dim=dim, loss=loss,
        minima=tuple(minima), saddles=tuple(saddles), params={"dim": dim},
        kernel=("styblinski_tang", (), 1.0),
        description="½Σ(θᵢ⁴ − 16θᵢ² + 5θᵢ); minima at the outer roots of 4x³ − 32x + 5 per coordinate",
    )


# ---------------------------------------------------------------------- asymmetric 1-D double well
def _side_quartic(barrier: float, h_min: float, h_saddle: float):
    """Quartic q(u) = αu⁴ + βu³ + γu² with q(0)=q'(0)=0, q(−1)=−1, q'(−1)=0 and the curvature ratio.

    The two conditions at u = −1 give α = γ + 3 and β = 2γ + 4, so q''(−1) = 12 + 2γ and q''(0) = 2γ.
    With g = −γ the curvature ratio H_min/|H_saddle| = (6 − g)/g fixes g = 6/(1 + ratio); g < 3 keeps
    the other root of q' outside [−1, 0] (no extra critical point), which needs H_min > |H_saddle|.
    Returns (α, β, γ, w): the side is L(x) = barrier·q(x/w), with its minimum at x = −w.
    """
    ratio = h_min / h_saddle
    g = 6.0 / (1.0 + ratio)
    gamma = -g
    alpha, beta = gamma + 3.0, 2.0 * gamma + 4.0
    w = np.sqrt(barrier * (12.0 + 2.0 * gamma) / h_min)
    return alpha, beta, gamma, w


def double_well(barrier_left: float = 0.25, barrier_right: float = 0.25, h_left: float = 2.0,
                h_right: float = 2.0, h_saddle: float | None = None) -> Landscape:
    """1-D asymmetric double well with both barriers and all three curvatures set by parameters.

    The saddle (maximum) is at θ = 0 with L = 0; the left minimum at θ = −w_l has L = −barrier_left and
    curvature h_left; the right one at θ = +w_r has L = −barrier_right and curvature h_right; the
    curvature at the saddle is −h_saddle. Each side is a quartic in θ/w (see ``_side_quartic``), so L
    is C² (the Hessian is continuous) and has no other critical points. The defaults give exactly
    L = θ⁴/4 − θ²/2 (docs/theory.md table T1: H_a = 2, |H_b| = 1, ΔL = 1/4).

    Parameters
    ----------
    barrier_left, barrier_right : float > 0
        ΔL out of the left and right minimum.
    h_left, h_right : float > 0
        L'' at the left and right minimum.
    h_saddle : float > 0, optional
        |L''| at the saddle; must be below both h_left and h_right. Default: min(h_left, h_right)/2.
    """
    bl, br = _positive("barrier_left", barrier_left), _positive("barrier_right", barrier_right)
    hl, hr = _positive("h_left", h_left), _positive("h_right", h_right)
    hb = 0.5 * min(hl, hr) if h_saddle is None else _positive("h_saddle", h_saddle)
    if hb >= min(hl, hr):
        raise LandscapeError(f"h_saddle must be < min(h_left, h_right) = {min(hl, hr):g}; got {hb:g}")
    al, bel, gal, wl = _side_quartic(bl, hl, hb)
    ar, ber, gar, wr = _side_quartic(br, hr, hb)

    def loss(theta):
        x = theta[0]
        ul, ur = x / wl, -x / wr
        left = bl * (al * ul**4 + bel * ul**3 + gal * ul**2)
        right = br * (ar * ur**4 + ber * ur**3 + gar * ur**2)
        return anp.where(x <= 0.0, left, right)

    _load_kernels()
    return Landscape(
        name=f"double-well:barrier_left={bl:g},barrier_right={br:g},h_left={hl:g},h_right={hr:g},h_saddle={hb:g}",
        dim=1, loss=loss, minima=(np.array([-wl]), np.array([wr])), saddles=(np.array([0.0]),),
        params={"barrier_left": bl, "barrier_right": br, "h_left": hl, "h_right": hr, "h_saddle": hb},
        kernel=("double_well", (bl, br, al, bel, gal, wl, ar, ber, gar, wr), 1.0),
        description="C² piecewise-quartic asymmetric double well; saddle at 0, minima at −w_l and +w_r",
    )


# ---------------------------------------------------------------------- 2-D curved, tilted two-well
def two_well_2d(stiffness: float = 2.0, curvature: float = 0.5, tilt: float = 0.2) -> Landscape:
    """L(x, y) = (x² − 1)² + stiffness·(y − curvature·(x² − 1))² + tilt·x.

    A non-separable two-well: the valley floor is the parabola y = curvature·(x² − 1), so the minimum
    energy path is curved; the tilt makes the wells unequal (the right well is higher for tilt > 0).
    Minima near (±1, 0), the index-1 saddle near (0, −curvature); exact positions are found by Newton.

    Parameters
    ----------
    stiffness : float > 0
        Curvature scale across the valley.
    curvature : float
        Bend of the valley (0 gives a straight valley and a separable landscape).
    tilt : float
        Linear tilt along x; |tilt| < 0.5 keeps two minima.
    """
    k = _positive("stiffness", stiffness)
    c, t = float(curvature), float(tilt)
    if not (np.isfinite(c) and np.isfinite(t)) or abs(t) >= 0.5:
        raise LandscapeError(f"tilt must be finite with |tilt| < 0.5 (two minima); got {t}")

    def loss(theta):
        x, y = theta[0], theta[1]
        return (x**2 - 1.0) ** 2 + k * (y - c * (x**2 - 1.0)) ** 2 + t * x

    _load_kernels()
    return Landscape(
        name=f"two-well-2d:stiffness={k:g},curvature={c:g},tilt={t:g}", dim=2, loss=loss,
        minima=(np.array([-1.0, 0.0]), np.array([1.0, 0.0])), saddles=(np.array([0.0, -c]),),
        params={"stiffness": k, "curvature": c, "tilt": t},
        kernel=("two_well_2d", (k, c, t), 1.0),
        description="(x²−1)² + k(y − c(x²−1))² + t·x: curved valley, tilted wells (hints; refine by Newton)",
    )


# ---------------------------------------------------------------------- Müller–Brown
def muller_brown(scale: float = 1.0) -> Landscape:
    """The Müller–Brown potential (Müller & Brown 1979), optionally multiplied by ``scale``.

    Three minima and two index-1 saddles; hints below are the usual rounded literature positions
    (refined by Newton in ``numerics.critical``).

    Parameters
    ----------
    scale : float > 0
        Multiplies the potential (the original has barriers of tens to ~100 units).
    """
    sc = _positive("scale", scale)

    def loss(theta):
        x, y = theta[0], theta[1]
        total = 0.0
        for i in range(4):
            dx, dy = x - MB_x0[i], y - MB_y0[i]
            total = total + MB_A[i] * anp.exp(MB_a[i] * dx**2 + MB_b[i] * dx * dy + MB_c[i] * dy**2)
        return sc * total

    _load_kernels()
    return Landscape(
        name=f"muller-brown:scale={sc:g}", dim=2, loss=loss,
        minima=(np.array([-0.558, 1.442]), np.array([0.623, 0.028]), np.array([-0.050, 0.467])),
        saddles=(np.array([-0.822, 0.624]), np.array([0.212, 0.293])),
        params={"scale": sc},
        kernel=("muller_brown", (sc,), 1.0),
        description="Müller–Brown (1979): 3 minima, 2 index-1 saddles",
    )
