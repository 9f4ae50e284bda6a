"""Is the 4-lane LLVM code worth keeping? The vector loops against the scalar loops on the same runs.

Run by hand: ``.venv/bin/python benchmarks/bench_lanes.py``. ``numerics.kernels.driver`` sends one-plane
and radius runs on Styblinski–Tang to ``escape_lanes`` (and 1-D ones to ``escape_lanes1``), four particles
side by side in 4-wide vectors; otherwise to the scalar ``escape_nd`` / ``escape_1d``. Here each case
runs both ways, the calls taking turns (``timed_rounds``), and the exit steps are checked to be identical,
so the ratio is the speed-up the vector code buys. The lanes are kept only if it is ≥ 1.2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, timed_rounds  # noqa: E402
from flatminima.numerics.builtins import double_well, styblinski_tang  # noqa: E402
from flatminima.numerics.kernels import driver  # noqa: E402
from flatminima.numerics.kernels import fixed_noise_escape  # noqa: E402
from flatminima.numerics.kernels.loops import escape_1d, escape_nd  # noqa: E402

ROUNDS = 5
KEEP_IF = 1.2


def _scalar_loop(kid, d, crit, cp, diagonal):
    """The driver's choice with the vector loops replaced by their scalar counterparts."""
    return escape_1d if d == 1 and diagonal else escape_nd


def _cases() -> dict:
    st10 = styblinski_tang(10)
    st1 = styblinski_tang(1)
    dw = double_well()
    return {
        "ST-10D SGLD, radius never met (pure stepping), 1000 × 5000":
            (st10, st10.minima[0], dict(eta=0.01, temperature=1.0, n_runs=1000, max_steps=5000, seed=1,
                                        criterion="radius", center=st10.minima[0], radius=100.0)),
        "ST-1D SGLD, plane through the saddle with bridge, 20000 runs":
            (st1, st1.minima[0], dict(eta=0.002, temperature=5.0, n_runs=20000, max_steps=20000, seed=2,
                                      criterion="dividing_surface", point=st1.saddles[0], normal=[1.0],
                                      bridge=True)),
        "double well SGLD, plane at 0 with bridge, 4000 runs":
            (dw, [-1.0], dict(eta=0.01, temperature=0.0625, n_runs=4000, max_steps=100_000, seed=7,
                              criterion="dividing_surface", point=[0.0], normal=[1.0], bridge=True)),
    }


def run(rounds: int = ROUNDS) -> dict:
    """Per case: best CPU seconds of the lanes and of the scalar loop, their ratio, identical exits."""
    real = driver._loop
    out = {"machine": machine(), "rounds": rounds, "cases": {}}
    for name, (land, start, kw) in _cases().items():
        def lanes(land=land, start=start, kw=kw):
            return fixed_noise_escape(land, start, **kw)

        def scalar(land=land, start=start, kw=kw):
            driver._loop = _scalar_loop
            try:
                return fixed_noise_escape(land, start, **kw)
            finally:
                driver._loop = real

        small = {**kw, "n_runs": 8, "max_steps": 10}
        fixed_noise_escape(land, start, **small)                     # compile / load the caches
        driver._loop = _scalar_loop
        fixed_noise_escape(land, start, **small)
        driver._loop = real
        t = timed_rounds({"lanes": lanes, "scalar": scalar}, rounds)
        a, b = t["lanes"]["result"], t["scalar"]["result"]
        same = bool(np.array_equal(a.steps, b.steps) and np.array_equal(a.escaped, b.escaped))
        out["cases"][name] = {"lanes_cpu_s": t["lanes"]["cpu"], "scalar_cpu_s": t["scalar"]["cpu"],
                              "speedup": t["scalar"]["cpu"] / t["lanes"]["cpu"], "identical_exits": same,
                              "particle_steps": int(a.steps.sum())}
    out["keep"] = all(c["speedup"] >= KEEP_IF for c in out["cases"].values())
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
