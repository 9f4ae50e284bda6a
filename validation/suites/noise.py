"""The ``noise`` suite: is SGD's gradient noise Gaussian, and is its covariance H/B? (docs/theory.md §C17, §C18).

The paper's two claims about the gradient noise (Gaussian across minibatch draws; C ≈ H/B near a minimum)
on a small tanh MLP trained on scikit-learn's ``digits``, with the protocol of docs/theory.md
§Gradient-noise measurements:

1. **Minimum.** The MLP loss L(θ) = (1/m) Σ_j ℓ_j(θ) with weight decay (``numerics.mlp``) is minimised:
   L-BFGS with the hand-written full-batch gradient as a warm start, then ``numerics.critical.find_minimum``
   (quasi-Newton plus Newton polish, Hessian-index check). The gradient norm at θ* is reported.
2. **C18 Gaussianity.** At θ*, ``n_draws`` minibatches of size B are drawn *without* replacement (as
   shuffling SGD does) for each B; the stochastic gradient noise ξ = g_B − ∇L is projected onto
   random unit directions and onto the top Hessian eigenvectors. Each projection is tested for
   normality (Anderson–Darling, 1% level) and its tail index α is estimated *across draws* (Xie's
   protocol) with the Mohammadi–Mohammadpour–Ogata (MMO) estimator, error bars by bootstrap over
   draws. The same draws give α *across pooled coordinates* (Şimşekli et al.'s protocol): the P
   coordinates of one draw's ξ are treated as one sample.
3. **C17 C against H/B.** The exact noise covariance C_B (``numerics.samples.gradient_noise_covariance``,
   with and without replacement) against the exact Hessian H: the slope of log(B·C_ii) against
   log H_ii, the Rayleigh ratios vᵀ(B·C)v / vᵀHv on the top Hessian eigenvectors, and the invariance
   of B·C_B across B after the (m − B)/(m − 1) correction, checked on sampled minibatches.

Weight decay. Every ℓ_j carries the same (wd/2)|θ|², so it adds wd·θ to every per-sample gradient
and cancels from ξ and from C; it adds wd·I to H. The empirical Fisher B·C (with replacement) is
therefore compared with the Hessian of the *unregularised* loss, H − wd·I, as well as with H.

Everything runs in one process and is deterministic given the seeds below; ``workers``, ``executor``
are accepted for the common suite signature and not used. ``OUT/noise-minimum-seed<k>.npz`` caches
each trained minimum; with ``resume=True`` a cached minimum of the same model spec is reused.

The estimators live in sibling modules and are re-exported here: ``noise_gaussianity`` (Anderson–Darling,
MMO tail index; C18), ``noise_sampling`` (minibatch draws of ξ) and ``noise_covariance`` (C against H; C17).

References
----------
docs/theory.md §SGD noise (C with and without replacement), §Hessian noise and the loss unit (C ≈ H/B and
its caveats), §Gradient-noise measurements (protocol; Şimşekli's tail index and the MMO estimator), checks
C17, C18.
"""
from __future__ import annotations

import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from flatminima.errors import InputError
from flatminima.numerics.critical import find_minimum
from flatminima.numerics.mlp import initial_theta, mlp_minibatch_grad, mlp_model
from flatminima.numerics.names import build_landscape
from flatminima.numerics.samples import gradient_noise_covariance, per_sample_gradients
from flatminima.validation.suite import Figure, SuiteResult, Table, Verdict, fmt_pm
from flatminima.validation.suites.noise_covariance import (
    H_FLOOR_REL, CovarianceComparison, DiagonalScaling, compare_covariance_hessian, diagonal_scaling,
)
from flatminima.validation.suites.noise_gaussianity import (
    AD_LEVEL, AndersonDarling, TailIndex, anderson_darling_normal, mmo_inverse_alpha, tail_index_across_draws,
    tail_index_pooled,
)
from flatminima.validation.suites.noise_sampling import minibatch_indices, minibatch_noise
from flatminima.validation.verdicts import Z_TOL

__all__ = [
    "SIZES", "CONFIGS", "NoiseConfig", "run",
    "AndersonDarling", "anderson_darling_normal",
    "TailIndex", "mmo_inverse_alpha", "tail_index_across_draws", "tail_index_pooled",
    "minibatch_indices", "minibatch_noise",
    "DiagonalScaling", "diagonal_scaling", "CovarianceComparison", "compare_covariance_hessian",
]

SUITE = "noise"
# Fixed entropy of every random choice of the suite (directions, minibatch draws, bootstrap); the training
# seeds of the MLP are listed per size.
SEED = 20210503
# A verdict over n AD tests fails when the rejections exceed the 99th percentile of Binomial(n, 1%), the
# count that n Gaussian projections would exceed by chance with probability ≤ 1%.
FAMILY_QUANTILE = 0.99
# Sampling checks (Monte Carlo against an exact value) fail beyond this many standard errors.
# C17 magnitude check [D, project choice]: vᵀ(B·C)v / vᵀ(H − wd·I)v within this band counts as "C ≈ H/B".
RATIO_BAND = (0.5, 2.0)
# Eigenvalues of B·C below this fraction of the largest are float round-off (B·C is PSD and rank-deficient).
SPECTRUM_ROUNDOFF = 1e-12


@dataclass(frozen=True)
class NoiseConfig:
    """The sizes of one run of the suite.

    Attributes
    ----------
    hidden : str
        Hidden-layer widths of the MLP (``numerics.mlp.parse_hidden``).
    n_samples : int
        m, rows of ``digits`` used (0 = all 1797). Must exceed the largest batch size of ``cov_batch_sizes``.
    weight_decay : float
        wd of (wd/2)|θ|² in every ℓ_j.
    train_seeds : tuple of int
        Seeds of ``initial_theta``; the first gives the minimum analysed in full, the others (if any) the
        robustness table of the diagonal slope across minima.
    gauss_batch_sizes : tuple of int
        B's of the Gaussianity and tail-index analysis (C18).
    cov_batch_sizes : tuple of int
        B's of the B·C invariance check (C17).
    n_draws : int
        Minibatch draws per B.
    n_random : int
        Random unit directions for the projections.
    n_top : int
        Top Hessian eigenvectors used as projections and for the Rayleigh ratios.
    n_boot : int
        Bootstrap replicates of each across-draws tail index.
    data_seed : int
        Seed of the row subset of ``digits``.
    """

    hidden: str
    n_samples: int
    weight_decay: float
    train_seeds: tuple
    gauss_batch_sizes: tuple
    cov_batch_sizes: tuple
    n_draws: int
    n_random: int
    n_top: int
    n_boot: int
    data_seed: int = 0

    @property
    def spec(self) -> str:
        """The landscape spec for ``numerics.names.build_landscape``."""
        return (f"mlp:data=digits,hidden={self.hidden},activation=tanh,loss=cross_entropy,"
                f"weight_decay={self.weight_decay!r},n_samples={self.n_samples},seed={self.data_seed}")


CONFIGS = {
    # For the tests: P = 65·2 + 3·10 = 160 parameters (dense Hessian path), one B for C18.
    "tiny": NoiseConfig(hidden="2", n_samples=300, weight_decay=1e-2, train_seeds=(0,),
                        gauss_batch_sizes=(32,), cov_batch_sizes=(8, 32, 128), n_draws=2000, n_random=4,
                        n_top=2, n_boot=100),
    # P = 65·8 + 9·10 = 610 parameters; m = 1000 > 512 so that B = 8 … 512 can be drawn without replacement.
    "default": NoiseConfig(hidden="8", n_samples=1000, weight_decay=1e-3, train_seeds=(0,),
                           gauss_batch_sizes=(32, 64, 128), cov_batch_sizes=(8, 16, 32, 64, 128, 256, 512),
                           n_draws=2000, n_random=8, n_top=3, n_boot=200),
    # all 1797 rows, more draws and directions, three independently trained minima.
    "full": NoiseConfig(hidden="8", n_samples=0, weight_decay=1e-3, train_seeds=(0, 1, 2),
                        gauss_batch_sizes=(32, 64, 128, 256), cov_batch_sizes=(8, 16, 32, 64, 128, 256, 512),
                        n_draws=5000, n_random=16, n_top=5, n_boot=400),
}

SIZES = {
    "tiny": "~10 s on 2 cores (test size: MLP 64-2-10, m = 300; measured 7 s)",
    "default": "~1 min on 2 cores (MLP 64-8-10, P = 610, m = 1000; measured 41 s alone, 65 s on a loaded machine)",
    "full": "~10 min on 2 cores (all 1797 rows, three trained minima, 5000 draws per B; measured 577 s)",
}


# ------------------------------------------------------------------------------------------ the run
def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"[noise] {message}", file=sys.stderr, flush=True)


def _rng(*keys: int) -> np.random.Generator:
    """An independent stream per stage and batch size (SeedSequence entropy SEED plus the stage keys)."""
    return np.random.default_rng(np.random.SeedSequence([SEED, *map(int, keys)]))


def _train(landscape, seed: int, out: Path, resume: bool, progress: bool) -> tuple[np.ndarray, dict]:
    """θ* from ``initial_theta(seed)``: L-BFGS warm start with the hand-written gradient, then find_minimum."""
    cache = out / f"noise-minimum-seed{int(seed)}.npz"
    if resume and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["spec"]) == landscape.name:
                _say(progress, f"reusing the minimum of seed {seed} from {cache}")
                theta = np.array(z["theta"])
                info = {"seed": int(seed), "cached": True, "warm_start_iterations": int(z["warm_start_iterations"]),
                        "train_seconds": float(z["train_seconds"])}
                return theta, info
    t0 = time.perf_counter()
    m = landscape.n_samples
    every = np.arange(m)[:, None]

    def value_and_grad(t):
        return landscape.value(t), mlp_minibatch_grad(landscape, t[None, :], every)[0]

    _say(progress, f"training seed {seed}: L-BFGS warm start")
    with np.errstate(all="ignore"):
        res = optimize.minimize(value_and_grad, initial_theta(landscape, seed), jac=True, method="L-BFGS-B",
                                options={"maxiter": 20_000, "gtol": 1e-10, "ftol": 1e-15})
    _say(progress, f"training seed {seed}: find_minimum (Newton polish, index check)")
    theta = find_minimum(landscape, res.x)
    secs = time.perf_counter() - t0
    np.savez(cache, theta=theta, spec=np.array(landscape.name), warm_start_iterations=int(res.nit),
             train_seconds=secs)
    return theta, {"seed": int(seed), "cached": False, "warm_start_iterations": int(res.nit), "train_seconds": secs}


def _c18_text(records: list, cfg: NoiseConfig, share: float) -> str:
    """A paragraph on the Gaussianity results: rejections and excess kurtosis per B, against the CLT's 1/B."""
    parts = []
    heavy = sum(r["tail"].alpha < 2.0 - Z_TOL * r["tail"].alpha_stderr for r in records)
    for B in cfg.gauss_batch_sizes:
        rec = [r for r in records if r["B"] == B]
        top = [r["kurtosis"] for r in rec if r["direction"].startswith("Hessian")]
        rnd = [r["kurtosis"] for r in rec if r["direction"].startswith("random")]
        parts.append(f"B = {B}: {sum(r['ad'].rejected for r in rec)}/{len(rec)} rejected, median excess kurtosis "
                     f"{np.median(top):.2g} (top Hessian directions) and {np.median(rnd):.2g} (random)")
    return (f"Anderson–Darling on {cfg.n_draws} draws per projection: " + "; ".join(parts) + ". For a mean of B i.i.d. per-sample terms the excess kurtosis is κ₁/B (κ₁ that of "
            "one per-sample gradient projection; approximately so without replacement), so it shrinks with B as the "
            "central limit theorem says; whether a given B is 'Gaussian enough' for the test depends on κ₁, which is "
            "large when a few samples carry much of the gradient noise (here the top 1% of samples carry "
            f"{share:.0%} of tr(B·C)). "
            f"Tail indices across draws: {heavy} of {len(records)} lie more than {Z_TOL:g} standard errors below 2 "
            "(an α-stable-like tail); the others are compatible with a finite-variance excess kurtosis. The "
            "pooled-coordinate estimates answer a different question (see the tail-index table).")


def _fmt(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}" if x is not None and np.isfinite(x) else "n/a"


def run(out, *, size: str = "default", workers=None, executor=None, resume: bool = False,
        progress=None) -> SuiteResult:
    """Run the noise suite (docs/theory.md §C17, §C18) and save ``OUT/result.json``.

    Parameters
    ----------
    out : path
        Results folder (created); holds the cached minima and ``result.json``.
    size : str
        A key of ``SIZES``: ``"tiny"`` (tests), ``"default"``, ``"full"``.
    workers, executor
        Accepted for the common suite signature; the suite runs in one process.
    resume : bool
        Reuse cached minima of the same model spec.
    progress : bool, optional
        Stage messages on stderr; default when stderr is a terminal.

    Returns
    -------
    SuiteResult
    """
    if size not in CONFIGS:
        raise InputError(f"unknown size {size!r} for the noise suite; choose one of {', '.join(CONFIGS)}")
    cfg = CONFIGS[size]
    progress = sys.stderr.isatty() if progress is None else bool(progress)
    wall0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    landscape = build_landscape(cfg.spec)
    model = mlp_model(landscape)
    m, P, wd = int(landscape.n_samples), int(landscape.dim), float(cfg.weight_decay)
    if max(cfg.cov_batch_sizes) >= m or max(cfg.gauss_batch_sizes) >= m:
        raise InputError(f"batch sizes must stay below m = {m} (drawn without replacement)")

    minima = [_train(landscape, s, out, resume, progress) for s in cfg.train_seeds]
    theta, train_info = minima[0]
    timings = {"train_seconds": sum(i["train_seconds"] for _, i in minima)}

    # ---------------------------------------------------------------- the minimum
    t0 = time.perf_counter()
    _say(progress, "Hessian, per-sample gradients and C_B at the minimum")
    H = landscape.hessian(theta)
    H = 0.5 * (H + H.T)
    grad_norm = float(np.linalg.norm(landscape.grad(theta)))
    loss = float(landscape.value(theta))
    data_loss = loss - 0.5 * wd * float(theta @ theta)
    G = per_sample_gradients(landscape, theta, np.arange(m))
    centred = G - G.mean(axis=0)
    comp = compare_covariance_hessian(landscape, theta, weight_decay=wd, n_top=cfg.n_top, hessian=H)
    w, V = comp.eigenvalues, comp.eigenvectors
    S = comp.scaled_cov
    noisy = np.diag(S) > 0                          # coordinates with any gradient noise at all
    per_sample = np.sort(np.sum(centred**2, axis=1))[::-1]     # |∇ℓ_j − ∇L|², largest first; sum/m = tr(B·C)
    top_share = float(per_sample[:max(1, m // 100)].sum() / per_sample.sum())
    timings["hessian_covariance_seconds"] = time.perf_counter() - t0
    accuracy = float(np.mean(np.argmax(model._logits(theta[:, None], model.X)[0], axis=1) == model.y))

    # ---------------------------------------------------------------- C18: Gaussianity and tail index
    t0 = time.perf_counter()
    _say(progress, "C18: minibatch draws, Anderson–Darling, tail indices")
    dirs_rng = _rng(1)
    R = dirs_rng.standard_normal((P, cfg.n_random))
    R /= np.linalg.norm(R, axis=0)
    # fixed coordinates (Xie's "fixed coordinate" across draws): the noisiest one and the median one
    order = np.argsort(np.diag(S))
    coords = [int(order[-1]), int(order[noisy.sum() // 2 + (P - noisy.sum())])]
    directions = np.column_stack([V[:, :cfg.n_top], R, np.eye(P)[:, coords]])
    dir_names = ([f"Hessian v{i + 1}" for i in range(cfg.n_top)] + [f"random u{i + 1}" for i in range(cfg.n_random)]
                 + [f"coordinate {coords[0]} (largest C_ii)", f"coordinate {coords[1]} (median C_ii)"])
    gauss_rows, tail_rows, gauss_records = [], [], []
    hist_values = {}
    for B in cfg.gauss_batch_sizes:
        xi = minibatch_noise(centred, B, cfg.n_draws, rng=_rng(2, B))       # (n_draws, P), without replacement
        proj = xi @ directions
        exact_var = np.einsum("pk,pq,qk->k", directions, S, directions) / B * (m - B) / (m - 1)
        boot_rng = _rng(3, B)
        alphas = []
        for k, name in enumerate(dir_names):
            ad = anderson_darling_normal(proj[:, k])
            ti = tail_index_across_draws(proj[:, k], rng=boot_rng, n_boot=cfg.n_boot)
            alphas.append(ti)
            sd = float(np.std(proj[:, k]))
            gauss_records.append({"B": B, "direction": name, "ad": ad, "kurtosis": float(stats.kurtosis(proj[:, k])),
                                  "tail": ti})
            gauss_rows.append([B, name, round(ad.statistic, 4), round(ad.critical_value, 4), ad.p_value, ad.rejected,
                               float(stats.skew(proj[:, k])), float(stats.kurtosis(proj[:, k])),
                               sd / math.sqrt(exact_var[k]), ti.alpha, ti.alpha_stderr])
        hist_values[B] = (proj[:, 0], float(math.sqrt(exact_var[0])), proj[:, cfg.n_top],
                          float(math.sqrt(exact_var[cfg.n_top])))
        groups = (("across draws, top Hessian directions", alphas[:cfg.n_top]),
                  ("across draws, random directions", alphas[cfg.n_top:cfg.n_top + cfg.n_random]),
                  ("across draws, fixed coordinates", alphas[cfg.n_top + cfg.n_random:]))
        for label, group in groups:
            a = np.array([t.alpha for t in group])
            se = math.sqrt(np.sum(np.array([t.alpha_stderr for t in group]) ** 2)) / len(group)
            tail_rows.append([B, label, float(a.mean()), se, len(group), group[0].n,
                              f"mean of {len(group)} per-projection MMO estimates; s.e. from their bootstrap s.e.s"])
        pool_rng = _rng(4, B)
        for std in (False, True):
            ti = tail_index_pooled(xi[:, noisy], rng=pool_rng, standardise=std)
            tail_rows.append([B, "pooled coordinates, " + ("standardised" if std else "raw (Şimşekli)"), ti.alpha,
                              ti.alpha_stderr, cfg.n_draws, ti.n, ti.method])
    timings["gaussianity_seconds"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- C17: B·C across B
    t0 = time.perf_counter()
    _say(progress, "C17: B·C_B across batch sizes, exact and sampled")
    inv_rows, inv_z, mc_corrected = [], [], []
    exact_uncorrected = []
    tr_S = float(np.trace(S))
    v1 = V[:, 0]
    v1S = float(v1 @ S @ v1)
    for B in cfg.cov_batch_sizes:
        c_with = gradient_noise_covariance(landscape, theta, B, replacement=True)
        c_without = gradient_noise_covariance(landscape, theta, B, replacement=False)
        corr = (m - 1) / (m - B)
        tr_with, tr_without = B * float(np.trace(c_with)), B * float(np.trace(c_without))
        exact_uncorrected.append(tr_without)
        xi = minibatch_noise(centred, B, cfg.n_draws, rng=_rng(5, B))
        sq = B * corr * np.sum(xi**2, axis=1)           # unbiased for tr(S) per draw (ξ has mean zero exactly)
        pv = B * corr * (xi @ v1) ** 2
        est_tr, se_tr = float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(sq.size))
        est_v, se_v = float(pv.mean()), float(pv.std(ddof=1) / math.sqrt(pv.size))
        z_tr, z_v = (est_tr - tr_S) / se_tr, (est_v - v1S) / se_v
        inv_z += [z_tr, z_v]
        mc_corrected.append(est_tr)
        inv_rows.append([B, tr_with, tr_without, tr_without * corr, est_tr, se_tr, z_tr,
                         B * corr * float(v1 @ c_without @ v1), est_v, se_v, z_v])
    spread_uncorrected = float(np.ptp(exact_uncorrected) / np.mean(exact_uncorrected))
    spread_mc = float(np.ptp(mc_corrected) / np.mean(mc_corrected))
    timings["invariance_seconds"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- other minima (full size)
    minima_rows = []
    for th, info in minima:
        if th is theta:
            c = comp
        else:
            _say(progress, f"C17 at the minimum of seed {info['seed']}")
            c = compare_covariance_hessian(landscape, th, weight_decay=wd, n_top=cfg.n_top)
        d = c.diag_h_data
        minima_rows.append([info["seed"], float(landscape.value(th)), float(np.linalg.norm(landscape.grad(th))),
                            d.fit.slope, d.ci[0], d.ci[1], d.ratio_median, c.rayleigh[0]["ratio_data"]])

    # ---------------------------------------------------------------- verdicts
    verdicts = []
    n_tests = len(gauss_records)
    n_rej = sum(r["ad"].rejected for r in gauss_records)
    allowed = int(stats.binom.ppf(FAMILY_QUANTILE, n_tests, AD_LEVEL))
    per_b = ", ".join(f"B={B}: {sum(r['ad'].rejected for r in gauss_records if r['B'] == B)}/"
                      f"{sum(1 for r in gauss_records if r['B'] == B)}" for B in cfg.gauss_batch_sizes)
    top_rej = sum(r["ad"].rejected for r in gauss_records if r["direction"].startswith("Hessian"))
    rnd_rej = sum(r["ad"].rejected for r in gauss_records if r["direction"].startswith("random"))
    coord_rej = n_rej - top_rej - rnd_rej
    verdicts.append(Verdict(
        claim=f"SGN projections are Gaussian for B ≥ {min(cfg.gauss_batch_sizes)} (Anderson–Darling at 1%)",
        measured=f"{n_rej} of {n_tests} projections rejected at 1% ({per_b}; top-Hessian {top_rej}, random {rnd_rej}, coordinates {coord_rej})",
        predicted=f"Gaussian: about {n_tests * AD_LEVEL:.2g} rejections by chance",
        tolerance=f"≤ {allowed} rejections (99th percentile of Binomial({n_tests}, 0.01))",
        passed=bool(n_rej <= allowed), check="C18", value=float(n_rej), expected=n_tests * AD_LEVEL,
        details=(f"{cfg.n_draws} minibatch draws without replacement per B; directions: top {cfg.n_top} Hessian "
                 f"eigenvectors, {cfg.n_random} random unit vectors and 2 fixed coordinates; see the Gaussianity table")))

    dd = comp.diag_h_data
    ci_text = f"{dd.fit.slope:.3g} (95% CI [{dd.ci[0]:.3g}, {dd.ci[1]:.3g}])"
    verdicts.append(Verdict(
        claim="C_ii ∝ H_ii near a minimum (Xie: slope of log(B·C_ii) on log(H_ii − wd) equals 1)",
        measured=ci_text + f", n = {dd.fit.n} parameters, R² = {dd.fit.r_squared:.3f}",
        predicted="1", tolerance="1 inside the 95% CI of the OLS slope", passed=dd.supports_xie, check="C17",
        value=dd.fit.slope, stderr=dd.fit.slope_stderr, expected=1.0,
        details=(f"against H_ii (weight decay included) the slope is {comp.diag_h.fit.slope:.3g} "
                 f"(95% CI [{comp.diag_h.ci[0]:.3g}, {comp.diag_h.ci[1]:.3g}])")))
    verdicts.append(Verdict(
        claim="Zhang–Yang–Tu: C_ii ∝ H_ii^γ with 1 ≤ γ ≤ 2",
        measured=ci_text, predicted="γ ∈ [1, 2]", tolerance="the 95% CI overlaps [1, 2]",
        passed=dd.supports_zyt, check="C17", value=dd.fit.slope, stderr=dd.fit.slope_stderr, expected=1.5))
    ratios = np.array([r["ratio_data"] for r in comp.rayleigh])
    verdicts.append(Verdict(
        claim="C ≈ H/B in magnitude: vᵀ(B·C)v ≈ vᵀ(H − wd·I)v on the top Hessian eigenvectors",
        measured=f"ratios {', '.join(_fmt(r, 3) for r in ratios)} (exact at θ*)",
        predicted="1 (loss unit λ = 1 for a negative log-likelihood, docs/theory.md §Hessian noise and the loss "
                  "unit)",
        tolerance=f"every ratio within [{RATIO_BAND[0]}, {RATIO_BAND[1]}]",
        passed=bool(np.all((ratios >= RATIO_BAND[0]) & (ratios <= RATIO_BAND[1]))), check="C17",
        value=float(np.median(ratios)), expected=1.0,
        details=f"median diagonal ratio B·C_ii/(H_ii − wd) = {dd.ratio_median:.3g}"))
    max_z = float(np.max(np.abs(inv_z)))
    verdicts.append(Verdict(
        claim=f"B·C_B is invariant across B ∈ {{{', '.join(map(str, cfg.cov_batch_sizes))}}} after the (m−B)/(m−1) correction",
        measured=(f"sampled corrected tr(B·C_B) and v1ᵀ(B·C_B)v1 agree with the B-free value, max |z| = {max_z:.2f}; "
                  f"relative spread of sampled tr: {spread_mc:.3g}, of uncorrected exact tr: {spread_uncorrected:.3g}"),
        predicted="z ~ N(0, 1); corrected spread 0 up to sampling error",
        tolerance=f"every |z| < {Z_TOL:g}", passed=bool(max_z < Z_TOL), check="C17", value=max_z, expected=0.0,
        details=f"{cfg.n_draws} draws without replacement per B; s.e. from the spread of per-draw values"))

    # ---------------------------------------------------------------- tables
    tables = []
    tables.append(Table(
        name="minimum", columns=["quantity", "value", "how it was made"],
        rows=[["model", landscape.description, cfg.spec],
              ["parameters P", P, "65·h + (h+1)·10 weights and biases"],
              ["samples m", m, f"rows of digits (subset seed {cfg.data_seed})" if cfg.n_samples else "all rows"],
              ["L(θ*)", loss, "mean cross-entropy + (wd/2)|θ|²"],
              ["data loss", data_loss, "mean cross-entropy at θ*"],
              ["training accuracy", accuracy, "argmax of the logits"],
              ["|∇L(θ*)|", grad_norm, "autograd gradient at θ* (find_minimum: L-BFGS then Newton polish)"],
              ["warm-start L-BFGS iterations", train_info["warm_start_iterations"], "hand-written full-batch gradient"],
              ["λ_max(H)", float(w[0]), "numpy.linalg.eigh of the autograd Hessian"],
              ["λ_min(H)", float(w[-1]), "numpy.linalg.eigh of the autograd Hessian"],
              ["weight decay wd", wd, "adds wd·I to H, nothing to C"],
              ["parameters with zero noise", int(P - noisy.sum()), "C_ii = 0 (constant pixels: H_ii = wd)"],
              ["share of tr(B·C) from the top 1% of samples", top_share,
               f"largest {max(1, m // 100)} of the m values |∇ℓ_j − ∇L|²"]],
        caption=f"The minimum θ* analysed (training seed {train_info['seed']})."))
    tables.append(Table(
        name="gaussianity",
        columns=["B", "direction", "AD statistic", "1% critical value", "p (interpolated)", "rejected at 1%",
                 "skewness", "excess kurtosis", "sd / exact sd", "alpha across draws", "alpha s.e."],
        rows=gauss_rows,
        caption=(f"C18: projections ⟨ξ, v⟩ of {cfg.n_draws} minibatch noise draws (without replacement) per B. "
                 "AD: scipy.stats.anderson with the 1% critical value of D'Agostino & Stephens (1986, Table 4.7); "
                 "the p-value is interpolated in the same tables and clipped to their range. 'sd / exact sd' compares "
                 "the sample sd with √(vᵀC_Bv) from the exact covariance. α: MMO estimator across draws, "
                 f"bootstrap s.e. ({cfg.n_boot} resamples); α = 2 is Gaussian, α > 2 is finite-sample scatter.")))
    tables.append(Table(
        name="tail_index", columns=["B", "estimator", "alpha", "alpha s.e.", "estimates", "values per estimate", "method"],
        rows=tail_rows,
        caption=("Tail index α (MMO estimator, docs/theory.md §Gradient-noise measurements) across minibatch draws "
                 "of fixed projections (Xie's protocol) and across the pooled coordinates of each draw's noise "
                 "vector (Şimşekli et al.'s protocol), raw and standardised per coordinate. docs/theory.md §C18: the "
                 "two need not agree — pooling coordinates of different scales gives a heavy-tailed scale mixture "
                 "even when each coordinate is Gaussian.")))
    dh = comp.diag_h
    tables.append(Table(
        name="diagonal_fit",
        columns=["regressor h", "parameters used", "left out", "slope γ", "95% CI low", "95% CI high", "R²",
                 "exp(median log(B·C_ii/h))", "1 in CI (Xie)", "CI overlaps [1, 2] (Zhang–Yang–Tu)"],
        rows=[[d.regressor, int(d.used.sum()), int(P - d.used.sum()), d.fit.slope, d.ci[0], d.ci[1], d.fit.r_squared,
               d.ratio_median, d.supports_xie, d.supports_zyt] for d in (dd, dh)],
        caption=("C17: OLS fit of log(B·C_ii) on log h_i over the parameters with h_i > "
                 f"{H_FLOOR_REL:g}·max h and C_ii > 0; B·C is the exact per-sample gradient covariance "
                 "(gradient_noise_covariance with replacement, times B). C and H are exact at θ*; the CI "
                 "measures the scatter about one power law, not sampling error.")))
    tables.append(Table(
        name="rayleigh", columns=["eigenvector", "λ_i(H)", "λ_i − wd", "vᵀ(B·C)v", "vᵀ(B·C)v / λ_i",
                                  "vᵀ(B·C)v / (λ_i − wd)"],
        rows=[[f"v{r['index']}", r["eigenvalue"], r["eigenvalue"] - wd, r["vCv"], r["ratio"], r["ratio_data"]]
              for r in comp.rayleigh],
        caption="C17: Rayleigh quotients of B·C on the top Hessian eigenvectors (exact at θ*). Xie: ≈ 1."))
    tables.append(Table(
        name="batch_invariance",
        columns=["B", "tr(B·C) with repl.", "tr(B·C) without", "corrected", "sampled corrected", "s.e.", "z",
                 "v1ᵀ(B·C)v1 corrected", "sampled", "s.e.", "z"],
        rows=inv_rows,
        caption=(f"C17: B·C_B across B. Exact with replacement (B-free: tr = {tr_S:.5g}), exact without replacement, "
                 "and the latter times (m−1)/(m−B); 'sampled' is the mean over "
                 f"{cfg.n_draws} minibatch draws without replacement of B·(m−1)/(m−B)·|ξ|² (resp. ⟨ξ, v1⟩²), "
                 "z = (sampled − exact B-free value)/s.e.")))
    if len(minima_rows) > 1:
        slopes = np.array([r[3] for r in minima_rows])
        tables.append(Table(
            name="minima", columns=["training seed", "L(θ*)", "|∇L(θ*)|", "slope γ vs H_ii − wd", "95% CI low",
                                    "95% CI high", "median B·C_ii/(H_ii − wd)", "v1 ratio"],
            rows=minima_rows,
            caption=(f"C17 at {len(minima_rows)} independently trained minima: slope mean {slopes.mean():.3g}, "
                     f"sd {slopes.std(ddof=1):.2g} across minima (the spread across θ* is the relevant uncertainty "
                     "of the slope as a property of the network).")))

    # ---------------------------------------------------------------- figures
    figures = []
    ln10 = math.log(10.0)
    x = (np.diag(comp.hessian) - wd)[dd.used]
    y = np.diag(S)[dd.used]
    figures.append(Figure(
        name="c_vs_h", kind="scatter", title="B·C_ii against H_ii − wd at the minimum (is C ≈ H/B?)",
        data={"x": x, "y": y, "log": True, "x_label": "H_ii − wd (Hessian of the unregularised loss)",
              "y_label": "B·C_ii (per-sample gradient covariance)",
              "fit": {"slope": dd.fit.slope, "intercept": dd.fit.intercept / ln10,
                      "slope_ci_low": dd.ci[0], "slope_ci_high": dd.ci[1]},
              "identity": True, "data_label": f"parameters (n = {x.size})"},
        caption=(f"Each point is one parameter. Red: OLS fit, slope {dd.fit.slope:.3g} (95% CI [{dd.ci[0]:.3g}, "
                 f"{dd.ci[1]:.3g}]); dotted: Xie's C = H/B (λ = 1).")))
    B0 = cfg.gauss_batch_sizes[0]
    top_vals, top_sd, rnd_vals, rnd_sd = hist_values[B0]
    ad_top = next(r["ad"] for r in gauss_records if r["B"] == B0 and r["direction"] == dir_names[0])
    ad_rnd = next(r["ad"] for r in gauss_records if r["B"] == B0 and r["direction"] == dir_names[cfg.n_top])
    for name, vals, sd, ad, what in (("hist_top", top_vals, top_sd, ad_top, "Hessian v1"),
                                     ("hist_random", rnd_vals, rnd_sd, ad_rnd, "random u1")):
        figures.append(Figure(
            name=name, kind="histogram", title=f"Noise along {what}, B = {B0} (is it Gaussian?)",
            data={"values": vals, "bins": 50, "gaussian": {"mean": 0.0, "std": sd},
                  "x_label": f"⟨ξ, v⟩ over {vals.size} minibatch draws"},
            caption=(f"Overlay: N(0, vᵀC_Bv) from the exact covariance (not fitted). Anderson–Darling "
                     f"A² = {ad.statistic:.3g} vs 1% critical value {ad.critical_value:.3g}.")))
    s_eigs = np.linalg.eigvalsh(S)
    s_floor = SPECTRUM_ROUNDOFF * float(np.max(np.abs(s_eigs)))
    n_null = int(np.sum(np.abs(s_eigs) <= s_floor))
    s_eigs[np.abs(s_eigs) <= s_floor] = 0.0          # round-off (±1e-18) of a rank-deficient PSD matrix
    figures.append(Figure(
        name="spectrum", kind="spectrum", title="Spectra at the minimum: Hessian H and B·C",
        data={"series": {"Hessian H": np.sort(w), "B·C (per-sample gradient covariance)": s_eigs},
              "y_label": "eigenvalue"},
        caption=(f"All {P} eigenvalues of H (autograd, eigh) and of the exact B·C (with replacement); {n_null} "
                 f"eigenvalues of B·C below {SPECTRUM_ROUNDOFF:g}·max in magnitude are round-off of its null "
                 "space and are shown as 0.")))

    # ---------------------------------------------------------------- text, provenance
    sections = [
        {"title": "Set-up", "text": (
            f"A tanh MLP ({landscape.description}) with cross-entropy loss and weight decay {wd:g}, trained to a "
            f"minimum (|∇L| = {grad_norm:.2g}, training accuracy {accuracy:.3f}). Hidden width {cfg.hidden} keeps "
            f"P = {P} small enough for the exact Hessian and the exact P×P noise covariance; m = {m} rows exceed "
            f"the largest batch size {max(cfg.cov_batch_sizes)}, so every B can be drawn without replacement.")},
        {"title": "Weight decay", "text": (
            "Weight decay adds the same wd·θ to every per-sample gradient, so it cancels from the noise ξ and from C, "
            "but it adds wd·I to the Hessian. B·C is therefore the empirical Fisher of the unregularised loss and "
            "is compared with H − wd·I (the verdicts) as well as with H (tables). Parameters attached to constant "
            "pixels have H_ii = wd and C_ii = 0 and are left out of the log–log fit.")},
        {"title": "Reading the C18 numbers", "text": _c18_text(gauss_records, cfg, top_share)},
        {"title": "Reading the C17 numbers", "text": (
            f"B·C is the empirical Fisher (1/m) Σ ∇ℓ_j∇ℓ_jᵀ at θ*. For the cross-entropy a well-fitted sample with "
            f"p_y = 1 − ε contributes O(ε²) to it but O(ε) to the Hessian's Gauss–Newton part, so at a low-loss "
            f"minimum C is expected to fall below H/B (Kunstner et al. 2019, docs/theory.md §Hessian noise and "
            f"the loss unit, item 1). Here the median diagonal ratio B·C_ii/(H_ii − wd) is {dd.ratio_median:.3g} "
            f"and the data loss is {data_loss:.3g}.")},
    ]
    provenance = {
        "suite_seed": SEED, "training_seeds": list(cfg.train_seeds), "data_seed": cfg.data_seed,
        "model_spec": landscape.name, "config": {k: (list(v) if isinstance(v, tuple) else v)
                                                 for k, v in cfg.__dict__.items()},
        "minibatch_sampling": "without replacement (uniform subsets) for all draws",
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": __import__("scipy").__version__},
        "timings_seconds": timings, "minima_cached": [i["cached"] for _, i in minima],
        "wall_time_seconds": time.perf_counter() - wall0,
    }
    criteria = (
        f"C18: with {n_tests} Anderson–Darling tests at the 1% level, the Gaussian claim passes when at most "
        f"{allowed} projections are rejected (the 99th percentile of Binomial({n_tests}, 0.01)). "
        "C17 (Xie): 1 lies in the 95% CI of the OLS slope of log(B·C_ii) on log(H_ii − wd). "
        "C17 (Zhang–Yang–Tu): that CI overlaps [1, 2]. "
        f"C17 magnitude: every vᵀ(B·C)v/(λ − wd) on the top {cfg.n_top} Hessian eigenvectors within "
        f"[{RATIO_BAND[0]}, {RATIO_BAND[1]}] (project choice [D]). "
        f"C17 invariance: sampled (m−1)/(m−B)·B·C_B agrees with the exact B-free value within {Z_TOL:g} standard errors "
        "for every B (trace and top eigenvector). Tail indices are reported without a verdict "
        "(docs/theory.md §C18).")
    result = SuiteResult(
        suite=SUITE, size=size, title="Gradient noise at an MLP minimum: Gaussianity and C against H/B",
        criteria=criteria, verdicts=verdicts, tables=tables, figures=figures, sections=sections,
        provenance=provenance, laws=[])
    result.save(out)
    _say(progress, f"done in {provenance['wall_time_seconds']:.0f} s")
    return result
