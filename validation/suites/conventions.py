"""The ``conventions`` suite: the exact and SE-based checks of docs/theory.md §Checks as one report.

One verdict per check, each against a closed form, an exact quadrature or a printed table of
docs/theory.md §Reference tables (the § below are sections of docs/theory.md):

- **C1** stationary variance ηλ/(B(2 − ηh)) of SGD-type noise on a quadratic (§Discretisation);
- **C2** 1-D quadrature reproduces table T1; the MFPT to the saddle is ≈ ½ the Kramers time
  (§Which escape time);
- **C3** Monte Carlo mean exit time against the exact MFPT 277.1 of T2 at ΔU/D = 4, and exponential
  escape times after relaxation (KS), on the compiled white-noise path;
- **C6** the √k identities bit for bit with common random numbers (§Sharpness scaling);
- **C9** convention intercepts and table T3 (§Prefactor conventions);
- **C10** full-batch GD + white noise: B does not enter; with D = ηc/(2B), −log γ is linear in B;
- **C11** criterion reversal on a quadratic with a radius exit (§Criterion and sharpness);
- **C12** table T4 (Mori-type D = εL, §Mori power law);
- **C15** the stability guard (§Discretisation).

Statistical tolerances are ``Z_TOL`` standard errors computed from the data, or the claimed tolerance of
docs/theory.md §Checks when that is wider (the report says which one was used). All seeds are fixed
constants below.
Monte Carlo runs execute in this process (the compiled kernel uses its own threads), so ``workers``,
``executor`` and ``resume`` are accepted for the common suite interface and otherwise unused.
"""
from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np
from scipy import stats

from flatminima.errors import InputError
from flatminima.numerics import Landscape, build_landscape, sharpened
from flatminima.numerics.reference import mfpt_1d
from flatminima.numerics.simulate import NoEscapeExpectedWarning, simulate_options
from flatminima.validation.estimators import check_exponentiality, estimate_rate
from flatminima.validation.suite import SuiteResult, Table, Verdict, fmt_pm
from flatminima.validation.suites.common import versions
from flatminima.validation.verdicts import Z_TOL

SIZES = {"tiny": "about 20 s on 2 cores (test size; statistical tolerances widen to 4 s.e.)",
         "default": "about 2.5 min on 2 cores (measured 148 s; C3's 14,000 runs take half)",
         "full": "about 10 min on 2 cores (4× the Monte Carlo runs of default)"}

# Monte Carlo budget per size: C1 particles, C3 runs, C10 runs per B, C11 runs per (noise, k)
N = {"tiny": {"c1": 20_000, "c3": 1_500, "c10": 150, "c11": 200},
     "default": {"c1": 100_000, "c3": 14_000, "c10": 400, "c11": 700},
     "full": {"c1": 400_000, "c3": 56_000, "c10": 1_600, "c11": 2_800}}
SEEDS = {"c1": 3, "c3": 4, "c6": 7, "c10": 10, "c11": 5}
TABLE_ATOL = 5e-4               # the tables of docs/theory.md §Reference tables print 3 decimals

CRITERIA = f"""Exact checks (C2, C6, C9, C12, C15) pass when the identity holds bit for bit, or the quadrature
reproduces the printed table of docs/theory.md §Reference tables to its printed decimals (±{TABLE_ATOL:g})
and the stated tolerance.
Statistical checks (C1, C3, C10, C11) pass when the measured value lies within max(claimed tolerance,
{Z_TOL:g} s.e.) of the reference; at the default size {Z_TOL:g} s.e. is below the claimed tolerance of C1
and C3, so the claimed tolerance is what is tested there. Slopes (C10) pass within 1.96 s.e. of the
predicted slope plus the law's asymptotic error over the sweep (exact quadrature slope minus Kramers slope)
plus the discretisation bias |slope|·ηH_ae/2 (docs/theory.md §Discretisation)."""

# ------------------------------------------------------- the 1-D double well (docs/theory.md §Reference tables)
H_A, H_B, BARRIER = 2.0, 1.0, 0.25


def _u(t):
    return t**4 / 4 - t**2 / 2


def _du(t):
    return t**3 - t


def _kramers_time(temperature: float) -> float:
    """2π/√(H_a|H_b|) e^{ΔU/D} (docs/theory.md §Kramers law in 1-D)."""
    return 2 * math.pi / math.sqrt(H_A * H_B) * math.exp(BARRIER / temperature)


# docs/theory.md §Reference tables, as printed
T1 = {2: (0.561, 1.250), 3: (0.569, 1.194), 5: (0.549, 1.107), 8: (0.528, 1.057),
      10: (0.522, 1.043), 15: (0.514, 1.027), 20: (0.510, 1.020)}
T2_EXACT, T2_KRAMERS = 277.1, 242.6
T3 = {0.05: (8.2, (1.099, 1.084, 1.086)), 0.02: (20.6, (1.033, 1.028, 1.030)),
      0.01: (41.2, (1.015, 1.013, 1.014)), 0.005: (82.4, (1.007, 1.006, 1.007))}
T4 = {0.05: (35.8, 0.988), 0.03: (59.7, 0.993), 0.02: (89.6, 0.995), 0.01: (179.2, 0.998)}
ALPHAS = {"ito": 0.0, "stratonovich": 0.5, "hanggi-klimontovich": 1.0}


def _quadratic_loss(t):
    return 0.5 * (t**2).sum(axis=0)                  # h = 1; sharpened(·, k) gives h = k (autograd-traceable)


QUADRATIC = Landscape(name="quadratic", dim=1, loss=_quadratic_loss, minima=(np.zeros(1),))


def _simulate(landscape, start, **options):
    """``simulate_options`` without the no-escape warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoEscapeExpectedWarning)
        return simulate_options(landscape, start, **options)


# --------------------------------------------------------------------------- C1
def check_c1(n: int) -> tuple[Verdict, list]:
    """Var = ηλ/(B(2 − ηh)) on L = (h/2)θ², noise covariance η²λh/B per step (docs/theory.md §Discretisation).

    Independent particles run 60 steps from 0; the variance has relaxed by (1 − ηh)^120 = 2.5e-12, so the
    final states are i.i.d. stationary draws and SE(Var̂) needs no autocorrelation correction.
    """
    h, eta, lam, B = 2.0, 0.1, 3.0, 2
    r = _simulate(sharpened(QUADRATIC, h), [0.0], noise="hessian_fixed", criterion="radius",
               radius=50.0, eta=eta, n_runs=n, max_steps=60, seed=SEEDS["c1"], batch_size=B, loss_unit=lam)
    x2 = r.final_theta[:, 0] ** 2
    var_hat, se = float(x2.mean()), float(x2.std() / math.sqrt(n))
    var = eta * lam / (B * (2 - eta * h))
    sde = eta * lam / (2 * B)
    tol = max(0.02, Z_TOL * se / var)
    dev = var_hat / var - 1
    v = Verdict(claim="Stationary variance of SGD-type noise on a quadratic is ηλ/(B(2 − ηh)) (within 2%)",
                measured=fmt_pm(var_hat, se, digits=5), predicted=f"{var:.5g} (SDE limit ηλ/(2B) = {sde:.4g})",
                tolerance=f"relative {tol:.2%} (= max(2%, {Z_TOL:g} s.e. = {Z_TOL * se / var:.2%}))",
                passed=bool(abs(dev) <= tol and r.n_censored == n), check="C1", value=var_hat, stderr=se,
                expected=var, details=f"h = {h}, η = {eta}, λ = {lam}, B = {B}, {n} particles × 60 steps, "
                                      f"seed {SEEDS['c1']}; measured/predicted − 1 = {dev:+.2%}; backend {r.backend}")
    row = ["C1", "Var θ (stationary)", f"{var_hat:.5g} ± {se:.2g} (s.e.)", f"{var:.5g}", f"{dev:+.2%}"]
    return v, [row]


# --------------------------------------------------------------------------- C2 (T1)
def check_c2() -> tuple[list[Verdict], Table]:
    rows, worst, worst_half = [], 0.0, 0.0
    for r_over_d, (want_s, want_m) in T1.items():
        d = BARRIER / r_over_d
        s = mfpt_1d(_u, _du, d, start=-1.0, absorbing=0.0).escape_time / _kramers_time(d)
        m = mfpt_1d(_u, _du, d, start=-1.0, absorbing=1.0).escape_time / _kramers_time(d)
        worst = max(worst, abs(s - want_s), abs(m - want_m))
        if r_over_d >= 10:
            worst_half = max(worst_half, abs(s / 0.5 - 1), abs(m - 1))
        rows.append([r_over_d, f"{s:.4f}", want_s, f"{m:.4f}", want_m])
    table = Table(name="t1", columns=["ΔU/D", "to saddle (here)", "to saddle (T1)", "to other minimum (here)",
                                      "to other minimum (T1)"], rows=rows,
                  caption="docs/theory.md table T1: exact MFPT / Kramers time 2π/√(H_a|H_b|)·e^{ΔU/D} on "
                          "θ⁴/4 − θ²/2 from θ = −1, by log-space quadrature (numerics.reference.mfpt_1d, "
                          "reflecting far left; quadrature error < 1e-4 relative), next to the printed values.")
    v1 = Verdict(claim="1-D quadrature reproduces table T1 to 3 decimals", measured=f"worst |Δ| = {worst:.1e}",
                 predicted="docs/theory.md table T1 (printed to 3 decimals)", tolerance=f"±{TABLE_ATOL:g}",
                 passed=bool(worst <= TABLE_ATOL), check="C2", value=worst, expected=0.0)
    v2 = Verdict(claim="MFPT to the saddle ≈ ½ Kramers time, to the next minimum ≈ 1 Kramers time (ΔU/D ≥ 10)",
                 measured=f"worst relative deviation {worst_half:.2%}",
                 predicted="½ and 1 (docs/theory.md §Which escape time)", tolerance="5%",
                 passed=bool(worst_half <= 0.05), check="C2", value=worst_half, expected=0.0)
    return [v1, v2], table


# --------------------------------------------------------------------------- C3 (T2)
def check_c3(n: int) -> tuple[list[Verdict], list]:
    """White noise on ``double-well`` at ΔU/D = 4, exit at θ ≥ 1 (bridge-corrected), compiled kernel."""
    D, eta, t_relax = BARRIER / 4, 0.02, 10.0
    exact = mfpt_1d(_u, _du, D, start=-1.0, absorbing=1.0).escape_time
    r = _simulate(build_landscape("double-well"), [-1.0], noise="white", criterion="dividing_surface",
               temperature=D, eta=eta, n_runs=n, max_steps=int(12 * exact / eta), seed=SEEDS["c3"], saddle=[0.0],
               escape_direction=[1.0], plane_offset=1.0, bridge=True, backend="auto")
    T = r.escape_time[r.escaped]
    mean, se = float(T.mean()), float(T.std() / math.sqrt(T.size))
    tol = max(0.035, Z_TOL * se / exact)
    dev = mean / exact - 1
    v1 = Verdict(claim="Monte Carlo mean exit time equals the exact MFPT of T2 (ΔU/D = 4) within 3.5%",
                 measured=fmt_pm(mean, se, digits=4), predicted=f"{exact:.1f} (quadrature; T2 prints {T2_EXACT})",
                 tolerance=f"relative {tol:.2%} (= max(3.5%, {Z_TOL:g} s.e. = {Z_TOL * se / exact:.2%}))",
                 passed=bool(abs(dev) <= tol and r.n_censored <= max(1, n // 1000) and r.n_diverged == 0),
                 check="C3", value=mean, stderr=se, expected=exact,
                 details=f"white noise D = 1/16, η = {eta} (η·H_a = {eta * H_A:g}), {n} runs, seed {SEEDS['c3']}, "
                         f"exit through θ = +1 with the Brownian bridge, backend {r.backend}; "
                         f"{r.n_censored} censored; MC/exact − 1 = {dev:+.2%}")
    burn = int(round(t_relax / eta))
    ex = check_exponentiality(r.steps, r.escaped, eta=eta, burn_in_steps=burn, diverged=r.diverged)
    v2 = Verdict(claim="Escape times after relaxation (t > 10 ≫ 1/H_a) are exponential",
                 measured=f"KS p = {ex.ks_pvalue:.3g}; CV = {ex.cv:.3f} ± {ex.cv_stderr:.2g} (s.e.)",
                 predicted="exponential (CV = 1)", tolerance="KS p > 0.01", passed=bool(ex.ks_pvalue > 0.01),
                 check="C3", value=float(ex.ks_pvalue), expected=None, details=ex.ks_method)
    rows = [["C3", "mean exit time to θ = +1 (T2)", f"{mean:.1f} ± {se:.2g} (s.e.)", f"{exact:.1f} (T2: {T2_EXACT})",
             f"{dev:+.2%}"],
            ["C3", "Kramers time at ΔU/D = 4", "—", f"{_kramers_time(D):.1f} (T2: {T2_KRAMERS})", "—"]]
    return [v1, v2], rows


# --------------------------------------------------------------------------- C6
def check_c6() -> tuple[list[Verdict], list]:
    """Noise on L(√k θ) with step η equals noise on L with step kη in φ = √k θ; k = 4, common seeds."""
    from flatminima.numerics.critical import find_minimum, refine_saddle
    land = build_landscape("two-well-2d")
    a, b = find_minimum(land, land.minima[0]), refine_saddle(land, land.saddles[0])
    w, V = np.linalg.eigh(land.hessian(b))
    e = V[:, 0] * np.sign(V[:, 0] @ (b - a))
    eta, n_runs, max_steps, k = 0.005, 24, 400, 4.0
    verdicts, rows = [], []
    for noise, kw in (("white", {"temperature": 0.25}), ("hessian_fixed", {"batch_size": 1, "loss_unit": 8.0})):
        common = dict(noise=noise, criterion="dividing_surface", n_runs=n_runs, max_steps=max_steps,
                      seed=SEEDS["c6"], escape_direction=e, **kw)
        r_k = _simulate(sharpened(land, k), a / 2, eta=eta, minimum=a / 2, saddle=b / 2, **common)
        r_1 = _simulate(land, a, eta=k * eta, minimum=a, saddle=b, **common)
        same = (np.array_equal(r_k.steps, r_1.steps) and np.array_equal(r_k.escaped, r_1.escaped)
                and np.array_equal(2.0 * r_k.final_theta, r_1.final_theta))
        ok = bool(same and 0 < r_1.n_escaped)
        verdicts.append(Verdict(
            claim=f"√k identity, {noise} noise: L(√k θ) with step η ≡ L with step kη in φ = √k θ (k = 4)",
            measured=f"{'identical' if same else 'different'} exit steps and final states "
                     f"({r_1.n_escaped}/{n_runs} escaped)",
            predicted="bit-for-bit equality (docs/theory.md §Sharpness scaling)",
            tolerance="exact", passed=ok, check="C6",
            details=f"two-well-2d, η = {eta}, seed {SEEDS['c6']} for both, backend {r_k.backend}/{r_1.backend}"))
        rows.append(["C6", f"{noise}: runs identical", "yes" if same else "no", "yes", "exact"])
    return verdicts, rows


# --------------------------------------------------------------------------- C9 (T3)
def _phi_integral_t3() -> float:
    """∫_{-1}^{0} L'(θ) e^{−0.9θ} dθ in closed form (ΔΦ·ε for D = ε e^{0.9θ})."""
    k = 0.9

    def anti(t):
        return -math.exp(-k * t) * ((t**3 - t) / k + (3 * t**2 - 1) / k**2 + 6 * t / k**3 + 6 / k**4)

    return anti(0.0) - anti(-1.0)


def check_c9() -> tuple[list[Verdict], Table]:
    rows, worst_nats, worst_abs, logs = [], 0.0, 0.0, {}
    for eps, (dphi, wants) in T3.items():
        row = [f"{_phi_integral_t3() / eps:.1f}", dphi]
        for (conv, alpha), want in zip(ALPHAS.items(), wants):
            res = mfpt_1d(_u, _du, lambda t, eps=eps: eps * np.exp(0.9 * t), start=-1.0, absorbing=1.0,
                          convention=conv)
            log_asym = math.log(2 * math.pi / math.sqrt(H_A * H_B)) + (0.5 - alpha) * 0.9 + _phi_integral_t3() / eps
            ratio = math.exp(res.log_escape_time - log_asym)
            worst_nats = max(worst_nats, abs(math.log(ratio / want)))
            worst_abs = max(worst_abs, abs(ratio - want))
            logs[eps, conv] = res.log_escape_time
            row += [f"{ratio:.4f}", want]
        rows.append(row)
    table = Table(name="t3", columns=["ΔΦ (here)", "ΔΦ (T3)", "Itô", "Itô (T3)", "Stratonovich", "Strat. (T3)",
                                      "HK", "HK (T3)"], rows=rows,
                  caption="docs/theory.md table T3: D = ε e^{0.9θ} (D_b/D_a = e^{0.9}), exact MFPT from −1 to +1 "
                          "by quadrature under each α-convention, divided by 2π/√(H_a|H_b|)·(D_b/D_a)^{1/2−α}·e^{ΔΦ} "
                          "(docs/theory.md §Prefactor conventions); ε = 0.05, 0.02, 0.01, 0.005. Printed values "
                          "beside.")
    diffs = []
    for eps in (0.01, 0.005):                     # ΔΦ ≥ 40
        diffs.append(abs(logs[eps, "ito"] - logs[eps, "hanggi-klimontovich"] - 0.9))
        diffs.append(abs(logs[eps, "ito"] - logs[eps, "stratonovich"] - 0.45))
    v1 = Verdict(claim="Quadrature reproduces table T3 (all three conventions) within 0.05 nats",
                 measured=f"worst |log(ratio/T3)| = {worst_nats:.1e} nats; worst |Δratio| = {worst_abs:.1e}",
                 predicted="docs/theory.md table T3", tolerance=f"0.05 nats and ±{TABLE_ATOL:g} (printed decimals)",
                 passed=bool(worst_nats < 0.05 and worst_abs <= TABLE_ATOL), check="C9", value=worst_nats, expected=0.0)
    v2 = Verdict(claim="Convention intercepts of log τ differ by (½ − α)·log(D_b/D_a) at ΔΦ ≥ 40",
                 measured=f"worst deviation {max(diffs):.3f} nats (Itô − HK vs 0.9, Itô − Strat. vs 0.45)",
                 predicted="0.9 and 0.45 nats (docs/theory.md §Prefactor conventions)", tolerance="0.05 nats",
                 passed=bool(max(diffs) < 0.05), check="C9", value=max(diffs), expected=0.0)
    return [v1, v2], table


# --------------------------------------------------------------------------- C10
def _wls_line(x, y, se):
    w = 1 / np.asarray(se) ** 2
    X = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * y)
    chi2 = float(np.sum(w * (y - X @ beta) ** 2))
    return beta, cov, chi2


def check_c10(n: int) -> tuple[list[Verdict], Table]:
    """White noise; batch size enters only through D = ηc/(2B) (ηc = 1/2, so ΔU/D = B)."""
    eta, c = 0.01, 50.0
    batches = np.array([2, 3, 4, 5])
    # (a) fixed D: the white-noise dynamics has no batch-size input at all
    try:
        _simulate(build_landscape("double-well"), [-1.0], noise="white", criterion="dividing_surface",
               temperature=0.1, batch_size=4, eta=eta, n_runs=2, max_steps=10, seed=0)
        refused = False
    except ValueError as err:
        refused = "batch_size applies only to SGD-type noise" in str(err)
    va = Verdict(claim="Full-batch GD + white noise at fixed D: γ does not depend on B",
                 measured="simulate_escape refuses batch_size for white noise" if refused else "batch_size accepted",
                 predicted="B is not an input of the dynamics (docs/theory.md §White noise, §C10)", tolerance="exact",
                 passed=refused, check="C10")
    # (b) D tied to B
    rows, y, se, y_exact = [], [], [], []
    for B in batches:
        D = eta * c / (2 * B)
        exact = mfpt_1d(_u, _du, D, start=-1.0, absorbing=1.0)
        r = _simulate(build_landscape("double-well"), [-1.0], noise="white",
                   criterion="dividing_surface", temperature=D, eta=eta, n_runs=n,
                   max_steps=int(8 * exact.escape_time / eta), seed=SEEDS["c10"] + int(B), saddle=[0.0],
                   escape_direction=[1.0], plane_offset=1.0, bridge=True, backend="auto")
        est = estimate_rate(r.steps, r.escaped, eta=eta, diverged=r.diverged)
        y.append(-math.log(est.rate))
        se.append(est.log_rate_stderr)
        y_exact.append(-exact.log_rate)
        rows.append([int(B), f"{D:.4g}", f"{-math.log(est.rate):.3f} ± {est.log_rate_stderr:.2g}",
                     f"{-exact.log_rate:.3f}", r.n_escaped, n])
    y, se, y_exact = np.array(y), np.array(se), np.array(y_exact)
    beta, cov, chi2 = _wls_line(batches.astype(float), y, se)
    slope, slope_se = float(beta[1]), float(math.sqrt(cov[1, 1]))
    _, _, chi2_inv = _wls_line(1.0 / batches, y, se)
    p_lin, p_inv = float(stats.chi2.sf(chi2, len(batches) - 2)), float(stats.chi2.sf(chi2_inv, len(batches) - 2))
    kramers_slope = 2 * BARRIER / (eta * c)
    exact_slope = float(np.polyfit(batches, y_exact, 1)[0])
    tol = 1.96 * slope_se + abs(exact_slope - kramers_slope) + abs(kramers_slope) * eta * H_A / 2
    vb = Verdict(claim="D = ηc/(2B): −log γ is linear in B with slope 2ΔL/(ηc), not linear in 1/B",
                 measured=f"slope {fmt_pm(slope, slope_se)}; line in B: χ² p = {p_lin:.2g}; "
                          f"line in 1/B: χ² p = {p_inv:.2g}",
                 predicted=f"slope {kramers_slope:g} (Kramers; exact quadrature slope {exact_slope:.3f})",
                 tolerance=f"±{tol:.3f} (1.96 s.e. + law error + ηH_a/2 bias); line in B not rejected (p > 0.001), line in 1/B rejected (p < 0.001)",
                 passed=bool(abs(slope - kramers_slope) <= tol and p_lin > 1e-3 and p_inv < 1e-3), check="C10", value=slope,
                 stderr=slope_se, expected=kramers_slope,
                 details=f"double-well, η = {eta}, c = {c}, {n} runs per B, seeds {SEEDS['c10']}+B, exit through "
                         f"θ = +1 (bridge); γ̂ = censored exponential MLE per unit SDE time")
    table = Table(name="c10", columns=["B", "D = ηc/(2B)", "−log γ̂ ± s.e. (MC)", "−log γ (exact quadrature)",
                                       "escaped", "runs"], rows=rows,
                  caption="C10: full-batch GD with white noise on θ⁴/4 − θ²/2, η = 0.01, c = 50 so ΔU/D = B. "
                          "Rates from the censored exponential MLE (validation.estimators.estimate_rate), s.e. of "
                          "log γ̂ = 1/√n_escaped; exact values by quadrature of the same SDE "
                          "(docs/theory.md §Exact references).")
    return [va, vb], table


# --------------------------------------------------------------------------- C11
def check_c11(n: int) -> tuple[list[Verdict], list]:
    """Quadratic, exit at |θ| = 1: SGD-type noise τ ∝ 1/k; white noise log τ grows with k.

    See docs/theory.md §Criterion and sharpness.
    """
    eta, lam, D, radius = 0.02, 25.0, 0.25, 1.0
    logs, refs, rows, ok_points = {}, {}, [], True
    for noise, k, kw in (("hessian_fixed", 1, {"batch_size": 1, "loss_unit": lam}),
                         ("hessian_fixed", 4, {"batch_size": 1, "loss_unit": lam}),
                         ("white", 1, {"temperature": D}), ("white", 2, {"temperature": D})):
        r = _simulate(sharpened(QUADRATIC, k), [0.0], noise=noise, criterion="radius", radius=radius,
                   eta=eta, n_runs=n, max_steps=12_000, seed=SEEDS["c11"] + k, **kw)
        T = r.escape_time[r.escaped]
        d_sde = eta * lam * k / 2 if noise == "hessian_fixed" else D          # D = ηλH/(2B)
        # discrete-chain temperature (docs/theory.md §Discretisation)
        d_eff = d_sde / (1 - eta * k / 2)
        ref = mfpt_1d(lambda t, k=k: 0.5 * k * t**2, lambda t, k=k: k * t, d_eff, start=1e-9, absorbing=radius,
                      left=0.0, left_kind="reflecting").escape_time   # reflecting at 0 = symmetric ball
        m, s = float(T.mean()), float(T.std() / math.sqrt(T.size))
        ok_points &= bool(abs(m - ref) <= Z_TOL * s and r.n_escaped == n)
        logs[noise, k] = (math.log(m), s / m)
        refs[noise, k] = ref
        rows.append(["C11", f"{noise}, k = {k}: mean exit time", f"{m:.4g} ± {s:.2g} (s.e.)", f"{ref:.4g}",
                     f"{m / ref - 1:+.2%}"])
    sgd = logs["hessian_fixed", 4][0] + math.log(4) - logs["hessian_fixed", 1][0]
    sgd_se = math.hypot(logs["hessian_fixed", 4][1], logs["hessian_fixed", 1][1])
    white = logs["white", 2][0] - logs["white", 1][0]
    white_se = math.hypot(logs["white", 2][1], logs["white", 1][1])
    v1 = Verdict(claim="Radius exit, SGD-type noise: k·τ independent of k (polynomial sharpness dependence)",
                 measured=f"log(4τ₄/τ₁) = {fmt_pm(sgd, sgd_se)}", predicted="0 (up to the ηkh/2 temperature shift)",
                 tolerance=f"±{0.06 + Z_TOL * sgd_se:.3f} (0.06 + {Z_TOL:g} s.e.)",
                 passed=bool(abs(sgd) <= 0.06 + Z_TOL * sgd_se and ok_points), check="C11", value=sgd, stderr=sgd_se,
                 expected=0.0, details="every mean exit time also matches the OU quadrature within 4 s.e.")
    white_pred = math.log(refs["white", 2] / refs["white", 1])
    v2 = Verdict(claim="Radius exit, white noise: log τ grows with k (exponential sharpness dependence)",
                 measured=f"log(τ₂/τ₁) = {fmt_pm(white, white_se)}",
                 predicted=f"{white_pred:.3f} (OU quadrature at the discrete-chain temperature, costs 2 → 4)",
                 tolerance=f"within {Z_TOL:g} s.e. of the prediction and more than {Z_TOL:g} s.e. above 0",
                 passed=bool(abs(white - white_pred) <= Z_TOL * white_se and white > Z_TOL * white_se),
                 check="C11", value=white, stderr=white_se, expected=white_pred,
                 details=f"quadratic (h = 1) sharpened by k, radius {radius}, η = {eta}, λ = {lam}, D = {D}, "
                         f"{n} runs each, seeds {SEEDS['c11']}+k; at k = 1 both noises are the same "
                         f"process (ηλ/2 = D = 0.25) with the same seed, so their k = 1 runs coincide")
    return [v1, v2], rows


# --------------------------------------------------------------------------- C12 (T4)
def check_c12() -> tuple[Verdict, Table]:
    rows, worst = [], 0.0
    for eps, (expo, want) in T4.items():
        mori = lambda t: _u(t) + 0.3           # noqa: E731  L_a = 0.05, L_b = 0.3
        res = mfpt_1d(mori, _du, lambda t, eps=eps: eps * mori(t), start=-1.0, absorbing=1.0, convention="ito")
        log_mori = math.log(2 * math.pi / math.sqrt(2)) + (1 / eps + 0.5) * math.log(6.0)
        ratio = math.exp(res.log_escape_time - log_mori)
        worst = max(worst, abs(ratio / want - 1))
        rows.append([f"{math.log(6.0) / eps:.1f}", expo, f"{ratio:.4f}", want])
    table = Table(name="t4", columns=["exponent (here)", "exponent (T4)", "ratio (here)", "ratio (T4)"], rows=rows,
                  caption="docs/theory.md table T4: Mori-type D = εL on θ⁴/4 − θ²/2 + 0.3, Itô; exact MFPT from −1 "
                          "to +1 by quadrature divided by (2π/√2)(L_b/L_a)^{1/ε+1/2}; ε = 0.05, 0.03, 0.02, 0.01.")
    v = Verdict(claim="Quadrature with D = εL reproduces table T4 within 1.5%", measured=f"worst relative Δ {worst:.1e}",
                predicted="docs/theory.md table T4", tolerance="1.5%", passed=bool(worst <= 0.015), check="C12",
                value=worst, expected=0.0)
    return v, table


# --------------------------------------------------------------------------- C15
def check_c15() -> tuple[list[Verdict], list]:
    land = build_landscape("double-well")
    base = dict(noise="white", criterion="dividing_surface", n_runs=4, max_steps=10, seed=0, temperature=0.1)
    refused = []
    for lnd, start, eta in ((land, [-1.0], 1.0), (sharpened(land, 4.0), [-0.5], 0.3)):
        try:
            _simulate(lnd, start, eta=eta, **base)
            refused.append(False)
        except ValueError as err:
            refused.append("eta·λ_max" in str(err))
    ok = _simulate(land, [-1.0], eta=0.1, **base)
    bad = _simulate(land, [-1.0], eta=0.15, **base)
    flagged = (not ok.discretization_dominated and bad.discretization_dominated
               and any("discretization-dominated" in s for s in bad.notes))
    v1 = Verdict(claim="The guard refuses η·λ_max(H_a) ≥ 2 (after k-scaling)",
                 measured=f"η·λ_max = 2 (k = 1): {'refused' if refused[0] else 'accepted'}; "
                          f"η = 0.3 at k = 4 (η·λ_max = 2.4): {'refused' if refused[1] else 'accepted'}",
                 predicted="refused (docs/theory.md §Discretisation)", tolerance="exact", passed=all(refused),
                 check="C15")
    v2 = Verdict(claim="Runs with η·λ_max > 0.2 are labelled discretization-dominated",
                 measured=f"η·λ_max = {ok.eta_lambda_max:.2g}: flag {ok.discretization_dominated}; "
                          f"{bad.eta_lambda_max:.2g}: flag {bad.discretization_dominated}",
                 predicted="False at 0.2, True at 0.3", tolerance="exact", passed=bool(flagged), check="C15")
    rows = [["C15", "η·λ_max = 2 refused", "yes" if refused[0] else "no", "yes", "exact"],
            ["C15", "η·λ_max = 0.3 flagged", "yes" if bad.discretization_dominated else "no", "yes", "exact"]]
    return [v1, v2], rows


# --------------------------------------------------------------------------- the suite
def run(out, *, size: str = "default", workers=None, executor=None, resume: bool = False, progress=None) -> SuiteResult:
    """Run the conventions suite and return its result (not yet saved; ``out`` is recorded only)."""
    if size not in SIZES:
        raise InputError(f"unknown size {size!r} for suite conventions; allowed: {', '.join(SIZES)}")
    n = N[size]
    started = time.time()
    timings = {}
    result = SuiteResult(suite="conventions", size=size,
                         title="Conventions: exact and SE-based checks of the diffusion theory's constants",
                         criteria=CRITERIA)
    summary = []

    show = sys.stderr.isatty() if progress is None else bool(progress)

    def step(name, fn, *args):
        t0 = time.time()
        if show:
            print(f"conventions: {name}", file=sys.stderr)
        value = fn(*args)
        timings[name] = round(time.time() - t0, 1)
        return value

    v, rows = step("C1", check_c1, n["c1"])
    result.verdicts.append(v)
    summary += rows
    vs, t1 = step("C2", check_c2)
    result.verdicts += vs
    result.tables.append(t1)
    vs, rows = step("C3", check_c3, n["c3"])
    result.verdicts += vs
    summary += rows
    vs, rows = step("C6", check_c6)
    result.verdicts += vs
    summary += rows
    vs, t3 = step("C9", check_c9)
    result.verdicts += vs
    result.tables.append(t3)
    vs, t10 = step("C10", check_c10, n["c10"])
    result.verdicts += vs
    result.tables.append(t10)
    vs, rows = step("C11", check_c11, n["c11"])
    result.verdicts += vs
    summary += rows
    v, t4 = step("C12", check_c12)
    result.verdicts.append(v)
    result.tables.append(t4)
    vs, rows = step("C15", check_c15)
    result.verdicts += vs
    summary += rows
    result.tables.insert(0, Table(
        name="measurements", columns=["check", "quantity", "measured", "reference", "relative deviation"], rows=summary,
        caption="Monte Carlo measurements and exact identities. Means ± one standard error (s.e. = sample "
                "standard deviation/√n); references are closed forms (docs/theory.md §Discretisation) or exact "
                "quadrature (numerics.reference.mfpt_1d, docs/theory.md §Exact references), and the printed values "
                "of docs/theory.md table T2 where they exist."))
    result.sections.append({"title": "Set-up", "text": (
        "Double well L = θ⁴/4 − θ²/2 (ΔL = 1/4, H_a = 2, |H_b| = 1), started at θ = −1. Quadrature: "
        "`numerics.reference.mfpt_1d` in log space (docs/theory.md §Exact references), reflecting far left. "
        "Monte Carlo: "
        "`numerics.simulate.simulate_escape` (compiled kernel for white noise on `double-well`); exit through "
        "θ = +1 with the Brownian-bridge correction unless a radius exit is stated. Time is SDE time t = step·η. "
        f"Seeds: {SEEDS}.")})
    result.laws = ["kramers"]
    result.provenance = {"versions": versions(), "wall_seconds": round(time.time() - started, 1),
                         "seconds_per_check": timings, "size": size, "runs": n, "seeds": SEEDS,
                         "out": str(out), "workers": "unused (runs in-process; the compiled kernel threads)"}
    return result
