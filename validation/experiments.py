"""Escape experiments as sweep tasks: one config = one setting, many particles, one tidy row.

A config is a plain dict (hashed by ``validation.store``)::

    {"landscape": "double-well", "sharpness": 1.0, "minimum": [-1.0],
     "noise": "white", "criterion": "basin", "eta": 0.02, "temperature": 0.05,
     "batch_size": None, "loss_unit": 1.0, "n_runs": 400, "max_steps": 200000,
     "options": {...}}            # other run options (numerics.parts.escape_parts names)

``escape_task(config, seed)`` builds the (sharpened) landscape, analyses the basin of the minimum
nearest to ``minimum`` (all index-1 saddles on its boundary), simulates, and estimates the rate with
the censored exponential MLE (``validation.estimators``). The row carries the measurement with its
CI, the basin geometry the prediction needs, and the raw exit steps for survival plots. Predictions
are *not* made here: the measurement never sees the theory it is compared with.
"""
from __future__ import annotations

import difflib
import json
import time
import warnings
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import build_landscape, sharpened
from flatminima.numerics.basin import analyse_basin
from flatminima.numerics.parts import CRITERION_KINDS, NOISE_KINDS, OPTIMIZER_DEFAULTS
from flatminima.validation.estimators import estimate_rate
from flatminima.validation.store import normalize_config

AMS_RUNS = 20
"""Independent AMS runs per batch of a ``method: ams`` config made by the toolkit (check, suites)."""
AMS_BRANCH_STEPS = 10**6
"""Cap on the steps of one AMS branch when a config gives no max_steps."""
METHODS = ("simulate", "ams", "exact")
"""How a config's rate is measured: brute-force simulation, adaptive multilevel splitting (``ams`` options: the
keyword arguments of :func:`numerics.simulate.ams.ams_escape`, e.g. ``{"n_replicas": 100}``), or the exact mean
exit time of the 1-D discrete chain (:func:`numerics.simulate.exact.exact_chain_rate`)."""


@lru_cache(maxsize=64)
def _analysis(spec: str, sharpness: float, minimum: tuple):
    land = build_landscape(spec, dim=len(minimum) if minimum else None)
    if sharpness != 1.0:
        land = sharpened(land, sharpness)
    start = np.asarray(minimum, float) / np.sqrt(sharpness)     # minimum given for k = 1 (θ*/√k)
    return land, analyse_basin(land, start)


_KNOWN: dict[tuple, tuple] = {}


def remember_basin(config: dict, landscape, analysis) -> None:
    """Let ``basin_of`` reuse an analysis already made for this config's landscape and minimum (``check``)."""
    _KNOWN[(config["landscape"], float(config.get("sharpness", 1.0)), tuple(config["minimum"]))] = (landscape, analysis)


def basin_of(config: dict):
    """The (sharpened) landscape and the analysis of the basin a config starts in (cached per process)."""
    key = (config["landscape"], float(config.get("sharpness", 1.0)), tuple(config["minimum"]))
    if key in _KNOWN:
        return _KNOWN[key]
    return _analysis(*key)


def geometry(analysis) -> dict:
    """The basin numbers a prediction needs: per path ΔL, H_ae, |H_be|, s and the determinant ratio."""
    minimum_eigs = np.asarray(analysis.hessian_eigenvalues, float)
    paths = []
    for p in analysis.paths:
        saddle_eigs = np.asarray(p.saddle_hessian_eigenvalues, float)
        # |det H_b| / det H_a from the spectra (Eyring–Kramers); needs full spectra (d ≤ DENSE_MAX) and
        # no zero mode: with a flat direction det H_a = 0 and the ratio is undefined
        full = len(saddle_eigs) == analysis.dim and len(minimum_eigs) == analysis.dim
        defined = full and analysis.zero_modes == 0 and p.zero_modes == 0
        det_ratio = float(np.exp(np.sum(np.log(np.abs(saddle_eigs))) - np.sum(np.log(minimum_eigs)))) \
            if defined else None
        paths.append({"barrier": float(p.barrier), "h_ae": float(p.h_ae), "h_be": float(p.h_be), "s": float(p.s),
                      "det_ratio": det_ratio, "saddle": np.asarray(p.saddle).tolist(),
                      "escape_direction": np.asarray(p.escape_direction).tolist(), "zero_modes": p.zero_modes})
    return {"minimum": np.asarray(analysis.minimum).tolist(), "loss": float(analysis.loss),
            "hessian_eigenvalues": minimum_eigs.tolist(), "zero_modes": analysis.zero_modes, "paths": paths}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


CONFIG_SCHEMA = {
    "landscape": ("a built-in spec such as 'double-well' or 'path/to/file.py:function' (a non-empty string)",
                  lambda v: isinstance(v, str) and bool(v.strip())),
    "minimum": ("a non-empty list of numbers (the start, given for sharpness 1)",
                lambda v: isinstance(v, list) and len(v) > 0 and all(_number(x) for x in v)),
    "noise": (f"one of {', '.join(NOISE_KINDS)}", lambda v: v in NOISE_KINDS),
    "eta": ("a number > 0", lambda v: _number(v) and v > 0),
    "n_runs": ("an integer >= 1", lambda v: _integer(v) and v >= 1),
    "max_steps": ("an integer >= 1 (write 1000000 or 10**6, not 1e6); null only with method ams",
                  lambda v: v is None or (_integer(v) and v >= 1)),
    "sharpness": ("a number > 0 (default 1.0)", lambda v: _number(v) and v > 0),
    "criterion": (f"one of {', '.join(CRITERION_KINDS)} (default basin)", lambda v: v in CRITERION_KINDS),
    "temperature": ("a number > 0, or null", lambda v: v is None or (_number(v) and v > 0)),
    "batch_size": ("an integer >= 1, or null", lambda v: v is None or (_integer(v) and v >= 1)),
    "loss_unit": ("a number > 0 (default 1.0)", lambda v: _number(v) and v > 0),
    "options": ("a mapping of run options (numerics.parts.escape_parts names), or null",
                lambda v: v is None or isinstance(v, dict)),
    "label": ("a string, or null", lambda v: v is None or isinstance(v, str)),
    "burn_in_steps": ("an integer >= 0 (default 0)", lambda v: _integer(v) and v >= 0),
    "target_log_ci": ("a number > 0, or null", lambda v: v is None or (_number(v) and v > 0)),
    "max_runs": ("an integer >= 1, or null", lambda v: v is None or (_integer(v) and v >= 1)),
    "method": (f"one of {', '.join(METHODS)} (default simulate)", lambda v: v in METHODS),
    "ams": ("a mapping of ams_escape options such as {\"n_replicas\": 100}, or null",
            lambda v: v is None or isinstance(v, dict)),
    "optimizer": ("null (plain SGD) or a mapping {\"kind\": sgd|momentum|adam|pnm|adai, hyper-parameters...}",
                  lambda v: v is None or isinstance(v, dict)),
}
"""Every key of an escape config: (what is allowed, its test on the normalised value). docs/config.md documents it."""
REQUIRED_KEYS = ("landscape", "minimum", "noise", "eta", "n_runs", "max_steps")
"""Keys a config must have (``max_steps`` not with method ams or exact)."""
CONFIG_KEYS = frozenset(CONFIG_SCHEMA)
"""Keys a config may have; anything else is a typo and is refused."""
_HYPER = tuple(dict.fromkeys(k for hyper in OPTIMIZER_DEFAULTS.values() for k in hyper))
"""The optimizers' hyper-parameter names (the keys of ``optimizer`` besides ``kind``)."""
# options that have their own config key (or live in ``optimizer``): refused inside ``options``
_OWN_KEY = {"noise": "noise", "criterion": "criterion", "eta": "eta", "temperature": "temperature",
            "batch_size": "batch_size", "loss_unit": "loss_unit", "minimum": "minimum",
            "dynamics": "optimizer", **{k: "optimizer" for k in _HYPER}}
# keyword arguments of ams_escape that a config's "ams" mapping may not set (the task sets them)
_AMS_SET_BY_TASK = {"landscape", "start", "dynamics", "noise", "criterion", "seed", "basin", "execution", "max_steps",
                    "progress", "target_log_ci"}


AMS_OPTIONS = ("n_replicas", "n_ams_runs", "kill_count", "n_loops", "n_walkers", "score", "paths", "levels",
               "max_iterations", "max_ams_runs")
"""Keyword arguments of :func:`numerics.simulate.ams.ams_escape` that a config's ``ams`` mapping may set
(a fixed list, checked against the signature by the tests: introspecting at run time would see a wrapper)."""


def check_config(config) -> None:
    """Refuse a config ``escape_task`` cannot run, before anything runs: one-line :class:`InputError` naming the key.

    Checks, in order: unknown keys (with the closest allowed one), missing required keys (:data:`REQUIRED_KEYS`;
    ``max_steps`` may be left out with method ams or exact), each key's type and range (:data:`CONFIG_SCHEMA`),
    the keys of ``options`` and ``ams``, and that the run's parts can be built (noise, criterion, optimizer and
    their parameters fit together, :func:`numerics.parts.escape_parts`). Nothing is filled in or changed, so a
    valid config keeps its canonical JSON and hash. Building the landscape and finding its saddles are left to the
    task.
    """
    if not isinstance(config, Mapping):
        raise InputError(f"a config must be a mapping of keys to values; got {type(config).__name__}")
    try:
        config = normalize_config(config)
    except TypeError as err:
        raise InputError(str(err)) from None
    for key in config:
        if key not in CONFIG_KEYS:
            close = difflib.get_close_matches(key, sorted(CONFIG_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"unknown config key {key!r}{hint}; allowed keys: {', '.join(CONFIG_SCHEMA)}")
    method = config.get("method", "simulate")
    for key in REQUIRED_KEYS:
        if key not in config and not (key == "max_steps" and method in ("ams", "exact")):
            raise InputError(f"config key {key!r} is missing: it must be {CONFIG_SCHEMA[key][0]}")
    for key, value in config.items():
        allowed, ok = CONFIG_SCHEMA[key]
        if not ok(value):
            raise InputError(f"config key {key!r} must be {allowed}; got {value!r}")
    if config.get("max_steps") is None and method == "simulate":
        raise InputError(f"config key 'max_steps' must be {CONFIG_SCHEMA['max_steps'][0]}; got None")
    if config.get("ams") is not None and method != "ams":
        raise InputError(f"config key 'ams' applies to method 'ams' only; got method {method!r}")
    if config.get("max_runs") is not None and config["max_runs"] < config["n_runs"]:
        raise InputError(f"config key 'max_runs' must be an integer >= n_runs ({config['n_runs']}), or null; "
                         f"got {config['max_runs']!r}")
    options = config.get("options") or {}
    for key in options:
        if key in _OWN_KEY:
            raise InputError(f"config key 'options' must not set {key!r}: give it as the config key "
                             f"{_OWN_KEY[key]!r}")
    if config.get("ams"):
        for key in config["ams"]:
            if key not in AMS_OPTIONS:
                raise InputError(f"config key 'ams' has an unknown option {key!r}; allowed: {', '.join(AMS_OPTIONS)}")
    try:
        _escape_parts(config, None)
    except InputError as err:
        raise InputError(f"config: {err}") from None


def escape_task(config: dict, seed: int, progress=None) -> list[dict]:
    """Run one escape setting and return one row: the rate with its CI, counts, geometry and exit steps.

    ``method: ams`` measures the rate by adaptive multilevel splitting instead (:func:`ams_row`; ``progress``, a
    progress-bar hook, is passed to it). A config it cannot run is refused first (:func:`check_config`).
    """
    check_config(config)
    land, analysis = basin_of(config)
    if not analysis.paths:
        raise InputError(f"no index-1 saddle found around the minimum {config['minimum']} of {config['landscape']}")
    if config.get("method", "simulate") == "ams":
        return [ams_row(config, seed, land, analysis, progress)]
    if config.get("method") == "exact":
        return [exact_row(config, seed, land, analysis)]
    from flatminima.numerics.simulate import simulate_escape

    t0 = time.perf_counter()
    eta = float(config["eta"])
    target = config.get("target_log_ci")
    max_runs = int(config.get("max_runs") or config["n_runs"])
    batches = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = _escape_parts(config, analysis)
        while True:
            # batch b uses its own stream family: SeedSequence entropy (seed, b) folded into one integer
            batch_seed = seed if not batches else int(np.random.SeedSequence([seed, len(batches)]).generate_state(2, np.uint64)[0])
            batches.append(simulate_escape(land, analysis.minimum, **parts, n_runs=int(config["n_runs"]),
                                           max_steps=int(config["max_steps"]), seed=int(batch_seed)))
            steps = np.concatenate([b.steps for b in batches])
            escaped = np.concatenate([b.escaped for b in batches])
            diverged = np.concatenate([b.diverged for b in batches])
            est = estimate_rate(steps, escaped, eta=eta, diverged=diverged,
                                burn_in_steps=int(config.get("burn_in_steps", 0)))
            # sequential stopping (issue 5): until the 95% half-width of log γ̂, 1.96/√n_escaped, is
            # below target_log_ci, or max_runs particles have run
            if target is None or (est.n_escaped > 0 and 1.959964 * est.log_rate_stderr <= float(target)) \
                    or len(steps) + int(config["n_runs"]) > max_runs:
                break
    result = batches[0]
    wall = time.perf_counter() - t0
    row = {
        "seed": int(seed),
        "n_runs": int(est.n_runs), "n_escaped": int(est.n_escaped), "n_censored": int(est.n_censored),
        "n_diverged": int(est.n_diverged),
        "rate": float(est.rate), "rate_lo": float(est.rate_ci[0]), "rate_hi": float(est.rate_ci[1]),
        "rate_upper": float(est.rate_upper), "log_rate_stderr": float(est.log_rate_stderr),
        "rate_per_step": float(est.rate_per_step), "exposure": float(est.exposure),
        "rate_method": est.method,
        **_basin_columns(analysis),
        "eta_lambda_max": float(result.eta_lambda_max),
        "discretization_dominated": bool(result.discretization_dominated),
        "backend": result.backend, "wall_seconds": wall, "optimizer": optimizer_of(config).kind,
        "warnings": _warning_text(caught),
        "n_batches": len(batches),
        "steps": np.asarray(steps, dtype=np.int64).tolist(),
        "escaped": np.asarray(escaped, dtype=bool).tolist(),
        "diverged": np.asarray(diverged, dtype=bool).tolist(),
    }
    return [row]


escape_task.check_config = check_config      # run_sweep checks every config with it before anything runs


def ams_row(config: dict, seed: int, land, analysis, progress=None) -> dict:
    """The row of a ``method: ams`` config: the rate with its 95% CI by splitting, and how it was made.

    It has the columns of a brute-force row plus the splitting's own (p, loop time, levels, score, variance
    diagnostic). ``n_runs`` is the config's batch of independent AMS runs (``n_ams_runs`` were made, more when
    ``target_log_ci`` asks for them; ``n_replicas`` each) and ``n_escaped`` the *equivalent* escapes (1/s.e.(log γ̂))²:
    the number of brute-force escapes that would give the same precision (so the verdicts' minimum number of
    escapes means the same precision for both methods). No exit steps.
    """
    from flatminima.numerics.simulate.ams import ams_escape

    ams = dict(config.get("ams") or {})
    ams.setdefault("paths", [np.asarray(p.mep_points, float) for p in analysis.paths])
    ams.setdefault("n_ams_runs", int(config["n_runs"]))         # n_runs: independent AMS runs
    if config.get("target_log_ci") is not None:
        ams.setdefault("target_log_ci", float(config["target_log_ci"]))
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ams_escape(land, analysis.minimum, **_escape_parts(config, analysis), seed=int(seed),
                         max_steps=int(config.get("max_steps") or AMS_BRANCH_STEPS), progress=progress, **ams)
    se = float(res.log_rate_stderr)
    equivalent = int(1.0 / se ** 2) if res.rate > 0 and 0 < se < float("inf") else 0
    return {
        "seed": int(seed), "method": "ams",
        "n_runs": int(config["n_runs"]), "n_escaped": equivalent, "n_censored": 0,
        "n_diverged": int(res.n_diverged),
        "rate": float(res.rate), "rate_lo": float(res.rate_ci[0]), "rate_hi": float(res.rate_ci[1]),
        "rate_upper": float(res.rate_ci[1]), "log_rate_stderr": float(res.log_rate_stderr),
        "rate_per_step": float(res.rate_per_step), "exposure": float("nan"),
        "rate_method": "adaptive multilevel splitting (generalized AMS, loop identity)",
        **_basin_columns(analysis), "eta_lambda_max": float(res.eta_lambda_max),
        "discretization_dominated": bool(res.discretization_dominated), "backend": "numpy",
        "wall_seconds": time.perf_counter() - t0, "warnings": _warning_text(caught, res.notes),
        "n_batches": int(res.n_ams_runs), "steps": [], "escaped": [], "diverged": [],
        "probability": float(res.probability), "probability_stderr": float(res.probability_stderr),
        "loop_steps": float(res.loop_steps), "n_loops": int(res.n_loops), "score": res.score,
        "level_a": float(res.level_a), "level_sigma": float(res.level_sigma), "n_replicas": int(res.n_replicas),
        "n_ams_runs": int(res.n_ams_runs), "kill_count": int(res.kill_count),
        "relative_variance": float(res.relative_variance), "ideal_relative_variance": float(res.ideal_relative_variance),
        "n_stalled": int(res.n_stalled), "particle_steps": int(res.particle_steps),
    }


def exact_row(config: dict, seed: int, land, analysis) -> dict:
    """The row of a ``method: exact`` config: the 1-D chain's exact rate, its numerical error as the interval
    (nothing is simulated: ``n_escaped`` is 0)."""
    from flatminima.numerics.simulate.exact import exact_chain_rate

    t0 = time.perf_counter()
    res = exact_chain_rate(land, analysis.minimum, **_escape_parts(config, analysis))
    lo, hi = res.rate_ci
    return {
        "seed": int(seed), "method": "exact", "n_runs": int(config["n_runs"]), "n_escaped": 0, "n_censored": 0,
        "n_diverged": 0, "rate": float(res.rate), "rate_lo": float(lo), "rate_hi": float(hi), "rate_upper": float(hi),
        "log_rate_stderr": float(res.relative_error), "rate_per_step": float(res.rate * res.eta),
        "exposure": float("nan"),
        "rate_method": "exact mean exit time of the discrete 1-D chain (collocation, Richardson, GTH)",
        **_basin_columns(analysis), "eta_lambda_max": float(res.eta_lambda_max),
        "discretization_dominated": False, "backend": "numpy", "wall_seconds": time.perf_counter() - t0,
        "warnings": _warning_text([], res.notes), "n_batches": 0, "steps": [], "escaped": [], "diverged": [],
        "exact_steps": float(res.steps),
        "exact_absorbing": float(res.absorbing), "exact_left": float(res.left),
    }


EXACT_SDE_GRID = 121
"""The finest coarse grid of the 2-D SDE reference a check solves (about 1 s; its stated error says if it sufficed)."""


def exact_sde_reference(config: dict, land, analysis) -> dict:
    """The exact rate of a 2-D config's SDE limit (η → 0) with constant noise, as a dict for the report
    (:func:`numerics.simulate.exact.exact_sde_rate_2d`, to 2% or the grid ``EXACT_SDE_GRID``²): a reference beside
    the measurement, not the measurement."""
    from flatminima.numerics.simulate.exact import exact_sde_rate_2d

    return exact_sde_rate_2d(land, analysis.minimum, **_escape_parts(config, analysis), rtol=0.02,
                             max_grid=EXACT_SDE_GRID).to_dict()


def optimizer_of(config: dict):
    """The config's step rule as a :class:`numerics.parts.Dynamics` (``optimizer``: {"kind": ..., hyper-parameters};
    absent or None: plain SGD), checked (one-line InputError)."""
    from flatminima.numerics.parts import Dynamics

    opt = config.get("optimizer")
    if opt is None:
        return Dynamics(float(config["eta"]))
    if not isinstance(opt, dict) or "kind" not in opt:
        raise InputError(f"optimizer must be a dict with a 'kind' (sgd, momentum, adam, pnm, adai) and its "
                         f"hyper-parameters; got {opt!r}")
    hyper = {k: v for k, v in opt.items() if k != "kind"}
    unknown = sorted(set(hyper) - set(_HYPER))
    if unknown:
        raise InputError(f"optimizer has an unknown hyper-parameter {unknown[0]!r}; allowed: kind, {', '.join(_HYPER)}")
    return Dynamics(float(config["eta"]), opt["kind"], **hyper)


def _escape_parts(config: dict, analysis) -> dict:
    """The parts (:func:`numerics.parts.escape_parts`) of a config run from its analysed basin (None: without it)."""
    from flatminima.numerics.simulate import escape_parts

    options = dict(config.get("options") or {})
    kwargs = dict(noise=config["noise"], criterion=config.get("criterion", "basin"), eta=float(config["eta"]),
                  loss_unit=float(config.get("loss_unit", 1.0)))
    if analysis is None:                    # check_config: the parts without the basin's geometry
        kwargs["minimum"] = np.asarray(config["minimum"], float)
    else:
        kwargs.update(minimum=analysis.minimum, saddle=np.array([p.saddle for p in analysis.paths]),
                      escape_direction=np.array([p.escape_direction for p in analysis.paths]))
    if config.get("temperature") is not None:
        kwargs["temperature"] = float(config["temperature"])
    if config.get("batch_size") is not None:
        kwargs["batch_size"] = int(config["batch_size"])
    dyn = optimizer_of(config)
    kwargs.update(dynamics=dyn.kind, **dyn.hyperparameters())
    if options.get("minima") is not None:
        options["minima"] = np.asarray(options["minima"], float)
    kwargs.update(options)
    return escape_parts(**kwargs)


def _basin_columns(analysis) -> dict:
    """The row columns of the basin: the first path's ΔL, H_ae, |H_be|, s, the number of paths, the geometry."""
    first = analysis.paths[0]
    return {"barrier": float(first.barrier), "h_ae": float(first.h_ae), "h_be": float(first.h_be),
            "s": float(first.s), "n_paths": len(analysis.paths), "geometry": json.dumps(geometry(analysis))}


def _warning_text(caught, notes=()) -> str:
    """The first lines of the warnings a task raised (and its notes), sorted, joined by " | "."""
    return " | ".join(sorted({str(w.message).split("\n")[0] for w in caught} | set(notes)))
