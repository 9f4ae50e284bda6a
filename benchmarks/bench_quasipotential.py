"""Quasi-potential benchmark: time of the minimum action path and of the exact 2-D generator at 1% accuracy.

Cases:

- ``mam_st10_random_D``: Styblinski–Tang in 10-D, from the global minimum to the saddle one coordinate
  away, with a constant anisotropic D from a fixed-seed random SPD matrix (a non-reversible escape, so the
  path is not straight), 100 segments (and the 50-segment Richardson partner);
- ``mam_two_well_hessian_fixed``: the curved ``two-well-2d`` with D = H_a, 64 segments;
- ``generator_two_well_1pct``: the exact 2-D generator (eigen frame, D = ε·H_a at ΔΦ = 9) on the coarsest
  grid whose stated two-grid error is below 1% (grids tried from 41² up);
- ``instanton_stiff_two_well``: Bouchet–Reygner's non-Gibbsianness I_ℓ along the instanton of
  ``two-well-2d:stiffness=3`` with D = H_a (four boundary value problems and Riccati integrations), from its
  64-segment minimum action path.

Baseline, measured in the same run: one call of ``minimum_action_path`` with white noise on the two-well,
whose straight-in-the-metric path converges at once; ratios are against it. Prints a Markdown table and
writes ``benchmarks/quasipotential.json``.

Usage::

    .venv/bin/python benchmarks/bench_quasipotential.py
"""
from __future__ import annotations

import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flatminima.numerics.basin import analyse_basin  # noqa: E402
from flatminima.numerics.critical import find_minimum, refine_saddle  # noqa: E402
from flatminima.numerics.instanton import instanton  # noqa: E402
from flatminima.numerics.names import build_landscape  # noqa: E402
from flatminima.numerics.quasipotential import Diffusion, minimum_action_path, noise_diffusion  # noqa: E402
from flatminima.numerics.reference import mfpt_2d  # noqa: E402
from flatminima.theory.bouchet_reygner import bouchet_reygner_prefactor  # noqa: E402

OUT = ROOT / "benchmarks" / "quasipotential.json"


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> int:
    rows = []
    two = build_landscape("two-well-2d")
    an = analyse_basin(two, [-1.0, 0.0])
    a, b = an.minimum, an.paths[0].saddle
    base, _ = _timed(lambda: minimum_action_path(two, a, b, Diffusion.fixed(np.eye(2)), n_segments=64))

    st = build_landscape("styblinski-tang:dim=10")
    a10 = find_minimum(st, -2.9 * np.ones(10))
    b10 = refine_saddle(st, np.r_[0.157, -2.9 * np.ones(9)])
    rng = np.random.default_rng(0)
    G = rng.normal(size=(10, 10))
    D10 = Diffusion.fixed(0.05 * (G @ G.T / 10 + np.eye(10)))
    t, r = _timed(lambda: minimum_action_path(st, a10, b10, D10, n_segments=100))
    rows.append(("mam_st10_random_D", t, f"ΔΦ = {r.quasi_potential:.6g} ± {r.error:.2g}, converged {r.converged}"))

    M = noise_diffusion("hessian_fixed", two, a)
    t, r = _timed(lambda: minimum_action_path(two, a, b, M, n_segments=64))
    rows.append(("mam_two_well_hessian_fixed", t, f"ΔΦ_M = {r.quasi_potential:.6g} ± {r.error:.2g}"))

    eps = r.quasi_potential / 9.0
    for n in (41, 61, 81, 121, 161, 241):
        t, g = _timed(lambda: mfpt_2d(lambda X: two.grads(X), eps * M.constant, bounds=((-2.4, 1.8), (-2.4, 2.4)),
                                      shape=(n, n), absorbing=lambda X: X[:, 0] >= 0.6, start=tuple(a), rate=False))
        if g.escape_time_error / g.escape_time < 0.01:
            rows.append(("generator_two_well_1pct", t, f"grid {n}², T = {g.escape_time:.6g} ± "
                                                          f"{g.escape_time_error / g.escape_time:.2%}"))
            break
    else:
        rows.append(("generator_two_well_1pct", float("nan"), "no grid up to 241² reached 1%"))

    stiff = build_landscape("two-well-2d:stiffness=3")
    an3 = analyse_basin(stiff, [-1.0, 0.0])
    a3, b3 = an3.minimum, an3.paths[0].saddle
    M3 = noise_diffusion("hessian_fixed", stiff, a3)
    path3 = minimum_action_path(stiff, a3, b3, M3, n_segments=64)
    pre = bouchet_reygner_prefactor(stiff.hessian(a3), stiff.hessian(b3), M3.constant)
    t, r = _timed(lambda: instanton(stiff, a3, b3, M3.constant, path3.points, pre["Q_a"], pre["Q_b"]))
    rows.append(("instanton_stiff_two_well", t, f"I_ℓ = {r.non_gibbsianness:.4g} ± {r.error:.2g}"))

    print(f"| case | seconds | × baseline ({base:.3f} s) | result |\n|---|---|---|---|")
    for name, t, what in rows:
        print(f"| {name} | {t:.2f} | {t / base:.1f} | {what} |")
    OUT.write_text(json.dumps({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(), "baseline_seconds": base,
        "cases": [{"name": n, "seconds": t, "ratio": t / base, "result": w} for n, t, w in rows]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
