"""Derivation 2: the n-D Eyring–Kramers law by Gaussian integrals in the Hessian eigenbases.

Result: τ = (2π/|H_be|) · √(|det H_b| / det H_a) · exp(ΔL/D)  (Xie et al. 2021, Eq. (6), with |det H_b|;
docs/theory.md §Eyring-Kramers law).
The registry's n-D formula takes ``h_be`` and ``det_ratio`` = |det H_b| / det H_a (see
:func:`determinant_ratio` for building it from eigenvalue lists).
"""
from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from flatminima.errors import InputError
from flatminima.theory import symbols as S
from flatminima.theory.derivation import Derivation, Step, StepRecorder, gaussian_integral, gaussian_tail, eq
from flatminima.theory.errors import DomainError

SOURCE = ("Xie et al. 2021, Eq. (4), Eq. (6); Bovier–Eckhoff–Gayrard–Klein 2004; "
          "docs/theory.md §Eyring-Kramers law")


def printed_eq6() -> sp.Expr:
    """Eq. (6) in its printed form: τ = 2π/|H_be| · √(−det(H_b)/det(H_a)) · exp(ΔL/D), det H_b < 0."""
    det_a, det_b = S.det_H_a, S.det_H_b
    return 2 * sp.pi / S.h_be * sp.sqrt(-det_b / det_a) * sp.exp(S.barrier / S.temperature)


@cache
def derive_eyring_kramers(n: int = 3) -> Derivation:
    """Langer's flux over population in n dimensions, with explicit eigenvalue symbols for dimension ``n``."""
    if n < 1:
        raise InputError("dimension n must be at least 1")
    D = S.temperature
    ha = sp.symbols(f"h_a1:{n + 1}", positive=True)           # eigenvalues of H_a
    hb = sp.symbols(f"h_b2:{n + 1}", positive=True)           # positive eigenvalues of H_b
    u = sp.symbols(f"u1:{n + 1}", real=True)                  # coordinates in the eigenbasis of H_a
    x1 = sp.Symbol("x_1", real=True)                          # saddle eigen-coordinate along e
    yv = sp.symbols(f"y2:{n + 1}", real=True)                 # transverse saddle eigen-coordinates
    det_a, det_b_abs = S.det_H_a, S.abs_det_H_b
    r = StepRecorder()

    assumptions = (
        Step("Dynamics: dθ = −∇L dt + √(2D) dW with constant isotropic D (white noise, 'SGLD')",
             None, "Eq. (2) without the factor 2 of some transcriptions (docs/theory.md §The SDE)",
             "docs/theory.md §White noise"),
        Step("Quadratic minimum, in the eigenbasis u of H_a (eigenvalues h_ai > 0)",
             eq(sp.Symbol("L"), S.L_a + sum(h * ui**2 for h, ui in zip(ha, u)) / 2),
             "Assumption 1 (second-order Taylor)", "Xie et al. 2021; docs/theory.md §Assumptions"),
        Step("Index-1 saddle, in the eigenbasis (x_1, y) of H_b: one negative eigenvalue −|H_be| along e",
             eq(sp.Symbol("L"), S.L_b - S.h_be * x1**2 / 2 + sum(h * yi**2 for h, yi in zip(hb, yv)) / 2),
             "Assumption 1; the escape direction e is the eigenvector of the negative eigenvalue",
             "docs/theory.md §Assumptions"),
        Step("Quasi-equilibrium in the valley, low temperature ΔL/D ≫ 1",
             eq(sp.Symbol("P"), S.P_a * sp.exp(-(sp.Symbol("L") - S.L_a) / D)),
             "Assumptions 2 and 3", "Xie et al. 2021; docs/theory.md §Assumptions"),
    )

    # Population: a product of 1-D Gaussian integrals in the eigenbasis of H_a.
    pop = S.P_a
    for h, ui in zip(ha, u):
        pop *= gaussian_integral(h, D, ui)
    r.step("Population of the valley: the Gaussian integral factorises in the eigenbasis of H_a",
           eq(sp.Function("P")(sp.Symbol("V_a")), pop), "n one-dimensional Gaussian integrals computed by SymPy",
           "Assumptions 1, 2")
    pop_det = S.P_a * (2 * sp.pi * D) ** sp.Rational(n, 2) / sp.sqrt(det_a)
    r.check("P(V_a) = P(a)(2πD)^{n/2}/√det H_a with det H_a = Π h_ai", pop, pop_det.subs(det_a, sp.Mul(*ha)))

    # Langer's ansatz at the saddle: P = P_eq · ζ(x_1).
    zeta = sp.Function("zeta")
    zeta_sol = sp.powsimp(sp.expand_power_base(gaussian_tail(S.h_be, D, x1) / gaussian_integral(S.h_be, D), force=True), force=True)
    r.step("Langer's ansatz P = P(a)e^{−(L−L_a)/D} ζ(x_1): the stationary Fokker–Planck equation "
           "∇·(e^{−L/D}∇ζ) = 0 near the saddle reduces to (e^{|H_be|x_1²/(2D)} ζ′)′ = 0 with ζ(−∞) = 1, "
           "ζ(+∞) = 0, solved by",
           eq(zeta(x1), zeta_sol),
           "ζ′ ∝ e^{−|H_be|x_1²/(2D)}; normalising Gaussian integral computed by SymPy",
           "docs/theory.md §Assumptions, §Eyring-Kramers law")
    ode = sp.diff(sp.exp(S.h_be * x1**2 / (2 * D)) * sp.diff(zeta_sol, x1), x1)
    r.check("ζ solves (e^{|H_be|x²/(2D)} ζ′)′ = 0", ode)
    r.check("ζ(−∞) = 1", sp.limit(zeta_sol, x1, -sp.oo), 1)
    r.check("ζ(+∞) = 0", sp.limit(zeta_sol, x1, sp.oo), 0)

    # Current through the dividing surface x_1 = 0.
    L_surface = S.L_b + sum(h * yi**2 for h, yi in zip(hb, yv)) / 2
    J1 = -D * S.P_a * sp.exp(-(L_surface - S.L_a) / D) * sp.diff(zeta_sol, x1).subs(x1, 0)
    J1 = sp.powsimp(J1)
    r.step("Current along e on the dividing surface x_1 = 0: J = −D e^{−L/D}∇(e^{L/D}P) = "
           "−D P(a) e^{−(L−L_a)/D} ζ′(x_1) ê_1",
           eq(sp.Symbol("J_1"), J1), "the ansatz makes e^{L/D}P a function of x_1 alone", "docs/theory.md §Assumptions")
    J1_axis = J1.subs({yi: 0 for yi in yv})
    r.check("J_1 = J_1(y = 0)·Π exp(−h_bj y_j²/(2D))",
            J1, J1_axis * sp.exp(-sum(h * yi**2 for h, yi in zip(hb, yv)) / (2 * D)))
    flux = J1_axis
    for h, yi in zip(hb, yv):
        flux *= gaussian_integral(h, D, yi)
    r.step("Total flux: integrate J_1 over the transverse eigen-coordinates y (Gaussian integrals)",
           eq(S.J, flux), "n − 1 Gaussian integrals computed by SymPy", "Eq. (4)")

    tau = sp.powsimp(sp.expand_power_base(pop / flux, force=True), force=True)
    r.step("Flux over population (Eq. (4))", eq(S.escape_time, tau), "τ = P(V_a)/J",
           "Xie et al. 2021, Eq. (4); Kramers 1940")
    tau_det = 2 * sp.pi / S.h_be * sp.sqrt(det_b_abs / det_a) * sp.exp((S.L_b - S.L_a) / D)
    r.check("τ = (2π/|H_be|)√(|det H_b|/det H_a)e^{ΔL/D} with |det H_b| = |H_be|·Π h_bj",
            tau, tau_det.subs({det_a: sp.Mul(*ha), det_b_abs: S.h_be * sp.Mul(*hb)}))
    law = 2 * sp.pi / S.h_be * sp.sqrt(S.det_ratio) * sp.exp(S.barrier / D)
    r.step("Written with the determinant ratio |det H_b|/det H_a and ΔL = L_b − L_a",
           eq(S.escape_time, law), "det is basis-independent, so the two eigenbases may differ",
           "docs/theory.md §Eyring-Kramers law")

    printed = printed_eq6()
    det_b_signed = S.det_H_b
    r.check("identical to Eq. (6) in its printed form, with det H_b = −|H_be|Π h_bj < 0",
            tau.subs(S.L_b, S.L_a + S.barrier),
            printed.subs({det_b_signed: -S.h_be * sp.Mul(*hb), det_a: sp.Mul(*ha)}))

    return Derivation(
        key="eyring_kramers",
        title="n-D Eyring–Kramers law, constant isotropic diffusion",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={"escape_time": law, "rate": 1 / law, "escape_time_eigenvalues": tau.subs(S.L_b, S.L_a + S.barrier),
                 "minimum_eigenvalues": ha, "saddle_positive_eigenvalues": hb, "exponent": S.barrier / D,
                 "prefactor": 2 * sp.pi / S.h_be * sp.sqrt(S.det_ratio), "printed": printed},
        final=eq(S.escape_time, law),
        matches="Xie et al. 2021, Eq. (6)",
        checks=tuple(r.checks),
        notes=(f"Derived with explicit eigenvalue symbols for n = {n}; the algebra is identical for any n "
               "(one Gaussian factor per eigen-direction).",
               "Eq. (6) is printed with √(−det(H_b)/det(H_a)); for an index-1 saddle det H_b < 0, so this is "
               "√(|det H_b|/det H_a). The toolkit always uses |det H_b| (docs/theory.md §Eyring-Kramers law, "
               "check C4).",
               "For n = 1, |det H_b|/det H_a = |H_b|/H_a and the law reduces to the 1-D Kramers law."),
        source=SOURCE,
    )


def determinant_ratio(saddle_eigenvalues, minimum_eigenvalues) -> float:
    """|det H_b| / det H_a from the Hessian eigenvalues at the saddle b and the minimum a.

    Raises
    ------
    DomainError
        If the lists differ in length, the minimum is not positive definite, or the saddle does not
        have exactly one negative eigenvalue (index 1).
    """
    hb = np.asarray(saddle_eigenvalues, dtype=float).ravel()
    ha = np.asarray(minimum_eigenvalues, dtype=float).ravel()
    if hb.shape != ha.shape or ha.size == 0:
        raise DomainError("saddle and minimum eigenvalue lists must be non-empty and of equal length")
    if not (np.all(np.isfinite(hb)) and np.all(np.isfinite(ha))):
        raise DomainError("eigenvalues must be finite")
    if np.any(ha <= 0):
        raise DomainError("the Hessian at the minimum must be positive definite")
    if np.sum(hb < 0) != 1 or np.any(hb == 0):
        raise DomainError("the saddle Hessian must have exactly one negative eigenvalue and no zero one")
    # log-space product: robust for many dimensions
    return float(np.exp(np.sum(np.log(np.abs(hb))) - np.sum(np.log(ha))))
