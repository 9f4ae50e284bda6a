"""Two-core scaling of the ST-10D escape kernel, measured three ways (to tell the code from the host).

Run by hand: ``.venv/bin/python benchmarks/bench_threads.py`` (about a minute). ``run_all.py``'s
2-thread figure times 1 and 2 threads in turn and takes the best of each; on a shared virtual machine
that needs both virtual CPUs quiet in the same round. This script adds:

- ``blocks``: 1-thread calls back to back for ``SECONDS``, then 2-thread calls back to back, twice;
  the ratio of the best call of each, and how busy the 2-thread calls kept both CPUs (process CPU
  time over 2 × wall time: below 1 when a thread waits for work or for the other), and every
  2-thread call's time in order (on this host they sit at levels, e.g. 105, 122 or 160 ms, and jump
  between them with nothing changing in this process);
- ``processes``: the same 1-thread call in one process alone, then in two processes side by side;
  each process's best call side by side over its best call alone (1.0 = the two cores do not slow
  each other).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _common import machine  # noqa: E402

SECONDS = 8.0
_CHILD = f"""
import sys, time
sys.path.insert(0, {str(HERE.parent)!r}); sys.path.insert(0, {str(HERE)!r})
import bench_sgld
f = bench_sgld._escape({{"temperature": bench_sgld.TEMPERATURE}})
best, end = float("inf"), time.perf_counter() + {SECONDS}
while time.perf_counter() < end:
    t = time.perf_counter(); f(); best = min(best, time.perf_counter() - t)
print(best)
"""


def _calls_for(fn, seconds: float) -> tuple[list[float], float]:
    """Wall times of ``fn()`` called back to back for ``seconds``, in order, and the fastest call's process CPU time."""
    walls, cpu, end = [], 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        if walls[-1] == min(walls):
            cpu = time.process_time() - c
    return walls, cpu


def _processes(n: int) -> list[float]:
    """Best call of each of ``n`` single-threaded processes started together (compiles are cached first)."""
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return [float(p.communicate()[0]) for p in procs]


def run() -> dict:
    """Block and process measurements of 2-core scaling; every figure measured in this run."""
    import bench_sgld
    one = bench_sgld._escape({"temperature": bench_sgld.TEMPERATURE})
    two = bench_sgld._escape({"temperature": bench_sgld.TEMPERATURE}, workers=2)
    blocks = []
    for _ in range(2):
        (w1, _), (w2, c2) = _calls_for(one, SECONDS), _calls_for(two, SECONDS)
        t1, t2 = min(w1), min(w2)
        blocks.append({"one_thread_s": t1, "two_threads_s": t2, "ratio": t1 / t2, "two_threads_busy": c2 / (2 * t2),
                       "two_threads_calls_ms": [round(1e3 * w, 1) for w in w2]})
    alone = _processes(1)[0]
    side = _processes(2)
    return {"machine": machine(), "seconds_per_block": SECONDS, "particle_steps_per_call":
            bench_sgld.N_RUNS * bench_sgld.MAX_STEPS, "blocks": blocks,
            "processes": {"alone_s": alone, "side_by_side_s": side, "speed_side_by_side": [alone / s for s in side]}}


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
