"""Derivation 1: the 1-D Kramers law for constant diffusion, by flux over population (Eq. (4), Kramers 1940).

Result: τ = 2π/√(H_a|H_b|) · exp(ΔL/D)  (docs/theory.md §Kramers law in 1-D; the n = 1 case of Eq. (6)).
Equation numbers are those of Xie et al. 2021 as listed in docs/theory.md §Equation numbers.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, gaussian_integral, eq

SOURCE = ("Xie et al. 2021, Eq. (4) and Eq. (6) with n = 1; Kramers 1940; "
          "docs/theory.md §Assumptions, §Kramers law in 1-D")


@cache
def derive_kramers_1d() -> Derivation:
    """Flux over population for dθ = −L′dt + √(2D)dW with quadratic minimum and saddle."""
    th, D = S.theta, S.temperature
    a, b, c = sp.symbols("a b c", real=True)
    L, P = sp.Function("L"), sp.Function("P")
    r = StepRecorder()

    assumptions = (
        Step("Dynamics (Eq. (2) without the leading factor 2 of some transcriptions, docs/theory.md §The SDE): "
             "dθ = −L′(θ)dt + √(2D) dW with constant D > 0; its Fokker–Planck equation is",
             eq(sp.Derivative(sp.Symbol("P"), sp.Symbol("t")),
                sp.Derivative(sp.Derivative(sp.Symbol("L"), th) * sp.Symbol("P")
                              + D * sp.Derivative(sp.Symbol("P"), th), th)),
             "standard Itô Fokker–Planck equation; D constant so the convention does not matter",
             "docs/theory.md §Stochastic calculus conventions"),
        Step("Second-order Taylor expansion at the minimum a and at the saddle b (Assumption 1)",
             sp.And(eq(L(th), S.L_a + S.H_a * (th - a)**2 / 2),
                    eq(L(th), S.L_b - S.H_b * (th - b)**2 / 2)),
             "near a and near b respectively; H_a > 0, H_b < 0 with |H_b| written as a positive symbol",
             "Xie et al. 2021, Assumption 1 (docs/theory.md §Assumptions)"),
        Step("Quasi-equilibrium in the valley (Assumption 2)",
             eq(P(th), S.P_a * sp.exp(-(L(th) - S.L_a) / D)),
             "relaxation inside the valley is much faster than escape",
             "Xie et al. 2021, Assumption 2 (docs/theory.md §Assumptions)"),
        Step("Low temperature (Assumption 3): ΔL/D ≫ 1, so Laplace's method applies",
             sp.StrictGreaterThan(S.barrier / D, 1), "regime condition; checked as ΔL/D ≥ 5 numerically",
             "Xie et al. 2021, Assumption 3 (docs/theory.md §Assumptions)"),
    )

    # Step 1: the current as a total derivative.
    Jexpr = -L(th).diff(th) * P(th) - D * P(th).diff(th)
    J_total = -D * sp.exp(-L(th) / D) * sp.Derivative(sp.exp(L(th) / D) * P(th), th)
    r.step("Probability current J = −L′P − DP′ written as a total derivative",
           eq(Jexpr, J_total), "product rule; SymPy verifies the identity", "docs/theory.md §Assumptions")
    r.check("J = −D e^{−L/D} (e^{L/D} P)′", Jexpr, J_total.doit())

    # Step 2: constant stationary current, integrated from a to a point c beyond the saddle where P(c) ≈ 0.
    G = sp.Function("G")  # G = e^{L/D} P, integrated by the fundamental theorem of calculus
    boundary = sp.integrate(sp.Derivative(G(th), th), (th, a, c))
    boundary = boundary.subs({G(c): sp.exp(L(c) / D) * P(c), G(a): sp.exp(L(a) / D) * P(a)})
    boundary = boundary.subs({P(c): 0, P(a): S.P_a, L(a): S.L_a})
    barrier_integral = sp.Integral(sp.exp(L(th) / D), (th, a, c))
    J_stationary = r.step(
        "Stationary flux: J is constant; multiply by e^{L/D}/D and integrate from a to c beyond b, "
        "where the density vanishes (absorbing)",
        eq(S.J, -D * boundary / barrier_integral),
        "∫_a^c (e^{L/D}P)′ dθ = e^{L(c)/D}P(c) − e^{L_a/D}P(a), with P(c) = 0",
        "docs/theory.md §Exact references")

    # Step 3: Laplace's method at the saddle.
    saddle_gauss = gaussian_integral(S.H_b, D)
    r.step("Laplace's method: the barrier integral is dominated by the saddle, L ≈ L_b − |H_b|(θ−b)²/2",
           eq(barrier_integral, sp.exp(S.L_b / D) * saddle_gauss),
           "Gaussian integral ∫exp(−|H_b|x²/(2D))dx computed by SymPy; limits extended to ±∞ (ΔL/D ≫ 1)",
           "Assumptions 1, 3")
    J_value = J_stationary.rhs.subs(barrier_integral, sp.exp(S.L_b / D) * saddle_gauss)
    r.step("Hence the current over the barrier", eq(S.J, J_value), "substitution", "")

    # Step 4: population of the valley.
    population = S.P_a * gaussian_integral(S.H_a, D)
    pop_sym = sp.Function("P")(sp.Symbol("V_a"))
    r.step("Population of the valley: Gaussian (Laplace) integral of the quasi-equilibrium density around a",
           eq(pop_sym, population),
           "∫P(a)exp(−H_a(θ−a)²/(2D))dθ computed by SymPy", "Assumptions 1, 2")

    # Step 5: flux over population.
    tau = sp.powsimp(sp.expand_power_base(population / J_value, force=True), force=True)
    r.step("Mean escape time, flux over population (Eq. (4))",
           eq(S.escape_time, tau), "τ = P(V_a)/J, simplified by SymPy", "Xie et al. 2021, Eq. (4); Kramers 1940")
    law = sp.powsimp(sp.expand(tau.subs(S.L_b, S.L_a + S.barrier)), force=True)
    law = law.subs({S.H_a: S.h_ae, S.H_b: S.h_be})
    r.step("With ΔL = L_b − L_a and the glossary curvatures H_ae = H_a, |H_be| = |H_b|",
           eq(S.escape_time, law), "substitution", "docs/theory.md §Kramers law in 1-D")
    expected = 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be) * sp.exp(S.barrier / D)
    r.check("τ = 2π/√(H_a|H_b|)·e^{ΔL/D}", law, expected)

    return Derivation(
        key="kramers_1d",
        title="1-D Kramers law, constant diffusion (flux over population)",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"escape_time": law, "rate": 1 / law, "exponent": S.barrier / D,
                 "prefactor": 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be)},
        final=eq(S.escape_time, law),
        matches="Xie et al. 2021, Eq. (6) with n = 1 (det ratio |H_b|/H_a)",
        checks=tuple(r.checks),
        notes=("This is the Eyring–Kramers law in 1-D with ε = D (docs/theory.md §Eyring-Kramers law, "
               "§Kramers law in 1-D).",
               "τ is the flux-over-population time; the mean first-passage time to the saddle itself is "
               "half of it, the time to a point well beyond the saddle equals it (docs/theory.md §Which escape time, "
               "table T1)."),
        source=SOURCE,
    )
