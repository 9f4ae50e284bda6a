"""Compiled momentum and Adam against compiled SGD: particle-steps per second in the same run.

Run by hand: ``.venv/bin/python benchmarks/bench_optimizers.py [--rounds N]`` (about half a minute at 3 rounds).
Every call is ``numerics.kernels.fixed_noise_escape`` on 10-D Styblinski–Tang from the global minimum
(−2.903534 per coordinate), white noise, the radius criterion: ``optimizer`` "sgd", "momentum" (heavy ball
and Nesterov, β = 0.9) and "adam" (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) on the same streams, so the four runs
do the same draws and differ by the update only. The four kernels take turns within each round (SGD,
heavy ball, Nesterov, Adam, SGD, ...), and each optimizer's rate is divided by SGD's rate of the same
round: the ratios compare like with like on a shared machine (``_common.timed_rounds``' argument); the
results give each ratio's min, median and max over the rounds.

Cases: ``1 thread`` (process CPU time) and ``all cores`` (``workers`` = os.cpu_count(), wall time; the
kernel's own default is ``workers=1``), 1000 particles × 5000 steps, radius 100 (never met: every particle
runs to ``max_steps``, censored); and ``long horizon``, 100 particles × 50 000 steps, 1 thread: Adam's
bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ round to exactly 1.0 after about 360 and 37 000 steps, and the
four-lane step then leaves their divisions out (the same bits), so its rate depends on the horizon.
Results go to ``benchmarks/optimizers.json``; ``benchmarks/OPTIMIZERS.md`` discusses them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402
from flatminima.numerics.builtins import styblinski_tang  # noqa: E402
from flatminima.numerics.kernels import fixed_noise_escape  # noqa: E402

HERE = Path(__file__).resolve().parent
D = 10
ETA, TEMPERATURE = 0.01, 1.0
ROUNDS = 3
RULES = {
    "sgd": {},
    "heavy_ball": {"optimizer": "momentum", "optimizer_params": {"momentum": 0.9, "nesterov": False}},
    "nesterov": {"optimizer": "momentum", "optimizer_params": {"momentum": 0.9, "nesterov": True}},
    "adam": {"optimizer": "adam", "optimizer_params": {"momentum": 0.9, "beta2": 0.999, "epsilon": 1e-8}},
}
CASES = {
    "1 thread": {"n_runs": 1000, "max_steps": 5000, "workers": 1, "clock": "cpu"},
    "all cores": {"n_runs": 1000, "max_steps": 5000, "workers": os.cpu_count() or 1, "clock": "wall"},
    "long horizon": {"n_runs": 100, "max_steps": 50_000, "workers": 1, "clock": "cpu"},
}


def _call(case: dict, rule: dict):
    st = styblinski_tang(D)
    kw = dict(eta=ETA, temperature=TEMPERATURE, criterion="radius", radius=100.0, seed=1,
              n_runs=case["n_runs"], max_steps=case["max_steps"], workers=case["workers"], **rule)
    return lambda: fixed_noise_escape(st, st.minima[0], **kw)


def run(rounds: int = ROUNDS) -> dict:
    """Per case and rule: particle-steps/s of every round, and each rule's ratio to SGD of the same round."""
    st = styblinski_tang(D)
    for rule in RULES.values():                       # compile / load the caches
        fixed_noise_escape(st, st.minima[0], eta=ETA, temperature=TEMPERATURE, criterion="radius", radius=100.0,
                           seed=1, n_runs=8, max_steps=10, **rule)
    out = {"machine": machine(), "nproc": os.cpu_count(), "rounds": rounds, "landscape": f"styblinski_tang d={D}",
           "start": "global minimum (-2.903534 per coordinate)", "eta": ETA, "temperature": TEMPERATURE,
           "criterion": "radius 100 (never met)", "rules": RULES, "cases": {}}
    for name, case in CASES.items():
        calls = {rule: _call(case, kw) for rule, kw in RULES.items()}
        rates = {clock: {rule: [] for rule in RULES} for clock in ("cpu", "wall")}
        busy = {rule: [] for rule in RULES}       # CPU seconds per wall second: the threads that actually ran
        outcome = {}
        for _ in range(rounds):
            for rule, fn in calls.items():            # the rules take turns within the round
                w, c = time.perf_counter(), time.process_time()
                res = fn()
                cpu, wall = time.process_time() - c, time.perf_counter() - w
                steps = int(res.steps.sum())
                rates["cpu"][rule].append(steps / cpu)
                rates["wall"][rule].append(steps / wall)
                busy[rule].append(cpu / wall)
                outcome[rule] = {"particle_steps": steps, "escaped": int(res.escaped.sum()),
                                 "diverged": int(res.diverged.sum()),
                                 "censored": int(np.sum(~res.escaped & ~res.diverged))}
        entry = {**case, "rates": {}, "ratio_to_sgd": {}, "other_clock": {}}
        for clock in ("cpu", "wall"):
            rt, ratio = {}, {}
            for rule in RULES:
                r = np.array(rates[clock][rule])
                rt[rule] = {"per_round": r.tolist(), "max": float(r.max()), "median": float(np.median(r))}
                q = r / np.array(rates[clock]["sgd"])
                ratio[rule] = {"per_round": q.tolist(), "min": float(q.min()), "median": float(np.median(q)),
                               "max": float(q.max()), "of_best_rates": float(r.max() / max(rates[clock]["sgd"]))}
            if clock == case["clock"]:
                entry["rates"], entry["ratio_to_sgd"] = rt, ratio
            else:
                entry["other_clock"] = {"clock": clock, "rates": rt, "ratio_to_sgd": ratio}
        for rule in RULES:
            entry["rates"][rule].update(cpu_per_wall=busy[rule], **outcome[rule])
        out["cases"][name] = entry
    out["machine"]["load_avg_1min_end"] = machine()["load_avg_1min"]
    return out


def table(res: dict) -> str:
    """The markdown table of OPTIMIZERS.md: rates (best round) and ratios to SGD (median [min, max]), on the
    case's clock, and the ratios on the other clock."""
    lines = ["| case (clock) | rule | particle-steps/s (best) | ratio to SGD, median [min, max] over rounds "
             "| same, other clock | CPU s per wall s |", "|---|---|---|---|---|---|"]
    for name, c in res["cases"].items():
        o = c["other_clock"]
        for rule in RULES:
            q, p = c["ratio_to_sgd"][rule], o["ratio_to_sgd"][rule]
            busy = c["rates"][rule]["cpu_per_wall"]
            lines.append(f"| {name} ({c['clock']}) | {rule} | {c['rates'][rule]['max'] / 1e6:.1f} M | "
                         f"{q['median']:.2f} [{q['min']:.2f}, {q['max']:.2f}] | {o['clock']}: {p['median']:.2f} "
                         f"[{p['min']:.2f}, {p['max']:.2f}] | {min(busy):.2f}–{max(busy):.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--out", default=str(HERE / "optimizers.json"))
    args = ap.parse_args()
    result = run(args.rounds)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(table(result))
