"""A/B speed of two commits: every figure of ``run_all.py``, measured for both in the same run, taking turns.

``.venv/bin/python benchmarks/ab.py BASE [NEW] [--rounds N]`` (about 10 minutes at 3 rounds). BASE and NEW
are git commits (NEW defaults to the working tree); each is checked out into a temporary worktree and
benchmarked by its own ``benchmarks/`` scripts in a fresh process per round, the two commits alternating
(BASE, NEW, BASE, NEW, ...), so both see the same machine conditions. Each figure is the best of its
rounds (time: the smallest; rate: the largest), and the table gives NEW/BASE as a speed ratio (> 1:
NEW is faster) with the verdict "within 5%" when the ratio is ≥ 0.95. Results go to
``benchmarks/ab.json``; the table is printed for ``benchmarks/RESULTS.md``.

The worktree of a commit from before the ``flatminima.*`` namespace imports its packages at the top
level (``numerics``); the scripts of both put their own checkout first on ``sys.path``, so each round
runs the code of its commit, with this virtual environment's packages.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# One round of each benchmark, in a fresh process of the checkout at sys.argv[1]: prints one JSON object.
_ROUND = r"""
import json, sys, os
tree = sys.argv[1]
sys.path[:0] = [os.path.join(tree, "benchmarks"), tree]
import bench_sgld, bench_kramers, bench_mlp
out = {"sgld": bench_sgld.run(rounds=1), "kramers": bench_kramers.run(rounds=1), "mlp": bench_mlp.run()}
print(json.dumps(out))
"""

# figure name -> (path into a round's result, "rate" (larger is faster) or "time" (smaller is faster))
FIGURES = {
    "compiled PCG64 normals/s (CPU)": (("sgld", "generators", "compiled_PCG64", "cpu"), "rate"),
    "ST-10D SGLD 1 core, particle-steps/s (CPU)": (("sgld", "sgld_1core", "cpu"), "rate"),
    "ST-10D SGLD 2 threads, particle-steps/s (wall)": (("sgld", "sgld_2threads", "wall"), "rate"),
    "ST-10D hessian_fixed 1 core, particle-steps/s (CPU)": (("sgld", "hessian_fixed_cholesky_1core", "cpu"), "rate"),
    "ST-10D dense S 1 core, particle-steps/s (CPU)": (("sgld", "dense_matrix_1core", "cpu"), "rate"),
    "1-D bridge SGLD (kramers comparison), s (CPU)": (("kramers", "ours", "cpu_s"), "time"),
    "MLP 10-32-2 replicated SGD step, ms (CPU)": (("mlp", "step_ms_cpu"), "time"),
    "10⁶ particles, peak RSS, MiB (return_theta=False)": (("memory", "False"), "time"),
    "10⁶ particles, peak RSS, MiB (return_theta=True)": (("memory", "True"), "time"),
}


def _get(obj, path):
    for key in path:
        obj = obj[key]
    return float(obj)


def _worktree(commit: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit], check=True,
                   capture_output=True)
    return where


def _one_round(tree: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", _ROUND, str(tree)], check=True, capture_output=True, text=True,
                         cwd=tree)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["memory"] = {}
    for theta in (False, True):
        cmd = [sys.executable, str(tree / "benchmarks" / "bench_memory.py")] + (["--theta"] if theta else [])
        r = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=tree)
        out["memory"][str(theta)] = json.loads(r.stdout)["peak_rss_bytes"] / 2**20
    return out


def compare(base: str, new: str | None, rounds: int) -> dict:
    """Run both commits ``rounds`` times, alternating; return the best figure of each and their ratio."""
    with tempfile.TemporaryDirectory(prefix="flatminima-ab-") as tmp:
        trees = {"base": _worktree(base, Path(tmp) / "base"),
                 "new": _worktree(new, Path(tmp) / "new") if new else ROOT}
        try:
            for tree in trees.values():          # compile (numba caches) once before timing
                _one_round(tree)
            runs = {k: [] for k in trees}
            for i in range(rounds):
                for name, tree in trees.items():
                    print(f"ab: round {i + 1}/{rounds}: {name}", file=sys.stderr, flush=True)
                    runs[name].append(_one_round(tree))
        finally:
            for name, tree in trees.items():
                if tree != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                                   capture_output=True)
    table = {}
    for fig, (path, kind) in FIGURES.items():
        vals = {k: [_get(r, path) for r in v] for k, v in runs.items()}
        best = {k: (max(v) if kind == "rate" else min(v)) for k, v in vals.items()}
        speed = best["new"] / best["base"] if kind == "rate" else best["base"] / best["new"]
        table[fig] = {"base": best["base"], "new": best["new"], "all": vals, "speed_ratio": speed,
                      "within_5pct": bool(speed >= 0.95)}
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    return {"base": base, "new": new or f"{head} (working tree)", "rounds": rounds, "figures": table}


def markdown(result: dict) -> str:
    lines = [f"| figure | base {result['base'][:7]} | new {result['new'][:12]} | speed new/base | within 5% |",
             "|---|---|---|---|---|"]
    for fig, r in result["figures"].items():
        lines.append(f"| {fig} | {r['base']:.4g} | {r['new']:.4g} | {r['speed_ratio']:.3f} | "
                     f"{'yes' if r['within_5pct'] else '**no**'} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base")
    p.add_argument("new", nargs="?")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    result = compare(args.base, args.new, args.rounds)
    (HERE / "ab.json").write_text(json.dumps(result, indent=1))
    print(markdown(result))


if __name__ == "__main__":
    main()
