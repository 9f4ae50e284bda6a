"""ST-10D SGLD and fixed-matrix (anisotropic) escape throughput, against the generator rate.

Run by hand: ``.venv/bin/python benchmarks/bench_sgld.py``. Every figure is measured in this run;
ratios compare figures of the same run and the same clock. The calls take turns (``timed_rounds``),
and each figure is the best of its rounds, with the median beside it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, timed_rounds  # noqa: E402
from flatminima.numerics import kernels as K  # noqa: E402
from flatminima.numerics.kernels import rng  # noqa: E402
from flatminima.numerics import streams  # noqa: E402
from flatminima.numerics.builtins import styblinski_tang  # noqa: E402

D = 10
N_RUNS, MAX_STEPS = 1000, 5000          # 5e6 particle-steps per call
N_NORMALS = 10_000_000                  # per generator call
ETA, TEMPERATURE = 0.01, 1.0
ROUNDS = 9


@njit(cache=True)
def _fill(seed, out):
    """The kernel's own generator (numpy-identical PCG64 stream of particle 0) into a preallocated buffer."""
    shi, slo, ihi, ilo = rng.pcg_seed(seed, 0, 0)
    for k in range(out.shape[0]):
        out[k], shi, slo = rng.pcg_normal(shi, slo, ihi, ilo)


def _escape(noise, workers=1):
    """A call of fixed_noise_escape on ST-10D (radius criterion never met: pure stepping), compiled first."""
    st = styblinski_tang(D)
    m = st.minima[0]
    kw = dict(eta=ETA, n_runs=N_RUNS, max_steps=MAX_STEPS, seed=1, criterion="radius", radius=100.0, workers=workers)
    kw.update(noise)
    K.fixed_noise_escape(st, m, **{**kw, "n_runs": 2, "max_steps": 2})      # compile / load cache
    return lambda: K.fixed_noise_escape(st, m, **kw)


def _rate(t: dict, per_call: int) -> dict:
    """Rates (per second) of a ``timed_rounds`` entry that does ``per_call`` units of work per call."""
    return {"wall": per_call / t["wall"], "cpu": per_call / t["cpu"], "wall_median": per_call / t["wall_median"],
            "cpu_median": per_call / t["cpu_median"], "rounds": t["rounds"]}


def run(rounds: int = ROUNDS) -> dict:
    """Generator rates and escape throughputs, all timed in the same rounds (``timed_rounds``)."""
    st = styblinski_tang(D)
    h = st.hessian(st.minima[0])
    chol = K.hessian_fixed_noise_matrix(h + 2.0 * np.ones((D, D)), eta=ETA, batch_size=1, loss_unit=50.0)
    dense = 0.05 * np.random.default_rng(0).standard_normal((D, D))
    buf = np.empty(N_NORMALS)
    gens = {bg.__name__: np.random.Generator(bg(1)) for bg in (np.random.PCG64, np.random.SFC64)}
    _fill(np.uint64(1), buf[:10])
    fns = {"numpy_PCG64": lambda: gens["PCG64"].standard_normal(out=buf),
           "numpy_SFC64": lambda: gens["SFC64"].standard_normal(out=buf),
           "compiled_PCG64": lambda: _fill(np.uint64(1), buf),
           "sgld_1core": _escape({"temperature": TEMPERATURE}),
           "sgld_2threads": _escape({"temperature": TEMPERATURE}, workers=2),
           "hessian_fixed_cholesky_1core": _escape({"noise_matrix": chol}),
           "dense_matrix_1core": _escape({"noise_matrix": dense})}
    t = timed_rounds(fns, rounds)
    res = {"machine": machine(), "stream_bit_generator": streams.BIT_GENERATOR.__name__,
           "generators": {k: _rate(t[k], N_NORMALS) for k in ("numpy_PCG64", "numpy_SFC64", "compiled_PCG64")}}
    for k in ("sgld_1core", "sgld_2threads", "hessian_fixed_cholesky_1core", "dense_matrix_1core"):
        r = t[k]["result"]
        assert not r.escaped.any() and not r.diverged.any()
        res[k] = {**_rate(t[k], int(r.steps.sum())), "particle_steps": int(r.steps.sum())}
    res["machine"]["load_avg_1min_end"] = machine()["load_avg_1min"]
    return res


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
