"""Exact references for escape times: 1-D quadrature and a 2-D generator solver of the SDE, and the discrete 1-D chain.

These are the numbers simulations and asymptotic formulas are checked against (docs/theory.md §Exact references).
"""
from flatminima.numerics.reference.generator2d import (FRAMES, EigenFrame, MFPT2DResult, eigen_frame, generator_2d,
                                            generator_2d_eigen, mfpt_2d)
from flatminima.numerics.reference.chain1d import Chain1DResult, chain_mfpt_1d
from flatminima.numerics.reference.mfpt1d import CONVENTIONS, MFPT1DResult, mfpt_1d

__all__ = ["CONVENTIONS", "MFPT1DResult", "mfpt_1d", "Chain1DResult", "chain_mfpt_1d", "FRAMES", "EigenFrame", "MFPT2DResult", "eigen_frame",
           "generator_2d", "generator_2d_eigen", "mfpt_2d"]
