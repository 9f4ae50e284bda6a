"""A sweep of your own: a list of configs, a results store, resume, and a fit of −log γ against B.

Each config is one escape experiment (docs/config.md lists every key): here SGD with two-region
noise C = λH/B on the 1-D double well θ⁴/4 − θ²/2, one config per batch size B. ``run_sweep`` runs
``escape_task`` for every config on worker processes and stores each task's row in
``OUT/store/<hash>.parquet``, keyed by the SHA-256 of the config's canonical JSON; the task's seed
comes from that hash, so results depend neither on the workers nor on the order.

The example

1. shows that a broken config is refused before anything runs (one line naming the key),
2. runs the first half of the sweep (as if it had been interrupted),
3. runs the whole sweep with ``resume=True``: only the missing tasks are computed,
4. runs it again: nothing is recomputed,
5. fits −log γ̂ against B (weighted by 1/√n_escaped) and compares the slope with Eq. (7):
   (2/(ηλ))·ΔL·(s/H_ae + (1 − s)/|H_be|), ΔL = 1/4, H_ae = 2, |H_be| = 1, s = 4/9.

Rates are per unit SDE time t = step × η.

Run it::

    python examples/sweep_config.py [--small] [--out DIR] [--workers N]
"""
import argparse
import math
import tempfile

import flatminima
from flatminima.validation.experiments import escape_task
from flatminima.validation.fits import fit_neg_log_rate
from flatminima.validation.store import Store
from flatminima.validation.sweep import run_sweep

ETA, LOSS_UNIT = 0.01, 40.0
WELL = {"barrier": 0.25, "h_ae": 2.0, "h_be": 1.0, "s": 4 / 9}      # θ⁴/4 − θ²/2


def config(batch_size, n_runs):
    """One escape experiment: SGD (two-region noise) at batch size B, leaving the well at θ = −1."""
    law = flatminima.sgd_law("rate", convention="ito")                # Eq. (7), Itô prefactor (discrete SGD)
    rate = law(eta=ETA, batch_size=batch_size, loss_unit=LOSS_UNIT, **WELL)
    return {
        "landscape": "double-well", "minimum": [-1.0],
        "noise": "hessian_two_region", "batch_size": batch_size, "loss_unit": LOSS_UNIT, "eta": ETA,
        # escape = first passage through the next minimum θ = +1 (a plane at the saddle, moved by 1 along e)
        "criterion": "dividing_surface", "options": {"plane_offset": 1.0, "bridge": True},
        "n_runs": n_runs,
        "max_steps": math.ceil(3.0 / (rate * ETA)),                  # 3 predicted mean escape times
    }


def stored_files(out):
    """{task hash: modification time} of the store's files."""
    store = Store(out)
    return {h: store.path(h).stat().st_mtime_ns for h in store.task_hashes()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="3 batch sizes, 150 runs each")
    parser.add_argument("--out", help="results folder (default: a temporary folder)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    out = args.out or tempfile.mkdtemp(prefix="flatminima-sweep-")
    batch_sizes = [6, 7, 8] if args.small else [6, 7, 8, 9, 10]
    n_runs = 150 if args.small else 1000
    configs = [config(b, n_runs) for b in batch_sizes]

    broken = {k: v for k, v in configs[0].items() if k != "max_steps"}
    try:
        run_sweep(escape_task, [broken], out, workers=1)
    except flatminima.InputError as err:
        print(f"refused before running: {err}")

    half = len(configs) // 2 + 1
    run_sweep(escape_task, configs[:half], out, workers=args.workers, progress=False)
    first = stored_files(out)
    print(f"first call: {len(first)} of {len(configs)} tasks computed into {out}/store")

    run_sweep(escape_task, configs, out, workers=args.workers, resume=True, progress=False)
    second = stored_files(out)
    rewritten = sum(second[h] != t for h, t in first.items())
    print(f"resume: {len(second) - len(first)} new tasks computed, {rewritten} recomputed")

    rows = run_sweep(escape_task, configs, out, workers=args.workers, resume=True, progress=False)
    third = stored_files(out)
    print(f"resume again: {sum(third[h] != t for h, t in second.items())} of {len(configs)} tasks recomputed")

    print(f"\n{'B':>3} {'escaped':>9} {'rate γ̂ (95% CI)':>32}")
    for row in rows.itertuples():
        print(f"{row.batch_size:>3} {row.n_escaped:>5}/{row.n_runs:<4}{row.rate:>12.4g} "
              f"[{row.rate_lo:.4g}, {row.rate_hi:.4g}]")
    fit = fit_neg_log_rate(rows["batch_size"], rows["rate"], rows["n_escaped"], x_name="batch_size")
    predicted = 2.0 / (ETA * LOSS_UNIT) * WELL["barrier"] * (WELL["s"] / WELL["h_ae"] + (1 - WELL["s"]) / WELL["h_be"])
    print(f"\nslope of -log rate against B: {fit.slope:.4f} ± {fit.slope_stderr:.4f} (s.e.); "
          f"Eq. (7) predicts {predicted:.4f}")
    print(f"the slope is {(fit.slope - predicted) / fit.slope_stderr:+.2f} standard errors from the prediction "
          f"(reduced chi2 {fit.reduced_chi2:.2f})")


if __name__ == "__main__":
    main()
