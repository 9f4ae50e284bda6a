"""The result of an escape run: exit steps, outcomes and the setting of every particle (:class:`EscapeResult`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flatminima.errors import InputError


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
    optimizer : dict
        The step rule: ``{"kind": "sgd"}``, or an optimizer's kind and hyper-parameters (:mod:`numerics.optimizers`).
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
    optimizer: dict = field(default_factory=lambda: {"kind": "sgd"})

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
            "optimizer": _jsonable(self.optimizer),
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
                   final_theta=np.asarray(data["final_theta"], float).reshape(-1, d), notes=tuple(data["notes"]),
                   optimizer=dict(data.get("optimizer", {"kind": "sgd"})))


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
