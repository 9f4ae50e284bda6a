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

PNM and Adai (``--part pnm_adai``, key ``pnm_adai`` of the JSON; the other keys are kept): the same three cases with
SGD, PNM (β₁ = 0.9, β₀ = 1) and Adai (β₀ = 0.1, β₂ = 0.99, ε = 1e-3), which run in the scalar loop
``loops.escape_nd_opt`` (one particle at a time) where SGD runs four lanes; and ``double well``: the optimizers
suite's run (validation/suites/optimizers.py at B = 4: the 1-D double well from −1, two-region noise λ = 50,
the plane at +1, η = 0.01, PNM η = √5·0.01, 400 particles, 21 155 steps, about 1/3 censored) through
``simulate_options`` on the compiled path and on the numpy path (``backend="numpy"``), process CPU time, 1 thread.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402
from flatminima.numerics import build_landscape  # noqa: E402
from flatminima.numerics.builtins import styblinski_tang  # noqa: E402
from flatminima.numerics.kernels import fixed_noise_escape  # noqa: E402
from flatminima.numerics.simulate import simulate_options  # noqa: E402

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
PNM_ADAI_RULES = {
    "sgd": {},
    "pnm": {"optimizer": "pnm", "optimizer_params": {"momentum": 0.9, "pnm_beta0": 1.0}},
    "adai": {"optimizer": "adai", "optimizer_params": {"adai_beta0": 0.1, "beta2": 0.99, "epsilon": 1e-3}},
}
RULES_PARAMS = {rule: dict(kw.get("optimizer_params", {})) for rule, kw in PNM_ADAI_RULES.items()}
DW_RUN = {"noise": "hessian_two_region", "loss_unit": 50.0, "batch_size": 4, "criterion": "dividing_surface",
          "plane_offset": 1.0, "bridge": False, "n_runs": 400, "max_steps": 21_155, "seed": 1}
"""The optimizers suite's B = 4 point (its max_steps: 3 predicted mean escape times)."""
DW_ETA = {"sgd": 0.01, "pnm": 0.01 * 5 ** 0.5, "adai": 0.01}
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


def run(rounds: int = ROUNDS, rules: dict = RULES) -> dict:
    """Per case and rule: particle-steps/s of every round, and each rule's ratio to SGD of the same round."""
    st = styblinski_tang(D)
    for rule in rules.values():                       # compile / load the caches
        fixed_noise_escape(st, st.minima[0], eta=ETA, temperature=TEMPERATURE, criterion="radius", radius=100.0,
                           seed=1, n_runs=8, max_steps=10, **rule)
    out = {"machine": machine(), "nproc": os.cpu_count(), "rounds": rounds, "landscape": f"styblinski_tang d={D}",
           "start": "global minimum (-2.903534 per coordinate)", "eta": ETA, "temperature": TEMPERATURE,
           "criterion": "radius 100 (never met)", "rules": rules, "cases": {}}
    for name, case in CASES.items():
        calls = {rule: _call(case, kw) for rule, kw in rules.items()}
        rates = {clock: {rule: [] for rule in rules} for clock in ("cpu", "wall")}
        busy = {rule: [] for rule in rules}       # CPU seconds per wall second: the threads that actually ran
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
            for rule in rules:
                r = np.array(rates[clock][rule])
                rt[rule] = {"per_round": r.tolist(), "max": float(r.max()), "median": float(np.median(r))}
                q = r / np.array(rates[clock]["sgd"])
                ratio[rule] = {"per_round": q.tolist(), "min": float(q.min()), "median": float(np.median(q)),
                               "max": float(q.max()), "of_best_rates": float(r.max() / max(rates[clock]["sgd"]))}
            if clock == case["clock"]:
                entry["rates"], entry["ratio_to_sgd"] = rt, ratio
            else:
                entry["other_clock"] = {"clock": clock, "rates": rt, "ratio_to_sgd": ratio}
        for rule in rules:
            entry["rates"][rule].update(cpu_per_wall=busy[rule], **outcome[rule])
        out["cases"][name] = entry
    out["machine"]["load_avg_1min_end"] = machine()["load_avg_1min"]
    return out


def run_double_well(rounds: int = ROUNDS) -> dict:
    """The optimizers suite's double-well run of SGD, PNM and Adai on the compiled and the numpy path: particle-steps
    per CPU second of every round (the six runs take turns), compiled over numpy, and each rule over SGD."""
    land = build_landscape("double-well")
    runs = {(rule, backend): dict(DW_RUN, eta=DW_ETA[rule], dynamics=rule,
                                  **RULES_PARAMS[rule], backend=backend)
            for rule in PNM_ADAI_RULES for backend in ("auto", "numpy")}
    with warnings.catch_warnings():                   # compile / load the caches (no escape expected: a warning)
        warnings.simplefilter("ignore")
        for kw in runs.values():
            simulate_options(land, [-1.0], **{**kw, "n_runs": 4, "max_steps": 10})
    rates = {k: [] for k in runs}
    outcome = {}
    for _ in range(rounds):
        for key, kw in runs.items():
            c = time.process_time()
            res = simulate_options(land, [-1.0], **kw)
            cpu = time.process_time() - c
            steps = int(res.steps.sum())
            rates[key].append(steps / cpu)
            outcome[key] = {"backend": res.backend, "particle_steps": steps, "escaped": int(res.escaped.sum()),
                            "diverged": int(res.diverged.sum()), "cpu_seconds_last": cpu}
    out = {"run": {**DW_RUN, "eta": DW_ETA, "landscape": "double-well", "start": -1.0}, "clock": "cpu",
           "rates": {}, "compiled_over_numpy": {}, "ratio_to_sgd": {}}
    for rule in PNM_ADAI_RULES:
        for backend in ("auto", "numpy"):
            r = np.array(rates[(rule, backend)])
            out["rates"][f"{rule}/{outcome[(rule, backend)]['backend']}"] = {
                "per_round": r.tolist(), "max": float(r.max()), "median": float(np.median(r)),
                **outcome[(rule, backend)]}
        q = np.array(rates[(rule, "auto")]) / np.array(rates[(rule, "numpy")])
        out["compiled_over_numpy"][rule] = {"per_round": q.tolist(), "min": float(q.min()),
                                            "median": float(np.median(q)), "max": float(q.max())}
        q = np.array(rates[(rule, "auto")]) / np.array(rates[("sgd", "auto")])
        out["ratio_to_sgd"][rule] = {"per_round": q.tolist(), "min": float(q.min()), "median": float(np.median(q)),
                                     "max": float(q.max())}
    return out


def run_pnm_adai(rounds: int = ROUNDS) -> dict:
    """The ``pnm_adai`` key: the Styblinski–Tang cases with SGD, PNM and Adai, and the double-well run."""
    out = run(rounds, PNM_ADAI_RULES)
    out["double well"] = run_double_well(rounds)
    out["machine"]["load_avg_1min_end"] = machine()["load_avg_1min"]
    return out


def table(res: dict) -> str:
    """The markdown table of OPTIMIZERS.md: rates (best round) and ratios to SGD (median [min, max]), on the
    case's clock, and the ratios on the other clock."""
    lines = ["| case (clock) | rule | particle-steps/s (best) | ratio to SGD, median [min, max] over rounds "
             "| same, other clock | CPU s per wall s |", "|---|---|---|---|---|---|"]
    for name, c in res["cases"].items():
        o = c["other_clock"]
        for rule in res["rules"]:
            q, p = c["ratio_to_sgd"][rule], o["ratio_to_sgd"][rule]
            busy = c["rates"][rule]["cpu_per_wall"]
            lines.append(f"| {name} ({c['clock']}) | {rule} | {c['rates'][rule]['max'] / 1e6:.1f} M | "
                         f"{q['median']:.2f} [{q['min']:.2f}, {q['max']:.2f}] | {o['clock']}: {p['median']:.2f} "
                         f"[{p['min']:.2f}, {p['max']:.2f}] | {min(busy):.2f}–{max(busy):.2f} |")
    return "\n".join(lines)


def table_double_well(dw: dict) -> str:
    """The double-well table of OPTIMIZERS.md: particle-steps per CPU second on each path, and the ratios."""
    lines = ["| rule | compiled (best) | numpy path (best) | compiled / numpy, median [min, max] | ratio to SGD "
             "(compiled) |", "|---|---|---|---|---|"]
    for rule in PNM_ADAI_RULES:
        a, b = dw["rates"][f"{rule}/numba"], dw["rates"][f"{rule}/numpy"]
        q, s = dw["compiled_over_numpy"][rule], dw["ratio_to_sgd"][rule]
        lines.append(f"| {rule} | {a['max'] / 1e6:.1f} M | {b['max'] / 1e6:.2f} M | {q['median']:.1f} "
                     f"[{q['min']:.1f}, {q['max']:.1f}] | {s['median']:.2f} [{s['min']:.2f}, {s['max']:.2f}] |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--out", default=str(HERE / "optimizers.json"))
    ap.add_argument("--part", choices=("all", "main", "pnm_adai"), default="all",
                    help="main: SGD, momentum and Adam (the JSON's top level); pnm_adai: SGD, PNM and Adai (its "
                         "'pnm_adai' key); a part run alone keeps the other part's results in --out")
    args = ap.parse_args()
    out = Path(args.out)
    result = json.loads(out.read_text()) if args.part != "all" and out.exists() else {}
    if args.part in ("all", "main"):
        result = {**run(args.rounds), **({"pnm_adai": result["pnm_adai"]} if "pnm_adai" in result else {})}
        print(table(result))
    if args.part in ("all", "pnm_adai"):
        result["pnm_adai"] = run_pnm_adai(args.rounds)
        print(table(result["pnm_adai"]))
        print(table_double_well(result["pnm_adai"]["double well"]))
    out.write_text(json.dumps(result, indent=1) + "\n")
