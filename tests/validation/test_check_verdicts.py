"""`flatminima check` end to end: three-valued verdicts, observability planning, λ chosen for SGD, zero modes,
flat valleys of minima, and the one-line errors of --budget and --saddle.

The bug these guard against: a check that saw 0 escapes out of 200 reported "agrees" (the prediction
was inside the interval [0, upper bound]). Now a verdict needs ≥ MIN_ESCAPES escapes to PASS, and an
experiment expected to give fewer than MIN_EXPECTED escapes is not simulated at all (INCONCLUSIVE).

Run time: the two tests marked ``slow`` run a loss with a flat direction through the whole pipeline
(autograd gradients, saddle searches from ~30 points of the two valleys); they take 30-110 s each on
2 cores and are excluded by default (``-m slow`` runs them). The rest takes about 45 s.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import warnings

import numpy as np
import pytest

from flatminima.reports.cli import main, render_check_text
from flatminima.validation.verdicts import MIN_ESCAPES, MIN_EXPECTED, expected_escapes, judge

FLAT_LOSS = """import autograd.numpy as np
DIM = 2


def loss(t):
    return (t[0]**2 - 1)**2 + 0.0 * t[1]
"""

DOUBLE_WELL_2D = """import autograd.numpy as np
DIM = 2


def loss(t):
    return (t[0]**2 - 1)**2 + t[1]**2
"""


def _judged_again(exp):
    """The verdict ``judge`` gives for an experiment's own numbers."""
    return judge(exp["predicted_rate"], exp["allowed_relative_error"], tuple(exp["rate_ci"]),
                 n_escaped=exp["n_escaped"], n_runs=exp["n_runs"], n_diverged=exp["n_diverged"])


def _consistent_with_judge(exp):
    agrees, reason = _judged_again(exp)
    assert exp["agrees"] is agrees
    if agrees is None:
        assert exp["inconclusive_reason"] == reason
    elif agrees is False:
        assert exp["fail_reason"] == reason


# ---------------------------------------------------------------------- the README example
@pytest.fixture(scope="module")
def double_well():
    """``flatminima check double-well --json`` with 100 runs of at most 12 000 steps (seed 0).

    The README example plans 3 predicted mean escape times per run (79 125 steps for SGLD, 55 960 for
    SGD: ~40 s); 12 000 steps still give 100·(1 − e^{−γηT}) = 36.6 (SGLD) and 47.4 (SGD) expected
    escapes, above MIN_EXPECTED = 20, in a seventh of the time.
    """
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["check", "double-well", "--json", "--runs", "100", "--max-steps", "12000", "--seed", "0"])
    assert code == 0
    return json.loads(buf.getvalue())


def test_readme_example_simulates_both_dynamics_with_escapes(double_well):
    exps = {e["dynamics"]: e for e in double_well["experiments"]}
    assert set(exps) == {"sgld", "sgd"}
    for exp in exps.values():
        assert exp["simulated"] is True
        assert exp["expected_escapes"] >= MIN_EXPECTED
        assert exp["expected_escapes"] == pytest.approx(
            expected_escapes(exp["predicted_rate"], eta=exp["eta"], max_steps=exp["max_steps"], n_runs=exp["n_runs"]),
            rel=1e-12)
        assert exp["n_runs"] == 100 and exp["max_steps"] == 12_000
        assert exp["n_escaped"] > 0
        assert exp["agrees"] in (True, False, None)
        _consistent_with_judge(exp)
        assert not (exp["n_escaped"] == 0 and exp["agrees"] is True)
    # SGLD at the chosen D = ΔL/5 = 0.05 on θ⁴/4 − θ²/2: 1-D Kramers √(H_a|H_b|)/(2π)·e^{−5} = √2/(2π)·e^{−5}
    assert exps["sgld"]["temperature"] == pytest.approx(0.05, rel=1e-12)
    assert exps["sgld"]["predicted_rate"] == pytest.approx(math.sqrt(2) / (2 * math.pi) * math.exp(-5.0), rel=1e-10)
    # η = 0.05/λ_max(H_a) = 0.05/2
    assert exps["sgld"]["eta"] == exps["sgd"]["eta"] == pytest.approx(0.025, rel=1e-12)


def test_zero_escapes_in_200_runs_is_inconclusive_not_agreement():
    """The old bug, reproduced on purpose: force a simulation whose prediction gives ~0 escapes."""
    from flatminima.validation.check import _experiment, _plan
    from flatminima.validation.experiments import basin_of, geometry

    land, analysis = basin_of({"landscape": "double-well", "minimum": [-1.0]})
    # SGD at λ = 1: exponent 15.6 (Eq. (7)), γ ≈ 5e-8 per unit time: 200·γ·η·2000 ≈ 5e-6 escapes expected
    plan = _plan("sgd", "double-well", land, analysis, geometry(analysis), criterion="basin", noise=None, eta=0.025,
                 eta_given=True, temperature=None, batch_size=None, loss_unit=1.0, n_runs=200, max_steps=2000)
    assert plan.expected < 1e-3 and plan.skip_reason.startswith("not simulated")
    plan.skip_reason = ""                       # simulate anyway, as the check used to
    exp, verdict = _experiment(plan, 0)
    assert exp["simulated"] is True and exp["n_escaped"] == 0 and exp["n_runs"] == 200
    assert exp["agrees"] is None and verdict.status == "INCONCLUSIVE"
    assert "only 0 escapes" in exp["inconclusive_reason"]
    assert exp["rate_upper"] == exp["rate_ci"][1]
    _consistent_with_judge(exp)


# ---------------------------------------------------------------------- not observable: not simulated
@pytest.fixture(scope="module")
def two_well_cold():
    from flatminima.validation.check import run_check

    return run_check("two-well-2d", dynamics="sgld", temperature=0.1, n_runs=300, method="simulate")


def test_unobservable_experiment_is_not_simulated(two_well_cold):
    obj, result = two_well_cold
    (exp,) = obj["experiments"]
    assert exp["simulated"] is False and exp["agrees"] is None
    assert exp["n_escaped"] is None and exp["measured_rate"] is None
    # Eyring–Kramers from the JSON's own geometry: |λ_b|/(2π)·√(det H_a/|det H_b|)·e^{−ΔL/D}
    (path,) = obj["paths"]
    det_a = np.prod(obj["minimum"]["hessian_eigenvalues"])
    det_b = abs(np.prod(path["saddle"]["hessian_eigenvalues"]))
    ek = path["h_be"] / (2 * math.pi) * math.sqrt(det_a / det_b) * math.exp(-path["barrier"] / 0.1)
    assert exp["predicted_rate"] == pytest.approx(ek, rel=1e-10)
    # about one escape expected: 300·(1 − e^{−γ·η·200 000}) (the default step cap), far below MIN_EXPECTED
    expected = 300 * -math.expm1(-ek * exp["eta"] * exp["max_steps"])
    assert exp["max_steps"] == 200_000
    assert exp["expected_escapes"] == pytest.approx(expected, rel=1e-9)
    assert 0.5 < expected < 2.0
    reason = exp["inconclusive_reason"]
    assert f"{expected:.2g} escapes expected in 300 runs" in reason
    assert "--temperature" in reason and "--max-steps" in reason
    assert "--loss-unit" not in reason and "--batch-size" not in reason     # flags of SGD, not of SGLD
    assert result.status == "INCONCLUSIVE"
    assert [v.status for v in result.verdicts] == ["INCONCLUSIVE"]


def test_unobservable_experiment_exits_3_with_strict(capsys):
    code = main(["check", "two-well-2d", "--dynamics", "sgld", "--temperature", "0.1", "--runs", "300", "--strict",
                 "--method", "simulate"])
    out = capsys.readouterr().out
    assert code == 3
    assert "INCONCLUSIVE SGLD" in out and "not simulated" in out


# ---------------------------------------------------------------------- SGD: λ chosen for an observable exponent
def test_sgd_loss_unit_is_chosen_for_exponent_five(double_well):
    (path,) = double_well["paths"]
    # θ⁴/4 − θ²/2: ΔL = 1/4, H_a = 2, |H_b| = 1; inflection at θ = −1/√3 where L = −5/36, so s = (−5/36 + 1/4)/(1/4) = 4/9
    assert (path["barrier"], path["h_ae"], path["h_be"]) == pytest.approx((0.25, 2.0, 1.0), rel=1e-9)
    assert path["s"] == pytest.approx(4 / 9, rel=1e-7)
    exp = next(e for e in double_well["experiments"] if e["dynamics"] == "sgd")
    assert exp["noise"] == "hessian_two_region" and exp["batch_size"] == 1

    def exponent(lam):
        # Eq. (7): 2BΔL((1 − s)/|H_be| + s/H_ae)/(ηλ)
        return (2 * exp["batch_size"] * path["barrier"] * ((1 - path["s"]) / path["h_be"] + path["s"] / path["h_ae"])
                / (exp["eta"] * lam))

    # at λ = 1: 2·¼·(5/9 + 2/9)/0.025 = 15.56, so no escape would be seen; λ = 15.56/5 rounded down to 4 digits
    assert exponent(1.0) == pytest.approx(0.5 * (7 / 9) / 0.025, rel=1e-7)
    assert exp["loss_unit"] == pytest.approx(3.111, rel=1e-12)
    assert 5.0 <= exponent(exp["loss_unit"]) <= 5.0 * 1.005
    why = exp["chosen"]["loss_unit"]
    assert why.startswith("3.111, so that the predicted exponent is 5")
    assert "at λ = 1 it is 15.6" in why and "no escape would be observable" in why
    # the SGD law's Itô prefactor H_ae/(2π) at that exponent
    assert exp["predicted_rate"] == pytest.approx(2 / (2 * math.pi) * math.exp(-exponent(exp["loss_unit"])), rel=1e-7)
    assert "loss_unit" not in next(e for e in double_well["experiments"] if e["dynamics"] == "sgld")["chosen"]


def test_text_output_names_the_noise_parameters(double_well):
    text = render_check_text(double_well)
    exps = {e["dynamics"]: e for e in double_well["experiments"]}
    sgd, sgld = exps["sgd"], exps["sgld"]
    assert f"SGD (hessian_two_region noise, basin exit; η = {sgd['eta']:.4g}, B = 1, λ = {sgd['loss_unit']:.4g})" in text
    assert f"SGLD (white noise, basin exit; η = {sgld['eta']:.4g}, D = {sgld['temperature']:.4g})" in text
    assert "η = 0.025, B = 1, λ = 3.111" in text and "η = 0.025, D = 0.05" in text
    sgld_head = next(line for line in text.splitlines() if "SGLD (" in line)
    assert "λ =" not in sgld_head and "B =" not in sgld_head
    assert "chosen loss_unit: 3.111" in text


# ---------------------------------------------------------------------- zero modes: a flat direction
@pytest.fixture
def flat_file(tmp_path):
    path = tmp_path / "flat.py"
    path.write_text(FLAT_LOSS)
    return path


@pytest.mark.slow          # ~80-110 s on 2 cores: autograd gradients for 79 125 steps and two basin analyses
def test_flat_direction_loss_uses_the_one_dimensional_law(flat_file):
    from flatminima.validation.check import run_check

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        obj, result = run_check(str(flat_file) + ":loss", minimum=[-1.0, 0.3], dynamics="sgld", n_runs=100, seed=1)
    # H_a = diag(8, 0) at (−1, y): one zero mode along θ1
    assert obj["minimum"]["zero_modes"] == 1
    assert obj["minimum"]["hessian_eigenvalues"] == pytest.approx([0.0, 8.0], abs=1e-9)
    assert obj["minimum"]["theta"][0] == pytest.approx(-1.0, abs=1e-9)
    assert len(obj["notes"]) == 1 and "1 zero mode(s)" in obj["notes"][0]
    assert obj["minima"] == [{"theta": obj["minimum"]["theta"], "loss": obj["minimum"]["loss"], "zero_modes": 1,
                              "points_in_valley": 1, "analysed": True}]
    (exp,) = obj["experiments"]
    assert "1-D reduction" in exp["law"]
    # the saddle (0, y): ΔL = 1, H_ae = 8, |H_be| = 4; 1-D Kramers √(8·4)/(2π)·e^{−5} at the chosen D = ΔL/5
    path = obj["paths"][0]
    assert (path["barrier"], path["h_ae"], path["h_be"]) == pytest.approx((1.0, 8.0, 4.0), rel=1e-8)
    assert exp["temperature"] == pytest.approx(0.2, rel=1e-8)
    assert exp["predicted_rate"] == pytest.approx(math.sqrt(32) / (2 * math.pi) * math.exp(-5.0), rel=1e-7)
    assert exp["simulated"] is True and exp["n_escaped"] >= MIN_ESCAPES
    assert exp["agrees"] is not None
    _consistent_with_judge(exp)
    assert result.status in ("PASS", "FAIL")


def test_flat_valleys_are_grouped(flat_file, tmp_path):
    from flatminima.numerics import build_landscape
    from flatminima.numerics.basin import group_flat_minima
    from flatminima.numerics.critical import find_minima, hessian_spectrum, zero_mode_mask

    land = build_landscape(str(flat_file) + ":loss", dim=2)
    minima = find_minima(land)
    groups = group_flat_minima(land, minima)
    # the minima are the lines θ0 = ±1 (any θ1): one group per line, every point found in one of them.
    # Any path between the lines crosses θ0 = 0, where L = 1: no point of one line may join the other's group.
    assert len(groups) == 2
    assert sorted(round(float(g[0][0]), 6) for g in groups) == [-1.0, 1.0]
    assert sum(len(g) for g in groups) == len(minima)
    for g in groups:
        assert np.sum(zero_mode_mask(hessian_spectrum(land, g[0]))) == 1
        strays = [m.tolist() for m in g if abs(m[0] - g[0][0]) > 1e-6]
        assert not strays, f"group of {g[0].tolist()} holds points of the other valley: {strays}"
    n_right = sum(m[0] > 0 for m in minima)
    assert sorted(len(g) for g in groups) == sorted([n_right, len(minima) - n_right])

    dw = tmp_path / "dw2.py"
    dw.write_text(DOUBLE_WELL_2D)
    land = build_landscape(str(dw) + ":loss", dim=2)
    minima = find_minima(land)
    groups = group_flat_minima(land, minima)
    # (θ0² − 1)² + θ1²: two isolated minima (±1, 0), H = diag(8, 2), no zero mode: kept apart
    assert len(minima) == 2 and [len(g) for g in groups] == [1, 1]
    assert sorted(tuple(np.round(g[0], 6)) for g in groups) == [(-1.0, 0.0), (1.0, 0.0)]


@pytest.mark.slow          # 30-50 s on 2 cores: find_minima + grouping + two basin analyses with autograd
def test_landscape_json_lists_one_minimum_per_valley(flat_file, capsys):
    code = main(["landscape", str(flat_file) + ":loss", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\n") == 1                  # one JSON object on one line
    obj = json.loads(out)
    minima = obj["minima"]
    assert len(minima) == 2
    for entry in minima:
        assert set(entry) >= {"theta", "loss", "zero_modes", "points_in_valley", "analysed"}
        assert entry["zero_modes"] == 1 and entry["loss"] == pytest.approx(0.0, abs=1e-12)
        assert entry["points_in_valley"] >= 1 and entry["analysed"] is True
    assert sorted(round(e["theta"][0], 6) for e in minima) == [-1.0, 1.0]
    assert obj["minimum"]["zero_modes"] == 1
    # points_in_valley counts the points of find_minima's multi-start on that line (θ0 = ±1)
    from flatminima.numerics import build_landscape
    from flatminima.numerics.critical import find_minima

    found = find_minima(build_landscape(str(flat_file) + ":loss", dim=2))
    for entry in minima:
        on_line = sum(abs(m[0] - entry["theta"][0]) < 1e-6 for m in found)
        assert entry["points_in_valley"] == on_line, (entry, on_line, len(found))


# ---------------------------------------------------------------------- bad --budget and --saddle
@pytest.mark.parametrize("argv,needle", [
    (["check", "two-well-2d", "--budget", "0"], "argument --budget: --budget must be a finite number > 0; got 0"),
    (["check", "two-well-2d", "--budget", "-5"], "--budget must be a finite number > 0; got -5"),
    (["landscape", "two-well-2d", "--budget", "nan"], "--budget must be a finite number > 0; got nan"),
    # (3, 3) is far from the saddle near (0, −0.5): Newton from it lands on the right-hand minimum (index 0)
    (["check", "two-well-2d", "--saddle=3,3"], "--saddle=3,3 is not near an index-1 saddle of two-well-2d"),
    (["landscape", "two-well-2d", "--saddle=3,3"], "--saddle=3,3 is not near an index-1 saddle of two-well-2d"),
    (["check", "two-well-2d", "--saddle=1,2,3"], "--saddle must have 2 coordinates for two-well-2d"),
    (["check", "double-well", "--saddle=0,0"], "--saddle must have 1 coordinates for double-well"),
    (["check", "two-well-2d", "--saddle=a,b"], "--saddle: expected comma-separated numbers"),
])
def test_bad_budget_and_saddle_exit_2_with_one_line(capsys, argv, needle):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert needle in captured.err and captured.err.count("\n") == 1
    assert captured.err.startswith("flatminima: error: ")
    assert "Traceback" not in captured.err and captured.out == ""


# ---------------------------------------------------------------------- validate --quiet on every suite
class _Started(Exception):
    """Raised by the first check of a suite: it was called, so its run() accepted cmd_validate's arguments."""


def test_validate_conventions_quiet_starts_without_type_error(monkeypatch, tmp_path, capsys):
    # The regression was a TypeError from conventions.run(out, size=, workers=, executor=, resume=, progress=).
    # Here the first check is replaced by a sentinel: reaching it proves run() took the CLI's keyword arguments,
    # and that --quiet printed nothing before it (the full tiny run is the next test).
    from flatminima.validation.suites import conventions

    def first_check(*args, **kwargs):
        raise _Started

    monkeypatch.setattr(conventions, "check_c1", first_check)
    with pytest.raises(_Started):
        main(["validate", "--suite", "conventions", "--size", "tiny", "--quiet", "--out", str(tmp_path / "out")])
    assert capsys.readouterr().err == ""          # --quiet: no progress line before the first check


def test_every_suite_run_accepts_the_cli_arguments(tmp_path):
    import inspect

    from flatminima.validation.suites import get_suite, suite_names

    for name in suite_names():
        suite = get_suite(name)
        size = next(iter(suite.sizes))
        inspect.signature(suite.run).bind(tmp_path, size=size, workers=None, executor=None, resume=False,
                                          progress=False)


@pytest.mark.slow        # 27 s; the tiny conventions run is also tests/validation/test_suite_conventions.py
def test_validate_conventions_tiny_quiet_runs(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["validate", "--suite", "conventions", "--size", "tiny", "--quiet", "--out", str(out), "--strict"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    assert "verdicts pass" in captured.out and (out / "result.json").is_file()
