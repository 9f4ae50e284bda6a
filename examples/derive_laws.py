"""Derive the escape-rate laws and evaluate them.

SymPy derives every law once (``flatminima.formulas()``, a few seconds); each law is a callable
``Formula`` with its LaTeX, its parameters (glossary names), the regime in which it holds and a
vectorised numeric function. This example

1. lists the registry,
2. shows the 1-D Kramers rate (white noise, SGLD) and the paper's SGD law, Eq. (7), with their regimes,
3. evaluates both on the double well L = θ⁴/4 − θ²/2 (ΔL = 1/4, H_ae = 2, |H_be| = 1, s = 4/9) and checks
   the SGD rate against its closed form γ = (H_ae/2π)·exp(−(2BΔL/ηλ)(s/H_ae + (1 − s)/|H_be|)),
4. writes the step-by-step derivation report (derivations.md and .html) into ``--out``
   (default: a temporary folder), as ``flatminima derive`` does.

Rates are per unit SDE time t = step × η.

Run it::

    python examples/derive_laws.py [--small] [--out DIR]
"""
import argparse
import math
import tempfile

import numpy as np

import flatminima

# the double well θ⁴/4 − θ²/2: barrier, curvatures at the minimum and the saddle, path parameter s
WELL = {"barrier": 0.25, "h_ae": 2.0, "h_be": 1.0, "s": 4 / 9}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer points; no report unless --out is given")
    parser.add_argument("--out", help="folder for derivations.md/.html (default: a temporary folder)")
    args = parser.parse_args(argv)

    laws = flatminima.formulas()
    print(f"{len(laws)} derived laws, e.g. {', '.join(laws.names()[:4])}, ...")

    kramers = laws["kramers_1d_rate"]
    print(f"\n{kramers.name}: {kramers.description}")
    print(f"  LaTeX:      {kramers.equation_latex}")
    print(f"  parameters: {', '.join(kramers.params)}")
    print(f"  source:     {kramers.source}")
    for condition, why in kramers.regime:
        print(f"  regime:     {condition}  ({why})")

    temperatures = np.array([0.05, 0.04]) if args.small else np.linspace(0.025, 0.05, 6)
    rates = kramers(temperature=temperatures, barrier=WELL["barrier"], h_ae=WELL["h_ae"], h_be=WELL["h_be"])
    for temperature, rate in zip(temperatures, rates):
        print(f"  D = {temperature:.4f}: γ = {rate:.6g} per unit SDE time (exponent ΔL/D = "
              f"{WELL['barrier'] / temperature:.1f})")

    # Eq. (7) with the Itô prefactor (discrete SGD); flatminima.sgd_law() alone gives the paper's convention
    sgd = flatminima.sgd_law("rate", convention="ito")
    print(f"\n{sgd.name}: {sgd.description}")
    print(f"  LaTeX:      {sgd.equation_latex}")
    for condition, why in sgd.regime:
        print(f"  regime:     {condition}  ({why})")
    eta, loss_unit = 0.01, 25.0
    batches = [4, 6] if args.small else [4, 5, 6, 7, 8]
    for batch_size in batches:
        rate = sgd(eta=eta, batch_size=batch_size, loss_unit=loss_unit, **WELL)
        exponent = 2 * batch_size * WELL["barrier"] / (eta * loss_unit) * (
            WELL["s"] / WELL["h_ae"] + (1 - WELL["s"]) / WELL["h_be"])
        closed_form = WELL["h_ae"] / (2 * math.pi) * math.exp(-exponent)
        print(f"  B = {batch_size}: γ = {rate:.6g} (closed form {closed_form:.6g}; exponent {exponent:.3f})")

    if args.out or not args.small:
        from flatminima.reports.derivations import write_derivation_report

        out = args.out or tempfile.mkdtemp(prefix="flatminima-derive-")
        print()
        for path in write_derivation_report(out):
            print(f"derivation report: {path}")


if __name__ == "__main__":
    main()
