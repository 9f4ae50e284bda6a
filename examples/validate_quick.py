"""Run the ``quick`` validation suite from Python and read its verdicts back from ``result.json``.

What ``flatminima validate --suite quick --out DIR`` does, step by step: get the suite, run its sweeps
(SGLD against 1/D and log k, two-region SGD noise against B, on the 1-D double well) into ``DIR/store``,
save ``DIR/result.json``, write the report. The verdicts are then read from ``result.json`` alone, as
``flatminima report DIR`` does: each one states what was measured (with its 95% interval or standard
error), what the law predicts and the tolerance. A second run with ``--resume`` recomputes nothing.

``--small`` runs the suite's smallest size (``flatminima suites`` lists the sizes and their run times)
and skips the HTML report.

Run it::

    python examples/validate_quick.py [--small] [--out DIR] [--workers N] [--resume]
"""
import argparse
import json
import tempfile
from pathlib import Path

import flatminima


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the suite's smallest size, no HTML report")
    parser.add_argument("--size", default="full", help="suite size (default: full; see `flatminima suites`)")
    parser.add_argument("--out", help="results folder (default: a temporary folder)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--resume", action="store_true", help="reuse the finished tasks stored in --out")
    args = parser.parse_args(argv)

    suite = flatminima.get_suite("quick")
    size = next(iter(suite.sizes)) if args.small else args.size     # sizes are listed smallest first
    if size not in suite.sizes:
        raise flatminima.InputError(f"--size must be one of {', '.join(suite.sizes)}; got {size!r}")
    out = Path(args.out or tempfile.mkdtemp(prefix="flatminima-quick-"))
    print(f"suite {suite.name} ({size}: {suite.sizes[size]}) -> {out}")

    result = suite.run(out, size=size, workers=args.workers, resume=args.resume, progress=False)
    result.save(out)                                      # out/result.json; the rows are in out/store/
    if not args.small:
        from flatminima.reports.render import write_report

        for path in write_report(out, result)[:2]:
            print(path)

    saved = json.loads((out / "result.json").read_text())
    verdicts = saved["verdicts"]
    print(f"\n{saved['title']}")
    print(f"{sum(v['passed'] is True for v in verdicts)} of {len(verdicts)} verdicts pass")
    for v in verdicts:
        status = {True: "PASS", False: "FAIL"}.get(v["passed"], "INCONCLUSIVE")
        print(f"{status:<12} [{v['check']}] {v['claim']}")
        print(f"{'':13}measured {v['measured']}; predicted {v['predicted']} (tolerance: {v['tolerance']})")


if __name__ == "__main__":
    main()
