"""The optimizers' step rules (numerics.optimizers) against independent implementations and closed forms.

Expected values come from: per-particle re-implementations written here in the literature's own units (gradient
units, as in the reference PyTorch code of each paper), hand-derived closed forms (impulse-response sums, the Jury
stability limits), the SymPy registry (derived independently in theory/), a quadrature of the 1-D mean first-passage
time, and simulation with standard errors (Z_TOL = 4 s.e.). Numerics runs use backend="numpy" (the compiled kernels
for the optimizers are being written elsewhere).
"""
import math
import warnings

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid, trapezoid

from flatminima import theory
from flatminima.errors import InputError
from flatminima.numerics import build_landscape
from flatminima.numerics.noise import Kick
from flatminima.numerics.optimizers import StepRule, pnm_stability_limit, step_rule
from flatminima.numerics.parts import Dynamics, escape_parts
from flatminima.numerics.simulate import ams_escape, exact_chain_rate, simulate_options
from flatminima.numerics.simulate.reference import run_chunk
from flatminima.numerics.simulate.run import prepare_run

Z_TOL = 4.0          # statistical tolerance in standard errors (the project's Z_TOL)

DW = build_landscape("double-well")           # L with minima ±1, H_a = 2, saddle 0 with |H_b| = 1, ΔL = 1/4


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


# ====================================================================== independent per-particle optimizers
# Each works on ONE particle (a (d,) vector) in gradient units, exactly as the papers' PyTorch code does, with the
# stochastic gradient ĝ = g − ζ/η (ζ the noise displacement of SGD at the same η). No code is shared with
# numerics.optimizers, which works in displacement units (buffers hold η times these).

class HeavyBall:                 # torch.optim.SGD(momentum=β, dampening=0, nesterov=False/True)
    def __init__(self, eta, momentum, nesterov, d):
        self.eta, self.beta, self.nesterov = eta, momentum, nesterov
        self.buf = np.zeros(d)

    def step(self, theta, ghat):
        self.buf = self.beta * self.buf + ghat
        if self.nesterov:
            return theta - self.eta * (ghat + self.beta * self.buf)
        return theta - self.eta * self.buf


class Adam:                      # Kingma & Ba 2015, Algorithm 1 (bias-corrected), ε added to √v̂
    def __init__(self, eta, momentum, beta2, epsilon, d):
        self.eta, self.b1, self.b2, self.eps = eta, momentum, beta2, epsilon
        self.m, self.v, self.t = np.zeros(d), np.zeros(d), 0
        self.vhat = None

    def step(self, theta, ghat):
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * ghat
        self.v = self.b2 * self.v + (1 - self.b2) * ghat ** 2
        mhat = self.m / (1 - self.b1 ** self.t)
        self.vhat = self.v / (1 - self.b2 ** self.t)
        return theta - self.eta * mhat / (np.sqrt(self.vhat) + self.eps)


class PNM:                       # Xie et al. 2021, the authors' PNM optimizer (betas = (β₁, β₀))
    def __init__(self, eta, momentum, pnm_beta0, d):
        self.eta, self.b1, self.b0 = eta, momentum, pnm_beta0
        self.state = {"pos_momentum": np.zeros(d), "neg_momentum": np.zeros(d)}
        self.t = 0

    def step(self, theta, ghat):
        self.t += 1
        if self.t % 2 == 1:
            pos, neg = "pos_momentum", "neg_momentum"
        else:
            pos, neg = "neg_momentum", "pos_momentum"
        self.state[pos] = self.b1 ** 2 * self.state[pos] + (1 - self.b1 ** 2) * ghat
        noise_norm = math.sqrt((1 + self.b0) ** 2 + self.b0 ** 2)
        delta = ((1 + self.b0) * self.state[pos] - self.b0 * self.state[neg]) / noise_norm
        return theta - self.eta * delta


class Adai:                      # Xie et al. 2022, Algorithm (Adai): β₁ per coordinate from v̂ / mean(v̂)
    def __init__(self, eta, adai_beta0, beta2, epsilon, d):
        self.eta, self.b0, self.b2, self.eps = eta, adai_beta0, beta2, epsilon
        self.m, self.v, self.prod, self.t = np.zeros(d), np.zeros(d), np.ones(d), 0
        self.beta1 = None
        self.clipped = 0

    def step(self, theta, ghat):
        self.t += 1
        self.v = self.b2 * self.v + (1 - self.b2) * ghat ** 2
        vhat = self.v / (1 - self.b2 ** self.t)
        raw = 1.0 - self.b0 * vhat / vhat.mean()
        self.beta1 = np.minimum(np.maximum(raw, 0.0), 1.0 - self.eps)
        self.clipped += int(np.sum(raw != self.beta1))
        self.prod = self.prod * self.beta1
        self.m = self.beta1 * self.m + (1 - self.beta1) * ghat
        return theta - self.eta * self.m / (1 - self.prod)


class PlainSGD:
    def __init__(self, eta, d):
        self.eta = eta

    def step(self, theta, ghat):
        return theta - self.eta * ghat


def reference(dyn: Dynamics, d: int):
    h = dyn.hyperparameters()
    return {"sgd": lambda: PlainSGD(dyn.eta, d),
            "momentum": lambda: HeavyBall(dyn.eta, h.get("momentum"), h.get("nesterov"), d),
            "adam": lambda: Adam(dyn.eta, h.get("momentum"), h.get("beta2"), h.get("epsilon"), d),
            "pnm": lambda: PNM(dyn.eta, h.get("momentum"), h.get("pnm_beta0"), d),
            "adai": lambda: Adai(dyn.eta, h.get("adai_beta0"), h.get("beta2"), h.get("epsilon"), d)}[dyn.kind]()


CASES = [
    ("sgd", {}),
    ("momentum", {"momentum": 0.9}),
    ("momentum", {"momentum": 0.5, "nesterov": True}),
    ("momentum", {"momentum": 0.9, "nesterov": True}),
    ("adam", {}),                                                       # defaults 0.9, 0.999, 1e-8
    ("adam", {"momentum": 0.8, "beta2": 0.99, "epsilon": 0.3}),         # ε comparable to √v̂ (gradient units)
    ("pnm", {}),                                                        # defaults β₁ = 0.9, β₀ = 1
    ("pnm", {"momentum": 0.5, "pnm_beta0": 0.3}),
    ("adai", {}),                                                       # defaults β₀ = 0.1, β₂ = 0.99, ε = 1e-3
    ("adai", {"adai_beta0": 0.6, "beta2": 0.9, "epsilon": 0.05}),       # clips β₁ at 0 and 1 − ε now and then
]


def _case_id(case):
    kind, h = case
    return kind + "".join(f"-{k}={v}" for k, v in h.items())


# ====================================================================== 1. the rules against the references
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_step_rule_matches_an_independent_per_particle_implementation(case):
    """n particles on L = ½θᵀHθ (H diagonal, d = 3) driven by a recorded Gaussian ζ sequence, 400 steps.

    The rule (displacement units, vectorised over particles) and the references (gradient units, one particle at a
    time) do the same arithmetic in a different algebraic order (η·m versus m in η units, ηε versus ε, η·ĝ versus
    ηg − ζ), so they agree to rounding: a few ulps per step, amplified by the iteration by at most its (stable)
    gain. 1e-10 of the trajectory's scale is ~10⁶ ulps: any real difference in a rule (a missing bias
    correction, a swapped parity, ε in the wrong units) is of order 1e-3 or more.
    """
    kind, hyper = case
    eta, n, d, T = 0.05, 4, 3, 400
    curv = np.array([0.3, 1.0, 4.0])            # ηλ ≤ 0.2: every rule stable
    dyn = Dynamics(eta, kind, **hyper)
    rule = step_rule(dyn)
    assert isinstance(rule, StepRule) and rule.kind == kind and rule.eta == eta
    rng = np.random.default_rng(20240611)
    zeta = 0.02 * rng.standard_normal((T, n, d)) * np.array([1.0, 0.2, 3.0])   # anisotropic noise
    theta = np.tile(np.array([0.8, -0.5, 0.3]), (n, 1)) + 0.1 * rng.standard_normal((n, d))
    refs = [reference(dyn, d) for _ in range(n)]
    ref_theta = theta.copy()
    rule.start(n, d)
    got, want = [], []
    for t in range(T):
        new = rule.step(theta, Kick(curv * theta, zeta[t], None))
        for i in range(n):
            ghat = curv * ref_theta[i] - zeta[t, i] / eta
            ref_theta[i] = refs[i].step(ref_theta[i], ghat)
        theta = new
        got.append(theta.copy())
        want.append(ref_theta.copy())
    got, want = np.array(got), np.array(want)
    scale = np.max(np.abs(want))
    assert np.all(np.isfinite(got)) and scale > 1e-3
    assert np.max(np.abs(got - want)) <= 1e-10 * scale
    if kind == "adai" and hyper:
        assert sum(r.clipped for r in refs) > 0          # the clip branch was exercised
    # the overshoot test's equivalent GD rate r = 2η·P/A (GD at rate r is unstable iff the rule is):
    # Adam P = 1/(√v̂ + ε) per coordinate, A = 2(1+β₁)/(1−β₁); Adai A(β₁) = 2(1+β₁)/(1−β₁) at the current β₁
    rate = np.asarray(rule.overshoot_rate(np.arange(n)), float)
    if kind == "adam":
        b1 = dyn.momentum
        expect = np.array([2 * eta / ((np.sqrt(r.vhat) + dyn.epsilon) * 2 * (1 + b1) / (1 - b1)) for r in refs])
        np.testing.assert_allclose(rate, expect, rtol=1e-9)
    elif kind == "adai":
        expect = np.array([2 * eta / (2 * (1 + r.beta1) / (1 - r.beta1)) for r in refs])
        np.testing.assert_allclose(rate, expect, rtol=1e-9)


def test_kick_without_zeta_is_the_gradient_itself():
    """Minibatch noise gives ζ = None (the noise is in g): q = η·g, the same step as ζ = 0."""
    for kind, hyper in CASES:
        a, b = step_rule(Dynamics(0.1, kind, **hyper)), step_rule(Dynamics(0.1, kind, **hyper))
        a.start(2, 2)
        b.start(2, 2)
        theta = np.array([[0.5, -0.2], [1.0, 2.0]])
        for _ in range(5):
            g = np.sin(theta) + 0.3
            ta, tb = a.step(theta, Kick(g, None, None)), b.step(theta, Kick(g, np.zeros_like(g), None))
            np.testing.assert_array_equal(ta, tb)
            theta = ta


# ====================================================================== 2. long-time weight (impulse response)
@pytest.mark.parametrize("kind,hyper,expected", [
    ("sgd", {}, lambda eta: eta),
    ("momentum", {"momentum": 0.9}, lambda eta: eta / (1 - 0.9)),                     # Σ_j ηβ^j
    ("momentum", {"momentum": 0.7, "nesterov": True}, lambda eta: eta / (1 - 0.7)),   # η(1 + β/(1−β))
    ("pnm", {"momentum": 0.9, "pnm_beta0": 1.0}, lambda eta: eta / math.sqrt(5.0)),   # η((1+β₀) − β₀)/n
    ("pnm", {"momentum": 0.6, "pnm_beta0": 0.5}, lambda eta: eta / math.sqrt(2.5)),
], ids=["sgd", "heavy-ball", "nesterov", "pnm", "pnm-b0.5"])
@pytest.mark.parametrize("t0", [1, 2], ids=["odd-step", "even-step"])
def test_impulse_response_sums_to_the_effective_rate(kind, hyper, expected, t0):
    """One unit gradient at step t0, zero before and after, no curvature: the total displacement Σ_t −Δθ is the
    long-time weight (closed forms in the ids' comments; PNM's two parities must both give η/n)."""
    eta = 0.03
    rule = step_rule(Dynamics(eta, kind, **hyper))
    rule.start(1, 1)
    theta = np.zeros((1, 1))
    for t in range(1, 3000):
        g = np.full((1, 1), 1.0 if t == t0 else 0.0)
        theta = rule.step(theta, Kick(g, None, None))
    assert -theta[0, 0] == pytest.approx(expected(eta), rel=1e-12)
    assert rule.effective_rate() == pytest.approx(expected(eta), rel=1e-14)


def test_impulse_response_of_adam_with_a_frozen_preconditioner_is_eta_times_p():
    """Adam's m is an EMA whose weights sum to 1 once the bias correction has died out, so with the preconditioner
    frozen (ε ≫ √v̂: P = 1/(√v̂ + ε) ≈ 1/ε) a unit gradient at a late step t0 moves θ by η·P in total.

    1000 zero-gradient steps first (β₁^1000 ≈ 1e-46); √v̂ ≤ √((1−β₂)/(1−β₂^t)) < 0.06, so P = (1/ε)(1 − O(6e-8)).
    """
    eta, eps = 0.02, 1e6
    rule = step_rule(Dynamics(eta, "adam", epsilon=eps))
    rule.start(1, 1)
    theta = np.zeros((1, 1))
    for t in range(1, 4000):
        theta = rule.step(theta, Kick(np.full((1, 1), 1.0 if t == 1000 else 0.0), None, None))
    assert -theta[0, 0] * eps == pytest.approx(eta, rel=1e-6)
    assert rule.effective_rate() == eta


def test_impulse_response_of_adai_is_eta_at_late_steps():
    """Adai in 1-D has β₁ = 1 − β₀ (v̂/mean(v̂) = 1), a linear EMA with bias correction 1/(1 − β₁ᵗ) → 1: the extra
    displacement caused by one unit gradient at a late step is η (difference of two runs, with and without the
    impulse, on the same constant background gradient so that v̂ > 0 throughout)."""
    eta = 0.02

    def run(impulse):
        rule = step_rule(Dynamics(eta, "adai"))
        rule.start(1, 1)
        theta = np.zeros((1, 1))
        for t in range(1, 3000):
            g = 0.5 + (1.0 if (impulse and t == 1000) else 0.0)
            theta = rule.step(theta, Kick(np.full((1, 1), g), None, None))
        return theta[0, 0]

    assert run(False) - run(True) == pytest.approx(eta, rel=1e-9)
    assert step_rule(Dynamics(eta, "adai")).effective_rate() == eta


# ====================================================================== 3. stability on a quadratic
def _grows(kind, hyper, c, eta=0.5, theta0=1e-100, n_steps=4000):
    """Iterate L = λθ²/2 (no noise) at ηλ·P = c·A from θ0 with empty buffers: True if it grows, False if it decays.

    Growth is judged on the second half (max |θ| over the last 100 steps against the 100 steps before mid-run:
    above 10 grows, below 0.1 decays), so that transients do not count (Adam's bias correction makes its first
    steps much larger: a transient ×1e15 at c = 0.98). |θ| > 1e-20 also counts as growth and stops the run: Adam's
    P = 1/(√v̂ + ε) with ε = 1 then stays 1 to within λ·1e-20 (a frozen preconditioner).
    """
    rule = step_rule(Dynamics(eta, kind, **hyper))
    lam = c * rule.stability_limit() / eta
    rule.start(1, 1)
    theta = np.full((1, 1), theta0)
    amp = []
    for _ in range(n_steps):
        theta = rule.step(theta, Kick(lam * theta, None, None))
        amp.append(abs(theta[0, 0]))
        if amp[-1] > 1e-20:
            return True
    amp = np.array(amp)
    ratio = amp[-100:].max() / amp[n_steps // 2 - 100:n_steps // 2].max()
    assert not 0.1 <= ratio <= 10, f"neither grew nor decayed: ratio {ratio:.3g}"
    return bool(ratio > 10)


STABILITY = [    # (kind, hyper, A by hand (Jury conditions of the linear recursion), registry law and keywords)
    ("sgd", {}, 2.0, None, None),
    ("momentum", {"momentum": 0.9}, 2 * 1.9, "momentum_stability_limit", {"momentum": 0.9}),
    ("momentum", {"momentum": 0.5, "nesterov": True}, 2 * 1.5 / 2.0, "nesterov_stability_limit", {"momentum": 0.5}),
    ("momentum", {"momentum": 0.9, "nesterov": True}, 2 * 1.9 / 2.8, "nesterov_stability_limit", {"momentum": 0.9}),
    # Adam with a frozen preconditioner P: heavy ball with step η(1−β₁)P, momentum β₁ → ηPλ < 2(1+β₁)/(1−β₁)
    ("adam", {"momentum": 0.9, "epsilon": 1.0}, 2 * 1.9 / 0.1, "adam_stability_limit", {"momentum": 0.9}),
    ("pnm", {"momentum": 0.9, "pnm_beta0": 1.0}, 2 * math.sqrt(5) / 3, "pnm_stability_limit", {"pnm_beta0": 1.0}),
    ("pnm", {"momentum": 0.5, "pnm_beta0": 0.3}, 2 * math.sqrt(1.69 + 0.09) / 1.6, "pnm_stability_limit",
     {"pnm_beta0": 0.3}),
    # Adai in 1-D with β₀ = 1: β₁ = clip(0, 0, 1−ε) = 0, Π = 0, plain gradient descent → 2 (its worst case)
    ("adai", {"adai_beta0": 1.0}, 2.0, None, None),
]


@pytest.mark.parametrize("kind,hyper,limit,law,kw", STABILITY,
                         ids=["sgd", "heavy-ball", "nesterov-0.5", "nesterov-0.9", "adam-frozen", "pnm",
                              "pnm-0.5-0.3", "adai-beta0=1"])
def test_stability_limit_separates_decay_from_growth(reg, kind, hyper, limit, law, kw):
    rule = step_rule(Dynamics(0.5, kind, **hyper))
    assert rule.stability_limit() == pytest.approx(limit, rel=1e-9)
    if law is not None:
        assert reg[law](**kw) == pytest.approx(limit, rel=1e-9)
    assert _grows(kind, hyper, 0.98) is False
    assert _grows(kind, hyper, 1.02) is True


def test_pnm_stability_limit_does_not_depend_on_beta1():
    """Jury on PNM's two-step map (theory registry): ηλ < 2n/(1+2β₀) for every β₁; the bisection agrees."""
    for b1 in (0.0, 0.3, 0.9, 0.99):
        for b0 in (0.0, 0.5, 1.0, 2.0):
            n = math.sqrt((1 + b0) ** 2 + b0 ** 2)
            assert pnm_stability_limit(b1, b0) == pytest.approx(2 * n / (1 + 2 * b0), rel=1e-9)


def test_adai_limit_in_1d_and_its_worst_case_bound():
    """stability_limit() = 2 is Adai's bound at β₁ = 0 (d > 1). With the default β₀ = 0.1 in 1-D, β₁ = 0.9 is constant
    and the EMA's own limit 2(1+β₁)/(1−β₁) = 38 applies (same Jury condition as Adam's): stability_limit(1) says so."""
    rule = step_rule(Dynamics(0.5, "adai"))
    assert rule.stability_limit() == 2.0
    assert rule.stability_limit(1) == pytest.approx(38.0, rel=1e-12)
    assert _grows("adai", {}, 1.02) is False                   # ηλ = 2.04: stable
    scale = 38.0 / 2.0                                          # c relative to stability_limit() = 2
    assert _grows("adai", {}, 0.98 * scale) is False
    assert _grows("adai", {}, 1.02 * scale) is True


# ====================================================================== 4. particles are independent
def _prepared(landscape, start, kind, hyper, *, eta, loss_unit, n_runs, max_steps, seed):
    parts = escape_parts(dynamics=kind, eta=eta, noise="hessian_fixed", batch_size=1, loss_unit=loss_unit,
                         criterion="dividing_surface", plane_offset=0.0, backend="numpy", **hyper)
    parts.pop("execution")
    return prepare_run(landscape, start, **parts, n_runs=n_runs, max_steps=max_steps, seed=seed)


def _chunk(prep, ids):
    return run_chunk(ids, prep.starts[ids], noise_model=prep.noise_model, crit=prep.crit, ctx=prep.ctx,
                     seed=prep.seed, max_steps=prep.max_steps, eta=prep.eta, bridge_on=prep.bridge_on,
                     buffer_steps=prep.buffer_steps, level=prep.level, basin_values=prep.basin_values, rule=prep.rule)


@pytest.mark.parametrize("land,start,kind,hyper,eta,max_steps", [
    ("double-well", [-1.0], "momentum", {"momentum": 0.9}, 0.01, 150),
    ("double-well", [-1.0], "momentum", {"momentum": 0.8, "nesterov": True}, 0.02, 150),
    ("double-well", [-1.0], "adam", {"epsilon": 0.1}, 0.3, 120),
    ("double-well", [-1.0], "pnm", {}, 0.1, 600),
    ("double-well", [-1.0], "adai", {}, 0.1, 120),
    ("two-well-2d", None, "adai", {"adai_beta0": 0.3}, 0.05, 100),
    ("two-well-2d", None, "adam", {}, 0.1, 2000),
], ids=["heavy-ball", "nesterov", "adam", "pnm", "adai", "adai-2d", "adam-2d"])
def test_each_particle_exits_as_it_would_alone(land, start, kind, hyper, eta, max_steps):
    """Stream contract: particle i uses stream i and its own optimizer state, so running n particles together (they
    leave at different steps: the state arrays are compacted) gives each the exit step, outcome and final θ it gets
    when run alone with ids=[i]. Also the chunk size of simulate_options does not matter. (max_steps is set so that
    a few particles are still in at the end.)"""
    L = build_landscape(land)
    if start is None:
        start = L.minima[0]
    n, loss_unit = 12, 3.0
    prep = _prepared(L, start, kind, hyper, eta=eta, loss_unit=loss_unit, n_runs=n, max_steps=max_steps, seed=11)
    assert prep.rule is not None and prep.rule.kind == kind
    steps, escaped, diverged, _, _, final = _chunk(prep, np.arange(n))
    # the setting must make the compaction matter: several exits at different steps, and survivors
    assert len(set(steps[escaped].tolist())) >= 4, steps
    assert 1 <= (~escaped & ~diverged).sum() < n, steps
    for i in range(n):
        s1, e1, d1, _, _, f1 = _chunk(prep, np.array([i]))
        assert (s1[0], e1[0], d1[0]) == (steps[i], escaped[i], diverged[i]), i
        np.testing.assert_array_equal(f1[0], final[i])
    opts = dict(dynamics=kind, eta=eta, noise="hessian_fixed", batch_size=1, loss_unit=loss_unit,
                criterion="dividing_surface", plane_offset=0.0, backend="numpy", **hyper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = simulate_options(L, start, n_runs=n, max_steps=max_steps, seed=11, **opts)
        b = simulate_options(L, start, n_runs=n, max_steps=max_steps, seed=11, chunk_size=5, **opts)
    np.testing.assert_array_equal(a.steps, steps)
    np.testing.assert_array_equal(b.steps, steps)
    assert a.backend == "numpy" and a.optimizer["kind"] == kind


# ====================================================================== 5. guards
GUARD_RUN = dict(noise="hessian_fixed", batch_size=1, loss_unit=1.0, criterion="dividing_surface", backend="numpy")


def _prepare(**options):
    parts = escape_parts(**{**GUARD_RUN, **options})
    parts.pop("execution")
    return prepare_run(DW, [-1.0], **parts, n_runs=4, max_steps=10, seed=0)


@pytest.mark.parametrize("kind,hyper,eta_max", [
    ("momentum", {"momentum": 0.9}, 2 * 1.9 / 2.0),                         # ηH_a < 2(1+β), H_a = 2
    ("momentum", {"momentum": 0.9, "nesterov": True}, 2 * 1.9 / 2.8 / 2.0),
    ("pnm", {}, 2 * math.sqrt(5) / 3 / 2.0),
    ("adai", {}, 2 * 1.9 / 0.1 / 2.0),       # 1-D: β₁ = 1 − β₀ = 0.9 constant, the EMA limit 2(1+β₁)/(1−β₁) = 38
    # Adam: ηPH_a < 2(1+β₁)/(1−β₁) = 38 with P = 1/(√C_a + ε), C_a = λH_a/B = 2 the gradient-noise variance
    ("adam", {}, 38.0 / (2.0 / (math.sqrt(2.0) + 1e-8))),
])
def test_guard_refuses_eta_at_the_optimizers_stability_limit(kind, hyper, eta_max):
    with pytest.raises(InputError, match=rf"eta = .* unstable at the minimum for the {kind} optimizer") as info:
        _prepare(dynamics=kind, eta=1.02 * eta_max, **hyper)
    assert "\n" not in str(info.value)
    prep = _prepare(dynamics=kind, eta=0.98 * eta_max, **hyper)           # accepted just below
    assert prep.flagged                                                     # far above the 0.2 discretisation flag
    assert any("discretization-dominated" in note for note in prep.notes)


def test_momentum_accepts_eta_unstable_for_sgd():
    """ηH_a = 3 ∈ (2, 2(1+β)): SGD is refused, heavy ball (β = 0.9) is stable there and accepted."""
    with pytest.raises(InputError, match="unstable at the minimum"):
        _prepare(dynamics="sgd", eta=1.5)
    prep = _prepare(dynamics="momentum", eta=1.5, momentum=0.9)
    assert prep.rule.kind == "momentum" and prep.flagged


def test_small_eta_is_not_flagged_and_bridge_is_switched_off_with_a_note():
    """The flag uses the optimizer's temperature inflation rate 2η/A (A = 2(1+β) for heavy ball; the inflation
    1/(1 − ηH/(2(1+β))) of a heavy ball on a quadratic): η = 0.15, β = 0.9 gives 2·0.15·2/3.8 = 0.158 ≤ 0.2 (not
    flagged) though η_eff·H_a = 3; η = 0.2 gives 0.21 (flagged). The Brownian bridge applies to SGD's step only."""
    ok = _prepare(dynamics="momentum", eta=0.15, momentum=0.9)
    assert not ok.flagged
    assert _prepare(dynamics="momentum", eta=0.2, momentum=0.9).flagged
    assert _prepare(dynamics="sgd", eta=0.005).bridge_on                    # the default bridge=True, for SGD
    assert not ok.bridge_on
    assert any("Brownian-bridge correction off" in note and "momentum" in note for note in ok.notes)


def test_result_eta_lambda_max_is_eta_times_lambda_max_as_documented():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = simulate_options(DW, [-1.0], n_runs=2, max_steps=10, seed=0, dynamics="momentum", momentum=0.9,
                               eta=0.05, noise="hessian_fixed", batch_size=1, criterion="dividing_surface",
                               backend="numpy")
    assert res.eta_lambda_max == pytest.approx(0.05 * 2.0, rel=1e-9)
    assert res.discretization_dominated == (res.eta_lambda_max > 0.2)


def test_ams_and_exact_refuse_stateful_optimizers():
    parts = escape_parts(**{**GUARD_RUN, "dynamics": "momentum", "momentum": 0.9, "eta": 0.005})
    with pytest.raises(InputError, match="momentum"):
        ams_escape(DW, [-1.0], **parts, seed=0, n_replicas=10, n_ams_runs=2)
    with pytest.raises(InputError, match="method exact .* momentum optimizer"):
        exact_chain_rate(DW, [-1.0], **parts)
    parts = escape_parts(**{**GUARD_RUN, "dynamics": "adam", "eta": 0.005})
    with pytest.raises(InputError, match="adam"):
        ams_escape(DW, [-1.0], **parts, seed=0, n_replicas=10, n_ams_runs=2)


# ====================================================================== 6. heavy ball's escape time (statistics)
def mfpt_quadrature(D, x0=-1.0, c=1.0, lo=-3.0, n=400_001):
    """Exact MFPT of dθ = −L′dt + √(2D)dW from x0 to c, reflecting far left (trapezoid; docs/theory.md §Exact
    references): (1/D)∫_{x0}^c e^{L/D}∫_{lo}^y e^{−L/D}."""
    y = np.linspace(lo, c, n)
    u = DW.values(y[:, None]) / D
    u = u - u.min()
    f = np.exp(u) * cumulative_trapezoid(np.exp(-u), y, initial=0.0)
    m = y >= x0
    return trapezoid(f[m], y[m]) / D


def _mean_steps(kind, eta, loss_unit, n_runs, seed, **hyper):
    res = simulate_options(DW, [-1.0], n_runs=n_runs, max_steps=2_000_000, seed=seed, dynamics=kind, eta=eta,
                           noise="hessian_fixed", batch_size=1, loss_unit=loss_unit, criterion="dividing_surface",
                           plane_offset=1.0, bridge=False, backend="numpy", **hyper)
    assert res.escaped.all() and not res.diverged.any()
    s = res.steps.astype(float)
    return s.mean(), s.std(ddof=1) / np.sqrt(s.size)


def test_heavy_ball_mean_escape_steps_match_kramers_hanggi(reg):
    """Heavy ball at η = 0.004, β = 0.9 on the double well (minimum −1, plane at +1), C = λH_a/B constant.

    Its diffusion limit is SGD at η_eff = η/(1−β) = 0.04 with the same C (D = η_eff·λH_a/(2B)); λ/B = 1/(16η_eff)
    makes ΔL/D = 4. With inertia (mass η, friction 1 − β, x = 4η|H_be|/(1−β)² = 1.6) the rate is R times the
    overdamped one, R = registry momentum_underdamped_ratio = 0.766. Prediction in steps:
    τ_mom = T_SDE/η_eff / R, T_SDE the exact MFPT of the SDE (quadrature here), so τ_mom/τ_SGD,SDE = 1/R = 1.31.
    Neglected: the heavy ball's own discretisation (stationary variance × 1/(1 − ηH_a/(2(1+β))), −0.8% on τ)
    and the next-order mass η(1+β)/2 (R → 0.773, −1%), both below one s.e. (2.6% with 1500 runs); the
    Kramers–Hänggi factor's own finite-barrier error is not known (exploratory runs with other seeds and 800–1500
    particles were 4% ± 2% faster than this prediction, inside the 4 s.e. tolerance).
    Without R the prediction would be 6,926 steps, about 9 s.e. away.
    """
    eta, beta = 0.004, 0.9
    eta_eff = eta / (1 - beta)
    lam = 1.0 / (16 * eta_eff)
    D = eta_eff * lam * 2.0 / 2.0
    assert 0.25 / D == pytest.approx(4.0)
    R = reg["momentum_underdamped_ratio"](eta=eta, momentum=beta, h_be=1.0)
    predicted = mfpt_quadrature(D) / eta_eff / R
    mean, se = _mean_steps("momentum", eta, lam, 1500, seed=5, momentum=beta)
    assert abs(mean - predicted) <= Z_TOL * se, (mean, se, predicted)


@pytest.mark.slow
def test_heavy_ball_against_sgd_at_the_effective_rate(reg):
    """The brief's setting: heavy ball η = 0.001, β = 0.9 against SGD at η = 0.01 = η_eff, same B and λ (ΔL/D = 4).

    Steps per escape: SGD's continuum τ is T_SDE/η_eff, the heavy ball's is that over R (x = 0.4, R = 0.916); SGD at
    η = 0.01 is a discrete chain whose exact mean exit time (numerics.simulate.exact, bridge off) differs from the
    continuum by its discretisation factor δ = τ_chain/τ_SDE. So τ_mom/τ_SGD = 1/(R·δ), compared within 4 combined
    s.e. (the heavy ball's own discretisation at ηH_a/(2(1+β)) = 5e-4 is neglected).
    """
    eta, beta, eta_eff = 0.001, 0.9, 0.01
    lam = 1.0 / (16 * eta_eff)
    R = reg["momentum_underdamped_ratio"](eta=eta, momentum=beta, h_be=1.0)
    T_sde = mfpt_quadrature(eta_eff * lam)
    chain = exact_chain_rate(DW, [-1.0], **escape_parts(dynamics="sgd", eta=eta_eff, noise="hessian_fixed",
                                                          batch_size=1, loss_unit=lam, criterion="dividing_surface",
                                                          plane_offset=1.0, bridge=False))
    delta = chain.steps / (T_sde / eta_eff)
    m_mom, se_mom = _mean_steps("momentum", eta, lam, 1500, seed=7, momentum=beta)
    m_sgd, se_sgd = _mean_steps("sgd", eta_eff, lam, 1500, seed=8)
    ratio = m_mom / m_sgd
    se = ratio * math.hypot(se_mom / m_mom, se_sgd / m_sgd)
    assert abs(ratio - 1.0 / (R * delta)) <= Z_TOL * se, (ratio, se, R, delta)
    assert abs(m_sgd - chain.steps) <= Z_TOL * se_sgd                      # the SGD leg against its exact chain
