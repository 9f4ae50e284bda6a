"""Issue 3 at the validation level: the 1-D Kramers law (theory) against the exact quadrature MFPT (numerics).

Table T1 (docs/theory.md §Reference tables): on U = θ⁴/4 − θ²/2 with constant D, exact MFPT from −1 to the other minimum
+1 divided by the Kramers time 2π/√(H_a|H_b|)·e^{ΔU/D} is 1.043 at ΔU/D = 10 and 1.020 at ΔU/D = 20.
Theory supplies the law, numerics the quadrature; neither sees the other.
"""
import numpy as np
import pytest

from flatminima import theory
from flatminima.numerics.reference import mfpt_1d


def _loss(x):
    return x**4 / 4 - x**2 / 2


def _grad(x):
    return x**3 - x


@pytest.mark.parametrize("ratio,expected", [(10.0, 1.043), (20.0, 1.020)])
def test_kramers_law_against_exact_quadrature(ratio, expected):
    temperature = 0.25 / ratio
    law_time = theory.formulas()["kramers_1d_escape_time"](barrier=0.25, h_ae=2.0, h_be=1.0, temperature=temperature)
    exact = mfpt_1d(_loss, _grad, temperature, start=-1.0, absorbing=1.0)
    assert exact.escape_time / law_time == pytest.approx(expected, abs=5e-4)   # T1 prints 3 decimals
