"""Derivation: the exponent of the discrete SGD chain in powers of η (finite-learning-rate corrections).

SGD in 1-D is the chain θ' = θ − ηL′(θ) + η√(c(θ)/B)·ξ (per-step noise variance η²c/B; c = λH for SGD-type
noise, c constant for white noise). At small noise ε = η/B and *fixed* η its stationary density is
exp(−V/ε) up to a prefactor, and the Laplace principle turns the stationary equation into a Bellman equation
(Freidlin & Wentzell, *Random Perturbations of Dynamical Systems*, ch. 4; for chains: Kifer 1990),

    V(y) = min_x [ V(x) + (y − x + ηL′(x))² / (2ηc(x)) ].

Writing x = y − ηu and V′ = p₀ + ηp₁ + η²p₂ + …, SymPy solves it order by order (the minimiser u = u₀ + ηu₁ +
… from stationarity; p_n from the order-η^n coefficient, where u_n drops out by the envelope theorem). Then

    −log γ = (B/η)·∫_a^b (p₀ + ηp₁ + η²p₂ + η³p₃) dθ + O(η³·B) + prefactor,

with p₀ = 2L′/c (the SDE limit, Eq. (7)'s exponent for c = λH) and ∫p₁ = ½∫c′(L′/c)² (zero for white noise).
Checked against the exact discrete chain (``tests/validation/test_finite_eta.py``); docs/theory.md
§Discretisation gives the numbers.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from flatminima.theory.derivation import Derivation, Step, StepRecorder, eq

SOURCE = ("Freidlin & Wentzell, Random Perturbations of Dynamical Systems (Laplace principle, quasi-potential); "
          "the expansion in η is this project's (docs/theory.md §Discretisation)")

ORDER = 3
"""Highest order in η derived (p₀ … p₃)."""

_ETA, _U = sp.symbols("eta u", real=True)
_N_DERIV = 2 * ORDER + 3
G = sp.symbols(f"g0:{_N_DERIV}", real=True)
"""G[k] stands for the (k+1)-th derivative of L at θ (G[0] = L′, G[1] = L″, …)."""
C = (sp.Symbol("c0", positive=True),) + sp.symbols(f"c1:{_N_DERIV}", real=True)
"""C[k] stands for the k-th derivative of the noise function c at θ (C[0] = c > 0)."""


def _d(expr: sp.Expr) -> sp.Expr:
    """d/dθ of an expression in the G[k] and C[k]."""
    return sp.expand(sum(sp.diff(expr, G[k]) * G[k + 1] for k in range(_N_DERIV - 1))
                     + sum(sp.diff(expr, C[k]) * C[k + 1] for k in range(_N_DERIV - 1)))


def _truncate(expr: sp.Expr, n: int) -> sp.Expr:
    expr = sp.expand(expr)
    return sp.Add(*[expr.coeff(_ETA, j) * _ETA**j for j in range(n + 1)])


@cache
def exponent_densities(order: int = ORDER) -> tuple[sp.Expr, ...]:
    """(p₀, …, p_order): V′ = Σ_j η^j p_j of the discrete chain's quasi-potential, in the symbols G and C.

    Solves the Bellman equation of the module docstring order by order (seconds for order 3).
    """
    eta, U, N = _ETA, _U, order
    P = sp.symbols(f"p0:{N + 1}", real=True)
    # derivatives of the still unknown p_j are symbols, replaced once p_j is known
    dp = {(j, m): (P[j] if m == 0 else sp.Symbol(f"dp{j}_{m}")) for j in range(N + 1) for m in range(N + 1)}
    # [V(y − ηu) − V(y)]/η = Σ_{m≥1} (−u)^m η^{m−1}/m! · V^{(m)}(y), V^{(m)} = Σ_j η^j p_j^{(m−1)}
    v_diff = sp.Add(*[(-U)**m * eta**(m - 1 + j) / sp.factorial(m) * dp[(j, m - 1)]
                      for m in range(1, N + 2) for j in range(N + 2 - m)])
    grad_x = sp.Add(*[(-eta * U)**k / sp.factorial(k) * G[k] for k in range(N + 1)])          # L′(y − ηu)
    delta = sp.Add(*[(-eta * U)**k / sp.factorial(k) * C[k] for k in range(1, N + 1)]) / C[0]
    inv_2c = _truncate(sp.Add(*[(-delta)**k for k in range(N + 1)]), N) / (2 * C[0])         # 1/(2c(y − ηu))
    F = _truncate(v_diff + _truncate((U + grad_x)**2, N) * inv_2c, N)
    F_u = sp.diff(F, U)
    us = sp.symbols(f"u0:{N + 1}", real=True)
    known: dict = {}
    out = []
    for n in range(N + 1):
        U_n = sp.Add(*[eta**j * us[j] for j in range(n + 1)])
        F_n = sp.expand(_truncate(F.subs(U, U_n), n).coeff(eta, n).subs(known))
        F_un = sp.expand(_truncate(F_u.subs(U, U_n), n).coeff(eta, n).subs(known))
        if n == 0:
            u0 = sp.solve(F_un, us[0])[0]
            p_n = [s for s in sp.solve(F_n.subs(us[0], u0), P[0]) if s != 0][0]   # p₀ = 0 is the well's branch
            known[P[0]], known[us[0]] = p_n, sp.simplify(u0.subs(P[0], p_n))
        else:
            if sp.expand(sp.diff(F_n, us[n])) != 0:                               # the envelope theorem
                raise AssertionError(f"order {n}: the minimiser's correction u_{n} enters F")
            p_n = sp.factor(sp.solve(F_n, P[n])[0])
            known[P[n]] = p_n
            known[us[n]] = sp.expand(sp.solve(F_un.subs(P[n], p_n), us[n])[0])
        derivative = p_n
        for m in range(1, N + 1):
            derivative = _d(derivative)
            known[dp[(n, m)]] = derivative
        out.append(p_n)
    return tuple(out)


@cache
def exponent_density_functions(order: int = ORDER) -> tuple:
    """(p₀, …, p_order) as numeric functions of (G[0], …, G[-1], C[0], …, C[-1]) (numpy, by ``lambdify``)."""
    return tuple(sp.lambdify((*G, *C), p, "numpy") for p in exponent_densities(order))


def needed_derivatives(order: int = ORDER) -> tuple[int, int]:
    """How many of G (L′, L″, …) and of C (c, c′, …) the densities up to ``order`` use."""
    free = set().union(*(p.free_symbols for p in exponent_densities(order)))
    return (max(k for k in range(len(G)) if G[k] in free) + 1, max(k for k in range(len(C)) if C[k] in free) + 1)


@cache
def derive_finite_eta_exponent() -> Derivation:
    """The quasi-potential of the discrete chain to O(η³), its first-order integral and its special cases."""
    th = sp.Symbol("theta", real=True)
    L, c, V = sp.Function("L"), sp.Function("c"), sp.Function("V")
    x, y = sp.symbols("x y", real=True)
    B, eta = sp.Symbol("B", positive=True), sp.Symbol("eta", positive=True)
    r = StepRecorder()
    assumptions = (
        Step("The chain: θ' = θ − ηL′(θ) + η·√(c(θ)/B)·ξ, ξ standard normal, in 1-D, c > 0 smooth (c = λH "
             "near the minimum for SGD-type noise, constant for white noise); escape from the minimum a over the "
             "saddle b", None, "", "Xie et al. 2021, Eq. (2), (3)"),
        Step("Small noise at fixed step: ε = η/B → 0 with η fixed; then the expansion in η", None, "",
             "large deviations of Markov chains (Freidlin–Wentzell)"),
    )
    r.step("Laplace principle for the stationary density exp(−V/ε): the Bellman equation of the chain, the "
           "right-hand side minimised over x",
           eq(V(y), V(x) + (y - x + eta * sp.Derivative(L(x), x))**2 / (2 * eta * c(x))),
           "p(y) = ∫p(x)K(x, y)dx with the Gaussian kernel K of mean x − ηL′(x) and variance εηc(x); as ε → 0 the "
           "integral is dominated by the x that minimises the exponent", "Freidlin & Wentzell")
    p = exponent_densities()
    g0, g1, g2, c0, c1 = G[0], G[1], G[2], C[0], C[1]
    names = [sp.Symbol(f"p_{n}") for n in range(len(p))]
    for n, (name, value) in enumerate(zip(names, p)):
        r.step(f"Order η^{n} of V′ = Σ_j η^j p_j (x = y − ηu; g_k = L^(k+1)(θ), c_k = c^(k)(θ))", eq(name, value),
               "the η^" + str(n) + " coefficient of the Bellman equation, solved by SymPy; the minimiser's "
               "correction drops out (envelope theorem)" if n else "stationarity in u gives u = L′; p₀ = 0 is the "
               "branch inside the well, p₀ = 2L′/c the escape branch", "")
    r.check("p₀ = 2L′/c: the SDE limit (Eq. (7)'s integrand for c = λH)", p[0], 2 * g0 / c0)
    # ∫p₁: p₁ = −d/dθ[L′²/(2c)] + c′L′²/(2c²), and L′ = 0 at a and b.
    total = -_d(g0**2 / (2 * c0)) + c1 * g0**2 / (2 * c0**2)
    r.check("p₁ = −d/dθ[L′²/(2c)] + ½c′(L′/c)²", p[1], total)
    r.step("First-order term: the boundary term vanishes (L′(a) = L′(b) = 0)",
           eq(sp.Integral(names[1], (th, sp.Symbol("a"), sp.Symbol("b"))),
              sp.Integral(sp.Rational(1, 2) * sp.Derivative(c(th), th) * (sp.Derivative(L(th), th) / c(th))**2,
                          (th, sp.Symbol("a"), sp.Symbol("b")))),
           "integration of the total derivative", "")
    white = {C[k]: 0 for k in range(1, len(C))}
    r.check("white noise (c constant): p₁ = −d/dθ[L′²/(2c)], a total derivative, so the O(η) term vanishes",
            p[1].subs(white), -_d(g0**2 / (2 * c0)).subs(white))
    r.check("white noise: p₂ = L′²L‴/(6c)", p[2].subs(white), g0**2 * g2 / (6 * c0))
    r.check("white noise: p₃ = L′²L″L‴/(6c)", p[3].subs(white), g0**2 * g1 * g2 / (6 * c0))
    minus_log_rate = -sp.log(sp.Symbol("gamma", positive=True))
    exponent = (B / eta) * sp.Add(*[eta**n * sp.Integral(names[n], (th, sp.Symbol("a"), sp.Symbol("b")))
                                    for n in range(len(p))])
    r.step("Escape exponent of the chain", eq(minus_log_rate, exponent),
           "V(b) − V(a) = ∫_a^b V′dθ, divided by ε = η/B; error O(η³B) in the exponent, plus the prefactor", "")
    return Derivation(
        key="finite_eta_exponent",
        title="Finite learning rate: the exponent of the discrete SGD chain to O(η³)",
        assumptions=assumptions,
        steps=tuple(r.steps),
        results={f"p{n}": v for n, v in enumerate(p)},
        final=eq(minus_log_rate, exponent),
        matches="Eq. (7)'s exponent as η → 0 (p₀); the O(η) term ½∫c′(L′/c)² was proposed as a hypothesis and is "
                "confirmed here",
        checks=tuple(r.checks),
        notes=("At ηH ≈ 0.1–0.4 the O(η²) term is as large as the O(η) one: the first-order term alone does not "
               "predict the exact chain's slope of −log γ against B (docs/theory.md §Discretisation).",
               "A jump of c (the two-region model) is outside this smooth expansion: at first order it gives "
               "(B/2)·L′(θ_s)²(1/c_a − 1/c_b), higher orders are not defined.",
               "The prefactor's η-dependence (white noise: the chain escapes faster) is not part of this "
               "derivation."),
        source=SOURCE,
    )
