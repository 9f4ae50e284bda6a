"""The geometry of the basin a run leaves: minimum, saddles, escape directions, Hessians, barriers (checked, or found)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import criteria as _criteria
from flatminima.numerics.errors import LandscapeError

__all__ = ["Geometry", "basin_geometry", "check_point", "check_points", "inflection_split"]


def check_point(name: str, value, d: int) -> np.ndarray:
    """``value`` as a finite (d,) array; InputError naming ``name`` otherwise."""
    a = np.asarray(value, float)
    if a.shape != (d,) or not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be a finite array of shape ({d},); got shape {a.shape}")
    return a


def check_points(name: str, value, d: int) -> np.ndarray:
    """``value`` as a finite (S, d) array (a (d,) vector is one row); InputError naming ``name`` otherwise."""
    a = np.asarray(value, float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != d or a.shape[0] == 0 or not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be a finite array of shape ({d},) or (S, {d}); got shape {np.shape(value)}")
    return a



@dataclass
class Geometry:
    """The basin a run leaves: θ_a, L(a), H_a (None above the dense limit), λ_max(H_a), saddles with e, H_b, ΔL."""

    minimum: np.ndarray
    loss_minimum: float
    h_a: np.ndarray | None
    lambda_max: float
    saddles: np.ndarray            # (S, d)
    directions: np.ndarray         # (S, d), unit, pointing away from a
    h_b: list                      # (d, d) per saddle
    barriers: np.ndarray           # (S,)

    def first_path(self) -> tuple[float | None, float | None, float | None]:
        """(ΔL, e·H_a·e, |e·H_b·e|) of the first saddle, None where unknown (no saddle, or no dense Hessian)."""
        if self.saddles.shape[0] == 0:
            return None, None, None
        e = self.directions[0]
        h_ae = float(e @ self.h_a @ e) if self.h_a is not None else None
        h_be = abs(float(e @ self.h_b[0] @ e)) if self.h_a is not None and self.h_b[0] is not None else None
        return float(self.barriers[0]), h_ae, h_be


def _largest_eigenvalue(landscape, x) -> float:
    from scipy.sparse.linalg import LinearOperator, eigsh
    d = landscape.dim
    op = LinearOperator((d, d), matvec=lambda v: landscape.hvp(x, np.ravel(v)), dtype=float)
    w = eigsh(op, k=1, which="LA", tol=1e-6, return_eigenvectors=False, v0=np.ones(d))
    return float(w[0])


def _dense_ok(landscape) -> bool:
    from flatminima.numerics.critical import DENSE_MAX
    return landscape.dim <= DENSE_MAX


def _negative_direction(h_b: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(h_b)
    if w[0] >= 0:
        raise InputError(f"the saddle {np.round(b, 6).tolist()} has no negative Hessian eigenvalue; "
                         "pass escape_direction (or a true saddle)")
    e = V[:, 0]
    return e if e @ (b - a) >= 0 else -e


def _default_saddles(landscape, a, ctx, lam_max):
    """Known saddle hints of the landscape, refined, kept when one side of their unstable mode quenches to a."""
    from flatminima.numerics.critical import CriticalPointError, refine_saddle
    out = []
    for hint in landscape.saddles:
        try:
            b = refine_saddle(landscape, hint)
        except (CriticalPointError, LandscapeError):
            continue
        h_b = landscape.hessian(b)
        try:
            e = _negative_direction(h_b, a, b)
        except ValueError:
            continue
        dist = float(np.linalg.norm(b - a))
        eps = 1e-3 * dist
        # the other known minima catch the far side early; undecided (−1) counts as "not a"
        known = np.array([a] + [np.asarray(m, float) for m in landscape.minima
                                if np.linalg.norm(m - a) > 0.1 * dist])
        labels, _ = _criteria.quench(ctx.values, ctx.grads, np.array([b - eps * e, b + eps * e]), known,
                                     0.05 * dist, step=1.0 / lam_max, max_steps=3000,
                                     loss_scale=max(abs(landscape.value(b) - landscape.value(a)), 1e-300))
        if labels[0] == 0 and labels[1] != 0:
            out.append((b, e, h_b))
        elif labels[1] == 0 and labels[0] != 0:
            out.append((b, -e, h_b))
    return out


def basin_geometry(landscape, start, ctx, *, minimum, saddle, escape_direction, need_saddle: bool,
                   want_saddle: bool, need_dense: bool) -> Geometry:
    d = landscape.dim
    if minimum is not None:
        a = check_point("minimum", minimum, d)
    elif landscape.minima:
        from flatminima.numerics.critical import CriticalPointError, find_minimum
        hint = min(landscape.minima, key=lambda m: float(np.linalg.norm(m - start[0])))
        try:
            a = find_minimum(landscape, hint)
        except (CriticalPointError, LandscapeError):
            a = np.asarray(hint, float)
    else:
        a = start[0].copy()
    loss_a = landscape.value(a)
    if need_dense or _dense_ok(landscape):
        h_a = landscape.hessian(a)
        lam_max = float(np.linalg.eigvalsh(h_a)[-1])
    else:
        h_a, lam_max = None, _largest_eigenvalue(landscape, a)
    lam_pos = lam_max if lam_max > 0 else 1.0
    found = []
    if saddle is not None:
        bs = check_points("saddle", saddle, d)
        es = None
        if escape_direction is not None:
            es = check_points("escape_direction", escape_direction, d)
            if es.shape[0] != bs.shape[0]:
                raise InputError(f"escape_direction must have one row per saddle ({bs.shape[0]}); got {es.shape[0]}")
            norms = np.linalg.norm(es, axis=1)
            if np.any(norms == 0):
                raise InputError("escape_direction must be non-zero")
            es = es / norms[:, None]
        for j, b in enumerate(bs):
            h_b = landscape.hessian(b) if (need_dense or _dense_ok(landscape)) else None
            e = es[j] if es is not None else _negative_direction(h_b, a, b)
            found.append((b, e, h_b))
    elif escape_direction is not None:
        raise InputError("escape_direction needs saddle (the point the plane passes through)")
    elif need_saddle or (want_saddle and landscape.saddles):
        if _dense_ok(landscape):
            found = _default_saddles(landscape, a, ctx, lam_pos)
    if need_saddle and not found:
        raise InputError(f"no saddle of the basin of {np.round(a, 6).tolist()} is known on {landscape.name}; "
                         "pass saddle (and escape_direction)")
    S = len(found)
    return Geometry(
        minimum=a, loss_minimum=loss_a, h_a=h_a, lambda_max=lam_max,
        saddles=np.array([f[0] for f in found]).reshape(S, d),
        directions=np.array([f[1] for f in found]).reshape(S, d),
        h_b=[f[2] for f in found],
        barriers=np.array([landscape.value(f[0]) - loss_a for f in found]),
    )


def inflection_split(landscape, a, b, e) -> np.ndarray:
    """The point of the segment a→b where the curvature along e changes sign (the two-region model's split)."""
    from scipy.optimize import brentq

    def curv(t):
        return float(e @ landscape.hessian(a + t * (b - a)) @ e)
    c0, c1 = curv(0.0), curv(1.0)
    if not (c0 > 0 > c1):
        raise InputError("cannot place the default split: the curvature along e does not change sign between "
                         "the minimum and the saddle; pass split")
    return a + brentq(curv, 0.0, 1.0, xtol=1e-12) * (b - a)
