"""ST-10D SGLD and fixed-matrix (anisotropic) escape throughput, against the generator rate.

Run by hand: ``.venv/bin/python benchmarks/bench_sgld.py``. Every figure is measured in this run;
ratios compare figures of the same run and the same clock.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, timed  # noqa: E402
from numerics import kernels as K  # noqa: E402
from numerics import streams  # noqa: E402
from numerics.builtins import styblinski_tang  # noqa: E402

D = 10
N_RUNS, MAX_STEPS = 2000, 5000          # 1e7 particle-steps per call
ETA, TEMPERATURE = 0.01, 1.0


def generator_rates(n=20_000_000, repeats=3):
    """Normals/s of numpy's bulk ``standard_normal(out=...)`` (PCG64, SFC64) and of the compiled stream."""
    buf = np.empty(n)
    out = {}
    for bg in (np.random.PCG64, np.random.SFC64):
        gen = np.random.Generator(bg(1))
        w, c, _ = timed(lambda: gen.standard_normal(out=buf), repeats)
        out[f"numpy_{bg.__name__}"] = {"wall": n / w, "cpu": n / c}
    _fill(np.uint64(1), buf[:10])
    w, c, _ = timed(lambda: _fill(np.uint64(1), buf), repeats)
    out["compiled_PCG64"] = {"wall": n / w, "cpu": n / c}
    return out


@njit(cache=True)
def _fill(seed, out):
    """The kernel's own generator (numpy-identical PCG64 stream of particle 0) into a preallocated buffer."""
    shi, slo, ihi, ilo = K._pcg_seed(seed, 0, 0)
    for k in range(out.shape[0]):
        out[k], shi, slo = K._pcg_normal(shi, slo, ihi, ilo)


def escape_rate(noise, workers=1, repeats=3):
    """Particle-steps/s of fixed_noise_escape on ST-10D (radius criterion never met: pure stepping)."""
    st = styblinski_tang(D)
    m = st.minima[0]
    kw = dict(eta=ETA, n_runs=N_RUNS, max_steps=MAX_STEPS, seed=1, criterion="radius", radius=100.0, workers=workers)
    kw.update(noise)
    K.fixed_noise_escape(st, m, **{**kw, "n_runs": 2, "max_steps": 2})      # compile / load cache
    w, c, r = timed(lambda: K.fixed_noise_escape(st, m, **kw), repeats)
    total = int(r.steps.sum())
    assert not r.escaped.any() and not r.diverged.any()
    return {"wall": total / w, "cpu": total / c, "particle_steps": total}


def run() -> dict:
    st = styblinski_tang(D)
    m = st.minima[0]
    h = st.hessian(m)
    chol = K.hessian_fixed_noise_matrix(h + 2.0 * np.ones((D, D)), eta=ETA, batch_size=1, loss_unit=50.0)
    dense = 0.05 * np.random.default_rng(0).standard_normal((D, D))
    res = {"machine": machine(), "stream_bit_generator": streams.BIT_GENERATOR.__name__}
    res["generators"] = generator_rates()
    res["sgld_1core"] = escape_rate({"temperature": TEMPERATURE})
    res["sgld_2threads"] = escape_rate({"temperature": TEMPERATURE}, workers=2)
    res["sgld_1core_again"] = escape_rate({"temperature": TEMPERATURE})     # drift check of the 1-core baseline
    res["hessian_fixed_cholesky_1core"] = escape_rate({"noise_matrix": chol})
    res["dense_matrix_1core"] = escape_rate({"noise_matrix": dense})
    res["machine"]["load_avg_1min_end"] = machine()["load_avg_1min"]
    return res


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
