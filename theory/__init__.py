"""Symbolic side of flatminima: SymPy derivations of escape-rate laws and the formula registry.

Never imports ``numerics`` (DESIGN §2).
"""
