"""Long run (issue 7): a sweep of ≥ 1e10 particle-steps on 2 cores, with flat memory and an honest ETA.

Run by hand (not in the tests; a few minutes on this 2-core machine with the compiled kernel, about
100 minutes with ``--criterion basin``, which runs on the numpy path)::

    .venv/bin/python benchmarks/long_run.py                 # 1e10 particle-steps, 2 local workers
    .venv/bin/python benchmarks/long_run.py --smoke         # ~2e7 particle-steps, a minute: checks the script
    .venv/bin/python benchmarks/long_run.py --scheduler tcp://HOST:8786   # on a Dask cluster

The sweep runs in a child process (``--child``) with ``run_sweep(..., progress=True)``; this process
reads the child's progress bar (tqdm, on its stderr) and samples the resident memory (VmRSS from
/proc) of the child and all its descendants (the worker processes) every ``--sample`` seconds.

Tasks are escape experiments on the 1-D double well at ΔL/D = 30, by default with the
``dividing_surface`` criterion (white noise there runs on the compiled kernel, with the bridge
correction); ``--criterion basin`` runs the numpy path instead. Practically no particle escapes
(rate ≈ e^{-30}), so every particle runs all ``max_steps`` and the particle-steps are known in advance
(and counted exactly from the stored exit steps afterwards). Each task is ``n_runs × max_steps``
particle-steps; tasks differ by a ``label`` (and so by their seed).

Checks, written to OUT/long_run.json and printed:

* ``peak_total_rss_bytes`` ≤ 1 GiB, and memory is flat: after the first task is stored (workers warm),
  the median of the last quarter of samples exceeds that of the first quarter by at most 20% (or 50 MiB);
* the progress bar's estimate of the total time (elapsed + remaining, as tqdm shows it) at 25%, 50% and
  75% of the tasks, against the real total: relative error reported; ≤ 25% at 50% is the target.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GIB = 2 ** 30
BAR = re.compile(r"(\d+)/(\d+) \[(?:(\d+):)?(\d+):(\d+)<(?:(\d+):)?(\d+):(\d+)")


def configs(total_steps: float, n_tasks: int, n_runs: int, criterion: str = "dividing_surface") -> list[dict]:
    """``n_tasks`` escape tasks of ``n_runs`` particles each, ``total_steps`` particle-steps in all."""
    max_steps = int(round(total_steps / (n_tasks * n_runs)))
    base = {"landscape": "double-well", "sharpness": 1.0, "minimum": [-1.0], "noise": "white",
            "criterion": criterion, "eta": 0.05, "temperature": 0.25 / 30.0, "n_runs": int(n_runs),
            "max_steps": max_steps, "options": {}}
    return [dict(base, label=f"long-run-{i}") for i in range(n_tasks)]


def child(args) -> None:
    """Run the sweep (in the child process), progress bar on stderr."""
    from flatminima.validation.executors import executor_for
    from flatminima.validation.experiments import escape_task
    from flatminima.validation.sweep import run_sweep

    cs = configs(args.total_steps, args.tasks, args.runs, args.criterion)
    # compile the kernels once here, so the workers load numba's on-disk cache instead of each compiling
    # (a compile leaves ~200 MiB resident in the process that ran it)
    escape_task(dict(cs[0], n_runs=2, max_steps=2), 0)
    workers = None if args.scheduler else args.workers
    with executor_for(args.scheduler, workers) as ex:
        frame = run_sweep(escape_task, cs, args.out, executor=ex, workers=workers if ex is None else None,
                          resume=args.resume, progress=True)
    steps = int(sum(sum(s) for s in frame["steps"]))
    print(json.dumps({"particle_steps": steps, "n_escaped": int(frame["n_escaped"].sum()),
                      "n_diverged": int(frame["n_diverged"].sum()), "rows": len(frame)}))


def _tree_rss(root: int) -> tuple[int, int]:
    """(VmRSS in bytes summed over ``root`` and its descendants, number of processes) from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == p and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total, len(tree)


def _seconds(h, m, s) -> int:
    return int(h or 0) * 3600 + int(m) * 60 + int(s)


def parent(args) -> dict:
    cmd = [sys.executable, __file__, "--child", "--out", str(args.out), "--total-steps", repr(args.total_steps),
           "--tasks", str(args.tasks), "--runs", str(args.runs), "--workers", str(args.workers),
           "--criterion", args.criterion]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    if args.resume:
        cmd.append("--resume")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    estimates: list[dict] = []          # every progress-bar update: done, total, elapsed and remaining shown
    tail: list[str] = []

    def read_bar():
        buf = b""
        while True:
            chunk = proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else proc.stderr.read(4096)
            if not chunk:
                break
            buf += chunk
            *parts, buf = re.split(rb"[\r\n]", buf)
            for raw in parts:
                line = raw.decode(errors="replace")
                if line.strip():
                    tail[:] = (tail + [line])[-20:]
                m = BAR.search(line)
                if m:
                    done, total = int(m[1]), int(m[2])
                    elapsed, remaining = _seconds(m[3], m[4], m[5]), _seconds(m[6], m[7], m[8])
                    if not estimates or estimates[-1]["done"] != done:
                        estimates.append({"t": time.monotonic() - started, "done": done, "total": total,
                                          "elapsed_shown": elapsed, "remaining_shown": remaining})

    reader = threading.Thread(target=read_bar, daemon=True)
    reader.start()
    samples: list[tuple[float, int, int]] = []
    while proc.poll() is None:
        rss, n = _tree_rss(proc.pid)
        samples.append((time.monotonic() - started, rss, n))
        time.sleep(args.sample)
    stdout = proc.stdout.read().decode()
    reader.join(10)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"the sweep failed (exit {proc.returncode}):\n" + "\n".join(tail))
    summary = json.loads(stdout.strip().splitlines()[-1])

    rss = [s[1] for s in samples]
    import statistics
    # warm = after the first task is stored (workers started, imports and compilation done); memory is
    # flat when the median of the last quarter of warm samples is close to that of the first quarter
    t_warm = estimates[0]["t"] if estimates else 0.0
    t_end = estimates[-1]["t"] if estimates else wall           # then the workers shut down
    warm = [s[1] for s in samples if t_warm <= s[0] <= t_end] or rss
    q = max(len(warm) // 4, 1)
    second, last = statistics.median(warm[:q]), statistics.median(warm[-q:])
    flat = last <= second + max(0.2 * second, 50 * 2 ** 20)     # no growth (a drop is fine)
    # the bar's estimate of the total time (elapsed + remaining) when 25/50/75% of tasks were done,
    # against the real time the sweep took (the last bar update: all tasks done)
    sweep_seconds = estimates[-1]["t"] if estimates else wall
    at = {}
    for frac in (0.25, 0.5, 0.75):
        hit = next((e for e in estimates if e["done"] >= frac * e["total"] and e["done"] < e["total"]), None)
        if hit is not None:
            est_total = hit["t"] + hit["remaining_shown"]
            at[f"{int(frac * 100)}%"] = {"predicted_total_s": est_total, "actual_total_s": sweep_seconds,
                                         "relative_error": (est_total - sweep_seconds) / sweep_seconds}
    from benchmarks._common import machine
    result = {
        "smoke": args.smoke, "criterion": args.criterion, "tasks": args.tasks, "runs_per_task": args.runs,
        "planned_particle_steps": float(args.total_steps), "particle_steps": summary["particle_steps"],
        "n_escaped": summary["n_escaped"], "n_diverged": summary["n_diverged"],
        "wall_s": wall, "particle_steps_per_s": summary["particle_steps"] / wall,
        "peak_total_rss_bytes": max(rss) if rss else None, "rss_samples": len(rss),
        "rss_median_first_warm_quarter_bytes": second, "rss_median_last_warm_quarter_bytes": last,
        "max_processes": max((s[2] for s in samples), default=0),
        "memory_ok": bool(rss) and max(rss) <= GIB and flat, "memory_flat": flat,
        "eta_vs_actual": at,
        "eta_ok": "50%" in at and abs(at["50%"]["relative_error"]) <= 0.25,
        "machine": machine(), "executor": args.scheduler or f"{args.workers} local processes",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "long_run.json").write_text(json.dumps(result, indent=1))
    return result


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="a short run (~2e7 particle-steps) to check the script")
    p.add_argument("--out", type=Path, default=None, help="results folder (default results/long_run[_smoke])")
    p.add_argument("--total-steps", type=float, default=None, help="particle-steps in all (default 1e10)")
    p.add_argument("--tasks", type=int, default=None, help="number of tasks (default 100; smoke 8)")
    p.add_argument("--criterion", default="dividing_surface", choices=("dividing_surface", "basin"),
                   help="exit criterion of the tasks (basin: the numpy path, ~20x slower)")
    p.add_argument("--runs", type=int, default=None, help="particles per task (default 20000; smoke 2000)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scheduler", default=None, help="a Dask scheduler address instead of local processes")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--sample", type=float, default=1.0, help="seconds between memory samples")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.total_steps = args.total_steps or (2e7 if args.smoke else 1e10)
    args.tasks = args.tasks or (8 if args.smoke else 100)
    args.runs = args.runs or (2000 if args.smoke else 20000)
    args.out = args.out or ROOT / "results" / ("long_run_smoke" if args.smoke else "long_run")
    if args.child:
        child(args)
        return
    result = parent(args)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
