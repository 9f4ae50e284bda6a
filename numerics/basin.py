"""Per-minimum analysis: the minimum, every escape path out of its basin, and their JSON (``landscape --json``).

An escape path is an index-1 saddle b on the boundary of the basin of a (descending from b along −e
reaches a) together with the half of the minimum energy path from a to b. For each path:
ΔL = L(b) − L(a), e (unit negative-curvature eigenvector of H_b, oriented away from a),
h_ae = eᵀH_a e and h_be = |λ_min(H_b)| = |eᵀH_b e| along the same e, as Xie et al. (2021, Eq. (7))
define them, and s at the inflection split of the path. Beside them: the curvature tᵀH_a t along the
unit direction t in which the minimum energy path leaves a, the angle between t and e, and how far e
is from an eigenvector of H_a. Eq. (7) integrates along one straight direction e; when the path is
curved or e is not an eigenvector of H_a it rests on that heuristic (a warning says so), and the
quasi-potential (``numerics.quasipotential``) gives the exponent instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flatminima.numerics.critical import (DENSE_MAX, CriticalPointError, find_minima, find_minimum, hessian_spectrum,
                               unique_points, zero_mode_mask)
from flatminima.numerics.paths import Stopped, flat_connected, minimum_energy_path
from flatminima.numerics.saddles import Budget, SaddleSearch, search_saddles

__all__ = ["EscapePath", "BasinAnalysis", "analyse_basin", "group_flat_minima"]


def _num(x) -> float | None:
    """A plain float for JSON; NaN and inf become None (JSON has no such numbers)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _nums(xs) -> list:
    return [_num(x) for x in np.ravel(xs)]


@dataclass(frozen=True)
class EscapePath:
    """One way out of a basin: the saddle b, the barrier and the curvatures of docs/theory.md §Assumptions and
    §The path parameter s.

    Attributes
    ----------
    saddle : ndarray (d,)
        θ_b, an index-1 saddle on the basin boundary.
    saddle_loss : float
        L(b).
    saddle_hessian_eigenvalues : ndarray
        Eigenvalues of H_b, ascending (all when d ≤ DENSE_MAX, else the lowest few).
    barrier : float
        ΔL = L(b) − L(a).
    escape_direction : ndarray (d,)
        e, unit eigenvector of H_b's negative eigenvalue, oriented away from a.
    h_ae : float
        eᵀH_a e, the minimum's curvature along the escape direction e.
    h_be : float
        |λ_min(H_b)|.
    s : float
        (L(c) − L(a))/ΔL at the first sign change c of the curvature along the path (NaN if none).
    mep_points : ndarray (n, d)
        The minimum energy path from a (first row) to b (last row).
    mep_losses : ndarray (n,)
        L along ``mep_points``.
    tangent : ndarray (d,)
        t, the unit direction in which the minimum energy path leaves a.
    tangent_curvature : float
        tᵀH_a t.
    e_eigen_angle : float
        Angle in degrees between e and H_a e: 0 when e is an eigenvector of H_a.
    """

    saddle: np.ndarray
    saddle_loss: float
    saddle_hessian_eigenvalues: np.ndarray
    barrier: float
    escape_direction: np.ndarray
    h_ae: float
    h_be: float
    s: float
    mep_points: np.ndarray
    mep_losses: np.ndarray
    tangent: np.ndarray = None
    tangent_curvature: float = float("nan")
    e_eigen_angle: float = float("nan")

    @property
    def tangent_angle(self) -> float:
        """Angle in degrees between e and the path's tangent t at a (0 for a straight escape path)."""
        if self.tangent is None:
            return float("nan")
        c = abs(float(self.escape_direction @ self.tangent))
        return math.degrees(math.acos(min(c, 1.0)))

    def heuristic_warning(self) -> str | None:
        """One line when Eq. (7)'s straight-direction integral is a heuristic here (curved path, e not an eigenvector)."""
        parts = []
        if self.tangent_angle > HEURISTIC_ANGLE:
            parts.append(f"the minimum energy path leaves a at {self.tangent_angle:.0f}° from e (curvature along it "
                         f"{self.tangent_curvature:.4g}, along e {self.h_ae:.4g})")
        if self.e_eigen_angle > HEURISTIC_ANGLE:
            parts.append(f"e is {self.e_eigen_angle:.0f}° from an eigenvector of H_a")
        if not parts:
            return None
        return ("Eq. (7) rests on its straight-direction heuristic here: " + " and ".join(parts)
                + "; the quasi-potential gives the exponent")

    @property
    def zero_modes(self) -> int:
        """Number of zero Hessian eigenvalues at the saddle (flat directions, ``critical.zero_mode_mask``)."""
        return int(np.sum(zero_mode_mask(self.saddle_hessian_eigenvalues)))

    def to_dict(self) -> dict:
        """One entry of "paths" in ``landscape --json`` (plain Python numbers; the MEP is not included)."""
        return {
            "saddle": {"theta": _nums(self.saddle), "loss": _num(self.saddle_loss),
                       "hessian_eigenvalues": _nums(self.saddle_hessian_eigenvalues),
                       "zero_modes": self.zero_modes},
            "barrier": _num(self.barrier), "h_ae": _num(self.h_ae), "h_be": _num(self.h_be),
            "s": _num(self.s), "escape_direction": _nums(self.escape_direction),
            "tangent_curvature": _num(self.tangent_curvature), "tangent_angle_deg": _num(self.tangent_angle),
            "e_eigen_angle_deg": _num(self.e_eigen_angle),
        }


@dataclass(frozen=True)
class BasinAnalysis:
    """A minimum a of a landscape and all escape paths found out of its basin, lowest barrier first.

    Attributes
    ----------
    landscape : str
        The landscape's name.
    dim : int
        d.
    minimum : ndarray (d,)
        θ_a.
    loss : float
        L(a).
    hessian_eigenvalues : ndarray
        Eigenvalues of H_a, ascending (all when d ≤ DENSE_MAX, else the lowest few).
    paths : list of EscapePath
    zero_mode_directions : ndarray (d, z)
        Unit eigenvectors of H_a's zero eigenvalues (flat directions); z = 0 for an isolated minimum.
    search : SaddleSearch or None
        What the saddle search tried (None when only given saddles were used).
    not_adjacent : int
        Index-1 saddles found whose steepest descent does not reach this minimum (they border
        other basins).
    unchecked : int
        Index-1 saddles found but not checked for adjacency because the time budget ended.
    """

    landscape: str
    dim: int
    minimum: np.ndarray
    loss: float
    hessian_eigenvalues: np.ndarray
    paths: list
    zero_mode_directions: np.ndarray | None = None
    search: SaddleSearch | None = None
    not_adjacent: int = 0
    unchecked: int = 0

    @property
    def zero_modes(self) -> int:
        """Number of zero Hessian eigenvalues at the minimum (flat directions)."""
        return 0 if self.zero_mode_directions is None else int(self.zero_mode_directions.shape[1])

    def to_dict(self) -> dict:
        """The ``landscape --json`` object (``check --json`` without "experiments")."""
        out = {
            "landscape": self.landscape, "dim": int(self.dim),
            "minimum": {"theta": _nums(self.minimum), "loss": _num(self.loss),
                        "hessian_eigenvalues": _nums(self.hessian_eigenvalues),
                        "zero_modes": self.zero_modes},
            "paths": [p.to_dict() for p in self.paths],
        }
        if self.zero_modes:
            out["minimum"]["zero_mode_directions"] = [_nums(v) for v in self.zero_mode_directions.T]
        if self.search is not None:
            out["search"] = {"summary": self.search.summary(), "seconds": _num(self.search.seconds),
                             "budget_ended": bool(self.search.budget_ended),
                             "saddles_not_adjacent": int(self.not_adjacent),
                             "saddles_unchecked": int(self.unchecked)}
        return out


HEURISTIC_ANGLE = 10.0
"""Degrees: a path leaving a further than this from e, or e further from an eigenvector of H_a, gets a warning."""


def _hessian_times(landscape, x, v) -> np.ndarray:
    """H(x)·v (dense up to DENSE_MAX coordinates, a Hessian–vector product above)."""
    if landscape.dim <= DENSE_MAX:
        return landscape.hessian(x) @ v
    return np.asarray(landscape.hvp(x, v), float)


def _curvature(landscape, x, t) -> float:
    return float(t @ _hessian_times(landscape, x, t))


def _angle(u, v) -> float:
    """Angle in degrees between the lines spanned by u and v (0 when parallel or antiparallel)."""
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    return math.degrees(math.acos(min(abs(float(u @ v)) / (nu * nv), 1.0)))


def analyse_basin(landscape, minimum_guess, *, search: bool = True, softest_modes: int | None = None,
                  max_paths: int | None = None, saddles=None, neighbours=None, budget: Budget | None = None,
                  n_points: int = 65) -> BasinAnalysis:
    """Minimum, index-1 saddles on its basin boundary, and for each the barrier, h_ae, h_be, e and s.

    Candidate saddles are the landscape's known ``saddles`` hints (and ``saddles`` given here), each
    refined by Newton, plus those found by minimum-mode walks from the minimum and climbing strings
    to neighbouring minima (``numerics.saddles.search_saddles``). A candidate is kept when steepest
    descent from it along −e reaches the minimum.

    Parameters
    ----------
    landscape : Landscape
    minimum_guess : array_like (d,)
        A point in the basin; it is polished by ``find_minimum``.
    search : bool
        Search for saddles (otherwise only hints are used).
    softest_modes : int, optional
        Modes followed by the search; default all when d ≤ DENSE_MAX, else 4.
    max_paths : int, optional
        Keep at most this many paths (the lowest saddles are tried first); bounds the cost for
        MLP-sized d, where each minimum energy path costs many gradient evaluations.
    saddles : sequence of array_like, optional
        Extra saddle guesses (e.g. ``--saddle``).
    neighbours : sequence of array_like, optional
        Other minima, for the double-ended search. Default: those ``critical.find_minima`` finds from
        its default starts when d ≤ ``NEIGHBOUR_SEARCH_MAX_DIM`` (none above it); pass ``()`` for none.
    budget : Budget, optional
        Time allowance of the search (default: none).
    n_points : int
        Points stored along each minimum energy path.

    Returns
    -------
    BasinAnalysis
        Paths sorted by barrier.

    Raises
    ------
    CriticalPointError
        When no minimum is found from ``minimum_guess``.
    """
    a = find_minimum(landscape, minimum_guess)
    hints = list(landscape.saddles) + ([] if saddles is None else [np.asarray(x, float) for x in saddles])
    if search and neighbours is None:
        neighbours = _other_minima(landscape, a)
    w_a, V_a = _spectrum_and_vectors(landscape, a)
    if search:
        # the search may use SEARCH_SHARE of the budget; the rest is for checking what it found
        found = search_saddles(landscape, a, hints=hints, neighbours=neighbours, softest_modes=softest_modes,
                               budget=None if budget is None else budget.until(SEARCH_SHARE), modes=(w_a, V_a))
    else:
        found = search_saddles(landscape, a, hints=hints, softest_modes=0, budget=budget)
    paths, not_adjacent, unchecked = [], 0, 0
    for b in found.saddles:
        if max_paths is not None and len(paths) >= max_paths:
            break
        if budget is not None and budget.expired():
            unchecked += 1                   # the budget ended: report what is checked
            continue
        try:
            mep = minimum_energy_path(landscape, b, a, n_points=n_points,
                                      stop=None if budget is None else budget.expired)
        except Stopped:
            unchecked += 1                   # the budget ended during the descents
            continue
        except CriticalPointError:
            not_adjacent += 1                # a saddle, but not on this basin's boundary
            continue
        w_b = hessian_spectrum(landscape, b)
        e = mep.escape_direction
        He = _hessian_times(landscape, a, e)
        paths.append(EscapePath(
            saddle=b, saddle_loss=float(mep.losses[-1]), saddle_hessian_eigenvalues=w_b,
            barrier=mep.barrier, escape_direction=e,
            h_ae=float(e @ He), h_be=abs(float(w_b[0])), s=mep.s,
            mep_points=mep.points, mep_losses=mep.losses, tangent=mep.tangent,
            tangent_curvature=_curvature(landscape, a, mep.tangent), e_eigen_angle=_angle(e, He),
        ))
    paths.sort(key=lambda p: p.barrier)
    zero = zero_mode_mask(w_a)
    return BasinAnalysis(landscape=landscape.name, dim=landscape.dim, minimum=a, loss=landscape.value(a),
                         hessian_eigenvalues=w_a, paths=paths, zero_mode_directions=V_a[:, zero],
                         search=found if (search or hints) else None, not_adjacent=not_adjacent,
                         unchecked=unchecked)


SEARCH_SHARE = 0.8
"""Share of a time budget the saddle search may use; the adjacency checks (descents) get the rest."""

NEIGHBOUR_SEARCH_MAX_DIM = 10
"""analyse_basin looks for neighbouring minima by multi-start up to this dimension (cheap there)."""


def _other_minima(landscape, a) -> list[np.ndarray]:
    """Minima other than a from ``find_minima``'s default starts (none above NEIGHBOUR_SEARCH_MAX_DIM)."""
    if landscape.dim > NEIGHBOUR_SEARCH_MAX_DIM:
        return []
    try:
        found = find_minima(landscape)
    except CriticalPointError:
        return []
    return [m for m in found if np.linalg.norm(m - a) > 1e-6 * (1.0 + np.linalg.norm(a))]


def _spectrum_and_vectors(landscape, x):
    """Eigenvalues of H(x), ascending (all when d ≤ DENSE_MAX, else the lowest 8), with eigenvectors."""
    from flatminima.numerics.critical import lowest_modes

    return lowest_modes(landscape, x, landscape.dim if landscape.dim <= DENSE_MAX else 8)


def group_flat_minima(landscape, minima) -> list[list[np.ndarray]]:
    """Minima grouped into valleys: minima with zero modes that a flat string joins are one manifold.

    A loss with a flat direction (a zero Hessian eigenvalue, as every neural-network symmetry gives)
    has a continuum of minima; a multi-start search returns many points of it. Each group is one
    minimum manifold (``paths.flat_connected``); an isolated minimum is a group of one. Groups keep
    the order of ``minima`` (the first member of each is its representative).
    """
    groups: list[list[np.ndarray]] = []
    flat: dict[int, bool] = {}

    def has_zero_mode(i, x):               # spectra only for minima that have a partner of equal loss
        if i not in flat:
            flat[i] = bool(np.any(zero_mode_mask(hessian_spectrum(landscape, x))))
        return flat[i]
    points = [np.asarray(m, float) for m in minima]
    losses = [landscape.value(m) for m in points]
    reps: list[int] = []
    for i, m in enumerate(points):
        for g, r in zip(groups, reps):
            if abs(losses[i] - losses[r]) <= 1e-8 * (1.0 + abs(losses[r])) and has_zero_mode(i, m) \
                    and has_zero_mode(r, points[r]) and flat_connected(landscape, points[r], m):
                g.append(m)
                break
        else:
            groups.append([m])
            reps.append(i)
    return groups
