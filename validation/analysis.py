"""From sweep rows to fits, predictions and verdicts: the shared logic of the rate suites.

A *rate sweep* varies one control (1/D, B, 1/η, 1/k, log k) at fixed everything else. For it we

1. predict each point's rate with ``validation.predict`` (law + allowed error);
2. fit −log γ̂ (or log γ̂ against log k) by weighted least squares with the known standard errors
   1/√n_escaped (``validation.fits``);
3. predict the slope: the law's own points at the same x, fitted with the same weights (a secant, like the
   measured fit); ``theory.predicted_slope`` differentiates the law at the middle point (leading term and the
   prefactor term the paper neglects), which equals it when the law is linear in x but not over a wide range
   where the prefactor's log k or log B makes it curve;
4. for 1-D landscapes, fit the exact quadrature rates of the same SDE (``numerics.reference``): the
   difference between that slope and the law's is the law's known asymptotic error over this range;
5. pass when |measured − predicted| ≤ z·s.e. + |asymptotic error| + discretisation bias, where the
   bias is |predicted|·ηH_ae/2 (the (1 − ηh/2)⁻¹ temperature inflation of docs/theory.md §Discretisation).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from flatminima.errors import InputError
from flatminima.validation.experiments import basin_of
from flatminima.validation.fits import fit_line
from flatminima.validation.predict import exact_escape_time, predict, sgd_equivalent
from flatminima.validation.suite import Figure, Table, Verdict, fmt_pm

Z = 1.959963984540054        # two-sided 95% normal quantile


@dataclass(frozen=True)
class Axis:
    """A fit axis: its name for theory (``wrt``), its label, and how x is read from a config."""

    wrt: str
    label: str
    log_y: bool = False            # True: y = log γ (log–log sharpness fit); False: y = −log γ

    def x(self, config: dict) -> float:
        if self.wrt == "1/temperature":
            return 1.0 / float(config["temperature"])
        if self.wrt == "batch_size":
            return float(config["batch_size"])
        if self.wrt == "1/eta":
            return 1.0 / float(config["eta"])
        if self.wrt == "1/sharpness":
            return 1.0 / float(config.get("sharpness", 1.0))
        if self.wrt == "log_sharpness":
            return math.log(float(config.get("sharpness", 1.0)))
        if self.wrt == "sqrt_batch":
            return math.sqrt(float(config["batch_size"]))
        if self.wrt == "inv_sqrt_sharpness":
            return 1.0 / math.sqrt(float(config.get("sharpness", 1.0)))
        raise InputError(f"unknown fit axis {self.wrt!r}")


AXES = {
    "1/temperature": Axis("1/temperature", "1/D"),
    "batch_size": Axis("batch_size", "B"),
    "1/eta": Axis("1/eta", "1/η"),
    "1/sharpness": Axis("1/sharpness", "1/k"),
    "log_sharpness": Axis("log_sharpness", "log k", log_y=True),
    "sqrt_batch": Axis("sqrt_batch", "√B"),
    "inv_sqrt_sharpness": Axis("inv_sqrt_sharpness", "k^(−1/2)"),
}


def _law_values(law: str, config: dict, path: dict) -> dict:
    """Glossary values of a law at a config and escape path (curvatures at k = 1 for sharpness fits)."""
    k = float(config.get("sharpness", 1.0))
    h_ae, h_be = path["h_ae"] / k, path["h_be"] / k          # geometry is of the sharpened landscape
    if law == "sgd_rate_ito":
        return dict(eta=float(config["eta"]), batch_size=float(config["batch_size"]),
                    loss_unit=float(config.get("loss_unit", 1.0)), barrier=path["barrier"], h_ae=h_ae, h_be=h_be,
                    s=path["s"], sharpness=k)
    if law == "eyring_kramers_rate":                              # det ratio is invariant under H → kH
        return dict(barrier=path["barrier"], h_be=h_be, temperature=float(config["temperature"]),
                    det_ratio=path["det_ratio"], sharpness=k)
    if law == "kramers_1d_rate" and config["noise"] == "white":
        return dict(barrier=path["barrier"], h_ae=h_ae, h_be=h_be, temperature=float(config["temperature"]),
                    sharpness=k)
    if law == "kramers_1d_rate":                                  # hessian_fixed: D = ηλH_ae/(2B) along e
        d = float(config["eta"]) * float(config.get("loss_unit", 1.0)) * path["h_ae"] / (2 * float(config["batch_size"]))
        return dict(barrier=path["barrier"], h_ae=h_ae, h_be=h_be, temperature=d, sharpness=k)
    raise InputError(f"no slope values for law {law!r}")


def row_method(row: dict) -> str:
    """How a stored row's rate was measured: ``simulate`` (also rows stored before AMS existed) or ``ams``."""
    m = row.get("method")
    return m if isinstance(m, str) else "simulate"


def rate_sweep(rows: list[dict], configs: list[dict], *, axis: str, name: str, title: str, check: str,
               claim: str, exact: bool = True) -> dict:
    """Fit one rate sweep and judge it against the law's slope; returns verdicts, table, figure, fit."""
    import json

    from flatminima import theory
    ax = AXES[axis]
    x = np.array([ax.x(c) for c in configs])
    rate = np.array([r["rate"] for r in rows])
    if np.any(~(rate > 0)):
        raise InputError(f"sweep {name}: a point has no escape (rate is only an upper bound); raise max_steps")
    sign = 1.0 if ax.log_y else -1.0
    y = sign * np.log(rate)
    # s.e. of log γ̂: 1/√n_escaped for brute force (delta method), the AMS row's own for splitting
    y_se = np.array([float(r["log_rate_stderr"]) for r in rows])
    methods = [row_method(r) for r in rows]
    n_ams = sum(m == "ams" for m in methods)
    fit = fit_line(x, y, y_stderr=y_se, x_name=ax.wrt, y_name="log rate" if ax.log_y else "-log rate")

    geoms = [json.loads(r["geometry"]) for r in rows]
    lands = [basin_of(c)[0] for c in configs]           # as simulated (sharpened where k varies)
    preds = [predict(c, g, land) for c, g, land in zip(configs, geoms, lands)]
    law = preds[0].law
    mid = len(configs) // 2
    slope_pred, regime_notes = None, []
    if not configs[mid].get("optimizer") and ax.wrt in ("1/temperature", "batch_size", "1/eta", "1/sharpness",
                                                         "log_sharpness"):
        values = _law_values(law, configs[mid], geoms[mid]["paths"][0])
        if ax.wrt not in ("1/sharpness", "log_sharpness"):
            values.pop("sharpness")
        with warnings.catch_warnings(record=True) as caught:     # regime warnings go into the verdict's details
            warnings.simplefilter("always")
            slope_pred = theory.predicted_slope(law, wrt=ax.wrt, **values)
        regime_notes = sorted({str(w.message) for w in caught})
    law_y = sign * np.array([p.log_rate for p in preds])
    # the law's slope over the same points and weights as the measured fit (docstring, step 3)
    law_fit = fit_line(x, law_y, y_stderr=y_se, x_name=ax.label, y_name="law")
    predicted = float(law_fit.slope)
    # the exact quadrature slope over the same points (1-D landscapes only)
    asym, exact_note = 0.0, "no exact reference (d > 1): asymptotic slope error not estimated"
    exact_y, exact_slope = None, None
    if exact and lands[0].dim == 1:
        t = np.array([exact_escape_time(c, g, land) for c, g, land in zip(configs, geoms, lands)], float)
        exact_y = sign * -np.log(t)
        exact_fit = fit_line(x, exact_y, y_stderr=y_se, x_name=ax.label, y_name="exact")
        asym = abs(exact_fit.slope - law_fit.slope)
        exact_slope = float(exact_fit.slope)
        exact_note = (f"exact quadrature slope {exact_fit.slope:.4g} vs law slope {law_fit.slope:.4g} over the "
                      f"same points: asymptotic error {asym:.3g}")
    def _eta_h(c, g):          # an optimizer's discretisation: its own inflation rate η_d = 2ηP/A (sgd_equivalent)
        if c.get("optimizer") and c["optimizer"].get("kind", "sgd") != "sgd":
            eq = sgd_equivalent(c, g)
            return eq.discretisation_eta * eq.geometry["paths"][0]["h_ae"]
        return float(c["eta"]) * g["paths"][0]["h_ae"]
    eta_h = max(_eta_h(c, g) for c, g in zip(configs, geoms))
    disc = abs(predicted) * eta_h / 2.0
    tol = Z * fit.slope_stderr + asym + disc
    passed = bool(abs(fit.slope - predicted) <= tol)
    ci = fit.slope_ci(0.95)
    verdict = Verdict(
        claim=claim, check=check,
        measured=f"slope {fmt_pm(fit.slope, ci=ci, digits=4)}, R² = {fit.r_squared:.4f}, n = {fit.n}, "
                 f"reduced χ² = {fit.reduced_chi2:.2f}",
        predicted=f"{predicted:.4g} ({law} over the same points"
                  + (f"; at the middle point: leading {float(slope_pred.leading):.4g}, prefactor term "
                     f"{float(slope_pred.neglected):.3g})" if slope_pred is not None else ")"),
        tolerance=f"±{tol:.3g} = 1.96 s.e. ({Z * fit.slope_stderr:.3g}) + asymptotic ({asym:.3g}) + "
                  f"discretisation ({disc:.3g})",
        passed=passed, value=float(fit.slope), stderr=float(fit.slope_stderr), expected=predicted,
        details="; ".join([exact_note, *regime_notes]))
    point_rows = []
    for c, r, p in zip(configs, rows, preds):
        agrees = p.agrees(r["rate_lo"], r["rate_hi"])
        point_rows.append([ax.x(c), row_method(r), r["n_runs"], r["n_escaped"], r["n_diverged"],
                           r["rate"], r["rate_lo"], r["rate_hi"], p.rate, p.rel_error, agrees])
    n_agree = sum(row[-1] for row in point_rows)
    point_verdict = Verdict(
        claim=f"{title}: each measured rate matches the law within its 95% CI widened by the law's error",
        check=check, measured=f"{n_agree} of {len(point_rows)} points agree",
        predicted=f"{law} at each point (rates per unit SDE time)",
        tolerance="Garwood 95% CI × (1 ± allowed error); allowed error = asymptotic + discretisation, per point",
        passed=n_agree == len(point_rows), details=preds[0].error_method)
    table = Table(name=f"{name}-points",
                  columns=[ax.label, "method", "n_runs", "n_escaped", "n_diverged", "rate", "rate 95% lo",
                           "rate 95% hi", "law rate", "allowed rel. error", "agrees"],
                  rows=point_rows,
                  caption=f"{title}. Rates per unit SDE time (t = step·η): method simulate = censored exponential "
                          f"MLE with exact (Garwood) 95% CI; method ams = adaptive multilevel splitting (n_runs = "
                          f"independent AMS runs per batch, n_escaped = the brute-force escapes of the same precision, "
                          f"(1/s.e. of log γ̂)²), 95% CI from the spread of its runs and loops; law: {law}.")
    xs = np.linspace(x.min(), x.max(), 2)
    figure = Figure(name=name, kind="fit", title=title, data={
        "x": x.tolist(), "y": y.tolist(), "y_err": (Z * y_se).tolist(), "x_label": ax.label,
        "y_label": "log γ" if ax.log_y else "−log γ (γ per unit SDE time)",
        "fit": {"slope": fit.slope, "intercept": fit.intercept},
        "predicted": {"slope": predicted, "intercept": float(np.mean(law_y) - predicted * np.mean(x))},
        "law_points": law_y.tolist(), "exact_points": None if exact_y is None else exact_y.tolist(),
        "reference_slope": 1.0 if ax.log_y else None, "xs": xs.tolist()},
        caption=f"Points: measured {'log' if ax.log_y else '−log'} γ̂ with 95% error bars (1.96 s.e.: 1/√n_escaped for "
                f"brute force{f'; {n_ams} points by adaptive multilevel splitting, s.e. from their AMS runs' if n_ams else ''}); "
                f"solid: weighted fit; dashed: the law's slope {predicted:.4g} through the law's points.")
    return {"fit": fit, "verdicts": [verdict, point_verdict], "table": table, "figure": figure,
            "survival": survival_figure(rows, configs, name=f"{name}-survival", title=f"{title}: survival"),
            "predictions": preds, "law": law, "slope": slope_pred, "exact_slope": exact_slope}


def survival_figure(rows: list[dict], configs: list[dict], *, name: str, title: str, max_points: int = 400) -> Figure:
    """Kaplan–Meier survival of each point against exp(−γ̂t) (is the escape time exponential?).

    KM from ``scipy.stats.ecdf`` on right-censored data (censored at max_steps; diverged runs censored
    where they diverged), times in SDE units t = step·η; curves thinned to ``max_points`` steps.
    """
    from scipy import stats

    curves = []
    for c, r in zip(configs, rows):
        if row_method(r) == "ams":           # an AMS point has no exit times
            continue
        eta = float(c["eta"])
        t = np.asarray(r["steps"], float) * eta
        event = np.asarray(r["escaped"], bool)
        data = stats.CensoredData(uncensored=t[event], right=t[~event])
        km = stats.ecdf(data).sf
        q, p = km.quantiles, km.probabilities
        keep = np.unique(np.linspace(0, len(q) - 1, min(len(q), max_points)).astype(int))
        curves.append({"t": q[keep].tolist(), "survival": p[keep].tolist(), "rate": float(r["rate"]),
                       "t_max": float(t.max()), "label": ", ".join(f"{k}={c[k]:g}" for k in
                                                                    ("temperature", "batch_size", "eta", "sharpness")
                                                                    if c.get(k) is not None)})
    return Figure(name=name, kind="survival", title=title, data={"curves": curves},
                  caption="Kaplan–Meier survival (steps) against the fitted exponential exp(−γ̂t) (lines); a "
                          "straight line on the log axis is the exponential law the rate estimator assumes.")
