"""flatminima: check the diffusion theory of SGD (Xie, Sato & Sugiyama, ICLR 2021) against numbers.

The repository's four folders are installed as sub-packages: ``flatminima.theory`` (SymPy derivations of
the escape-rate laws), ``flatminima.numerics`` (landscapes, critical points, simulators, exact references),
``flatminima.validation`` (sweeps, fits and verdicts that join the two) and ``flatminima.reports`` (reports
and the command line). The short public API below imports on first use, so ``import flatminima`` is cheap.

Public API
----------
Name and call signature, then what it is::

    check(spec, **options)          analyse a landscape, predict, simulate, compare: flatminima check
    landscape(spec, dim=None)       build a landscape from a built-in name or file.py:function
    analyse_basin(landscape, x0)    minima, index-1 saddles, Hessians, escape directions of a basin
    simulate_escape(landscape, ...) escape runs under a noise model and an exit criterion
    formulas()                      the registry of derived escape-rate laws (name → Formula)
    sgd_law(kind, convention)       the SGD escape law of the paper, Eq. (7)
    get_suite(name)                 a built-in validation suite (flatminima validate --suite NAME)
    InputError                      the base class of every bad-input error (the CLI exits with code 2)
"""
from importlib import import_module

from flatminima.errors import InputError

__version__ = "0.1.0"

_EXPORTS = {
    "check": ("flatminima.validation.check", "run_check"),
    "landscape": ("flatminima.numerics.names", "build_landscape"),
    "analyse_basin": ("flatminima.numerics.basin", "analyse_basin"),
    "simulate_escape": ("flatminima.numerics.simulate", "simulate_escape"),
    "formulas": ("flatminima.theory.registry", "formulas"),
    "sgd_law": ("flatminima.theory.registry", "sgd_law"),
    "get_suite": ("flatminima.validation.suites", "get_suite"),
}
__all__ = sorted([*_EXPORTS, "InputError", "__version__"])


def __getattr__(name):
    """Import a public name on first use (SymPy and numba load only when they are needed)."""
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flatminima' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
