"""`check --noise minibatch` on a user's per-sample losses: the prediction from the measured noise, end to end.

Reference: in examples/tilted_wells.py every per-sample gradient differs from the mean gradient
by a_j along θ0 only, so the minibatch covariance is C = Var(a)/B·e0e0ᵀ everywhere, D_a = D_b =
η·Var(a)/(2B) along e = e0, and the two-region law must reduce exactly to 1-D Kramers with that D
(sqrt(D_a/D_b) = 1, exponent ΔL/D).
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from flatminima import theory
from flatminima.numerics import build_landscape
from flatminima.validation.experiments import basin_of, geometry
from flatminima.validation.predict import predict

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tilted_wells.py"
SPEC = f"{EXAMPLE}:loss"


def _tilts():
    spec = importlib.util.spec_from_file_location("tilted", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.TILTS


def test_measured_noise_prediction_reduces_to_kramers_with_the_tilt_variance():
    config = {"landscape": SPEC, "minimum": [-1.0, 0.0], "noise": "minibatch", "eta": 0.0125, "batch_size": 2,
              "loss_unit": 1.0, "criterion": "basin", "options": {}}
    land, analysis = basin_of(config)
    geom = geometry(analysis)
    pred = predict(config, geom, land)
    D = 0.0125 * np.mean(_tilts() ** 2) / (2 * 2)                  # η·Var(a)/(2B), the tilts centred
    assert pred.measured_noise["temperature_a"] == pytest.approx(D, rel=1e-10)
    assert pred.measured_noise["temperature_b"] == pytest.approx(D, rel=1e-10)
    path = geom["paths"][0]
    kramers = theory.formulas()["kramers_1d_rate"](barrier=path["barrier"], h_ae=path["h_ae"], h_be=path["h_be"],
                                                   temperature=D)
    assert pred.rate == pytest.approx(kramers, rel=1e-10)
    assert pred.law == "two_region_rate_ito"
    # the loss units C ≈ λH/B would need: λ = B·eᵀCe/(eᵀHe) = Var(a)/H_ae at a, Var(a)/|H_be| at b
    assert pred.measured_noise["loss_unit_a"] == pytest.approx(np.mean(_tilts() ** 2) / path["h_ae"], rel=1e-10)


def test_minibatch_on_a_landscape_without_samples_is_a_one_line_error(capsys):
    from flatminima.reports.cli import main

    assert main(["check", "double-well", "--dynamics", "sgd", "--noise", "minibatch"]) == 2
    err = capsys.readouterr().err
    assert "per-sample losses" in err and err.count("\n") == 1


@pytest.mark.slow
def test_check_minibatch_end_to_end_gives_a_verdict_from_observed_escapes():
    from flatminima.validation.check import run_check

    obj, _ = run_check(SPEC, minimum=[-1.0, 0.0], dynamics="sgd", noise="minibatch", eta=0.0125, n_runs=100, seed=2)
    (exp,) = obj["experiments"]
    assert exp["simulated"] and exp["n_escaped"] >= 10
    assert exp["law"] == "two_region_rate_ito" and exp["measured_noise"]["loss_unit_a"] > 0
    assert exp["agrees"] is True
