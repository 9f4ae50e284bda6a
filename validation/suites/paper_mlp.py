"""The MLP half of the ``paper`` suite: real minibatch SGD escapes on small UCI networks.

See docs/theory.md §Networks on UCI data and §The paper's claims. Set-up (the paper's architecture,
criterion and grids are unknown to us; these are ours):

- tanh MLPs with softmax cross-entropy and weight decay (so a true, isolated minimum exists) on subsets
  of scikit-learn's bundled ``wine`` and ``iris`` data (no downloads); the minimum θ* is found once per
  process with ``numerics.critical.find_minimum`` from ``initial_theta(seed=0)`` and cached;
- real minibatch SGD θ ← θ − η∇L_B(θ) (B indices drawn with replacement), R replicas vectorised;
- exit: the loss level L(θ) − L* ≥ ΔL_thr (a fixed loss increase). By
  docs/theory.md §Criterion and sharpness this level-set criterion is invariant under L(√k θ), and under
  it the Xie law predicts −log γ exponential in B/η and 1/k;
- rates per unit SDE time t = step·η (docs/theory.md §C20) by the censored exponential MLE after a burn-in
  (``validation.estimators.estimate_rate``), with exact Garwood 95% intervals.

Sweeps. For each data set a reference point (B₀, η₀, k = 1) and four ratios r: the B sweep uses B = r·B₀,
the 1/η sweep η = η₀/r and the 1/k sweep k = 1/r (sharpness L_k(θ) = L(√k θ),
docs/theory.md §Sharpness scaling). So the three sweeps visit the same values of B/(ηk), the only
combination through which the exponent depends on the three knobs; the shared reference point is
simulated once and used by all three. The ranges sit where escapes are rare events: on wine at
B/η ≤ 16 a third of the runs exit within the burn-in and −log γ̂ bends upwards (B = 3, 4 at η = 0.25
in a trial run), so the wine sweeps start at B/η = 20.

What is compared. The Xie law needs ΔL, H_ae, |H_be| and s of a saddle, which a loss-level exit does not
have. We test the law's *structure*:

(i) linearity of −log γ̂ in B, 1/η and 1/k (weighted least squares with s.e. 1/√n_escaped; R² and the
    reduced χ² with its p-value);
(ii) the C7 consistency: κ_B = slope_B·η/2, κ_η = slope_{1/η}/(2B), κ_k = slope'_{1/k}·η/(2B) (loss unit
    λ = 1: the loss is in nats), where slope'_{1/k} is the slope of −log γ̂_k − log k: the exact time factor
    of docs/theory.md §Sharpness scaling (γ_k(η) = k·γ_1(kη)), i.e. the prefactor term of the 1/k slope
    (≈ k), is subtracted point by point. Rates are per unit SDE time, so the 1/η fit needs no log η term (C20);
(iii) a comparison only (no verdict): for a quadratic well with noise C = λ_eff·H/B, the level-set exit
    has exponent ΔL_thr/T with T = ηλ_eff/(2B), i.e. κ_quad = ΔL_thr/λ_eff, with λ_eff = vᵀ(B·C_B)v / vᵀHv
    measured at θ* along the top Hessian eigenvector v from the exact minibatch-noise covariance
    (``numerics.samples.gradient_noise_covariance``). The many soft modes and the entropic prefactor of a
    d-dimensional level set are not in this estimate, so only the order of magnitude is expected to match.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from flatminima.errors import InputError
from flatminima.validation.estimators import estimate_rate
from flatminima.validation.fits import compare_exponents, fit_line, kappa_from_fit
from flatminima.validation.suite import Figure, Table, Verdict, fmt_pm

Z = 1.959963984540054
MIN_PVALUE = 0.01          # reduced-χ² goodness of fit: a straight line is rejected below this p-value
MIN_R2 = 0.95              # docs/theory.md §C7
BURN_IN_TIME = 5.0         # SDE time discarded at the start of every run (relaxation of the stiff modes)

# data set -> model, reference point and exit level (chosen so that escapes take 10²–10⁴ steps)
DATASETS = {
    "wine": dict(spec="mlp:data=wine,hidden=4,n_samples=100,weight_decay=0.01", eta=0.25, batch_size=5,
                 threshold=0.02),
    "iris": dict(spec="mlp:data=iris,hidden=4,n_samples=100,weight_decay=0.01", eta=0.1, batch_size=5,
                 threshold=0.03),
}
SIZES = {"tiny": "under a minute (tests)", "default": "about 6–8 min on 2 cores (64 runs per point)",
         "full": "about 25 min on 2 cores (192 runs per point)"}
N_RUNS = {"tiny": 16, "default": 64, "full": 192}
MAX_STEPS = {"tiny": 2_000, "default": 10_000, "full": 30_000}
# B/(ηk) ranges where escapes take ≫ the relaxation time (at smaller B/η wine's exits are transient climbs:
# a third of the runs leave within the burn-in and −log γ̂ bends; measured, see the module docstring)
_RATIOS = {"wine": (1.0, 1.2, 1.4), "iris": (1.0, 1.2, 1.4, 1.6, 1.8, 2.0)}
RATIOS = {"tiny": {"wine": (0.8, 1.0, 1.2)}, "default": _RATIOS, "full": {"wine": (1.0, 1.2, 1.4, 1.6), **{
    "iris": _RATIOS["iris"]}}}
TINY = {"wine": dict(threshold=0.01)}

_MINIMA: dict = {}


# ---------------------------------------------------------------------- the task
class _SharpMLP:
    """L_k(θ) = L(√k θ) for an MLP landscape, keeping the hand-written minibatch gradient.

    See docs/theory.md §Sharpness scaling.
    """

    def __init__(self, model, k: float) -> None:
        self.model, self.r = model, math.sqrt(k)

    def minibatch_loss(self, theta, idx):
        return self.model.minibatch_loss(self.r * theta, idx)

    def minibatch_grad(self, thetas, idx):
        return self.r * self.model.minibatch_grad(self.r * np.asarray(thetas), idx)


class _FastLoss:
    """The full-batch MLP loss, in plain numpy when θ is a plain array (the exit test evaluates it every step).

    The same formula as ``MLPModel.loss`` (tanh, cross-entropy, weight decay) with a max-shifted log-sum-exp;
    autograd's traced arrays (Hessians at θ*) go to the model's own autograd-traceable loss.
    """

    def __init__(self, model) -> None:
        self.model = model

    def __call__(self, theta):
        m = self.model
        if type(theta) is not np.ndarray or m.activation != "tanh" or m.loss_name != "cross_entropy":
            return m.loss(theta)
        if theta.ndim == 1:
            return self(theta.reshape(-1, 1))[0]
        R = theta.shape[1]
        h = m.X                                                   # (m, p), then (m, n, R)
        for i, (off, n_in, n_out) in enumerate(m.shapes):
            W = theta[off:off + n_in * n_out].reshape(n_in, n_out, R)
            b = theta[off + n_in * n_out:off + n_in * n_out + n_out]          # (n_out, R)
            if i == 0:
                z = (h @ W.reshape(n_in, n_out * R)).reshape(len(h), n_out, R)
            else:
                z = h[:, 0, None, :] * W[0]
                for j in range(1, n_in):
                    z += h[:, j, None, :] * W[j]
            z += b
            h = np.tanh(z) if i < len(m.shapes) - 1 else z
        top = h.max(axis=1)                                       # (m, R)
        lse = np.log(np.exp(h - top[:, None, :]).sum(axis=1)) + top
        costs = lse - np.einsum("mkr,mk->mr", h, m.Y)
        return costs.mean(axis=0) + 0.5 * m.weight_decay * np.einsum("pr,pr->r", theta, theta)


def _minimum(spec: str) -> dict:
    """θ*, L*, the Hessian's top eigenpair and λ_eff at θ* of one MLP landscape (once per process)."""
    if spec not in _MINIMA:
        from flatminima.numerics import build_landscape
        from flatminima.numerics.critical import find_minimum
        from flatminima.numerics.mlp import initial_theta
        from flatminima.numerics.samples import gradient_noise_covariance

        from dataclasses import replace

        from flatminima.numerics.mlp import mlp_model

        land = build_landscape(spec)
        land = replace(land, loss=_FastLoss(mlp_model(land)))
        a = find_minimum(land, initial_theta(land, seed=0))
        H = land.hessian(a)
        w, V = np.linalg.eigh(H)
        v = V[:, -1]
        C1 = gradient_noise_covariance(land, a, 1, replacement=True)       # B·C_B with replacement
        _MINIMA[spec] = dict(landscape=land, theta=a, loss=float(land.value(a)), eig=w, v=v,
                             lambda_eff_top=float(v @ C1 @ v / w[-1]),
                             lambda_eff_trace=float(np.trace(C1) / np.trace(H)),
                             grad_norm=float(np.linalg.norm(land.grad(a))))
    return _MINIMA[spec]


def _landscape(spec: str, k: float):
    from dataclasses import replace

    from flatminima.numerics.landscape import sharpened
    from flatminima.numerics.mlp import mlp_model

    base = _minimum(spec)["landscape"]
    if k == 1.0:
        return base
    wrapped = sharpened(base, k)
    return replace(wrapped, minibatch_loss=_SharpMLP(mlp_model(base), k).minibatch_loss)


def mlp_escape_task(config: dict, seed: int) -> list[dict]:
    """Minibatch SGD from the MLP minimum until L − L* ≥ ΔL_thr; one row with γ̂ (per SDE time) and its CI.

    Config keys: ``spec`` (an ``mlp:`` landscape), ``sharpness`` k, ``eta``, ``batch_size``, ``threshold``
    ΔL_thr, ``n_runs``, ``max_steps``, ``burn_in_steps``.
    """
    from flatminima.numerics.simulate import escape_parts, simulate_escape

    info = _minimum(config["spec"])
    k = float(config.get("sharpness", 1.0))
    land = _landscape(config["spec"], k)
    a = info["theta"] / math.sqrt(k)
    v = info["v"]
    # the loss-level criterion reads its level as L* + fraction·(L(b) − L*) for a reference point b; any b
    # above L* will do: a point along the top eigenvector, and fraction = ΔL_thr/(L(b) − L*)
    b = a + 0.5 / math.sqrt(k) * v
    rise = float(land.value(b)) - info["loss"]
    threshold, eta = float(config["threshold"]), float(config["eta"])
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = escape_parts(noise="minibatch", criterion="loss_level", eta=eta, batch_size=int(config["batch_size"]),
                             minimum=a, saddle=b, escape_direction=v, fraction=threshold / rise, replacement=True)
        res = simulate_escape(land, a, **parts, n_runs=int(config["n_runs"]), max_steps=int(config["max_steps"]),
                              seed=int(seed))
    burn = int(config.get("burn_in_steps", 0))
    est = estimate_rate(res.steps, res.escaped, eta=eta, diverged=res.diverged, burn_in_steps=burn)
    return [{
        "seed": int(seed), "n_runs": int(est.n_runs), "n_at_risk": int(est.n_at_risk),
        "n_escaped": int(est.n_escaped), "n_censored": int(est.n_censored), "n_diverged": int(est.n_diverged),
        "n_dropped_burn_in": int(est.n_dropped_burn_in),
        "rate": float(est.rate), "rate_lo": float(est.rate_ci[0]), "rate_hi": float(est.rate_ci[1]),
        "rate_upper": float(est.rate_upper), "log_rate_stderr": float(est.log_rate_stderr),
        "rate_per_step": float(est.rate_per_step), "exposure": float(est.exposure), "rate_method": est.method,
        "loss_minimum": info["loss"], "grad_norm_minimum": info["grad_norm"], "dim": int(land.dim),
        "lambda_max": float(k * info["eig"][-1]), "eta_lambda_max": float(res.eta_lambda_max),
        "discretization_dominated": bool(res.discretization_dominated),
        "lambda_eff_top": info["lambda_eff_top"], "lambda_eff_trace": info["lambda_eff_trace"],
        "wall_seconds": time.perf_counter() - t0,
        "warnings": " | ".join(sorted({str(w.message).split("\n")[0] for w in caught})),
        "steps": np.asarray(res.steps, dtype=np.int64).tolist(),
        "escaped": np.asarray(res.escaped, dtype=bool).tolist(),
        "diverged": np.asarray(res.diverged, dtype=bool).tolist(),
    }]


# ---------------------------------------------------------------------- sweeps
def _config(ds: dict, size: str, *, batch_size: int, eta: float, sharpness: float) -> dict:
    return {"spec": ds["spec"], "sharpness": float(sharpness), "eta": float(eta), "batch_size": int(batch_size),
            "threshold": float(ds["threshold"]), "n_runs": N_RUNS[size], "max_steps": MAX_STEPS[size],
            "burn_in_steps": int(math.ceil(BURN_IN_TIME / eta))}


def mlp_sweeps(size: str = "default") -> dict[str, list[dict]]:
    """``{"<data>_batch" | "<data>_eta" | "<data>_sharpness": configs}``: B, 1/η and 1/k sweeps per data set.

    Each sweep takes the ratios r of ``RATIOS[size]``: B = r·B₀, η = η₀/r, k = 1/r (so all three visit the
    same B/(ηk)); B₀·r is an integer for every r.
    """
    if size not in SIZES:
        raise InputError(f"unknown size {size!r} for the MLP part of suite paper; allowed: {', '.join(SIZES)}")
    plan = {}
    for name, ratios in RATIOS[size].items():
        ds = {**DATASETS[name], **(TINY.get(name, {}) if size == "tiny" else {})}
        B0, eta0 = int(ds["batch_size"]), float(ds["eta"])
        bs = [int(round(r * B0)) for r in ratios]
        if any(abs(b - r * B0) > 1e-9 for b, r in zip(bs, ratios)):
            raise InputError(f"{name}: every ratio times B0 = {B0} must be an integer; got {ratios}")
        plan[f"{name}_batch"] = [_config(ds, size, batch_size=b, eta=eta0, sharpness=1.0) for b in bs]
        plan[f"{name}_eta"] = [_config(ds, size, batch_size=B0, eta=eta0 * B0 / b, sharpness=1.0) for b in bs]
        plan[f"{name}_sharpness"] = [_config(ds, size, batch_size=B0, eta=eta0, sharpness=B0 / b) for b in bs]
    return plan


# ---------------------------------------------------------------------- analysis
AXES = {"batch": ("batch_size", "B"), "eta": ("1/eta", "1/η"), "sharpness": ("1/sharpness", "1/k")}


def _x(axis: str, c: dict) -> float:
    return {"batch_size": float(c["batch_size"]), "1/eta": 1.0 / float(c["eta"]),
            "1/sharpness": 1.0 / float(c["sharpness"])}[axis]


def _fit_sweep(key: str, cfgs: list[dict], rows: list[dict]) -> dict:
    data, kind = key.rsplit("_", 1)
    axis, label = AXES[kind]
    n_esc = np.array([r["n_escaped"] for r in rows])
    if np.any(n_esc == 0):
        bad = [_x(axis, c) for c, n in zip(cfgs, n_esc) if n == 0]
        raise InputError(f"sweep {key}: no escape at {label} = {bad} (only an upper bound); raise max_steps")
    x = np.array([_x(axis, c) for c in cfgs])
    y = -np.log([r["rate"] for r in rows])
    y_se = 1.0 / np.sqrt(n_esc)
    fit = fit_line(x, y, y_stderr=y_se, x_name=axis, y_name="-log rate")
    # κ: for 1/k remove the exact time factor of docs/theory.md §Sharpness scaling (γ_k(η) = k·γ_1(kη)) point
    # by point
    log_k = np.log([float(c["sharpness"]) for c in cfgs])
    kfit = fit_line(x, y + log_k, y_stderr=y_se, x_name=axis, y_name="-log rate + log k") if kind == "sharpness" else fit
    ref = cfgs[0]                     # η (B sweep), B (1/η sweep) or both (1/k sweep) are fixed along a sweep
    kappa = kappa_from_fit(kfit, eta=float(ref["eta"]), batch_size=float(ref["batch_size"]), loss_unit=1.0)
    return dict(data=data, kind=kind, axis=axis, label=label, x=x, y=y, y_se=y_se, fit=fit, kappa_fit=kfit,
                kappa=kappa)


def _linearity_verdict(key: str, s: dict) -> Verdict:
    fit = s["fit"]
    ok = bool(fit.r_squared >= MIN_R2 and fit.chi2_pvalue >= MIN_PVALUE)
    ci = fit.slope_ci(0.95)
    return Verdict(
        claim=f"MLP ({s['data']}), real minibatch SGD: −log γ is linear in {s['label']}", check="C7",
        measured=f"slope {fmt_pm(fit.slope, ci=ci, digits=4)}, R² = {fit.r_squared:.4f}, reduced χ² = "
                 f"{fit.reduced_chi2:.2f} (p = {fit.chi2_pvalue:.3g}), n = {fit.n}",
        predicted="a straight line (Xie law: −log γ = κ·2B/(ηkλ) + prefactor terms)",
        tolerance=f"R² ≥ {MIN_R2} and χ² p-value ≥ {MIN_PVALUE} (weighted by the s.e. 1/√n_escaped)",
        passed=ok, value=float(fit.slope), stderr=float(fit.slope_stderr),
        details=f"weighted least squares of −log γ̂ (per unit SDE time) against {s['label']}; {fit.method}")


def _figure(key: str, s: dict, title: str) -> Figure:
    fit = s["fit"]
    xs = np.linspace(s["x"].min(), s["x"].max(), 2)
    return Figure(name=f"mlp-{key}", kind="fit", title=title, data={
        "x": s["x"].tolist(), "y": s["y"].tolist(), "y_err": (Z * s["y_se"]).tolist(), "x_label": s["label"],
        "y_label": "−log γ (γ per unit SDE time)", "fit": {"slope": fit.slope, "intercept": fit.intercept},
        "predicted": None, "law_points": None, "exact_points": None, "reference_slope": None, "xs": xs.tolist()},
        caption=f"Points: measured −log γ̂ with 95% error bars (1.96/√n_escaped); line: weighted fit, slope "
                f"{fmt_pm(fit.slope, ci=fit.slope_ci(0.95), digits=4)}. No predicted line: the Xie law's ΔL, "
                f"H_ae, |H_be|, s are undefined for a loss-level exit (see the κ table).")


def _survival(key: str, cfgs: list[dict], rows: list[dict], title: str) -> Figure:
    from scipy import stats

    curves = []
    for c, r in zip(cfgs, rows):
        t = np.asarray(r["steps"], float) * float(c["eta"])
        event = np.asarray(r["escaped"], bool)
        km = stats.ecdf(stats.CensoredData(uncensored=t[event], right=t[~event])).sf
        curves.append({"t": km.quantiles.tolist(), "survival": km.probabilities.tolist(), "rate": float(r["rate"]),
                       "t_max": float(t.max()),
                       "label": f"B={c['batch_size']:g}, eta={c['eta']:.4g}, sharpness={c['sharpness']:.4g}"})
    return Figure(name=f"mlp-{key}-survival", kind="survival", title=f"{title}: survival", data={"curves": curves},
                  caption="Kaplan–Meier survival (SDE time t = step·η; diverged runs censored) against exp(−γ̂t); "
                          f"γ̂ counts only escapes after the burn-in of {BURN_IN_TIME:g} SDE time units.")


def run_mlp_part(out, *, size: str = "default", workers=None, executor=None, resume: bool = False,
                 progress=None) -> dict:
    """Run the MLP sweeps into ``OUT/store`` and return ``dict(verdicts, tables, figures, sections, configs)``."""
    from flatminima.validation.store import config_hash, normalize_config
    from flatminima.validation.sweep import run_sweep

    started = time.time()
    plan = mlp_sweeps(size)
    unique, seen = [], set()
    for cfgs in plan.values():                       # the reference point is shared by the three sweeps
        for c in cfgs:
            h = config_hash(normalize_config(c))
            if h not in seen:
                seen.add(h)
                unique.append(c)
    frame = run_sweep(mlp_escape_task, unique, out, workers=workers, executor=executor, resume=resume,
                      progress=progress)
    by_hash = dict(zip(frame["task_hash"], frame.to_dict("records")))
    verdicts, tables, figures = [], [], []
    fits = {}
    for key, cfgs in plan.items():
        rows = [by_hash[config_hash(normalize_config(c))] for c in cfgs]
        s = fits[key] = _fit_sweep(key, cfgs, rows)
        title = f"MLP ({s['data']}), real minibatch SGD, loss-level exit: −log γ against {s['label']}"
        verdicts.append(_linearity_verdict(key, s))
        tables.append(Table(
            name=f"mlp-{key}-points",
            columns=[s["label"], "B", "η", "k", "ηλ_max", "n_runs", "n_escaped", "n_dropped_burn_in", "n_diverged",
                     "rate", "rate 95% lo", "rate 95% hi", "−log rate", "s.e."],
            rows=[[float(xv), c["batch_size"], c["eta"], c["sharpness"], r["eta_lambda_max"], r["n_runs"],
                   r["n_escaped"], r["n_dropped_burn_in"], r["n_diverged"], r["rate"], r["rate_lo"], r["rate_hi"],
                   float(yv), float(se)] for xv, c, r, yv, se in zip(s["x"], cfgs, rows, s["y"], s["y_se"])],
            caption=f"{title}. Rates per unit SDE time (t = step·η), censored exponential MLE after a burn-in of "
                    f"{BURN_IN_TIME:g} SDE time units, exact (Garwood) 95% CI; s.e. of −log γ̂ = 1/√n_escaped."))
        figures += [_figure(key, s, title), _survival(key, cfgs, rows, title)]
    # C7 and the quadratic-well comparison, per data set
    kappa_rows = []
    for name in RATIOS[size]:
        trio = {fits[f"{name}_{kind}"]["label"]: fits[f"{name}_{kind}"]["kappa"] for kind in AXES}
        comp = compare_exponents(trio)
        ref = plan[f"{name}_eta"][0]
        row0 = by_hash[config_hash(normalize_config(plan[f"{name}_batch"][0]))]
        thr = float(ref["threshold"])
        quad_top, quad_tr = thr / row0["lambda_eff_top"], thr / row0["lambda_eff_trace"]
        for label, k in trio.items():
            lo, hi = k.ci(0.95)
            kappa_rows.append([name, label, k.kappa, k.kappa_stderr, lo, hi, k.fit.r_squared, quad_top, quad_tr])
        parts = ", ".join(f"{label}: {k.kappa:.4g} [{k.ci()[0]:.4g}, {k.ci()[1]:.4g}]" for label, k in trio.items())
        verdicts.append(Verdict(
            claim=f"MLP ({name}): the three estimates of the SGD exponent κ (from B, 1/η and 1/k) agree",
            check="C7", measured=parts,
            predicted=f"one κ (quadratic-well comparison, no verdict: ΔL_thr/λ_eff = {quad_top:.3g} along the top "
                      f"Hessian eigenvector, {quad_tr:.3g} with trace ratios)",
            tolerance="overlapping 95% intervals, each fit R² ≥ 0.95 over ≥ 1 decade of γ",
            passed=bool(comp.passed), value=float(comp.kappa_mean), stderr=float(comp.kappa_mean_stderr),
            details=comp.verdict + "; the reference point is shared by the three sweeps (their κ are weakly "
                                   "correlated); the 1/k slope has the exact time factor log k removed "
                                   "(docs/theory.md §Sharpness scaling)"))
    tables.append(Table(
        name="mlp-kappa",
        columns=["data", "sweep", "κ", "s.e.", "95% lo", "95% hi", "R²", "ΔL_thr/λ_eff (top eigvec)",
                 "ΔL_thr/λ_eff (trace)"],
        rows=kappa_rows,
        caption="κ = slope_B·η/2 = slope_{1/η}/(2B) = slope'_{1/k}·η/(2B) (docs/theory.md §C7, loss unit λ = 1; "
                "slope'_{1/k} from −log γ̂ + log k, the exact k time factor removed). Comparison only: a quadratic "
                "well with noise C = λ_eff·H/B and a level-set exit has κ = ΔL_thr/λ_eff; λ_eff = "
                "vᵀ(B·C_B)v/vᵀHv at θ* (v the top Hessian eigenvector) or Tr(B·C_B)/Tr H, from the exact "
                "minibatch-noise covariance."))
    specs = "; ".join(f"{n}: {DATASETS[n]['spec']}" for n in RATIOS[size])
    sections = [{"title": "MLP set-up (real minibatch SGD)", "text": (
        f"Landscapes: {specs} (tanh MLP, softmax cross-entropy, weight decay 0.01, rows drawn with seed 0). "
        "θ* = find_minimum from initial_theta(seed=0). SGD: θ ← θ − η∇L_B(θ), minibatches of B indices drawn "
        "with replacement. Exit: L(θ) − L* ≥ ΔL_thr (level-set criterion, reparametrisation invariant, "
        "docs/theory.md §Criterion and sharpness). Sweeps: B = r·B₀, η = η₀/r, k = 1/r with the same ratios r, "
        "so all three visit the same B/(ηk). "
        f"Rates per unit SDE time after a burn-in of {BURN_IN_TIME:g} time units. The Xie law's saddle "
        "quantities do not exist for this exit, so the verdicts test linearity and the C7 agreement of the three "
        "κ estimates; the quadratic-well κ = ΔL_thr/λ_eff is shown for comparison only.")}]
    configs = unique
    return dict(verdicts=verdicts, tables=tables, figures=figures, sections=sections, configs=configs,
                wall_seconds=round(time.time() - started, 1))
