"""The escape simulator: many independent particles leave a minimum under a noise model and an exit criterion.

``simulate_escape`` runs n_runs particles from a start point with the update θ ← θ − η∇L(θ) + ζ
(noise models in :mod:`numerics.noise`) until each satisfies an exit criterion
(:mod:`numerics.criteria`), diverges, or reaches ``max_steps`` (right-censored), and returns an
:class:`EscapeResult`. Time is counted in steps and in SDE time t = step·η (docs/theory.md §Time and rates).

Reproducibility (:mod:`numerics.streams`): particle i draws its noise from its own noise stream and
its Brownian-bridge uniforms from its own aux stream, so its trajectory depends only on
(seed, i), never on ``chunk_size``, the buffer length or the backend.

The numpy path here is the reference. Built-in landscapes with white or fixed-matrix Gaussian noise
may run on a compiled kernel (``numerics.kernels.fixed_noise_escape``), and ``hessian_psd`` noise on
built-ins with a diagonal Hessian on ``numerics.kernels_psd.psd_noise_escape``; both follow the same
stream contract; see :func:`_kernel_request`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import criteria as _criteria
from flatminima.numerics import noise as _noise
from flatminima.numerics.errors import LandscapeError, NonFiniteLossError
from flatminima.numerics.streams import AUX, NOISE, particle_streams

__all__ = ["simulate_escape", "EscapeResult", "NoEscapeExpectedWarning", "STABILITY_LIMIT",
           "DISCRETIZATION_LIMIT", "BACKENDS", "inflection_split"]

STABILITY_LIMIT = 2.0
"""η·λ_max(H_a) at or above which gradient descent is unstable at the minimum: refused.

See docs/theory.md §Discretisation and check C15.
"""

DISCRETIZATION_LIMIT = 0.2
"""η·λ_max(H_a) above which a result is flagged "discretization-dominated" (docs/theory.md §Discretisation, §C15)."""

BACKENDS = ("auto", "numpy", "numba")

# Bytes of pre-drawn variates per chunk (the buffer length adapts to it; results do not depend on it).
_BUFFER_BYTES = 64 * 2**20


class NoEscapeExpectedWarning(UserWarning):
    """A crude Arrhenius estimate says the run will see (almost) no escape within max_steps (docs/theory.md §C21)."""


# ====================================================================== result
@dataclass(frozen=True, eq=False)
class EscapeResult:
    """Exit steps of ``n_runs`` independent particles from one minimum under one setting.

    Per particle: ``steps`` is the exit step, the divergence step, or ``max_steps`` when censored;
    exactly one of ``escaped``, ``diverged``, ``censored`` is true. ``exit_index`` says where the
    particle went: for ``dividing_surface`` the plane (row of ``saddles``) it crossed; for ``basin``
    the row of ``minima`` its quench ended in (−2: a minimum not in the list); −1 otherwise.
    ``first_crossing`` (basin only) is the first step beyond a dividing plane, −1 if none.

    Units: ``escape_time`` = ``steps``·``eta`` is SDE time; rates estimated from it are per unit SDE time,
    rates from ``steps`` per iteration (docs/theory.md §Time and rates, §C20).

    Attributes
    ----------
    landscape, noise, criterion : str
        Names (docs/theory.md §Noise models, §Escape criteria).
    eta, temperature, batch_size, loss_unit, sharpness : numbers
        The setting (temperature None for SGD-type noise, batch_size None for white/Lévy noise).
    n_runs, max_steps, seed : int
    backend : str
        ``numpy`` or ``numba``: the path that actually ran.
    noise_params, criterion_params : dict
        Everything else the noise model and criterion used (split point, δ, α, planes, radius, …).
    minimum : ndarray (d,)
        θ_a. ``saddles``, ``escape_directions`` (S, d): the saddles of a's basin used, and e per saddle.
    barrier, h_ae, h_be : float or None
        ΔL = L(b) − L(a), e·H_a·e and |e·H_b·e| for the first saddle, when one is known.
    eta_lambda_max : float
        η·λ_max(H_a); ``discretization_dominated`` is η·λ_max > 0.2 (docs/theory.md §Discretisation, §C15).
    minima : ndarray (M, d)
        The known minima the basin criterion labels (row 0 is a); empty for other criteria.
    notes : tuple of str
        Warnings raised for this run, and other remarks.
    """

    landscape: str
    dim: int
    noise: str
    criterion: str
    eta: float
    temperature: float | None
    batch_size: int | None
    loss_unit: float
    sharpness: float
    n_runs: int
    max_steps: int
    seed: int
    backend: str
    noise_params: dict
    criterion_params: dict
    minimum: np.ndarray
    saddles: np.ndarray
    escape_directions: np.ndarray
    barrier: float | None
    h_ae: float | None
    h_be: float | None
    eta_lambda_max: float
    discretization_dominated: bool
    minima: np.ndarray
    steps: np.ndarray = field(repr=False)
    escaped: np.ndarray = field(repr=False)
    diverged: np.ndarray = field(repr=False)
    exit_index: np.ndarray = field(repr=False)
    first_crossing: np.ndarray = field(repr=False)
    final_theta: np.ndarray = field(repr=False)
    notes: tuple = ()

    def __post_init__(self):
        n = int(self.n_runs)
        for name in ("steps", "escaped", "diverged", "exit_index", "first_crossing"):
            if np.shape(getattr(self, name)) != (n,):
                raise InputError(f"{name} must have shape ({n},); got {np.shape(getattr(self, name))}")
        if np.any(self.escaped & self.diverged):
            raise InputError("a particle cannot both escape and diverge")
        if np.any(self.steps[self.censored] != self.max_steps):
            raise InputError("a run that neither escaped nor diverged must be censored at max_steps")
        if np.any((self.steps < 1) | (self.steps > self.max_steps)):
            raise InputError("steps must lie in [1, max_steps]")

    # ------------------------------------------------------------------ derived
    @property
    def censored(self) -> np.ndarray:
        """Particles still inside at ``max_steps`` (bool (n_runs,))."""
        return ~(self.escaped | self.diverged)

    @property
    def escape_time(self) -> np.ndarray:
        """``steps``·η: exit (or censoring, or divergence) times in SDE time."""
        return self.steps * self.eta

    @property
    def n_escaped(self) -> int:
        return int(self.escaped.sum())

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())

    @property
    def n_censored(self) -> int:
        return int(self.censored.sum())

    def _config(self) -> dict:
        return {"landscape": self.landscape, "dim": int(self.dim), "noise": self.noise, "criterion": self.criterion,
                "eta": float(self.eta), "temperature": self.temperature, "batch_size": self.batch_size,
                "loss_unit": float(self.loss_unit), "sharpness": float(self.sharpness), "n_runs": int(self.n_runs),
                "max_steps": int(self.max_steps), "seed": int(self.seed), "backend": self.backend,
                "barrier": self.barrier, "h_ae": self.h_ae, "h_be": self.h_be,
                "eta_lambda_max": float(self.eta_lambda_max),
                "discretization_dominated": bool(self.discretization_dominated)}

    def to_records(self) -> list[dict]:
        """One flat dict per particle (tidy rows for pandas), the run's scalar settings repeated."""
        cfg = self._config()
        return [{**cfg, "particle": i, "step": int(self.steps[i]), "escape_time": float(self.steps[i] * self.eta),
                 "escaped": bool(self.escaped[i]), "diverged": bool(self.diverged[i]),
                 "censored": bool(not (self.escaped[i] or self.diverged[i])),
                 "exit_index": int(self.exit_index[i]), "first_crossing": int(self.first_crossing[i])}
                for i in range(self.n_runs)]

    def to_dict(self) -> dict:
        """Everything as JSON-compatible builtins; :meth:`from_dict` inverts it."""
        out = self._config()
        out.update({
            "noise_params": _jsonable(self.noise_params), "criterion_params": _jsonable(self.criterion_params),
            "minimum": self.minimum.tolist(), "saddles": self.saddles.tolist(),
            "escape_directions": self.escape_directions.tolist(), "minima": self.minima.tolist(),
            "steps": self.steps.tolist(), "escaped": self.escaped.tolist(), "diverged": self.diverged.tolist(),
            "exit_index": self.exit_index.tolist(), "first_crossing": self.first_crossing.tolist(),
            "final_theta": self.final_theta.tolist(), "notes": list(self.notes),
        })
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "EscapeResult":
        """Rebuild a result stored with :meth:`to_dict`."""
        d = int(data["dim"])
        kw = {k: data[k] for k in ("landscape", "dim", "noise", "criterion", "eta", "temperature", "batch_size",
                                   "loss_unit", "sharpness", "n_runs", "max_steps", "seed", "backend",
                                   "noise_params", "criterion_params", "barrier", "h_ae", "h_be",
                                   "eta_lambda_max", "discretization_dominated")}
        return cls(**kw, minimum=np.asarray(data["minimum"], float),
                   saddles=np.asarray(data["saddles"], float).reshape(-1, d),
                   escape_directions=np.asarray(data["escape_directions"], float).reshape(-1, d),
                   minima=np.asarray(data["minima"], float).reshape(-1, d),
                   steps=np.asarray(data["steps"], np.int64), escaped=np.asarray(data["escaped"], bool),
                   diverged=np.asarray(data["diverged"], bool), exit_index=np.asarray(data["exit_index"], np.int64),
                   first_crossing=np.asarray(data["first_crossing"], np.int64),
                   final_theta=np.asarray(data["final_theta"], float).reshape(-1, d), notes=tuple(data["notes"]))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# ====================================================================== input checks
def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a finite number > 0; got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a finite number > 0; got {value!r}")
    return v


def _check_point(name: str, value, d: int) -> np.ndarray:
    a = np.asarray(value, float)
    if a.shape != (d,) or not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be a finite array of shape ({d},); got shape {a.shape}")
    return a


def _check_points(name: str, value, d: int) -> np.ndarray:
    a = np.asarray(value, float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != d or a.shape[0] == 0 or not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be a finite array of shape ({d},) or (S, {d}); got shape {np.shape(value)}")
    return a


# ====================================================================== safe batched evaluations
def _safe(batch, single, X: np.ndarray, shape: tuple) -> np.ndarray:
    """batch(X) with floating-point warnings silenced; rows that are or give non-finite values become NaN.

    The fast path is one vectorised call; only when it reports a non-finite value (a diverging
    particle) are the rows evaluated one by one to find the culprits.
    """
    n = X.shape[0]
    out = np.full((n, *shape), np.nan)
    if n == 0:
        return out
    finite = np.isfinite(X).all(axis=1)
    with np.errstate(all="ignore"):
        if finite.all():
            try:
                return np.asarray(batch(X), float).reshape((n, *shape))
            except NonFiniteLossError:
                pass
        for i in np.flatnonzero(finite):
            try:
                out[i] = single(X[i])
            except NonFiniteLossError:
                pass
    return out


def _step_inputs(landscape, eta: float) -> _noise.StepInputs:
    d = landscape.dim

    def grads(X):
        return _safe(landscape.grads, landscape.grad, X, (d,))

    def values(X):
        return _safe(landscape.values, landscape.value, X, ())

    def hessians(X):
        return _safe(landscape.hessians, landscape.hessian, X, (d, d))

    mb = None
    if landscape.minibatch_loss is not None and landscape.n_samples:
        from flatminima.numerics.samples import minibatch_gradients

        def mb(X, idx):
            out = np.full(X.shape, np.nan)
            if X.shape[0] == 0:
                return out
            with np.errstate(all="ignore"):
                try:
                    return minibatch_gradients(landscape, X, idx)
                except NonFiniteLossError:
                    pass
                for i in range(X.shape[0]):
                    try:
                        out[i] = minibatch_gradients(landscape, X[i:i + 1], idx[:, i:i + 1])[0]
                    except (NonFiniteLossError, LandscapeError):
                        pass
            return out
    return _noise.StepInputs(landscape, eta, grads, values, hessians, mb)


# ====================================================================== geometry of the basin
@dataclass
class _Geometry:
    minimum: np.ndarray
    loss_minimum: float
    h_a: np.ndarray | None
    lambda_max: float
    saddles: np.ndarray            # (S, d)
    directions: np.ndarray         # (S, d), unit, pointing away from a
    h_b: list                      # (d, d) per saddle
    barriers: np.ndarray           # (S,)


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


def _geometry(landscape, start, ctx, *, minimum, saddle, escape_direction, need_saddle: bool,
              want_saddle: bool, need_dense: bool) -> _Geometry:
    d = landscape.dim
    if minimum is not None:
        a = _check_point("minimum", minimum, d)
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
        bs = _check_points("saddle", saddle, d)
        es = None
        if escape_direction is not None:
            es = _check_points("escape_direction", escape_direction, d)
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
    return _Geometry(
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


# ====================================================================== feasibility estimate (C21)
def _expected_escapes(noise_model, criterion: str, geom: _Geometry, ctx, *, eta, n_runs, max_steps,
                      radius, level) -> tuple[float, str] | None:
    """A crude upper estimate of the number of escapes: Arrhenius with the noise temperature along e.

    Not the theory (numerics may not import it): τ ≈ (2π/h)·exp(ΔL/D_e), with D_e = ½·eᵀΣe/η the
    larger of the temperatures along e at the minimum and at the saddle (the lower bound of the
    exponent in docs/theory.md §The path parameter s) and h the larger curvature, which makes τ, and hence
    the warning, conservative.
    For ``radius``: the cheapest of the directions ±v (Hessian eigenvectors at a) and towards the
    known saddles, with cost (L(a + r·u) − L(a))/D_u.
    Returns (expected escapes, description) or None when no estimate applies (Lévy, minibatch).
    """
    if not noise_model.gaussian:
        return None
    a = geom.minimum

    def temp(x, v):
        cov = noise_model.covariance(x, ctx)
        return 0.5 * float(v @ cov @ v) / eta

    rates, what = [], ""
    with np.errstate(all="ignore"):
        if criterion == "radius":
            if geom.h_a is None:
                return None
            w, V = np.linalg.eigh(geom.h_a)
            dirs = [s * v for v in V.T for s in (1.0, -1.0)]
            dirs += [(b - a) / np.linalg.norm(b - a) for b in geom.saddles]
            costs = []
            for u in dirs:
                x = a + radius * u
                D = max(temp(a, u), temp(x, u))
                rise = ctx.values(x[None, :])[0] - geom.loss_minimum
                costs.append(np.inf if D <= 0 or not np.isfinite(rise) else max(rise, 0.0) / D)
            E = float(np.min(costs))
            rates.append(max(w[-1], 1e-300) / (2 * np.pi) * np.exp(-E))
            what = f"exponent (L(a + r·u) − L(a))/D_u ≥ {E:.3g} over Hessian eigen-directions u"
        else:
            if geom.saddles.shape[0] == 0:
                return None
            for j, (b, e) in enumerate(zip(geom.saddles, geom.directions)):
                dL = geom.barriers[j] if level is None else min(level - geom.loss_minimum, geom.barriers[j])
                D = max(temp(a, e), temp(b, e))
                h_ae = float(e @ geom.h_a @ e) if geom.h_a is not None else geom.lambda_max
                h_be = abs(float(e @ geom.h_b[j] @ e)) if geom.h_b[j] is not None else h_ae
                if dL <= 0:              # no barrier: the particles drift out
                    return float(n_runs), "no barrier"
                E = np.inf if D <= 0 else dL / D
                rates.append(max(h_ae, h_be, 1e-300) / (2 * np.pi) * np.exp(-E))
                what = f"exponent ΔL/D_e ≥ {E:.3g}" if j == 0 else what
    rate = float(np.sum(rates))
    t_max = max_steps * eta
    return float(n_runs * -np.expm1(-rate * t_max)), what


# ====================================================================== compiled kernel hook
def _kernel_request(landscape, noise_model, crit, *, starts, eta, seed, max_steps, n_runs, bridge):
    """Keyword arguments for ``numerics.kernels.fixed_noise_escape``, or None when it does not cover the run.

    Covered: a built-in landscape with ``landscape.kernel`` set, ``white``, ``hessian_fixed`` or
    ``hessian_two_region`` noise, one start point, and either dividing planes (with the bridge only
    when the noise variance along every normal is the same) or the ``radius`` criterion without
    bridge. The kernel follows :mod:`numerics.streams` (``standard_normal(d)`` per step from the noise
    stream, one aux uniform per step with the bridge) and the same overshoot rule (an exit by a locally
    unstable step is a divergence), so its exit steps match this numpy path; known difference: it
    applies the noise as (c·F)·z where this path computes c·(F·z) (last-bit differences for the
    Hessian models). ``hessian_psd`` noise goes to :func:`_psd_kernel_request`.
    """
    if noise_model.name == "hessian_psd":
        return _psd_kernel_request(landscape, noise_model, crit, starts=starts, eta=eta, seed=seed,
                                   max_steps=max_steps, n_runs=n_runs, bridge=bridge)
    if landscape.kernel is None or noise_model.name not in ("white", "hessian_fixed", "hessian_two_region"):
        return None
    if not np.all(starts == starts[0]):
        return None
    req = {"eta": float(eta), "n_runs": int(n_runs), "max_steps": int(max_steps),
           "seed": int(seed), "criterion": crit.name, "return_theta": True}
    if noise_model.name == "white":
        S = noise_model._s * np.eye(landscape.dim)
        matrices = [S]
    elif noise_model.name == "hessian_fixed":
        S = noise_model._c * noise_model._F
        matrices = [S]
    else:
        S = noise_model._c * noise_model._Fa
        S2 = noise_model._c * noise_model._Fb
        e = noise_model.direction / np.linalg.norm(noise_model.direction)
        req.update(noise_matrix_after=S2, split_point=noise_model.split, split_normal=e)
        matrices = [S, S2]
    req["noise_matrix"] = S
    if crit.name == "dividing_surface":
        normals = np.atleast_2d(crit.normals)
        if bridge:
            for M in matrices:       # the kernel's multi-plane bridge needs one σ_n² for all planes
                var = np.sum((M.T @ normals.T) ** 2, axis=0)
                if np.max(var) - np.min(var) > 1e-9 * np.max(var):
                    return None
        req.update(point=np.atleast_2d(crit.points), normal=normals, bridge=bool(bridge))
    elif crit.name == "radius" and not bridge:
        req.update(center=crit.center, radius=float(crit.radius))
    else:
        return None
    return req


def _psd_kernel_request(landscape, noise_model, crit, *, starts, eta, seed, max_steps, n_runs, bridge):
    """Keyword arguments for ``numerics.kernels_psd.psd_noise_escape``, or None when it does not cover the run.

    Covered: ``hessian_psd`` noise on a built-in whose Hessian is diagonal everywhere (Styblinski–Tang,
    the double well), one start point, dividing planes or the ``radius`` criterion, without the bridge
    (position-dependent noise has no exact bridge correction). The kernel applies the noise as
    c·(√(|h_jj| + δ)·z_j), which equals this path's c·(V·(sq·(Vᵀz))) for a diagonal H; it has the same
    overshoot rule as this path.
    """
    from flatminima.numerics.kernels_psd import has_diagonal_hessian

    if bridge or not has_diagonal_hessian(landscape) or not np.all(starts == starts[0]):
        return None
    req = {"eta": float(eta), "n_runs": int(n_runs), "max_steps": int(max_steps), "seed": int(seed),
           "criterion": crit.name, "return_theta": True, "batch_size": int(noise_model.batch_size),
           "loss_unit": float(noise_model.loss_unit), "delta": float(noise_model.delta)}
    if crit.name == "dividing_surface":
        req.update(point=np.atleast_2d(crit.points), normal=np.atleast_2d(crit.normals))
    elif crit.name == "radius":
        req.update(center=crit.center, radius=float(crit.radius))
    else:
        return None
    return req


def _find_kernel(noise: str = "white"):
    try:
        if noise == "hessian_psd":
            from flatminima.numerics.kernels_psd import psd_noise_escape
            return psd_noise_escape
        from flatminima.numerics import kernels
    except ImportError:
        return None
    return getattr(kernels, "fixed_noise_escape", None)


# ====================================================================== the numpy reference path
def _overshoot(ctx, theta_old: np.ndarray, grad_old: np.ndarray | None, eta: float) -> np.ndarray:
    """True where a plain gradient step from θ raises L: the iteration is locally unstable there.

    For a quadratic, L(θ − ηg) − L(θ) = −η|g|²(1 − ηκ_g/2) with κ_g the curvature along g, so the
    loss goes up exactly when η·κ_g > 2 (docs/theory.md §Discretisation). An exit taken by such a step is an
    overshoot
    of an unstable iteration, reported as divergence, not as an escape.
    """
    if theta_old.shape[0] == 0:
        return np.zeros(0, bool)
    g = ctx.grads(theta_old) if grad_old is None else grad_old
    with np.errstate(all="ignore"):
        L0 = ctx.values(theta_old)
        L1 = ctx.values(theta_old - eta * g)
    return ~(L1 <= L0)


def _run_chunk(ids, theta0, *, noise_model, crit, ctx, seed, max_steps, eta, bridge_on, buffer_steps,
               level, basin_values):
    n, d = theta0.shape
    steps = np.full(n, max_steps, dtype=np.int64)
    escaped = np.zeros(n, bool)
    diverged = np.zeros(n, bool)
    exit_index = np.full(n, -1, dtype=np.int64)
    first = np.full(n, -1, dtype=np.int64)
    final = np.array(theta0, float)
    gens = particle_streams(seed, ids, NOISE)
    aux = particle_streams(seed, ids, AUX) if bridge_on else None
    per_step = int(np.prod(noise_model.shape)) * 8
    theta = np.array(theta0, float)
    pos = np.arange(n)
    is_basin = crit.name == "basin"
    planes = crit.planes if is_basin else None
    step = 0
    while step < max_steps and pos.size:
        K = int(min(buffer_steps, max_steps - step, max(1, _BUFFER_BYTES // max(1, pos.size * per_step))))
        buf = noise_model.fill([gens[i] for i in pos], K)
        ubuf = np.stack([aux[i].random(K) for i in pos]) if bridge_on else None
        row = np.arange(pos.size)
        for k in range(K):
            out = noise_model.step(theta, buf[row, k], ctx)
            step += 1
            new = out.theta
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(new).all(axis=1)
                if out.grad is not None:
                    bad |= ~np.isfinite(out.grad).all(axis=1)
            if is_basin:
                ex = np.zeros(pos.size, bool)
                idx = np.full(pos.size, -1, dtype=np.int64)
                cross = np.zeros(pos.size, bool)
                if planes is not None:
                    with np.errstate(invalid="ignore"):
                        cross = ~bad & (first[pos] < 0) & (planes.signed(new) >= 0).any(axis=1)
            elif crit.name == "loss_level":
                vals = ctx.values(new)
                with np.errstate(invalid="ignore"):
                    ex, idx = crit.test_values(vals)
                ex &= ~bad
            else:
                u = ubuf[row, k] if bridge_on else None
                with np.errstate(invalid="ignore"):
                    ex, idx = crit.test(theta, new, out.along if bridge_on else None, u)
                ex &= ~bad
            # an exit (or, for basin, a first crossing) by an unstable step is a divergence
            check = cross if is_basin else ex
            unstable = np.zeros(pos.size, bool)
            if check.any():
                sel = np.flatnonzero(check)
                unstable[sel] = _overshoot(ctx, theta[sel], None if out.grad is None else out.grad[sel], eta)
                if is_basin:
                    first[pos[sel[~unstable[sel]]]] = step
                else:
                    ex &= ~unstable
            div = bad | unstable
            if is_basin and (step % crit.check_every == 0 or step == max_steps):
                live = np.flatnonzero(~div)
                vals = ctx.values(new[live]) if basin_values else None
                cand = live[crit.pretest(new[live], vals)]
                won, lab = crit.landed(new[cand], ctx)
                ex[cand[won]] = True
                idx[cand[won]] = lab[won]
            # record
            done = np.flatnonzero(ex)
            steps[pos[done]] = step
            escaped[pos[done]] = True
            exit_index[pos[done]] = idx[done]
            final[pos[done]] = new[done]
            gone = np.flatnonzero(div)
            steps[pos[gone]] = step
            diverged[pos[gone]] = True
            final[pos[gone]] = theta[gone]
            keep = ~(ex | div)
            if not keep.all():
                theta, pos, row = new[keep], pos[keep], row[keep]
            else:
                theta = new
            if pos.size == 0 or step == max_steps:
                break
    final[pos] = theta
    return steps, escaped, diverged, exit_index, first, final


# ====================================================================== entry point
def simulate_escape(landscape, start, *, noise: str, criterion: str, eta: float, n_runs: int, max_steps: int,
                    seed: int, temperature: float | None = None, batch_size: int | None = None,
                    loss_unit: float = 1.0, minimum=None, saddle=None, escape_direction=None, minima=None,
                    split=None, delta: float = 0.0, alpha: float = 1.5, replacement: bool = True,
                    fraction: float | None = None, radius: float | None = None, plane_offset: float = 0.0,
                    bridge: bool = True, check_every: int | None = None, capture_radius: float | None = None,
                    backend: str = "auto", chunk_size: int | None = None, buffer_steps: int = 256) -> EscapeResult:
    """Run ``n_runs`` independent particles from ``start`` until each exits, diverges or hits ``max_steps``.

    The update is θ ← θ − η∇L(θ) + ζ with ζ from the noise model (``minibatch``: θ ← θ − η∇L_B(θ)),
    the Euler–Maruyama step of dθ = −∇L dt + √(2D) dW with dt = η (docs/theory.md §The SDE).

    Main arguments
    --------------
    landscape : Landscape
        Built-in, user (autograd) or finite-sum; sharpness is read from ``landscape.params``.
    start : array_like, shape (d,) or (n_runs, d)
        Start point(s).
    noise : str
        ``white`` (√(2Dη)z), ``hessian_fixed`` (covariance η²λH_a/B), ``hessian_two_region`` (λH_a/B
        before the split, λ|H_b|/B after), ``hessian_psd`` (λ(|H(θ)|+δI)/B), ``loss_hessian``
        (2L(θ)H(θ)₊/B, Mori), ``levy`` ((ηD)^{1/α} α-stable), ``minibatch`` (real SGD); see
        :mod:`numerics.noise`.
    criterion : str
        ``dividing_surface``, ``basin``, ``loss_level`` or ``radius``; see :mod:`numerics.criteria`.
    eta : float > 0
        Step η; η·λ_max(H_a) ≥ 2 is refused, > 0.2 flagged (docs/theory.md §Discretisation, §C15).
    n_runs, max_steps : int ≥ 1
    seed : int ≥ 0
        Entropy of the per-particle streams (:mod:`numerics.streams`).

    Other arguments
    ---------------
    temperature : float > 0
        D, for ``white`` and ``levy`` only.
    batch_size : int ≥ 1
        B, for the Hessian-type models, ``loss_hessian`` and ``minibatch`` only.
    loss_unit : float > 0
        λ in C = λH/B (docs/theory.md §Hessian noise and the loss unit, item 2); must stay 1 for
        ``loss_hessian``.
    minimum : array_like (d,), optional
        θ_a. Default: the landscape's known minimum nearest to the start (polished), else the start.
    saddle : array_like (d,) or (S, d), optional
        Saddle(s) of a's basin: plane points, barrier ΔL, two-region geometry. Default: the
        landscape's saddle hints that border a's basin (refined; checked by quenching both sides).
    escape_direction : array_like (d,) or (S, d), optional
        e per saddle (normalised here). Default: the negative-curvature eigenvector of H_b, pointing
        away from a.
    minima : array_like (M, d), optional
        Known minima for ``basin`` (a is prepended if missing). Default: the landscape's minima.
    split : array_like (d,), optional
        Split point of ``hessian_two_region``; default the inflection point along the segment a→b
        (where e·H·e changes sign; docs/theory.md §The path parameter s).
    delta : float ≥ 0
        δ of ``hessian_psd``.
    alpha : float in (0, 2]
        α of ``levy``.
    replacement : bool
        Minibatches with replacement (i.i.d. indices) or without (uniform subsets).
    fraction : float > 0
        ``loss_level``: exit at L − L(a) ≥ fraction·ΔL (default 1). ``basin``: quench particles with
        L − L(a) ≥ fraction·ΔL too (default: only those beyond a dividing plane).
    radius : float > 0
        ``radius``: exit at ‖θ − θ_a‖ ≥ radius.
    plane_offset : float
        ``dividing_surface``: move each plane by this distance along e (e.g. to the next minimum,
        whose hitting time is the full Kramers time, docs/theory.md §Which escape time).
    bridge : bool
        Brownian-bridge crossing correction for ``dividing_surface`` and ``radius`` under Gaussian
        noise (one aux-stream uniform per step); ignored otherwise (recorded as applied or not).
    check_every : int ≥ 1
        ``basin``: steps between quench checks (default: about 0.5 SDE time units / η, at least 1).
    capture_radius : float > 0
        ``basin``: a quench ends at a known minimum within this distance. Default: ¼ of the
        smallest distance from a known minimum to another known minimum or saddle.
    backend : {"auto", "numpy", "numba"}
        ``numba`` runs the compiled kernel (built-in landscape, white/hessian_fixed noise,
        dividing_surface/radius) and fails if it is unavailable; ``auto`` uses it when available.
    chunk_size : int ≥ 1, optional
        Particles advanced together (memory vs vectorisation; results do not depend on it).
    buffer_steps : int ≥ 1
        Steps of random numbers drawn per generator call (results do not depend on it).

    Returns
    -------
    EscapeResult

    Raises
    ------
    ValueError
        One line naming the parameter and its allowed range.

    Warns
    -----
    NoEscapeExpectedWarning
        When a crude Arrhenius estimate predicts fewer than one escape in the whole run (C21).

    Notes
    -----
    Divergence: a particle whose state or gradient becomes non-finite is diverged, never escaped;
    so is one whose exit step (for ``basin``: first plane crossing) came from a state where a plain
    gradient step raises the loss (the iteration is locally unstable there, η·curvature > 2).
    """
    # ------------------------------------------------------------ validation
    if noise not in _noise.NOISE_MODELS:
        raise InputError(f"unknown noise {noise!r}; allowed: {', '.join(_noise.NOISE_MODELS)}")
    if criterion not in _criteria.CRITERIA:
        raise InputError(f"unknown criterion {criterion!r}; allowed: {', '.join(_criteria.CRITERIA)}")
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    d = landscape.dim
    eta = _check_positive("eta", eta)
    n_runs = _check_int("n_runs", n_runs)
    max_steps = _check_int("max_steps", max_steps)
    seed = _check_int("seed", seed, 0)
    buffer_steps = _check_int("buffer_steps", buffer_steps)
    loss_unit = _check_positive("loss_unit", loss_unit)
    uses_temperature = noise in ("white", "levy")
    uses_batch = noise in ("hessian_fixed", "hessian_two_region", "hessian_psd", "loss_hessian", "minibatch")
    if uses_temperature:
        if temperature is None:
            raise InputError(f"temperature is required for {noise} noise (a finite number > 0)")
        temperature = _check_positive("temperature", temperature)
    elif temperature is not None:
        raise InputError(f"temperature applies only to white and levy noise; got temperature={temperature!r} "
                         f"with noise={noise!r} (its scale is set by eta, batch_size and loss_unit)")
    if uses_batch:
        if batch_size is None:
            raise InputError(f"batch_size is required for {noise} noise (an integer >= 1)")
        batch_size = _check_int("batch_size", batch_size)
    elif batch_size is not None:
        raise InputError(f"batch_size applies only to SGD-type noise; got batch_size={batch_size!r} with noise={noise!r}")
    if noise == "loss_hessian" and loss_unit != 1.0:
        raise InputError("loss_unit must be 1 for loss_hessian noise (2L(θ) carries the loss unit)")
    if noise == "levy":
        alpha = float(alpha)
        if not 0 < alpha <= 2:
            raise InputError(f"alpha must be in (0, 2]; got {alpha!r}")
    if noise == "hessian_psd":
        delta = float(delta)
        if not np.isfinite(delta) or delta < 0:
            raise InputError(f"delta must be a finite number >= 0; got {delta!r}")
    if noise == "minibatch":
        if landscape.minibatch_loss is None or not landscape.n_samples:
            raise InputError(f"minibatch noise needs a finite-sum landscape (finite-sum or mlp); {landscape.name} is not")
        if not replacement and batch_size > landscape.n_samples:
            raise InputError(f"batch_size must be <= n_samples = {landscape.n_samples} without replacement; got {batch_size}")
    if criterion == "radius":
        if radius is None:
            raise InputError("radius is required for the radius criterion (a finite number > 0)")
        radius = _check_positive("radius", radius)
    if fraction is not None:
        fraction = _check_positive("fraction", fraction)
    if check_every is not None:
        check_every = _check_int("check_every", check_every)
    if capture_radius is not None:
        capture_radius = _check_positive("capture_radius", capture_radius)
    if chunk_size is not None:
        chunk_size = _check_int("chunk_size", chunk_size)
    plane_offset = float(plane_offset)
    if not np.isfinite(plane_offset):
        raise InputError(f"plane_offset must be finite; got {plane_offset!r}")
    starts = np.asarray(start, float)
    if starts.shape == (d,):
        starts = np.broadcast_to(starts, (n_runs, d))
    if starts.shape != (n_runs, d) or not np.all(np.isfinite(starts)):
        raise InputError(f"start must be a finite array of shape ({d},) or (n_runs, {d}) = ({n_runs}, {d}); "
                         f"got shape {np.shape(start)}")

    # ------------------------------------------------------------ geometry and guard
    ctx = _step_inputs(landscape, eta)
    need_saddle = criterion == "dividing_surface" or noise == "hessian_two_region" or (
        criterion == "loss_level")
    need_dense = noise in ("hessian_fixed", "hessian_two_region")
    geom = _geometry(landscape, starts, ctx, minimum=minimum, saddle=saddle, escape_direction=escape_direction,
                     need_saddle=need_saddle, want_saddle=criterion == "basin", need_dense=need_dense)
    eta_lam = eta * geom.lambda_max
    if eta_lam >= STABILITY_LIMIT:
        raise InputError(f"eta = {eta:g} is unstable at the minimum: eta·λ_max(H_a) = {eta_lam:.4g} >= 2; "
                         f"eta must be < 2/λ_max = {STABILITY_LIMIT / geom.lambda_max:.4g} "
                         f"(<= {DISCRETIZATION_LIMIT / geom.lambda_max:.4g} to avoid discretization-dominated results)")
    notes = []
    flagged = bool(eta_lam > DISCRETIZATION_LIMIT)
    if flagged:
        notes.append(f"discretization-dominated: eta·λ_max(H_a) = {eta_lam:.3g} > {DISCRETIZATION_LIMIT} "
                     "(docs/theory.md §Discretisation, §C15)")

    # ------------------------------------------------------------ noise model
    split_point = direction = h_b = None
    if noise == "hessian_two_region":
        b, e, h_b = geom.saddles[0], geom.directions[0], geom.h_b[0]
        direction = e
        split_point = (_check_point("split", split, d) if split is not None
                       else inflection_split(landscape, geom.minimum, b, e))
    try:
        noise_model = _noise.build_noise(noise, dim=d, eta=eta, temperature=temperature, batch_size=batch_size,
                                         loss_unit=loss_unit, h_a=geom.h_a, h_b=h_b, split=split_point,
                                         direction=direction, delta=delta, alpha=alpha,
                                         n_samples=landscape.n_samples, replacement=bool(replacement))
    except ValueError as exc:
        raise InputError(f"{noise} noise: {exc}") from None

    # ------------------------------------------------------------ criterion
    bridge_on = bool(bridge) and noise_model.gaussian and criterion in ("dividing_surface", "radius")
    level = None
    basin_values = False
    if criterion == "dividing_surface":
        crit = _criteria.DividingSurface(geom.saddles + plane_offset * geom.directions, geom.directions,
                                         bridge=bridge_on)
    elif criterion == "radius":
        crit = _criteria.Radius(geom.minimum, radius, bridge=bridge_on)
    elif criterion == "loss_level":
        frac = 1.0 if fraction is None else fraction
        level = geom.loss_minimum + frac * float(geom.barriers[0])
        crit = _criteria.LossLevel(level, frac)
    else:
        known = [geom.minimum]
        if minima is not None:
            cand = list(_check_points("minima", minima, d))
        else:                      # the landscape's hints, polished (finite sums move them)
            from flatminima.numerics.critical import CriticalPointError, find_minimum
            cand = []
            for m in landscape.minima:
                try:
                    cand.append(find_minimum(landscape, m))
                except (CriticalPointError, LandscapeError):
                    pass
        scale = max(1.0, float(np.linalg.norm(geom.minimum)))
        for m in cand:
            if all(np.linalg.norm(m - k) > 1e-6 * scale for k in known):
                known.append(np.asarray(m, float))
        known = np.array(known)
        if capture_radius is None:
            others = [p for p in list(known) + list(geom.saddles)]
            dists = [np.linalg.norm(p - q) for i, p in enumerate(known) for j, q in enumerate(others)
                     if not (j < len(known) and j == i)]
            dists = [x for x in dists if x > 0]
            if not dists:
                raise InputError("basin needs capture_radius when only one critical point is known "
                                 "(pass minima, saddle or capture_radius)")
            capture_radius = 0.25 * min(dists)
        planes = (_criteria.DividingSurface(geom.saddles, geom.directions, bridge=False)
                  if geom.saddles.shape[0] else None)
        pre_level = None
        if fraction is not None and geom.barriers.size:
            pre_level = geom.loss_minimum + fraction * float(np.min(geom.barriers))
            basin_values = True
        if check_every is None:
            check_every = max(1, int(round(0.5 / eta)))
        lam = geom.lambda_max if geom.lambda_max > 0 else 1.0
        loss_scale = (float(np.min(np.abs(geom.barriers))) if geom.barriers.size
                      else max(abs(geom.loss_minimum), 1e-8))
        crit = _criteria.Basin(known, capture_radius, planes, pre_level, check_every,
                               quench_step=1.0 / lam, loss_scale=loss_scale)
        if planes is None and pre_level is None:
            notes.append("basin: no saddle known, so every particle is quenched at every check (slow)")

    # ------------------------------------------------------------ feasibility warning (C21)
    est = _expected_escapes(noise_model, criterion, geom, ctx, eta=eta, n_runs=n_runs, max_steps=max_steps,
                            radius=radius, level=level)
    if est is not None and est[0] < 1.0:
        knob = {"white": "temperature", "levy": "temperature", "minibatch": "eta, or lower batch_size",
                "loss_hessian": "eta, or lower batch_size"}.get(noise, "loss_unit, or lower batch_size")
        msg = (f"about {est[0]:.3g} escapes expected in {n_runs} runs of {max_steps} steps (crude Arrhenius "
               f"estimate, {est[1]}); raise max_steps or {knob}, or use a criterion inside the basin")
        notes.append(msg)
        warnings.warn(msg, NoEscapeExpectedWarning, stacklevel=2)

    # ------------------------------------------------------------ run
    used = "numpy"
    kernel = _find_kernel(noise) if backend in ("auto", "numba") else None
    request = (_kernel_request(landscape, noise_model, crit, starts=starts, eta=eta, seed=seed, max_steps=max_steps,
                               n_runs=n_runs, bridge=bridge_on) if kernel is not None else None)
    if backend == "numba" and request is None:
        why = ("numerics.kernels.fixed_noise_escape is not available" if kernel is None else
               "it covers built-in landscapes with white/hessian_fixed/hessian_two_region noise, one start "
               "point, and dividing planes or the radius criterion without bridge; hessian_psd noise on "
               "Styblinski–Tang or the double well with bridge=False")
        raise InputError(f"backend='numba' cannot run this simulation: {why}; use backend='numpy' or 'auto'")
    if request is not None:
        res = kernel(landscape, starts[0], **request)
        steps = np.asarray(res[0], np.int64)
        escaped = np.asarray(res[1], bool)
        diverged = np.asarray(res[2], bool)
        exit_index = np.where(escaped, 0, -1).astype(np.int64)
        if crit.name == "dividing_surface" and np.atleast_2d(crit.points).shape[0] > 1:
            side = np.einsum("nmd,md->nm", np.asarray(res[3], float)[:, None, :] - np.atleast_2d(crit.points)[None],
                             np.atleast_2d(crit.normals))
            exit_index = np.where(escaped, np.argmax(side, axis=1), -1).astype(np.int64)
        first = np.full(n_runs, -1, np.int64)
        final = np.asarray(res[3], float)
        used = "numba"
    else:
        if chunk_size is None:
            per = d * d if noise in ("hessian_psd", "loss_hessian") else d
            chunk_size = int(min(n_runs, max(64, 4_000_000 // per)))
        parts = []
        for lo in range(0, n_runs, chunk_size):
            ids = np.arange(lo, min(n_runs, lo + chunk_size))
            with np.errstate(all="ignore"):          # diverging particles overflow; they are flagged, not warned
                parts.append(_run_chunk(ids, starts[ids], noise_model=noise_model, crit=crit, ctx=ctx, seed=seed,
                                        max_steps=max_steps, eta=eta, bridge_on=bridge_on, buffer_steps=buffer_steps,
                                        level=level, basin_values=basin_values))
        steps, escaped, diverged, exit_index, first, final = (np.concatenate(x) for x in zip(*parts))

    # ------------------------------------------------------------ result
    S = geom.saddles.shape[0]
    barrier = float(geom.barriers[0]) if S else None
    h_ae = h_be = None
    if S and geom.h_a is not None:
        e = geom.directions[0]
        h_ae = float(e @ geom.h_a @ e)
        if geom.h_b[0] is not None:
            h_be = abs(float(e @ geom.h_b[0] @ e))
    crit_params = crit.params()
    if criterion == "dividing_surface":
        crit_params["plane_offset"] = plane_offset
    return EscapeResult(
        landscape=landscape.name, dim=d, noise=noise, criterion=criterion, eta=eta, temperature=temperature,
        batch_size=batch_size, loss_unit=loss_unit, sharpness=float(landscape.params.get("sharpness", 1.0)),
        n_runs=n_runs, max_steps=max_steps, seed=seed, backend=used, noise_params=noise_model.params(),
        criterion_params=crit_params, minimum=geom.minimum, saddles=geom.saddles,
        escape_directions=geom.directions, barrier=barrier, h_ae=h_ae, h_be=h_be, eta_lambda_max=float(eta_lam),
        discretization_dominated=flagged,
        minima=crit.minima if criterion == "basin" else np.empty((0, d)),
        steps=steps, escaped=escaped, diverged=diverged, exit_index=exit_index, first_crossing=first,
        final_theta=final, notes=tuple(notes),
    )
