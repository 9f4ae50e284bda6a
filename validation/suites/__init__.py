"""Validation suites (README.md §Suites): each module exposes ``run(out, *, size, workers, executor, resume, progress)``
returning a :class:`validation.suite.SuiteResult`, and ``SIZES`` (size name -> measured wall time).

``SUITES`` lists them; modules are imported on first use so that ``flatminima suites`` stays fast.
"""
from __future__ import annotations

from importlib import import_module

from flatminima.errors import InputError
from flatminima.validation.suite import Suite

_MODULES = {
    "quick": ("flatminima.validation.suites.quick",
              "CI-sized end-to-end pass: SGLD and SGD sweeps on a 1-D double well, fits and verdicts"),
    "paper": ("flatminima.validation.suites.paper",
              "the paper's escape-rate claims: Styblinski-Tang under SGD-type and white noise, sweeps over k, B, "
              "eta, D"),
    "noise": ("flatminima.validation.suites.noise",
              "the paper's gradient-noise claims on a digits MLP: Gaussianity (C18) and C against H/B (C17)"),
    "selection": ("flatminima.validation.suites.selection",
                  "minima selection tau_a / sum tau_v on a sharp/flat two-valley landscape, SGD-type vs white noise (C16)"),
    "conventions": ("flatminima.validation.suites.conventions",
                    "exact checks C1-C3, C6, C9-C12 and C15 as a report"),
    "hypotheses": ("flatminima.validation.suites.hypotheses",
                   "experiments separating Xie from Mori and from Levy (C12, C13)"),
    "optimizers": ("flatminima.validation.suites.optimizers",
                   "SGD, heavy ball, PNM, Adai and Adam side by side on a double well: exponents against B, sqrt(B), "
                   "1/k and k^(-1/2), flat-minimum occupancy (C22)"),
}


def suite_names() -> list[str]:
    return list(_MODULES)


def get_suite(name: str) -> Suite:
    """The registered suite ``name``; unknown names get a one-line error listing the suites."""
    if name not in _MODULES:
        raise InputError(f"unknown suite {name!r}; suites: {', '.join(_MODULES)}")
    module_name, description = _MODULES[name]
    module = import_module(module_name)
    return Suite(name=name, description=description, sizes=dict(module.SIZES), run=module.run)


def describe() -> list[tuple[str, str, dict]]:
    """(name, description, sizes) of every suite, without running anything."""
    out = []
    for name, (module_name, description) in _MODULES.items():
        try:
            sizes = dict(import_module(module_name).SIZES)
        except ImportError:
            sizes = {}
        out.append((name, description, sizes))
    return out
