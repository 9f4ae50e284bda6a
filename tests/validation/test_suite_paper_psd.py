"""The paper suite's PSD-noise sweeps (validation.suites.paper): configs, the compiled path, and a tiny fit."""
from __future__ import annotations

import math

import numpy as np

from flatminima.validation.suites import paper
from flatminima.validation.suites.common import run_escape_sweep


def test_psd_sweeps_mirror_the_two_region_grids():
    plan = paper.psd_sweeps()
    for key, ref in (("psd_sharpness", "sharpness"), ("psd_batch", "batch_size"), ("psd_eta", "eta")):
        cfgs = plan[key]
        assert all(c["noise"] == "hessian_psd" and c["options"]["delta"] == paper.PSD_DELTA
                   and c["options"]["bridge"] is False and c["loss_unit"] == paper.LOSS_UNIT for c in cfgs)
        assert len({c[ref] for c in cfgs}) == 4
        for c in cfgs:      # max_steps = CENSOR_NATS exact mean escape times
            assert c["max_steps"] == max(1000, math.ceil(6.0 * paper.psd_exact_time(c) / c["eta"]))


def test_tiny_psd_sweeps_give_finite_fits_and_verdicts(tmp_path):
    plan = paper.psd_sweeps()
    for cfgs in plan.values():
        for c in cfgs:
            c["n_runs"] = 40
    configs = [c for cs in plan.values() for c in cs]
    rows = run_escape_sweep(configs, tmp_path, workers=1, progress=False)
    assert all(r["backend"] == "numba" for r in rows)
    i = 0
    for key, cfgs in plan.items():
        part = paper.psd_sweep(key, cfgs, rows[i:i + len(cfgs)])
        i += len(cfgs)
        v = part["verdict"]
        assert np.isfinite([v.value, v.stderr, v.expected, part["two_region_slope"]]).all()
        assert "exact Itô MFPT quadrature" in v.predicted and "two-region law" in v.details
        assert len(part["table"].rows) == 4
        assert np.isfinite(np.array([row[4:] for row in part["table"].rows], float)).all()
        assert part["figure"].kind == "fit"
