"""The ``flatminima`` command line: a thin layer over the Python API (usage: README.md §Tour, ``--help``).

User errors print one line on stderr and exit with code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from flatminima.errors import InputError
from flatminima.reports.derivations import FORMATS as DERIVE_FORMATS     # cheap: theory loads lazily

EXAMPLES = {
    "landscape": """examples:
  flatminima landscape styblinski-tang:dim=2
  flatminima landscape double-well:barrier_left=1,h_left=4 --json
  flatminima landscape muller-brown --minimum=-0.56,1.44
  flatminima landscape path/to/loss.py:my_loss --minimum=0,0 --saddle=0.5,0.1 --budget 60
  flatminima landscape mlp:data=iris,hidden=4""",
    "validate": """examples:
  flatminima validate --suite quick                   # CI-sized, about a minute
  flatminima validate --suite paper --out results/paper --workers 2
  flatminima validate --suite paper --out results/paper --resume   # continue an interrupted run
  flatminima validate --suite paper --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
  flatminima validate --suite quick --strict          # exit 1 when a verdict fails""",
    "check": """examples:
  flatminima check double-well --json
  flatminima check two-well-2d --dynamics sgld --runs 300 --strict     # exit 1 on FAIL, 3 on INCONCLUSIVE
  flatminima check double-well --dynamics sgd --batch-size 2 --loss-unit 12.5 --eta 0.02
  flatminima check path/to/loss.py:my_loss --minimum=-1,0 --saddle=0,0 --budget 60 --out results/mine
  flatminima check examples/tilted_wells.py:loss --dynamics sgd --noise minibatch --minimum=-1,0 --eta 0.0125""",
    "report": """examples:
  flatminima report results/paper     # rebuild report.md/report.html from results/paper/result.json""",
    "derive": """examples:
  flatminima derive                 # writes derivations/derivations.md and .html
  flatminima derive --out report/
  flatminima derive --format latex  # writes derivations/derivations.tex and derivations-body.tex
  flatminima derive --format md,html,latex --out report/

LaTeX: derivations.tex is a standalone document (article + amsmath, pure ASCII; pdflatex derivations.tex).
derivations-body.tex is its body alone (no preamble, title or \\appendix; sections start at \\section):
put \\usepackage{amsmath} in your paper and \\input{derivations-body} after its \\appendix.
Labels: flatminima:<derivation>, flatminima:<derivation>:<step>, flatminima:registry:<formula>.""",
}


DEFAULT_BUDGET = 300.0     # seconds; the same default as validation.check.run_check


class UsageError(InputError):
    """A bad command line: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):           # argparse prints usage + message; we want one line
        raise UsageError(message)


def _vector(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like -1,0.3; got {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite comma-separated numbers; got {text!r}")
    return values


def _positive_int(name):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 1; got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 1; got {value}")
        return value
    return parse


def _positive_float(name):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a finite number > 0; got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be a finite number > 0; got {text}")
        return value
    return parse


def _nonnegative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--seed must be an integer >= 0; got {value}")
    return value


def _search_options(p) -> None:
    """--saddle and --budget, shared by landscape and check."""
    p.add_argument("--saddle", type=_vector, action="append", default=None, metavar="X,Y,..",
                   help="a saddle guess for the search (repeatable; also read from the loss function's "
                        "`saddles` attribute)")
    p.add_argument("--budget", type=_positive_float("--budget"), default=DEFAULT_BUDGET, metavar="SECONDS",
                   help=f"time allowed to the saddle search (default {DEFAULT_BUDGET:g} s)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flatminima", description="Check the diffusion theory of SGD against numbers.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("landscape", help="minima, index-1 saddles, Hessians, escape directions, barriers, s",
                       epilog=EXAMPLES["landscape"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("landscape", metavar="LANDSCAPE",
                   help="built-in name with parameters (styblinski-tang:dim=2) or path/to/file.py:function")
    p.add_argument("--minimum", type=_vector, metavar="X,Y,..",
                   help="start of the minimum search (write negative values as --minimum=-1,0.3)")
    _search_options(p)
    p.add_argument("--quasi-potential", type=_noise_list, default=None, metavar="NOISE[,NOISE]",
                   help="quasi-potential of every path (minimum action path) for these noise models: white, "
                        "hessian_fixed, hessian_two_region, hessian_psd, loss_hessian, or none "
                        f"(default: hessian_fixed up to {QP_DEFAULT_DIM} coordinates)")
    p.add_argument("--json", action="store_true", help="print one JSON object (no experiments)")
    p.set_defaults(func=cmd_landscape)

    p = sub.add_parser("validate", help="run a validation suite and write its report",
                       epilog=EXAMPLES["validate"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", required=True, metavar="NAME", help="a suite name (see `flatminima suites`)")
    p.add_argument("--size", default="default", metavar="SIZE", help="default or full (see `flatminima suites`)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="results folder (default results/SUITE)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int("--workers"), default=None, metavar="N",
                       help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run tasks on a Dask cluster (tcp://host:8786; see docs/dask.md)")
    p.add_argument("--resume", action="store_true", help="skip tasks already in OUT/store")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a verdict fails, 3 when none fails but one is INCONCLUSIVE")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("check", help="analyse a landscape, predict and simulate escape rates, compare",
                       epilog=EXAMPLES["check"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("landscape", metavar="LANDSCAPE", help="built-in spec or path/to/file.py:function")
    p.add_argument("--minimum", type=_vector, metavar="X,Y,..", help="start of the minimum search")
    p.add_argument("--dynamics", choices=["sgld", "sgd"], default=None, help="default: both")
    p.add_argument("--noise", default=None, metavar="MODEL",
                   help="noise model for sgd (default hessian_two_region; see docs/theory.md §Noise models)")
    p.add_argument("--criterion", default="basin", metavar="NAME",
                   help="exit criterion: basin (default), dividing_surface, loss_level, radius")
    p.add_argument("--temperature", type=_positive_float("--temperature"), default=None, metavar="D",
                   help="SGLD temperature D > 0")
    p.add_argument("--eta", type=_positive_float("--eta"), default=None, metavar="ETA",
                   help="step η, 0 < η < 2/λ_max(H_a) (default 0.05/λ_max(H_a))")
    p.add_argument("--batch-size", type=_positive_int("--batch-size"), default=None, metavar="B")
    p.add_argument("--loss-unit", type=_positive_float("--loss-unit"), default=None, metavar="LAMBDA",
                   help="λ > 0 in C = λH/B (default 1)")
    p.add_argument("--runs", type=_positive_int("--runs"), default=200, metavar="N",
                   help="brute-force particles (method simulate)")
    p.add_argument("--max-steps", type=_positive_int("--max-steps"), default=None, metavar="T")
    p.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S")
    p.add_argument("--method", default="auto", metavar="METHOD",
                   help="how the rate is measured: simulate (brute force), ams (adaptive multilevel splitting, for "
                        "rates brute force cannot reach), exact (1-D: the discrete chain's exact mean exit time), "
                        "auto (default: brute force when at least 20 escapes are expected, ams otherwise)")
    p.add_argument("--replicas", type=_positive_int("--replicas"), default=100, metavar="N",
                   help="replicas per AMS run (method ams; >= 2; 20 independent runs)")
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help="sgd (default), momentum (heavy ball; --nesterov), adam, pnm (Positive-Negative Momentum) or "
                        "adai (Adaptive Inertia): the update applied to the same stochastic gradient")
    p.add_argument("--momentum", type=float, default=None, metavar="BETA",
                   help="heavy-ball β, Adam's and PNM's β1, in [0, 1) (default 0.9)")
    p.add_argument("--nesterov", action="store_true", default=None, help="Nesterov momentum (with --optimizer momentum)")
    p.add_argument("--beta2", type=float, default=None, metavar="BETA2",
                   help="second-moment decay of adam (0.999) and adai (0.99), in [0, 1)")
    p.add_argument("--epsilon", type=float, default=None, metavar="EPS",
                   help="adam's ε (1e-8, >= 0, gradient units) or adai's clip (1e-3, in (0, 1))")
    p.add_argument("--pnm-beta0", type=float, default=None, metavar="BETA0",
                   help="PNM's negative-momentum weight β0 (default 1.0, >= 0)")
    p.add_argument("--adai-beta0", type=float, default=None, metavar="BETA0",
                   help="Adai's inertia scale β0 (default 0.1, > 0)")
    _search_options(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="also write a report there")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a verdict fails, 3 when none fails but one is INCONCLUSIVE")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("suites", help="list the validation suites with their sizes and run times",
                       epilog="examples:\n  flatminima suites\n  flatminima validate --suite quick --size default",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=cmd_suites)

    p = sub.add_parser("report", help="rebuild a report from a results folder (no recomputation)",
                       epilog=EXAMPLES["report"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, metavar="OUT", help="a results folder holding result.json")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("derive", help="write the derivation report (derivations.md, derivations.html, "
                                      "optionally a LaTeX appendix)",
                       epilog=EXAMPLES["derive"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("derivations"), metavar="DIR", help="output folder")
    p.add_argument("--format", type=_derive_formats, default=("md", "html"), metavar="FORMAT[,FORMAT]",
                   help="md, html, latex, comma-separated (default md,html); latex writes derivations.tex "
                        "and derivations-body.tex")
    p.set_defaults(func=cmd_derive)
    return parser


# ---------------------------------------------------------------------- commands
def _load(spec: str, minimum):
    from flatminima.numerics import build_landscape
    return build_landscape(spec, dim=None if minimum is None else len(minimum))


def _progress_bar():
    """A saddle-search progress hook drawing a bar on stderr when it is a terminal (else None)."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from tqdm.auto import tqdm

    bar = tqdm(total=1, desc="saddle search", unit="walk", leave=False, file=sys.stderr)

    def hook(done, total, what):
        bar.total = total
        bar.set_description(what)
        bar.n = done
        bar.refresh()
    return hook, bar.close


def _analyses(land, args):
    """Basin analyses for the landscape command: the given minimum, or the minima found (see below)."""
    import numpy as np
    from flatminima.numerics.basin import analyse_basin, group_flat_minima
    from flatminima.numerics.critical import find_minima
    from flatminima.numerics.saddles import Budget

    if args.minimum is not None and len(args.minimum) != land.dim:
        raise UsageError(f"--minimum has {len(args.minimum)} coordinates but {land.name} has dim {land.dim}")
    hints = [_saddle_hint(land, h) for h in (args.saddle or [])]
    hook, close = _progress_bar()
    budget = Budget(args.budget, hook)
    try:
        if args.minimum is not None:
            return None, [analyse_basin(land, np.asarray(args.minimum, float), saddles=hints, budget=budget)]
        groups = group_flat_minima(land, find_minima(land, stop=budget.expired))
        reps = [g[0] for g in groups]
        # every minimum when d ≤ ANALYSE_ALL_DIM (and the budget allows); above it the lowest only
        todo = reps if land.dim <= ANALYSE_ALL_DIM else reps[:1]
        out = []
        for i, rep in enumerate(todo):
            if i and budget.expired():
                break
            out.append(analyse_basin(land, rep, saddles=hints, budget=budget,
                                     neighbours=[r for r in reps if r is not rep]))
        return groups, out
    finally:
        close()


ANALYSE_ALL_DIM = 10
"""landscape: every minimum found is analysed up to this dimension; above it only the lowest one."""

QP_DEFAULT_DIM = 10
"""landscape: the hessian_fixed quasi-potential is computed by default from 2 up to this dimension."""


def _noise_list(text: str) -> tuple:
    """--quasi-potential: comma-separated Gaussian noise model names, or none."""
    from flatminima.numerics.quasipotential import QUASI_POTENTIAL_NOISE

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names == ("none",):
        return ()
    bad = [n for n in names if n not in QUASI_POTENTIAL_NOISE]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--quasi-potential takes {', '.join(QUASI_POTENTIAL_NOISE)} or none; "
                                         f"got {text!r}")
    return names


def _add_quasi_potentials(land, analyses, objs, noises) -> None:
    """Put the quasi-potential of every path for each noise model into the JSON objects (in place)."""
    from flatminima.numerics.quasipotential import minimum_action_path, noise_diffusion

    meaning = {"white": "ΔΦ = value/D (D the temperature)", "loss_hessian": "ΔΦ = value/ε, ε = η/(2B)"}
    for analysis, obj in zip(analyses, objs):
        for path, entry in zip(analysis.paths, obj["paths"]):
            out = {}
            for noise in noises:
                try:
                    M = noise_diffusion(noise, land, analysis.minimum, path.saddle, path.escape_direction)
                    mam = minimum_action_path(land, analysis.minimum, path.saddle, M, initial=path.mep_points)
                except ValueError as exc:
                    out[noise] = {"value": None, "note": str(exc)}
                    continue
                out[noise] = dict(mam.to_dict(), scale=meaning.get(noise, "ΔΦ = value/ε, ε = ηλ/(2B)"))
                if noise == "hessian_fixed" and land.dim == 2:      # Bouchet–Reygner's e^(−I_ℓ), scale-free
                    from flatminima.validation.predict import non_gibbsianness
                    out[noise]["non_gibbsianness"] = non_gibbsianness(
                        land, noise, analysis.minimum,
                        {"saddle": path.saddle, "escape_direction": path.escape_direction}, mam.points)
            entry["quasi_potential"] = out


def _saddle_hint(land, h):
    from flatminima.validation.check import _hint
    return _hint(land, h)


def cmd_landscape(args) -> int:
    land = _load(args.landscape, args.minimum)
    groups, analyses = _analyses(land, args)
    objs = [a.to_dict() for a in analyses]
    noises = args.quasi_potential
    if noises is None:
        noises = ("hessian_fixed",) if 2 <= land.dim <= QP_DEFAULT_DIM else ()
    if noises:
        _add_quasi_potentials(land, analyses, objs, noises)
    if args.json:
        # one object: the given minimum, or else the lowest one found; "minima" lists every minimum found
        obj = objs[0]
        obj["minima"] = _minima_json(land, groups, analyses)
        print(json.dumps(obj, allow_nan=False))
        return 0
    print(render_landscape_table(land.name, land.dim, objs))
    if groups is not None and len(groups) > len(analyses):
        rest = groups[len(analyses):]
        why = ("the time budget ended" if land.dim <= ANALYSE_ALL_DIM else
               f"only the lowest minimum is analysed when dim > {ANALYSE_ALL_DIM}")
        print(f"{len(rest)} more minim{'a' if len(rest) > 1 else 'um'} found but not analysed ({why}); analyse one "
              f"with --minimum=" + ",".join(f"{v:.6g}" for v in rest[0][0]))
    return 0


def _minima_json(land, groups, analyses) -> list[dict]:
    """Every minimum found (one entry per valley of minima), marked analysed or not."""
    import numpy as np
    from flatminima.validation.check import _minima_list

    out = _minima_list(land, groups, analyses[0])
    for entry in out:
        entry["analysed"] = any(np.linalg.norm(np.asarray(entry["theta"]) - a.minimum)
                                <= 1e-6 * (1.0 + np.linalg.norm(a.minimum)) for a in analyses)
    return out


def render_landscape_table(name: str, dim: int, analyses: list[dict]) -> str:
    """A readable summary of basin analyses (JSON dicts, one block per minimum)."""
    def vec(v, digits=6):
        return "(" + ", ".join(f"{x + 0.0:.{digits}g}" for x in v[:6]) + (", …)" if len(v) > 6 else ")")

    lines = [f"landscape {name}  (dim {dim})", ""]
    for d in analyses:
        m = d["minimum"]
        lines.append(f"minimum θ = {vec(m['theta'])}   L = {m['loss']:.8g}   "
                     f"Hessian eigenvalues {vec(sorted(m['hessian_eigenvalues']), 5)}")
        if m.get("zero_modes"):
            dirs = m.get("zero_mode_directions") or []
            lines.append(f"  {m['zero_modes']} zero mode(s) (flat directions"
                         + (f", e.g. {vec(dirs[0], 3)}" if dirs else "") + "): a valley of minima, treated as one")
        if not d["paths"]:
            lines.append("  " + _no_saddle_text(d))
        else:
            lines.append(f"  {'saddle θ':<32} {'barrier ΔL':>12} {'H_ae':>10} {'|H_be|':>10} {'s':>8}  escape direction")
            for p in d["paths"]:
                s = "n/a" if p["s"] is None else f"{p['s']:.4f}"
                lines.append(f"  {vec(p['saddle']['theta'], 5):<32} {p['barrier']:>12.6f} {p['h_ae']:>10.4f} "
                             f"{p['h_be']:>10.4f} {s:>8}  {vec(p['escape_direction'], 3)}")
                if (p.get("tangent_angle_deg") or 0) > 10:
                    lines.append(f"    the path leaves the minimum {p['tangent_angle_deg']:.0f}° from e, curvature "
                                 f"{p['tangent_curvature']:.4g} along it: Eq. (7) along e is a heuristic here")
                for noise, q in (p.get("quasi_potential") or {}).items():
                    value = "∞ (no noise along a direction every path needs)" if q.get("value") is None else \
                        f"{q['value']:.6g} ± {q['error']:.2g}" + ("" if q.get("converged", True) else
                                                                    " (minimisation not converged)")
                    lines.append(f"    quasi-potential, {noise} noise: {value}  [{q.get('scale', '')}]")
                    ng = q.get("non_gibbsianness")
                    if ng is not None:
                        lines.append("    non-Gibbsianness I_ℓ (rate × e^(−I_ℓ)): " + (
                            f"{ng['value']:.4g} ± {ng['error']:.2g}" if ng.get("converged") else
                            "not computed: " + ng.get("reason", "")))
        if d.get("search"):
            search = d["search"]
            extra = "".join(f"; {n} saddle(s) {what}" for n, what in
                            ((search.get("saddles_not_adjacent"), "found border other basins"),
                             (search.get("saddles_unchecked"), "found but not checked (the budget ended)")) if n)
            lines.append(f"  searched: {search['summary']}{extra}")
        lines.append("")
    lines.append("s: fraction of ΔL climbed before the curvature along the minimum energy path changes "
                 "sign (the two-region split of Eq. (7)). Curvatures in loss units per θ².")
    return "\n".join(lines)


def _no_saddle_text(d: dict) -> str:
    search = d.get("search") or {}
    more = "a larger --budget, " if search.get("budget_ended") else ""
    return ("no index-1 saddle found on the boundary of this basin; help the search with " + more
            + "a guess --saddle=X,Y,.. (or a `saddles` attribute on the loss function)")


def _check_writable(out: Path) -> None:
    """Refuse an OUT that cannot be created or written, before any work starts."""
    import tempfile

    probe = out.absolute()
    while not probe.exists() and not probe.is_symlink():
        probe = probe.parent
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; it must be a folder (existing or to be created)")
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise UsageError(f"--out {out} is not writable (nearest existing folder: {probe})")
    try:                                   # os.access says yes to root everywhere: really try
        tempfile.TemporaryDirectory(dir=probe, prefix=".flatminima-probe-").cleanup()
    except OSError as err:
        raise UsageError(f"--out {out} is not writable (nearest existing folder {probe}: "
                         f"{err.strerror or type(err).__name__})") from None


def cmd_validate(args) -> int:
    from flatminima.validation.suites import get_suite

    suite = get_suite(args.suite)
    if args.size not in suite.sizes:
        raise UsageError(f"--size must be one of {', '.join(suite.sizes)} for suite {suite.name}; got {args.size!r}")
    out = args.out or Path("results") / suite.name
    _check_writable(out)
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    progress = False if args.quiet else None
    from flatminima.validation.executors import executor_for
    with executor_for(args.scheduler, args.workers) as executor:      # refuses a bad scheduler first
        log(f"flatminima: suite {suite.name} ({args.size}, expected {suite.sizes[args.size]}) -> {out}"
            + (f" on the Dask cluster at {args.scheduler}" if executor is not None else ""))
        result = suite.run(out, size=args.size, workers=args.workers, executor=executor, resume=args.resume,
                           progress=progress)
    result.save(out)
    from flatminima.reports.render import write_report
    paths = write_report(out, result)
    n_pass = sum(v.passed is True for v in result.verdicts)
    print(f"{n_pass} of {len(result.verdicts)} verdicts pass")
    for v in result.verdicts:
        print(f"  {v.status:<12}  [{v.check}] {v.claim}: measured {v.measured}; predicted {v.predicted}")
    for path in paths[:2]:
        print(path)
    return _strict_exit(result.status) if args.strict else 0


def _strict_exit(status: str) -> int:
    """--strict: 1 when a verdict failed, 3 when none failed but one could not decide, else 0."""
    return {"FAIL": 1, "INCONCLUSIVE": 3}.get(status, 0)


def cmd_check(args) -> int:
    from flatminima.validation.check import run_check

    if args.out is not None:
        _check_writable(args.out)
    hook, close = _progress_bar()
    try:
        obj, result = run_check(args.landscape, minimum=args.minimum, dynamics=args.dynamics, noise=args.noise,
                                criterion=args.criterion, temperature=args.temperature, eta=args.eta,
                                batch_size=args.batch_size, loss_unit=args.loss_unit, n_runs=args.runs,
                                max_steps=args.max_steps, seed=args.seed, saddles=args.saddle, budget=args.budget,
                                progress=hook, method=args.method, replicas=args.replicas, optimizer=args.optimizer,
                                momentum=args.momentum, nesterov=args.nesterov, beta2=args.beta2,
                                epsilon=args.epsilon, pnm_beta0=args.pnm_beta0, adai_beta0=args.adai_beta0,
                                figures=args.out is not None)      # figures only go into a written report
    finally:
        close()
    if args.out is not None:
        result.save(args.out)
        from flatminima.reports.render import write_report
        write_report(args.out, result)
    if args.json:
        print(json.dumps(obj, allow_nan=False, default=float))
    else:
        print(render_check_text(obj))
    return _strict_exit(result.status) if args.strict else 0


def render_check_text(obj: dict) -> str:
    """The text output of ``check``: the landscape table, notes, then one block per experiment."""
    from flatminima.validation.check import setting_text

    lines = [render_landscape_table(obj["landscape"], obj["dim"], [obj])]
    lines += [f"note: {n}" for n in obj.get("notes", [])]
    if obj.get("note"):
        lines.append(f"INCONCLUSIVE: {obj['note']}")
    for e in obj["experiments"]:
        status = {True: "PASS", False: "FAIL"}.get(e["agrees"], "INCONCLUSIVE")
        head = f"{e['dynamics'].upper()} ({e['noise']} noise, {e['criterion']} exit; {setting_text(e)})"
        pred = "predicted: n/a" if e["predicted_rate"] is None else \
            f"predicted γ = {e['predicted_rate']:.4g} ({e['law']}; allowed error ±{e['allowed_relative_error']:.2g})"
        lines += ["", f"{status:<12} {head}", f"             {pred}"]
        if e.get("paper_law_rate") is not None:
            where = "" if e["paper_law"].startswith("pnm") else "the paper's Eq. (7) along e: "
            lines.append(f"             beside it, {where}γ = {e['paper_law_rate']:.4g} "
                         f"({e['paper_law']}; not used for the verdict)")
        if e.get("corrected_rate") is not None:
            lines.append(f"             with the next term in D (finite barrier): γ = {e['corrected_rate']:.4g} "
                         f"({e['corrected_law']}; not used for the verdict)")
        if e.get("expected_escapes") is not None and e.get("method") != "ams":
            lines.append(f"             expected escapes: {e['expected_escapes']:.3g} in {e['n_runs']} runs of "
                         f"{e['max_steps']} steps")
        if e["simulated"] and e["rate_ci"] is None:
            lines.append("             measured: no rate (every AMS run returned p̂ = 0)")
        elif e["simulated"]:
            lo, hi = e["rate_ci"]
            meas = (f"measured γ = {e['measured_rate']:.4g}, 95% CI [{lo:.3g}, {hi:.3g}]" if e["n_escaped"]
                    else f"measured: no escape; upper bound γ ≤ {hi:.3g} (95%)")
            if e.get("method") == "exact":
                lines.append(f"             γ = {e['measured_rate']:.6g} ± {e['measured_rate'] - lo:.2g} (exact mean exit "
                             "time of the discrete 1-D chain: collocation, Richardson extrapolation, GTH)")
            elif e.get("method") == "ams":
                a = e["ams"]
                lines.append(f"             {meas} (adaptive multilevel splitting: {a['n_ams_runs']} runs × "
                             f"{a['n_replicas']} replicas, p = {a['probability']:.3g} per crossing of Σ every "
                             f"{a['loop_steps']:.4g} steps; precision of {e['n_escaped']} escapes; seed {e['seed']})")
            else:
                lines.append(f"             {meas} ({e['n_escaped']}/{e['n_runs']} escaped"
                             f"{', %d diverged' % e['n_diverged'] if e.get('n_diverged') else ''}; seed {e['seed']})")
        for key, why in e.get("chosen", {}).items():
            lines.append(f"             chosen {key}: {why}")
        for note in e.get("notes", []):
            lines.append(f"             note: {note}")
        reason = e.get("inconclusive_reason") or e.get("fail_reason")
        if reason:
            lines.append(f"             why: {reason}")
        if e.get("warnings"):
            lines.append(f"             warning: {e['warnings']}")
    lines += ["", "Rates per unit SDE time t = step·η (simulate: censored exponential MLE, 95% exact (Garwood) "
                  "intervals; ams: adaptive multilevel splitting, 95% intervals from independent runs). Diverged "
                  "particles are never counted as escapes."]
    return "\n".join(lines)


def cmd_suites(args) -> int:
    from flatminima.validation.suites import describe

    for name, description, sizes in describe():
        print(f"{name:<12} {description}")
        for size, when in sizes.items():
            print(f"{'':<14}--size {size}: {when}")
    return 0


def cmd_report(args) -> int:
    from flatminima.reports.render import write_report

    if not (args.out / "result.json").is_file():
        raise UsageError(f"{args.out} has no result.json (not a results folder of flatminima validate/check)")
    for path in write_report(args.out)[:2]:
        print(path)
    return 0


def _derive_formats(text: str) -> tuple:
    """--format of derive: md, html, latex, comma-separated."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    bad = [n for n in names if n not in DERIVE_FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--format takes {', '.join(DERIVE_FORMATS)} (comma-separated); "
                                         f"got {text!r}")
    return names


def cmd_derive(args) -> int:
    from flatminima.reports.derivations import write_derivation_report

    _check_writable(args.out)
    paths = write_derivation_report(args.out, formats=args.format)
    for path in paths:
        print(path)
    return 0


# ---------------------------------------------------------------------- entry point
def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean bad input: flatminima's own by type, and the user's files by the OS."""
    return (InputError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as exc:              # --help, or argparse's own exit
        return int(exc.code or 0)
    except BrokenPipeError:                # output piped into `head` etc.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("flatminima: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            msg = " ".join(str(exc).split()) or type(exc).__name__
            msg = msg.replace("pass resume=True", "pass --resume")
            print(f"flatminima: error: {msg}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
