"""The base class of flatminima's bad-input errors, shared by every sub-package.

Each package raises its own subclass (``theory.DomainError``, ``numerics.LandscapeError``, ...) or
:class:`InputError` itself, always with a one-line message that names the parameter and the allowed
range. The command line maps every ``InputError`` to that line on stderr and exit code 2, by type.
This module imports nothing, so ``theory`` and ``numerics`` can both use it without seeing each other.
"""


class InputError(ValueError):
    """An argument outside its allowed range, or input that cannot be used as given."""
