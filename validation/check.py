"""``flatminima check``: analyse a user's landscape, predict escape rates, simulate, and compare.

For the minimum (given, or the lowest one found) we report its Hessian, every index-1 saddle on its
basin boundary with ΔL, H_ae, |H_be|, s and the escape direction (``numerics.basin``); then for each
dynamics we predict the rate (``validation.predict``: Eyring–Kramers for SGLD, the SGD law with the Itô
prefactor for two-region noise), simulate with the chosen exit criterion (default ``basin``: arrival near
another minimum, the event Kramers-type laws predict, THEORY §10.4), estimate the rate with its exact
95% CI, and set ``agrees`` when the prediction lies in that CI widened by the law's allowed error.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from numerics import build_landscape
from numerics.basin import analyse_basin
from numerics.critical import find_minima, hessian_spectrum
from validation.experiments import escape_task, geometry
from validation.predict import PREDICTABLE_NOISE, predict
from validation.suite import SuiteResult, Table, Verdict, fmt_pm

DEFAULT_ETA_LAMBDA = 0.05        # η·λ_max(H_a) when --eta is not given (THEORY §6.7: keep ηH ≤ 0.1)
DEFAULT_EXPONENT = 5.0           # SGLD temperature when not given: ΔL/D = 5
DEFAULT_RUNS = 200
STABILITY_LIMIT = 2.0            # η·λ_max(H_a) ≥ 2: the minimum is not stable under gradient descent
MAX_STEPS_CAP = 200_000          # default budget per run; a larger --max-steps is the user's choice


def _positive(name: str, value, *, integer: bool = False, allow_none: bool = True):
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is required")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0; got {value!r}") from None
    if not math.isfinite(v) or v <= 0 or (integer and v != int(v)):
        kind = "an integer >= 1" if integer else "a finite number > 0"
        raise ValueError(f"{name} must be {kind}; got {value!r}")
    return int(v) if integer else v


def run_check(spec: str, *, minimum=None, dynamics=None, noise=None, criterion: str = "basin", temperature=None,
              eta=None, batch_size=None, loss_unit=None, runs: int = DEFAULT_RUNS, max_steps=None, seed: int = 0):
    """Analyse, predict, simulate and compare; returns (json_object, SuiteResult)."""
    started = time.time()
    if dynamics not in (None, "sgld", "sgd"):
        raise ValueError(f"--dynamics must be sgld or sgd; got {dynamics!r}")
    temperature = _positive("--temperature", temperature)
    eta = _positive("--eta", eta)
    batch_size = _positive("--batch-size", batch_size, integer=True)
    loss_unit = _positive("--loss-unit", 1.0 if loss_unit is None else loss_unit)
    runs = _positive("--runs", runs, integer=True)
    max_steps = _positive("--max-steps", max_steps, integer=True)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"--seed must be an integer >= 0; got {seed!r}")
    from numerics.criteria import CRITERIA
    from numerics.noise import NOISE_MODELS
    if criterion not in CRITERIA:
        raise ValueError(f"--criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if noise is not None and noise not in NOISE_MODELS:
        raise ValueError(f"--noise must be one of {', '.join(NOISE_MODELS)}; got {noise!r}")
    if dynamics == "sgld" and noise not in (None, "white"):
        raise ValueError(f"--dynamics sgld means --noise white; got --noise {noise}")
    if dynamics == "sgld" and batch_size is not None:
        raise ValueError("--batch-size applies to --dynamics sgd only")
    if dynamics == "sgd" and temperature is not None:
        raise ValueError("--temperature applies to --dynamics sgld only (SGD noise is set by eta, B and λ)")
    land = build_landscape(spec, dim=None if minimum is None else len(minimum))
    if minimum is not None and len(minimum) != land.dim:
        raise ValueError(f"--minimum has {len(minimum)} coordinates but {land.name} has dim {land.dim}")
    start = np.asarray(minimum, float) if minimum is not None else find_minima(land)[0]
    analysis = analyse_basin(land, start)
    obj = analysis.to_dict()
    obj["landscape"] = spec
    geom = geometry(analysis)
    if not analysis.paths:
        obj["experiments"] = []
        obj["note"] = "no index-1 saddle found on the basin boundary: nothing to predict or simulate"
        return obj, _result(spec, obj, [], started)
    lam_max = float(np.max(analysis.hessian_eigenvalues)) if land.dim <= 200 else float(hessian_spectrum(land, analysis.minimum)[-1])
    eta_used = eta if eta is not None else DEFAULT_ETA_LAMBDA / lam_max
    if eta_used * lam_max >= STABILITY_LIMIT:
        raise ValueError(f"--eta must be < 2/λ_max(H_a) = {STABILITY_LIMIT / lam_max:.6g} for this minimum (gradient "
                         f"descent is unstable there); got {eta_used:g}, η·λ_max = {eta_used * lam_max:.4g}")
    barrier = min(p.barrier for p in analysis.paths)
    kinds = [dynamics] if dynamics else ["sgld", "sgd"]
    experiments, verdicts = [], []
    for kind in kinds:
        config = {"landscape": spec, "sharpness": 1.0, "minimum": [float(x) for x in analysis.minimum],
                  "criterion": criterion, "eta": float(eta_used), "n_runs": int(runs), "loss_unit": 1.0,
                  "options": {}}
        if kind == "sgld":
            config.update(noise="white", temperature=float(temperature or barrier / DEFAULT_EXPONENT))
        else:
            config.update(noise=noise or "hessian_two_region", batch_size=int(batch_size or 1),
                          loss_unit=float(loss_unit))
        pred = predict(config, geom, land) if config["noise"] in PREDICTABLE_NOISE else None
        if max_steps is not None:
            config["max_steps"] = int(max_steps)
        elif pred is not None and pred.rate > 0:
            config["max_steps"] = int(min(max(6.0 / (pred.rate * eta_used), 1000), MAX_STEPS_CAP))
        else:
            config["max_steps"] = MAX_STEPS_CAP
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # warnings are collected into the row by escape_task
            row = escape_task(config, seed)[0]
        lo, hi = row["rate_lo"], row["rate_hi"]
        notes = [row["warnings"]] if row["warnings"] else []
        if row["n_diverged"]:
            notes.append(f"{row['n_diverged']} of {row['n_runs']} particles diverged (θ or the loss became non-finite): "
                         "they are not counted as escapes but censored at their last finite step, so the rate "
                         "is biased; lower --eta or --temperature (THEORY §6.7)")
        if pred is not None:
            expected = pred.rate * config["eta"] * config["max_steps"] * config["n_runs"]
            if expected < 1.0:
                notes.append(f"fewer than one escape expected in the whole run ({expected:.2g}): the measured "
                             "rate is an upper bound; raise --loss-unit or --max-steps, or lower --batch-size "
                             "(THEORY C21)")
        exp = {"dynamics": kind, "noise": config["noise"], "criterion": criterion,
               "temperature": config.get("temperature"), "eta": config["eta"],
               "batch_size": config.get("batch_size"), "loss_unit": config["loss_unit"] if kind == "sgd" else None,
               "predicted_rate": None if pred is None else pred.rate,
               "measured_rate": row["rate"], "rate_ci": [lo, hi],
               "n_runs": row["n_runs"], "n_escaped": row["n_escaped"], "n_diverged": row["n_diverged"],
               "max_steps": config["max_steps"], "seed": seed,
               "agrees": None if pred is None else pred.agrees(lo, hi),
               "law": None if pred is None else pred.law,
               "allowed_relative_error": None if pred is None else pred.rel_error,
               "error_method": None if pred is None else pred.error_method,
               "rate_upper": row["rate_upper"] if row["n_escaped"] == 0 else None,
               "units": "rates per unit SDE time t = step × eta; 95% exact (Garwood) CI",
               "warnings": " | ".join(notes)}
        experiments.append(exp)
        if pred is not None:
            verdicts.append(Verdict(
                claim=f"{kind.upper()} ({config['noise']} noise, {criterion} exit): measured rate matches {pred.law}",
                check="check", measured=fmt_pm(row["rate"], ci=(lo, hi)) + f" ({row['n_escaped']}/{row['n_runs']} escaped)",
                predicted=f"{pred.rate:.4g}", tolerance=f"95% CI × (1 ± {pred.rel_error:.3g})",
                passed=bool(exp["agrees"]), value=row["rate"], expected=pred.rate, details=pred.error_method))
    obj["experiments"] = experiments
    result = _result(spec, obj, verdicts, started)
    white = next((e for e in experiments if e["dynamics"] == "sgld"), None)
    trajectories = (sample_trajectories(land, analysis, eta=white["eta"], temperature=white["temperature"], seed=seed)
                    if white is not None and land.dim == 2 else [])
    result.figures.extend(landscape_figures(land, analysis, trajectories))
    return obj, result


def sample_trajectories(land, analysis, *, eta: float, temperature: float, seed: int, n: int = 2,
                        max_steps: int = 200_000, every: int = 100) -> list:
    """A few white-noise (SGLD) paths from the minimum until they cross a dividing plane (for pictures).

    θ ← θ − η∇L + √(2Dη)ξ with ξ from ``numpy.random.default_rng(seed)``; each path is kept every
    ``every`` steps and ends at its first crossing of a plane through a saddle normal to its escape
    direction (or at ``max_steps``). Illustration only: rates come from the simulator, not from these.
    """
    rng = np.random.default_rng(seed)
    planes = [(np.asarray(p.saddle), np.asarray(p.escape_direction)) for p in analysis.paths]
    scale = np.sqrt(2.0 * temperature * eta)
    theta = np.tile(np.asarray(analysis.minimum, float), (n, 1))
    paths = [[theta[i].tolist()] for i in range(n)]
    alive = np.ones(n, bool)
    for step in range(1, max_steps + 1):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        th = theta[idx]
        th = th - eta * land.grads(th) + scale * rng.standard_normal(th.shape)
        if not np.all(np.isfinite(th)):
            break
        theta[idx] = th
        crossed = np.zeros(idx.size, bool)
        for point, direction in planes:
            crossed |= (th - point) @ direction >= 0
        for j, i in enumerate(idx):
            if step % every == 0 or crossed[j]:
                paths[i].append(th[j].tolist())
        alive[idx[crossed]] = False
    return paths


def landscape_figures(land, analysis, trajectories=()) -> list:
    """Hessian spectra at the minimum and the lowest saddle, and for 2-D landscapes a contour plot
    with the minimum, the saddles and their minimum energy paths (numbers only; reports draws them)."""
    from validation.suite import Figure

    figures = []
    if analysis.paths:
        figures.append(Figure(name="spectra", kind="spectrum", title="Hessian spectra",
                              data={"minimum": list(map(float, analysis.hessian_eigenvalues)),
                                    "saddle": list(map(float, analysis.paths[0].saddle_hessian_eigenvalues))},
                              caption="Eigenvalues of H at the minimum and at the lowest index-1 saddle."))
    if land.dim == 2:
        pts = [analysis.minimum] + [p.saddle for p in analysis.paths] + \
              [q for p in analysis.paths for q in p.mep_points]
        pts = np.array(pts)
        span = np.ptp(pts, axis=0).max() or 1.0
        lo, hi = pts.min(axis=0) - 0.6 * span, pts.max(axis=0) + 0.6 * span
        x, y = np.linspace(lo[0], hi[0], 90), np.linspace(lo[1], hi[1], 80)
        X, Y = np.meshgrid(x, y)
        Z = land.values(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
        figures.append(Figure(name="landscape", kind="landscape2d", title=f"{land.name}: basin and escape paths",
                              data={"x": x.tolist(), "y": y.tolist(), "z": Z.tolist(),
                                    "minima": [list(map(float, analysis.minimum))],
                                    "saddles": [list(map(float, p.saddle)) for p in analysis.paths],
                                    "paths": [np.asarray(p.mep_points).tolist() for p in analysis.paths],
                                    "trajectories": [list(t) for t in trajectories], "levels": 30},
                              caption="Loss contours, the minimum, its index-1 saddles, minimum energy paths and "
                                      "sample SGLD escape trajectories (at the check's η and D, until the first "
                                      "crossing of a dividing plane; illustration only)."))
    return figures


def _result(spec, obj, verdicts, started) -> SuiteResult:
    from validation.suites.common import versions

    paths = obj.get("paths", [])
    result = SuiteResult(suite="check", size="-", title=f"flatminima check {spec}",
                         criteria="An experiment agrees when the predicted rate lies in the measured 95% CI "
                                  "widened by the law's allowed relative error (asymptotic + discretisation).",
                         verdicts=verdicts)
    result.tables.append(Table(name="paths", columns=["saddle", "barrier ΔL", "h_ae", "|h_be|", "s"],
                               rows=[[str([round(x, 6) for x in p["saddle"]["theta"]]), p["barrier"], p["h_ae"],
                                      p["h_be"], p["s"]] for p in paths],
                               caption="Index-1 saddles on the basin boundary (numerics.basin)."))
    cols = ["dynamics", "noise", "eta", "temperature", "batch_size", "loss_unit", "predicted_rate",
            "measured_rate", "n_escaped", "n_diverged", "n_runs", "agrees", "warnings"]
    result.tables.append(Table(name="experiments", columns=cols,
                               rows=[[e.get(c) for c in cols] for e in obj.get("experiments", [])],
                               caption="Rates per unit SDE time; measured with the censored exponential MLE. "
                                       "Diverged particles (non-finite θ or loss) are counted in n_diverged, "
                                       "never as escapes (they are censored at their last finite step)."))
    result.provenance = {"versions": versions(), "wall_seconds": round(time.time() - started, 1), "json": obj}
    return result
