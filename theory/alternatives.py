"""Derivation 5: alternative escape laws written as formulas of the same kind.

Sections of docs/theory.md: §Alternative hypotheses, and per law:

* Mori et al. (ICML 2022) power law for C = 2L·h*/B noise, by a random time change (§Mori power law).
* Lévy-driven escape (Imkeller–Pavlyukevich; Şimşekli et al.), by the first large jump (§Levy escape).
* Heavy-ball momentum, an Adam-like preconditioner and Positive–Negative Momentum exponents
  (§Optimizer exponents).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, eq, solve_linear
from flatminima.theory.sgd import derive_mfpt_asymptotics, derive_sgd_exponent

_N = S.n_outliers


@cache
def derive_mori() -> Derivation:
    """τ = 2π/√(H_ae|H_be|)·(L_b/L_a)^{B/(ηh*)+1/2} (1-D) and its n-D form (docs/theory.md §Mori power law)."""
    eta, B, hs = S.eta, S.batch_size, S.h_star
    La, Lb = S.loss_min, S.loss_saddle
    Lsym = sp.Symbol("L", positive=True)
    r = StepRecorder()
    assumptions = (
        Step("MSE-type noise: C = 2L(θ)h*/B along the outlier directions, hence D = ηC/2 = ηL(θ)h*/B",
             eq(sp.Symbol("D(θ)"), eta * Lsym * hs / B), "Mori et al. noise model; D = ηC/2 (docs/theory.md §The SDE)",
             "docs/theory.md §loss_hessian, §Mori power law"),
        Step("Loss positive on the path (L_a > 0) and quadratic near the minimum and the saddle", None,
             "the time change below needs L > 0", "docs/theory.md §Mori power law"),
    )
    eps = r.step("Random time change dt̃ = L dt: drift and diffusion are divided by L",
                 eq(sp.Symbol("D̃"), sp.cancel(eta * Lsym * hs / B / Lsym)),
                 "dθ = −L′dt + √(2D)dW becomes dθ = −(L′/L)dt̃ + √(2D/L)dW̃ = −(log L)′dt̃ + √(2ηh*/B)dW̃",
                 "docs/theory.md §Mori power law").rhs
    r.check("drift −L′/L = −(log L)′", -sp.Function("L")(S.x).diff(S.x) / sp.Function("L")(S.x),
            -sp.diff(sp.log(sp.Function("L")(S.x)), S.x))
    U = sp.log(sp.Function("L")(S.x))
    Upp = sp.diff(U, S.x, 2).xreplace({sp.Function("L")(S.x).diff(S.x, 2): sp.Symbol("L''")}).xreplace(
        {sp.Function("L")(S.x).diff(S.x): 0, sp.Function("L")(S.x): Lsym})
    r.step("Constant-temperature problem in t̃ on the potential U = log L; at a critical point U″ = L″/L",
           eq(sp.Symbol("U''"), Upp), "SymPy differentiation with L′ = 0", "docs/theory.md §Mori power law")
    kr = 2 * sp.pi / sp.sqrt(S.H_a * S.H_b) * sp.exp(S.barrier / S.temperature)   # derivation 1 (checked there)
    tau_tilde = kr.subs({S.H_a: S.h_ae / La, S.H_b: S.h_be / Lb, S.barrier: sp.log(Lb / La), S.temperature: eps})
    r.step("1-D Kramers (derivation 1) in t̃ with curvatures H_ae/L_a, |H_be|/L_b, barrier log(L_b/L_a), temperature ηh*/B",
           eq(sp.Symbol("τ̃"), tau_tilde), "substitution into the derived Kramers law",
           "docs/theory.md §Mori power law")
    tau = sp.powsimp(sp.expand_power_base(tau_tilde / La, force=True), force=True)
    law = 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be) * (Lb / La) ** (B / (eta * hs) + sp.Rational(1, 2))
    r.step("Back to real time: dt = dt̃/L ≈ dt̃/L_a (the walker spends its time near a)",
           eq(S.escape_time, law), "τ = τ̃/L_a; SymPy checks the collected power law", "docs/theory.md §Mori power law")
    r.check("τ = 2π/√(H_ae|H_be|)(L_b/L_a)^{B/(ηh*)+1/2}", sp.expand_log(sp.log(tau), force=True),
            sp.expand_log(sp.log(law), force=True))
    eps_sym = sp.Symbol("epsilon_M", positive=True)
    mfpt = derive_mfpt_asymptotics().results["escape_time"].subs(S.alpha_conv, 0)
    ito = mfpt.subs({S.D_a: eps_sym * La, S.D_b: eps_sym * Lb, sp.Symbol("Phi_b", real=True): sp.log(Lb) / eps_sym,
                     sp.Symbol("Phi_a", real=True): sp.log(La) / eps_sym})
    r.check("agrees with the Itô MFPT asymptotics for D = εL, Φ = log(L)/ε (docs/theory.md table T4)",
            sp.expand_log(sp.log(ito.subs({S.H_a: S.h_ae, S.H_b: S.h_be, eps_sym: eta * hs / B})), force=True),
            sp.expand_log(sp.log(law), force=True))
    det_a, det_b = S.det_H_a, S.abs_det_H_b
    ek = 2 * sp.pi / S.h_be * sp.sqrt(det_b / det_a) * sp.exp(S.barrier / S.temperature)   # derivation 2
    ek_t = ek.subs({S.h_be: S.h_be / Lb, det_b: det_b / Lb**_N, det_a: det_a / La**_N,
                    S.barrier: sp.log(Lb / La), S.temperature: eps})
    law_nd = 2 * sp.pi / S.h_be * sp.sqrt(S.det_ratio) * (Lb / La) ** (B / (eta * hs) + 1 - _N / 2)
    r.step("n outlier directions: Eyring–Kramers (derivation 2) in t̃ with Hessians H/L, then τ = τ̃/L_a",
           eq(S.escape_time, law_nd), "det(H/L) = det H / L^n", "docs/theory.md §Mori power law (Mori's '+1 − n/2')")
    r.check("n-D Mori law", sp.expand_log(sp.log((ek_t / La).subs(det_b, S.det_ratio * det_a)), force=True),
            sp.expand_log(sp.log(law_nd), force=True))
    r.check("n = 1 with det ratio |H_be|/H_ae gives the 1-D law",
            sp.expand_log(sp.log(law_nd.subs({_N: 1, S.det_ratio: S.h_be / S.h_ae})), force=True),
            sp.expand_log(sp.log(law), force=True))
    small = sp.series(sp.log(1 + S.barrier / La), S.barrier, 0, 2).removeO()
    r.step("Small barrier ΔL ≪ L_a: log(L_b/L_a) = log(1 + ΔL/L_a) ≈ ΔL/L_a, an Arrhenius law",
           eq(sp.log(Lb / La), small), "series expansion by SymPy", "docs/theory.md §Mori power law")
    # cross-multiplied so that the equation is linear in λ
    lam = solve_linear(eq(S.loss_unit * B / (eta * hs) * small, 2 * B * S.barrier / (eta * hs)), S.loss_unit)
    r.step("which is Xie's exponent at s-independent curvature h* with loss unit", eq(S.loss_unit, lam),
           "solved by SymPy (linear equation)", "docs/theory.md §Mori power law")
    return Derivation(
        key="mori", title="Mori et al. power-law escape (C = 2L·h*/B)",
        assumptions=assumptions, steps=tuple(r.steps),
        results={"escape_time_1d": law, "escape_time_nd": law_nd,
                 "exponent_1d": (B / (eta * hs) + sp.Rational(1, 2)) * sp.log(Lb / La),
                 "prefactor_1d": 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be),
                 "exponent_nd": (B / (eta * hs) + 1 - _N / 2) * sp.log(Lb / La),
                 "prefactor_nd": 2 * sp.pi / S.h_be * sp.sqrt(S.det_ratio)},
        final=eq(S.escape_time, law),
        matches="Mori, Ziyin, Liu & Ueda (2022) [R structure, D re-derived]; docs/theory.md §Mori power law",
        checks=tuple(r.checks),
        notes=("The exponent depends on the log loss barrier log(L_b/L_a), not on ΔL, and diverges as L_a → 0 "
               "(discriminating experiment: vary L_a at fixed ΔL and H, docs/theory.md §C12).",
               "Both Mori and Xie predict −log γ linear in B/η; only the slope differs "
               "(docs/theory.md §Mori power law)."),
        source="Mori, Ziyin, Liu & Ueda (2022); docs/theory.md §Mori power law, table T4")


@cache
def derive_levy() -> Derivation:
    """E τ ≈ α/(ε^α(b₋^{−α} + b₊^{−α})) and its SGD scaling ε = σ(η/B)^{1−1/α} (docs/theory.md §Levy escape)."""
    al, eps, bm, bp = S.tail_index, S.noise_scale, S.width_left, S.width_right
    yv = sp.Symbol("y", positive=True)
    r = StepRecorder()
    assumptions = (
        Step("dX = −U′(X)dt + ε dL^α_t with a symmetric α-stable Lévy process of jump measure ν(dy) = |y|^{−1−α}dy",
             eq(sp.Symbol("ν(dy)"), sp.Abs(yv) ** (-1 - al)), "0 < α < 2",
             "Imkeller–Pavlyukevich 2006; docs/theory.md §Levy escape"),
        Step("Small noise: between jumps the walker sits at the minimum; the basin is (−b₋, b₊) around it", None,
             "escape happens by one jump larger than the distance to the edge", "docs/theory.md §Levy escape"),
    )
    edge = sp.Symbol("edge", positive=True)
    tail = sp.integrate(yv ** (-1 - al), (yv, edge, sp.oo), conds="none")   # ν((edge, ∞)), once
    right, left = tail.subs(edge, bp / eps), tail.subs(edge, bm / eps)
    rate = r.step("Escape rate = ν-mass of jumps that leave the basin: εy > b₊ or εy < −b₋",
                  eq(S.rate, right + left), "two tail integrals computed by SymPy", "docs/theory.md §Levy escape").rhs
    law = al / (eps**al * (bm ** (-al) + bp ** (-al)))
    r.check("E τ = α/(ε^α(b₋^{−α} + b₊^{−α}))", 1 / rate, law)
    r.step("Mean escape time", eq(S.escape_time, law), "τ = 1/γ", "docs/theory.md §Levy escape")
    sig, eta, B = S.sample_noise_scale, S.eta, S.batch_size
    e_sol = solve_linear(eq(eps * eta ** (1 / al), eta * sig * B ** (1 / al - 1)), eps)
    r.step("SGD with α-stable per-sample noise of scale σ: the minibatch mean has scale σB^{1/α−1}; matching one "
           "step η·σB^{1/α−1} to the Lévy increment ε·η^{1/α} over dt = η gives",
           eq(eps, e_sol), "α-stable scaling of sums and of the Lévy process; solved by SymPy",
           "docs/theory.md §Levy escape")
    law_sgd = law.subs(eps, e_sol)
    x = sp.Symbol("x", real=True)     # x = log(B/η)
    slope = sp.expand(sp.diff(sp.expand_log(sp.log(law_sgd.subs(B, eta * sp.exp(x))), force=True), x))
    r.step("Hence log τ is linear in log(B/η)", eq(sp.Derivative(sp.log(S.escape_time), sp.Symbol("log(B/η)")), slope),
           "SymPy differentiation", "docs/theory.md §Levy escape, check C13")
    r.check("d log τ/d log(B/η) = α − 1", slope, al - 1)
    r.check("τ does not depend on the barrier height or curvature", sp.diff(law, S.barrier), 0)
    return Derivation(
        key="levy", title="Lévy-driven escape (heavy-tailed gradient noise)",
        assumptions=assumptions, steps=tuple(r.steps),
        results={"escape_time": law, "escape_time_sgd": sp.powsimp(law_sgd, force=True), "noise_scale": e_sol},
        final=eq(S.escape_time, law),
        matches="Şimşekli et al. 2019; Imkeller–Pavlyukevich 2006 [R]; docs/theory.md §Levy escape",
        checks=tuple(r.checks),
        notes=("Polynomial in 1/ε, set by the basin widths, independent of depth and curvature: the discriminator "
               "against Gaussian (Xie) escape is a barrier sweep at fixed width (docs/theory.md §C13).",
               "The normalisation of ν (|y|^{−1−α} without the α-stable constant) follows docs/theory.md "
               "§Levy escape; another normalisation rescales ε."),
        source="Imkeller–Pavlyukevich 2006; docs/theory.md §Levy escape")


@cache
def derive_optimizers() -> Derivation:
    """Escape exponents for heavy-ball momentum, an Adam-like preconditioner and PNM.

    See docs/theory.md §Optimizer exponents.
    """
    eta, B, lam, dL, s = S.eta, S.batch_size, S.loss_unit, S.barrier, S.s
    E = derive_sgd_exponent().results["exponent"]
    beta, j = S.momentum, sp.Symbol("j", integer=True, nonnegative=True)
    r = StepRecorder()
    Sg = sp.Symbol("S_geo")
    geo = solve_linear(eq(Sg, 1 + beta * Sg), Sg)      # Σ_j β^j = 1 + β Σ_j β^j (|β| < 1)
    r.step("Heavy ball m ← βm + g, θ ← θ − ηm: one gradient (and its noise ξ) moves θ in total by −η Σ_j β^j = "
           "−η/(1−β), in the overdamped limit", eq(sp.Symbol("η_eff"), eta * geo),
           "geometric series S = 1 + βS solved by SymPy (|β| < 1)", "docs/theory.md §Optimizer exponents")
    E_mom = E.subs(eta, eta * geo)
    r.step("Drift and noise are both scaled by 1/(1−β): SGD's exponent at η_eff", eq(sp.Symbol("ΔΦ_mom"), E_mom),
           "D = η_eff C/2", "docs/theory.md §Optimizer exponents")
    H = sp.Symbol("H", positive=True)
    P = 1 / sp.sqrt(lam * H / B)
    r.step("Adam-like preconditioner near a minimum: v ≈ diag C = λH/B, so the step is −ηP∇L̂ with P = 1/√v",
           eq(sp.Symbol("P"), P), "second-moment estimate ≈ noise variance",
           "docs/theory.md §Optimizer exponents")
    D_adam = solve_linear(eq(2 * S.temperature * eta, eta**2 * P**2 * lam * H / B), S.temperature)
    r.step("Noise per step ηP·ξ has variance η²P²λH/B = η², so the diffusion coefficient is", eq(S.temperature, D_adam),
           "match 2Dη = η² (as in the SGD section)", "docs/theory.md §Optimizer exponents")
    piece = lambda curv, frac: (P * frac * dL / D_adam).subs(H, curv)
    E_adam = piece(S.h_ae, s) + piece(S.h_be, 1 - s)
    r.step("Quasi-potential with drift −P L′ and constant D in each region of the two-region model",
           eq(sp.Symbol("ΔΦ_Adam"), E_adam), "∫P L′/D over each region, as in the SGD exponent",
           "docs/theory.md §Optimizer exponents")
    r.check("ΔΦ_Adam = (2√B ΔL/(η√λ))(s/√H_ae + (1−s)/√|H_be|)", E_adam,
            2 * sp.sqrt(B) * dL / (eta * sp.sqrt(lam)) * (s / sp.sqrt(S.h_ae) + (1 - s) / sp.sqrt(S.h_be)))
    b0 = S.pnm_beta0
    npnm = sp.sqrt((1 + b0) ** 2 + b0**2)
    eta_eff = eta / npnm
    E_pnm = E.subs(eta, eta_eff) / npnm**2
    r.step("PNM step −η[(1+β₀)m⁺ − β₀m⁻]/√((1+β₀)²+β₀²): mean drift at η' = η/√((1+β₀)²+β₀²); assuming the two "
           "buffers carry independent noise, the noise covariance is ((1+β₀)²+β₀²)·C at η'",
           eq(sp.Symbol("ΔΦ_PNM"), E_pnm), "SGD exponent at η' divided by (1+β₀)²+β₀²",
           "docs/theory.md §Optimizer exponents [D there; R for the paper]")
    return Derivation(
        key="optimizers", title="Momentum, Adam-like and PNM escape exponents",
        assumptions=(Step("Two-region model and D = ηλH/(2B) as for SGD; overdamped (small η, momentum not too close to 1)",
                          None, "as in the SGD derivation", "docs/theory.md §Optimizer exponents"),),
        steps=tuple(r.steps),
        results={"exponent_momentum": E_mom, "exponent_adam": E_adam, "exponent_pnm": E_pnm},
        final=eq(sp.Symbol("ΔΦ_Adam"), E_adam),
        matches="Xie et al. (Adai, ICML 2022; PNM, ICML 2021) [R]; docs/theory.md §Optimizer exponents",
        checks=tuple(r.checks),
        notes=("Only exponents are given; inertia changes the prefactor (underdamped Kramers, Hänggi, Talkner & "
               "Borkovec 1990).",
               "Momentum follows the PyTorch convention m ← βm + g; with the Adam-style m ← βm + (1−β)g the exponent "
               "equals SGD's at η.",
               "The PNM exponent treats the two momentum buffers' noises as independent with the covariance of one "
               "gradient each; this is the simplification stated in docs/theory.md §Optimizer exponents and is not "
               "checked here."),
        source="docs/theory.md §Optimizer exponents")
