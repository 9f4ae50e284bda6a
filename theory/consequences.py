"""Derivation 4: consequences of the escape laws (docs/theory.md §Consequences).

Rates add over parallel paths (§Several escape paths); minima selection P(a) = τ_a/Σ_v τ_v (Eq. (5)),
exact for two valleys and for a star (renewal) model with equal re-entry (§Minima selection);
flat-versus-sharp ratios (§Flat versus sharp minima); the exact √k identities of the sharpness
reparametrization L_k(θ) = L(√k θ) (§Sharpness scaling). Sections are those of docs/theory.md.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, eq
from flatminima.theory.eyring_kramers import derive_eyring_kramers
from flatminima.theory.kramers import derive_kramers_1d
from flatminima.theory.sgd import CONVENTIONS, derive_sgd_law

_TAU1, _TAU2 = sp.symbols("tau_1 tau_2", positive=True)


@cache
def derive_multiple_paths(n_paths: int = 3) -> Derivation:
    """γ = Σ_p γ_p: flux over population with the valley boundary split into one patch per saddle."""
    Js = sp.symbols(f"J_1:{n_paths + 1}", positive=True)
    Pv = sp.Symbol("P_V", positive=True)
    gam = sp.symbols(f"gamma_1:{n_paths + 1}", positive=True)
    r = StepRecorder()
    tau = r.step("Flux over population with the boundary S_a split into patches around each index-1 saddle p",
                 eq(S.escape_time, Pv / sp.Add(*Js)), "∫_{S_a} J·dS = Σ_p J_p (Laplace: each patch is dominated "
                 "by its saddle)", "Eq. (4) with several escape paths")
    rate = sp.expand(1 / tau.rhs)
    r.step("Hence the rate is a sum of per-path rates γ_p = J_p/P(V_a)",
           eq(S.rate, rate.subs({J: g * Pv for J, g in zip(Js, gam)})),
           "γ = 1/τ", "Xie et al. 2021 (γ_total = Σ_p γ_p); docs/theory.md §Several escape paths")
    r.check("γ = Σ γ_p", rate.subs({J: g * Pv for J, g in zip(Js, gam)}), sp.Add(*gam))
    r.check("identical saddles: γ = (number of paths)·γ_1", rate.subs({J: gam[0] * Pv for J in Js}), n_paths * gam[0])
    return Derivation(
        key="multiple_paths", title="Multiple escape paths: rates add",
        assumptions=(Step("Distinct index-1 saddles on the valley boundary, each with its own most probable path",
                          None, "the current is concentrated near the saddles at low temperature",
                          "docs/theory.md §Several escape paths"),),
        steps=tuple(r.steps), results={"rate": sp.Add(*gam)}, final=eq(S.rate, sp.Add(*gam)),
        matches="Xie et al. 2021, multiple-path escape: γ_total = Σ_MPP γ_p", checks=tuple(r.checks),
        notes=("Agrees with Eyring–Kramers for several saddles at the same height (docs/theory.md §Several escape "
               "paths, check C5: ratio 2 for two symmetric saddles).",),
        source="Xie et al. 2021; Bovier–Eckhoff–Gayrard–Klein 2004; docs/theory.md §Several escape paths")


@cache
def derive_minima_selection() -> Derivation:
    """P(a) = τ_a/(τ_a + τ_b) for two valleys (flux balance); the star model for many valleys."""
    ta, tb = S.escape_time_a, S.escape_time_b
    Pa, Pb = sp.symbols("P_a P_b", nonnegative=True)  # occupation probabilities
    r = StepRecorder()
    balance = r.step("Two valleys exchange probability at rates 1/τ_a and 1/τ_b; stationarity balances the fluxes",
                     eq(Pa / ta, Pb / tb), "dP_a/dt = −P_a/τ_a + P_b/τ_b = 0", "docs/theory.md §Minima selection")
    sol = dict(zip([Pa, Pb], next(iter(sp.linsolve([balance, eq(Pa + Pb, 1)], [Pa, Pb])))))
    occupancy = r.step("With P_a + P_b = 1", eq(Pa, sol[Pa]), "solved by SymPy (linear equation)",
                       "docs/theory.md §Minima selection")
    r.check("two valleys: P(a) = τ_a/Σ_v τ_v exactly (Eq. 5)", sol[Pa], ta / (ta + tb))
    # Star model: valleys 1..3 empty into a well-mixed region O, which re-fills valley v with probability p_v.
    t = sp.symbols("tau_1:4", positive=True)
    p = sp.symbols("p_1:4", positive=True)
    P = sp.symbols("P_1:4", positive=True)
    PO, k = sp.symbols("P_O k_O", positive=True)
    eqs = [eq(P[i] / t[i], k * p[i] * PO) for i in range(3)] + [eq(sum(P) + PO, 1)]
    star = dict(zip(list(P) + [PO], next(iter(sp.linsolve(eqs, list(P) + [PO])))))
    star_limit = [sp.limit(star[P[i]], k, sp.oo) for i in range(3)]
    r.step("Three valleys in a star (renewal) model: escapes land in a fast, well-mixed region O (rate k_O → ∞) "
           "that re-enters valley v with probability p_v (p_1 + p_2 + p_3 = 1)",
           eq(sp.Symbol("P_1"), sp.cancel(star_limit[0].subs(p[2], 1 - p[0] - p[1]))),
           "flux balance P_v/τ_v = k_O p_v P_O, solved by SymPy, then k_O → ∞", "docs/theory.md §Minima selection")
    r.check("star model: P_1 = p_1τ_1/Σ p_vτ_v", star_limit[0], p[0] * t[0] / sum(pi * ti for pi, ti in zip(p, t)))
    equal = star_limit[0].subs({pi: sp.Rational(1, 3) for pi in p})
    r.step("Equal re-entry probabilities give Eq. (5)", eq(sp.Symbol("P_1"), sp.cancel(equal)), "p_v = 1/3",
           "Xie et al. 2021, Eq. (5)")
    r.check("equal re-entry: Eq. (5)", equal, t[0] / sum(t))
    q = sp.Symbol("q", positive=True)
    chain = dict(zip(P, next(iter(sp.linsolve([eq(P[0] / t[0], q * P[1] / t[1]),
                                                eq(P[2] / t[2], (1 - q) * P[1] / t[1]), eq(sum(P), 1)], list(P))))))
    r.step("Counter-example, a chain a ⇄ b ⇄ c where escapes from b go to a with probability q",
           eq(sp.Symbol("P_1"), sp.cancel(chain[P[0]])), "flux balance, sympy.linsolve; not τ_1/Σ τ_v in general",
           "docs/theory.md §Minima selection")
    return Derivation(
        key="minima_selection", title="Minima selection (Eq. (5))",
        assumptions=(Step("Escapes are rare, memoryless (exponential) transitions between valleys", None,
                          "quasi-equilibrium within each valley (Assumption 2)", "docs/theory.md §Minima selection"),),
        steps=tuple(r.steps), results={"probability": sol[Pa]}, final=eq(Pa, sol[Pa]),
        matches="Xie et al. 2021, Eq. (5), exact for two valleys", checks=tuple(r.checks),
        notes=("For more than two valleys Eq. (5) holds in the star picture with equal re-entry; with re-entry "
               "probabilities p_v it is p_aτ_a/Σ p_vτ_v; it is not the Gibbs occupancy of a reversible diffusion "
               "(docs/theory.md §Minima selection).",),
        source="Xie et al. 2021, Eq. (5); docs/theory.md §Minima selection")


@cache
def derive_flat_vs_sharp() -> Derivation:
    """τ_flat/τ_sharp for two minima with equal barrier and the same saddle.

    See docs/theory.md §Flat versus sharp minima.
    """
    sgd = derive_sgd_law()
    r = StepRecorder()
    H1, H2 = S.h_ae_flat, S.h_ae_sharp
    ratios = {}
    for name in CONVENTIONS:
        pf, E = sgd.results[f"prefactor_{name}"], sgd.results["exponent"]
        # τ_1/τ_2 = [prefactor ratio] · exp(E(H_a1) − E(H_a2)); the (1 − s)/|H_be| terms cancel
        ratio = sp.powsimp(pf.subs(S.h_ae, H1) / pf.subs(S.h_ae, H2), force=True) * sp.exp(
            sp.factor(sp.expand(E.subs(S.h_ae, H1) - E.subs(S.h_ae, H2))))
        law = sgd.results[f"escape_time_{name}"]
        r.check(f"τ_1/τ_2 is the ratio of the SGD laws ({name})", ratio, law.subs(S.h_ae, H1) / law.subs(S.h_ae, H2))
        ratios[f"sgd_{name}"] = ratio
        r.step(f"SGD, {name} prefactor", eq(_TAU1 / _TAU2, ratio),
               "ratio of the SGD laws at H_ae = H_a1 (flat) and H_a2 (sharp), same ΔL, |H_be|, s",
               "docs/theory.md §Flat versus sharp minima")
    r.check("SGD exponential ratio exp[(2BΔLs/(ηλ))(1/H_a1 − 1/H_a2)] (paper's prefactor)",
            ratios["sgd_hanggi_klimontovich"],
            sp.exp(2 * S.batch_size * S.barrier * S.s / (S.eta * S.loss_unit) * (1 / H1 - 1 / H2)))
    white = derive_kramers_1d().results["escape_time"]
    wr = sp.powsimp(white.subs(S.h_ae, H1) / white.subs(S.h_ae, H2), force=True)
    r.step("White noise, 1-D Kramers", eq(_TAU1 / _TAU2, wr), "ratio of Kramers laws",
           "docs/theory.md §Flat versus sharp minima")
    r.check("white noise: polynomial ratio √(H_a2/H_a1)", wr, sp.sqrt(H2 / H1))
    ratios["sgld_1d"] = wr
    return Derivation(
        key="flat_vs_sharp", title="Flat versus sharp minima",
        assumptions=(Step("Two minima a_1 (flat) and a_2 (sharp) with equal barrier ΔL and the same saddle", None,
                          "so |H_be| and s are shared", "docs/theory.md §Flat versus sharp minima"),),
        steps=tuple(r.steps), results=ratios, final=eq(_TAU1 / _TAU2, ratios["sgd_hanggi_klimontovich"]),
        matches=("docs/theory.md §Flat versus sharp minima (the abstract's claim 'SGD favors flat minima "
                 "exponentially')"),
        checks=tuple(r.checks),
        notes=("Under the Itô prefactor the SGD ratio gains the polynomial factor H_a2/H_a1; the exponential term is "
               "convention-independent.",
               "In n-D the white-noise ratio is √(det H_a2/det H_a1) (from the Eyring–Kramers determinant ratio)."),
        source="docs/theory.md §Flat versus sharp minima")


@cache
def derive_sharpness_scaling() -> Derivation:
    """The √k reparametrization: τ_k = τ_1/k (white noise) and τ_k(η) = τ_1(kη)/k (SGD), exactly.

    See docs/theory.md §Sharpness scaling.
    """
    k, th, t = S.sharpness, S.theta, sp.Symbol("t", positive=True)
    L = sp.Function("L")
    r = StepRecorder()
    grad_k = sp.diff(L(sp.sqrt(k) * th), th)
    r.step("Chain rule for L_k(θ) = L(√k θ) with φ = √k θ", eq(sp.Derivative(sp.Symbol("L_k"), th), grad_k),
           "SymPy differentiation: ∇_θ L_k = √k ∇_φ L; likewise H_k = k·H", "docs/theory.md §Sharpness scaling")
    r.check("∇_θ L_k = √k L′(φ)", grad_k, sp.sqrt(k) * sp.Subs(sp.Derivative(L(S.x), S.x), S.x, sp.sqrt(k) * th).doit())
    r.check("H_k = k·L″(φ)", sp.diff(L(sp.sqrt(k) * th), th, 2),
            k * sp.Subs(sp.Derivative(L(S.x), S.x, 2), S.x, sp.sqrt(k) * th).doit())
    # dφ = √k dθ = −k L′(φ) dt + √k·√(2D) dW;  with t′ = k t and W′ = √k W(t′/k):  dφ = −L′ dt′ + √(2D) dW′
    drift_phi = sp.sqrt(k) * (-grad_k)
    r.step("White noise in φ: dφ = √k dθ = −k L′(φ) dt + √k √(2D) dW; with t′ = kt, W′(t′) = √k W(t′/k) a "
           "standard Brownian motion", eq(sp.Symbol("dφ"), -sp.Symbol("L'(φ)") * sp.Symbol("dt'") + sp.sqrt(2 * S.temperature) * sp.Symbol("dW'")),
           "the time change removes k exactly; so τ_k (in t) = τ_1 (in t′)/k", "docs/theory.md §Sharpness scaling")
    r.check("drift in φ is k·(−L′(φ))", drift_phi, -k * sp.Subs(sp.Derivative(L(S.x), S.x), S.x, sp.sqrt(k) * th).doit())
    ek = derive_eyring_kramers().results["escape_time"]
    r.check("Eyring–Kramers with every Hessian × k (det ratio unchanged): τ_k = τ_1/k",
            ek.subs(S.h_be, k * S.h_be), ek / k)
    kr = derive_kramers_1d().results["escape_time"]
    r.check("1-D Kramers: τ_k = τ_1/k", kr.subs({S.h_ae: k * S.h_ae, S.h_be: k * S.h_be}), kr / k)
    r.step("SGD noise D_k = ηλ kH(φ)/(2B): in φ and t′ = kt the SDE is the k = 1 SDE with η → kη",
           eq(sp.Function("tau_k")(S.eta, S.batch_size), sp.Function("tau_1")(k * S.eta, S.batch_size) / k), "same time change; the noise term gains √k·√k/√k",
           "docs/theory.md §Sharpness scaling")
    sgd = derive_sgd_law()
    for name in CONVENTIONS:
        law = sgd.results[f"escape_time_{name}"]
        r.check(f"SGD law ({name}): curvatures × k equals η → kη and τ/k",
                law.subs({S.h_ae: k * S.h_ae, S.h_be: k * S.h_be}), law.subs(S.eta, k * S.eta) / k)
    return Derivation(
        key="sharpness_scaling", title="Exact √k identities of the sharpness knob",
        assumptions=(Step("Sharpness reparametrization L_k(θ) = L(√k θ); ΔL unchanged, all Hessians × k", None,
                          "the paper's sharpness knob: multiplying the parameters by √k multiplies the Hessian by k",
                          "Xie et al. 2021; docs/theory.md §Sharpness scaling"),),
        steps=tuple(r.steps), results={}, final=eq(sp.Symbol("tau_k"), _TAU1 / k),
        matches="the paper's claims γ = O(k) for SGLD and −log γ = O(1/k) for SGD (docs/theory.md §The paper's claims)",
        checks=tuple(r.checks),
        notes=("White noise: γ ∝ k exactly, so log γ against log k has slope 1 (not only asymptotically).",
               "SGD: k enters only through B/(ηk) plus the 1/k time factor, so the 1/k sweep and the B/η sweep test "
               "the same thing; neither independently tests Hessian dependence (docs/theory.md §Sharpness scaling, "
               "§Open questions)."),
        source="docs/theory.md §Sharpness scaling")
