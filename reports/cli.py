"""The ``flatminima`` command line: a thin layer over the Python API (DESIGN §7).

User errors print one line on stderr and exit with code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path

EXAMPLES = {
    "landscape": """examples:
  flatminima landscape styblinski-tang:dim=2
  flatminima landscape double-well:barrier_left=1,h_left=4 --json
  flatminima landscape muller-brown --minimum=-0.56,1.44
  flatminima landscape path/to/loss.py:my_loss --minimum=0,0""",
    "validate": """examples:
  flatminima validate --suite quick                   # CI-sized, about a minute
  flatminima validate --suite paper --out results/paper --workers 2
  flatminima validate --suite paper --out results/paper --resume   # continue an interrupted run
  flatminima validate --suite paper --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
  flatminima validate --suite quick --strict          # exit 1 when a verdict fails""",
    "check": """examples:
  flatminima check double-well --json
  flatminima check two-well-2d --dynamics sgld --temperature 0.1 --runs 300
  flatminima check double-well --dynamics sgd --batch-size 2 --loss-unit 12.5 --eta 0.02
  flatminima check path/to/loss.py:my_loss --minimum=-1,0 --out results/mine""",
    "report": """examples:
  flatminima report results/paper     # rebuild report.md/report.html from results/paper/result.json""",
    "derive": """examples:
  flatminima derive                 # writes derivations/derivations.md and .html
  flatminima derive --out report/""",
}


class UsageError(Exception):
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
    p.add_argument("--json", action="store_true", help="print the JSON object of DESIGN §7 (no experiments)")
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
                       help="run tasks on a Dask cluster (tcp://host:8786; see README 'Running on a cluster')")
    p.add_argument("--resume", action="store_true", help="skip tasks already in OUT/store")
    p.add_argument("--strict", action="store_true", help="exit 1 when a verdict fails")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("check", help="analyse a landscape, predict and simulate escape rates, compare",
                       epilog=EXAMPLES["check"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("landscape", metavar="LANDSCAPE", help="built-in spec or path/to/file.py:function")
    p.add_argument("--minimum", type=_vector, metavar="X,Y,..", help="start of the minimum search")
    p.add_argument("--dynamics", choices=["sgld", "sgd"], default=None, help="default: both")
    p.add_argument("--noise", default=None, metavar="MODEL",
                   help="noise model for sgd (default hessian_two_region; see DESIGN §4)")
    p.add_argument("--criterion", default="basin", metavar="NAME",
                   help="exit criterion: basin (default), dividing_surface, loss_level, radius")
    p.add_argument("--temperature", type=_positive_float("--temperature"), default=None, metavar="D",
                   help="SGLD temperature D > 0")
    p.add_argument("--eta", type=_positive_float("--eta"), default=None, metavar="ETA",
                   help="step η, 0 < η < 2/λ_max(H_a) (default 0.05/λ_max(H_a))")
    p.add_argument("--batch-size", type=_positive_int("--batch-size"), default=None, metavar="B")
    p.add_argument("--loss-unit", type=_positive_float("--loss-unit"), default=None, metavar="LAMBDA",
                   help="λ > 0 in C = λH/B (default 1)")
    p.add_argument("--runs", type=_positive_int("--runs"), default=200, metavar="N")
    p.add_argument("--max-steps", type=_positive_int("--max-steps"), default=None, metavar="T")
    p.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="also write a report there")
    p.add_argument("--json", action="store_true", help="print the JSON object of DESIGN §7")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("suites", help="list the validation suites with their sizes and run times",
                       epilog="examples:\n  flatminima suites\n  flatminima validate --suite quick --size default",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=cmd_suites)

    p = sub.add_parser("report", help="rebuild a report from a results folder (no recomputation)",
                       epilog=EXAMPLES["report"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, metavar="OUT", help="a results folder holding result.json")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("derive", help="write the derivation report (derivations.md, derivations.html)",
                       epilog=EXAMPLES["derive"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("derivations"), metavar="DIR", help="output folder")
    p.set_defaults(func=cmd_derive)
    return parser


# ---------------------------------------------------------------------- commands
def _load(spec: str, minimum):
    from numerics import build_landscape
    return build_landscape(spec, dim=None if minimum is None else len(minimum))


def _analyses(land, minimum):
    if minimum is not None and len(minimum) != land.dim:
        raise UsageError(f"--minimum has {len(minimum)} coordinates but {land.name} has dim {land.dim}")
    import numpy as np
    from numerics.basin import analyse_basin
    from numerics.critical import find_minima

    if minimum is not None:
        return [analyse_basin(land, np.asarray(minimum, float))]
    return [analyse_basin(land, m) for m in find_minima(land)]


def cmd_landscape(args) -> int:
    land = _load(args.landscape, args.minimum)
    analyses = _analyses(land, args.minimum)
    if args.json:
        # one object (DESIGN §7): the given minimum, or else the lowest one found
        print(json.dumps(analyses[0].to_dict()))
        return 0
    print(render_landscape_table(land.name, land.dim, [a.to_dict() for a in analyses]))
    return 0


def render_landscape_table(name: str, dim: int, analyses: list[dict]) -> str:
    """A readable summary of basin analyses (DESIGN §7 dicts, one block per minimum)."""
    def vec(v, digits=6):
        return "(" + ", ".join(f"{x:.{digits}g}" for x in v[:6]) + (", …)" if len(v) > 6 else ")")

    lines = [f"landscape {name}  (dim {dim})", ""]
    for d in analyses:
        m = d["minimum"]
        lines.append(f"minimum θ = {vec(m['theta'])}   L = {m['loss']:.8g}   "
                     f"Hessian eigenvalues {vec(sorted(m['hessian_eigenvalues']), 5)}")
        if not d["paths"]:
            lines.append("  no index-1 saddle found on the boundary of this basin")
        else:
            lines.append(f"  {'saddle θ':<32} {'barrier ΔL':>12} {'H_ae':>10} {'|H_be|':>10} {'s':>8}  escape direction")
            for p in d["paths"]:
                lines.append(f"  {vec(p['saddle']['theta'], 5):<32} {p['barrier']:>12.6f} {p['h_ae']:>10.4f} "
                             f"{p['h_be']:>10.4f} {p['s']:>8.4f}  {vec(p['escape_direction'], 3)}")
        lines.append("")
    lines.append("s: fraction of ΔL climbed before the curvature along the minimum energy path changes "
                 "sign (THEORY §5.2). Curvatures in loss units per θ².")
    return "\n".join(lines)


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
    from validation.suites import get_suite

    suite = get_suite(args.suite)
    if args.size not in suite.sizes:
        raise UsageError(f"--size must be one of {', '.join(suite.sizes)} for suite {suite.name}; got {args.size!r}")
    out = args.out or Path("results") / suite.name
    _check_writable(out)
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    progress = False if args.quiet else None
    from validation.executors import executor_for
    with executor_for(args.scheduler, args.workers) as executor:      # refuses a bad scheduler first
        log(f"flatminima: suite {suite.name} ({args.size}, expected {suite.sizes[args.size]}) -> {out}"
            + (f" on the Dask cluster at {args.scheduler}" if executor is not None else ""))
        result = suite.run(out, size=args.size, workers=args.workers, executor=executor, resume=args.resume,
                           progress=progress)
    result.save(out)
    from reports.render import write_report
    paths = write_report(out, result)
    n_pass = sum(v.passed for v in result.verdicts)
    print(f"{n_pass} of {len(result.verdicts)} verdicts pass")
    for v in result.verdicts:
        print(f"  {'PASS' if v.passed else 'FAIL'}  [{v.check}] {v.claim}: measured {v.measured}; predicted {v.predicted}")
    for path in paths[:2]:
        print(path)
    return 1 if (args.strict and n_pass < len(result.verdicts)) else 0


def cmd_check(args) -> int:
    from validation.check import run_check

    if args.out is not None:
        _check_writable(args.out)
    obj, result = run_check(args.landscape, minimum=args.minimum, dynamics=args.dynamics, noise=args.noise,
                            criterion=args.criterion, temperature=args.temperature, eta=args.eta,
                            batch_size=args.batch_size, loss_unit=args.loss_unit, runs=args.runs,
                            max_steps=args.max_steps, seed=args.seed)
    if args.out is not None:
        result.save(args.out)
        from reports.render import write_report
        write_report(args.out, result)
    if args.json:
        print(json.dumps(obj, allow_nan=False, default=float))
        return 0
    print(render_landscape_table(obj["landscape"], obj["dim"], [obj]))
    for e in obj["experiments"]:
        ci = e["rate_ci"]
        pred = "n/a" if e["predicted_rate"] is None else f"{e['predicted_rate']:.4g} ({e['law']})"
        print(f"{e['dynamics']:>5} {e['noise']:<20} η={e['eta']:.4g}  measured γ = {e['measured_rate']:.4g} "
              f"[{ci[0]:.3g}, {ci[1]:.3g}] ({e['n_escaped']}/{e['n_runs']} escaped"
              f"{', %d diverged' % e['n_diverged'] if e.get('n_diverged') else ''})  predicted {pred}  "
              f"agrees: {e['agrees']}")
        if e.get("warnings"):
            print(f"      warning: {e['warnings']}")
    print("Rates per unit SDE time t = step·η; 95% exact (Garwood) intervals. Diverged particles are never "
          "counted as escapes.")
    return 0


def cmd_suites(args) -> int:
    from validation.suites import describe

    for name, description, sizes in describe():
        print(f"{name:<12} {description}")
        for size, when in sizes.items():
            print(f"{'':<14}--size {size}: {when}")
    return 0


def cmd_report(args) -> int:
    from reports.render import write_report

    if not (args.out / "result.json").is_file():
        raise UsageError(f"{args.out} has no result.json (not a results folder of flatminima validate/check)")
    for path in write_report(args.out)[:2]:
        print(path)
    return 0


def cmd_derive(args) -> int:
    from reports.derivations import write_derivation_report

    paths = write_derivation_report(args.out)
    for path in paths:
        print(path)
    return 0


# ---------------------------------------------------------------------- entry point
def _user_errors():
    from numerics.errors import LandscapeError
    from validation.executors import SchedulerUnreachableError
    from validation.store import StoreLockedError
    from validation.sweep import ResultsExistError
    errors = [UsageError, LandscapeError, FileNotFoundError, PermissionError, IsADirectoryError,
              SchedulerUnreachableError, StoreLockedError, ResultsExistError]
    try:
        from theory.formula import DomainError
        errors.append(DomainError)
    except ImportError:
        pass
    return tuple(errors)


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
        if isinstance(exc, _user_errors()) or (isinstance(exc, ValueError) and _raised_by_flatminima(exc)):
            msg = " ".join(str(exc).split()) or type(exc).__name__
            msg = msg.replace("pass resume=True", "pass --resume")
            print(f"flatminima: error: {msg}", file=sys.stderr)
            return 2
        raise


_PACKAGES = tuple(str(Path(__file__).resolve().parents[1] / name) + os.sep
                  for name in ("theory", "numerics", "validation", "reports"))


def _raised_by_flatminima(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is flatminima's own code (a deliberate input check)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return str(Path(tb.tb_frame.f_code.co_filename).resolve()).startswith(_PACKAGES)


if __name__ == "__main__":
    sys.exit(main())
