"""``Formula``: one SymPy expression with its symbols, LaTeX, source, regime, domain and numeric function.

Each law is written once, as a SymPy expression produced by a derivation (``theory.kramers``,
``theory.sgd``, ...); the LaTeX, the MathML, the JSON record and the vectorised numpy function are all
generated from it (with the prefactors pinned by the derivations).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from flatminima.errors import InputError
from flatminima.theory.errors import DomainError, RegimeWarning
from flatminima.theory.symbols import BY_SYMBOL, to_latex, to_mathml

KINDS = ("escape_time", "rate", "exponent", "probability", "ratio", "estimator")
_LHS = {"escape_time": sp.Symbol("tau", positive=True), "rate": sp.Symbol("gamma", positive=True)}


@dataclass(frozen=True)
class Formula:
    """A named law y = expr(params): symbols with assumptions, regime, domain, source and numeric function.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"sgd_rate_ito"``.
    kind : str
        One of ``KINDS``; ``"rate"`` is per unit SDE time, ``"escape_time"`` in SDE time.
    expr : sympy.Expr
        The law, as derived (never typed in; see ``derivation``).
    params : Mapping[str, sympy.Symbol]
        Glossary keyword → symbol; the order is the numeric signature.
    source : str
        Locator: the paper's equation (numbered as in docs/theory.md §Equation numbers), the section of
        docs/theory.md, the literature. The paper's printed theorem numbers are unverified.
    regime : tuple of (sympy relation, str)
        Asymptotic-validity conditions; a :class:`RegimeWarning` is issued where one is false.
    domain : tuple of (sympy relation, str)
        Extra mathematical-domain conditions beyond the symbols' own assumptions (positivity, integer);
        a :class:`DomainError` is raised where one is false.
    exponent, prefactor : sympy.Expr, optional
        For rates and escape times: ``expr == prefactor * exp(±exponent)`` (− for rates), so that fit
        slopes can separate the leading (exponent) term from the prefactor term.
    """

    name: str
    kind: str
    expr: sp.Expr
    params: Mapping[str, sp.Symbol]
    source: str
    description: str = ""
    regime: tuple[tuple[sp.Basic, str], ...] = ()
    domain: tuple[tuple[sp.Basic, str], ...] = ()
    convention: str | None = None
    exponent: sp.Expr | None = None
    prefactor: sp.Expr | None = None
    derivation: str = ""
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"{self.name}: kind must be one of {KINDS}; got {self.kind!r}")
        missing = self.expr.free_symbols - set(self.params.values())
        if missing:
            raise InputError(f"{self.name}: expression uses symbols not in params: {sorted(map(str, missing))}")
        for key, sym in self.params.items():
            glossary = BY_SYMBOL.get(sym)
            if glossary is None or glossary.name != key:
                raise InputError(f"{self.name}: keyword {key!r} is not the glossary name of {sym}")

    # ------------------------------------------------------------------ printing
    @cached_property
    def latex(self) -> str:
        """LaTeX of the right-hand side."""
        return to_latex(self.expr)

    @cached_property
    def equation_latex(self) -> str:
        """LaTeX of the whole equation, ``\\tau = …`` or ``\\gamma = …`` where the kind has a letter."""
        lhs = _LHS.get(self.kind)
        return f"{to_latex(lhs)} = {self.latex}" if lhs is not None else self.latex

    @cached_property
    def mathml(self) -> str:
        """Presentation MathML of the equation (SymPy's printer), without the outer ``<math>`` element."""
        lhs = _LHS.get(self.kind)
        return to_mathml(sp.Eq(lhs, self.expr, evaluate=False) if lhs is not None else self.expr)

    def to_dict(self) -> dict:
        """A JSON-ready record: name, kind, LaTeX, parameters (name, LaTeX, meaning, assumption), source."""
        return {
            "name": self.name,
            "kind": self.kind,
            "latex": self.equation_latex,
            "parameters": [
                {"name": k, "latex": BY_SYMBOL[sym].latex, "meaning": BY_SYMBOL[sym].meaning,
                 "assumptions": {a: v for a, v in sorted(sym.assumptions0.items())
                                 if a in ("positive", "real", "integer", "nonnegative")}}
                for k, sym in self.params.items()
            ],
            "source": self.source,
            "description": self.description,
            "convention": self.convention,
            "regime": [{"condition": to_latex(c), "why": why} for c, why in self.regime],
            "domain": [{"condition": to_latex(c), "why": why} for c, why in self.domain],
            "derivation": self.derivation,
            "expression": sp.srepr(self.expr),
        }

    def to_json(self, **kwargs) -> str:
        """``json.dumps(self.to_dict())``."""
        return json.dumps(self.to_dict(), **kwargs)

    # ------------------------------------------------------------------ numerics
    @cached_property
    def _args(self) -> list[sp.Symbol]:
        return list(self.params.values())

    @cached_property
    def numeric(self) -> Callable[..., np.ndarray]:
        """The vectorised numpy function of the parameters in ``params`` order (``lambdify``, ``cse=True``)."""
        return sp.lambdify(self._args, self.expr, modules="numpy", cse=True)

    @cached_property
    def log_expr(self) -> sp.Expr:
        """log(expr), expanded so that it stays finite where expr over- or underflows."""
        return sp.expand_log(sp.log(self.expr), force=True)

    @cached_property
    def _log_numeric(self):
        return sp.lambdify(self._args, self.log_expr, modules="numpy", cse=True)

    @cached_property
    def _checks(self):
        f = lambda cond: sp.lambdify(self._args, cond, modules="numpy")
        return ([(f(c), c, why) for c, why in self.domain], [(f(c), c, why) for c, why in self.regime])

    def _prepare(self, values: dict) -> list[np.ndarray]:
        if values.keys() != self.params.keys():
            raise TypeError(f"{self.name} takes exactly the keywords {list(self.params)}; got {sorted(values)}")
        args = []
        for key, sym in self.params.items():
            a = np.asarray(values[key], dtype=float)
            if not np.all(np.isfinite(a)):
                raise DomainError(f"{self.name}: {key} must be finite")
            if sym.is_positive and np.any(a <= 0):
                raise DomainError(f"{self.name}: {key} must be positive")
            if sym.is_integer and np.any(a != np.round(a)):
                raise DomainError(f"{self.name}: {key} must be an integer")
            args.append(a)
        domain_checks, regime_checks = self._checks
        with np.errstate(all="ignore"):
            for fn, cond, why in domain_checks:
                if not np.all(fn(*args)):
                    raise DomainError(f"{self.name}: {why} (needs {cond})")
            for fn, cond, why in regime_checks:
                if not np.all(fn(*args)):
                    warnings.warn(f"{self.name}: {why} (needs {cond})", RegimeWarning, stacklevel=3)
        return args

    def __call__(self, **values) -> float | np.ndarray:
        """Evaluate at glossary keyword arguments (broadcast); beyond the float range the value is inf or 0."""
        args = self._prepare(values)
        with np.errstate(over="ignore", under="ignore"):
            out = self.numeric(*args)
        out = np.asarray(out, dtype=float)
        return float(out) if out.ndim == 0 else out

    def log(self, **values) -> float | np.ndarray:
        """log of the formula at glossary keyword arguments, from the expanded log expression."""
        args = self._prepare(values)
        out = np.asarray(self._log_numeric(*args), dtype=float)
        return float(out) if out.ndim == 0 else out

    def __repr__(self) -> str:
        return f"Formula({self.name!r}: {self.equation_latex})"
