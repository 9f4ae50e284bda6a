"""Numerical side of flatminima: landscapes, derivatives, critical points, simulators, exact references.

Never imports ``theory``: a measurement must not see the prediction it tests (README.md §Layout).

Main entry points: :func:`build_landscape` (built-ins and ``file.py:function``), :func:`sharpened`
(L(√k θ)), :func:`numerics.basin.analyse_basin` (minima, index-1 saddles, ΔL, H_ae, |H_be|, s),
:func:`simulate_escape` (escape runs under a noise model and an exit criterion) and
:mod:`numerics.reference` (exact 1-D quadrature and 2-D generator MFPTs).
"""
from flatminima.numerics.errors import LandscapeError, NonFiniteLossError, NotDifferentiableError
from flatminima.numerics.landscape import Landscape, sharpened
from flatminima.numerics.names import BUILTINS, build_landscape
from flatminima.numerics.simulate import EscapeResult, NoEscapeExpectedWarning, simulate_escape

__all__ = ["Landscape", "sharpened", "build_landscape", "BUILTINS", "simulate_escape", "EscapeResult",
           "NoEscapeExpectedWarning", "LandscapeError", "NonFiniteLossError", "NotDifferentiableError"]
