"""Divergence (issue 7): a step just below the stability limit 2/λ_max on the steep Styblinski-Tang well
with a large temperature sends particles to infinity. They are reported (``n_diverged``), never counted
as escapes, and the JSON, the text output and the written report say so."""
import contextlib
import io
import json

import numpy as np
import pytest

from flatminima.reports.cli import main

# λ_max(H_a) ≈ 34.58 at θ* ≈ −2.9035, so 2/λ_max ≈ 0.0578: η = 0.055 is stable at the minimum but not
# far from it, where the quartic's curvature grows; D = 60 pushes particles there
ARGS = ["check", "styblinski-tang:dim=1", "--dynamics", "sgld", "--eta", "0.055", "--temperature", "60",
        "--runs", "40", "--max-steps", "300", "--seed", "1"]


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    out = tmp_path_factory.mktemp("diverge") / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([*ARGS, "--json", "--out", str(out)])
    return code, json.loads(buf.getvalue()), out


def test_diverged_particles_are_reported_not_escapes(checked):
    code, obj, _ = checked
    assert code == 0
    (exp,) = obj["experiments"]
    assert exp["n_diverged"] >= exp["n_runs"] // 2            # most particles blow up
    assert exp["n_escaped"] + exp["n_diverged"] <= exp["n_runs"]
    assert "diverged" in exp["warnings"] and "not counted as escapes" in exp["warnings"]


def test_escape_flags_exclude_diverged_runs():
    from flatminima.validation.experiments import escape_task

    config = {"landscape": "styblinski-tang:dim=1", "sharpness": 1.0, "minimum": [-2.903534027771177],
              "criterion": "basin", "eta": 0.055, "n_runs": 40, "loss_unit": 1.0, "options": {},
              "noise": "white", "temperature": 60.0, "max_steps": 300}
    row = escape_task(config, 1)[0]
    escaped, diverged = np.array(row["escaped"]), np.array(row["diverged"])
    assert diverged.sum() == row["n_diverged"] > 0
    assert not (escaped & diverged).any()                     # a diverged run is never an escape
    assert escaped.sum() == row["n_escaped"]


def test_the_written_report_has_the_n_diverged_column(checked):
    _, obj, out = checked
    (exp,) = obj["experiments"]
    text = (out / "report.md").read_text()
    assert "n_diverged" in text and "never as escapes" in text
    table = json.loads((out / "result.json").read_text())
    (experiments,) = [t for t in table["tables"] if t["name"] == "experiments"]
    row = dict(zip(experiments["columns"], experiments["rows"][0]))
    assert row["n_diverged"] == exp["n_diverged"]


def test_the_text_output_says_so(capsys):
    assert main(ARGS) == 0
    out = capsys.readouterr().out
    assert "diverged" in out and "never counted as escapes" in out
