"""The optimizers suite's plan and verdict logic (C22); the full run is marked slow (minutes on 2 cores)."""
import math
from types import SimpleNamespace

import pytest

from flatminima.numerics.optimizers import step_rule
from flatminima.validation.experiments import basin_of, geometry, optimizer_of
from flatminima.validation.predict import predict
from flatminima.validation.suites import get_suite, suite_names
from flatminima.validation.suites import optimizers as suite


def _fit(slope, se):
    return SimpleNamespace(slope=slope, slope_stderr=se)


def test_suite_is_registered():
    assert "optimizers" in suite_names()
    assert get_suite("optimizers").sizes.keys() == {"default", "full"}


def test_batch_sweeps_match_the_effective_learning_rate():
    """SGD, heavy ball, PNM and Adai B sweeps run at one effective learning rate (η/(1−β), η/n, η): the C22 ratio
    compares exponents at matched η_eff, so each optimizer's η_eff must equal SGD's η, by construction."""
    plan = suite.sweeps()
    sgd_eta = plan["sgd_batch"][0]["eta"]
    for key in ("momentum_batch", "pnm_batch", "adai_batch"):
        for c in plan[key]:
            assert step_rule(optimizer_of(c)).effective_rate() == pytest.approx(sgd_eta, rel=1e-12)
            assert [x["batch_size"] for x in plan[key]] == [x["batch_size"] for x in plan["sgd_batch"]]


def test_points_are_observable_and_in_the_small_noise_regime():
    """Every point's predicted exponent lies in [2.5, 8] (observable by brute force, barrier above the noise) and
    max_steps covers CENSOR_NATS predicted mean escape times."""
    for key, configs in suite.sweeps().items():
        for c in configs:
            land, an = basin_of(c)
            p = predict(c, geometry(an), land)
            assert 2.5 <= p.exponent <= 8.0, (key, c, p.exponent)
            mean_steps = 1.0 / (p.rate * c["eta"])
            assert c["max_steps"] >= min(suite.CENSOR_NATS * mean_steps, 5e7) - 1, (key, c)


@pytest.mark.parametrize("num,den,derived,status", [
    (_fit(0.76, 0.005), _fit(0.75, 0.005), 1.0, "PASS"),      # ratio 1.013 ± 0.009
    (_fit(0.70, 0.005), _fit(0.75, 0.005), 1.0, "FAIL"),      # ratio 0.933: 6.7% off, decided
    (_fit(0.15, 0.005), _fit(0.75, 0.005), 1.0, "FAIL"),      # the independent-buffer PNM value 0.2 would be here
    (_fit(0.76, 0.06), _fit(0.75, 0.06), 1.0, "INCONCLUSIVE"),  # ratio ± 0.22 (95%): wider than ±5%
    (_fit(0.73, 0.023), _fit(0.75, 0.023), 1.0, "INCONCLUSIVE"),  # 0.973 ± 0.085: consistent with 1, undecided
    (_fit(0.50, 0.03), _fit(0.75, 0.03), 1.0, "FAIL"),          # 0.667 ± 0.063: wide, but the band is excluded
])
def test_ratio_verdict(num, den, derived, status):
    """PASS within MATCH (5%) when the 95% interval is decided (narrower than ±MATCH), FAIL when further off or when
    the interval excludes the ±MATCH band; the ratio's s.e. by the delta method: r·√((s₁/b₁)² + (s₂/b₂)²)."""
    v = suite._ratio_verdict("law", "claim", num, den, derived)
    assert v.status == status
    r = num.slope / den.slope
    assert v.value == pytest.approx(r, rel=1e-12)
    assert v.stderr == pytest.approx(r * math.hypot(num.slope_stderr / num.slope, den.slope_stderr / den.slope),
                                     rel=1e-12)


def test_ratio_verdict_names_the_alternative():
    v = suite._ratio_verdict("long-time", "claim", _fit(0.75, 0.01), _fit(0.75, 0.01), 1.0,
                             alternative=("independent-buffer reading", 0.2))
    # (1 − 0.2)/s.e., s.e. = √2·0.01/0.75
    assert f"{0.8 / (math.sqrt(2) * 0.01 / 0.75):.1f} s.e. away" in v.details


@pytest.mark.slow
def test_suite_runs_and_its_c22_verdicts_pass(tmp_path):
    result = get_suite("optimizers").run(tmp_path, size="default", workers=2, progress=False)
    c22 = [v for v in result.verdicts if v.check == "C22" and "ratio" in v.measured]
    assert len(c22) == 3 and all(v.status == "PASS" for v in c22), [(v.claim, v.measured) for v in c22]
