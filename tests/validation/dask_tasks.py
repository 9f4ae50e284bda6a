"""Cheap seeded tasks and a driver script for the Dask and fault tests.

Top-level functions, so Dask workers and spawned processes import them by name. Run as a script,
``python dask_tasks.py OUT SCHEDULER N SLEEP`` runs the sweep ``configs(N, SLEEP)`` into OUT on the Dask
cluster at SCHEDULER (or on local processes when SCHEDULER is ``local``): the driver that the tests kill.
"""
import os
import sys
import time
from concurrent.futures import Executor

import numpy as np

N_ROWS = 3


def configs(n: int, sleep: float) -> list[dict]:
    return [{"x": x, "slope": 2.0, "sleep": float(sleep)} for x in range(n)]


def slow_line(config: dict, seed: int) -> list[dict]:
    """Rows y = slope·x + N(0, 1) noise drawn from ``seed`` after ``config['sleep']`` seconds; records its pid."""
    time.sleep(config["sleep"])
    noise = np.random.default_rng(seed).normal(size=N_ROWS)
    return [{"rep": i, "y": config["slope"] * config["x"] + float(noise[i]), "seed": seed} for i in range(N_ROWS)]


class CountingExecutor(Executor):
    """Wraps an executor and counts the tasks submitted to it (the tasks a sweep actually recomputes)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.submitted: list[dict] = []

    def submit(self, fn, /, *args, **kwargs):
        self.submitted.append(args[0])
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        pass


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dask_tasks  # noqa: E402  (import by module name so that workers can unpickle the task)
    from flatminima.validation.executors import executor_for
    from flatminima.validation.sweep import run_sweep

    out, scheduler, n, sleep = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    with executor_for(None if scheduler == "local" else scheduler, 2 if scheduler == "local" else None) as ex:
        run_sweep(dask_tasks.slow_line, dask_tasks.configs(n, sleep), out, executor=ex,
                  workers=2 if ex is None else None, resume=True, progress=False)
    print("done")
