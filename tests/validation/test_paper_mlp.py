"""The MLP part of the paper suite: the task, the sweeps and a tiny end-to-end run."""
from __future__ import annotations

import numpy as np
import pytest

from flatminima.validation.suites import paper_mlp

WINE = paper_mlp.DATASETS["wine"]["spec"]


def test_sweeps_visit_the_same_b_over_eta_k():
    plan = paper_mlp.mlp_sweeps("default")
    assert set(plan) == {f"{d}_{k}" for d in ("wine", "iris") for k in ("batch", "eta", "sharpness")}
    for d in ("wine", "iris"):
        ratios = [sorted(c["batch_size"] / (c["eta"] * c["sharpness"]) for c in plan[f"{d}_{k}"])
                  for k in ("batch", "eta", "sharpness")]
        np.testing.assert_allclose(ratios[0], ratios[1], rtol=1e-12)
        np.testing.assert_allclose(ratios[0], ratios[2], rtol=1e-12)
        for c in plan[f"{d}_batch"] + plan[f"{d}_eta"]:
            assert c["eta"] * c["sharpness"] * 2.0 < 2.0            # far from the stability limit
    with pytest.raises(ValueError, match="unknown size"):
        paper_mlp.mlp_sweeps("huge")


def test_fast_loss_matches_the_model():
    from flatminima.numerics import build_landscape

    info = paper_mlp._minimum(WINE)
    ref = build_landscape(WINE)
    T = info["theta"] + 0.3 * np.random.default_rng(7).standard_normal((6, ref.dim))
    np.testing.assert_allclose(paper_mlp._landscape(WINE, 1.0).values(T), ref.values(T), rtol=1e-12, atol=1e-14)
    assert info["grad_norm"] < 1e-6                    # a true minimum (weight decay makes it isolated)
    assert info["eig"][0] > 0


def test_sharpness_task_is_the_eta_task_bit_for_bit():
    # docs/theory.md §Sharpness scaling / §C6: SGD on L(√k θ) with step η is SGD on L with step kη in φ = √k θ,
    # same random numbers;
    # the loss-level exit is invariant, so exit steps agree exactly (k = 4: every scaling is a power of 2),
    # and the rates per unit SDE time obey γ_k(η) = k·γ_1(kη).
    base = {"spec": WINE, "threshold": 0.01, "batch_size": 4, "n_runs": 8, "max_steps": 400, "burn_in_steps": 0}
    sharp = paper_mlp.mlp_escape_task({**base, "sharpness": 4.0, "eta": 0.05}, 123)[0]
    plain = paper_mlp.mlp_escape_task({**base, "sharpness": 1.0, "eta": 0.2}, 123)[0]
    assert sharp["n_escaped"] > 0
    assert sharp["steps"] == plain["steps"] and sharp["escaped"] == plain["escaped"]
    assert sharp["rate"] == pytest.approx(4.0 * plain["rate"], rel=1e-12)


def test_tiny_run(tmp_path):
    part = paper_mlp.run_mlp_part(tmp_path, size="tiny", workers=1, progress=False)
    assert len(part["verdicts"]) == 4                     # 3 linearity verdicts + C7
    assert [t.name for t in part["tables"]][-1] == "mlp-kappa"
    assert len(part["figures"]) == 6 and part["sections"]
    assert len(part["configs"]) == 7                      # 3 sweeps × 3 points, the reference shared
    for v in part["verdicts"]:
        assert v.measured and v.tolerance and ("±" in v.measured or "[" in v.measured)
    # −log γ rises with B: the B-sweep slope is positive beyond its 95% interval (SGD noise ∝ 1/B)
    batch = next(v for v in part["verdicts"] if "linear in B" in v.claim)
    assert batch.value - 1.96 * batch.stderr > 0
    # resumable: a second call reuses the stored tasks and gives the same numbers
    again = paper_mlp.run_mlp_part(tmp_path, size="tiny", workers=1, progress=False, resume=True)
    assert [v.measured for v in again["verdicts"]] == [v.measured for v in part["verdicts"]]
