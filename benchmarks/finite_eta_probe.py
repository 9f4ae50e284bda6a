"""Probe of the first-order finite-η correction of the SGD exponent against the exact discrete chain (by hand).

``.venv/bin/python benchmarks/finite_eta_probe.py`` (about a minute). The 1-D chain
x' = x − ηL'(x) + η√(c(x)/B)·ξ on the double well (minimum −1, saddle 0) has −log γ = (B/η)·S(η) + prefactor.
At fixed η the slope of log T (T: exact mean exit steps, ``numerics.reference.chain_mfpt_1d``, level at 0.6,
past the saddle) against B, in units of its leading value I₀/η with I₀ = 2∫_a^b L'/c, is 1 + f'(E) + δ(η):
f'(E) is the finite-barrier part (the same at every η for the same exponents E = B·I₀/η, here 20 and 24) and
δ(η) the finite-η part. δ(η) − δ(η_ref) at η_ref = 0.0125 is compared with the candidate first-order term
η·I₁/I₀, I₁ = ½∫_a^b c'(L'/c)² (a hypothesis of ours, docs/theory.md has no such law yet).

Two noise shapes: c = H + 3 (smooth, positive on the path) and c = |H| + 0.5 (the PSD model's shape: c'
jumps where H changes sign).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy.integrate import quad

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flatminima.numerics.builtins import double_well  # noqa: E402
from flatminima.numerics.reference.chain1d import chain_mfpt_1d  # noqa: E402

DW = double_well()
INFLECTION = -1.0 / math.sqrt(3.0)
EXPONENTS = (20.0, 24.0)
ETAS = (0.0125, 0.05, 0.1, 0.2)


def _grad(x):
    x = np.atleast_1d(np.asarray(x, float))
    return np.asarray(DW.grads(x[:, None]))[:, 0]


def _hess(x):
    x = np.atleast_1d(np.asarray(x, float))
    return np.asarray(DW.hessians(x[:, None]))[:, 0, 0]


SHAPES = {"smooth c = H + 3": lambda x: _hess(x) + 3.0, "psd c = |H| + 0.5": lambda x: np.abs(_hess(x)) + 0.5}


def probe(c) -> dict:
    """Measured finite-η part of the slope against the candidate, per η."""
    dc = lambda x: (c(x + 1e-6) - c(x - 1e-6)) / 2e-6                       # noqa: E731
    i0 = quad(lambda x: float(2 * _grad(x)[0] / c(x)[0]), -1, 0, limit=200)[0]
    i1 = quad(lambda x: float(0.5 * dc(x)[0] * (_grad(x)[0] / c(x)[0]) ** 2), -1, 0, limit=200,
              points=[INFLECTION])[0]
    dev, errors = {}, {}
    for eta in ETAS:
        logs = []
        for e in EXPONENTS:
            b = e * eta / i0
            r = chain_mfpt_1d(_grad, lambda x, b=b: eta * np.sqrt(c(x) / b), eta=eta, start=-1.0, absorbing=0.6,
                              left=-2.2)
            logs.append(math.log(r.steps))
            errors[f"{eta}/{e}"] = r.relative_error
        dev[eta] = (logs[1] - logs[0]) / (EXPONENTS[1] - EXPONENTS[0]) - 1.0
    ref = ETAS[0]
    return {"I0": i0, "I1": i1, "max_relative_error_of_T": max(errors.values()),
            "eta": {str(eta): {"measured": dev[eta] - dev[ref], "candidate": (eta - ref) * i1 / i0}
                    for eta in ETAS[1:]}}


if __name__ == "__main__":
    print(json.dumps({name: probe(c) for name, c in SHAPES.items()}, indent=1))
