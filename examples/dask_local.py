"""A sweep on a Dask cluster: here a LocalCluster of 2 worker processes with 1 thread each.

``flatminima validate --scheduler ADDRESS`` connects to a running scheduler through
``validation.executors.executor_for(ADDRESS)``, which yields a ``concurrent.futures`` executor of a
``distributed.Client``; ``run_sweep`` submits one task per config to it and writes every row itself, so
the workers need flatminima installed but no access to the results folder. The same works for any
cluster: replace the LocalCluster by the address that ``dask scheduler`` prints.

The sweep: SGLD (white noise) on the 1-D double well θ⁴/4 − θ²/2 at several temperatures D. Kramers'
law says −log γ is linear in 1/D with slope ΔL = 1/4. Seeds come from the config hashes, so the
cluster's rows equal those of a local run, which the example checks.

Rates are per unit SDE time t = step × η.

Run it::

    python examples/dask_local.py [--small] [--out DIR]
"""
import argparse
import logging
import math
import tempfile
from pathlib import Path

import flatminima
from flatminima.validation.executors import executor_for
from flatminima.validation.experiments import escape_task
from flatminima.validation.fits import fit_neg_log_rate
from flatminima.validation.sweep import run_sweep

ETA = 0.01
WELL = {"barrier": 0.25, "h_ae": 2.0, "h_be": 1.0}      # θ⁴/4 − θ²/2


def config(temperature, n_runs):
    """One escape experiment: SGLD at temperature D from θ = −1 to the next minimum θ = +1."""
    rate = flatminima.formulas()["kramers_1d_rate"](temperature=temperature, **WELL)
    return {"landscape": "double-well", "minimum": [-1.0], "noise": "white", "temperature": temperature,
            "eta": ETA, "criterion": "dividing_surface", "options": {"plane_offset": 1.0, "bridge": True},
            "n_runs": n_runs, "max_steps": math.ceil(3.0 / (rate * ETA))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="3 temperatures, 100 runs each")
    parser.add_argument("--out", help="results folder (default: a temporary folder)")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="flatminima-dask-"))
    ratios = [5.0, 6.0, 7.0] if args.small else [5.0, 6.0, 7.0, 8.0, 9.0]
    configs = [config(WELL["barrier"] / r, 100 if args.small else 1000) for r in ratios]

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        print(f"Dask scheduler at {cluster.scheduler_address}, 2 workers")
        with executor_for(cluster.scheduler_address) as executor:
            rows = run_sweep(escape_task, configs, out / "dask", executor=executor, progress=False)

    local = run_sweep(escape_task, configs, out / "local", workers=1, progress=False)
    same = list(rows["rate"]) == list(local["rate"]) and list(rows["n_escaped"]) == list(local["n_escaped"])
    print(f"rows identical to a local run: {same}")

    print(f"\n{'D':>8} {'escaped':>9} {'rate γ̂ (95% CI)':>34}")
    for row in rows.itertuples():
        print(f"{row.temperature:>8.4f} {row.n_escaped:>5}/{row.n_runs:<4}{row.rate:>12.4g} "
              f"[{row.rate_lo:.4g}, {row.rate_hi:.4g}]")
    fit = fit_neg_log_rate(1.0 / rows["temperature"], rows["rate"], rows["n_escaped"], x_name="1/temperature")
    print(f"\nslope of -log rate against 1/D: {fit.slope:.4f} ± {fit.slope_stderr:.4f} (s.e.); "
          f"Kramers: ΔL = {WELL['barrier']}")


if __name__ == "__main__":
    main()
