"""Errors raised by numerics for bad input; each message is one line naming the problem."""
from flatminima.errors import InputError

__all__ = ["InputError", "LandscapeError", "NotDifferentiableError", "NonFiniteLossError"]


class LandscapeError(InputError):
    """A landscape cannot be built or evaluated as asked (bad name, parameter, file, shape or value)."""


class NotDifferentiableError(LandscapeError):
    """autograd cannot differentiate a loss (it uses plain numpy, math, or Python control flow on values)."""


class NonFiniteLossError(LandscapeError):
    """A loss returned NaN or inf, or something that is not a scalar."""
