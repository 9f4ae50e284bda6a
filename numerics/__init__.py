"""Numerical side of flatminima: landscapes, derivatives, critical points, simulators, exact references.

Never imports ``theory``: a measurement must not see the prediction it tests (DESIGN §2).
"""
from numerics.errors import LandscapeError, NonFiniteLossError, NotDifferentiableError
from numerics.landscape import Landscape, sharpened
from numerics.names import BUILTINS, build_landscape

__all__ = ["Landscape", "sharpened", "build_landscape", "BUILTINS",
           "LandscapeError", "NonFiniteLossError", "NotDifferentiableError"]
