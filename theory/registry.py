"""The formula registry: every law as a :class:`Formula`, built lazily from the recorded derivations.

``formulas()`` returns a read-only :class:`Registry` (a Mapping name → Formula) that can be listed,
searched and exported to JSON. Rates are per unit SDE time (γ = 1/τ). Escape times are in SDE time.

Laws and their parameters (glossary keywords; see ``theory.symbols.GLOSSARY``):

* ``kramers_1d_escape_time`` / ``kramers_1d_rate`` (white noise / SGLD, 1-D): h_ae, h_be, barrier, temperature
* ``eyring_kramers_escape_time`` / ``eyring_kramers_rate`` (n-D): h_be, det_ratio (= |det H_b|/det H_a,
  build it with ``theory.determinant_ratio(saddle_eigenvalues, minimum_eigenvalues)``), barrier, temperature
* ``bouchet_reygner_escape_time`` / ``bouchet_reygner_rate`` (n-D, constant anisotropic diffusion matrix, non-
  reversible; Bouchet & Reygner 2016): mu, det_Q_a, abs_det_Q_b (build them with
  ``theory.bouchet_reygner.bouchet_reygner_prefactor(h_a, h_b, diffusion)``), quasi_potential_barrier,
  instanton_divergence
* ``sgd_escape_time_<convention>`` / ``sgd_rate_<convention>``, convention ∈ {ito, stratonovich,
  hanggi_klimontovich (the paper's)}: eta, batch_size, loss_unit, barrier, h_ae, h_be, s
* ``mori_1d_*`` and ``mori_*`` (n-D), ``levy_*`` and ``levy_sgd_*``; minima selection, flat/sharp ratios,
  the ŝ estimator.
* Optimizers (docs/theory.md §Optimizer exponents; rates per unit t = step·η, η the optimizer's own):
  SGD's keywords (eta, batch_size, loss_unit, barrier, h_ae, h_be, s) plus
  ``momentum_exponent``, ``momentum_escape_time_ito`` / ``momentum_rate_ito`` (+ momentum),
  ``momentum_underdamped_ratio`` (eta, momentum, h_be); ``pnm_exponent`` (independent-buffer reading),
  ``pnm_long_time_exponent``, ``pnm_escape_time_ito`` / ``pnm_rate_ito`` (+ pnm_beta0),
  ``pnm_exponent_ratio_long_time`` (no keywords), ``pnm_exponent_ratio_independent`` (pnm_beta0);
  ``adai_exponent``, ``adai_escape_time_ito`` / ``adai_rate_ito``; ``adam_exponent`` (adaptive reading),
  ``adam_frozen_exponent``, ``adam_escape_time_ito`` / ``adam_rate_ito``, ``adam_frozen_slope_sqrt_batch``
  (+ epsilon), ``adam_frozen_slope_inv_sqrt_sharpness`` (+ epsilon, sharpness); stability limits
  ``momentum_stability_limit``, ``nesterov_stability_limit``, ``adam_stability_limit`` (momentum = β or β₁),
  ``pnm_stability_limit`` (pnm_beta0).
"""
from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache

import sympy as sp

from flatminima.errors import InputError
from flatminima.theory import symbols as S
from flatminima.theory.formula import Formula
from flatminima.theory.sgd import CONVENTIONS, CONVENTION_LABELS, PAPER_CONVENTION, check_convention

_ORDER = ("eta", "batch_size", "loss_unit", "barrier", "h_ae", "h_be", "s", "temperature", "temperature_a",
          "temperature_b", "det_ratio", "mu", "det_Q_a", "abs_det_Q_b", "quasi_potential_barrier",
          "instanton_divergence", "h_star",
          "loss_min", "loss_saddle", "n_outliers", "tail_index", "noise_scale", "sample_noise_scale", "width_left",
          "width_right", "momentum", "pnm_beta0", "epsilon", "h_ae_flat", "h_ae_sharp", "escape_time_a", "escape_time_b",
          "slope", "sharpness", "third_a", "fourth_a", "third_b", "fourth_b")
_LOW_T = "low temperature: the exponent should be at least 5 (docs/theory.md §Assumptions, item 3; table T1)"


def _params(*exprs) -> dict[str, sp.Symbol]:
    free = set().union(*(e.free_symbols for e in exprs))
    return {n: S.GLOSSARY[n].symbol for n in _ORDER if S.GLOSSARY[n].symbol in free}


def _pair(stem, time, exponent, prefactor, *, source, description, regime=(), domain=(), convention=None,
          derivation="", tags=(), notes=()):
    """An escape-time Formula and its rate (γ = 1/τ) from τ = prefactor·exp(exponent)."""
    params = _params(time)
    common = dict(params=params, source=source, regime=tuple(regime), domain=tuple(domain), convention=convention,
                  exponent=exponent, prefactor=prefactor, derivation=derivation, tags=tuple(tags), notes=tuple(notes))
    return [Formula(f"{stem}_escape_time{'_' + convention if convention else ''}", "escape_time", time,
                    description=f"mean escape time (SDE time): {description}", **common),
            Formula(f"{stem}_rate{'_' + convention if convention else ''}", "rate", 1 / time,
                    description=f"escape rate per unit SDE time: {description}", **common)]


def _exponent_regime(expr):
    return ((sp.GreaterThan(expr, 5), _LOW_T),)


@cache
def base_formulas() -> dict[str, Formula]:
    """All registered laws except those derived from the slope derivation (built once, cached)."""
    from flatminima.theory.alternatives import derive_levy, derive_mori, derive_optimizers
    from flatminima.theory.bouchet_reygner import derive_bouchet_reygner
    from flatminima.theory.consequences import derive_flat_vs_sharp, derive_minima_selection
    from flatminima.theory.eyring_kramers import derive_eyring_kramers
    from flatminima.theory.finite_barrier import derive_kramers_next_term
    from flatminima.theory.kramers import derive_kramers_1d
    from flatminima.theory.sgd import derive_sgd_law

    out: list[Formula] = []
    kr = derive_kramers_1d()
    out += _pair("kramers_1d", kr.results["escape_time"], kr.results["exponent"], kr.results["prefactor"],
                 source="Xie et al. 2021, Eq. (4), Eq. (6) with n = 1; docs/theory.md §Kramers law in 1-D",
                 description="1-D Kramers, white noise",
                 regime=_exponent_regime(kr.results["exponent"]), derivation=kr.key,
                 tags=("sgld", "white noise", "kramers", "constant diffusion", "1-d"))
    fb = derive_kramers_next_term()
    out += _pair("kramers_1d_finite_barrier", fb.results["escape_time"], fb.results["exponent"],
                 fb.results["prefactor"],
                 source="Kramers' law times 1 + c1 D (Laplace's method to second order, de Bruijn 1958 §4.4); "
                        "docs/theory.md §Finite barrier",
                 description="1-D Kramers with its next term in D, white noise (relative error O(D²))",
                 regime=_exponent_regime(fb.results["exponent"]) + (
                     (sp.LessThan(sp.Abs(fb.results["c1"]) * S.temperature, sp.Rational(1, 5)),
                      "the correction c1·D should be small (≤ 0.2): beyond it the O(D²) remainder is not negligible"),),
                 derivation=fb.key, tags=("sgld", "white noise", "kramers", "finite barrier", "1-d"),
                 notes=("L3_a, L4_a, L3_b, L4_b: third and fourth derivatives of L at the minimum and the saddle; the "
                        "exit point must lie well beyond the saddle.",))
    out.append(Formula("kramers_1d_next_term_c1", "ratio", fb.results["c1"], _params(fb.results["c1"]),
                       source="de Bruijn 1958 §4.4; docs/theory.md §Finite barrier",
                       description="c1 of τ/τ_K = 1 + c1·D + O(D²) (1-D, white noise)", derivation=fb.key,
                       tags=("sgld", "white noise", "kramers", "finite barrier", "1-d")))
    ek = derive_eyring_kramers()
    out += _pair("eyring_kramers", ek.results["escape_time"], ek.results["exponent"], ek.results["prefactor"],
                 source="Xie et al. 2021, Eq. (6) with |det H_b|; Bovier–Eckhoff–Gayrard–Klein 2004; "
                        "docs/theory.md §Eyring-Kramers law",
                 description="n-D Eyring–Kramers, white noise",
                 regime=_exponent_regime(ek.results["exponent"]), derivation=ek.key,
                 tags=("sgld", "white noise", "eyring-kramers", "n-d", "determinant"),
                 notes=("det_ratio = |det H_b| / det H_a; see theory.determinant_ratio.",))
    br = derive_bouchet_reygner()
    out += _pair("bouchet_reygner", br.results["escape_time"], br.results["exponent"], br.results["prefactor"],
                 source="Bouchet & Reygner, Ann. Henri Poincaré 17 (2016) 3499–3532 (generalised Eyring–Kramers "
                        "formula); Eyring–Kramers for D = D₀·I",
                 description="n-D non-reversible Eyring–Kramers law, constant anisotropic diffusion matrix D, "
                             "quasi-potential Φ",
                 regime=_exponent_regime(br.results["exponent"]), derivation=br.key,
                 tags=("non-reversible", "anisotropic", "quasi-potential", "bouchet-reygner", "eyring-kramers",
                       "constant diffusion", "n-d", "determinant"),
                 notes=("mu = |H_be| for the drift −∇L; det_Q_a, abs_det_Q_b: determinants of the quasi-potential "
                        "Hessians, Q⁻¹ solving H Σ + Σ H = 2D; see theory.bouchet_reygner.bouchet_reygner_prefactor.",
                        "quasi_potential_barrier and instanton_divergence (∫∇·ℓ dt along the instanton) need the "
                        "instanton (minimum action method); instanton_divergence = 0 for reversible dynamics."))
    sgd = derive_sgd_law()
    E = sgd.results["exponent"]
    s_regime = ((sp.And(sp.GreaterThan(S.s, 0), sp.LessThan(S.s, 1)),
                 "s outside [0, 1]: the two-region interpolation is being extrapolated "
                 "(docs/theory.md §The path parameter s)"),)
    for conv in CONVENTIONS:
        out += _pair("sgd", sgd.results[f"escape_time_{conv}"], E, sgd.results[f"prefactor_{conv}"],
                     source=("Xie et al. 2021, Eq. (7)" + (" (paper's prefactor)" if conv == PAPER_CONVENTION else
                                                          " exponent; prefactor docs/theory.md §Prefactor conventions")
                             + "; docs/theory.md §SGD law"),
                     description=f"SGD, D = ηλH/(2B), two-region model, {CONVENTION_LABELS[conv]}",
                     regime=_exponent_regime(E) + s_regime, convention=conv, derivation=sgd.key,
                     tags=("sgd", "xie", "two-region", conv, "hessian noise"))
    E2 = sgd.results["exponent_two_region"]
    out += _pair("two_region", sgd.results["escape_time_two_region_ito"], E2, sgd.results["prefactor_two_region_ito"],
                 source="Xie et al. 2021, Eq. (7) with measured D_a, D_b, Itô prefactor; "
                        "docs/theory.md §Two-region law with measured noise",
                 description="two-region law with measured diffusion coefficients D_a, D_b along e, Itô (α = 0)",
                 regime=_exponent_regime(E2) + s_regime, convention="ito", derivation=sgd.key,
                 tags=("sgd", "two-region", "ito", "measured noise", "minibatch"))
    out.append(Formula("sgd_exponent", "exponent", E, _params(E),
                       source="Xie et al. 2021, Eq. (7); docs/theory.md §The path parameter s",
                       description="SGD escape exponent (quasi-potential) 2BΔL/(ηλ)·(s/H_ae + (1−s)/|H_be|)",
                       regime=s_regime, derivation="sgd_exponent", tags=("sgd", "exponent")))
    mo = derive_mori()
    e1 = mo.results["exponent_1d"]
    pos = ((sp.StrictGreaterThan(S.loss_saddle, S.loss_min), "the saddle loss must exceed the minimum loss"),)
    mregime = ((sp.GreaterThan(S.batch_size / (S.eta * S.h_star) * sp.log(S.loss_saddle / S.loss_min), 5), _LOW_T),)
    out += _pair("mori_1d", mo.results["escape_time_1d"], e1, mo.results["prefactor_1d"],
                 source="Mori, Ziyin, Liu, Ueda, ICML 2022; docs/theory.md §Mori power law",
                 description="Mori power law, C = 2L h*/B, 1-D",
                 regime=mregime, domain=pos, derivation=mo.key, tags=("mori", "power law", "loss-dependent noise", "mse"))
    out += _pair("mori", mo.results["escape_time_nd"], mo.results["exponent_nd"], mo.results["prefactor_nd"],
                 source="Mori, Ziyin, Liu, Ueda, ICML 2022; docs/theory.md §Mori power law",
                 description="Mori power law, C = 2L h*/B, n outlier directions",
                 regime=mregime, domain=pos, derivation=mo.key, tags=("mori", "power law", "n-d"))
    lv = derive_levy()
    ldom = ((sp.StrictLessThan(S.tail_index, 2), "the tail index α must lie in (0, 2)"),)
    lreg = ((sp.LessThan(S.noise_scale, S.width_left / 10), "small-noise regime: ε ≤ b₋/10 (project choice [D])"),
            (sp.LessThan(S.noise_scale, S.width_right / 10), "small-noise regime: ε ≤ b₊/10 (project choice [D])"))
    out += _pair("levy", lv.results["escape_time"], sp.Integer(0), lv.results["escape_time"],
                 source="Imkeller–Pavlyukevich 2006; Şimşekli et al. 2019; docs/theory.md §Levy escape",
                 description="Lévy-driven escape (first large jump)", regime=lreg, domain=ldom, derivation=lv.key,
                 tags=("levy", "heavy tail", "alpha-stable", "simsekli"))
    eps = lv.results["noise_scale"]
    out += _pair("levy_sgd", lv.results["escape_time_sgd"], sp.Integer(0), lv.results["escape_time_sgd"],
                 source="docs/theory.md §Levy escape", description="Lévy-driven escape with ε = σ(η/B)^{1−1/α}",
                 regime=tuple((c.subs(S.noise_scale, eps), w) for c, w in lreg), domain=ldom, derivation=lv.key,
                 tags=("levy", "heavy tail", "sgd", "alpha-stable"))
    out += _optimizer_formulas(derive_optimizers(), s_regime)
    ms = derive_minima_selection()
    out.append(Formula("occupancy_two_valleys", "probability", ms.results["probability"],
                       _params(ms.results["probability"]),
                       source="Xie et al. 2021, Eq. (5); docs/theory.md §Minima selection",
                       description="P(θ ∈ V_a) = τ_a/(τ_a + τ_b), exact for two valleys", derivation=ms.key,
                       tags=("minima selection", "occupancy")))
    fs = derive_flat_vs_sharp()
    for conv in CONVENTIONS:
        e = fs.results[f"sgd_{conv}"]
        out.append(Formula(f"flat_sharp_ratio_sgd_{conv}", "ratio", e, _params(e),
                           source="docs/theory.md §Flat versus sharp minima",
                           description=f"τ_flat/τ_sharp under SGD, {CONVENTION_LABELS[conv]}", convention=conv,
                           derivation=fs.key, tags=("flat", "sharp", "selection", "sgd")))
    e = fs.results["sgld_1d"]
    out.append(Formula("flat_sharp_ratio_sgld_1d", "ratio", e, _params(e),
                       source="docs/theory.md §Flat versus sharp minima",
                       description="τ_flat/τ_sharp under white noise (1-D)", derivation=fs.key,
                       tags=("flat", "sharp", "selection", "sgld")))
    return {f.name: f for f in out}


def _optimizer_formulas(op, s_regime) -> list[Formula]:
    """The optimizer laws of derivation ``optimizers`` (docs/theory.md §Optimizer exponents)."""
    R = op.results
    src = "docs/theory.md §Optimizer exponents"
    mdom = ((sp.StrictLessThan(S.momentum, 1), "momentum β must be below 1"),)
    edom = ((sp.GreaterThan(S.adam_epsilon, 0, evaluate=False), "Adam's ε must be ≥ 0"),)   # not auto-True
    beta, eta, h_ae = S.momentum, S.eta, S.h_ae
    weak = ((sp.GreaterThan((1 - beta) * R["exponent_momentum"] / sp.sqrt(eta * h_ae), 1),
             "friction too weak for the spatial-diffusion (Kramers–Hänggi) formula: (1−β)·ΔΦ/√(ηH_ae) should exceed "
             "1, otherwise Kramers' energy-diffusion regime applies (rough criterion [D]; Hänggi, Talkner & Borkovec "
             "1990)"),)
    lin = ((sp.LessThan(S.adam_epsilon * sp.sqrt(S.batch_size / (S.loss_unit * h_ae)), sp.Rational(1, 10)),
            "−log γ is linear in √B and in k^{−1/2} only when ε√(B/(λH_ae)) ≪ 1 (project choice 0.1 [D]); "
            "the slope returned is the exact local derivative"),)

    def one(name, kind, key, desc, tags, domain=(), regime=(), source=src, notes=()):
        e = R[key]
        return Formula(name, kind, e, _params(e), source=source, description=desc, domain=tuple(domain),
                       regime=tuple(regime), derivation=op.key, tags=("optimizer", *tags), notes=tuple(notes))

    def expo(name, key, desc, tags, domain=(), notes=()):
        return one(name, "exponent", key, f"log escape time at leading order: {desc}", (*tags, "exponent"), domain,
                   _exponent_regime(R[key]) + s_regime, notes=notes)

    def pair(stem, key, expo_key, desc, tags, domain=(), regime=(), notes=()):
        return _pair(stem, R[f"escape_time_{key}_ito"], R[expo_key], R[f"prefactor_{key}_ito"], source=src,
                     description=desc, regime=_exponent_regime(R[expo_key]) + s_regime + tuple(regime),
                     domain=domain, convention="ito", derivation=op.key, tags=("optimizer", *tags, "ito"), notes=notes)

    out = [
        expo("momentum_exponent", "exponent_momentum", "heavy-ball momentum (PyTorch style), SGD exponent at "
             "η_eff = η/(1−β) (long-time weight; also Nesterov's)", ("momentum",), mdom),
        one("momentum_underdamped_ratio", "ratio", "momentum_underdamped_ratio",
            "Kramers–Hänggi inertia factor k/k_overdamped = (2/x)(√(1+x) − 1), x = 4η|H_be|/(1−β)² (mass η, "
            "friction 1 − β)", ("momentum", "inertia", "kramers-hanggi"), mdom,
            source="Hänggi, Talkner & Borkovec 1990, Kramers' moderate-to-strong friction rate (cited as "
                   "Eq. (4.51b); number unverified); " + src),
        *pair("momentum", "momentum", "exponent_momentum", "heavy-ball momentum: (1/(1−β)) × SGD's Itô two-region rate "
              "at η/(1−β) × the Kramers–Hänggi inertia factor", ("momentum",), mdom, weak),
        expo("adam_exponent", "exponent_adam", "Adam, adaptive reading: assumes v follows C(θ) along the path "
             "(v ≈ λH(θ)/B in each region, ε = 0), H^{−1/2} preference", ("adam", "adaptive")),
        expo("adam_frozen_exponent", "exponent_adam_frozen", "Adam with the preconditioner frozen at the minimum, "
             "P = 1/(√(λH_ae/B) + ε): SGD's exponent with H → P·H", ("adam", "frozen"), edom),
        *pair("adam", "adam", "exponent_adam_frozen", "Adam with frozen preconditioner P = 1/(√(λH_ae/B) + ε): SGD's "
              "Itô rate at η with H → P·H (time unchanged)", ("adam", "frozen"), edom),
        one("adam_frozen_slope_sqrt_batch", "exponent", "slope_adam_frozen_sqrt_batch",
            "predicted slope of −log γ against √B, frozen Adam (exponent term; the prefactor term is "
            "−√(λH_ae)/(√B(√(λH_ae) + ε√B)), −1/√B at ε = 0)", ("adam", "frozen", "slope"), edom, lin,
            source=src + ", §Predicted slopes"),
        one("adam_frozen_slope_inv_sqrt_sharpness", "exponent", "slope_adam_frozen_inv_sqrt_sharpness",
            "predicted slope of −log γ against k^{−1/2} under L_k(θ) = L(√k θ), frozen Adam, curvatures given at "
            "k = 1 (exponent term; the prefactor term is √k at ε = 0)", ("adam", "frozen", "slope", "sharpness"),
            edom, lin, source=src + ", §Predicted slopes, §Sharpness scaling"),
        expo("pnm_exponent", "exponent_pnm", "Positive–Negative Momentum, independent-buffer (instantaneous-variance) "
             "reading: SGD's exponent at η/n divided by n², n² = (1+β₀)²+β₀²", ("pnm", "independent buffers")),
        expo("pnm_long_time_exponent", "exponent_pnm_long_time", "Positive–Negative Momentum, long-time law: SGD's "
             "exponent at η/n with the same covariance C, n = √((1+β₀)²+β₀²)", ("pnm", "long-time")),
        one("pnm_exponent_ratio_long_time", "ratio", "pnm_ratio_long_time", "ratio of PNM's exponent to SGD's at the "
            "matched effective learning rate η/n, long-time law (= 1)", ("pnm", "long-time", "c22")),
        one("pnm_exponent_ratio_independent", "ratio", "pnm_ratio_independent", "ratio of PNM's exponent to SGD's at "
            "the matched effective learning rate η/n, independent-buffer reading (= 1/n²)",
            ("pnm", "independent buffers", "c22")),
        *pair("pnm", "pnm", "exponent_pnm_long_time", "Positive–Negative Momentum, long-time law: (1/n) × SGD's Itô "
              "rate at η/n, no inertia correction", ("pnm", "long-time")),
        expo("adai_exponent", "exponent_adai", "Adai in 1-D (β₁ = 1 − β₀ constant, EMA momentum): SGD's exponent "
             "at η", ("adai",)),
        *pair("adai", "adai", "exponent_adai", "Adai in 1-D: SGD's Itô rate at η (inertia prefactor ignored)",
              ("adai",)),
    ]
    for name, key, desc, dom in (
            ("momentum_stability_limit", "stability_heavy_ball", "heavy ball: stable iff η·H < 2(1+β)", mdom),
            ("nesterov_stability_limit", "stability_nesterov", "Nesterov (PyTorch): stable iff η·H < 2(1+β)/(1+2β)",
             mdom),
            ("adam_stability_limit", "stability_adam", "Adam-style EMA momentum with step η·P (momentum = β₁): "
             "stable iff η·P·H < 2(1+β₁)/(1−β₁)", mdom),
            ("pnm_stability_limit", "stability_pnm", "PNM: stable iff η·H < 2n/(1+2β₀), n = √((1+β₀)²+β₀²), for "
             "every β₁", ())):
        out.append(one(name, "ratio", key, f"largest stable η·H (dimensionless) on a quadratic of curvature H, by the "
                       f"Jury conditions: {desc}", ("stability",), dom))
    return out


class Registry(Mapping):
    """Read-only mapping name → :class:`Formula`, listable and searchable, exportable to JSON."""

    def __init__(self, items: dict[str, Formula]):
        self._items = dict(items)

    def __getitem__(self, name: str) -> Formula:
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._items, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no formula {name!r}{hint} (theory.formulas().names() lists them)") from None

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._items)

    def search(self, text: str) -> list[Formula]:
        """Formulas whose name, tags, kind, description, source, convention or parameters contain ``text``."""
        t = text.lower()
        hits = []
        for f in self._items.values():
            hay = " ".join([f.name, f.kind, f.description, f.source, f.convention or "", *f.tags, *f.params]).lower()
            if t in hay:
                hits.append(f)
        return hits

    def sgd(self, kind: str = "rate", convention: str = PAPER_CONVENTION) -> Formula:
        """The SGD law of ``kind`` ('rate' or 'escape_time') under ``convention`` (discrete SGD is 'ito')."""
        check_convention(convention)
        if kind not in ("rate", "escape_time"):
            raise InputError(f"kind must be 'rate' or 'escape_time'; got {kind!r}")
        return self[f"sgd_{kind}_{convention}"]

    def to_json(self, **kwargs) -> str:
        """All formulas as a JSON list of records (name, LaTeX, parameters, source, ...)."""
        return json.dumps([f.to_dict() for f in self._items.values()], **kwargs)


@cache
def formulas() -> Registry:
    """The registry of all laws (derived on first call, then cached)."""
    from flatminima.theory.slopes import derive_slopes
    items = dict(base_formulas())
    sl = derive_slopes()
    s_hat = sl.results["s_hat"]
    items["s_hat"] = Formula(
        "s_hat", "estimator", s_hat, _params(s_hat), source="docs/theory.md §The path parameter s",
        description="ŝ from the slope κ of −log γ against B/η (SDE time)",
        domain=((sp.Ne(S.h_ae, S.h_be), "ŝ is undefined when H_ae = |H_be| (then s does not matter)"),),
        derivation=sl.key, tags=("estimator", "s", "fit"))
    return Registry(items)


def sgd_law(kind: str = "rate", convention: str = PAPER_CONVENTION) -> Formula:
    """Shortcut for ``formulas().sgd(kind, convention)``."""
    return formulas().sgd(kind, convention)
