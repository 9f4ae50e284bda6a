"""The parts of an escape run, as frozen objects validated once: dynamics, noise model, criterion, basin, execution.

A run is their composition: :func:`numerics.simulate.simulate_escape` takes one of each (docs/theory.md
§The SDE: θ ← θ − η∇L(θ) + ζ, SDE time t = step·η). Each part checks its own arguments at construction with
a one-line :class:`~flatminima.errors.InputError` naming the parameter and its allowed range, so the
simulator trusts them; what depends on the landscape (dimensions, finite sums) is checked by the simulator.

``config()`` of a part gives the plain option names the command line and the sweep configs use, and
:func:`escape_parts` builds the parts back from those names (the string factory), so
``escape_parts(**config)`` round-trips and the canonical JSON of a config (the store's hash,
:func:`validation.store.canonical_json`) names a run exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from flatminima.errors import InputError

__all__ = ["DYNAMICS", "NOISE_KINDS", "CRITERION_KINDS", "BACKENDS", "Dynamics", "NoiseModel", "Criterion", "Basin",
           "Execution", "escape_parts", "run_config"]

DYNAMICS = ("sgd", "momentum", "adam", "pnm", "adai")
"""Step rules (optimizers): ``sgd`` is plain gradient descent plus noise (SGD with SGD-type noise, SGLD with white
noise); ``momentum`` heavy ball or Nesterov, ``adam``, ``pnm`` (Positive–Negative Momentum) and ``adai``
(Adaptive Inertia) apply their update to the same stochastic gradient (:mod:`numerics.optimizers`)."""

OPTIMIZER_DEFAULTS = {
    "sgd": {},
    "momentum": {"momentum": 0.9, "nesterov": False},
    "adam": {"momentum": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "pnm": {"momentum": 0.9, "pnm_beta0": 1.0},
    "adai": {"adai_beta0": 0.1, "beta2": 0.99, "epsilon": 1e-3},
}
"""Each optimizer's hyper-parameters and their defaults (PyTorch's and the authors' reference code: heavy ball
β = 0.9; Adam β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (Kingma & Ba 2015); PNM betas = (0.9, 1.0) (Xie et al. 2021);
Adai β₀ = 0.1, β₂ = 0.99, ε = 1e-3 (Xie et al. 2022)). ``momentum`` is β of heavy ball, Adam's β₁ and PNM's β₁."""

COMPILED_DYNAMICS = ("sgd", "momentum", "adam", "pnm", "adai")
"""The step rules the compiled kernels implement (the others run on the numpy reference path)."""

_HYPER = ("momentum", "nesterov", "beta2", "epsilon", "pnm_beta0", "adai_beta0")

NOISE_KINDS = ("white", "hessian_fixed", "hessian_two_region", "hessian_psd", "loss_hessian", "levy", "minibatch")
CRITERION_KINDS = ("dividing_surface", "basin", "loss_level", "radius")
BACKENDS = ("auto", "numpy", "numba")

_TEMPERATURE_NOISE = ("white", "levy")
_COMPILED_NOISE = {"white": "fixed_noise", "hessian_fixed": "fixed_noise", "hessian_two_region": "fixed_noise",
                   "hessian_psd": "psd_noise"}
_COMPILED_CRITERIA = ("dividing_surface", "radius")
_BATCH_NOISE = ("hessian_fixed", "hessian_two_region", "hessian_psd", "loss_hessian", "minibatch")


# ---------------------------------------------------------------------- argument checks (one line each)
def _choice(name: str, value, allowed: tuple) -> str:
    if value not in allowed:
        raise InputError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value


def positive_int(name: str, value, low: int = 1) -> int:
    """``value`` as an int ≥ ``low``; InputError naming ``name`` otherwise (bools are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def positive_float(name: str, value) -> float:
    """``value`` as a finite float > 0; InputError naming ``name`` otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a finite number > 0; got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a finite number > 0; got {value!r}")
    return v


def _finite(name: str, value, low: float | None = None) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a finite number; got {value!r}") from None
    if not math.isfinite(v) or (low is not None and v < low):
        bound = "" if low is None else f" >= {low:g}"
        raise InputError(f"{name} must be a finite number{bound}; got {value!r}")
    return v


def _vector(name: str, value) -> tuple[float, ...] | None:
    if value is None:
        return None
    a = np.asarray(value, float)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be a finite vector (d,); got shape {np.shape(value)}")
    return tuple(float(x) for x in a)


def _rows(name: str, value) -> tuple[tuple[float, ...], ...] | None:
    if value is None:
        return None
    a = np.asarray(value, float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0 or not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be a finite array of shape (d,) or (S, d); got shape {np.shape(value)}")
    return tuple(tuple(float(x) for x in row) for row in a)


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def _config_of(part, names) -> dict:
    return {n: getattr(part, n) for n in names if getattr(part, n) is not None}


# ---------------------------------------------------------------------- the parts
@dataclass(frozen=True)
class Dynamics:
    """What one step does, with learning rate η: ``sgd`` θ ← θ − η∇L(θ) + ζ, or an optimizer's update.

    The noise model gives the stochastic gradient ĝ = ∇L + ζ/η (ζ its noise displacement); ``momentum``,
    ``adam``, ``pnm`` and ``adai`` carry state per particle (:mod:`numerics.optimizers`). Their
    hyper-parameters (``momentum``, ``nesterov``, ``beta2``, ``epsilon``, ``pnm_beta0``, ``adai_beta0``) default
    to :data:`OPTIMIZER_DEFAULTS` and are refused by an optimizer that has none of that name.
    """
    eta: float
    kind: str = "sgd"
    momentum: float | None = None
    nesterov: bool | None = None
    beta2: float | None = None
    epsilon: float | None = None
    pnm_beta0: float | None = None
    adai_beta0: float | None = None

    def __post_init__(self):
        kind = _choice("optimizer", self.kind, DYNAMICS)
        _set(self, "eta", positive_float("eta", self.eta))
        defaults = OPTIMIZER_DEFAULTS[kind]
        for name in _HYPER:
            value = getattr(self, name)
            if value is None:
                _set(self, name, defaults.get(name))
            elif name not in defaults:
                raise InputError(f"{name} does not apply to the {kind} optimizer (its hyper-parameters: "
                                 f"{', '.join(defaults) or 'none'})")
        for name in ("momentum", "beta2"):
            v = getattr(self, name)
            if v is not None:
                v = _finite(name, v)
                if not 0 <= v < 1:
                    raise InputError(f"{name} must be in [0, 1) for the {kind} optimizer; got {getattr(self, name)!r}")
                _set(self, name, v)
        if self.epsilon is not None:
            eps = _finite("epsilon", self.epsilon, 0.0)
            if kind == "adai" and not 0 < eps < 1:
                raise InputError(f"epsilon must be in (0, 1) for adai (β₁ is clipped to [0, 1 − ε]); got {self.epsilon!r}")
            _set(self, "epsilon", eps)
        for name in ("pnm_beta0", "adai_beta0"):
            if getattr(self, name) is not None:
                _set(self, name, _finite(name, getattr(self, name), 0.0))
        if kind == "adai" and not self.adai_beta0 > 0:
            raise InputError(f"adai_beta0 must be a finite number > 0; got {self.adai_beta0!r}")
        if self.nesterov is not None:
            if not isinstance(self.nesterov, (bool, np.bool_)):
                raise InputError(f"nesterov must be true or false; got {self.nesterov!r}")
            _set(self, "nesterov", bool(self.nesterov))

    @property
    def compiled(self) -> bool:
        """Whether the compiled kernels implement this step rule."""
        return self.kind in COMPILED_DYNAMICS

    @property
    def stateful(self) -> bool:
        """Whether a step depends on more than θ (momentum buffers, moment estimates)."""
        return self.kind != "sgd"

    def hyperparameters(self) -> dict:
        """The optimizer's hyper-parameters with their values (defaults filled in)."""
        return {n: getattr(self, n) for n in OPTIMIZER_DEFAULTS[self.kind]}

    def config(self) -> dict:
        """Flat options: plain SGD keeps {dynamics, eta} (store hashes of older runs stay valid)."""
        return {"dynamics": self.kind, "eta": self.eta, **self.hyperparameters()}


@dataclass(frozen=True)
class NoiseModel:
    """Which noise ζ a step adds, and its parameters (docs/theory.md §Noise models).

    ``white``: √(2Dη)z with D = ``temperature``; ``hessian_fixed``: covariance η²λH_a/B (B = ``batch_size``,
    λ = ``loss_unit``); ``hessian_two_region``: λH_a/B before ``split``, λ|H_b|/B after; ``hessian_psd``:
    λ(|H(θ)| + ``delta``·I)/B; ``loss_hessian``: 2L(θ)H(θ)₊/B (Mori); ``levy``: (ηD)^{1/α} α-stable with
    α = ``alpha``; ``minibatch``: the gradient of a real minibatch (``replacement`` or not).
    """
    kind: str
    temperature: float | None = None
    batch_size: int | None = None
    loss_unit: float = 1.0
    delta: float = 0.0
    alpha: float = 1.5
    replacement: bool = True
    split: tuple[float, ...] | None = None

    def __post_init__(self):
        kind = _choice("noise", self.kind, NOISE_KINDS)
        if kind in _TEMPERATURE_NOISE:
            if self.temperature is None:
                raise InputError(f"temperature is required for {kind} noise (a finite number > 0)")
            _set(self, "temperature", positive_float("temperature", self.temperature))
        elif self.temperature is not None:
            raise InputError(f"temperature applies only to white and levy noise; got temperature={self.temperature!r} "
                             f"with noise={kind!r} (its scale is set by eta, batch_size and loss_unit)")
        if kind in _BATCH_NOISE:
            if self.batch_size is None:
                raise InputError(f"batch_size is required for {kind} noise (an integer >= 1)")
            _set(self, "batch_size", positive_int("batch_size", self.batch_size))
        elif self.batch_size is not None:
            raise InputError(f"batch_size applies only to SGD-type noise; got batch_size={self.batch_size!r} "
                             f"with noise={kind!r}")
        _set(self, "loss_unit", positive_float("loss_unit", self.loss_unit))
        if kind == "loss_hessian" and self.loss_unit != 1.0:
            raise InputError("loss_unit must be 1 for loss_hessian noise (2L(θ) carries the loss unit)")
        alpha = _finite("alpha", self.alpha)
        if kind == "levy" and not 0 < alpha <= 2:
            raise InputError(f"alpha must be in (0, 2]; got {self.alpha!r}")
        _set(self, "alpha", alpha)
        _set(self, "delta", _finite("delta", self.delta, low=0.0))
        _set(self, "replacement", bool(self.replacement))
        _set(self, "split", _vector("split", self.split))
        if self.split is not None and kind != "hessian_two_region":
            raise InputError(f"split applies only to hessian_two_region noise; got noise={kind!r}")

    @property
    def compiled(self) -> str | None:
        """The compiled kernel family of this noise: ``fixed_noise`` (a constant matrix S, one per region)
        or ``psd_noise`` (|H(θ)| + δI on built-ins with a diagonal Hessian); None: numpy only."""
        return _COMPILED_NOISE.get(self.kind)

    @property
    def uses_batch(self) -> bool:
        """Whether the noise scale is set by a batch size (SGD-type noise)."""
        return self.kind in _BATCH_NOISE

    def config(self) -> dict:
        names = {"white": ("temperature",), "levy": ("temperature", "alpha"), "hessian_psd": ("batch_size",
                 "loss_unit", "delta"), "minibatch": ("batch_size", "loss_unit", "replacement"),
                 "hessian_two_region": ("batch_size", "loss_unit", "split")}.get(self.kind, ("batch_size", "loss_unit"))
        out = {"noise": self.kind, **_config_of(self, names)}
        if out.get("split") is not None:
            out["split"] = list(out["split"])
        return out


@dataclass(frozen=True)
class Criterion:
    """When a particle has escaped (docs/theory.md §Exit criteria).

    ``dividing_surface``: it crosses the plane through a saddle normal to e (moved by ``plane_offset``
    along e); ``radius``: ‖θ − θ_a‖ ≥ ``radius``; ``loss_level``: L − L(a) ≥ ``fraction``·ΔL (default 1);
    ``basin``: a quench (every ``check_every`` steps) ends at another minimum, within ``capture_radius``.
    ``bridge`` adds the Brownian-bridge crossing test for planes and spheres under Gaussian noise.
    """
    kind: str
    radius: float | None = None
    fraction: float | None = None
    plane_offset: float = 0.0
    bridge: bool = True
    check_every: int | None = None
    capture_radius: float | None = None

    def __post_init__(self):
        kind = _choice("criterion", self.kind, CRITERION_KINDS)
        if kind == "radius":
            if self.radius is None:
                raise InputError("radius is required for the radius criterion (a finite number > 0)")
            _set(self, "radius", positive_float("radius", self.radius))
        elif self.radius is not None:
            raise InputError(f"radius applies only to the radius criterion; got criterion={kind!r}")
        if self.fraction is not None:
            _set(self, "fraction", positive_float("fraction", self.fraction))
        if self.check_every is not None:
            _set(self, "check_every", positive_int("check_every", self.check_every))
        if self.capture_radius is not None:
            _set(self, "capture_radius", positive_float("capture_radius", self.capture_radius))
        _set(self, "plane_offset", _finite("plane_offset", self.plane_offset))
        _set(self, "bridge", bool(self.bridge))

    @property
    def compiled(self) -> bool:
        """Whether the compiled kernels test this criterion (planes and spheres; the radius without the bridge)."""
        return self.kind in _COMPILED_CRITERIA and not (self.kind == "radius" and self.bridge)

    def config(self) -> dict:
        names = {"dividing_surface": ("plane_offset", "bridge"), "radius": ("radius", "bridge"),
                 "loss_level": ("fraction",), "basin": ("fraction", "check_every", "capture_radius")}[self.kind]
        return {"criterion": self.kind, **_config_of(self, names)}


@dataclass(frozen=True)
class Basin:
    """What is known of the basin left: the minimum θ_a, the saddles with their escape directions e, other minima.

    ``None`` fields are found from the landscape by the simulator (the known minimum nearest the start,
    the saddle hints bordering its basin, the negative-curvature eigenvector of H_b pointing away from a).
    """
    minimum: tuple[float, ...] | None = None
    saddles: tuple[tuple[float, ...], ...] | None = None
    escape_directions: tuple[tuple[float, ...], ...] | None = None
    minima: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self):
        _set(self, "minimum", _vector("minimum", self.minimum))
        _set(self, "saddles", _rows("saddle", self.saddles))
        _set(self, "escape_directions", _rows("escape_direction", self.escape_directions))
        _set(self, "minima", _rows("minima", self.minima))
        dims = {len(self.minimum)} if self.minimum is not None else set()
        for rows in (self.saddles, self.escape_directions, self.minima):
            if rows is not None:
                dims.add(len(rows[0]))
        if len(dims) > 1:
            raise InputError(f"minimum, saddle, escape_direction and minima must have one dimension; got {sorted(dims)}")
        if self.escape_directions is not None:
            if self.saddles is None or len(self.escape_directions) != len(self.saddles):
                raise InputError("escape_direction needs one row per saddle (pass saddle too)")
            if any(math.hypot(*e) == 0 for e in self.escape_directions):
                raise InputError("escape_direction must be non-zero")

    def array(self, name: str):
        """A field as a float array (``None`` stays ``None``)."""
        value = getattr(self, name)
        return None if value is None else np.array(value, float)

    def config(self) -> dict:
        out = {}
        for name, key in (("minimum", "minimum"), ("saddles", "saddle"), ("escape_directions", "escape_direction"),
                          ("minima", "minima")):
            value = getattr(self, name)
            if value is not None:
                out[key] = np.array(value, float).tolist()
        return out


@dataclass(frozen=True)
class Execution:
    """How a run is executed; results do not depend on it, except that ``numba`` refuses what it cannot run.

    ``backend``: ``auto`` (the compiled kernel when it covers the run), ``numpy`` (the reference) or
    ``numba``; ``chunk_size``: particles advanced together; ``buffer_steps``: steps of variates drawn per
    generator call.
    """
    backend: str = "auto"
    chunk_size: int | None = None
    buffer_steps: int = 256

    def __post_init__(self):
        _choice("backend", self.backend, BACKENDS)
        if self.chunk_size is not None:
            _set(self, "chunk_size", positive_int("chunk_size", self.chunk_size))
        _set(self, "buffer_steps", positive_int("buffer_steps", self.buffer_steps))

    def config(self) -> dict:
        return _config_of(self, ("backend", "chunk_size", "buffer_steps"))


# ---------------------------------------------------------------------- the string factory
_OPTIONS = {
    "dynamics": ("dynamics", "kind"), "eta": ("dynamics", "eta"), **{n: ("dynamics", n) for n in _HYPER},
    "noise": ("noise", "kind"), **{f.name: ("noise", f.name) for f in fields(NoiseModel) if f.name != "kind"},
    "criterion": ("criterion", "kind"),
    **{f.name: ("criterion", f.name) for f in fields(Criterion) if f.name != "kind"},
    "minimum": ("basin", "minimum"), "saddle": ("basin", "saddles"),
    "escape_direction": ("basin", "escape_directions"), "minima": ("basin", "minima"),
    **{f.name: ("execution", f.name) for f in fields(Execution)},
}
_PARTS = {"dynamics": Dynamics, "noise": NoiseModel, "criterion": Criterion, "basin": Basin, "execution": Execution}


def escape_parts(**options) -> dict:
    """The parts of a run from the flat option names of the CLI and the sweep configs.

    ``escape_parts(noise="white", temperature=0.1, criterion="radius", radius=1.0, eta=0.01)`` gives
    ``{"dynamics": Dynamics(...), "noise": NoiseModel(...), "criterion": Criterion(...), "basin": Basin(...),
    "execution": Execution(...)}``, ready for ``simulate_escape(landscape, start, **parts, n_runs=...,
    max_steps=..., seed=...)``. ``noise``, ``criterion`` and ``eta`` are required; an unknown name is an
    InputError listing the known ones.
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise InputError(f"unknown run option {unknown[0]!r}; known: {', '.join(sorted(_OPTIONS))}")
    for required in ("noise", "criterion", "eta"):
        if options.get(required) is None:
            raise InputError(f"{required} is required to build a run")
    kwargs: dict[str, dict] = {name: {} for name in _PARTS}
    for key, value in options.items():
        part, field_name = _OPTIONS[key]
        kwargs[part][field_name] = value
    return {name: cls(**kwargs[name]) for name, cls in _PARTS.items()}


def run_config(dynamics: Dynamics, noise: NoiseModel, criterion: Criterion, basin: Basin | None = None,
               execution: Execution | None = None) -> dict:
    """The flat config of a run (plain JSON types): ``escape_parts(**run_config(...))`` gives the parts back.

    The execution part is left out when it is the default (it does not change results).
    """
    out = {**dynamics.config(), **noise.config(), **criterion.config()}
    if basin is not None:
        out.update(basin.config())
    if execution is not None and execution != Execution():
        out.update(execution.config())
    return out
