"""Optimizers in the validation layer: predictions (validation.predict), `run_check` and `flatminima check`.

Expected values come from the SymPy registry (theory.formulas(), derived independently of validation.predict: the
optimizer laws momentum_rate_ito, pnm_rate_ito, adai_rate_ito, adam_rate_ito and the SGD-level laws) and from
closed forms typed here. Where predict and the registry use different prefactor conventions, the test states the
difference and checks it exactly.
"""
import json
import math
import subprocess
import sys
import warnings

import pytest

from flatminima import theory
from flatminima.errors import InputError
from flatminima.numerics.simulate import simulate_options
from flatminima.reports.cli import main
from flatminima.validation.check import run_check
from flatminima.validation.experiments import basin_of, geometry
from flatminima.validation.predict import exact_escape_time, predict, sgd_equivalent

B, LAM = 2, 1.0
BASE = {"landscape": "double-well", "sharpness": 1.0, "minimum": [-1.0], "criterion": "basin", "batch_size": B,
        "loss_unit": LAM, "n_runs": 10, "max_steps": 100, "options": {}}
N_PNM = math.sqrt(5.0)                  # √((1+β₀)²+β₀²) at β₀ = 1


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


@pytest.fixture(scope="module")
def basin():
    land, analysis = basin_of(BASE)
    geom = geometry(analysis)
    (path,) = geom["paths"]
    # the double well: ΔL = 1/4, H_ae = 2, |H_be| = 1, s = 4/9 (inflection at 1/√3 of the way, quartic)
    assert path["barrier"] == pytest.approx(0.25) and path["h_ae"] == pytest.approx(2.0)
    assert path["h_be"] == pytest.approx(1.0)
    return land, geom, path


def _law(reg, name, path, eta, **extra):
    """log of a registry rate at the double well's geometry (s = 1 for hessian_fixed is passed in extra)."""
    kw = dict(eta=eta, batch_size=B, loss_unit=LAM, barrier=path["barrier"], h_ae=path["h_ae"], h_be=path["h_be"],
              s=path["s"])
    kw.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # regime warnings of the registry are not under test here
        return float(reg[name].log(**kw))


# η chosen so that every exponent is between about 10 and 20 (SGD at η′ has exponent 0.778/η′ here)
OPTIMIZER_CASES = [
    ("heavy-ball", {"kind": "momentum", "momentum": 0.9}, 0.004, "momentum_rate_ito", {"momentum": 0.9}),
    ("heavy-ball-0.5", {"kind": "momentum", "momentum": 0.5}, 0.02, "momentum_rate_ito", {"momentum": 0.5}),
    ("pnm", {"kind": "pnm", "momentum": 0.9, "pnm_beta0": 1.0}, 0.04 * N_PNM, "pnm_rate_ito", {"pnm_beta0": 1.0}),
    ("pnm-0.5", {"kind": "pnm", "momentum": 0.5, "pnm_beta0": 0.5}, 0.06, "pnm_rate_ito", {"pnm_beta0": 0.5}),
    ("adai", {"kind": "adai"}, 0.04, "adai_rate_ito", {}),
    ("adam", {"kind": "adam", "epsilon": 0.3}, 0.08, "adam_rate_ito", {"epsilon": 0.3}),
    ("adam-default-eps", {"kind": "adam"}, 0.08, "adam_rate_ito", {"epsilon": 1e-8}),
]


# ====================================================================== 1. predict() against the registry
@pytest.mark.parametrize("name,opt,eta,law,extra", OPTIMIZER_CASES, ids=[c[0] for c in OPTIMIZER_CASES])
def test_two_region_prediction_is_the_registry_law(reg, basin, name, opt, eta, law, extra):
    """hessian_two_region on the 1-D double well: predict() (via the SGD-equivalent run, sgd_equivalent) and the
    registry's optimizer law (SymPy) are both 'the Itô two-region rate of the diffusion-limit SGD, times the time
    factor' — same convention, so the log rates agree to rounding."""
    land, geom, path = basin
    config = dict(BASE, noise="hessian_two_region", eta=eta, optimizer=opt)
    p = predict(config, geom, land)
    assert p.law.startswith(law)
    expected = _law(reg, law, path, eta, **extra)
    if law == "adam_rate_ito":
        # plus the inertia of Adam's EMA momentum: heavy ball with step ηP(1−β₁) and momentum β₁ (registry's R),
        # P = 1/(√(λH_ae/B) + ε) the frozen preconditioner
        P = 1.0 / (math.sqrt(LAM * 2.0 / B) + extra["epsilon"])
        expected += math.log(reg["momentum_underdamped_ratio"](eta=eta * P * 0.1, momentum=0.9, h_be=path["h_be"]))
    assert p.log_rate == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert p.rate == pytest.approx(math.exp(p.log_rate), rel=1e-12)
    assert 5 <= p.exponent <= 30


def test_nesterov_prediction_is_heavy_balls(reg, basin):
    """Nesterov has heavy ball's long-time weight (same exponent) and, at leading order, its mass and friction: predict
    uses the registry's momentum_rate_ito, underdamped factor R included (simulated Nesterov escapes with R: the
    constant-noise test below)."""
    land, geom, path = basin
    eta, beta = 0.004, 0.9
    p = predict(dict(BASE, noise="hessian_two_region", eta=eta,
                     optimizer={"kind": "momentum", "momentum": beta, "nesterov": True}), geom, land)
    R = reg["momentum_underdamped_ratio"](eta=eta, momentum=beta, h_be=path["h_be"])
    assert R == pytest.approx(2 / 1.6 * (math.sqrt(2.6) - 1), rel=1e-12)         # x = 4η|H_be|/(1−β)² = 1.6
    assert p.law.startswith("momentum_rate_ito (Nesterov")
    assert p.log_rate == pytest.approx(_law(reg, "momentum_rate_ito", path, eta, momentum=beta), rel=1e-9, abs=1e-9)


def test_sgd_equivalent_rates_and_time_factors(reg, basin):
    """The diffusion-limit SGD run: η_eff = η/(1−β) (heavy ball), η/n (PNM), η (Adai, Adam), and the factor that
    converts its rate per unit t′ = step·η_eff to the optimizer's t = step·η: η_eff/η (× R for heavy ball)."""
    land, geom, path = basin
    for opt, eta, eta_eff, factor in [
            ({"kind": "momentum", "momentum": 0.9}, 0.004, 0.04,
             10 * reg["momentum_underdamped_ratio"](eta=0.004, momentum=0.9, h_be=1.0)),
            ({"kind": "momentum", "momentum": 0.9, "nesterov": True}, 0.004, 0.04,
             10 * reg["momentum_underdamped_ratio"](eta=0.004, momentum=0.9, h_be=1.0)),
            ({"kind": "pnm"}, 0.1, 0.1 / N_PNM, 1 / N_PNM),
            ({"kind": "adai"}, 0.05, 0.05, 1.0),
            # Adam: the inertia of its EMA momentum, heavy ball with step ηP(1−β₁), P = 1/√(λH_ae/B) = 1 here
            ({"kind": "adam"}, 0.05, 0.05,
             reg["momentum_underdamped_ratio"](eta=0.05 * (1.0 / (1.0 + 1e-8)) * 0.1, momentum=0.9, h_be=1.0))]:
        eq = sgd_equivalent(dict(BASE, noise="hessian_two_region", eta=eta, optimizer=opt), geom, land)
        assert eq.config["eta"] == pytest.approx(eta_eff, rel=1e-12)
        assert "optimizer" not in eq.config
        assert eq.factor == pytest.approx(factor, rel=1e-12)


def test_pnm_paper_law_is_the_independent_buffer_reading(reg, basin):
    """PNM's paper_law_rate: noise n²·C at η/n. Same Itô prefactor as the long-time law (it does not depend on η or
    λ), so log(rate/paper_rate) is the registry's pnm_exponent (independent buffers) minus pnm_long_time_exponent."""
    land, geom, path = basin
    eta = 0.04 * N_PNM
    p = predict(dict(BASE, noise="hessian_two_region", eta=eta, optimizer={"kind": "pnm"}), geom, land)
    kw = dict(eta=eta, batch_size=B, loss_unit=LAM, barrier=0.25, h_ae=2.0, h_be=1.0, s=path["s"], pnm_beta0=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gap = reg["pnm_exponent"](**kw) - reg["pnm_long_time_exponent"](**kw)
        # and by hand: the long-time exponent divided by n² = 5
        assert reg["pnm_exponent"](**kw) == pytest.approx(reg["pnm_long_time_exponent"](**kw) / 5, rel=1e-12)
    assert math.log(p.paper_law_rate) == pytest.approx(p.log_rate - gap, rel=1e-9)
    assert p.paper_law.startswith("pnm independent-buffer law")


@pytest.mark.parametrize("name,opt,eta,law,extra", OPTIMIZER_CASES[:5], ids=[c[0] for c in OPTIMIZER_CASES[:5]])
def test_hessian_fixed_prediction_differs_from_the_registry_only_by_sgds_prefactor_convention(
        reg, basin, name, opt, eta, law, extra):
    """hessian_fixed (C = λH_a/B everywhere): predict uses 1-D Kramers with constant D = η_eff·λH_ae/(2B), prefactor
    √(H_ae|H_be|)/(2π), for the diffusion-limit SGD; the registry's optimizer laws are the two-region Itô law, whose
    s = 1 value has the two-region prefactor (the saddle's noise is λ|H_be|/B there). So
    log γ_predict − log γ_registry(s=1) = log kramers_1d(D_eff) − log sgd_rate_ito(η_eff, s=1), the same difference
    as for plain SGD (−½ log 2 here); the optimizer's factor cancels."""
    land, geom, path = basin
    p = predict(dict(BASE, noise="hessian_fixed", eta=eta, optimizer=opt), geom, land)
    eta_eff = sgd_equivalent(dict(BASE, noise="hessian_fixed", eta=eta, optimizer=opt), geom, land).config["eta"]
    D = eta_eff * LAM * path["h_ae"] / (2 * B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sgd_gap = (float(reg["kramers_1d_rate"].log(barrier=0.25, h_ae=2.0, h_be=1.0, temperature=D))
                   - _law(reg, "sgd_rate_ito", path, eta_eff, s=1.0))
    assert sgd_gap == pytest.approx(-0.5 * math.log(2.0), abs=1e-9)           # √(2·1)/(2π) against 2/(2π)
    assert p.log_rate == pytest.approx(_law(reg, law, path, eta, s=1.0, **extra) + sgd_gap, rel=1e-9, abs=1e-9)


def test_white_noise_optimizer_prediction_scales_the_temperature(reg, basin):
    """SGLD with heavy ball: ζ = √(2Dη)z is gradient noise of variance 2D/η, so the long-time temperature is
    η_eff·(2D/η)/2 = D·η_eff/η; rate per unit t = (η_eff/η)·R·kramers_1d(D·η_eff/η)."""
    land, geom, path = basin
    eta, beta, D = 0.004, 0.9, 0.003
    p = predict(dict(BASE, noise="white", temperature=D, eta=eta, batch_size=None,
                     optimizer={"kind": "momentum", "momentum": beta}), geom, land)
    R = reg["momentum_underdamped_ratio"](eta=eta, momentum=beta, h_be=1.0)
    expect = math.log(10 * R) + float(reg["kramers_1d_rate"].log(barrier=0.25, h_ae=2.0, h_be=1.0, temperature=10 * D))
    assert p.log_rate == pytest.approx(expect, rel=1e-9)


def _heavy_ball_against_exact(basin, noise, lam, n_runs, seed, nesterov=False):
    """(simulated mean steps, its s.e., predicted steps) of heavy ball η = 0.004, β = 0.9 from −1 to the plane at +1.

    The prediction is the validation layer's best one: exact_escape_time (the exact 1-D MFPT, quadrature, of the
    SGD-equivalent run at η_eff = η/(1−β) = 0.04 to the next minimum +1, divided by the time factor (η_eff/η)·R), in
    steps T/η. Neglected: the heavy ball's own discretisation (≈ ηH_a/(2(1+β)) on the noise temperature, −0.8% on τ)
    and the next-order mass η(1+β)/2 (R 0.766 → 0.773, −1%): below one s.e. (≈ 3.5% with 800 runs). Exploratory
    runs under constant noise with other seeds were 4% ± 2% faster than this prediction (finite-barrier error of
    the Kramers–Hänggi factor, not known in closed form): about 1.3 s.e., inside the 4 s.e. tolerance.
    """
    land, geom, path = basin
    eta, beta = 0.004, 0.9
    config = dict(BASE, noise=noise, eta=eta, batch_size=1, loss_unit=lam,
                  optimizer={"kind": "momentum", "momentum": beta, "nesterov": nesterov})
    predicted = exact_escape_time(config, geom, land) / eta
    res = simulate_options(land, [-1.0], n_runs=n_runs, max_steps=2_000_000, seed=seed, dynamics="momentum",
                           momentum=beta, nesterov=nesterov, eta=eta, noise=noise, batch_size=1, loss_unit=lam,
                           criterion="dividing_surface", plane_offset=1.0, backend="numpy")
    assert res.escaped.all()
    s = res.steps.astype(float)
    return s.mean(), s.std(ddof=1) / math.sqrt(s.size), predicted


def test_heavy_ball_escape_time_matches_the_exact_prediction_under_constant_noise(basin):
    """hessian_fixed, ΔL/D = 4 for the SGD equivalent (λ/B = 1/(16·η_eff)): agreement within 4 s.e."""
    mean, se, predicted = _heavy_ball_against_exact(basin, "hessian_fixed", 1 / (16 * 0.04), 800, seed=21)
    assert abs(mean - predicted) <= 4 * se, (mean, se, predicted)


@pytest.mark.xfail(strict=True, reason=(
    "FINDING: under hessian_two_region noise heavy ball (β = 0.9) has a mean escape time 33% shorter than predict's "
    "law (SGD at η/(1−β) with the same two-region noise, times the Kramers–Hänggi factor R): 4,427 ± 151 simulated "
    "steps against "
    "6,650 predicted (−14.7 s.e.; an independent numpy heavy ball written outside the package gave 4,505 ± 147). With "
    "constant noise the same law agrees (previous test). The momentum buffer carries gradient noise drawn on the hot "
    "side of the split past it, smoothing the noise jump the two-region exponent relies on; β = 0.5 shows a smaller "
    "deficit"))
def test_heavy_ball_escape_time_matches_the_exact_prediction_under_two_region_noise(basin):
    """hessian_two_region, exponent 4 for the SGD equivalent (λ/B = 0.389/(4·η_eff)): within 4 s.e."""
    mean, se, predicted = _heavy_ball_against_exact(basin, "hessian_two_region", 0.389 / (4 * 0.04), 800, seed=22)
    assert abs(mean - predicted) <= 4 * se, (mean, se, predicted)


def test_nesterov_escape_time_matches_the_exact_prediction_under_constant_noise(basin):
    mean, se, predicted = _heavy_ball_against_exact(basin, "hessian_fixed", 1 / (16 * 0.04), 800, seed=23,
                                                    nesterov=True)
    assert abs(mean - predicted) <= 4 * se, (mean, se, predicted)


# ====================================================================== 2. run_check with an optimizer
@pytest.fixture(scope="module")
def momentum_check():
    obj, result = run_check("double-well", dynamics="sgd", minimum=[-1.0], optimizer="momentum", n_runs=50, seed=0)
    return obj, result


def test_run_check_simulates_the_optimizer_and_predicts_its_law(reg, momentum_check):
    obj, result = momentum_check
    (exp,) = obj["experiments"]
    json.dumps(obj, allow_nan=False)
    assert exp["optimizer"] == {"kind": "momentum", "momentum": 0.9, "nesterov": False}
    assert exp["law"].startswith("momentum_rate_ito")
    # default η: the effective rate η/(1−β) is SGD's default 0.05/λ_max(H_a) = 0.025
    assert exp["eta"] == pytest.approx(0.0025, rel=1e-12)
    assert "effective learning rate" in exp["chosen"]["eta"]
    # the chosen λ gives a predicted exponent of 5 (rounded down to 4 digits, so at least 5): registry exponent
    path = obj["paths"][0]
    kw = dict(eta=exp["eta"], batch_size=exp["batch_size"], loss_unit=exp["loss_unit"], barrier=0.25, h_ae=2.0,
              h_be=1.0, s=path["s"], momentum=0.9)
    assert 5.0 <= reg["momentum_exponent"](**kw) < 5.01
    assert exp["predicted_rate"] == pytest.approx(reg["momentum_rate_ito"](**kw), rel=1e-9)
    assert exp["simulated"] and exp["method"] == "simulate" and exp["n_escaped"] > 0
    assert exp["n_runs"] == 50 and exp["n_diverged"] == 0
    assert "momentum" in result.verdicts[0].claim


@pytest.mark.parametrize("optimizer,hyper,law,eta,exponent_law,extra", [
    ("momentum", {"nesterov": True}, "momentum_rate_ito (Nesterov", 0.0025, "momentum_exponent", {"momentum": 0.9}),
    ("pnm", {}, "pnm_rate_ito", 0.025 * N_PNM, "pnm_long_time_exponent", {"pnm_beta0": 1.0}),
    ("adai", {}, "adai_rate_ito", 0.025, "adai_exponent", {}),
    ("adam", {}, "adam_rate_ito", 0.025, "adam_frozen_exponent", {"epsilon": 1e-8}),
    pytest.param("adam", {"epsilon": 1.0}, "adam_rate_ito", 0.025, "adam_frozen_exponent", {"epsilon": 1.0},
                 id="adam-eps=1"),
])
def test_run_check_plans_each_optimizer(reg, optimizer, hyper, law, eta, exponent_law, extra):
    """Not simulated (max_steps too short for the 20 escapes a verdict needs): the plan alone is checked — the
    optimizer in the JSON, its law, the default η (effective rate = SGD's default) and λ chosen for exponent 5
    (Adam's exponent ∝ 1/√λ, the others' ∝ 1/λ), by the registry's exponent of that optimizer."""
    obj, _ = run_check("double-well", dynamics="sgd", minimum=[-1.0], optimizer=optimizer, n_runs=20, seed=0,
                       max_steps=200, **hyper)
    (exp,) = obj["experiments"]
    assert exp["optimizer"]["kind"] == optimizer and all(exp["optimizer"][k] == v for k, v in hyper.items())
    assert exp["law"].startswith(law)
    if optimizer == "adam":
        # Adam's default η makes its step η·P·λ_max(H_a) the SGD default 0.05, P = 1/(√(λH_ae/B) + ε) at the minimum
        # (exact at ε = 0 up to λ's 4-digit rounding; the ε term moves it)
        P = 1.0 / (math.sqrt(exp["loss_unit"] * 2.0 / 1) + hyper.get("epsilon", 1e-8))
        assert exp["eta"] * P * 2.0 == pytest.approx(0.05, rel=2e-3 if "epsilon" not in hyper else 0.5)
        eta = exp["eta"]
    else:
        assert exp["eta"] == pytest.approx(eta, rel=1e-12)
    assert exp["simulated"] is False and "carries state" in exp["inconclusive_reason"]
    kw = dict(eta=eta, batch_size=1, loss_unit=exp["loss_unit"], barrier=0.25, h_ae=2.0, h_be=1.0,
              s=obj["paths"][0]["s"], **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert 5.0 <= reg[exponent_law](**kw) < 5.01


@pytest.mark.parametrize("kwargs,needle", [
    ({"optimizer": "lion"}, "--optimizer: unknown optimizer 'lion'"),
    ({"optimizer": "momentum", "momentum": 1.0}, "--momentum must be in [0, 1)"),
    ({"optimizer": "momentum", "momentum": -0.1}, "--momentum must be in [0, 1)"),
    ({"momentum": 0.9}, "--momentum does not apply to the sgd optimizer"),
    ({"optimizer": "sgd", "momentum": 0.9}, "--momentum does not apply to the sgd optimizer"),
    ({"optimizer": "adai", "momentum": 0.9}, "--momentum does not apply to the adai optimizer"),
    ({"optimizer": "adam", "epsilon": -1}, "--epsilon must be a finite number >= 0"),
    ({"optimizer": "adai", "epsilon": 1.0}, "--epsilon must be in (0, 1)"),
    ({"optimizer": "adam", "beta2": 1.0}, "--beta2 must be in [0, 1)"),
    ({"optimizer": "pnm", "pnm_beta0": -1.0}, "--pnm-beta0 must be a finite number >= 0"),
    ({"optimizer": "adam", "pnm_beta0": 1.0}, "--pnm-beta0 does not apply to the adam optimizer"),
    ({"optimizer": "adai", "adai_beta0": 0.0}, "--adai-beta0 must be a finite number > 0"),
    ({"optimizer": "momentum", "nesterov": "yes"}, "--nesterov must be true or false"),
    ({"optimizer": "momentum", "method": "ams"}, "--method ams runs plain SGD chains only"),
    ({"optimizer": "adam", "method": "exact"}, "--method exact runs plain SGD chains only"),
])
def test_run_check_refuses_bad_optimizer_input_naming_the_flag(kwargs, needle):
    with pytest.raises(InputError) as info:
        run_check("double-well", dynamics="sgd", minimum=[-1.0], n_runs=10, seed=0, **kwargs)
    msg = str(info.value)
    assert needle in msg and "\n" not in msg


# ====================================================================== 3. the command line
def _cli(capsys, *argv):
    code = main(["check", "double-well", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_unknown_optimizer_is_one_line_without_traceback():
    result = subprocess.run([sys.executable, "-m", "flatminima.reports.cli", "check", "double-well", "--optimizer",
                             "lion"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("flatminima: error: --optimizer: unknown optimizer 'lion'")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("argv,needle", [
    (("--optimizer", "momentum", "--momentum", "1.5"), "--momentum must be in [0, 1)"),
    (("--optimizer", "momentum", "--momentum", "abc"), "--momentum"),
    (("--momentum", "0.9"), "--momentum does not apply to the sgd optimizer"),
    (("--optimizer", "adam", "--epsilon", "-1"), "--epsilon must be a finite number >= 0"),
    (("--optimizer", "pnm", "--pnm-beta0", "nan"), "--pnm-beta0 must be a finite number"),
    (("--optimizer", "adai", "--adai-beta0", "0"), "--adai-beta0 must be a finite number > 0"),
    (("--optimizer", "adam", "--beta2", "1"), "--beta2 must be in [0, 1)"),
    (("--optimizer", "adam", "--nesterov"), "--nesterov does not apply to the adam optimizer"),
    (("--optimizer", "momentum", "--method", "ams"), "--method ams"),
])
def test_cli_bad_optimizer_values_exit_2_with_one_line(capsys, argv, needle):
    code, out, err = _cli(capsys, "--dynamics", "sgd", *argv)
    assert code == 2
    assert needle in err
    assert err.startswith("flatminima: error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("extra,expected", [
    ((), {"kind": "momentum", "momentum": 0.9, "nesterov": False}),
    (("--nesterov", "--momentum", "0.8"), {"kind": "momentum", "momentum": 0.8, "nesterov": True}),
    (("--optimizer", "adam", "--beta2", "0.99"), {"kind": "adam", "momentum": 0.9, "beta2": 0.99, "epsilon": 1e-8}),
])
def test_cli_json_carries_the_optimizer(capsys, extra, expected):
    """--max-steps 2000 leaves too few expected escapes: the experiment is planned, not simulated (fast)."""
    argv = ("--optimizer", "momentum") if not extra or extra[0] != "--optimizer" else ()
    code, out, err = _cli(capsys, "--dynamics", "sgd", "--runs", "50", "--max-steps", "2000", *argv, *extra, "--json")
    assert code == 0, err
    obj = json.loads(out)
    (exp,) = obj["experiments"]
    assert exp["optimizer"] == expected
    assert exp["n_runs"] == 50 and exp["max_steps"] == 2000
    assert exp["law"].split(" ")[0] == {"momentum": "momentum_rate_ito", "adam": "adam_rate_ito"}[expected["kind"]]


def test_cli_json_of_a_simulated_momentum_run(capsys):
    """The brief's run: --optimizer momentum --momentum 0.9 --dynamics sgd --runs 50 --json, simulated."""
    code, out, err = _cli(capsys, "--dynamics", "sgd", "--optimizer", "momentum", "--momentum", "0.9", "--runs", "50",
                          "--seed", "1", "--json")
    assert code == 0, err
    (exp,) = json.loads(out)["experiments"]
    assert exp["optimizer"] == {"kind": "momentum", "momentum": 0.9, "nesterov": False}
    assert exp["simulated"] is True and exp["n_runs"] == 50 and exp["n_escaped"] > 0
    assert exp["law"].startswith("momentum_rate_ito")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cli_json_with_an_unobservable_exponent_is_still_json(capsys):
    """--loss-unit 0.01: far too few escapes, so the experiment is planned, not simulated; the JSON must still print."""
    code, out, err = _cli(capsys, "--dynamics", "sgd", "--optimizer", "momentum", "--loss-unit", "0.01", "--runs",
                          "20", "--json")
    assert code == 0, err
    (exp,) = json.loads(out)["experiments"]
    assert exp["simulated"] is False


def test_adam_in_two_dimensions_is_not_judged_on_its_rate():
    """d > 1: Adam's frozen preconditioner is diagonal, not isotropic, so the SGD equivalent along e is a heuristic:
    predict marks the prefactor unknown (check then says INCONCLUSIVE and points to the √B slope)."""
    from flatminima.validation.experiments import basin_of, geometry

    cfg = {"landscape": "two-well-2d", "sharpness": 1.0, "minimum": [-1.0, 0.0], "noise": "hessian_two_region",
           "criterion": "basin", "eta": 0.05, "batch_size": 1, "loss_unit": 30.0, "n_runs": 10,
           "optimizer": {"kind": "adam"}}
    land, an = basin_of(cfg)
    p = predict(cfg, geometry(an), land)
    assert p.prefactor_known is False
    assert any("adam in d > 1" in n for n in p.notes)
    # the same landscape in SGD keeps its own (quasi-potential) prediction status
    q = predict({k: v for k, v in cfg.items() if k != "optimizer"}, geometry(an), land)
    assert q.law != p.law
