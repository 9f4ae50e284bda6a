"""Saddle-search benchmark: recall, spurious saddles and time of ``analyse_basin`` on known landscapes.

For every case of ``tests/numerics/saddle_cases.py`` (reference minima and adjacent index-1 saddles
from closed forms or root grids, independent of flatminima's search) and every reference minimum a,
runs ``numerics.basin.analyse_basin(landscape, a)`` and compares ``[p.saddle for p in res.paths]``
with the saddles adjacent to a: a match is ‖θ − b‖ ≤ 1e-6·(1 + ‖b‖) and |L − L(b)| ≤ 1e-6, as in
``tests/numerics/test_saddle_benchmark.py``. Prints a Markdown table and writes the same numbers to
``benchmarks/saddles.json``.

Usage::

    .venv/bin/python benchmarks/bench_saddles.py [--quick]

``--quick`` leaves out the cases marked slow. An exception from ``analyse_basin`` is recorded for
that minimum (its saddles count as not found) and the run goes on.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "numerics"))

from flatminima.numerics.basin import analyse_basin  # noqa: E402
from saddle_cases import CASES  # noqa: E402

TOL = 1e-6
OUT = ROOT / "benchmarks" / "saddles.json"


def _match(x, lx, b, lb) -> bool:
    """Whether a found saddle (x, L(x)) is the reference saddle (b, L(b)) to the benchmark tolerance."""
    return (float(np.linalg.norm(np.asarray(x) - b)) <= TOL * (1.0 + float(np.linalg.norm(b)))
            and abs(lx - lb) <= TOL)


def _git(*args) -> str:
    """Output of a git command in the repository, or "?" when git fails."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def run_case(case) -> dict:
    """Run ``analyse_basin`` from every reference minimum of one case; counts, times and errors."""
    t0 = time.perf_counter()
    ref = case.references()
    ref_seconds = time.perf_counter() - t0
    land = case.landscape()
    present = found = spurious = 0
    wall = cpu = 0.0
    minima, errors = [], []
    for a, row, lrow in zip(ref.minima, ref.adjacent, ref.saddle_losses):
        present += len(row)
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            res = analyse_basin(land, a)
            err = None
        except Exception as exc:        # recorded, not raised: the benchmark covers every case
            res, err = None, f"{type(exc).__name__}: {exc}"
        dw, dc = time.perf_counter() - w0, time.process_time() - c0
        wall, cpu = wall + dw, cpu + dc
        got = [] if res is None else [(np.asarray(p.saddle, float), float(p.saddle_loss)) for p in res.paths]
        hit = [any(_match(f, lf, b, lb) for f, lf in got) for b, lb in zip(row, lrow)]
        extra = [f for f, lf in got if not any(_match(f, lf, b, lb) for b, lb in zip(row, lrow))]
        found += sum(hit)
        spurious += len(extra)
        if err:
            errors.append(err)
        minima.append({"minimum": a.tolist(), "adjacent": len(row), "found": int(sum(hit)), "returned": len(got),
                       "spurious": len(extra), "missing": [b.tolist() for b, h in zip(row, hit) if not h],
                       "spurious_saddles": [f.tolist() for f in extra], "wall_seconds": dw, "cpu_seconds": dc,
                       "error": err})
    return {"case": case.name, "dim": land.dim, "minima": len(ref.minima), "all_minima": ref.all_minima,
            "adjacent_present": present, "found": found, "recall": found / present if present else None,
            "spurious": spurious, "wall_seconds": wall, "cpu_seconds": cpu, "reference_seconds": ref_seconds,
            "slow": case.slow, "source": case.source, "errors": errors, "per_minimum": minima}


def table(rows: list[dict]) -> str:
    """The Markdown table of the results, with a total line."""
    lines = ["| landscape | dim | minima | adjacent saddles present | found | recall | spurious | seconds | cpu s | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['dim']} | {r['minima']}{'' if r['all_minima'] else '*'} | "
                     f"{r['adjacent_present']} | {r['found']} | {r['recall']:.2f} | {r['spurious']} | "
                     f"{r['wall_seconds']:.2f} | {r['cpu_seconds']:.2f} | {len(r['errors'])} |")
    present = sum(r["adjacent_present"] for r in rows)
    found = sum(r["found"] for r in rows)
    lines.append(f"| **total** | | {sum(r['minima'] for r in rows)} | {present} | {found} | "
                 f"{found / present:.3f} | {sum(r['spurious'] for r in rows)} | "
                 f"{sum(r['wall_seconds'] for r in rows):.2f} | {sum(r['cpu_seconds'] for r in rows):.2f} | "
                 f"{sum(len(r['errors']) for r in rows)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run the benchmark, print the table, write ``benchmarks/saddles.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out the cases marked slow")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not (args.quick and c.slow)]
    rows = []
    t0 = time.perf_counter()
    for case in cases:
        r = run_case(case)
        rows.append(r)
        print(f"{case.name}: {r['found']}/{r['adjacent_present']} found, {r['spurious']} spurious, "
              f"{r['wall_seconds']:.2f} s" + (f", errors: {r['errors']}" if r["errors"] else ""), flush=True)
    total = time.perf_counter() - t0
    present = sum(r["adjacent_present"] for r in rows)
    found = sum(r["found"] for r in rows)
    print()
    print(table(rows))
    print(f"\nTotal recall: {found}/{present} = {found / present:.3f}; spurious: {sum(r['spurious'] for r in rows)}; "
          f"run time {total:.1f} s (references included). * = declared minima only (see the case's region).")
    out = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "host": {"processor": platform.processor(), "cpu_count": os.cpu_count(), "platform": platform.platform()},
           "git_commit": _git("rev-parse", "HEAD"),
           "numerics_uncommitted_changes": _git("status", "--porcelain", "--", "numerics") != "",
           "quick": args.quick, "tolerance": TOL, "total_recall": found / present, "total_present": present,
           "total_found": found, "total_spurious": sum(r["spurious"] for r in rows), "total_seconds": total,
           "cases": rows}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
