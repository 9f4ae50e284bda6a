"""``flatminima check``: analyse a user's landscape, predict escape rates, simulate, and compare.

For the minimum (given, or the lowest one found; a valley of minima counts once) we report its
Hessian and zero modes, every index-1 saddle on its basin boundary with ΔL, H_ae, |H_be|, s and the
escape direction (``numerics.basin``, searched under a time budget); then for each dynamics we
predict the rate (``validation.predict``: Eyring–Kramers for SGLD, the SGD law with the Itô prefactor
for two-region noise), check that enough escapes are expected to decide (picking the temperature or
the loss unit λ where the user left them open, so that the predicted exponent is 5), simulate with the
chosen exit criterion (default ``basin``: arrival near another minimum, the event Kramers-type laws
predict), estimate the rate with its exact 95% CI, and judge: PASS, FAIL or INCONCLUSIVE
(``validation.verdicts``).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import build_landscape
from flatminima.numerics.basin import _nums, analyse_basin, group_flat_minima
from flatminima.numerics.critical import CriticalPointError, find_minima, hessian_spectrum, refine_saddle, zero_mode_mask
from flatminima.numerics.saddles import Budget
from flatminima.numerics.simulate import STABILITY_LIMIT
from flatminima.numerics.simulate.exact import SDE_CRITERIA, SDE_NOISES
from flatminima.validation.experiments import (AMS_BRANCH_STEPS, AMS_RUNS, escape_task, exact_sde_reference, geometry,
                                               remember_basin)
from flatminima.validation.predict import PREDICTABLE_NOISE, predict, prefactor_unknown_reason
from flatminima.validation.suite import SuiteResult, Table, Verdict, fmt_pm
from flatminima.validation.verdicts import MIN_ESCAPES, MIN_EXPECTED, expected_escapes, judge

DEFAULT_ETA_LAMBDA = 0.05        # η·λ_max(H_a) when --eta is not given (discretisation: keep ηH ≤ 0.1)
DEFAULT_EXPONENT = 5.0           # predicted exponent aimed at when D (SGLD) or λ (SGD) is not given
DEFAULT_RUNS = 200
DEFAULT_BUDGET = 300.0           # seconds for the saddle search
AMS_REPLICAS = 100               # replicas per AMS run (--replicas)
MAX_STEPS_CAP = 200_000          # default budget per run; a larger --max-steps is the user's choice
LOSS_UNIT_NOISE = ("hessian_fixed", "hessian_two_region", "hessian_psd")   # noise ∝ λ: exponent ∝ 1/λ
UNITS = "rates per unit SDE time t = step × eta; 95% exact (Garwood) CI"
METHODS = ("auto", "simulate", "ams", "exact")
EXACT_UNITS = "rates per unit SDE time t = step × eta; interval = the exact chain's numerical error"
AMS_UNITS = ("rates per unit SDE time t = step × eta; 95% CI from the spread of independent AMS runs and of the "
             "loop counts")


def _positive(name: str, value, *, integer: bool = False, allow_none: bool = True):
    if value is None:
        if allow_none:
            return None
        raise InputError(f"{name} is required")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number > 0; got {value!r}") from None
    if not math.isfinite(v) or v <= 0 or (integer and v != int(v)):
        kind = "an integer >= 1" if integer else "a finite number > 0"
        raise InputError(f"{name} must be {kind}; got {value!r}")
    return int(v) if integer else v


def run_check(spec: str, *, minimum=None, dynamics=None, noise=None, criterion: str = "basin", temperature=None,
              eta=None, batch_size=None, loss_unit=None, n_runs: int = DEFAULT_RUNS, max_steps=None, seed: int = 0,
              saddles=None, budget: float | None = DEFAULT_BUDGET, progress=None, method: str = "auto",
              replicas: int = AMS_REPLICAS, optimizer: str | None = None, figures: bool = True, **hyper):
    """Analyse, predict, simulate and compare; returns (json_object, SuiteResult).

    Parameters are the ``flatminima check`` options (None = the default described there); ``saddles``
    are saddle hints (``--saddle``), ``budget`` the seconds allowed to the saddle search and
    ``progress(done, total, what)`` an optional hook for a progress bar. ``method``: ``simulate`` (brute
    force), ``ams`` (adaptive multilevel splitting, :mod:`numerics.simulate.ams`) or ``auto`` (brute force when
    at least MIN_EXPECTED escapes are expected in ``n_runs`` × ``max_steps``, AMS otherwise) or ``exact`` (the
    exact rate of the 1-D discrete chain, :mod:`numerics.simulate.exact`); ``replicas``: N of
    each AMS run (≥ 2). ``optimizer`` (sgd, momentum, adam, pnm, adai; ``--optimizer``) steps with that optimizer's
    update, with ``hyper`` its hyper-parameters (``momentum``, ``nesterov``, ``beta2``, ``epsilon``, ``pnm_beta0``,
    ``adai_beta0``; None = its default); without ``eta`` the learning rate is chosen so that the effective one
    (η/(1−β) for heavy ball, η/n for PNM) is the SGD default. ``figures=False`` skips the report's figures
    (Hessian spectra; in 2-D the landscape with a few sample paths, which take seconds to simulate): the
    JSON object and the verdicts do not depend on them.
    """
    started = time.time()
    if method not in METHODS:
        raise InputError(f"--method must be one of {', '.join(METHODS)}; got {method!r}")
    replicas = _positive("--replicas", replicas, integer=True, allow_none=False)
    if replicas < 2:
        raise InputError(f"--replicas must be an integer >= 2 (AMS kills and clones replicas); got {replicas}")
    if dynamics not in (None, "sgld", "sgd"):
        raise InputError(f"--dynamics must be sgld or sgd; got {dynamics!r}")
    opt = _optimizer(optimizer, hyper)
    if opt.stateful and method in ("ams", "exact"):
        raise InputError(f"--method {method} runs plain SGD chains only (a replica or a chain state is θ alone); the "
                         f"{opt.kind} optimizer carries state: use --method simulate or auto")
    temperature = _positive("--temperature", temperature)
    eta = _positive("--eta", eta)
    batch_size = _positive("--batch-size", batch_size, integer=True)
    loss_unit = _positive("--loss-unit", loss_unit)
    n_runs = _positive("--runs", n_runs, integer=True)
    max_steps = _positive("--max-steps", max_steps, integer=True)
    budget = _positive("--budget", budget)
    if not isinstance(seed, int) or seed < 0:
        raise InputError(f"--seed must be an integer >= 0; got {seed!r}")
    from flatminima.numerics.criteria import CRITERIA
    from flatminima.numerics.noise import NOISE_MODELS
    if criterion not in CRITERIA:
        raise InputError(f"--criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if noise is not None and noise not in NOISE_MODELS:
        raise InputError(f"--noise must be one of {', '.join(NOISE_MODELS)}; got {noise!r}")
    if dynamics == "sgld" and noise not in (None, "white"):
        raise InputError(f"--dynamics sgld means --noise white; got --noise {noise}")
    if dynamics == "sgld" and batch_size is not None:
        raise InputError("--batch-size applies to --dynamics sgd only")
    if dynamics == "sgld" and loss_unit is not None:
        raise InputError("--loss-unit applies to --dynamics sgd only")
    if dynamics == "sgd" and temperature is not None:
        raise InputError("--temperature applies to --dynamics sgld only (SGD noise is set by eta, B and λ)")
    land = build_landscape(spec, dim=None if minimum is None else len(minimum))
    if minimum is not None and len(minimum) != land.dim:
        raise InputError(f"--minimum has {len(minimum)} coordinates but {land.name} has dim {land.dim}")
    hints = [_hint(land, h) for h in (saddles or [])]
    search_budget = Budget(budget, progress)
    if minimum is not None:
        start, neighbours, groups = np.asarray(minimum, float), [], None
    else:
        groups = group_flat_minima(land, find_minima(land, stop=search_budget.expired))
        start, neighbours = groups[0][0], [g[0] for g in groups[1:]]
    analysis = analyse_basin(land, start, saddles=hints, neighbours=neighbours, budget=search_budget)
    obj = analysis.to_dict()
    obj["landscape"] = spec
    obj["minima"] = _minima_list(land, groups, analysis)
    notes = _geometry_notes(analysis)
    if notes:
        obj["notes"] = notes
    geom = geometry(analysis)
    if not analysis.paths:
        obj["experiments"] = []
        obj["note"] = no_saddle_message(analysis)
        verdict = Verdict(claim="the minimum has an escape path to predict and simulate", check="check",
                          measured="no index-1 saddle found", predicted="-", tolerance="-", passed=None,
                          details=obj["note"])
        return obj, _result(spec, obj, [verdict], started)
    lam_max = float(np.max(np.abs(analysis.hessian_eigenvalues)))
    from flatminima.numerics.optimizers import step_rule
    # default: the optimizer's effective learning rate is the SGD default DEFAULT_ETA_LAMBDA/λ_max
    eta_used = eta if eta is not None else DEFAULT_ETA_LAMBDA / lam_max / step_rule(opt).effective_rate()
    if not opt.stateful and eta_used * lam_max >= STABILITY_LIMIT:
        raise InputError(f"--eta must be < 2/λ_max(H_a) = {STABILITY_LIMIT / lam_max:.6g} for this minimum (gradient "
                         f"descent is unstable there); got {eta_used:g}, η·λ_max = {eta_used * lam_max:.4g}")
    kinds = [dynamics] if dynamics else ["sgld", "sgd"]
    experiments, verdicts = [], []
    for kind in kinds:
        plan = _plan(kind, spec, land, analysis, geom, criterion=criterion, noise=noise, eta=eta_used,
                     eta_given=eta is not None, temperature=temperature, batch_size=batch_size, loss_unit=loss_unit,
                     n_runs=n_runs, max_steps=max_steps, optimizer=opt)
        c = plan.config
        if opt.kind == "adam" and eta is None and (c["noise"] == "white" or c["noise"] in LOSS_UNIT_NOISE):
            # Adam's step is ηP: choose η so that ηP·λ_max is SGD's default. With the exponent held at its target
            # by λ (or D), P ∝ η (P = 1/√(λH/B) with √λ ∝ 1/η; P = 1/√(2D/η) with D ∝ 1/η²), so ηP ∝ η²: one
            # square-root step lands there
            c_ee = (2.0 * c["temperature"] / c["eta"] if c["noise"] == "white"
                    else c["loss_unit"] * geom["paths"][0]["h_ae"] / c["batch_size"])
            P = 1.0 / (math.sqrt(c_ee) + opt.epsilon)
            eta_adam = math.sqrt(eta_used * DEFAULT_ETA_LAMBDA / (P * lam_max))
            plan = _plan(kind, spec, land, analysis, geom, criterion=criterion, noise=noise, eta=eta_adam,
                         eta_given=True, temperature=temperature, batch_size=batch_size, loss_unit=loss_unit,
                         n_runs=n_runs, max_steps=max_steps, optimizer=opt)
            plan.chosen["eta"] = (f"{eta_adam:.4g}, so that η·P·λ_max(H_a) ≈ {DEFAULT_ETA_LAMBDA:g} with Adam's "
                                  "preconditioner P at the minimum")
        exp, verdict = _experiment(plan, seed, method, replicas, progress)
        experiments.append(exp)
        verdicts.append(verdict)
    obj["experiments"] = experiments
    result = _result(spec, obj, verdicts, started)
    if figures:
        white = next((e for e in experiments if e["dynamics"] == "sgld" and e["simulated"]), None)
        trajectories = (sample_trajectories(land, analysis, eta=white["eta"], temperature=white["temperature"],
                                            seed=seed) if white is not None and land.dim == 2 else [])
        others = [m["theta"] for m in obj.get("minima", []) if isinstance(m, dict) and m.get("theta") is not None]
        result.figures.extend(landscape_figures(land, analysis, trajectories, other_minima=others))
    return obj, result


_HYPER_FLAGS = {"momentum": "--momentum", "nesterov": "--nesterov", "beta2": "--beta2", "epsilon": "--epsilon",
                "pnm_beta0": "--pnm-beta0", "adai_beta0": "--adai-beta0"}


def _optimizer(kind, hyper: dict):
    """The ``--optimizer`` and its hyper-parameters as a checked :class:`numerics.parts.Dynamics` (η = 1 here).

    Errors name the command-line flag (``--momentum must be in [0, 1) ...``).
    """
    from flatminima.numerics.parts import Dynamics

    unknown = sorted(set(hyper) - set(_HYPER_FLAGS))
    if unknown:
        import difflib
        import inspect
        options = [p for p in inspect.signature(run_check).parameters if p not in ("spec", "hyper")]
        close = difflib.get_close_matches(unknown[0], options + list(_HYPER_FLAGS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"check() has no option {unknown[0]!r}{hint}; options: {', '.join(options)}; optimizer "
                         f"hyper-parameters: {', '.join(_HYPER_FLAGS)}")
    given = {k: v for k, v in hyper.items() if v is not None}
    try:
        return Dynamics(1.0, kind or "sgd", **given)
    except InputError as exc:
        msg = str(exc)
        if msg.startswith("unknown optimizer"):
            msg = "--optimizer: " + msg
        for name, flag in _HYPER_FLAGS.items():
            if msg.startswith(name + " "):
                msg = flag + msg[len(name):]
        raise InputError(msg) from None


def _hint(land, h) -> np.ndarray:
    """A saddle hint as a point of the landscape, or a one-line error naming --saddle."""
    h = np.asarray(h, float)
    if h.shape != (land.dim,):
        raise InputError(f"--saddle must have {land.dim} coordinates for {land.name}; got {h.size}")
    try:
        refine_saddle(land, h)
    except CriticalPointError as exc:
        raise InputError(f"--saddle={','.join(f'{v:g}' for v in h)} is not near an index-1 saddle of {land.name}: "
                         f"{str(exc).splitlines()[0]}") from None
    return h


def no_saddle_message(analysis) -> str:
    """One line: no saddle, what was searched, and how to help the search."""
    s = analysis.search
    searched = s.summary() if s is not None else "only the given saddle hints were used"
    extra = (f"; {analysis.not_adjacent} saddle(s) found border other basins" if analysis.not_adjacent else "")
    more = "a larger --budget, " if s is not None and s.budget_ended else ""
    return (f"no index-1 saddle found on the boundary of this basin (searched: {searched}{extra}); nothing to "
            f"predict or simulate. Help the search with {more}a saddle guess --saddle=X,Y,.. (or a `saddles` "
            "attribute on the loss function), or check the loss is bounded below around the minimum")


def _minima_list(land, groups, analysis) -> list[dict]:
    """JSON entries of every minimum found (one per valley of minima), the analysed one marked."""
    if groups is None:
        return [{"theta": _nums(analysis.minimum), "loss": float(analysis.loss), "zero_modes": analysis.zero_modes,
                 "points_in_valley": 1, "analysed": True}]
    out = []
    for g in groups:
        rep = g[0]
        out.append({"theta": _nums(rep), "loss": float(land.value(rep)),
                    "zero_modes": int(np.sum(zero_mode_mask(hessian_spectrum(land, rep)))),
                    "points_in_valley": len(g),
                    "analysed": bool(np.linalg.norm(rep - analysis.minimum) <= 1e-6 * (1 + np.linalg.norm(rep)))})
    return out


def _geometry_notes(analysis) -> list[str]:
    """One-line explanations of zero modes (flat directions) at the minimum and its saddles."""
    notes = []
    if analysis.zero_modes:
        notes.append(f"the minimum has {analysis.zero_modes} zero mode(s) (flat directions, |λ| ≤ 1e-8·λ_max): it is "
                     "a point of a valley of minima, treated as one minimum; Eyring–Kramers' determinant ratio is "
                     "undefined there, so white-noise predictions use the 1-D law along the escape direction e, "
                     "and Eq. (7) uses curvatures along e only")
    for p in analysis.paths[:1]:          # the lowest path: the one a verdict rests on
        warning = p.heuristic_warning()
        if warning:
            notes.append(warning)
    flat_saddles = sum(1 for p in analysis.paths if p.zero_modes)
    if flat_saddles and not analysis.zero_modes:
        notes.append(f"{flat_saddles} saddle(s) have zero modes (a ridge of saddles): Eyring–Kramers' determinant "
                     "ratio is undefined; white-noise predictions use the 1-D law along e")
    return notes


@dataclass
class _Plan:
    """One experiment before it runs: its config, prediction, expected escapes and the choices made."""

    kind: str
    config: dict
    prediction: object
    expected: float | None
    chosen: dict
    landscape: object = None
    analysis: object = None
    skip_reason: str = ""
    hints: str = ""


def _plan(kind, spec, land, analysis, geom, *, criterion, noise, eta, eta_given, temperature, batch_size, loss_unit,
          n_runs, max_steps, optimizer=None) -> _Plan:
    """Config, prediction and expected escapes; observable parameters picked where the user left them open."""
    barrier = min(p.barrier for p in analysis.paths)
    stateful = optimizer is not None and optimizer.stateful
    chosen = {} if eta_given else {"eta": f"{DEFAULT_ETA_LAMBDA:g}/λ_max(H_a)" + (
        " for the effective learning rate" if stateful and optimizer.kind in ("momentum", "pnm") else "")}
    config = {"landscape": spec, "sharpness": 1.0, "minimum": [float(x) for x in analysis.minimum],
              "criterion": criterion, "eta": float(eta), "n_runs": int(n_runs), "loss_unit": 1.0, "options": {}}
    if stateful:
        config["optimizer"] = {"kind": optimizer.kind, **optimizer.hyperparameters()}
    if kind == "sgld":
        if temperature is None:
            temperature = barrier / DEFAULT_EXPONENT
            chosen["temperature"] = f"ΔL/{DEFAULT_EXPONENT:g}: predicted exponent {DEFAULT_EXPONENT:g}"
        config.update(noise="white", temperature=float(temperature))
        hints = "raise --temperature or --max-steps"
    else:
        model = noise or "hessian_two_region"
        config.update(noise=model, batch_size=int(batch_size or 1), loss_unit=float(loss_unit or 1.0))
        hints = ("raise --loss-unit or --max-steps, or lower --batch-size" if model in LOSS_UNIT_NOISE
                 else "raise --max-steps or lower --batch-size")
    pred = _predict(config, geom, land, criterion)
    if kind == "sgld" and stateful and "temperature" in chosen and pred is not None:
        # an optimizer's white-noise exponent is ΔL/(D·η_eff/η) (Adam: ΔL/(P·D), P ∝ D^(−1/2)): solve for exponent 5
        power = 2 if optimizer.kind == "adam" else 1
        for _ in range(40):
            if abs(pred.exponent / DEFAULT_EXPONENT - 1.0) < 1e-7:
                break
            config["temperature"] = float(config["temperature"] * (pred.exponent / DEFAULT_EXPONENT) ** power)
            pred = _predict(config, geom, land, criterion)
        chosen["temperature"] = (f"{config['temperature']:.4g}, so that the {optimizer.kind} optimizer's predicted "
                                 f"exponent is {pred.exponent:.3g}")
    if kind == "sgd" and pred is not None and loss_unit is None and config["noise"] in LOSS_UNIT_NOISE \
            and pred.exponent > DEFAULT_EXPONENT:
        # the exponent of the λH/B models is ∝ 1/λ (Adam's ∝ 1/√λ): pick λ so that it is DEFAULT_EXPONENT
        was = pred.exponent
        # rounded down to 4 digits, so that it can be typed back as --loss-unit and the exponent stays ≥ 5
        lam = was / DEFAULT_EXPONENT
        if stateful and optimizer.kind == "adam":
            # Adam's exponent is ∝ 1/(√(λH/B) + ε)·√B/λ... ∝ 1/√λ only at ε = 0: a few fixed-point steps
            for _ in range(40):     # converges linearly (the ε term); λ is rounded down below, so E ≥ 5 stays
                pred = _predict(dict(config, loss_unit=lam), geom, land, criterion)
                if abs(pred.exponent / DEFAULT_EXPONENT - 1.0) < 1e-7:
                    break
                lam *= (pred.exponent / DEFAULT_EXPONENT) ** 2
        step = 10.0 ** (math.floor(math.log10(lam)) - 3)
        config["loss_unit"] = round(math.floor(lam / step) * step, 12)     # printable: no float noise
        pred = _predict(config, geom, land, criterion)
        chosen["loss_unit"] = (f"{config['loss_unit']:.4g}, so that the predicted exponent is {pred.exponent:.3g} "
                               f"(at λ = 1 it is {was:.3g}: no escape would be observable)")
    if max_steps is not None:
        config["max_steps"] = int(max_steps)
    elif pred is not None and pred.rate > 0:
        want = max(3.0 / (pred.rate * eta), 1000.0)      # 95% of the runs escape by then
        config["max_steps"] = int(min(want, MAX_STEPS_CAP))
        chosen["max_steps"] = (f"{config['max_steps']} (3 predicted mean escape times)" if want <= MAX_STEPS_CAP
                               else f"{MAX_STEPS_CAP} (the default cap; 3 mean escape times would be {want:.3g})")
    else:
        config["max_steps"] = MAX_STEPS_CAP
    plan = _Plan(kind=kind, config=config, prediction=pred, expected=None, chosen=chosen, landscape=land,
                 analysis=analysis, hints=hints)
    if pred is not None:
        plan.expected = expected_escapes(pred.rate, eta=eta, max_steps=config["max_steps"], n_runs=n_runs)
        if plan.expected < MIN_EXPECTED:
            plan.skip_reason = (f"not simulated: {plan.expected:.2g} escapes expected in {n_runs} runs of "
                                f"{config['max_steps']} steps (predicted rate {pred.rate:.3g} per unit SDE time), "
                                f"fewer than the {MIN_EXPECTED:g} a verdict needs; {hints}"
                                + (f" (AMS cannot measure it: the {optimizer.kind} optimizer carries state)"
                                   if stateful else ""))
    return plan


def _predict(config, geom, land, criterion):
    """The law's prediction for the config, or None where no law applies (noise model, criterion)."""
    if config["noise"] not in PREDICTABLE_NOISE or criterion != "basin":
        return None
    return predict(config, geom, land)


def _experiment(plan: _Plan, seed: int, method: str = "simulate", replicas: int = 100,
                progress=None) -> tuple[dict, Verdict]:
    """Measure a planned experiment (unless it cannot decide) and judge it: (JSON entry, verdict).

    ``simulate`` runs brute force when enough escapes are expected; ``ams`` (and ``auto`` when too few escapes are
    expected) measures the rate by adaptive multilevel splitting instead; ``exact`` computes the 1-D chain's rate.
    """
    config, pred, kind = plan.config, plan.prediction, plan.kind
    stateful = bool(config.get("optimizer"))
    measure = "ams" if method == "ams" or (method == "auto" and plan.skip_reason and not stateful) else \
        "exact" if method == "exact" else "simulate"
    use_ams = measure == "ams"
    config_n_runs, config_max_steps = config["n_runs"], config["max_steps"]
    if measure != "simulate":               # no brute-force budget: nothing to skip, max_steps not chosen
        config = dict(config, method=measure)
        if use_ams:
            config.update(n_runs=AMS_RUNS, max_steps=AMS_BRANCH_STEPS, ams={"n_replicas": replicas})
        plan = replace(plan, config=config, skip_reason="",
                       chosen={k: v for k, v in plan.chosen.items() if k != "max_steps"})
    exp = {"dynamics": kind, "optimizer": dict(config.get("optimizer") or {"kind": "sgd"}),
           "noise": config["noise"], "criterion": config["criterion"], "method": measure,
           "temperature": config.get("temperature"), "eta": config["eta"],
           "batch_size": config.get("batch_size"), "loss_unit": config["loss_unit"] if kind == "sgd" else None,
           "chosen": plan.chosen, "predicted_rate": None if pred is None else pred.rate,
           "law": None if pred is None else pred.law,
           "allowed_relative_error": None if pred is None else pred.rel_error,
           "error_method": None if pred is None else pred.error_method,
           "expected_escapes": plan.expected, "n_runs": config["n_runs"], "max_steps": config["max_steps"],
           "seed": seed, "units": {"ams": AMS_UNITS, "exact": EXACT_UNITS}.get(measure, UNITS),
           "notes": [] if pred is None else list(pred.notes)}
    if pred is not None and pred.measured_noise is not None:
        exp["measured_noise"] = pred.measured_noise
    if pred is not None and pred.corrected_rate is not None:
        # 1-D white noise: Kramers' law with its next term in D, reported beside the verdict's law
        exp.update(corrected_law=pred.corrected_law, corrected_rate=pred.corrected_rate)
    if pred is not None and pred.paper_law is not None:
        # d > 1, SGD-type noise: the verdict uses the quasi-potential law; the paper's law is reported beside it
        exp.update(paper_law=pred.paper_law, paper_law_rate=pred.paper_law_rate,
                   quasi_potential=list(pred.quasi_potential))
    notes = [] if pred is None else list(pred.regime_warnings)
    if plan.skip_reason:
        exp.update(simulated=False, measured_rate=None, rate_ci=None, rate_upper=None, n_escaped=None,
                   n_diverged=None, agrees=None, inconclusive_reason=plan.skip_reason, warnings=" | ".join(notes))
        return exp, _verdict(exp, pred)
    remember_basin(config, plan.landscape, plan.analysis)     # analysed once per check
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # warnings are collected into the row by escape_task
        row = escape_task(config, seed, progress if use_ams else None)[0]
    lo, hi = row["rate_lo"], row["rate_hi"]
    if row["warnings"]:
        notes.append(row["warnings"])
    if plan.landscape.dim == 2 and config["noise"] in SDE_NOISES and not stateful \
            and config["criterion"] in SDE_CRITERIA:
        # the exact generator of the same SDE (η → 0) beside the measurement and the law
        try:
            exp["exact_sde"] = exact_sde_reference(config, plan.landscape, plan.analysis)
            ref = exp["exact_sde"]
            exp["notes"].append(f"exact SDE generator (η → 0): rate {ref['rate']:.4g} ± {ref['relative_error']:.1%} "
                                f"(grid {ref['grid'][0]}²)" + ("" if pred is None else
                                                               f"; predicted/exact = {pred.rate / ref['rate']:.3g}"))
        except InputError as exc:
            exp["notes"].append(f"exact SDE generator not computed: {exc}")
    if row["n_diverged"] and not use_ams:
        notes.append(f"{row['n_diverged']} of {row['n_runs']} particles diverged (θ or the loss became non-finite): "
                     "they are not counted as escapes but censored at their last finite step; lower --eta")
    if use_ams:
        # JSON numbers only: what p̂ = 0 leaves undefined (variances) becomes null
        exp["ams"] = {k: None if isinstance(row[k], float) and not math.isfinite(row[k]) else row[k] for k in ("probability", "probability_stderr", "loop_steps", "n_loops", "score",
                                          "level_a", "level_sigma", "n_replicas", "n_ams_runs", "kill_count",
                                          "relative_variance", "ideal_relative_variance", "n_stalled",
                                          "particle_steps")}
        if exp["expected_escapes"] is not None:
            exp["notes"].append(f"measured by adaptive multilevel splitting: brute force would see about "
                                f"{exp['expected_escapes']:.2g} escapes in {config_n_runs} runs of "
                                f"{config_max_steps} steps")
    if not row["rate"] > 0 and use_ams:
        agrees, reason = None, ("every AMS run returned p̂ = 0 (no replica reached the exit): no rate; raise "
                                "--replicas, or check the escape direction")
        lo = hi = None
    elif pred is None:
        agrees, reason = None, ("no law predicts this noise model" if config["noise"] not in PREDICTABLE_NOISE else
                                f"the laws predict arrival in another basin (--criterion basin), not "
                                f"--criterion {config['criterion']}")
    elif not pred.prefactor_known:
        ratio = row["rate"] / pred.rate if row["n_escaped"] else None
        agrees, reason = None, (
            prefactor_unknown_reason(pred) + "; the exponent ΔΦ is predicted"
            + ("" if ratio is None else f" (measured/local-prefactor rate = {ratio:.3g})")
            + ": test it by its slope against B or 1/η")
    else:
        # exact: no sampling error, so the precision of any number of escapes
        agrees, reason = judge(pred.rate, pred.rel_error, (lo, hi),
                               n_escaped=MIN_ESCAPES if measure == "exact" else row["n_escaped"],
                               n_runs=row.get("n_ams_runs", row["n_runs"]) * row.get("n_replicas", 1),
                               n_diverged=row["n_diverged"])
    exp.update(simulated=True, measured_rate=row["rate"], rate_ci=None if lo is None else [lo, hi],
               # no escape: the interval's upper end is the bound (one-sided 97.5%)
               rate_upper=hi if row["n_escaped"] == 0 and measure == "simulate" else None,
               n_runs=row["n_runs"], n_escaped=None if measure == "exact" else row["n_escaped"],
               n_diverged=row["n_diverged"],
               agrees=agrees, warnings=" | ".join(notes))
    if agrees is None:
        exp["inconclusive_reason"] = reason
    elif agrees is False:
        exp["fail_reason"] = reason
    return exp, _verdict(exp, pred)


def _verdict(exp: dict, pred) -> Verdict:
    """The report's verdict line for one experiment."""
    kind, noise = exp["dynamics"], exp["noise"]
    if exp["simulated"] and exp["rate_ci"] is None:
        measured = "no rate: every AMS run returned p̂ = 0"
    elif exp["simulated"]:
        measured = (fmt_pm(exp["measured_rate"], ci=tuple(exp["rate_ci"]))
                    if exp["n_escaped"] or exp.get("method") == "exact"
                    else f"no escape; rate ≤ {exp['rate_upper']:.3g} (95%)")
        if exp.get("method") == "exact":
            measured += " (exact discrete chain)"
        elif exp.get("method") == "ams":
            measured += (f" (AMS: {exp['ams']['n_ams_runs']} runs × {exp['ams']['n_replicas']} replicas, "
                         f"p = {exp['ams']['probability']:.3g}; precision of {exp['n_escaped']} escapes)")
        else:
            measured += f" ({exp['n_escaped']}/{exp['n_runs']} escaped)"
    else:
        measured = "not simulated"
    details = exp.get("inconclusive_reason") or exp.get("fail_reason") or ("" if pred is None else pred.error_method)
    return Verdict(claim=f"{kind.upper()} ({noise} noise, {exp['criterion']} exit, {setting_text(exp)}): measured rate "
                         f"matches {exp['law'] or 'a law'}",
                   check="check", measured=measured,
                   predicted="n/a" if pred is None else f"{pred.rate:.4g}",
                   tolerance="-" if pred is None else f"95% CI × (1 ± {pred.rel_error:.3g}); ≥ {MIN_ESCAPES} escapes",
                   passed=exp["agrees"], value=exp.get("measured_rate"),
                   expected=None if pred is None else pred.rate, details=details)


def setting_text(exp: dict) -> str:
    """The parameters that set the noise, named: η and D for SGLD; η, B and λ for SGD; then the optimizer's."""
    opt = exp.get("optimizer") or {"kind": "sgd"}
    extra = "" if opt["kind"] == "sgd" else ", " + opt["kind"] + " (" + ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in opt.items() if k != "kind") + ")"
    if exp["dynamics"] == "sgld":
        return f"η = {exp['eta']:.4g}, D = {exp['temperature']:.4g}" + extra
    text = f"η = {exp['eta']:.4g}, B = {exp['batch_size']}"
    if exp["noise"] != "minibatch":
        text += f", λ = {exp['loss_unit']:.4g}"
    return text + extra


def sample_trajectories(land, analysis, *, eta: float, temperature: float, seed: int, n: int = 2,
                        max_steps: int = 50_000, every: int = 100) -> list:
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


def landscape_figures(land, analysis, trajectories=(), other_minima=()) -> list:
    """Hessian spectra at the minimum and the lowest saddle, and for 2-D landscapes a contour plot
    with the minimum, the other minima found, the saddles and their minimum energy paths (numbers only;
    reports draws them). The contour grid covers every one of these points with a margin."""
    from flatminima.validation.suite import Figure

    figures = []
    if analysis.paths:
        figures.append(Figure(name="spectra", kind="spectrum", title="Hessian spectra",
                              data={"minimum": list(map(float, analysis.hessian_eigenvalues)),
                                    "saddle": list(map(float, analysis.paths[0].saddle_hessian_eigenvalues))},
                              caption="Eigenvalues of H at the minimum and at the lowest index-1 saddle."))
    if land.dim == 2:
        start = np.asarray(analysis.minimum, float)
        others = [np.asarray(m, float) for m in other_minima if np.linalg.norm(np.asarray(m, float) - start) > 1e-9]
        pts = [start, *others] + [p.saddle for p in analysis.paths] + \
              [q for p in analysis.paths for q in p.mep_points]
        pts = np.array(pts)
        span = np.ptp(pts, axis=0).max() or 1.0
        lo, hi = pts.min(axis=0) - 0.3 * span, pts.max(axis=0) + 0.3 * span
        x, y = np.linspace(lo[0], hi[0], 90), np.linspace(lo[1], hi[1], 80)
        X, Y = np.meshgrid(x, y)
        Z = land.values(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
        figures.append(Figure(name="landscape", kind="landscape2d", title=f"{land.name}: basin and escape paths",
                              data={"x": x.tolist(), "y": y.tolist(), "z": Z.tolist(),
                                    "minima": [list(map(float, analysis.minimum))],
                                    "other_minima": [list(map(float, m)) for m in others],
                                    "saddles": [list(map(float, p.saddle)) for p in analysis.paths],
                                    "paths": [np.asarray(p.mep_points).tolist() for p in analysis.paths],
                                    "trajectories": [list(t) for t in trajectories], "levels": 30},
                              caption="Loss contours, the minimum, its index-1 saddles, minimum energy paths and "
                                      "sample SGLD escape trajectories (at the check's η and D, until the first "
                                      "crossing of a dividing plane; illustration only)."))
    return figures


def _result(spec, obj, verdicts, started) -> SuiteResult:
    from flatminima.validation.suites.common import versions

    paths = obj.get("paths", [])
    result = SuiteResult(suite="check", size="-", title=f"flatminima check {spec}",
                         criteria=(f"PASS when the predicted rate lies in the measured exact 95% CI widened by the "
                                   f"law's allowed relative error (asymptotic + discretisation) and at least "
                                   f"{MIN_ESCAPES} particles escaped; FAIL when it lies outside (with any number "
                                   f"of escapes: the interval is exact); INCONCLUSIVE otherwise, or when fewer "
                                   f"than {MIN_EXPECTED:g} escapes were expected (then nothing is simulated), or "
                                   f"when no law applies."),
                         verdicts=verdicts)
    result.tables.append(Table(name="paths", columns=["saddle", "barrier ΔL", "h_ae", "|h_be|", "s"],
                               rows=[[str([round(x, 6) for x in p["saddle"]["theta"]]), p["barrier"], p["h_ae"],
                                      p["h_be"], p["s"]] for p in paths],
                               caption="Index-1 saddles on the basin boundary (numerics.basin)."))
    cols = ["dynamics", "noise", "eta", "temperature", "batch_size", "loss_unit", "predicted_rate",
            "expected_escapes", "measured_rate", "n_escaped", "n_diverged", "n_runs", "verdict"]
    rows = [[e.get(c) for c in cols[:-1]] + [{True: "PASS", False: "FAIL"}.get(e["agrees"], "INCONCLUSIVE")]
            for e in obj.get("experiments", [])]
    result.tables.append(Table(name="experiments", columns=cols, rows=rows,
                               caption="Rates per unit SDE time; measured with the censored exponential MLE. "
                                       "Diverged particles (non-finite θ or loss) are counted in n_diverged, "
                                       "never as escapes (they are censored at their last finite step). "
                                       "Warnings and reasons are in the verdicts' details."))
    result.provenance = {"versions": versions(), "wall_seconds": round(time.time() - started, 1), "json": obj}
    return result
