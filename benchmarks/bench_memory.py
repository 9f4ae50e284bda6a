"""Peak memory of 1e6 particles of 10-D SGLD (fresh process; peak RSS from /proc VmHWM or getrusage).

Run by hand: ``.venv/bin/python benchmarks/bench_memory.py [--theta]``; prints one JSON object.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from flatminima.numerics import kernels as K  # noqa: E402
from flatminima.numerics.builtins import styblinski_tang  # noqa: E402


def _peak_rss() -> int:
    """Peak resident set size of this process in bytes: VmHWM (reset by exec, unlike ru_maxrss,
    which keeps the forking parent's peak), else resource.getrusage."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(return_theta: bool) -> dict:
    st = styblinski_tang(10)
    m = st.minima[0]
    kw = dict(eta=0.01, temperature=1.0, max_steps=20, seed=1, criterion="radius", radius=100.0)
    K.fixed_noise_escape(st, m, n_runs=2, **kw)
    before = _peak_rss()
    w = time.perf_counter()
    r = K.fixed_noise_escape(st, m, n_runs=1_000_000, return_theta=return_theta, **kw)
    wall = time.perf_counter() - w
    peak = _peak_rss()
    return {"n_runs": 1_000_000, "dim": 10, "max_steps": 20, "return_theta": return_theta,
            "peak_rss_bytes_before_run": before, "peak_rss_bytes": peak, "wall_s": wall,
            "particle_steps": int(r.steps.sum()), "result_bytes": int(sum(a.nbytes for a in r if a is not None))}


if __name__ == "__main__":
    print(json.dumps(main("--theta" in sys.argv)))
