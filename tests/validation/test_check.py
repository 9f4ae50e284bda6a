"""`flatminima check`: the ``check --json`` object, predictions against simulation, and bad input."""
import json

import numpy as np
import pytest

from flatminima.reports.cli import main


@pytest.fixture(scope="module")
def double_well_json():
    from flatminima.validation.check import run_check

    # white noise at ΔL/D = 4 on θ⁴/4 − θ²/2: quick, and the law's rate is known in closed form
    obj, result = run_check("double-well", dynamics="sgld", temperature=0.0625, n_runs=150, seed=3)
    return obj, result


def test_json_has_the_design_fields(double_well_json):
    obj, _ = double_well_json
    assert set(obj) >= {"landscape", "dim", "minimum", "paths", "experiments"}
    assert obj["minimum"]["theta"] == pytest.approx([-1.0], abs=1e-10)
    (path,) = obj["paths"]
    assert path["barrier"] == pytest.approx(0.25, abs=1e-12)
    assert path["h_ae"] == pytest.approx(2.0) and path["h_be"] == pytest.approx(1.0)
    (exp,) = obj["experiments"]
    assert set(exp) >= {"dynamics", "temperature", "eta", "batch_size", "loss_unit", "predicted_rate",
                        "measured_rate", "rate_ci", "n_runs", "n_escaped", "agrees"}
    json.dumps(obj, allow_nan=False)


def test_sgld_prediction_is_kramers_and_agrees(double_well_json):
    obj, _ = double_well_json
    (exp,) = obj["experiments"]
    # 1-D Kramers (docs/theory.md §Eyring-Kramers law): γ = √(H_a|H_b|)/(2π)·e^{−ΔL/D} = √2/(2π)·e^{−4}
    assert exp["predicted_rate"] == pytest.approx(np.sqrt(2) / (2 * np.pi) * np.exp(-4.0), rel=1e-10)
    lo, hi = exp["rate_ci"]
    assert lo < exp["measured_rate"] < hi
    assert exp["n_escaped"] > 100
    assert exp["agrees"] is True


def test_cli_check_json_prints_one_object(capsys):
    code = main(["check", "double-well", "--dynamics", "sgld", "--temperature", "0.0625", "--runs", "40",
                 "--json"])
    out = capsys.readouterr().out
    assert code == 0
    obj = json.loads(out)
    assert obj["experiments"][0]["n_runs"] == 40


@pytest.mark.parametrize("argv,needle", [
    (["--eta", "-0.1"], "--eta must be a finite number > 0"),
    (["--temperature", "0"], "--temperature must be a finite number > 0"),
    (["--batch-size", "0"], "--batch-size must be an integer >= 1"),
    (["--batch-size", "2.5"], "--batch-size must be an integer >= 1"),
    (["--loss-unit", "-1"], "--loss-unit must be a finite number > 0"),
    (["--runs", "0"], "--runs must be an integer >= 1"),
    (["--max-steps", "0"], "--max-steps must be an integer >= 1"),
    (["--seed", "-3"], "--seed must be an integer >= 0"),
    (["--dynamics", "sgld", "--batch-size", "4"], "--batch-size applies to --dynamics sgd only"),
    (["--dynamics", "adam"], "invalid choice"),
])
def test_bad_check_options_exit_2_with_one_line(capsys, argv, needle):
    code = main(["check", "double-well", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1


def test_unknown_suite_and_unwritable_out(capsys, tmp_path):
    assert main(["validate", "--suite", "nope"]) == 2
    assert "unknown suite 'nope'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["validate", "--suite", "quick", "--out", str(blocker / "sub")]) == 2
    assert "not writable" in capsys.readouterr().err


def test_sequential_stopping_runs_batches_until_the_log_rate_ci_is_narrow():
    from flatminima.validation.experiments import escape_task

    base = {"landscape": "double-well", "minimum": [-1.0], "noise": "white", "criterion": "dividing_surface",
            "eta": 0.02, "temperature": 0.0625, "n_runs": 50, "max_steps": 200_000, "options": {"bridge": True}}
    one = escape_task(base, 7)[0]
    seq = escape_task({**base, "target_log_ci": 0.15, "max_runs": 1000}, 7)[0]
    # 1.96/√n ≤ 0.15 needs n_escaped ≥ 171: at least 4 batches of 50 (all escape at ΔL/D = 4 within the cap)
    assert seq["n_escaped"] >= 171 and seq["n_batches"] >= 4
    assert 1.959964 * seq["log_rate_stderr"] <= 0.15
    assert seq["steps"][:50] == one["steps"]          # the first batch is the plain run, bit for bit
    capped = escape_task({**base, "target_log_ci": 0.01, "max_runs": 100}, 7)[0]
    assert capped["n_runs"] == 100                     # max_runs bounds the work


def test_sample_trajectories_start_at_the_minimum_and_end_beyond_the_saddle_plane():
    from flatminima.validation.check import sample_trajectories
    from flatminima.validation.experiments import basin_of

    land, analysis = basin_of({"landscape": "double-well", "minimum": [-1.0]})
    paths = sample_trajectories(land, analysis, eta=0.02, temperature=0.0625, seed=1, n=3, every=50)
    assert len(paths) == 3
    for path in paths:
        assert path[0] == pytest.approx([-1.0], abs=1e-9)
        assert path[-1][0] >= 0.0 and all(p[0] < 0.0 for p in path[:-1])   # stops at the first crossing
