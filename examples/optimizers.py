"""SGD, heavy-ball momentum and Adam on the same double well, with the same stochastic gradient.

``flatminima.check(..., optimizer=...)`` applies that optimizer's update to SGD-type gradient noise
(two-region model C = λH/B on the 1-D double well θ⁴/4 − θ²/2; λ is chosen so that the predicted
exponent is 5) and predicts each through the SGD run it equals in the diffusion limit: heavy ball
(β = 0.9) is SGD at η/(1 − β) with an underdamped Kramers factor, Adam is SGD on L(√P·θ) with its
preconditioner P frozen at the minimum. Without ``eta`` the effective learning rate is the SGD
default, so the three runs are comparable. Verdicts are printed as measured: at this small exponent
heavy ball's and Adam's rates can run above their laws (the ``optimizers`` suite, ``flatminima validate
--suite optimizers``, tests the exponents through their slopes against B instead).

Rates are per unit SDE time t = step × η (η each optimizer's own).

Run it::

    python examples/optimizers.py [--small] [--runs N]
"""
import argparse

import flatminima

OPTIMIZERS = {"sgd": {}, "momentum": {"momentum": 0.9}, "adam": {"momentum": 0.9, "beta2": 0.999}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer runs (a few seconds each)")
    parser.add_argument("--runs", type=int, help="escape runs per optimizer (default 2000, or 300 with --small)")
    args = parser.parse_args(argv)
    n_runs = args.runs or (300 if args.small else 2000)

    print(f"{'optimizer':<10} {'eta':>9} {'loss unit':>10} {'predicted':>10} {'measured (95% CI)':>34}  verdict")
    for name, hyper in OPTIMIZERS.items():
        obj, result = flatminima.check("double-well", dynamics="sgd", optimizer=name, n_runs=n_runs, seed=0,
                                       **hyper)
        e = obj["experiments"][0]
        lo, hi = e["rate_ci"]
        print(f"{name:<10} {e['eta']:>9.4g} {e['loss_unit']:>10.4g} {e['predicted_rate']:>10.4g} "
              f"{e['measured_rate']:>10.4g} [{lo:.4g}, {hi:.4g}]  {result.status}")
        print(f"{'':<10} law: {e['law']}; {e['n_escaped']} of {e['n_runs']} runs escaped")


if __name__ == "__main__":
    main()
