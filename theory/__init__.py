"""Symbolic side of flatminima: SymPy derivations of escape-rate laws and the formula registry.

Never imports ``numerics`` (README.md §Layout). Laws are *derived* step by step from stated assumptions
(``theory.kramers``, ``theory.eyring_kramers``, ``theory.sgd``, ``theory.consequences``,
``theory.alternatives``, ``theory.slopes``); each derivation is a recorded list of steps that the
derivation report prints. ``import theory`` is cheap: SymPy is imported on first use of a public name,
and the derivations run on the first call of :func:`formulas` (about ten seconds), then are cached.

Conventions (docs/theory.md §Conventions): dθ = −∇L dt + √(2D) dW, SDE time t = step × η, rates per unit SDE
time, D = ηλH/(2B) for SGD noise; ``h_be`` is |H_be| (positive). Keyword names follow the glossary
(``theory.symbols.GLOSSARY``).

Public API
----------
Name and call signature, then what it is::

    formulas()                 the registry (Mapping name → Formula), listable, searchable, JSON-exportable
    sgd_law(kind, convention)  the SGD law; convention ∈ {"ito", "stratonovich", "hanggi_klimontovich"}
    Formula                    expression, symbols, LaTeX/MathML, source, regime, domain, numeric function
    predicted_slope(law, wrt=..., **values)   leading slope and neglected prefactor term of a fit
    determinant_ratio(saddle_eigenvalues, minimum_eigenvalues)   |det H_b| / det H_a
    derivation_sections()      the recorded derivations, for reports
    DomainError, RegimeWarning
"""
from importlib import import_module

_EXPORTS = {
    "formulas": "flatminima.theory.registry", "sgd_law": "flatminima.theory.registry", "Registry": "flatminima.theory.registry",
    "Formula": "flatminima.theory.formula",
    "predicted_slope": "flatminima.theory.slopes", "SlopePrediction": "flatminima.theory.slopes", "WRT": "flatminima.theory.slopes",
    "PER": "flatminima.theory.slopes",
    "determinant_ratio": "flatminima.theory.eyring_kramers",
    "derivation_sections": "flatminima.theory.catalogue", "Section": "flatminima.theory.catalogue",
    "Derivation": "flatminima.theory.derivation", "Step": "flatminima.theory.derivation", "Check": "flatminima.theory.derivation",
    "Table": "flatminima.theory.derivation",
    "DomainError": "flatminima.theory.errors", "RegimeWarning": "flatminima.theory.errors",
    "CONVENTIONS": "flatminima.theory.sgd", "PAPER_CONVENTION": "flatminima.theory.sgd",
    "GLOSSARY": "flatminima.theory.symbols",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    """Import public names on first use (keeps ``import theory`` free of SymPy's import time)."""
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'theory' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
