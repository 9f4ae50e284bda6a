"""One replicated SGD step of an MLP 10-32-2 with R = 64 replicas and batch size 32.

The data: 512 rows of 10 Gaussian features with a 2-class label, written to a temporary CSV and
loaded by ``numerics.mlp.mlp`` (none of the bundled sets has 10 features). One step is: draw the
(B, R) minibatch indices, ``MLPModel.minibatch_grad`` into a preallocated array, and θ ← θ − η·g.
``minibatch_grad`` is what the simulations call; for 64 replicas of this 418-parameter network it
runs the compiled (numba) kernel ``numerics.kernels.mlp.minibatch_grad_into``, forward and backward
pass in one call (the warm-up steps compile or load it; the numpy path ``minibatch_grad_reference``
is not timed). Index draws use one numpy Generator here; per-replica streams (numerics.streams)
cost more and are the simulator's business.
Run by hand: ``.venv/bin/python benchmarks/bench_mlp.py``.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402

R, B, M, N_STEPS = 64, 32, 512, 2000


def run() -> dict:
    from flatminima.numerics.mlp import initial_theta, mlp, mlp_model

    rng = np.random.default_rng(0)
    X = rng.standard_normal((M, 10))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.5).astype(int)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic10.csv"
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
        land = mlp(str(path), hidden="32")
    model = mlp_model(land)
    assert model.layer_sizes == (10, 32, 2), model.layer_sizes
    thetas = np.tile(initial_theta(land, 0), (R, 1))
    g = np.empty_like(thetas)
    gen = np.random.default_rng(1)
    eta = 0.05

    def steps(n):
        for _ in range(n):
            idx = gen.integers(0, M, size=(B, R))
            model.minibatch_grad(thetas, idx, out=g)
            np.subtract(thetas, eta * g, out=thetas)

    steps(50)
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        steps(N_STEPS)
        best_cpu = min(best_cpu, (time.process_time() - c) / N_STEPS)
        best_wall = min(best_wall, (time.perf_counter() - w) / N_STEPS)
    # baseline in the same run: one (R, B, 10) @ (R, 10, 32) matmul, the first layer's forward product
    a, b = rng.standard_normal((R, B, 11)), rng.standard_normal((R, 11, 32))
    w = time.perf_counter()
    for _ in range(N_STEPS):
        np.matmul(a, b)
    matmul = (time.perf_counter() - w) / N_STEPS
    return {"machine": machine(), "layer_sizes": list(model.layer_sizes), "replicas": R, "batch_size": B,
            "n_params": model.dim, "step_ms_wall": best_wall * 1e3, "step_ms_cpu": best_cpu * 1e3,
            "first_layer_matmul_ms": matmul * 1e3, "step_over_matmul": best_wall / matmul}


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
