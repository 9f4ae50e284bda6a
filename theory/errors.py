"""Errors and warnings of the theory package.

``DomainError`` is for undefined mathematics (a negative curvature, a zero batch size);
``RegimeWarning`` for an asymptotic law evaluated outside the regime it was derived in
(the value is still returned).
"""
from flatminima.errors import InputError


class DomainError(InputError):
    """Arguments outside the mathematical domain of a formula."""


class RegimeWarning(UserWarning):
    """A formula was evaluated outside the asymptotic regime it was derived in; the value is still returned."""
