"""Check the theory on a loss you write yourself: a rotated, curved two-well valley in 2-D.

In valley coordinates (u, v), the plane turned by ANGLE,

    L = (u² − 1)² + TILT·u + (STIFFNESS/2)·(v − BEND·(1 − u²))²,

two wells near u = ±1 joined by a banana-shaped valley whose floor passes the saddle at u ≈ 0,
v = BEND: the escape path is curved and no coordinate axis points along it. ``curved_valley`` below
is written with ``autograd.numpy`` (flatminima differentiates it) and has a ``dim`` attribute.

flatminima takes your loss as ``"path/to/file.py:function"`` (here: this file), for
``flatminima.landscape`` as for the command line (``flatminima check examples/check_own_landscape.py:curved_valley``).
The example

1. finds both minima, the index-1 saddle between them, ΔL, H_ae, |H_be| and s (``flatminima.analyse_basin``),
2. runs ``flatminima.check`` with SGLD (white noise, Eyring–Kramers law; the temperature is chosen so that
   the predicted exponent ΔL/D is 5) and prints predicted against measured rate with its 95% interval
   and the verdict. Rates are per unit SDE time t = step × η. Many short runs are cheaper than a few
   long ones here: a loss of your own runs on the numpy path, whose cost is per step, not per particle;
   runs still inside the well at ``max_steps`` enter the rate estimate as censored.

Run it::

    python examples/check_own_landscape.py [--small] [--runs N]
"""
import argparse
from pathlib import Path

import autograd.numpy as np

import flatminima

ANGLE = np.pi / 6          # the valley's u axis, from the x axis
TILT = 0.25                # makes the well at u = −1 the deeper one
STIFFNESS = 3.0            # curvature across the valley
BEND = 0.4                 # how far the valley floor bends away from the straight line between the wells


def curved_valley(theta):
    """A rotated, curved two-well valley in 2-D (module docstring)."""
    u = np.cos(ANGLE) * theta[0] + np.sin(ANGLE) * theta[1]
    v = -np.sin(ANGLE) * theta[0] + np.cos(ANGLE) * theta[1]
    return (u ** 2 - 1.0) ** 2 + TILT * u + 0.5 * STIFFNESS * (v - BEND * (1.0 - u ** 2)) ** 2


curved_valley.dim = 2


def from_valley(u, v):
    """(x, y) of the valley coordinates (u, v)."""
    return [np.cos(ANGLE) * u - np.sin(ANGLE) * v, np.sin(ANGLE) * u + np.cos(ANGLE) * v]


def fmt(vector):
    return "(" + ", ".join(f"{x:+.4f}" for x in vector) + ")"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer, shorter escape runs (about 20 s)")
    parser.add_argument("--runs", type=int, help="escape runs (default 2000, or 300 with --small)")
    parser.add_argument("--max-steps", type=int, help="steps per run (default 20000, or 6000 with --small)")
    args = parser.parse_args(argv)
    n_runs = args.runs or (300 if args.small else 2000)
    max_steps = args.max_steps or (6000 if args.small else 20000)

    spec = f"{Path(__file__).resolve()}:curved_valley"
    land = flatminima.landscape(spec)
    print(f"landscape curved_valley (dim {land.dim}): {land.description}")
    for u in (-1.0, 1.0):
        basin = flatminima.analyse_basin(land, from_valley(u, 0.0))
        print(f"\nminimum θ = {fmt(basin.minimum)}   L = {basin.loss:.6f}   "
              f"Hessian eigenvalues {fmt(basin.hessian_eigenvalues)}")
        for path in basin.paths:
            print(f"  saddle θ = {fmt(path.saddle)}   ΔL = {path.barrier:.6f}   H_ae = {path.h_ae:.4f}   "
                  f"|H_be| = {path.h_be:.4f}   s = {path.s:.4f}   escape direction e = {fmt(path.escape_direction)}")

    # the shallower well (u = +1) escapes over the saddle into the deeper one
    start = from_valley(1.0, 0.0)
    # many short runs: a step costs the same for 10 or 1000 particles on the numpy path, and runs that have not
    # escaped by max_steps count as censored in the rate estimate (the escape time is exponential)
    obj, result = flatminima.check(spec, minimum=start, dynamics="sgld", n_runs=n_runs, max_steps=max_steps, seed=1,
                                   figures=False)       # no report is written here: skip its figures
    for e in obj["experiments"]:
        print(f"\nSGLD from {fmt(obj['minimum']['theta'])}: D = {e['temperature']:.4g}, η = {e['eta']:.4g}, "
              f"{e['n_runs']} runs of at most {e['max_steps']} steps")
        print(f"  predicted γ = {e['predicted_rate']:.4g} ({e['law']}, allowed relative error "
              f"±{e['allowed_relative_error']:.2f})")
        lo, hi = e["rate_ci"]
        print(f"  measured  γ = {e['measured_rate']:.4g}, 95% CI [{lo:.4g}, {hi:.4g}] "
              f"({e['n_escaped']} of {e['n_runs']} runs escaped)")
    for v in result.verdicts:
        print(f"{v.status}: {v.claim}")
    print(f"check status: {result.status}")


if __name__ == "__main__":
    main()
