"""Shared helpers of the hand-run benchmarks: machine description and repeated timings."""
from __future__ import annotations

import os
import platform
import time

import numpy as np


def machine() -> dict:
    """CPU model, logical CPUs, load average and library versions of this run."""
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba
    return {"cpu": model, "logical_cpus": os.cpu_count(), "load_avg_1min": os.getloadavg()[0],
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__}


def timed_rounds(fns: dict, rounds: int) -> dict:
    """Time every callable of ``fns`` once per round, round-robin, for ``rounds`` rounds.

    Returns per name the minimum and the median wall and process-CPU seconds, and the last result.
    On a shared (virtual) machine a burst of load from elsewhere slows whatever runs at that moment,
    and inflates CPU time too (time the hypervisor takes counts as the guest's): measured on this
    host, one call of the same kernel took 0.6 s and, later in the same run, 0.9 s. Taking the
    callables in turn puts every one of them through the same conditions, so ratios of their
    minima compare like with like; the medians show the spread.
    """
    walls = {k: [] for k in fns}
    cpus = {k: [] for k in fns}
    last = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            last[name] = fn()
            cpus[name].append(time.process_time() - c)
            walls[name].append(time.perf_counter() - w)
    return {k: {"wall": min(walls[k]), "cpu": min(cpus[k]), "wall_median": float(np.median(walls[k])),
                "cpu_median": float(np.median(cpus[k])), "rounds": rounds, "result": last[k]} for k in fns}
