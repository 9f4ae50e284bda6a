"""Exact 1-D mean first-passage time by quadrature, computed in log space (docs/theory.md §Exact references).

The SDE is the Itô equation dθ = μ(θ) dt + √(2D(θ)) dW with μ = −L' + α D'
(docs/theory.md §Stochastic calculus conventions):
α = 0 Itô, α = ½ Stratonovich, α = 1 Hänggi–Klimontovich. Its generator is 𝒜f = μ f' + D f''.
The mean first-passage time T(θ) to an absorbing point c solves 𝒜T = −1 (docs/theory.md §Exact references).

Write 𝒜f = (1/m)(f'/s)' with the scale density s and the speed density m = 1/(D s):

    log s = Φ − α log D,    log m = −Φ + (α − 1) log D,    Φ(θ) = ∫^θ L'/D,

because ∫ μ/D = −Φ + α log D exactly (the α D'/D term integrates in closed form, so no D' is
needed). Then, with a reflecting left end l,

    T(x) = ∫_x^c s(y) M(y) dy,    M(y) = ∫_l^y m(z) dz           (docs/theory.md §Exact references),

and with an absorbing left end (two-sided exit), the Green's function of 𝒜 on [l, c] gives

    T(x) = [S(l,x) ∫_x^c S(y,c) m(y) dy + S(x,c) ∫_l^x S(l,y) m(y) dy] / S(l,c),
    S(a,b) = ∫_a^b s.

Every term is positive, so everything stays in log space: cumulative integrals are
``logaddexp``-accumulations of per-cell log integrals and nothing is exponentiated until the end,
so barriers of thousands of temperatures neither overflow nor underflow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import cumulative_simpson

from flatminima.errors import InputError

__all__ = ["CONVENTIONS", "MFPT1DResult", "mfpt_1d"]

#: α of the α-convention SDE (docs/theory.md §Stochastic calculus conventions, §Prefactor conventions):
#: drift μ = −L' + α D'.
CONVENTIONS: dict[str, float] = {"ito": 0.0, "stratonovich": 0.5, "hanggi-klimontovich": 1.0}

# The default left cut-off is where the speed density m has fallen this many nats below its
# maximum (docs/theory.md §Exact references: "choose a left cut-off where U − U(a) ≫ ε"): e^-50 ≈ 2e-22, far below
# double-precision relevance for T.
CUTOFF_NATS = 50.0
# Grid spacing h = RESOLUTION / √κ, κ the largest |g''| of the log-integrands where they matter
# (within RELEVANT_NATS of their maximum). The log-linear cell rule then has a relative error of
# about h²κ/12 ≈ 3e-5 before Richardson extrapolation.
RESOLUTION = 0.02
RELEVANT_NATS = 40.0
MIN_CELLS = 2000          # per unit span floor: at least this many cells over [left, c]
MAX_POINTS = 2_000_001    # refuse grids larger than this instead of running out of memory
_LOG_FLOAT_MAX = math.log(np.finfo(float).max)


@dataclass(frozen=True)
class MFPT1DResult:
    """Mean first-passage time of a 1-D diffusion from ``start`` to ``absorbing``, by quadrature.

    Attributes
    ----------
    escape_time : float
        T(start) in SDE time units; ``inf`` if it exceeds the float range (use ``log_escape_time``).
    log_escape_time : float
        log T(start), always finite; Richardson-extrapolated over grids h and 2h.
    rate : float
        1/T(start) (underflows to 0.0 below ~1e-308; use ``log_rate``).
    log_rate : float
        −log T(start).
    log_error : float
        Error estimate of ``log_escape_time``: |log T_h − log T_extrapolated| (the unextrapolated
        fine-grid error, so a conservative bound for the extrapolated value).
    n_points : int
        Number of nodes of the fine grid.
    convention : str
        ``"ito"``, ``"stratonovich"`` or ``"hanggi-klimontovich"``.
    method : str
        How the number was computed.
    start, absorbing, left : float
        Start θ0, absorbing point c and left end l of the domain.
    left_kind : str
        ``"reflecting"`` or ``"absorbing"``.
    """

    escape_time: float
    log_escape_time: float
    rate: float
    log_rate: float
    log_error: float
    n_points: int
    convention: str
    method: str
    start: float
    absorbing: float
    left: float
    left_kind: str

    @property
    def relative_error(self) -> float:
        """Error estimate of ``escape_time`` as a relative error, expm1(log_error)."""
        return math.expm1(self.log_error)


def _evaluate(fn: Callable, x: np.ndarray, name: str) -> np.ndarray:
    """``fn`` on a grid; vectorised if it can be, else point by point. Must be finite."""
    try:
        out = np.asarray(fn(x), dtype=float)
        if out.ndim == 0:   # a constant written as a function of θ
            out = np.full(x.shape, float(out))
    except (TypeError, ValueError):   # a scalar-only callable
        out = None
    if out is None or out.shape != x.shape:
        out = np.array([float(fn(float(v))) for v in x])
    if not np.all(np.isfinite(out)):
        bad = x[~np.isfinite(out)][0]
        raise InputError(f"{name} is not finite at theta={bad:.6g}")
    return out


class _Problem:
    """Loss, temperature and convention of one MFPT problem; gives log s and log m on a grid."""

    def __init__(self, loss, grad, temperature, alpha):
        self.loss, self.grad, self.alpha = loss, grad, alpha
        self.constant = not callable(temperature)
        if self.constant:
            value = float(temperature)
            if not (np.isfinite(value) and value > 0):
                raise InputError(f"temperature must be positive and finite; got {temperature!r}")
            self.temperature = value
        else:
            self.temperature = temperature

    def log_densities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log s, log m) on the grid ``x``, up to additive constants (docs/theory.md §Exact references)."""
        if self.constant:
            d = np.full_like(x, self.temperature)
            # constant D: Φ = (L − L(x0))/D exactly
            phi = (_evaluate(self.loss, x, "loss") - float(self.loss(x[0]))) / self.temperature
        else:
            d = _evaluate(self.temperature, x, "temperature")
            if np.any(d <= 0):
                bad = x[d <= 0][0]
                raise InputError(f"temperature must be positive; D({bad:.6g}) = {d[d <= 0][0]:.3g}")
            # Φ = ∫ L'/D (docs/theory.md §Stochastic calculus conventions), fourth-order cumulative Simpson
            phi = cumulative_simpson(_evaluate(self.grad, x, "grad") / d, x=x, initial=0.0)
        log_d = np.log(d)
        return phi - self.alpha * log_d, -phi + (self.alpha - 1.0) * log_d

    def check_grad(self, x: np.ndarray) -> None:
        """Refuse a ``grad`` that is not the derivative of ``loss`` (e.g. a sign error)."""
        u = _evaluate(self.loss, x, "loss")
        g = _evaluate(self.grad, x, "grad")
        integral = cumulative_simpson(g, x=x, initial=0.0)
        scale = max(np.ptp(u), 1e-300)
        mismatch = np.max(np.abs(integral - (u - u[0]))) / scale
        if mismatch > 1e-3:
            raise InputError(f"grad is not the derivative of loss on [{x[0]:.4g}, {x[-1]:.4g}] "
                             f"(relative mismatch {mismatch:.2g})")


def _log_cell_integrals(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log ∫ over each cell [x_i, x_i+1] of e^g, with g interpolated linearly (exact for exponentials).

    ∫ = h e^{max g} · (1 − e^{−|Δg|})/|Δg|. A cell with one end at −inf (an integrand that vanishes
    at a boundary) falls back to the trapezoid rule, h e^{g_finite}/2.
    """
    h = np.diff(x)
    g0, g1 = g[:-1], g[1:]
    top = np.maximum(g0, g1)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.abs(g1 - g0)
        small = a < 1e-6
        log_mean = np.where(small, -a / 2 + a * a / 24, np.log(-np.expm1(-a)) - np.log(a))
    finite = np.isfinite(g0) & np.isfinite(g1)
    out = np.where(finite, np.log(h) + top + np.where(finite, log_mean, 0.0), np.log(h / 2) + top)
    return out


def _log_cumulative(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log ∫_{x_0}^{x_i} e^g for every node i (−inf at i = 0)."""
    cells = _log_cell_integrals(g, x)
    out = np.empty_like(g)
    out[0] = -np.inf
    out[1:] = np.logaddexp.accumulate(cells)
    return out


def _log_integral(g: np.ndarray, x: np.ndarray, rule: str = "log-linear") -> float:
    """log ∫_{x_0}^{x_-1} e^g, by the log-linear cell rule or the trapezoid rule."""
    if rule == "trapezoid":
        cells = np.log(np.diff(x) / 2) + np.logaddexp(g[:-1], g[1:])
    else:
        cells = _log_cell_integrals(g, x)
    top = np.max(cells)
    return float(top + np.log(np.sum(np.exp(cells - top))))


def _log_mfpt_on_grid(log_s, log_m, x, i0, two_sided) -> float:
    """log T(x[i0]) from log s and log m on grid ``x`` whose last node is the absorbing point."""
    log_s_from_left = _log_cumulative(log_s, x)                     # log S(l, y)
    if not two_sided:
        log_big_m = _log_cumulative(log_m, x)                        # log M(y)
        return _log_integral(log_s[i0:] + log_big_m[i0:], x[i0:])    # ∫_x^c s M
    log_s_to_right = _log_cumulative(log_s[::-1], -x[::-1])[::-1]  # log S(y, c)
    # S(y, c) m(y) and S(l, y) m(y) vanish linearly at the absorbing ends, where log-linear
    # interpolation is poor: integrate them with the trapezoid rule instead
    term_right = _log_integral(log_s_to_right[i0:] + log_m[i0:], x[i0:], "trapezoid")
    term_left = _log_integral(log_s_from_left[: i0 + 1] + log_m[: i0 + 1], x[: i0 + 1], "trapezoid")
    numerator = np.logaddexp(log_s_from_left[i0] + term_right, log_s_to_right[i0] + term_left)
    return float(numerator - log_s_from_left[-1])


def _relevant_curvature(g: np.ndarray, h: float) -> float:
    """Largest |g''| (second differences) where g is within RELEVANT_NATS of its maximum."""
    if g.size < 3:
        return 0.0
    curv = np.abs(np.diff(g, 2)) / h**2
    keep = g[1:-1] > np.max(g) - RELEVANT_NATS
    return float(np.max(curv[keep])) if np.any(keep) else 0.0


def _default_left(problem: _Problem, start: float, absorbing: float) -> float:
    """The nearest left cut-off (doubling outwards) where m is CUTOFF_NATS below its maximum."""
    width = max(absorbing - start, 1.0)
    for _ in range(60):
        left = start - width
        x = np.linspace(left, absorbing, 4001)
        with np.errstate(over="ignore"):
            _, log_m = problem.log_densities(x)
        if log_m[0] < np.max(log_m) - CUTOFF_NATS and np.argmax(log_m) > 0:
            return left
        width *= 2.0
    raise InputError("loss does not confine the diffusion on the left of start; pass left= "
                     "(and left_kind=) explicitly")


def _segment_grid(left, start, absorbing, h) -> tuple[np.ndarray, int]:
    """Piecewise-uniform grid with even cell counts on [left, start] and [start, absorbing]."""
    n_l = 2 * max(1, math.ceil((start - left) / h / 2))
    n_r = 2 * max(1, math.ceil((absorbing - start) / h / 2))
    if n_l + n_r + 1 > MAX_POINTS:
        raise InputError(f"the problem needs {n_l + n_r + 1} grid points (> {MAX_POINTS}); "
                         "lower n_points or bring left closer")
    x = np.concatenate([np.linspace(left, start, n_l + 1)[:-1], np.linspace(start, absorbing, n_r + 1)])
    return x, n_l


def mfpt_1d(loss: Callable, grad: Callable, temperature, *, start: float, absorbing: float,
            left: float | None = None, left_kind: str = "reflecting", convention: str = "ito",
            n_points: int | None = None) -> MFPT1DResult:
    """Mean first-passage time T(start) of dθ = (−L' + αD') dt + √(2D) dW to θ = ``absorbing``.

    Parameters
    ----------
    loss : callable
        L(θ); vectorised over a numpy array if possible (a scalar fallback loop is used otherwise).
    grad : callable
        L'(θ), written out (not finite-differenced); checked against ``loss`` on the grid.
    temperature : float or callable
        The diffusion coefficient D > 0, constant or a function D(θ).

    Other Parameters
    ----------------
    start : float
        θ0, the starting point.
    absorbing : float
        c > start, the absorbing point (the saddle for the "to saddle" time, docs/theory.md §Which escape time).
    left : float, optional
        Left end l < start of the domain. Default: the nearest point, found by doubling outwards,
        where the speed density is ``CUTOFF_NATS`` below its maximum (a reflecting far cut-off).
    left_kind : {"reflecting", "absorbing"}
        Boundary condition at ``left``; ``"absorbing"`` gives the two-sided exit time from (l, c).
    convention : {"ito", "stratonovich", "hanggi-klimontovich"}
        α = 0, ½, 1 in μ = −L' + αD' (docs/theory.md §Stochastic calculus conventions). Irrelevant for constant D.
    n_points : int, optional
        Fine-grid size. Default: chosen from the curvature of the log-integrands (``RESOLUTION``).

    Returns
    -------
    MFPT1DResult
        log T, T, the rate 1/T, an error estimate from grids h and 2h, and what was done.

    Notes
    -----
    Both grids are piecewise uniform with ``start`` as a node; the coarse grid is every other node
    of the fine one. Each log-integral uses the log-linear cell rule (``_log_cell_integrals``), whose
    error is O(h²); the returned value is the Richardson extrapolation (4 T_h − T_2h)/3.

    References
    ----------
    .. [1] docs/theory.md §Exact references (formula and recipe), §Which escape time (to the saddle is half
       the Kramers time), §Prefactor conventions (Laplace asymptotics for position-dependent D), and tables
       T1–T4 of §Reference tables.
    """
    for name, value in (("start", start), ("absorbing", absorbing)):
        if not np.isfinite(value):
            raise InputError(f"{name} must be finite; got {value!r}")
    start, absorbing = float(start), float(absorbing)
    if not absorbing > start:
        raise InputError(f"absorbing must be > start; got absorbing={absorbing:g}, start={start:g}")
    if convention not in CONVENTIONS:
        raise InputError(f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}")
    if left_kind not in ("reflecting", "absorbing"):
        raise InputError(f"left_kind must be 'reflecting' or 'absorbing'; got {left_kind!r}")
    if n_points is not None and (int(n_points) != n_points or n_points < 9):
        raise InputError(f"n_points must be an integer >= 9; got {n_points!r}")
    if not callable(loss) or not callable(grad):
        raise InputError("loss and grad must be callables of theta")
    problem = _Problem(loss, grad, temperature, CONVENTIONS[convention])
    if left is None:
        if left_kind == "absorbing":
            raise InputError("left must be given when left_kind='absorbing'")
        left = _default_left(problem, start, absorbing)
    left = float(left)
    if not (np.isfinite(left) and left < start):
        raise InputError(f"left must be finite and < start; got left={left!r}, start={start:g}")
    two_sided = left_kind == "absorbing"
    span = absorbing - left

    pilot = np.linspace(left, absorbing, 4001)
    problem.check_grad(pilot)
    if n_points is None:
        h = span / MIN_CELLS
        for _ in range(4):   # refine the pilot until it resolves the features it measures
            pilot = np.linspace(left, absorbing, int(span / h) + 1)
            hp = pilot[1] - pilot[0]
            log_s, log_m = problem.log_densities(pilot)
            i0 = int(np.searchsorted(pilot, start))
            outer = log_s[i0:] + _log_cumulative(log_m, pilot)[i0:]
            kappa = max(_relevant_curvature(log_m, hp), _relevant_curvature(outer[1:], hp))
            h = min(span / MIN_CELLS, RESOLUTION / math.sqrt(kappa)) if kappa > 0 else span / MIN_CELLS
            if hp <= 20 * h:
                break
    else:
        h = span / (int(n_points) - 1)
    x, i0 = _segment_grid(left, start, absorbing, h)
    log_s, log_m = problem.log_densities(x)
    fine = _log_mfpt_on_grid(log_s, log_m, x, i0, two_sided)
    coarse = _log_mfpt_on_grid(log_s[::2], log_m[::2], x[::2], i0 // 2, two_sided)
    # Richardson: T = (4 T_h − T_2h)/3, in log space (T_2h/T_h = e^{coarse − fine})
    ratio = math.exp(coarse - fine)
    log_t = fine + math.log((4.0 - ratio) / 3.0) if ratio < 4.0 else fine
    log_error = abs(fine - log_t)
    escape_time = math.exp(log_t) if log_t < _LOG_FLOAT_MAX else math.inf
    rate = math.exp(-log_t) if -log_t > -745.0 else 0.0
    method = (f"log-space quadrature (docs/theory.md §Exact references), log-linear cells, {left_kind} left end, "
              f"Richardson over h={x[1] - x[0]:.3g} and 2h")
    return MFPT1DResult(escape_time=escape_time, log_escape_time=log_t, rate=rate, log_rate=-log_t,
                        log_error=log_error, n_points=int(x.size), convention=convention,
                        method=method, start=start, absorbing=absorbing, left=left,
                        left_kind=left_kind)
