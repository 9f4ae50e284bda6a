"""The ``flatminima`` command line: a thin layer over the Python API (DESIGN §7).

User errors print one line on stderr and exit with code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

EXAMPLES = {
    "landscape": """examples:
  flatminima landscape styblinski-tang:dim=2
  flatminima landscape double-well:barrier_left=1,h_left=4 --json
  flatminima landscape muller-brown --minimum=-0.56,1.44
  flatminima landscape path/to/loss.py:my_loss --minimum=0,0""",
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
    print(render_landscape_table(land, analyses))
    return 0


def render_landscape_table(land, analyses) -> str:
    """A readable summary of basin analyses (one block per minimum)."""
    def vec(v, digits=6):
        return "(" + ", ".join(f"{x:.{digits}g}" for x in v[:6]) + (", …)" if len(v) > 6 else ")")

    lines = [f"landscape {land.name}  (dim {land.dim})", ""]
    for a in analyses:
        d = a.to_dict()
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


def cmd_derive(args) -> int:
    from reports.derivations import write_derivation_report

    paths = write_derivation_report(args.out)
    for path in paths:
        print(path)
    return 0


# ---------------------------------------------------------------------- entry point
def _user_errors():
    from numerics.errors import LandscapeError
    errors = [UsageError, LandscapeError, FileNotFoundError, PermissionError, IsADirectoryError]
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
    except KeyboardInterrupt:
        print("flatminima: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()) or (isinstance(exc, ValueError) and type(exc).__module__.split(".")[0]
                                               in ("numerics", "theory", "validation", "reports")):
            msg = " ".join(str(exc).split()) or type(exc).__name__
            print(f"flatminima: error: {msg}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
