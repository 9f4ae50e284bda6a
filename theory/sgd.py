"""Derivation 3: the SGD escape law (Xie et al. 2021, Eq. (2), (3), (7); docs/theory.md §The SDE,
§Hessian noise and the loss unit, §Stochastic calculus conventions, §SGD law).

Three recorded derivations and their assembly:

* ``derive_sde_noise``   — D = ηC/2 = ηλH/(2B) from matching Euler–Maruyama to SGD (Eq. 2–3), and
  what the leading factor 2 that some transcriptions print in Eq. (2) would imply (docs/theory.md §The SDE).
* ``derive_sgd_exponent`` — the quasi-potential ∫L′/D along the escape path, split at s in the
  two-region model: (2BΔL/(ηλ))·(s/H_ae + (1−s)/|H_be|)  (Eq. 7's exponent).
* ``derive_mfpt_asymptotics`` — Laplace asymptotics of the exact 1-D mean first-passage time with
  position-dependent D under the α-convention (docs/theory.md §Prefactor conventions, §Exact references):
  τ ≃ 2π/√(H_a|H_b|) · (D_b/D_a)^{1/2−α} · exp(ΔΦ); Itô α = 0, Stratonovich ½, Hänggi–Klimontovich 1.
* ``derive_sgd_law`` — prefactor × exp(exponent) for each convention; the Hänggi–Klimontovich case is
  the paper's 2π/|H_be| (checked identical to Eq. (7) in its printed form at λ = 1).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from flatminima.errors import InputError
from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, eq, gaussian_integral, solve_linear

CONVENTIONS = {"ito": sp.Integer(0), "stratonovich": sp.Rational(1, 2), "hanggi_klimontovich": sp.Integer(1)}
CONVENTION_LABELS = {"ito": "Itô (α = 0)", "stratonovich": "Stratonovich (α = ½)",
                     "hanggi_klimontovich": "Hänggi–Klimontovich (α = 1, the paper's prefactor)"}
PAPER_CONVENTION = "hanggi_klimontovich"


def check_convention(convention: str) -> str:
    """Return ``convention`` if it is one of ``CONVENTIONS``; ValueError naming the choices otherwise."""
    if convention not in CONVENTIONS:
        raise InputError(f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}")
    return convention


def printed_eq7() -> sp.Expr:
    """Eq. (7) in its printed form (λ = 1): τ = 2π/|H_be| · exp[(2BΔL/η)(s/H_ae + (1−s)/|H_be|)]."""
    return 2 * sp.pi / S.h_be * sp.exp(2 * S.batch_size * S.barrier / S.eta
                                       * (S.s / S.h_ae + (1 - S.s) / S.h_be))


def sgd_diffusion(curvature: sp.Expr) -> sp.Expr:
    """D = ηλH/(2B), the SGD diffusion coefficient at curvature H.

    See docs/theory.md §Hessian noise and the loss unit.
    """
    return S.eta * S.loss_unit * curvature / (2 * S.batch_size)


@cache
def derive_sde_noise() -> Derivation:
    """D = ηC/2 by matching one Euler–Maruyama step of the SDE to one SGD step; then C = λH/B."""
    D, eta, C = S.temperature, S.eta, sp.Symbol("C", positive=True)
    H = sp.Symbol("H", positive=True)
    r = StepRecorder()
    assumptions = (
        Step("SGD update with gradient noise of covariance C (Eq. (1))",
             eq(sp.Symbol("Δθ"), -eta * sp.Symbol("∇L") - eta * sp.Symbol("ξ")),
             "Cov ξ = C; the noise is evaluated at the current iterate, so discrete SGD is Itô",
             "Xie et al. 2021, Eq. (1); docs/theory.md §SGD noise"),
        Step("SDE with time step dt = η (Eq. (2), without the leading factor 2 of some transcriptions)",
             eq(sp.Symbol("dθ"), -sp.Symbol("∇L") * sp.Symbol("dt") + sp.sqrt(2 * D) * sp.Symbol("dW")),
             "docs/theory.md §The SDE", "Xie et al. 2021, Eq. (2)"),
        Step("Noise covariance proportional to the Hessian (Eq. (3)) with loss-unit constant λ",
             eq(C, S.loss_unit * H / S.batch_size),
             "C ≈ FIM/B ≈ H/B near minima; λ = 1 in nats, free for synthetic losses",
             "Xie et al. 2021, Eq. (3); docs/theory.md §Hessian noise and the loss unit"),
    )
    var_sde = r.step("One Euler–Maruyama step of length η has noise variance", eq(sp.Symbol("Var_SDE"), 2 * D * eta),
                     "Var[√(2D)ΔW] = 2D·η", "docs/theory.md §The SDE")
    var_sgd = r.step("One SGD step has noise variance", eq(sp.Symbol("Var_SGD"), eta**2 * C),
                     "Var[ηξ] = η²C", "docs/theory.md §The SDE")
    D_sol = solve_linear(eq(var_sde.rhs, var_sgd.rhs), D)
    r.step("Matching the two variances gives the diffusion coefficient", eq(D, D_sol),
           "solved by SymPy (linear equation)", "docs/theory.md §The SDE")
    D_sgd = D_sol.subs(C, S.loss_unit * H / S.batch_size)
    r.step("With C = λH/B", eq(D, D_sgd), "substitution of Eq. (3)", "docs/theory.md §Hessian noise and the loss unit")
    r.check("D = ηλH/(2B)", D_sgd, sgd_diffusion(H))
    # The printed factor 2: dθ = −∇L dt + 2[2D]^{1/2} dW has noise variance 8Dη per step.
    D_printed = sp.Symbol("D_printed", positive=True)
    D_eff = solve_linear(eq(2 * D_eff_sym() * eta, (2 * sp.sqrt(2 * D_printed))**2 * eta), D_eff_sym())
    r.step("Taken literally, the transcription 'dθ = −∇L dt + 2[2D]^{1/2} dW' of Eq. (2) has diffusion coefficient",
           eq(D_eff_sym(), D_eff),
           "its noise variance per unit time is (2√(2D))² = 8D = 2·(4D)",
           "docs/theory.md §The SDE")
    r.step("so Eq. (6)'s exponent would read ΔL/(4D) instead of ΔL/D",
           eq(sp.Symbol("exponent_printed"), S.barrier / D_eff.subs(D_printed, D)),
           "Kramers with diffusion 4D; inconsistent with Eq. (6) and with D = ηC/2, so the factor 2 is a typo",
           "docs/theory.md §The SDE")
    return Derivation(
        key="sde_noise",
        title="SGD as an SDE: D = ηλH/(2B)",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"diffusion": D_sgd},
        final=eq(D, D_sgd),
        matches="Xie et al. 2021, Eq. (2) (without the leading factor 2 of some transcriptions) and Eq. (3)",
        checks=tuple(r.checks),
        notes=("Discrepancy: some transcriptions of Eq. (2) print a leading factor 2, '2[2D(θ)]^{1/2} dW_t'. With "
               "it the diffusion coefficient is 4D and every exponent ΔL/D would be ΔL/(4D); Eq. (6)–(7) and "
               "the Euler–Maruyama match D = ηC/2 require the factor to be absent (docs/theory.md §The SDE).",
               "Time: SDE time t = η × iterations; a rate per iteration is γ_iter = η·γ_SDE "
               "(docs/theory.md §Time and rates).",
               "λ (loss_unit) makes C ≈ λH/B dimensionally consistent: C has units loss²/θ², H loss/θ² "
               "(docs/theory.md §Hessian noise and the loss unit)."),
        source="Xie et al. 2021, Eq. (1)–(3); docs/theory.md §SGD noise, §The SDE, §Hessian noise and the loss unit",
    )


def D_eff_sym() -> sp.Symbol:
    return sp.Symbol("D_eff", positive=True)


@cache
def derive_sgd_exponent() -> Derivation:
    """ΔΦ = ∫_a^b L′/D dθ with D = D_a before the split point c and D_b after it (two-region model)."""
    th = S.theta
    a, b, c = sp.symbols("a b c", real=True)
    L = sp.Function("L")
    Lc = sp.Symbol("L_c", real=True)
    r = StepRecorder()
    assumptions = (
        Step("Stationary density along the escape path ∝ exp(−Φ), with the quasi-potential Φ(θ) = ∫_a^θ L′/D",
             eq(sp.Function("Phi")(th), sp.Integral(L(sp.Symbol("u")).diff(sp.Symbol("u")) / sp.Function("D")(sp.Symbol("u")), (sp.Symbol("u"), a, th))),
             "zero-flux solution of the 1-D Fokker–Planck equation up to a convention-dependent power of D "
             "(derived in the MFPT section)",
             "docs/theory.md §Stochastic calculus conventions, §The path parameter s"),
        Step("Two-region model: the diffusion near the minimum and near the saddle, along the escape direction e",
             sp.And(eq(S.D_a, sgd_diffusion(S.h_ae)), eq(S.D_b, sgd_diffusion(S.h_be))),
             "D = ηλH/(2B) (Eq. (3)) evaluated with H_ae before the split point c and |H_be| after it",
             "docs/theory.md §The path parameter s"),
        Step("The split point c defines s as the fraction of the barrier climbed in the minimum-like region",
             eq(S.s, (Lc - S.L_a) / S.barrier), "definition; 0 ≤ s ≤ 1 when L is monotone on [a, b]",
             "docs/theory.md §The path parameter s"),
    )
    part_a = sp.integrate(sp.Derivative(L(th), th), (th, a, c)) / S.D_a     # D_a constant on [a, c]
    part_b = sp.integrate(sp.Derivative(L(th), th), (th, c, b)) / S.D_b     # D_b constant on [c, b]
    dPhi = r.step("Split the quasi-potential at c; D is constant on each piece",
                  eq(sp.Symbol("ΔΦ"), part_a + part_b), "∫L′dθ = ΔL on each piece, by SymPy",
                  "docs/theory.md §The path parameter s")
    dPhi = dPhi.rhs.subs({L(a): S.L_a, L(c): Lc, L(b): S.L_a + S.barrier})
    dPhi = dPhi.subs(Lc, S.L_a + S.s * S.barrier)
    dPhi = r.step("In terms of s and ΔL", eq(sp.Symbol("ΔΦ"), sp.expand(dPhi)),
                  "L(c) = L_a + sΔL, L(b) = L_a + ΔL", "docs/theory.md §The path parameter s")
    # Display form of the derived exponent; the check below certifies it equals the SymPy result.
    exponent = 2 * S.batch_size * S.barrier / (S.eta * S.loss_unit) * (S.s / S.h_ae + (1 - S.s) / S.h_be)
    r.step("With D_a = ηλH_ae/(2B), D_b = ηλ|H_be|/(2B)",
           eq(sp.Symbol("ΔΦ"), exponent), "substitution; SymPy checks the factorised form",
           "Xie et al. 2021, Eq. (7)")
    r.check("ΔΦ = (2BΔL/(ηλ))(s/H_ae + (1−s)/|H_be|)",
            dPhi.rhs.subs({S.D_a: sgd_diffusion(S.h_ae), S.D_b: sgd_diffusion(S.h_be)}), exponent)
    printed_exp = 2 * S.batch_size * S.barrier / S.eta * (S.s / S.h_ae + (1 - S.s) / S.h_be)
    r.check("at λ = 1 it is the exponent printed in Eq. (7)", exponent.subs(S.loss_unit, 1), printed_exp)
    # General profile D = ηλ g(θ)/(2B): the exponent is (2B/(ηλ))∫L′/g, which defines s implicitly.
    I = sp.Symbol("I_g", positive=True)   # ∫_a^b L′/g dθ
    s_implied = solve_linear(eq(S.barrier * (S.s / S.h_ae + (1 - S.s) / S.h_be), I), S.s)
    r.step("For any positive profile D = ηλg(θ)/(2B) the exponent is (2B/(ηλ))·I_g with I_g = ∫_a^b L′/g; "
           "equating with the two-region form defines the implied s",
           eq(S.s, s_implied), "solved by SymPy (linear in s); s ∈ [0,1] iff I_g/ΔL lies between 1/H_ae and 1/|H_be|",
           "docs/theory.md §The path parameter s, §Ill-posed Hessian noise")
    return Derivation(
        key="sgd_exponent",
        title="SGD escape exponent: the quasi-potential split at s",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"exponent": exponent, "exponent_two_region": dPhi.rhs, "s_implied": s_implied, "I_g": I},
        final=eq(sp.Symbol("ΔΦ"), exponent),
        matches="the exponent of Xie et al. 2021, Eq. (7), with loss unit λ",
        checks=tuple(r.checks),
        notes=("s is a property of the two-region model, not of a 'C ∝ |H(θ)| everywhere' simulation "
               "(docs/theory.md §Ill-posed Hessian noise).",),
        source="Xie et al. 2021, Eq. (7); docs/theory.md §SGD law, §The path parameter s",
    )


@cache
def derive_mfpt_asymptotics() -> Derivation:
    """Exact 1-D MFPT with position-dependent D and its Laplace asymptotics under the α-convention."""
    x, yv = S.x, S.y
    L, Dfun, Phi, F = (sp.Function(n) for n in ("L", "D", "Phi", "F"))
    al = S.alpha_conv
    r = StepRecorder()
    mu = -L(x).diff(x) + al * Dfun(x).diff(x)
    assumptions = (
        Step("α-convention SDE written in Itô form: dx = μ dt + √(2D(x)) dW with drift μ = −L′ + αD′ "
             "(α = 0 Itô, ½ Stratonovich, 1 Hänggi–Klimontovich); generator 𝒜f = μf′ + Df″",
             eq(sp.Symbol("mu"), mu), "noise-induced drift αD′ of the α-convention",
             "docs/theory.md §Stochastic calculus conventions, §Exact references"),
        Step("Quasi-potential Φ with Φ′ = L′/D", eq(Phi(x).diff(x), L(x).diff(x) / Dfun(x)), "definition",
             "docs/theory.md §The path parameter s"),
        Step("Quadratic minimum a and saddle b; D(a) = D_a, D(b) = D_b; low noise ΔΦ ≫ 1",
             sp.And(eq(sp.Symbol("L''(a)"), S.H_a), eq(sp.Symbol("L''(b)"), -S.H_b)),
             "Assumptions 1 and 3", "Xie et al. 2021; docs/theory.md §Assumptions"),
    )
    phi_rule = {Phi(x).diff(x): L(x).diff(x) / Dfun(x)}
    p = Dfun(x) ** (al - 1) * sp.exp(-Phi(x))
    flux = (mu * p - (Dfun(x) * p).diff(x)).subs(phi_rule)
    r.step("Stationary zero-flux density", eq(sp.Function("p")(x), p),
           "μp − (Dp)′ = 0, verified by SymPy with Φ′ = L′/D", "docs/theory.md §Stochastic calculus conventions")
    r.check("μp − (Dp)′ = 0 for p = D^{α−1}e^{−Φ}", flux)
    # Exact MFPT T(x) = ∫_x^c dy/(D p) ∫_{-∞}^y p dz; write F(y) = ∫_{-∞}^y p, so T′(x) = −F/(D p).
    Tprime = -F(x) / (Dfun(x) * p)
    Tsecond = Tprime.diff(x).subs(F(x).diff(x), p)
    gen = (mu * Tprime + Dfun(x) * Tsecond).subs(phi_rule)
    c = sp.Symbol("c", real=True)
    T_exact = sp.Integral(sp.Integral(sp.Function("p")(sp.Symbol("z")), (sp.Symbol("z"), -sp.oo, yv))
                          / (sp.Function("D")(yv) * sp.Function("p")(yv)), (yv, x, c))
    r.step("Exact mean first-passage time to an absorbing point c beyond the saddle (reflecting at −∞)",
           eq(sp.Function("T")(x), T_exact),
           "solves 𝒜T = −1 with T(c) = 0: with F = ∫_{−∞}^x p, T′ = −F/(Dp) and μT′ + DT″ = −1 (SymPy)",
           "docs/theory.md §Exact references")
    r.check("μT′ + DT″ = −1", gen, -1)
    # Curvature of Φ at the critical points.
    phi2 = (L(x).diff(x) / Dfun(x)).diff(x)
    r.step("Curvature of Φ", eq(sp.Symbol("Φ''"), phi2),
           "differentiate Φ′ = L′/D; at a critical point L′ = 0 removes the D′ term",
           "docs/theory.md §Prefactor conventions")

    def at_critical_point(expr, curvature, diffusion):
        # values of the derivatives at a critical point: L″ = curvature, L′ = 0, D = diffusion
        return expr.xreplace({L(x).diff(x, 2): curvature}).xreplace({L(x).diff(x): 0, Dfun(x): diffusion})

    phi2_a_val = sp.cancel(at_critical_point(phi2, S.H_a, S.D_a))
    r.check("Φ″(a) = H_a/D_a", phi2_a_val, S.H_a / S.D_a)
    phi2_b = sp.cancel(at_critical_point(phi2, -S.H_b, S.D_b))
    r.check("Φ″(b) = −|H_b|/D_b", phi2_b, -S.H_b / S.D_b)
    Phi_a, Phi_b = sp.symbols("Phi_a Phi_b", real=True)
    inner = S.D_a ** (al - 1) * sp.exp(-Phi_a) * gaussian_integral(phi2_a_val, 1)
    r.step("Laplace's method for the inner integral: for y near b, ∫_{−∞}^y p ≈ the whole valley population",
           eq(sp.Symbol("∫p"), inner), "Gaussian integral with curvature Φ″(a) = H_a/D_a (SymPy)",
           "docs/theory.md §Prefactor conventions")
    outer = S.D_b ** (-al) * sp.exp(Phi_b) * gaussian_integral(-phi2_b, 1)
    r.step("Laplace's method for the outer integral ∫ dy/(Dp) = ∫ D^{−α} e^{Φ} dy across the saddle",
           eq(sp.Symbol("∫1/(Dp)"), outer),
           "Gaussian integral with curvature |Φ″(b)| = |H_b|/D_b (SymPy); the full Gaussian because c lies "
           "beyond b (half of it for the MFPT to b itself, docs/theory.md §Which escape time)",
           "docs/theory.md §Prefactor conventions, §Which escape time")
    tau = inner * outer
    tau_form = 2 * sp.pi / sp.sqrt(S.H_a * S.H_b) * (S.D_b / S.D_a) ** (sp.Rational(1, 2) - al) * sp.exp(Phi_b - Phi_a)
    r.step("Product of the two Laplace integrals", eq(S.escape_time, tau_form),
           "τ ≃ (∫p)(∫1/(Dp)); SymPy checks the collected form", "docs/theory.md §Prefactor conventions")
    r.check("τ = 2π/√(H_a|H_b|)(D_b/D_a)^{1/2−α}e^{ΔΦ}", tau, tau_form)
    prefactor = tau_form / sp.exp(Phi_b - Phi_a)
    sgd_pref = sp.powsimp(prefactor.subs({S.D_a: sgd_diffusion(S.H_a), S.D_b: sgd_diffusion(S.H_b)}), force=True)
    r.step("SGD noise D = ηλH/(2B): D_b/D_a = |H_b|/H_a, so the prefactor is",
           eq(sp.Symbol("prefactor"), sgd_pref), "substitution", "docs/theory.md §Prefactor conventions")
    prefactors = {}
    for name, val in CONVENTIONS.items():
        pf = sp.powsimp(sp.expand_power_base(sgd_pref.subs(al, val), force=True), force=True).subs({S.H_a: S.h_ae, S.H_b: S.h_be})
        prefactors[name] = pf
        r.step(f"{CONVENTION_LABELS[name]}", eq(sp.Symbol("prefactor"), pf), "α substituted",
               "docs/theory.md §Prefactor conventions")
    r.check("Itô prefactor 2π/H_ae", prefactors["ito"], 2 * sp.pi / S.h_ae)
    r.check("Stratonovich prefactor 2π/√(H_ae|H_be|)", prefactors["stratonovich"], 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be))
    r.check("Hänggi–Klimontovich prefactor 2π/|H_be| (the paper's)", prefactors["hanggi_klimontovich"], 2 * sp.pi / S.h_be)
    r.check("constant D (D_a = D_b): the 1-D Kramers prefactor for every α",
            prefactor.subs(S.D_b, S.D_a), 2 * sp.pi / sp.sqrt(S.H_a * S.H_b))
    return Derivation(
        key="mfpt_conventions",
        title="Exact 1-D mean first-passage time with position-dependent D, and its Laplace asymptotics",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"escape_time": tau_form, "prefactor": prefactor, **{f"prefactor_{k}": v for k, v in prefactors.items()}},
        final=eq(S.escape_time, tau_form),
        matches="docs/theory.md §Prefactor conventions (the prefactor of Xie et al. 2021, Eq. (7) is the α = 1 case)",
        checks=tuple(r.checks),
        notes=("Numerically confirmed in docs/theory.md table T3 (D = εe^{0.9θ}): exact/asymptotic → 1 for all three "
               "conventions.",
               "The paper writes the Itô Fokker–Planck equation but its prefactor 2π/|H_be| is the "
               "Hänggi–Klimontovich one; Itô gives 2π/H_ae. The difference is sub-exponential: it matters for "
               "absolute rates, not for slopes (docs/theory.md §Prefactor conventions). Discrete SGD is Itô.",
               "In n-D with D ∝ H(θ) the process is generally non-reversible; the Itô analogue gains a factor "
               "|det H_b|/det H_a [heuristic] and the exponent is a Freidlin–Wentzell quasi-potential "
               "(docs/theory.md §Prefactor conventions, §Quasi-potential). The registry's SGD law is the 1-D "
               "reduction along the escape path."),
        source="docs/theory.md §Stochastic calculus conventions, §Prefactor conventions, §Exact references",
    )


@cache
def derive_sgd_law() -> Derivation:
    """τ = prefactor(convention) × exp(ΔΦ): the SGD law, with the checks against Eq. (7) and its limits."""
    exp_d = derive_sgd_exponent()
    mfpt = derive_mfpt_asymptotics()
    exponent = exp_d.results["exponent"]
    r = StepRecorder()
    laws = {}
    for name in CONVENTIONS:
        laws[name] = mfpt.results[f"prefactor_{name}"] * sp.exp(exponent)
        r.step(f"Escape time, {CONVENTION_LABELS[name]}", eq(S.escape_time, laws[name]),
               "Laplace prefactor (MFPT section) × exp(two-region quasi-potential)",
               "docs/theory.md §SGD law, §Prefactor conventions")
    r.check("the Hänggi–Klimontovich law at λ = 1 is identical to Eq. (7) in its printed form",
            laws["hanggi_klimontovich"].subs(S.loss_unit, 1), printed_eq7())
    D_a = sgd_diffusion(S.h_ae)
    kramers = 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be) * sp.exp(S.barrier / D_a)
    for name, val in CONVENTIONS.items():
        r.check(f"s = 1, {name}: Kramers with D = ηλH_ae/(2B) times (|H_be|/H_ae)^{{1/2−α}}",
                laws[name].subs(S.s, 1), kramers * (S.h_be / S.h_ae) ** (sp.Rational(1, 2) - val))
        h = sp.Symbol("h", positive=True)
        r.check(f"isotropic H_ae = |H_be| = h, {name}: Kramers with D = ηλh/(2B) for every s",
                laws[name].subs({S.h_ae: h, S.h_be: h}),
                2 * sp.pi / h * sp.exp(S.barrier / sgd_diffusion(h)))
    r.step("Rate per unit SDE time", eq(S.rate, 1 / laws[PAPER_CONVENTION]), "γ = 1/τ", "Xie et al. 2021, Eq. (4)")
    # The same law with the two diffusion coefficients left free, for noise that is measured rather than
    # assumed ∝ H (minibatch SGD): D_a along e near the minimum, D_b near the saddle.
    general_pref = sp.powsimp(mfpt.results["prefactor"].subs({S.alpha_conv: 0, S.H_a: S.h_ae, S.H_b: S.h_be}))
    two_region = general_pref * sp.exp(exp_d.results["exponent_two_region"])
    r.step("Escape time, Itô, with measured diffusion coefficients D_a (before the split) and D_b (after it)",
           eq(S.escape_time, two_region), "Laplace prefactor at α = 0 × exp(sΔL/D_a + (1−s)ΔL/D_b)",
           "docs/theory.md §Two-region law with measured noise")
    r.check("with D_a = ηλH_ae/(2B), D_b = ηλ|H_be|/(2B) it is the Itô SGD law",
            two_region.subs({S.D_a: sgd_diffusion(S.h_ae), S.D_b: sgd_diffusion(S.h_be)}), laws["ito"])
    return Derivation(
        key="sgd_law",
        title="SGD escape law (Eq. (7)) under three prefactor conventions",
        assumptions=(Step("D(θ) = ηλH(θ)/(2B) along the escape path, two-region model split at s", None,
                          "sections 'SGD as an SDE' and 'SGD escape exponent'",
                          "docs/theory.md §SGD law, §The path parameter s"),),
        steps=tuple(r.steps),
        results={**{f"escape_time_{k}": v for k, v in laws.items()}, "exponent": exponent,
                 **{f"prefactor_{k}": mfpt.results[f"prefactor_{k}"] for k in CONVENTIONS},
                 "printed": printed_eq7(), "escape_time_two_region_ito": two_region,
                 "exponent_two_region": exp_d.results["exponent_two_region"], "prefactor_two_region_ito": general_pref},
        final=eq(S.escape_time, laws[PAPER_CONVENTION]),
        matches="Xie et al. 2021, Eq. (7) (Hänggi–Klimontovich prefactor, λ = 1)",
        checks=tuple(r.checks),
        notes=("There is no determinant ratio in the SGD prefactor [R]; the 1-D reduction reproduces 2π/|H_be| "
               "only under the Hänggi–Klimontovich convention (docs/theory.md §SGD law, §Prefactor conventions).",
               "Discrete SGD evaluates the noise at the current iterate: it is Itô. Absolute-rate predictions for "
               "simulated hessian_two_region noise should use convention='ito' (docs/theory.md §C9).",
               "Regime: the exponent should be ≥ 5 (low temperature); s ∈ [0,1] is a regime, not a domain."),
        source="Xie et al. 2021, Eq. (7); docs/theory.md §SGD law",
    )
