"""numerics.kernels with stateful optimizers: heavy-ball and Nesterov momentum, Adam, PNM and Adai.

The compiled loops (``lanes.escape_lanes_opt`` for momentum and Adam on Styblinski–Tang with one plane or a radius,
``loops.escape_nd_opt`` otherwise, PNM and Adai always) against the numpy reference run with the same arguments
(``fixed_noise_reference(..., optimizer=...)``: ``numerics.optimizers.StepRule`` applied by the simulator's
numpy loop, autograd gradients, numpy Generators): the same exit steps, escapes and divergences.
"""
import numpy as np
import pytest

from flatminima.errors import InputError
from flatminima.numerics import kernels as K
from flatminima.numerics.builtins import double_well, styblinski_tang
from flatminima.numerics.kernels import driver
from flatminima.numerics.kernels.lanes import escape_lanes_opt
from flatminima.numerics.kernels.loops import escape_nd_opt
from flatminima.numerics.simulate.reference import fixed_noise_reference

ST10 = styblinski_tang(10)
M10 = np.array(ST10.minima[0])
E10 = np.eye(10)
ST3 = styblinski_tang(3)
M3 = np.array(ST3.minima[0])
E3 = np.eye(3)
ST2 = styblinski_tang(2)
M2 = np.array(ST2.minima[0])
ST1 = styblinski_tang(1)
M1 = np.array(ST1.minima[0])
DW = double_well()

HB = dict(optimizer="momentum", optimizer_params={"momentum": 0.9})
NAG = dict(optimizer="momentum", optimizer_params={"momentum": 0.9, "nesterov": True})
ADAM = dict(optimizer="adam", optimizer_params={"momentum": 0.9, "beta2": 0.999, "epsilon": 1e-8})
RULES = {"hb": HB, "nag": NAG, "adam": ADAM}

# per rule: η and temperature (or noise scale) giving exits after tens to hundreds of steps; momentum moves
# 1/(1 − β) = 10 times further per gradient than SGD, Adam about η per coordinate and step
_MOM = dict(eta=0.001, temperature=0.5)
_ADAM = dict(eta=0.02, temperature=2.0)


def _cases() -> dict:
    """key -> (landscape, start, keyword arguments, loop the driver picks)."""
    cases = {}
    lanes, scalar = escape_lanes_opt, escape_nd_opt
    for name, rule in RULES.items():
        adam = name == "adam"
        base = _ADAM if adam else _MOM
        # (a) Styblinski–Tang, one plane or a radius: the four-lane loop
        cases[f"st10-radius-{name}"] = (ST10, M10, dict(**base, criterion="radius", radius=0.3 if adam else 1.45,
                                                        max_steps=300, **rule), lanes)
        cases[f"st10-plane-{name}"] = (ST10, M10, dict(**base, criterion="dividing_surface",
                                                       point=M10 + (0.1 if adam else 0.8) * E10[0], normal=E10[0],
                                                       max_steps=300, **rule), lanes)
        # d = 1 takes the four-lane loop too (plain SGD sends it to escape_lanes1 instead)
        cases[f"st1-radius-{name}"] = (ST1, M1, dict(eta=0.01 if adam else 0.0005, temperature=2.0 if adam else 0.2,
                                                     criterion="radius", radius=0.1 if adam else 0.5, max_steps=300,
                                                     **rule), lanes)
        s = 0.2 if adam else 0.02          # S ≈ √(2Dη)·I
        cases[f"st3-two-region-plane-{name}"] = (
            ST3, M3, dict(eta=base["eta"], noise_matrix=s * np.eye(3), noise_matrix_after=1.5 * s * np.eye(3),
                          split_point=M3 + (0.05 if adam else 0.4) * E3[0], split_normal=E3[0],
                          criterion="dividing_surface", point=M3 + (0.1 if adam else 0.7) * E3[0], normal=E3[0],
                          max_steps=301, **rule), lanes)
        cases[f"st3-two-region-dense-radius-{name}"] = (
            ST3, M3, dict(eta=base["eta"], noise_matrix=s * np.eye(3),
                          noise_matrix_after=0.7 * s * (np.eye(3) + 0.5 * np.random.default_rng(1).standard_normal((3, 3))),
                          split_point=M3 + (0.05 if adam else 0.3) * E3[0], split_normal=E3[0], criterion="radius",
                          radius=0.15 if adam else 0.75, max_steps=157, **rule), lanes)
        cases[f"st10-dense-radius-{name}"] = (
            ST10, M10, dict(eta=base["eta"], noise_matrix=(s if adam else 0.8 * s) * (
                                np.eye(10) + 0.3 * np.random.default_rng(0).standard_normal((10, 10))),
                            criterion="radius", radius=0.3 if adam else 1.3, max_steps=300, **rule), lanes)
        # (b) the double well (1-D) and several planes: the scalar loop
        cases[f"dw-plane-{name}"] = (DW, np.array([-1.0]), dict(eta=0.1 if adam else 0.002,
                                                                temperature=1.0 if adam else 0.05,
                                                                criterion="dividing_surface", point=[0.0],
                                                                normal=[1.0], max_steps=400, **rule), scalar)
        cases[f"dw-two-region-radius-{name}"] = (
            DW, np.array([-1.0]), dict(eta=0.1 if adam else 0.002, noise_matrix=[[0.4 if adam else 0.014]],
                                       noise_matrix_after=[[0.6 if adam else 0.02]], split_point=[-1 / np.sqrt(3)],
                                       split_normal=[1.0], criterion="radius", radius=1.0, max_steps=333, **rule),
            scalar)
        cases[f"st2-two-planes-{name}"] = (
            ST2, M2, dict(**base, criterion="dividing_surface", point=M2 + (0.15 if adam else 0.8) * np.eye(2),
                          normal=np.eye(2), max_steps=300, **rule), scalar)
    # short memories: Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ become exactly 1.0 after 55 and 356 steps, and
    # the four-lane step then leaves their divisions out (the same bits: x/1.0 = x)
    short = dict(eta=0.02, temperature=2.0, max_steps=1000, optimizer="adam",
                 optimizer_params={"momentum": 0.5, "beta2": 0.9, "epsilon": 1e-8})
    cases["st10-radius-adam-short-memory"] = (ST10, M10, dict(**short, criterion="radius", radius=0.3), lanes)
    cases["st10-two-planes-adam-short-memory"] = (ST10, M10, dict(**short, criterion="dividing_surface",
                                                                  point=M10 + 0.16 * E10[:2], normal=E10[:2]), scalar)
    # divergence: η near the momentum's stability limit (η·λ < 2(1+β) heavy ball, 2(1+β)/(1+2β) Nesterov; λ ≈ 34.6
    # at the minimum): exits by unstable steps (the overshoot rule) and overflows
    for name, eta in (("hb", 0.105), ("nag", 0.038)):
        cases[f"st2-radius-overshoot-{name}"] = (ST2, M2, dict(eta=eta, temperature=0.5, criterion="radius", radius=3.0,
                                                                max_steps=300, **RULES[name]), lanes)
        cases[f"st2-two-planes-overshoot-{name}"] = (
            ST2, M2, dict(eta=eta, temperature=0.5, criterion="dividing_surface", point=M2 + 3.0 * np.eye(2),
                          normal=np.eye(2), max_steps=300, **RULES[name]), scalar)
    # Adam's overshoot rate 2η²/((√v̂ + ηε)·A) is large where v̂ is small: a first step from near the minimum,
    # with almost no noise, is a sign step of size η that a gradient step at that rate would take uphill
    start = M2 + 2e-4 * np.eye(2)[0]
    cases["st2-plane-overshoot-adam"] = (ST2, start, dict(eta=0.02, temperature=1e-8, criterion="dividing_surface",
                                                          point=M2 - 0.01 * np.eye(2)[0], normal=-np.eye(2)[0],
                                                          max_steps=50, **ADAM), lanes)
    cases["st2-two-planes-overshoot-adam"] = (ST2, start, dict(eta=0.02, temperature=1e-8, criterion="dividing_surface",
                                                               point=M2 - 0.01 * np.eye(2), normal=-np.eye(2),
                                                               max_steps=50, **ADAM), scalar)
    return cases


CASES = _cases()


def _loop_of(land, kw):
    """The loop fixed_noise_escape runs for these arguments (as its driver picks it)."""
    if kw["optimizer"] in ("pnm", "adai"):
        return escape_nd_opt
    kid, _ = driver.kernel_spec(land)
    crit = K.CRITERIA[kw["criterion"]]
    planes = np.atleast_2d(kw.get("point", np.zeros((1, land.dim)))).shape[0]
    return escape_lanes_opt if kid == 0 and (crit == 1 or planes == 1) else escape_nd_opt


def _assert_kernel_equals_reference(key, land, start, kw):
    """The compiled loop's exits equal the numpy reference's for 50 particles (not a multiple of 4: lanes without
    a particle at the end); θ within rounding (compiled and autograd gradients may differ in their last bits)."""
    ours = K.fixed_noise_escape(land, start, n_runs=50, seed=11, return_theta=True, **kw)
    ref = fixed_noise_reference(land, start, n_runs=50, seed=11, return_theta=True, **kw)
    np.testing.assert_array_equal(ours.steps, ref.steps)
    np.testing.assert_array_equal(ours.escaped, ref.escaped)
    np.testing.assert_array_equal(ours.diverged, ref.diverged)
    fin = ~ours.diverged
    np.testing.assert_allclose(ours.theta[fin], ref.theta[fin], rtol=1e-9, atol=1e-9)
    assert not np.any(ours.escaped & ours.diverged)
    censored = ~ours.escaped & ~ours.diverged
    assert np.all(ours.steps[censored] == kw["max_steps"])
    if "overshoot" in key:         # the overshoot rule decided some exits (θ finite: not an overflow)
        assert np.any(ours.diverged & np.isfinite(ours.theta).all(axis=1))
    else:                          # not vacuous: a good fraction escapes, after many steps, and some do not
        assert ours.escaped.mean() >= 0.3, ours.escaped.mean()
        assert np.median(ours.steps[ours.escaped]) > 5
        assert censored.any() or np.ptp(ours.steps) > 20


@pytest.mark.parametrize("key", sorted(CASES))
def test_optimizer_kernel_gives_the_reference_exit_steps(key):
    land, start, kw, loop = CASES[key]
    assert _loop_of(land, kw) is loop
    _assert_kernel_equals_reference(key, land, start, kw)


@pytest.mark.parametrize("params", [{"momentum": 0.5, "beta2": 0.9}, {}])
def test_adam_long_censored_runs_end_where_the_reference_does(params):
    """Four particles side by side for 1000 steps, none exits: every step of the four-lane loop with both bias
    corrections divided, then without the first (after 55 or 356 steps), then without either (after 356 steps
    with β₂ = 0.9), lands where the reference does."""
    kw = dict(eta=0.02, temperature=2.0, criterion="radius", radius=5.0, max_steps=1000, optimizer="adam",
              optimizer_params=params)
    ours = K.fixed_noise_escape(ST10, M10, n_runs=4, seed=8, return_theta=True, **kw)
    ref = fixed_noise_reference(ST10, M10, n_runs=4, seed=8, return_theta=True, **kw)
    assert not ours.escaped.any() and not ours.diverged.any()
    np.testing.assert_array_equal(ours.steps, ref.steps)
    np.testing.assert_allclose(ours.theta, ref.theta, rtol=1e-12, atol=1e-12)


def test_optimizers_change_the_trajectories():
    """Same streams, other update: heavy ball, Nesterov and SGD give different exit steps (the rule is applied)."""
    land, start, kw, _ = CASES["st10-radius-hb"]
    plain = {k: v for k, v in kw.items() if k not in ("optimizer", "optimizer_params")}
    runs = [K.fixed_noise_escape(land, start, n_runs=32, seed=5, **plain, **rule).steps for rule in ({}, HB, NAG)]
    assert not np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[1], runs[2])


@pytest.mark.parametrize("key", ["st10-radius-adam", "st10-plane-hb", "dw-plane-nag", "st2-two-planes-adam"])
def test_results_do_not_depend_on_threads_or_chunks(key):
    land, start, kw, _ = CASES[key]
    one = K.fixed_noise_escape(land, start, n_runs=301, seed=4, return_theta=True, **kw)
    two = K.fixed_noise_escape(land, start, n_runs=301, seed=4, return_theta=True, workers=2, **kw)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    # particles 100..300 run on their own (particle_offset) are the same particles
    part = K.fixed_noise_escape(land, start, n_runs=201, seed=4, particle_offset=100, **kw)
    np.testing.assert_array_equal(part.steps, one.steps[100:])
    np.testing.assert_array_equal(part.diverged, one.diverged[100:])


def test_sgd_default_is_unchanged():
    """optimizer="sgd" (the default, with or without empty parameters) is the plain kernel."""
    land, start, kw, _ = CASES["st10-radius-hb"]
    plain = {k: v for k, v in kw.items() if k not in ("optimizer", "optimizer_params")}
    a = K.fixed_noise_escape(land, start, n_runs=32, seed=2, **plain)
    b = K.fixed_noise_escape(land, start, n_runs=32, seed=2, optimizer="sgd", optimizer_params={}, **plain)
    ref = fixed_noise_reference(land, start, n_runs=32, seed=2, **plain)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.steps, ref.steps)


# ---------------------------------------------------------------------- bad input
_ARGS = dict(eta=0.001, temperature=0.5, criterion="radius", radius=1.0, n_runs=2, max_steps=5, seed=0)


@pytest.mark.parametrize("optimizer,params,match", [
    ("lion", None, "optimizer must be one of sgd, momentum, adam, pnm, adai"),
    ("rmsprop", None, "optimizer must be one of"),
    ("momentum", {"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ("momentum", {"momentum": -0.1}, r"momentum must be in \[0, 1\)"),
    ("adam", {"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ("adam", {"beta2": 1.0}, r"beta2 must be in \[0, 1\)"),
    ("adam", {"epsilon": -1e-8}, "epsilon must be a finite number >= 0"),
    ("adam", {"epsilon": float("nan")}, "epsilon must be a finite number"),
    ("momentum", {"nesterov": "yes"}, "nesterov must be true or false"),
    ("momentum", {"beta2": 0.9}, "beta2 do not apply to momentum"),
    ("adam", {"nesterov": True}, "nesterov do not apply to adam"),
    ("sgd", {"momentum": 0.9}, "optimizer_params do not apply to sgd"),
    ("pnm", {"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ("pnm", {"pnm_beta0": -1.0}, "pnm_beta0 must be a finite number >= 0"),
    ("pnm", {"beta2": 0.9}, "beta2 do not apply to pnm"),
    ("adai", {"adai_beta0": 0.0}, "adai_beta0 must be a finite number > 0"),
    ("adai", {"epsilon": 0.0}, r"epsilon must be in \(0, 1\) for adai"),
    ("adai", {"beta2": 1.0}, r"beta2 must be in \[0, 1\)"),
    ("adai", {"momentum": 0.9}, "momentum do not apply to adai"),
])
def test_bad_optimizer_arguments_are_refused(optimizer, params, match):
    with pytest.raises(InputError, match=match) as err:
        K.fixed_noise_escape(ST2, M2, optimizer=optimizer, optimizer_params=params, **_ARGS)
    assert "\n" not in str(err.value)


def test_the_bridge_is_sgds_only():
    with pytest.raises(InputError, match="bridge=True applies to sgd only"):
        K.fixed_noise_escape(ST2, M2, eta=0.001, temperature=0.5, criterion="dividing_surface", point=M2 + np.eye(2)[0],
                             normal=np.eye(2)[0], bridge=True, n_runs=2, max_steps=5, seed=0, **HB)


# ---------------------------------------------------------------------- through simulate_escape
@pytest.mark.parametrize("dynamics,extra", [("momentum", {"momentum": 0.9}), ("momentum", {"nesterov": True}),
                                            ("adam", {})])
def test_simulate_escape_runs_the_optimizer_kernel(dynamics, extra):
    from flatminima.numerics.simulate import simulate_options

    opts = dict(noise="white", temperature=2.0 if dynamics == "adam" else 0.5, criterion="radius", bridge=False,
                radius=0.3 if dynamics == "adam" else 1.45, eta=0.02 if dynamics == "adam" else 0.001,
                dynamics=dynamics, **extra)
    fast = simulate_options(ST10, M10, n_runs=40, max_steps=300, seed=3, **opts)
    slow = simulate_options(ST10, M10, n_runs=40, max_steps=300, seed=3, backend="numpy", **opts)
    assert fast.backend == "numba" and slow.backend == "numpy"
    np.testing.assert_array_equal(fast.steps, slow.steps)
    np.testing.assert_array_equal(fast.escaped, slow.escaped)
    np.testing.assert_array_equal(fast.diverged, slow.diverged)
    assert fast.escaped.mean() >= 0.3


# ---------------------------------------------------------------------- PNM and Adai (the scalar loop only)
PNM = dict(optimizer="pnm", optimizer_params={"momentum": 0.9, "pnm_beta0": 1.0})
ADAI = dict(optimizer="adai", optimizer_params={"adai_beta0": 0.1, "beta2": 0.99, "epsilon": 1e-3})
DW_START = np.array([-1.0])
_N5 = np.sqrt(5.0)                  # PNM's √((1+β₀)²+β₀²) at β₀ = 1: η = n·η_SGD moves as SGD at η_SGD


def _pnm_adai_cases() -> dict:
    """key -> (landscape, start, keyword arguments): exits after tens to hundreds of steps, or by overshoots."""
    cases = {}
    for name, rule, eta in (("pnm", PNM, 0.05 * _N5), ("adai", ADAI, 0.05)):
        # the optimizers suite's setting: the double well from −1, the plane at the next minimum +1
        hot = 0.4 if name == "pnm" else 0.15       # PNM's noise is the kick's over n: hotter for like exit times
        cases[f"dw-plane-{name}"] = (DW, DW_START, dict(eta=eta, temperature=hot, criterion="dividing_surface",
                                                        point=[1.0], normal=[1.0], max_steps=600, **rule))
        s = 0.3 if name == "pnm" else 0.12
        cases[f"dw-two-region-plane-{name}"] = (
            DW, DW_START, dict(eta=eta, noise_matrix=[[s]], noise_matrix_after=[[1.4 * s]],
                               split_point=[-1 / np.sqrt(3)], split_normal=[1.0], criterion="dividing_surface",
                               point=[1.0], normal=[1.0], max_steps=600, **rule))
    # Styblinski–Tang (λ ≈ 34.6 per coordinate at the minimum): PNM at η = 0.02, D = 2; Adai at η = 0.01, D = 1,
    # but η = 0.003 for the 10-D radius: there Adai's first steps (bias-corrected means of a few noisy q over
    # coordinates with β₁ up to 1 − ε) take most exits within 5 steps at η = 0.01
    for d, land, start, eye in ((3, ST3, M3, E3), (10, ST10, M10, E10)):
        for name, rule, base, radius, offset in (
                ("pnm", PNM, dict(eta=0.02, temperature=2.0), 0.5 if d == 3 else 0.7, 0.3),
                ("adai", ADAI, dict(eta=0.01, temperature=1.0), 0.6 if d == 3 else 0.8, 0.4)):
            rbase = dict(base, eta=0.003) if (name, d) == ("adai", 10) else base
            cases[f"st{d}-radius-{name}"] = (land, start, dict(**rbase, criterion="radius", radius=radius,
                                                               max_steps=300, **rule))
            cases[f"st{d}-plane-{name}"] = (land, start, dict(**base, criterion="dividing_surface",
                                                              point=start + offset * eye[0], normal=eye[0],
                                                              max_steps=300, **rule))
    s = np.sqrt(2 * 0.02 * 2.0)
    cases["st3-two-region-dense-radius-pnm"] = (
        ST3, M3, dict(eta=0.02, noise_matrix=s * np.eye(3),
                      noise_matrix_after=0.8 * s * (np.eye(3) + 0.5 * np.random.default_rng(1).standard_normal((3, 3))),
                      split_point=M3 + 0.2 * E3[0], split_normal=E3[0], criterion="radius", radius=0.5,
                      max_steps=300, **PNM))
    cases["st2-two-planes-adai"] = (ST2, M2, dict(eta=0.01, temperature=1.0, criterion="dividing_surface",
                                                  point=M2 + 0.4 * np.eye(2), normal=np.eye(2), max_steps=300,
                                                  **ADAI))
    # overshoots: PNM above its stability limit (η·λ = 2η > A = 1.49 at the minimum; overshoot rate 2η/A); Adai
    # in 1-D far above its limit 2(1+β₁)/(1−β₁) = 38 (overshoot rate η(1−β₁)/(1+β₁) per coordinate)
    cases["dw-radius-overshoot-pnm"] = (DW, DW_START, dict(eta=1.0, temperature=1e-3, criterion="radius", radius=0.2,
                                                           max_steps=300, **PNM))
    cases["dw-two-planes-overshoot-adai"] = (DW, DW_START, dict(eta=20.0, temperature=1e-4,
                                                                criterion="dividing_surface", point=[[0.0], [-2.0]],
                                                                normal=[[1.0], [-1.0]], max_steps=300, **ADAI))
    return cases


PNM_ADAI = _pnm_adai_cases()


@pytest.mark.parametrize("key", sorted(PNM_ADAI))
def test_pnm_and_adai_give_the_reference_exit_steps(key):
    land, start, kw = PNM_ADAI[key]
    _assert_kernel_equals_reference(key, land, start, kw)


def test_pnm_and_adai_take_the_scalar_loop(monkeypatch):
    """Styblinski–Tang with a radius (the four-lane loop's case for momentum and Adam) and d = 1 run escape_nd_opt."""
    called = []

    def spy(*args):
        called.append(args[8])     # the step-rule id
        return escape_nd_opt(*args)

    monkeypatch.setattr(driver, "escape_nd_opt", spy)
    monkeypatch.setattr(driver, "escape_lanes_opt", None)
    for key in ("st10-radius-pnm", "st3-radius-adai", "dw-plane-pnm", "dw-plane-adai"):
        land, start, kw = PNM_ADAI[key]
        K.fixed_noise_escape(land, start, n_runs=4, seed=1, **{**kw, "max_steps": 10})
    assert called == [K.OPTIMIZERS["pnm"], K.OPTIMIZERS["adai"], K.OPTIMIZERS["pnm"], K.OPTIMIZERS["adai"]]


@pytest.mark.parametrize("land,start", [(DW, DW_START), (ST10, M10)], ids=["dw", "st10"])
def test_adai_long_censored_runs_end_where_the_reference_does(land, start):
    """1000 steps with β₂ = 0.9, none exits: past 1 − β₂ᵗ = 1.0 (after ≈ 360 steps; the loop then sets p₂ to 0.0)
    and 1 − Π = 1.0 (Π ≤ 0.9ᵗ in 1-D; the loop then sets Π to 0.0), θ lands where the reference's does (within
    the rounding of the two gradients)."""
    kw = dict(eta=0.01, temperature=0.2, criterion="radius", radius=50.0, max_steps=1000, optimizer="adai",
              optimizer_params={"adai_beta0": 0.1, "beta2": 0.9, "epsilon": 1e-3})
    ours = K.fixed_noise_escape(land, start, n_runs=3, seed=8, return_theta=True, **kw)
    ref = fixed_noise_reference(land, start, n_runs=3, seed=8, return_theta=True, **kw)
    assert not ours.escaped.any() and not ours.diverged.any()
    np.testing.assert_array_equal(ours.steps, ref.steps)
    np.testing.assert_allclose(ours.theta, ref.theta, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("key", ["dw-plane-pnm", "dw-two-region-plane-adai", "st10-plane-adai", "st3-radius-pnm"])
def test_pnm_and_adai_do_not_depend_on_threads_or_chunks(key):
    land, start, kw = PNM_ADAI[key]
    one = K.fixed_noise_escape(land, start, n_runs=301, seed=4, return_theta=True, **kw)
    two = K.fixed_noise_escape(land, start, n_runs=301, seed=4, return_theta=True, workers=2, **kw)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    part = K.fixed_noise_escape(land, start, n_runs=201, seed=4, particle_offset=100, **kw)
    np.testing.assert_array_equal(part.steps, one.steps[100:])
    np.testing.assert_array_equal(part.diverged, one.diverged[100:])


@pytest.mark.parametrize("dynamics,extra", [("pnm", {"momentum": 0.9, "pnm_beta0": 1.0}), ("adai", {})])
def test_simulate_escape_runs_pnm_and_adai_compiled(dynamics, extra):
    """The optimizers suite's run (the double well, two-region noise, the plane at +1) through simulate_options:
    the numba backend, with the numpy path's exit steps."""
    from flatminima.numerics.simulate import simulate_options

    opts = dict(noise="hessian_two_region", loss_unit=50.0, batch_size=2, criterion="dividing_surface",
                plane_offset=1.0, bridge=False, eta=0.05 * (_N5 if dynamics == "pnm" else 1.0), dynamics=dynamics,
                **extra)
    fast = simulate_options(DW, DW_START, n_runs=40, max_steps=600, seed=3, **opts)
    slow = simulate_options(DW, DW_START, n_runs=40, max_steps=600, seed=3, backend="numpy", **opts)
    assert fast.backend == "numba" and slow.backend == "numpy"
    np.testing.assert_array_equal(fast.steps, slow.steps)
    np.testing.assert_array_equal(fast.escaped, slow.escaped)
    np.testing.assert_array_equal(fast.diverged, slow.diverged)
    assert fast.escaped.mean() >= 0.3, fast.escaped.mean()
    assert np.median(fast.steps[fast.escaped]) > 5
