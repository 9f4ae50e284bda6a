"""1-D double-well SGLD with the Brownian-bridge correction: fixed_noise_escape against kramers.

The same problem for both: dθ = −L'(θ)dt + √(2D)dW with L = θ⁴/4 − θ²/2 (the default double well),
Euler–Maruyama with dt = η, start at the left minimum −1, absorbed at the saddle 0 with the bridge
crossing probability exp(−2·d0·d1/(2Dη)), n_paths paths, censored at t_max = max_steps·η.
``kramers.solvers.simulate.first_passage_times`` (PyPI ``kramers``) is the baseline.
Run by hand: ``.venv/bin/python benchmarks/bench_kramers.py``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, timed_rounds  # noqa: E402
from flatminima.numerics import kernels as K  # noqa: E402
from flatminima.numerics.builtins import double_well  # noqa: E402

ETA, TEMPERATURE = 0.01, 0.0625           # ΔL/D = 4
N_PATHS, MAX_STEPS = 4000, 100_000


def run(rounds: int = 3) -> dict:
    """Both simulators on the same problem, taking turns for ``rounds`` rounds (``timed_rounds``)."""
    import kramers
    from kramers.solvers.simulate import first_passage_times

    dw = double_well()
    kw = dict(eta=ETA, temperature=TEMPERATURE, n_runs=N_PATHS, max_steps=MAX_STEPS, seed=7,
              criterion="dividing_surface", point=[0.0], normal=[1.0], bridge=True)
    K.fixed_noise_escape(dw, [-1.0], **{**kw, "n_runs": 2, "max_steps": 2})

    def theirs():
        return first_passage_times(lambda x: x - x**3, TEMPERATURE, -1.0, n_paths=N_PATHS, dt=ETA,
                                   t_max=MAX_STEPS * ETA, absorbing=(None, 0.0), seed=7)
    t = timed_rounds({"ours": lambda: K.fixed_noise_escape(dw, [-1.0], **kw), "kramers": theirs}, rounds)
    ours, ref = t["ours"]["result"], t["kramers"]["result"]
    w_ours, c_ours, w_k, c_k = t["ours"]["wall"], t["ours"]["cpu"], t["kramers"]["wall"], t["kramers"]["cpu"]
    t_ours = np.where(ours.escaped, ours.steps * ETA, MAX_STEPS * ETA)
    t_k = np.where(np.isfinite(ref.times), ref.times, MAX_STEPS * ETA)
    return {"machine": machine(), "kramers_version": getattr(kramers, "__version__", "?"), "rounds": rounds,
            "n_paths": N_PATHS, "max_steps": MAX_STEPS, "eta": ETA, "temperature": TEMPERATURE,
            "ours": {"wall_s": w_ours, "cpu_s": c_ours, "cpu_s_median": t["ours"]["cpu_median"],
                     "particle_steps": int(ours.steps.sum()), "n_escaped": int(ours.escaped.sum()),
                     "mean_time": float(t_ours.mean()), "sem": float(t_ours.std(ddof=1) / np.sqrt(N_PATHS))},
            "kramers": {"wall_s": w_k, "cpu_s": c_k, "cpu_s_median": t["kramers"]["cpu_median"],
                        "n_escaped": int(np.isfinite(ref.times).sum()), "mean_time": float(t_k.mean()),
                        "sem": float(t_k.std(ddof=1) / np.sqrt(N_PATHS))},
            "speedup_wall": w_k / w_ours, "speedup_cpu": c_k / c_ours}


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
