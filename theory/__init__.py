"""Symbolic side of flatminima: SymPy derivations of escape-rate laws and the formula registry.

Never imports ``numerics`` (DESIGN §2). Laws are *derived* step by step from stated assumptions
(``theory.kramers``, ``theory.eyring_kramers``, ``theory.sgd``, ``theory.consequences``,
``theory.alternatives``, ``theory.slopes``); each derivation is a recorded list of steps that the
derivation report prints. Derivations run lazily on the first call of :func:`formulas` (a few seconds)
and are cached.

Conventions (THEORY §2, DESIGN §3): dθ = −∇L dt + √(2D) dW, SDE time t = step × η, rates per unit SDE
time, D = ηλH/(2B) for SGD noise; ``h_be`` is |H_be| (positive). Keyword names follow the glossary
(``theory.symbols.GLOSSARY``).

Public API
----------
formulas()                 the registry (Mapping name → Formula), listable, searchable, JSON-exportable
sgd_law(kind, convention)  the SGD law; convention ∈ {"ito", "stratonovich", "hanggi_klimontovich"}
Formula                    expression, symbols, LaTeX/MathML, source, regime, domain, numeric function
predicted_slope(law, wrt=..., **values)   leading slope and neglected prefactor term of a fit
determinant_ratio(saddle_eigenvalues, minimum_eigenvalues)   |det H_b| / det H_a
derivation_sections()      the recorded derivations, for reports
DomainError, RegimeWarning
"""
from theory.catalogue import Section, derivation_sections
from theory.derivation import Check, Derivation, Step, Table
from theory.errors import DomainError, RegimeWarning
from theory.eyring_kramers import determinant_ratio
from theory.formula import Formula
from theory.registry import Registry, formulas, sgd_law
from theory.sgd import CONVENTIONS, PAPER_CONVENTION
from theory.slopes import PER, WRT, SlopePrediction, predicted_slope
from theory.symbols import GLOSSARY

__all__ = ["formulas", "sgd_law", "Formula", "Registry", "predicted_slope", "SlopePrediction", "WRT", "PER",
           "determinant_ratio", "derivation_sections", "Section", "Derivation", "Step", "Check", "Table",
           "DomainError", "RegimeWarning", "CONVENTIONS", "PAPER_CONVENTION", "GLOSSARY"]
