"""Why 'C ∝ |H(θ)| everywhere along the path' is ill-posed (docs/theory.md §Ill-posed Hessian noise, table T5).

On L = θ⁴/4 − θ²/2 (a = −1, b = 0, H_ae = 2, |H_be| = 1, ΔL = 1/4) the curvature L″ vanishes at the
inflection point θ_i = −1/√3 while L′ ≠ 0 there, so with D ∝ |L″| the quasi-potential ∫L′/D diverges
logarithmically. Regularising with g = |L″| + δ gives a finite exponent whose implied s leaves [0, 1]
(T5). The integrals are evaluated with mpmath (SymPy's numerical backend) as an illustration.
"""
from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp

from flatminima.errors import InputError
from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, Table, eq
from flatminima.theory.sgd import derive_sgd_exponent

DELTAS = (1.0, 0.5, 0.2, 0.1, 0.01, 0.001)


def quartic_integral(delta: float) -> float:
    """∫_{−1}^{0} L′/(|L″| + δ) dθ for L = θ⁴/4 − θ²/2, by mpmath quadrature split at the inflection point."""
    if delta <= 0:
        raise InputError("delta must be positive (δ = 0 diverges)")
    th_i = -1 / mpmath.sqrt(3)
    f = lambda t: (t**3 - t) / (abs(3 * t**2 - 1) + delta)
    return float(mpmath.quad(f, [-1, th_i, 0]))


@cache
def derive_ill_posed() -> Derivation:
    """The log divergence of ∫L′/|L″| and the T5 table of implied s."""
    th = S.theta
    L = th**4 / 4 - th**2 / 2
    Lp, Lpp, Lppp = sp.diff(L, th), sp.diff(L, th, 2), sp.diff(L, th, 3)
    r = StepRecorder()
    r.step("Quartic double well: minimum a = −1, saddle b = 0", eq(sp.Symbol("L"), L),
           "H_ae = L″(−1) = 2, |H_be| = |L″(0)| = 1, ΔL = 1/4", "docs/theory.md §Ill-posed Hessian noise")
    th_i = [v for v in sp.solve(Lpp, th) if v.is_negative][0]
    r.step("The curvature vanishes between a and b, at the inflection point", eq(sp.Symbol("theta_i"), th_i),
           "sympy.solve(L″ = 0)", "docs/theory.md §Ill-posed Hessian noise")
    coeff = sp.simplify(2 * Lp.subs(th, th_i) / sp.Abs(Lppp.subs(th, th_i)))
    r.step("Near θ_i, L′/|L″| ≈ L′(θ_i)/(|L‴(θ_i)|·|θ − θ_i|): the integral diverges like c·log(1/δ) once "
           "|L″| is floored at δ, with",
           eq(sp.Symbol("c"), coeff), "two sides of the inflection point, each ∫dθ/|θ−θ_i| ~ log(1/δ)",
           "docs/theory.md §Ill-posed Hessian noise")
    r.check("L′(θ_i) = 2/(3√3) ≠ 0", Lp.subs(th, th_i), 2 / (3 * sp.sqrt(3)))
    s_impl = derive_sgd_exponent().results["s_implied"]
    I = derive_sgd_exponent().results["I_g"]
    s_num = sp.lambdify(I, s_impl.subs({S.barrier: sp.Rational(1, 4), S.h_ae: 2, S.h_be: 1}))
    rows = []
    for d in DELTAS:
        val = quartic_integral(d)
        rows.append((f"{d:g}", f"{val:.3f}", f"{float(s_num(val)):.2f}"))
    r.step("Implied s for the two-region fit to I_g = ∫L′/g (derivation 'SGD escape exponent') at ΔL = 1/4, "
           "H_ae = 2, |H_be| = 1", eq(S.s, s_impl.subs({S.barrier: sp.Rational(1, 4), S.h_ae: 2, S.h_be: 1})),
           "s ∈ [0, 1] needs 0.125 ≤ I_g ≤ 0.25", "docs/theory.md §The path parameter s, §Ill-posed Hessian noise")
    return Derivation(
        key="ill_posed", title="Why C ∝ |H(θ)| everywhere is ill-posed",
        assumptions=(Step("Noise D = ηλ g(θ)/(2B) with g = |L″(θ)| + δ (PSD-fixed local Hessian, δ-regularised)",
                          None, "the 'hessian_psd' noise model", "docs/theory.md §hessian_psd"),),
        steps=tuple(r.steps), results={"log_coefficient": coeff}, final=eq(sp.Symbol("c"), coeff),
        matches="docs/theory.md §Ill-posed Hessian noise, table T5", checks=tuple(r.checks),
        notes=("With δ → 0 the continuous-time escape time is infinite; the two-region s-interpolation is a model, "
               "not the asymptotics of any 'Hessian-proportional everywhere' simulation "
               "(docs/theory.md §Ill-posed Hessian noise, check C8).",
               "Discrete SGD can jump over the zero-noise point, so discrete runs escape even when the SDE does not."),
        source="docs/theory.md §Ill-posed Hessian noise, table T5",
        tables=(Table("T5 recomputed with mpmath: ∫_{−1}^{0} L′/(|L″|+δ) dθ and the implied s",
                      ("δ", "∫ L′/g", "implied s"), tuple(rows)),),
    )
