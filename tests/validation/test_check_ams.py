"""``check --method``: auto measures a rate brute force cannot reach by adaptive multilevel splitting, and the
measured rate is that of the discrete chain (against its exact mean exit time)."""
import json
import math

import numpy as np
import pytest

from flatminima.numerics.builtins import double_well
from flatminima.numerics.reference.chain1d import chain_mfpt_1d
from flatminima.reports.cli import main
from flatminima.validation.verdicts import Z_TOL  # statistical tolerance, in standard errors

DW = double_well()          # θ⁴/4 − θ²/2 pieces: minima ∓1 (H = 2), saddle 0, ΔL = 1/4


def _grad(x):
    x = np.atleast_1d(np.asarray(x, float))
    return np.asarray(DW.grads(x[:, None]))[:, 0]


@pytest.fixture(scope="module")
def auto_check():
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["check", "double-well", "--dynamics", "sgld", "--temperature", "0.02", "--json"])
    return code, json.loads(buf.getvalue())


def test_auto_uses_ams_when_brute_force_would_see_too_few_escapes(auto_check):
    code, obj = auto_check
    assert code == 0
    (exp,) = obj["experiments"]
    assert exp["method"] == "ams" and exp["simulated"] is True
    # brute force: 200 runs of ≤ 200 000 steps at γ ≈ 8e-7 per unit time, η = 0.025: ≈ 0.8 escapes expected
    assert exp["expected_escapes"] < 20
    assert exp["ams"]["n_ams_runs"] == 20 and exp["ams"]["n_replicas"] == 100
    assert 0 < exp["ams"]["probability"] < 1e-3
    assert exp["agrees"] is True


def test_the_ams_rate_is_the_exact_rate_of_the_chain(auto_check):
    """The basin exit is the entry into the ball of radius 1/4 around θ = +1 (a quarter of the distance to the
    saddle), i.e. the first step with θ > 3/4: the exact discrete-chain mean exit time (collocation with
    Richardson extrapolation, numerics.reference.chain1d) with the check's η and D gives the rate."""
    _, obj = auto_check
    (exp,) = obj["experiments"]
    eta, D = exp["eta"], exp["temperature"]
    exact = chain_mfpt_1d(_grad, lambda x: math.sqrt(2 * D * eta) + 0 * x, eta=eta, start=-1.0, absorbing=0.75,
                          left=-2.0)
    lo, hi = exp["rate_ci"]
    se = math.log(hi / lo) / (2 * 1.959964)            # s.e. of log γ̂ behind the 95% interval
    assert abs(math.log(exp["measured_rate"] / exact.rate)) <= Z_TOL * se, (exact.rate, exp["rate_ci"])
    assert se < 0.15                                   # a ±30% interval: not vacuous


def test_bad_method_is_one_line_exit_2(capsys):
    assert main(["check", "double-well", "--method", "exact-ish"]) == 2
    err = capsys.readouterr().err
    assert "--method must be one of auto, simulate, ams" in err and err.count("\n") == 1


def test_one_replica_is_one_line_exit_2(capsys):
    assert main(["check", "double-well", "--method", "ams", "--replicas", "1"]) == 2
    err = capsys.readouterr().err
    assert "--replicas must be an integer >= 2" in err and err.count("\n") == 1


def test_method_exact_is_the_chain_reference_with_the_checks_parameters(capsys):
    """--method exact: the 1-D chain's exact rate, here recomputed by hand from the JSON's η and D (white noise,
    σ = √(2Dη); basin exit = first step beyond 1 − 1/4)."""
    assert main(["check", "double-well", "--dynamics", "sgld", "--temperature", "0.05", "--method", "exact",
                 "--json"]) == 0
    (exp,) = json.loads(capsys.readouterr().out)["experiments"]
    assert exp["method"] == "exact" and exp["n_escaped"] is None
    eta, D = exp["eta"], exp["temperature"]
    ref = chain_mfpt_1d(_grad, lambda x: math.sqrt(2 * D * eta) + 0 * x, eta=eta, start=-1.0, absorbing=0.75,
                        left=-2.0)
    assert exp["measured_rate"] == pytest.approx(ref.rate, rel=1e-9)
    lo, hi = exp["rate_ci"]
    assert lo < ref.rate < hi and (hi - lo) / ref.rate < 1e-3


def test_method_exact_refuses_two_dimensions_with_one_line(capsys):
    assert main(["check", "two-well-2d", "--dynamics", "sgld", "--method", "exact"]) == 2
    err = capsys.readouterr().err
    assert "method exact needs a 1-D landscape" in err and err.count("\n") == 1


def test_ams_that_finds_no_path_is_inconclusive_not_a_crash(monkeypatch, capsys):
    """Every AMS run stalls (one iteration allowed): p̂ = 0, so no rate; the JSON and the text say so (JSON
    without NaN), the verdict is INCONCLUSIVE, and --strict exits 3."""
    from flatminima.numerics.simulate import ams

    real = ams.ams_escape
    monkeypatch.setattr(ams, "ams_escape", lambda *a, **kw: real(*a, **kw, max_iterations=1))
    argv = ["check", "double-well", "--dynamics", "sgld", "--temperature", "0.02", "--method", "ams"]
    assert main(argv + ["--json"]) == 0
    (exp,) = json.loads(capsys.readouterr().out)["experiments"]
    assert exp["method"] == "ams" and exp["measured_rate"] == 0 and exp["rate_ci"] is None
    assert exp["agrees"] is None and "p̂ = 0" in exp["inconclusive_reason"]
    assert main(argv + ["--strict"]) == 3
    assert "no rate (every AMS run returned p̂ = 0)" in capsys.readouterr().out
