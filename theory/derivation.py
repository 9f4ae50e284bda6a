"""Recorded derivations: a derivation is a list of steps (statement, SymPy expression, justification, source).

The derivation modules (``theory.kramers``, ``theory.eyring_kramers``, ``theory.sgd``,
``theory.consequences``, ``theory.alternatives``, ``theory.slopes``) build these records while they
compute; the registry takes its expressions from ``Derivation.results`` and the report prints the steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Mapping

import sympy as sp

from flatminima.errors import InputError
from flatminima.theory.symbols import to_latex, to_mathml


@dataclass(frozen=True)
class Step:
    """One step: what is stated, the SymPy expression that states it, why it holds, where it comes from."""

    statement: str
    expr: sp.Basic | None
    justification: str
    source: str = ""

    @cached_property
    def latex(self) -> str:
        return "" if self.expr is None else to_latex(self.expr)

    @cached_property
    def mathml(self) -> str:
        return "" if self.expr is None else to_mathml(self.expr)


@dataclass(frozen=True)
class Check:
    """A SymPy identity check lhs = rhs; ``passed`` is True when SymPy reduces lhs − rhs to 0."""

    description: str
    lhs: sp.Expr
    rhs: sp.Expr

    @property
    def difference(self) -> sp.Expr:
        return self.lhs - self.rhs

    @cached_property
    def passed(self) -> bool:
        return identity_holds(self.lhs, self.rhs)


@dataclass(frozen=True)
class Derivation:
    """A derived law: assumptions, steps, named results, the published equation it matches, checks, notes."""

    key: str
    title: str
    assumptions: tuple[Step, ...]
    steps: tuple[Step, ...]
    results: Mapping[str, sp.Expr]
    final: sp.Basic                 # the displayed final formula (usually an Eq)
    matches: str                    # e.g. "Xie et al. 2021, Eq. (6)" (numbering: docs/theory.md §Equation numbers)
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = ()     # conventions and discrepancies, plain text
    source: str = ""
    tables: tuple["Table", ...] = field(default=())

    @cached_property
    def final_latex(self) -> str:
        return to_latex(self.final)

    @cached_property
    def final_mathml(self) -> str:
        return to_mathml(self.final)


@dataclass(frozen=True)
class Table:
    """A small numeric table (rows of plain values) computed inside ``theory`` for the report."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def identity_holds(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """True when SymPy shows lhs = rhs: by expansion, by comparing expanded logarithms (products and powers of
    positive quantities), or by ``simplify`` of the difference, cheapest first."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    d = lhs - rhs
    if d == 0 or sp.expand(d) == 0:
        return True
    if rhs != 0 and lhs != 0:
        logd = sp.expand(sp.expand_log(sp.log(lhs) - sp.log(rhs), force=True))
        if logd == 0 or sp.expand(sp.powsimp(logd, force=True)) == 0:
            return True
    if sp.expand(sp.powsimp(sp.expand_power_base(sp.expand(d), force=True), force=True)) == 0:
        return True
    return simplify_zero(d) == 0


def solve_linear(equation: sp.Eq, unknown: sp.Symbol) -> sp.Expr:
    """The solution of an equation that is linear in ``unknown`` (checked), x = −f(0)/f′ with f = lhs − rhs."""
    f = equation.lhs - equation.rhs
    slope = sp.diff(f, unknown)
    if sp.diff(slope, unknown) != 0 or slope == 0:
        raise InputError(f"equation is not linear in {unknown}: {equation}")
    return sp.cancel(-f.subs(unknown, 0) / slope)


def simplify_zero(expr: sp.Expr) -> sp.Expr:
    """``expr`` simplified (0 means an identity holds), trying cheap rewrites before ``simplify``."""
    for f in (sp.expand, lambda e: sp.powsimp(sp.expand_power_base(e, force=True), force=True), sp.simplify):
        out = f(expr)
        if out == 0:
            return sp.Integer(0)
    return out


def eq(lhs, rhs) -> sp.Eq:
    """An unevaluated equation lhs = rhs (SymPy's ``Eq`` would try, slowly, to decide it)."""
    return sp.Eq(lhs, rhs, evaluate=False)


class StepRecorder:
    """Collects steps while a derivation computes; ``step`` returns the expression so code reads linearly."""

    def __init__(self):
        self.steps: list[Step] = []
        self.checks: list[Check] = []

    def step(self, statement: str, expr, justification: str, source: str = ""):
        self.steps.append(Step(statement, expr, justification, source))
        return expr

    def check(self, description: str, lhs, rhs=0) -> Check:
        """Record lhs == rhs as a SymPy check; raise if it does not simplify to 0 (a derivation bug)."""
        c = Check(description, sp.sympify(lhs), sp.sympify(rhs))
        if not c.passed:
            raise AssertionError(f"derivation check failed: {description}: residual {simplify_zero(c.difference)}")
        self.checks.append(c)
        return c


_C, _T = sp.symbols("c_gauss T_gauss", positive=True)


@cache
def _gaussian_generic() -> sp.Expr:
    x = sp.Dummy("x", real=True)
    return sp.integrate(sp.exp(-_C * x**2 / (2 * _T)), (x, -sp.oo, sp.oo), conds="none", manual=True)


def gaussian_integral(curvature: sp.Expr, temperature: sp.Expr, var: sp.Symbol | None = None) -> sp.Expr:
    """∫_{−∞}^{∞} exp(−curvature·x²/(2·temperature)) dx, computed by SymPy (= √(2π·temperature/curvature)).

    SymPy integrates once for generic positive symbols (cached); the result is then specialised.
    ``var`` is accepted for readability of the calling code (the integration variable's name).
    """
    return _gaussian_generic().subs({_C: curvature, _T: temperature})


_X0 = sp.Symbol("x0_gauss", real=True)


@cache
def _gaussian_tail_generic() -> sp.Expr:
    w = sp.Dummy("w", real=True)
    # manual=True: SymPy's table-driven integrator (fast here; the Risch/Meijer-G paths take seconds)
    return sp.integrate(sp.exp(-_C * w**2 / (2 * _T)), (w, _X0, sp.oo), conds="none", manual=True)


def gaussian_tail(curvature: sp.Expr, temperature: sp.Expr, lower: sp.Expr) -> sp.Expr:
    """∫_{lower}^{∞} exp(−curvature·w²/(2·temperature)) dw, computed by SymPy once (cached), then specialised."""
    return _gaussian_tail_generic().subs({_C: curvature, _T: temperature, _X0: lower})
