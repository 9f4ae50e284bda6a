"""The ``optimizers`` suite: SGD, heavy-ball momentum, PNM, Adai and Adam escaping the same 1-D double well (C22).

Each optimizer applies its update to the same stochastic gradient ĝ = ∇L + ξ, Cov ξ = C (the two-region noise
model: C = λH_a/B before the inflection point, λ|H_b|/B after; λ = 200, Adam λ = 50), and escapes from θ = −1 through the
plane at the next minimum θ = +1 (no Brownian bridge for any of them: like for like). In the diffusion limit
each is SGD with another learning rate or geometry (docs/theory.md §Optimizer exponents):

- heavy ball (β = 0.9) at η = η_SGD(1 − β) is SGD at η_SGD: the same exponent (slope of −log γ against B);
- PNM (β₁ = 0.9, β₀ = 1) at η = n·η_SGD, n = √((1+β₀)²+β₀²): its long-time noise makes it SGD at η_SGD, exponent
  ratio 1; the independent-buffer reading of the PNM paper (noise n²C) predicts the ratio 1/n² = 0.2;
- Adai at η: SGD at η;
- Adam with its preconditioner frozen at the minimum, P = 1/(√(λH_a/B) + ε): SGD on L(√P·θ), exponent
  (2√B ΔL/(η√λ))·(s/√H_ae + (1−s)√H_ae/|H_be|), linear in √B and in k^(−1/2); the "adaptive" reading (v following
  C(θ) along the path) gives (1 − s)/√|H_be| in the second term instead. Adam's √B law is also run under constant
  noise C = λH_a/B, where no noise jump exists for its EMA momentum to carry noise across.

Sweeps: −log γ against B (SGD, momentum, PNM, Adai), against √B (Adam), against 1/k (SGD, momentum, Adai) and
k^(−1/2) (Adam) under the sharpness knob L(√k θ). Each sweep is fitted and judged against its law's slope; the
C22 verdicts compare the optimizers' exponents side by side, and a table gives each optimizer's flat-minimum
occupancy τ_flat/(τ_flat + τ_sharp) between the flattest and the sharpest k (Xie et al. 2021, Eq. (5)).
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from flatminima.errors import InputError
from flatminima.validation.suite import Figure, SuiteResult, Table, Verdict, fmt_pm
from flatminima.validation.store import config_hash
from flatminima.validation.suites.common import add_rate_sweeps, adaptive_max_steps, provenance, run_escape_sweep

LANDSCAPE = "double-well"
MINIMUM = [-1.0]
LOSS_UNIT = 200.0
ETA_SGD = 0.0025                    # the matched effective learning rate (exponents ∝ B/(η_eff·λ) as at 0.01, λ = 50)
ADAM_LOSS_UNIT = 50.0
BETA = 0.9                          # heavy ball's β and PNM's β₁
PNM_BETA0 = 1.0
PNM_N = math.sqrt((1 + PNM_BETA0) ** 2 + PNM_BETA0 ** 2)
ADAM_ETA = 0.04
BATCHES = (4, 5, 6, 7, 8)           # SGD-type exponents 3.1–6.2 (κ·2B/(ηλ), κ = 0.194)
ADAM_BATCHES = (4, 6, 9, 12)        # frozen-Adam exponents 3.9–6.7
ADAM_FIXED_BATCHES = (8, 12, 18, 27)  # constant noise: exponents 2√B·ΔL/(η√(λH_a)) = 3.5–6.5
SHARPNESS = (0.8, 1.0, 1.25, 1.6)   # at B = 6: SGD-type exponents 5.8–2.9; Adam (B = 9, λ = 50) 6.5–4.6
SHARP_BATCH, ADAM_SHARP_BATCH = 6, 9
SIZES = {"default": "about 3 min on 2 cores (1000 runs per point, compiled kernels; measured 2 min 44 s before the "
                    "constant-noise Adam sweep was added)",
         "full": "about 12 min on 2 cores (4000 runs per point)"}
N_RUNS = {"default": 1000, "full": 4000}
CENSOR_NATS = 3.0
MATCH = 0.05                        # C22: momentum reproduces the SGD exponent within 5%, PNM its derived ratio
CRITERIA = f"""Each sweep passes when its weighted-least-squares slope lies within 1.96 standard errors of the slope
its law predicts over the same points (the law of the optimizer's SGD equivalent, docs/theory.md §Optimizer
exponents), plus the law's asymptotic error (the exact 1-D quadrature of the equivalent SDE against the law) and
the discretisation bias. C22 exponent ratios (the slope against B of an optimizer over SGD's at the matched
effective learning rate) pass when the measured ratio lies within {MATCH:.0%} of the derived value and its 95%
interval is narrower than ±{MATCH:.0%}; they fail when it lies further off (or its interval excludes the ±{MATCH:.0%} band
around the derived value); otherwise the data cannot decide (INCONCLUSIVE)."""

OPTIMIZERS = {
    "sgd": (None, ETA_SGD),
    "momentum": ({"kind": "momentum", "momentum": BETA}, ETA_SGD * (1 - BETA)),
    "pnm": ({"kind": "pnm", "momentum": BETA, "pnm_beta0": PNM_BETA0}, ETA_SGD * PNM_N),
    "adai": ({"kind": "adai"}, ETA_SGD),
    "adam": ({"kind": "adam"}, ADAM_ETA),
}


def _cfg(optimizer: str, n_runs: int, **kw) -> dict:
    opt, eta = OPTIMIZERS[optimizer]
    cfg = {"landscape": LANDSCAPE, "sharpness": 1.0, "minimum": MINIMUM, "noise": "hessian_two_region",
           "criterion": "dividing_surface", "loss_unit": LOSS_UNIT, "eta": eta, "n_runs": n_runs,
           "options": {"plane_offset": 1.0, "bridge": False}}
    if opt is not None:
        cfg["optimizer"] = dict(opt)
    if optimizer == "adam":
        cfg["loss_unit"] = ADAM_LOSS_UNIT
    cfg.update(kw)
    return cfg


def sweeps(size: str = "default") -> dict[str, list[dict]]:
    """The sweeps' configs (max_steps from the predicted rates)."""
    n = N_RUNS[size]
    plan = {f"{o}_batch": [_cfg(o, n, batch_size=b) for b in BATCHES] for o in ("sgd", "momentum", "pnm", "adai")}
    plan["adam_sqrt_batch"] = [_cfg("adam", n, batch_size=b) for b in ADAM_BATCHES]
    # constant noise C = λH_a/B (no jump at the split for the EMA momentum to carry noise across): the √B law alone
    plan["adam_fixed_sqrt_batch"] = [_cfg("adam", n, batch_size=b, noise="hessian_fixed") for b in ADAM_FIXED_BATCHES]
    for o in ("sgd", "momentum", "adai"):
        plan[f"{o}_sharpness"] = [_cfg(o, n, batch_size=SHARP_BATCH, sharpness=k) for k in SHARPNESS]
    plan["adam_sharpness"] = [_cfg("adam", n, batch_size=ADAM_SHARP_BATCH, sharpness=k) for k in SHARPNESS]
    for configs in plan.values():
        for c in configs:
            # the plane sits at the next minimum, which moves to θ*/√k on L(√k θ) (docs/theory.md §Sharpness scaling)
            c["options"]["plane_offset"] = 1.0 / math.sqrt(float(c["sharpness"]))
            # censored after 3 predicted mean escape times (5% censored if the law holds; the censored MLE uses them):
            # PNM and Adai run on the numpy path, whose cost is the slowest particle's
            c["max_steps"] = adaptive_max_steps(c, nats=CENSOR_NATS)
    return plan


SPECS = {
    "sgd_batch": ("batch_size", "SGD: −log γ against B", "C7",
                  "SGD (two-region noise): −log γ is linear in B with slope (2/(ηλ))·ΔL(s/H_ae + (1−s)/|H_be|) (Eq. (7))"),
    "momentum_batch": ("batch_size", "Heavy ball (β = 0.9, η = η_SGD(1−β)): −log γ against B", "C22",
                       "Heavy-ball momentum: −log γ is linear in B with SGD's slope at η/(1−β)"),
    "pnm_batch": ("batch_size", "PNM (β₁ = 0.9, β₀ = 1, η = n·η_SGD): −log γ against B", "C22",
                  "PNM: −log γ is linear in B with SGD's slope at η/n (long-time noise)"),
    "adai_batch": ("batch_size", "Adai (β₀ = 0.1, β₂ = 0.99, ε = 1e-3): −log γ against B", "C22",
                   "Adai: −log γ is linear in B with SGD's slope at η"),
    "adam_sqrt_batch": ("sqrt_batch", "Adam (η = 0.04): −log γ against √B", "C22",
                        "Adam (preconditioner frozen at the minimum): −log γ is linear in √B with slope "
                        "(2ΔL/(η√λ))(s/√H_ae + (1−s)√H_ae/|H_be|)"),
    "adam_fixed_sqrt_batch": ("sqrt_batch", "Adam (η = 0.04), constant noise C = λH_a/B: −log γ against √B", "C22",
                              "Adam with constant noise: −log γ is linear in √B with slope 2ΔL/(η√(λH_ae))"),
    "sgd_sharpness": ("1/sharpness", "SGD: −log γ against 1/k", "C7",
                      "SGD: −log γ is linear in 1/k (exponential preference for flat minima)"),
    "momentum_sharpness": ("1/sharpness", "Heavy ball: −log γ against 1/k", "C22",
                           "Heavy ball: −log γ is linear in 1/k with SGD's slope at η/(1−β)"),
    "adai_sharpness": ("1/sharpness", "Adai: −log γ against 1/k", "C22",
                       "Adai: −log γ is linear in 1/k with SGD's slope at η (it favours flat minima as SGD does)"),
    "adam_sharpness": ("inv_sqrt_sharpness", "Adam: −log γ against k^(−1/2)", "C22",
                       "Adam: −log γ is linear in k^(−1/2), a weaker (H^(−1/2)) preference for flat minima"),
}


def _ratio_verdict(name: str, claim: str, num, den, derived: float, alternative: tuple | None = None) -> Verdict:
    """An exponent ratio (slope over slope) against its derived value: PASS within MATCH when its 95% interval is
    narrower than ±MATCH, FAIL when further off or clearly outside the band, else INCONCLUSIVE."""
    r = num.slope / den.slope
    se = abs(r) * math.hypot(num.slope_stderr / num.slope, den.slope_stderr / den.slope)   # delta method
    lo, hi = r - 1.959964 * se, r + 1.959964 * se
    close = abs(r / derived - 1.0) <= MATCH
    decided = 1.959964 * se <= MATCH * derived        # the 95% interval is within ±MATCH of the estimate
    outside = hi < derived * (1 - MATCH) or lo > derived * (1 + MATCH)     # clearly off, however wide
    passed = close if decided else (False if outside else None)
    details = f"slopes {num.slope:.4g} ± {num.slope_stderr:.2g} and {den.slope:.4g} ± {den.slope_stderr:.2g} (1 s.e.)"
    if alternative is not None:
        alt_name, alt_value = alternative
        z = (r - alt_value) / se if se > 0 else float("inf")
        details += f"; the {alt_name} predicts {alt_value:.4g}, {abs(z):.1f} s.e. away"
    if passed is None:
        details += f"; the 95% interval is wider than ±{MATCH:.0%}: more runs needed"
    return Verdict(claim=claim, check="C22", measured=f"ratio {fmt_pm(r, ci=(lo, hi), digits=4)}",
                   predicted=f"{derived:.4g} ({name})", tolerance=f"within {MATCH:.0%} of the derived value",
                   passed=passed, value=float(r), stderr=float(se), expected=float(derived), details=details)


def _adam_law_verdict(res: dict, cfg: dict, geom_path: dict) -> Verdict:
    """Frozen against adaptive Adam: which slope against √B do the data favour?

    The frozen law's slope is its secant over the sweep's points (prefactor included, as the sweep verdict uses); the
    adaptive law's is that secant shifted by the difference of the two leading exponent slopes (the same prefactor
    term for both, whose P ∝ √B dependence the two readings share).
    """
    from flatminima import theory

    reg = theory.formulas()
    values = dict(eta=float(cfg["eta"]), batch_size=1.0, loss_unit=float(cfg["loss_unit"]),
                  barrier=geom_path["barrier"], h_ae=geom_path["h_ae"], h_be=geom_path["h_be"], s=geom_path["s"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # regime warnings concern single points, not these slopes
        # both exponents are ∝ √B at ε = 0: their slopes against √B are their values at B = 1
        frozen_lead = float(reg["adam_frozen_slope_sqrt_batch"](**values, epsilon=0.0))
        adaptive_lead = float(reg["adam_exponent"](**values))
    frozen = float(res["verdicts"][0].expected)
    adaptive = frozen - (frozen_lead - adaptive_lead)
    fit = res["fit"]
    z_f = (fit.slope - frozen) / fit.slope_stderr
    z_a = (fit.slope - adaptive) / fit.slope_stderr
    passed = None if abs(abs(z_f) - abs(z_a)) < 2 else bool(abs(z_f) < abs(z_a))
    return Verdict(claim="Adam's exponent is the frozen-preconditioner one ((1−s)√H_ae/|H_be|), not the adaptive "
                         "one ((1−s)/√|H_be|)", check="C22",
                   measured=f"slope against √B {fmt_pm(fit.slope, ci=fit.slope_ci(0.95), digits=4)}",
                   predicted=f"frozen {frozen:.4g}; adaptive {adaptive:.4g} (secants over the sweep's points; leading "
                             f"exponent slopes {frozen_lead:.4g} and {adaptive_lead:.4g})",
                   tolerance="the law closer in standard errors, by at least 2 s.e. (else INCONCLUSIVE)",
                   passed=passed, value=float(fit.slope), stderr=float(fit.slope_stderr), expected=frozen,
                   details=f"{z_f:+.1f} s.e. from frozen, {z_a:+.1f} s.e. from adaptive")


def _exact_slope_verdict(res: dict, claim: str) -> Verdict:
    """A sweep's slope against the exact quadrature slope of its SGD equivalent over the same points, within 2 s.e.

    The exact slope carries the prefactor and finite-barrier terms the leading-order law leaves out (for Adam: the
    1-D Itô MFPT of SGD on L(√P·θ), docs/theory.md §Optimizer exponents); no other allowance is added.
    """
    fit, exact = res["fit"], res.get("exact_slope")
    if exact is None:
        return Verdict(claim=claim, check="C22", measured=f"slope {fit.slope:.4g}", predicted="no exact reference",
                       tolerance="2 s.e.", passed=None, details="the exact 1-D quadrature is not available here")
    z = (fit.slope - exact) / fit.slope_stderr
    return Verdict(claim=claim, check="C22", measured=f"slope {fmt_pm(fit.slope, ci=fit.slope_ci(0.95), digits=4)}",
                   predicted=f"{exact:.4g} (exact quadrature of the frozen-preconditioner SDE over the same points)",
                   tolerance=f"2 s.e. = {2 * fit.slope_stderr:.3g}", passed=bool(abs(z) <= 2.0), value=float(fit.slope),
                   stderr=float(fit.slope_stderr), expected=float(exact), details=f"{z:+.2f} s.e.")


def _inv_k(config: dict) -> float:
    return 1.0 / float(config["sharpness"])


def _side_by_side_figure(done: dict, keys, name: str, title: str, x_label: str, x_of=None) -> Figure:
    """One figure with several sweeps' −log γ̂ (95% error bars) and fitted lines, against one control."""
    series = []
    for key in keys:
        cfgs, res = done[key]
        x = [x_of(c) if x_of else float(c["batch_size"]) for c in cfgs]
        data = res["figure"].data
        fit = None
        if x_of is None or key != "adam_sharpness":     # Adam's line is straight in k^(−1/2), not in 1/k
            fit = data["fit"] if x_of is None or res["figure"].data.get("x_label") == "1/k" else None
        series.append({"label": key.split("_")[0], "x": x, "y": data["y"], "y_err": data["y_err"], "fit": fit})
    return Figure(name=name, kind="scatter", title=title,
                  data={"series": series, "x_label": x_label, "y_label": "−log γ (γ per unit SDE time t = step·η)"},
                  caption="Measured −log γ̂ with 95% error bars (1.96/√n_escaped), one colour per optimizer, with each "
                          "sweep's weighted fit; each optimizer's rates are per unit of its own SDE time t = step·η.")


def _selection_table(done: dict) -> Table:
    """Flat-minimum occupancy τ_flat/(τ_flat + τ_sharp) per optimizer, measured and predicted (Eq. (5))."""
    rows = []
    for o in ("sgd", "momentum", "adai", "adam"):
        cfgs, res = done[f"{o}_sharpness"]
        stored = res["table"].rows
        flat, sharp = stored[0], stored[-1]          # k = SHARPNESS[0] (flattest) and SHARPNESS[-1]
        g_f, g_s = flat[5], sharp[5]
        occ = (1 / g_f) / (1 / g_f + 1 / g_s)
        # 95% range from the rates' intervals (occupancy is monotone in each rate)
        lo = (1 / flat[7]) / (1 / flat[7] + 1 / sharp[6])
        hi = (1 / flat[6]) / (1 / flat[6] + 1 / sharp[7])
        p_f, p_s = flat[8], sharp[8]
        pred = (1 / p_f) / (1 / p_f + 1 / p_s)
        rows.append([o, SHARPNESS[0], SHARPNESS[-1], g_f / g_s, occ, lo, hi, pred])
    return Table(name="flat-minimum-occupancy",
                 columns=["optimizer", "k flat", "k sharp", "γ_flat/γ_sharp", "occupancy of the flat minimum",
                          "95% lo", "95% hi", "law"],
                 rows=rows,
                 caption="Occupancy of the flat minimum between two valleys with the escape rates measured at the "
                         "flattest and sharpest k of each sharpness sweep, P(flat) = τ_flat/(τ_flat + τ_sharp) "
                         "(Xie et al. 2021, Eq. (5)); 95% range from the rates' Garwood intervals. SGD, momentum and "
                         "Adai at B = 6, Adam at B = 9 (η = 0.04): Adam's preference grows as k^(−1/2), the others' "
                         "as 1/k.")


def run(out, *, size: str = "default", workers=None, executor=None, resume: bool = False, progress=None) -> SuiteResult:
    """Run the optimizers suite into ``out`` and return its result (not yet saved)."""
    from flatminima.validation.experiments import basin_of, geometry

    if size not in SIZES:
        raise InputError(f"unknown size {size!r} for suite optimizers; allowed: {', '.join(SIZES)}")
    started = time.time()
    plan = sweeps(size)
    configs = [c for cs in plan.values() for c in cs]
    # a point shared by two sweeps (B = 6, k = 1) runs once
    unique = list({config_hash(c): c for c in configs}.values())
    got = run_escape_sweep(unique, out, workers=workers, executor=executor, resume=resume, progress=progress)
    by_hash = {config_hash(c): r for c, r in zip(unique, got)}
    rows = [by_hash[config_hash(c)] for c in configs]
    result = SuiteResult(suite="optimizers", size=size,
                         title="Optimizers side by side: SGD, heavy ball, PNM, Adai and Adam on a 1-D double well (C22)",
                         criteria=CRITERIA)
    done = add_rate_sweeps(result, plan, rows, SPECS)
    sgd = done["sgd_batch"][1]["fit"]
    result.verdicts.append(_ratio_verdict(
        "SGD's exponent at η/(1−β)", "Heavy-ball momentum at the matched effective learning rate η/(1−β) reproduces "
        "SGD's exponent (slope of −log γ against B)", done["momentum_batch"][1]["fit"], sgd, 1.0))
    result.verdicts.append(_ratio_verdict(
        "long-time noise: SGD at η/n", "PNM's exponent over SGD's at the matched effective learning rate η/n is the "
        "derived long-time value", done["pnm_batch"][1]["fit"], sgd, 1.0,
        alternative=("independent-buffer reading (noise n²C)", 1.0 / PNM_N ** 2)))
    result.verdicts.append(_ratio_verdict(
        "SGD's exponent at η", "Adai at η has SGD's exponent at η", done["adai_batch"][1]["fit"], sgd, 1.0))
    adam_cfgs, adam_res = done["adam_sqrt_batch"]
    result.verdicts.append(_exact_slope_verdict(done["adam_fixed_sqrt_batch"][1], "Adam, constant noise: −log γ is "
                                                "linear in √B with the derived slope (within 2 s.e.)"))
    result.verdicts.append(_exact_slope_verdict(adam_res, "Adam, two-region noise: −log γ is linear in √B with the "
                                                          "derived slope (within 2 s.e.)"))
    result.verdicts.append(_exact_slope_verdict(done["adam_sharpness"][1], "Adam: −log γ is linear in k^(−1/2) with the "
                                                                           "derived slope (within 2 s.e.)"))
    result.verdicts.append(_adam_law_verdict(adam_res, adam_cfgs[0], geometry(basin_of(adam_cfgs[0])[1])["paths"][0]))
    result.tables.append(_selection_table(done))
    result.figures.insert(0, _side_by_side_figure(done, ("sgd_batch", "momentum_batch", "pnm_batch", "adai_batch"),
                                                  "optimizers-batch", "−log γ against B at one effective learning rate",
                                                  "B"))
    result.figures.insert(1, _side_by_side_figure(done, ("sgd_sharpness", "momentum_sharpness", "adai_sharpness",
                                                         "adam_sharpness"),
                                                  "optimizers-sharpness", "−log γ against 1/k (Adam: k^(−1/2))", "1/k",
                                                  x_of=_inv_k))
    side = []
    for key, (cfgs, res) in done.items():
        fit = res["fit"]
        side.append([key, res["law"], fit.slope, fit.slope_stderr,
                     res["verdicts"][0].expected, res["verdicts"][0].status])
    result.tables.insert(0, Table(name="optimizers-side-by-side",
                                  columns=["sweep", "law", "measured slope", "s.e.", "law's slope", "verdict"],
                                  rows=side,
                                  caption="Every sweep's fitted slope of −log γ (per unit SDE time t = step·η) against its "
                                          "control, beside the slope of its law over the same points."))
    result.sections.append({"title": "Set-up", "text": (
        "Landscape: `double-well` (L = θ⁴/4 − θ²/2; ΔL = 1/4, H_ae = 2, |H_be| = 1, s = 4/9). Start θ = −1; exit: first "
        "passage through θ = +1/√k (the next minimum), no Brownian bridge. Noise: the two-region model with λ = 200 "
        f"(Adam: 50), the gradient noise of every optimizer. Learning rates: SGD and Adai η = {ETA_SGD:g}; heavy ball "
        f"η = {ETA_SGD * (1 - BETA):g} with β = 0.9 (η/(1−β) = {ETA_SGD:g}); PNM η = {ETA_SGD * PNM_N:.4g} with β₁ = 0.9, "
        f"β₀ = 1 (η/n = {ETA_SGD:g}); Adam η = {ADAM_ETA:g} with β₁ = 0.9, "
        "β₂ = 0.999, ε = 1e-8 (bias-corrected). Rates are per unit SDE time t = step·η of each optimizer's own η. "
        "All five run in the compiled kernels when numba is available (the numpy path of numerics.optimizers is "
        "their reference, with the same exit steps).")})
    result.provenance = provenance(out, unique, started, size=size)
    return result
