"""The ``quick`` suite: a CI-sized end-to-end pass on the 1-D double well θ⁴/4 − θ²/2 (≤ 2 min on 2 cores).

Three sweeps, each fitted and compared with the slope the law predicts (docs/theory.md §Predicted slopes):

- white noise (SGLD), −log γ against 1/D: slope ΔL (Kramers, Xie et al. 2021, Eq. (6));
- two-region SGD noise (the paper's s model), −log γ against B: slope (2/(ηλ))·ΔL(s/H_ae + (1−s)/|H_be|)
  (Xie et al. 2021, Eq. (7), with the Itô prefactor of docs/theory.md §Prefactor conventions);
- white noise, log γ against log k (sharpness L(√k θ)): slope 1 (docs/theory.md §Sharpness scaling, exact in
  continuous time).

Escape = first passage to the next minimum (a dividing plane through θ = +1, with the Brownian-bridge
correction): its mean is the full Kramers time (docs/theory.md §Which escape time). The 1-D exact
quadrature of the same SDE measures each law's asymptotic error over the sweep.
"""
from __future__ import annotations

import time

from flatminima.errors import InputError
from flatminima.validation.suite import SuiteResult
from flatminima.validation.suites.common import add_rate_sweeps, adaptive_max_steps, provenance, run_escape_sweep

LANDSCAPE = "double-well"
MINIMUM = [-1.0]
SIZES = {"default": "about 1 min on 2 cores (~7e8 particle-steps)", "full": "about 5 min on 2 cores (4× the runs)"}
N_RUNS = {"default": 300, "full": 1200}
CRITERIA = """A sweep passes when its weighted-least-squares slope lies within 1.96 standard errors of the
slope the law predicts, plus the law's known asymptotic error over the sweep (the difference between the
slopes of the exact 1-D quadrature rates and of the law's rates at the same points), plus the
discretisation bias |slope|·ηH_ae/2 (docs/theory.md §Discretisation). A point passes when the law's rate
lies in the measured 95% Garwood interval widened by the law's allowed relative error at that point."""


def _base(noise: str, n_runs: int, **kw) -> dict:
    cfg = {"landscape": LANDSCAPE, "sharpness": 1.0, "minimum": MINIMUM, "noise": noise,
           "criterion": "dividing_surface", "loss_unit": 1.0, "n_runs": n_runs,
           "options": {"plane_offset": 1.0, "bridge": True}}
    cfg.update(kw)
    return cfg


def sweeps(size: str = "default") -> dict[str, list[dict]]:
    """The three sweeps' configs (max_steps chosen from the predicted rate)."""
    n = N_RUNS[size]
    barrier = 0.25
    out = {
        "sgld_temperature": [_base("white", n, eta=0.01, temperature=barrier / r) for r in (4.0, 5.0, 6.0, 7.0)],
        "sgd_batch": [_base("hessian_two_region", n, eta=0.01, loss_unit=25.0, batch_size=b) for b in (2, 3, 4, 5)],
        "sgld_sharpness": [_base("white", n, eta=0.005, temperature=0.05, sharpness=k) for k in (1.0, 2.0, 4.0)],
    }
    for configs in out.values():
        for c in configs:
            # the plane sits at the next minimum, which moves to θ*/√k on L(√k θ) (docs/theory.md §Sharpness scaling)
            c["options"]["plane_offset"] = 1.0 / float(c["sharpness"]) ** 0.5
            c["max_steps"] = adaptive_max_steps(c)
    return out


def run(out, *, size: str = "default", workers=None, executor=None, resume: bool = False, progress=None) -> SuiteResult:
    """Run the quick suite into ``out`` and return its result (not yet saved)."""
    if size not in SIZES:
        raise InputError(f"unknown size {size!r} for suite quick; allowed: {', '.join(SIZES)}")
    started = time.time()
    plan = sweeps(size)
    configs = [c for cs in plan.values() for c in cs]
    rows = run_escape_sweep(configs, out, workers=workers, executor=executor, resume=resume, progress=progress)
    result = SuiteResult(suite="quick", size=size, title="Quick validation: Kramers and the SGD law on a 1-D double well",
                         criteria=CRITERIA)
    specs = {
        "sgld_temperature": ("1/temperature", "SGLD: −log γ against 1/D", "C10",
                             "White noise: −log γ is linear in 1/D with slope ΔL (Kramers, Eq. (6))"),
        "sgd_batch": ("batch_size", "SGD (two-region noise): −log γ against B", "C7",
                      "SGD noise C = λH/B: −log γ is linear in B with slope (2/(ηλ))·ΔL(s/H_ae + (1−s)/|H_be|) (Eq. (7))"),
        "sgld_sharpness": ("log_sharpness", "SGLD: log γ against log k", "C6",
                           "White noise: γ ∝ k under L(√k θ), i.e. slope 1 in log γ against log k (polynomial in sharpness)"),
    }
    add_rate_sweeps(result, plan, rows, specs)
    result.sections.append({"title": "Set-up", "text": (
        "Landscape: `double-well` (L = θ⁴/4 − θ²/2; ΔL = 1/4, H_ae = 2, |H_be| = 1, s = 4/9 at the inflection "
        "point). Start: the minimum θ = −1. Exit: first passage through θ = +1 (the next minimum), "
        "Brownian-bridge corrected; its mean is the full Kramers time (docs/theory.md §Which escape time). Rates "
        "are per unit SDE time t = step·η. SGD noise: the two-region model C = λH_a/B before the inflection point and "
        "λ|H_b|/B after it, with loss unit λ = 25 so that escapes are observable (docs/theory.md §C21).")})
    result.provenance = provenance(out, configs, started, size=size)
    return result

