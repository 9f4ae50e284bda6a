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


def timed(fn, repeats: int = 3):
    """Best (minimum) wall and process-CPU seconds of ``repeats`` calls, and the last result.

    CPU time excludes time the OS gave to other processes; on a shared machine it is the fairer
    per-core measure, wall time the one for multi-thread speed-ups.
    """
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_cpu = min(best_cpu, time.process_time() - c)
        best_wall = min(best_wall, time.perf_counter() - w)
    return best_wall, best_cpu, out
