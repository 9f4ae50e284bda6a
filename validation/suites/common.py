"""Pieces shared by the rate suites: adaptive run lengths, running a sweep, provenance."""
from __future__ import annotations

import json
import math
import platform
import time
from importlib import metadata

import numpy as np

from flatminima.validation.experiments import basin_of, escape_task, geometry
from flatminima.validation.predict import predict
from flatminima.validation.store import config_hash
from flatminima.validation.sweep import run_sweep, task_seed

CENSOR_NATS = 6.0     # max_steps = 6 predicted mean escape times: P(censored) ≈ e^-6 = 0.25% per run


def adaptive_max_steps(config: dict, *, nats: float = CENSOR_NATS, cap: int = 50_000_000) -> int:
    """max_steps from the predicted rate, so that most runs escape within budget (issue 5).

    The predicted mean escape time in steps is 1/(γ_pred·η); runs are censored after ``nats`` of them
    (P(censored) = e^−nats if the law is right; the estimator handles censoring either way).
    """
    land, analysis = basin_of(config)
    pred = predict(config, geometry(analysis))
    steps = nats / (pred.rate * float(config["eta"]))
    return int(min(max(math.ceil(steps), 1000), cap))


def versions() -> dict:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("flatminima", "numpy", "scipy", "sympy", "autograd", "numba", "pandas", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_escape_sweep(configs: list[dict], out, *, workers=None, executor=None, resume=False, progress=None):
    """Run escape tasks for ``configs`` into ``OUT/store``; rows come back in config order."""
    frame = run_sweep(escape_task, configs, out, workers=workers, executor=executor, resume=resume,
                      progress=progress)
    by_hash = {h: rec for h, rec in zip(frame["task_hash"], frame.to_dict("records"))}
    return [by_hash[config_hash(c)] for c in configs]


def provenance(out, configs: list[dict], started: float, **extra) -> dict:
    """Versions, configs with their task hashes and seeds, store location and wall time."""
    tasks = [{"task_hash": config_hash(c), "seed": task_seed(config_hash(c)), "config": c} for c in configs]
    return {"versions": versions(), "store": str((__import__("pathlib").Path(out) / "store").resolve()),
            "wall_seconds": round(time.time() - started, 1), "n_tasks": len(configs),
            "seeds": "task seed = first 8 bytes of the SHA-256 of the task's canonical JSON config "
                     "(numpy SeedSequence entropy; particle i uses spawn_key (i, stream))",
            "tasks": json.loads(json.dumps(tasks, default=float)), **extra}


def add_rate_sweeps(result, plan: dict, rows: list[dict], specs: dict) -> dict:
    """Fit every sweep of ``plan`` (rows in plan order) and add its verdicts, table and figures.

    ``specs[name] = (axis, title, check, claim)``; returns ``{name: (configs, rate_sweep result)}``.
    """
    from flatminima.validation.analysis import rate_sweep

    done, i = {}, 0
    for key, cfgs in plan.items():
        part = rows[i:i + len(cfgs)]
        i += len(cfgs)
        axis, title, check, claim = specs[key]
        res = rate_sweep(part, cfgs, axis=axis, name=key, title=title, check=check, claim=claim)
        result.verdicts.extend(res["verdicts"])
        result.tables.append(res["table"])
        result.figures.extend([res["figure"], res["survival"]])
        if res["law"] not in result.laws:
            result.laws.append(res["law"])
        done[key] = (cfgs, res)
    return done
