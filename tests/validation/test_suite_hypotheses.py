"""The ``hypotheses`` suite (docs/theory.md §C12, §C13): its references, and one tiny end-to-end run."""
from __future__ import annotations

import math

import numpy as np
import pytest

from flatminima.numerics import build_landscape
from flatminima.validation.suite import SuiteResult
from flatminima.validation.suites import hypotheses as hyp


def test_double_wells_have_the_same_width_and_the_stated_barriers():
    # the depth comparison of C13 needs the left well's width fixed while ΔL doubles
    for barrier in hyp.LEVY_BARRIERS:
        land = build_landscape(hyp.double_well_spec(barrier))
        a = float(land.minima[0][0])
        assert a == pytest.approx(-1.0, abs=1e-12)
        drop = float(land.values(np.array([[0.0]]))[0] - land.values(np.array([[a]]))[0])
        assert drop == pytest.approx(barrier, rel=1e-12)


def test_mori_quadrature_shift_approaches_the_leading_law():
    # Exact Itô quadrature (D = ε·L) against Mori's leading term (B/(ηh))·log(L_s/L*) for the shift between
    # two offsets: the difference is the prefactor change, which must be small against the shift itself
    cfg = {"experiment": "mori", "noise": "loss_hessian", "barrier": 0.1, "h": 1.0, "eta": 0.005, "batch_size": 1}
    lo, hi = 1.25, 2.5
    shift = -hyp.exact_log_rate({**cfg, "loss_min": lo}) + hyp.exact_log_rate({**cfg, "loss_min": hi})
    law = (1 / 0.005) * (math.log((lo + 0.1) / lo) - math.log((hi + 0.1) / hi))
    assert shift == pytest.approx(law, rel=0.1)
    # Xie's constant D does not see the offset at all
    xie = {**cfg, "noise": "hessian_fixed", "loss_unit": 3.5}
    assert hyp.exact_log_rate({**xie, "loss_min": lo}) == pytest.approx(hyp.exact_log_rate({**xie, "loss_min": hi}),
                                                                        abs=1e-9)


def test_levy_reference_is_imkeller_pavlyukevich_with_c_alpha():
    cfg = {"alpha": 1.5, "radius": 1.0, "temperature": 0.05}
    c_alpha = math.gamma(2.5) * math.sin(0.75 * math.pi) / math.pi
    expected = math.log(c_alpha * 0.05 * 2.0 / 1.5)
    assert hyp.levy_log_rate(cfg) == pytest.approx(expected, rel=1e-12)


def test_unknown_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown size"):
        hyp.run(tmp_path, size="huge")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("hypotheses")
    result = hyp.run(out, size="tiny", workers=2)
    result.save(out)
    return out, result


def test_tiny_run_structure(tiny):
    out, result = tiny
    assert result.suite == "hypotheses" and result.size == "tiny"
    assert {v.check for v in result.verdicts} == {"C12", "C13"}
    assert len(result.verdicts) == 11
    names = {t.name for t in result.tables}
    assert {"c12-points", "c13-batch-points", "c13-depth", "mori_loss_min-laws", "xie_loss_min-laws",
            "levy_batch-laws", "xie_batch-laws"} <= names
    assert {f.kind for f in result.figures} == {"fit"} and len(result.figures) == 3
    for table in result.tables:
        assert all(len(row) == len(table.columns) for row in table.rows)
    assert result.provenance["n_tasks"] == sum(len(c) for c in hyp.sweeps("tiny").values())
    again = SuiteResult.load(out)
    assert [v.passed for v in again.verdicts] == [v.passed for v in result.verdicts]


def test_tiny_run_mori_shift_matches_quadrature_and_xie_does_not_shift(tiny):
    # the numerical check: the measured shift of −log γ between the smallest and largest L* equals the exact
    # Itô quadrature shift (loss_hessian) and zero (hessian_fixed), within 4 combined standard errors
    # plus the discretisation bias exponent·ηh/2 of each end
    _, result = tiny
    rows = next(t for t in result.tables if t.name == "c12-points").rows
    for noise in ("loss_hessian", "hessian_fixed"):
        pts = [r for r in rows if r[0] == noise]
        first, last = pts[0], pts[-1]
        measured = first[5] - last[5]
        exact = first[7] - last[7]
        se = math.hypot(first[6], last[6])
        bias = (first[7] + last[7]) * hyp.MORI_ETA * hyp.MORI_H / 2.0
        assert abs(measured - exact) <= 4.0 * se + bias, (noise, measured, exact, se)
    mori = [r for r in rows if r[0] == "loss_hessian"]
    assert mori[0][7] - mori[-1][7] > 1.0           # the experiment does separate the hypotheses
