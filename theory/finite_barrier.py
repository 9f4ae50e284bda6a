"""Derivation: the next term of the 1-D Kramers law at finite barrier, τ = τ_K·(1 + c₁·D + O(D²)).

The exact mean first-passage time of dθ = −L′dt + √(2D)dW in 1-D is a double integral (Gardiner, *Stochastic
Methods*, §5.2.7). Up to terms exponentially small in ΔL/D it factorises into the valley's population integral
and the barrier integral, and each has a Laplace expansion in powers of D (de Bruijn, *Asymptotic Methods in
Analysis*, §4.4). Their leading terms give Kramers' τ_K (``theory.kramers``); their next terms give c₁, from the
third and fourth derivatives of L at the minimum a and the saddle b.

In n dimensions the population integral has the analogous n-D Laplace term, but the flux through the saddle
needs the committor beyond its linearisation (Helffer, Klein & Nier 2004 prove that a full expansion in D
exists); that term is not derived here, so the n-D c₁ is labelled unknown (docs/theory.md §Finite
barrier).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, eq

SOURCE = ("Gardiner, Stochastic Methods (2009), §5.2.7 (exact 1-D mean first-passage time); de Bruijn, "
          "Asymptotic Methods in Analysis (1958), §4.4 (Laplace's method to second order); "
          "docs/theory.md §Finite barrier")


def laplace_second_order() -> tuple[sp.Expr, list[tuple[str, sp.Basic, str]]]:
    """The factor 1 + ε·c(f₂, f₃, f₄) of ∫exp(−f/ε)dx ≈ √(2πε/f₂)·e^{−f₀/ε}·(1 + ε·c) at a minimum of f.

    Returns c and the intermediate expressions (statement, expression, justification) for the report.
    SymPy does the work: x = x₀ + √ε·u, Taylor expansion of f to fourth order, series of the exponential in
    √ε to second order, Gaussian moments ∫uⁿe^{−f₂u²/2}du.
    """
    u = sp.Symbol("u", real=True)
    t = sp.Symbol("t", positive=True)                 # t = √ε
    f2 = sp.Symbol("f_2", positive=True)
    f3, f4 = sp.symbols("f_3 f_4", real=True)
    eps = sp.Symbol("varepsilon", positive=True)
    steps = []
    # (f(x₀ + t·u) − f₀)/t² to fourth order in u, then the part beyond the quadratic.
    rescaled = f2 * u**2 / 2 + t * f3 * u**3 / 6 + t**2 * f4 * u**4 / 24
    steps.append(("Rescaled exponent, x = x₀ + √ε·u: (f(x) − f₀)/ε to fourth order",
                  eq(sp.Symbol("phi"), rescaled.subs(t, sp.sqrt(eps))),
                  "Taylor expansion of f at its minimum x₀, f′(x₀) = 0, f₂ = f″(x₀) > 0"))
    perturbation = sp.exp(-(rescaled - f2 * u**2 / 2))
    series = sp.expand(sp.series(perturbation, t, 0, 3).removeO())
    steps.append(("The non-Gaussian factor to order ε", eq(sp.Symbol("R"), series.subs(t, sp.sqrt(eps))),
                  "series of the exponential in √ε by SymPy"))
    weight = sp.exp(-f2 * u**2 / 2)
    moments = {n: sp.integrate(u**n * weight, (u, -sp.oo, sp.oo), conds="none") for n in range(0, 9)}
    poly = sp.Poly(series, u)
    averaged = sum(coef * moments[n] for (n,), coef in poly.terms())
    factor = sp.expand(sp.simplify(averaged / moments[0]))
    c = sp.simplify(factor.coeff(t, 2))
    steps.append(("Gaussian average of the factor: odd moments vanish, ⟨u⁴⟩ = 3/f₂², ⟨u⁶⟩ = 15/f₂³",
                  eq(sp.Symbol("c"), c), "moments ∫uⁿe^{−f₂u²/2}du computed by SymPy; the √ε term is odd in u"))
    assert factor.coeff(t, 1) == 0
    return c, steps


@cache
def derive_kramers_next_term() -> Derivation:
    """τ/τ_K = 1 + c₁·D + O(D²) for 1-D white-noise escape to a point well beyond the saddle."""
    th, D = sp.Symbol("x", real=True), S.temperature
    L = sp.Function("L")
    a, c_end = sp.symbols("a c", real=True)
    y = sp.Symbol("y", real=True)
    r = StepRecorder()

    assumptions = (
        Step("Dynamics: dθ = −L′(θ)dt + √(2D)dW in 1-D with constant D, started at the minimum a; exit when θ "
             "first reaches c beyond the saddle b, with L(b) − L(c) ≫ D (the leading law is Kramers', "
             "theory.kramers)", None, "", "docs/theory.md §Kramers law in 1-D"),
        Step("L is smooth with a non-degenerate minimum a (H_a = L″(a) > 0) and saddle b (L″(b) = −|H_b| < 0); "
             "L grows on the far side of a (reflecting there loses nothing)", None, "",
             "Laplace's method needs non-degenerate critical points"),
    )

    exact = (1 / D) * sp.Integral(sp.exp(L(th) / D) * sp.Integral(sp.exp(-L(y) / D), (y, -sp.oo, th)),
                                  (th, a, c_end))
    r.step("Exact mean first-passage time from a to c", eq(S.escape_time, exact),
           "Pontryagin's backward equation D τ″ − L′τ′ = −1 with τ′(−∞) = 0, τ(c) = 0, solved by two quadratures",
           "Gardiner (2009) §5.2.7")
    i_a, i_b = sp.Symbol("I_a", positive=True), sp.Symbol("I_b", positive=True)
    r.step("Up to terms exponentially small in ΔL/D the integrals separate: the outer integrand lives at b, "
           "where the inner one has already collected the whole valley of a",
           eq(S.escape_time, i_a * i_b / D),
           "I_a = ∫exp(−L/D) over the valley of a; I_b = ∫exp(L/D) across b; the neglected pieces are O(e^{−ΔL/D})",
           "Laplace's method")

    c_generic, lap_steps = laplace_second_order()
    for statement, expr, why in lap_steps:
        r.step(statement, expr, why, "de Bruijn (1958) §4.4")
    f2, f3, f4 = sp.Symbol("f_2", positive=True), *sp.symbols("f_3 f_4", real=True)
    known = sp.Rational(5, 24) * f3**2 / f2**3 - f4 / (8 * f2**2)
    r.check("Laplace's second-order term c = 5f₃²/(24f₂³) − f₄/(8f₂²)", c_generic, known)

    # At the minimum f = L; across the saddle f = −L (the integrand of I_b is exp(+L/D)).
    c_a = c_generic.subs({f2: S.H_a, f3: S.third_a, f4: S.fourth_a}, simultaneous=True)
    c_b = c_generic.subs({f2: S.H_b, f3: -S.third_b, f4: -S.fourth_b}, simultaneous=True)
    r.step("Population integral at the minimum (f = L, f₂ = H_a, f₃ = L‴(a), f₄ = L⁗(a))",
           eq(i_a, sp.sqrt(2 * sp.pi * D / S.H_a) * sp.exp(-S.L_a / D) * (1 + c_a * D)),
           "the Laplace expansion above with ε = D", "")
    r.step("Barrier integral at the saddle (f = −L, f₂ = |H_b|, f₃ = −L‴(b), f₄ = −L⁗(b))",
           eq(i_b, sp.sqrt(2 * sp.pi * D / S.H_b) * sp.exp(S.L_b / D) * (1 + c_b * D)),
           "the Laplace expansion above with ε = D", "")
    c1 = sp.expand(c_a + c_b)
    tau_k = 2 * sp.pi / sp.sqrt(S.H_a * S.H_b) * sp.exp((S.L_b - S.L_a) / D)
    product = sp.sqrt(2 * sp.pi * D / S.H_a) * sp.sqrt(2 * sp.pi * D / S.H_b) * sp.exp((S.L_b - S.L_a) / D) / D
    r.check("the leading factors give Kramers' τ_K = 2π/√(H_a|H_b|)·e^{ΔL/D}", product, tau_k)
    ratio = sp.expand(sp.series((1 + c_a * D) * (1 + c_b * D), D, 0, 2).removeO())
    r.check("(1 + c_a D)(1 + c_b D) = 1 + (c_a + c_b) D + O(D²)", ratio, 1 + c1 * D)
    c1_sym = sp.Symbol("c_1", real=True)
    r.step("Next term of the Kramers law", eq(c1_sym, c1),
           "c₁ = c_a + c_b; third derivatives enter squared, so the sign of the asymmetry does not matter", "")

    law = (tau_k * (1 + c1 * D)).subs(S.L_b, S.L_a + S.barrier)
    law = sp.powsimp(sp.expand_power_base(law, force=True), force=True)
    law = law.subs({S.H_a: S.h_ae, S.H_b: S.h_be})
    c1_public = c1.subs({S.H_a: S.h_ae, S.H_b: S.h_be})
    r.step("Finite-barrier Kramers law (glossary curvatures H_ae = H_a, |H_be| = |H_b|)",
           eq(S.escape_time, law), "error O(D²) relative, plus terms exponentially small in ΔL/D", "")

    # The quartic double well L = θ⁴/4 − θ²/2: a = −1 (H_a = 2, L‴ = −6, L⁗ = 6), b = 0 (|H_b| = 1, L‴ = 0, L⁗ = 6).
    dw = c1.subs({S.H_a: 2, S.third_a: -6, S.fourth_a: 6, S.H_b: 1, S.third_b: 0, S.fourth_b: 6})
    r.check("quartic double well θ⁴/4 − θ²/2: c₁ = 3/2", dw, sp.Rational(3, 2))

    return Derivation(
        key="kramers_next_term",
        title="Finite-barrier correction of the 1-D Kramers law (next term in D)",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"escape_time": law, "rate": 1 / law, "c1": c1_public, "exponent": S.barrier / D,
                 "prefactor": 2 * sp.pi / sp.sqrt(S.h_ae * S.h_be) * (1 + c1_public * D)},
        final=eq(S.escape_time, law),
        matches="Kramers' law (Xie et al. 2021, Eq. (6) with n = 1) times 1 + c₁D; the Laplace coefficient is "
                "de Bruijn (1958) §4.4",
        checks=tuple(r.checks),
        notes=("For θ⁴/4 − θ²/2, c₁ = 3/2: at ΔL/D = 10 the law gives τ/τ_K = 1.0375 and the exact quadrature "
               "1.043; the remainder falls as D² (tests/theory/test_finite_barrier.py).",
               "The exit point must lie well beyond the saddle. The time to reach the saddle itself has an "
               "O(√D) correction instead (the barrier integral is then one-sided).",
               "n-D: not derived; the flux term needs the committor beyond its linearisation near the saddle "
               "(Helffer, Klein & Nier 2004). The n-D c₁ is unknown here."),
        source=SOURCE,
    )
