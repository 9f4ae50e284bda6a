"""Adaptive multilevel splitting (``numerics.simulate.ams.ams_escape``): cost against brute force, absolute
time, agreement with brute force and with the exact chain, and the coverage of its 95% intervals.

Run by hand: ``.venv/bin/python benchmarks/bench_ams.py`` (all four parts, about 10–15 min on 2 cores), or
``--part cost|st10|brute|coverage`` for one part (the others already in ``benchmarks/ams.json`` are kept).

* ``cost``: a ±10% (95%) rate at 1e-10 per unit SDE time on the 1-D double well (white noise, η = 0.01,
  absorbed at the saddle 0, no bridge). AMS runs with ``target_log_ci = log 1.1``; in the same run the
  compiled brute-force kernel ``fixed_noise_escape`` is timed on the same chain (a higher temperature, where
  escapes happen, and the target temperature itself, pure stepping), its calls taking turns before and after
  the AMS run. Brute force needs n = (1.96/log 1.1)² ≈ 423 escapes for the same precision, i.e.
  n/(γ·η) particle steps; their projected time at the best measured throughput, divided by the AMS wall time,
  is the speed-up (target ≥ 1e4). The exact chain rate (``numerics.reference.chain1d.chain_mfpt_1d``) must lie
  in the AMS interval.
* ``st10``: absolute AMS time for the same precision on Styblinski–Tang 10-D, SGD two-region noise
  (η = 0.002, λ = 1080, B = 14, exact rate ≈ 1.8e-10), plane at the next minimum, plus a short cProfile of
  where the time goes. ST is separable and the two-region noise of the escape coordinate depends on that
  coordinate only, so the escape time of the 10-D chain is that of the 1-D chain on the escape coordinate:
  ``chain_mfpt_1d`` gives the exact rate here too.
* ``brute``: at 1e-6 (η = 0.05) brute force can be run: the kernel's Garwood 95% interval
  (``validation.estimators.estimate_rate``, exposure fixed in advance for ~300 expected escapes), the AMS
  interval (default settings) and the exact chain rate.
* ``coverage``: 100 AMS runs (seeds 0..99) at 1e-6 (η = 0.01), default settings if the first run says the
  whole fits the budget, else n_replicas = 50, n_ams_runs = 10: the fraction of 95% intervals that hold the
  exact rate (target ≥ 0.90), its Clopper–Pearson interval, and the spread of log γ̂ against the stated errors.

Speed is always a ratio to a baseline timed in the same run; the absolute times of part 2 are wall-clock
figures on whatever the shared 2-CPU machine gave at that moment (load averages are recorded).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, timed_rounds  # noqa: E402
from flatminima.numerics.builtins import double_well  # noqa: E402
from flatminima.numerics.kernels import fixed_noise_escape  # noqa: E402
from flatminima.numerics.names import build_landscape  # noqa: E402
from flatminima.numerics.reference.chain1d import chain_mfpt_1d  # noqa: E402
from flatminima.numerics.simulate import escape_parts  # noqa: E402
from flatminima.numerics.simulate.ams import ams_escape  # noqa: E402
from flatminima.validation.estimators import estimate_rate  # noqa: E402

OUT = Path(__file__).resolve().parent / "ams.json"
PARTS = ("cost", "st10", "brute", "coverage")
Z95 = 1.959963984540054
TARGET_LOG_CI = math.log(1.1)
N_ESCAPES_10PCT = (Z95 / TARGET_LOG_CI) ** 2           # ≈ 423: escapes for a ±10% (95%) Poisson interval
SPEEDUP_TARGET = 1e4
DW_SECONDS_TARGET = 300.0
ST_SECONDS_TARGET = 600.0
COVERAGE_TARGET = 0.90
COVERAGE_BUDGET_S = 600.0                # default AMS settings for the coverage part if projected below this
NOISE_NOTE = ("shared 2-CPU virtual machine; another helper ran a test suite on the same 2 cores during this "
              "run, so wall times are noisy (load averages at the start and end of each part are recorded). "
              "Ratios compare calls timed in the same run; brute-force throughput is the best of rounds taken "
              "before and after the AMS run.")

DW = double_well()
ST_LO, ST_MID, ST_HI = (float(v) for v in np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real))
ST_ETA, ST_LAMBDA, ST_B = 0.002, 1080.0, 14


# ---------------------------------------------------------------------- settings and exact references
def dw_temperature(target: float) -> float:
    """D giving a rate near ``target`` on the double well: ΔL/log(0.45/γ) (0.45 ≈ the chain's prefactor)."""
    return 0.25 / math.log(0.45 / target)


def _dw_grad(x):
    x = np.atleast_1d(np.asarray(x, float))
    return np.asarray(DW.grads(x[:, None]))[:, 0]


def dw_exact(D: float, eta: float):
    """Exact rate per unit SDE time of the double-well chain from −1 to the first x ≥ 0 (white noise)."""
    r = chain_mfpt_1d(_dw_grad, lambda x: math.sqrt(2 * D * eta) + 0 * x, eta=eta, start=-1.0, absorbing=0.0,
                      left=-2.0)
    return {"rate": 1.0 / r.escape_time, "relative_error": r.relative_error, "mean_exit_steps": r.steps}


def dw_parts(D: float, eta: float) -> dict:
    return escape_parts(noise="white", temperature=D, eta=eta, criterion="dividing_surface", bridge=False,
                        minimum=[-1.0], saddle=[[0.0]], escape_direction=[[1.0]])


def dw_kernel(D, eta, n_runs, max_steps, seed, workers, particle_offset=0):
    return fixed_noise_escape(DW, [-1.0], eta=eta, temperature=D, n_runs=n_runs, max_steps=max_steps, seed=seed,
                              criterion="dividing_surface", point=[0.0], normal=[1.0], bridge=False,
                              workers=workers, particle_offset=particle_offset)


def st_geometry(dim: int):
    a = np.full(dim, ST_LO)
    s = a.copy()
    s[0] = ST_MID
    e = np.zeros(dim)
    e[0] = 1.0
    return a, s, e


def st_parts(dim: int, B: int) -> dict:
    a, s, e = st_geometry(dim)
    return escape_parts(noise="hessian_two_region", eta=ST_ETA, batch_size=B, loss_unit=ST_LAMBDA,
                        criterion="dividing_surface", plane_offset=ST_HI - ST_MID, bridge=False,
                        minimum=a.tolist(), saddle=[s.tolist()], escape_direction=[e.tolist()])


def st_exact(B: int):
    """Exact rate of the ST chain on the escape coordinate: σ = η√(λ/B)·√H_a before the inflection point,
    η√(λ/B)·√|H_b| from it on; exit at the first x ≥ the next minimum."""
    st1 = build_landscape("styblinski-tang:dim=1")

    def grad(x):
        x = np.atleast_1d(np.asarray(x, float))
        return np.asarray(st1.grads(x[:, None]))[:, 0]
    h = lambda x: 6.0 * x * x - 16.0                                          # noqa: E731
    split = -math.sqrt(16.0 / 6.0)
    c = ST_ETA * math.sqrt(ST_LAMBDA / B)
    sa, sb = c * math.sqrt(h(ST_LO)), c * math.sqrt(abs(h(ST_MID)))
    r = chain_mfpt_1d(grad, lambda x: np.where(np.asarray(x) < split, sa, sb), eta=ST_ETA, start=ST_LO,
                      absorbing=ST_HI, left=-5.0)
    return {"rate": 1.0 / r.escape_time, "relative_error": r.relative_error, "mean_exit_steps": r.steps,
            "split": split, "sigma_before_split": sa, "sigma_after_split": sb}


def ams_summary(res, exact_rate: float | None = None, wall: float | None = None, cpu: float | None = None) -> dict:
    lo, hi = res.rate_ci
    out = {"rate": res.rate, "rate_ci": [lo, hi], "ci_half_width_log": 0.5 * math.log(hi / lo) if lo > 0 else None,
           "log_rate_stderr": res.log_rate_stderr, "probability": res.probability,
           "probability_stderr": res.probability_stderr, "n_ams_runs": res.n_ams_runs, "n_replicas": res.n_replicas,
           "kill_count": res.kill_count, "n_loops": res.n_loops, "loop_steps": res.loop_steps,
           "loop_rate_relative_stderr": res.loop_steps_stderr / res.loop_steps,
           "steps_to_sigma": res.steps_to_sigma, "steps_sigma_to_b": res.steps_sigma_to_b,
           "levels": [res.level_a, res.level_sigma],
           "relative_variance_over_ideal": res.relative_variance / res.ideal_relative_variance,
           "mean_iterations": float(np.mean(res.iterations)), "n_stalled": res.n_stalled, "n_extinct": res.n_extinct,
           "n_diverged": res.n_diverged, "n_unfinished": res.n_unfinished, "particle_steps": res.particle_steps,
           "wall_seconds": res.wall_seconds if wall is None else wall, "seed": res.seed, "notes": list(res.notes)}
    if cpu is not None:
        out["cpu_seconds"] = cpu
    if exact_rate is not None:
        out["covers_exact"] = bool(lo <= exact_rate <= hi)
        out["rate_over_exact"] = res.rate / exact_rate
    return out


def timed_ams(*args, **kw):
    w, c = time.perf_counter(), time.process_time()
    res = ams_escape(*args, **kw)
    return res, time.perf_counter() - w, time.process_time() - c


def _throughput(t: dict) -> dict:
    steps = int(np.asarray(t["result"].steps).sum())
    return {"particle_steps": steps, "wall_s": t["wall"], "cpu_s": t["cpu"], "wall_median_s": t["wall_median"],
            "per_s_wall": steps / t["wall"], "per_s_cpu": steps / t["cpu"], "per_s_wall_median": steps / t["wall_median"]}


def _merge_rounds(before: dict, after: dict) -> dict:
    """Best of the rounds before and after (steps are identical: same seeds)."""
    out = {}
    for k in before:
        b, a = before[k], after[k]
        out[k] = {"result": a["result"], "wall": min(b["wall"], a["wall"]), "cpu": min(b["cpu"], a["cpu"]),
                  "wall_median": float(np.median([b["wall_median"], a["wall_median"]]))}
    return out


# ---------------------------------------------------------------------- part 1: cost of ±10% at 1e-10
def part_cost(rounds: int = 3, seed: int = 1) -> dict:
    start_machine = machine()
    eta, target = 0.01, 1e-10
    D = dw_temperature(target)
    exact = dw_exact(D, eta)
    D_hot = 0.0625                                   # escapes in ~1.4e4 steps (the kramers benchmark's setting)
    cases = {
        "hot_w1": dict(D=D_hot, eta=eta, n_runs=4000, max_steps=10**6, seed=7, workers=1),
        "hot_w2": dict(D=D_hot, eta=eta, n_runs=4000, max_steps=10**6, seed=7, workers=2),
        "target_T_w2": dict(D=D, eta=eta, n_runs=4000, max_steps=40_000, seed=8, workers=2),
    }
    fns = {k: (lambda kw=kw: dw_kernel(**kw)) for k, kw in cases.items()}
    dw_kernel(D, eta, 8, 10, 0, 1)                   # compile / load the caches
    dw_kernel(D, eta, 8, 10, 0, 2)
    before = timed_rounds(fns, rounds)
    res, wall, cpu = timed_ams(DW, [-1.0], **dw_parts(D, eta), seed=seed, target_log_ci=TARGET_LOG_CI)
    after = timed_rounds(fns, rounds)
    merged = _merge_rounds(before, after)
    brute = {k: {**_throughput(merged[k]), "settings": {kk: v for kk, v in cases[k].items()},
                 "escaped": int(np.asarray(merged[k]["result"].escaped).sum())} for k in cases}
    best_wall = max(b["per_s_wall"] for b in brute.values())
    best_core = max(b["per_s_cpu"] for b in brute.values())
    steps_needed = N_ESCAPES_10PCT / (exact["rate"] * eta)
    proj_s = steps_needed / best_wall
    ams = ams_summary(res, exact["rate"], wall, cpu)
    out = {
        "settings": {"landscape": DW.name, "noise": "white", "temperature": D, "eta": eta, "target_rate": target,
                     "criterion": "dividing_surface at the saddle 0, no bridge", "start": -1.0,
                     "target_log_ci": TARGET_LOG_CI, "ams_seed": seed, "ams_defaults": "n_replicas 100, "
                     "n_ams_runs 20 per batch, kill 10, n_walkers 200, levels = 50/90% equilibrium quantiles",
                     "timing_rounds_before_and_after": rounds},
        "exact": exact,
        "ams": ams,
        "brute_force_kernel": brute,
        "projection": {
            "escapes_needed": N_ESCAPES_10PCT, "particle_steps_needed": steps_needed,
            "best_throughput_wall_per_s": best_wall, "best_throughput_cpu_per_core_per_s": best_core,
            "brute_force_seconds_wall": proj_s, "brute_force_seconds_one_core": steps_needed / best_core,
            "speedup_wall": proj_s / wall, "speedup_cpu": (steps_needed / best_core) / cpu,
            "particle_step_ratio": steps_needed / res.particle_steps,
            "ams_ns_per_particle_step_wall": wall / res.particle_steps * 1e9,
            "kernel_ns_per_particle_step_one_core": 1e9 / best_core,
            "target": SPEEDUP_TARGET, "met": bool(proj_s / wall >= SPEEDUP_TARGET)},
        "absolute_time": {"ams_wall_seconds": wall, "target_s": DW_SECONDS_TARGET,
                          "met": bool(wall < DW_SECONDS_TARGET)},
        "machine_start": start_machine, "load_avg_1min_end": os.getloadavg()[0],
    }
    return out


# ---------------------------------------------------------------------- part 2: ST-10D absolute time
def part_st10(seed: int = 1, rounds: int = 3, profile: bool = True) -> dict:
    start_machine = machine()
    dim, B = 10, ST_B
    land = build_landscape(f"styblinski-tang:dim={dim}")
    exact = st_exact(B)
    a, s, e = st_geometry(dim)
    parts = st_parts(dim, B)
    # brute-force kernel on the same 10-D chain: two-region S = η√(λ/B)·√H (H diagonal), plane at the next minimum
    c = ST_ETA * math.sqrt(ST_LAMBDA / B)
    ha = np.diag(land.hessian(a))
    hb = np.abs(np.diag(land.hessian(s)))
    split = a.copy()
    split[0] = exact["split"]
    plane = s + (ST_HI - ST_MID) * e

    def kernel(workers, n_runs=1000, max_steps=5000):
        return fixed_noise_escape(land, a, eta=ST_ETA, noise_matrix=np.diag(c * np.sqrt(ha)), n_runs=n_runs,
                                  max_steps=max_steps, seed=3, criterion="dividing_surface", point=plane,
                                  normal=e, noise_matrix_after=np.diag(c * np.sqrt(hb)), split_point=split,
                                  split_normal=e, workers=workers)
    kernel(1, 8, 10)
    kernel(2, 8, 10)
    # the separability claim, checked where brute force is cheap: B = 4 (rate ≈ 5e-3), 2000 particles
    B4 = 4
    c4 = ST_ETA * math.sqrt(ST_LAMBDA / B4)
    sim4 = fixed_noise_escape(land, a, eta=ST_ETA, noise_matrix=np.diag(c4 * np.sqrt(ha)), n_runs=2000,
                              max_steps=2_000_000, seed=5, criterion="dividing_surface", point=plane, normal=e,
                              noise_matrix_after=np.diag(c4 * np.sqrt(hb)), split_point=split, split_normal=e,
                              workers=2)
    st4 = np.asarray(sim4.steps, float)
    ex4 = st_exact(B4)
    check4 = {"batch_size": B4, "n_runs": 2000, "all_escaped": bool(np.all(sim4.escaped)),
              "mean_exit_steps_10d_kernel": float(st4.mean()),
              "stderr": float(st4.std(ddof=1) / math.sqrt(st4.size)),
              "mean_exit_steps_exact_1d_chain": ex4["mean_exit_steps"],
              "z": float((st4.mean() - ex4["mean_exit_steps"]) / (st4.std(ddof=1) / math.sqrt(st4.size)))}
    fns = {"w1": lambda: kernel(1), "w2": lambda: kernel(2)}
    before = timed_rounds(fns, rounds)
    res, wall, cpu = timed_ams(land, a, **parts, seed=seed, target_log_ci=TARGET_LOG_CI)
    after = timed_rounds(fns, rounds)
    merged = _merge_rounds(before, after)
    brute = {k: {**_throughput(merged[k]), "escaped": int(np.asarray(merged[k]["result"].escaped).sum()),
                 "settings": "1000 particles × 5000 steps, two-region diagonal S, plane at the next minimum, "
                             f"workers={k[1]}"} for k in fns}
    best_wall = max(b["per_s_wall"] for b in brute.values())
    steps_needed = N_ESCAPES_10PCT / (exact["rate"] * ST_ETA)
    out = {
        "settings": {"landscape": land.name, "noise": "hessian_two_region", "eta": ST_ETA, "batch_size": B,
                     "loss_unit": ST_LAMBDA, "minimum": a.tolist(), "saddle": s.tolist(), "escape_direction": e.tolist(),
                     "criterion": f"dividing_surface, plane_offset = {ST_HI - ST_MID:.6f} (next minimum), no bridge",
                     "predicted_exponent_1.752B": 1.752 * B, "target_log_ci": TARGET_LOG_CI, "ams_seed": seed,
                     "why_B": "B = 14 gives the exact rate closest to 1e-10 among integers (B = 13: 1.0e-9, "
                              "B = 15: ~3e-11)"},
        "exact_1d_chain": exact,
        "separability_check": check4,
        "ams": ams_summary(res, exact["rate"], wall, cpu),
        "absolute_time": {"ams_wall_seconds": wall, "target_s": ST_SECONDS_TARGET, "met": bool(wall < ST_SECONDS_TARGET)},
        "brute_force_kernel": brute,
        "projection": {"particle_steps_needed": steps_needed, "brute_force_seconds_wall": steps_needed / best_wall,
                       "speedup_wall": steps_needed / best_wall / wall,
                       "ams_ns_per_particle_step_wall": wall / res.particle_steps * 1e9},
        "machine_start": start_machine,
    }
    if profile:
        pr = cProfile.Profile()
        t0 = time.perf_counter()
        pr.enable()
        prof_res = ams_escape(land, a, **parts, seed=seed + 1)
        pr.disable()
        prof_wall = time.perf_counter() - t0
        st = pstats.Stats(pr, stream=io.StringIO())
        total = st.total_tt
        rows = []
        for (fname, line, func), (cc, nc, tt, ct, _) in st.stats.items():
            rows.append({"function": f"{Path(fname).name}:{line}({func})", "calls": nc, "tottime_s": tt,
                         "cumtime_s": ct})
        top_tot = sorted(rows, key=lambda r: -r["tottime_s"])[:10]
        top_cum = [r for r in sorted(rows, key=lambda r: -r["cumtime_s"])
                   if any(k in r["function"] for k in ("ams.py", "noise.py", "landscape.py", "criteria.py",
                                                       "reference.py"))][:10]
        out["profile"] = {"run": "default settings (20 AMS runs × 100 replicas), seed "
                                 f"{seed + 1}, under cProfile", "wall_seconds_profiled": prof_wall,
                          "profiled_total_s": total, "particle_steps": prof_res.particle_steps,
                          "top_by_self_time": top_tot, "top_by_cumulative_time_project_code": top_cum}
    out["load_avg_1min_end"] = os.getloadavg()[0]
    return out


# ---------------------------------------------------------------------- part 3: against brute force at 1e-6
def part_brute(seed: int = 11, ams_seed: int = 1, expected_escapes: float = 300.0, n_runs: int = 20_000) -> dict:
    start_machine = machine()
    eta, target = 0.05, 1e-6
    D = dw_temperature(target)
    exact = dw_exact(D, eta)
    # exposure fixed in advance (Garwood's interval assumes it): ~expected_escapes at the exact rate
    max_steps = int(math.ceil(expected_escapes / (exact["rate"] * eta * n_runs)))
    dw_kernel(D, eta, 8, 10, 0, 2)
    w = time.perf_counter()
    sim = dw_kernel(D, eta, n_runs, max_steps, seed, 2)
    bw = time.perf_counter() - w
    est = estimate_rate(sim.steps, sim.escaped, eta=eta, diverged=sim.diverged)
    res, wall, cpu = timed_ams(DW, [-1.0], **dw_parts(D, eta), seed=ams_seed)
    ams = ams_summary(res, exact["rate"], wall, cpu)
    blo, bhi = est.rate_ci
    alo, ahi = res.rate_ci
    return {
        "settings": {"landscape": DW.name, "noise": "white", "temperature": D, "eta": eta, "target_rate": target,
                     "criterion": "dividing_surface at 0, no bridge", "brute_force_seed": seed,
                     "brute_force_n_runs": n_runs, "brute_force_max_steps": max_steps, "workers": 2,
                     "expected_escapes": expected_escapes, "ams_seed": ams_seed, "ams_settings": "defaults"},
        "exact": exact,
        "brute_force": {"rate": est.rate, "rate_ci": [blo, bhi], "n_escaped": est.n_escaped,
                        "n_diverged": est.n_diverged, "exposure_sde_time": est.exposure,
                        "particle_steps": int(np.asarray(sim.steps).sum()), "wall_seconds": bw,
                        "covers_exact": bool(blo <= exact["rate"] <= bhi), "method": est.method},
        "ams": ams,
        "cis_overlap": bool(max(blo, alo) <= min(bhi, ahi)),
        "both_cover_exact": bool(blo <= exact["rate"] <= bhi and alo <= exact["rate"] <= ahi),
        "machine_start": start_machine, "load_avg_1min_end": os.getloadavg()[0],
    }


# ---------------------------------------------------------------------- part 4: coverage
_COV = {}


def _cov_one(args):
    seed, D, eta, kw = args
    if "parts" not in _COV:
        _COV["parts"] = dw_parts(D, eta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res, wall, cpu = timed_ams(DW, [-1.0], **_COV["parts"], seed=seed, **kw)
    return {"seed": seed, "rate": res.rate, "rate_ci": list(res.rate_ci), "log_rate_stderr": res.log_rate_stderr,
            "probability": res.probability, "loop_rate_relative_stderr": res.loop_steps_stderr / res.loop_steps,
            "n_stalled": res.n_stalled, "n_extinct": res.n_extinct, "particle_steps": res.particle_steps,
            "wall_seconds": wall, "cpu_seconds": cpu}


def part_coverage(n: int = 100, jobs: int = 2, settings: str = "auto", budget: float = COVERAGE_BUDGET_S) -> dict:
    start_machine = machine()
    eta, target = 0.01, 1e-6
    D = dw_temperature(target)
    exact = dw_exact(D, eta)
    small = {"n_replicas": 50, "n_ams_runs": 10}
    first = _cov_one((0, D, eta, {}))                      # seed 0 with the defaults: the cost of one
    projected = first["wall_seconds"] * n / max(1, jobs)
    use_default = settings == "default" or (settings == "auto" and projected <= budget)
    kw = {} if use_default else small
    t0 = time.perf_counter()
    rest = [(s, D, eta, kw) for s in range(0 if not use_default else 1, n)]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as ex:
            runs = list(ex.map(_cov_one, rest, chunksize=1))
    else:
        runs = [_cov_one(a) for a in rest]
    if use_default:
        runs = [first] + runs
    wall = time.perf_counter() - t0
    g = exact["rate"]
    cover = np.array([r["rate_ci"][0] <= g <= r["rate_ci"][1] for r in runs])
    above = np.array([r["rate_ci"][0] > g for r in runs])
    below = np.array([r["rate_ci"][1] < g for r in runs])
    logs = np.log([r["rate"] / g for r in runs if r["rate"] > 0])
    k = int(cover.sum())
    cp = (stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0,
          stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0)
    return {
        "settings": {"landscape": DW.name, "noise": "white", "temperature": D, "eta": eta, "target_rate": target,
                     "criterion": "dividing_surface at 0, no bridge", "seeds": f"0..{n - 1}",
                     "ams_settings": "defaults (n_replicas 100, n_ams_runs 20)" if use_default else small,
                     "choice": (f"first run {first['wall_seconds']:.1f} s → projected {projected:.0f} s with {jobs} "
                                f"processes; budget {budget:.0f} s; settings={settings}"),
                     "processes": jobs},
        "exact": exact,
        "coverage": k / n, "coverage_clopper_pearson_95": [float(cp[0]), float(cp[1])],
        "n_ci_above_exact": int(above.sum()), "n_ci_below_exact": int(below.sum()),
        "target": COVERAGE_TARGET, "met": bool(k / n >= COVERAGE_TARGET),
        "mean_log_rate_over_exact": float(logs.mean()), "mean_log_rate_over_exact_stderr":
            float(logs.std(ddof=1) / math.sqrt(logs.size)),
        "sd_log_rate": float(logs.std(ddof=1)), "mean_stated_log_rate_stderr":
            float(np.mean([r["log_rate_stderr"] for r in runs])),
        "n_stalled": int(sum(r["n_stalled"] for r in runs)), "n_extinct": int(sum(r["n_extinct"] for r in runs)),
        "wall_seconds": wall, "mean_run_wall_seconds": float(np.mean([r["wall_seconds"] for r in runs])),
        "runs": runs,
        "machine_start": start_machine, "load_avg_1min_end": os.getloadavg()[0],
    }


# ---------------------------------------------------------------------- summary
def summary(out: dict) -> str:
    lines = []
    c = out.get("cost")
    if c:
        p, a = c["projection"], c["ams"]
        lines.append(f"[cost] double well, rate {c['exact']['rate']:.3g} (exact): AMS {a['rate']:.3g} "
                     f"[{a['rate_ci'][0]:.3g}, {a['rate_ci'][1]:.3g}] (±{math.expm1(a['ci_half_width_log']):.1%}), "
                     f"covers exact: {a['covers_exact']}; {a['wall_seconds']:.1f} s wall, {a['particle_steps']:.3g} "
                     f"particle steps, {a['n_ams_runs']} AMS runs")
        lines.append(f"       brute force: {p['particle_steps_needed']:.3g} steps at {p['best_throughput_wall_per_s']:.3g}/s "
                     f"= {p['brute_force_seconds_wall']:.3g} s; speed-up {p['speedup_wall']:.3g}× (target ≥ 1e4: "
                     f"{'met' if p['met'] else 'NOT met'}); AMS < 5 min: {c['absolute_time']['met']}")
    s = out.get("st10")
    if s:
        a = s["ams"]
        lines.append(f"[st10] ST-10D B={s['settings']['batch_size']}, exact {s['exact_1d_chain']['rate']:.3g}: AMS "
                     f"{a['rate']:.3g} [{a['rate_ci'][0]:.3g}, {a['rate_ci'][1]:.3g}], covers: {a['covers_exact']}; "
                     f"{a['wall_seconds']:.1f} s wall (target < 600 s: {s['absolute_time']['met']}), "
                     f"{a['n_ams_runs']} runs; brute-force projection {s['projection']['brute_force_seconds_wall']:.3g} s "
                     f"(speed-up {s['projection']['speedup_wall']:.3g}×)")
    b = out.get("brute")
    if b:
        bf, a = b["brute_force"], b["ams"]
        lines.append(f"[brute] η=0.05, exact {b['exact']['rate']:.4g}: brute {bf['rate']:.4g} [{bf['rate_ci'][0]:.4g}, "
                     f"{bf['rate_ci'][1]:.4g}] ({bf['n_escaped']} escapes, {bf['wall_seconds']:.1f} s); AMS "
                     f"{a['rate']:.4g} [{a['rate_ci'][0]:.4g}, {a['rate_ci'][1]:.4g}] ({a['wall_seconds']:.1f} s); "
                     f"overlap {b['cis_overlap']}, both cover exact {b['both_cover_exact']}")
    v = out.get("coverage")
    if v:
        lines.append(f"[coverage] {v['coverage']:.2f} of 100 (CP 95% [{v['coverage_clopper_pearson_95'][0]:.2f}, "
                     f"{v['coverage_clopper_pearson_95'][1]:.2f}]; above {v['n_ci_above_exact']}, below "
                     f"{v['n_ci_below_exact']}), target ≥ 0.90: {v['met']}; mean log(γ̂/γ) "
                     f"{v['mean_log_rate_over_exact']:+.3f} ± {v['mean_log_rate_over_exact_stderr']:.3f}; sd "
                     f"{v['sd_log_rate']:.3f} vs stated {v['mean_stated_log_rate_stderr']:.3f}; "
                     f"{v['wall_seconds']:.0f} s")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=PARTS + ("all",), default="all")
    ap.add_argument("--jobs", type=int, default=2, help="processes for the coverage part")
    ap.add_argument("--coverage-settings", choices=("auto", "default", "small"), default="auto")
    ap.add_argument("--no-profile", action="store_true", help="skip the cProfile run of part st10")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    out = json.loads(args.out.read_text()) if args.out.exists() else {}
    out["note"] = NOISE_NOTE
    out["logical_cpus"] = os.cpu_count()
    parts = PARTS if args.part == "all" else (args.part,)
    t0 = time.perf_counter()
    for name in parts:
        w = time.perf_counter()
        if name == "cost":
            out["cost"] = part_cost()
        elif name == "st10":
            out["st10"] = part_st10(profile=not args.no_profile)
        elif name == "brute":
            out["brute"] = part_brute()
        else:
            out["coverage"] = part_coverage(jobs=args.jobs, settings=args.coverage_settings)
        out[name]["part_wall_seconds"] = time.perf_counter() - w
        args.out.write_text(json.dumps(out, indent=1, default=float) + "\n")
        print(f"{name}: {time.perf_counter() - w:.0f} s", flush=True)
    out["last_run"] = {"parts": list(parts), "wall_seconds": time.perf_counter() - t0, "machine": machine()}
    args.out.write_text(json.dumps(out, indent=1, default=float) + "\n")
    print(summary(out))


if __name__ == "__main__":
    main()
