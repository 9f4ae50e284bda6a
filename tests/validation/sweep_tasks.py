"""Cheap seeded task functions for the sweep tests; top-level so that spawned workers can import them."""
import os

import numpy as np

N_ROWS = 3


def noisy_line(config: dict, seed: int) -> list[dict]:
    """Rows y = slope·x + N(0, 1) noise drawn from ``seed``: deterministic given (config, seed)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=N_ROWS)
    return [{"rep": i, "y": config["slope"] * config["x"] + float(noise[i]), "seed": seed}
            for i in range(N_ROWS)]


def fails_on_multiples_of_three(config: dict, seed: int) -> list[dict]:
    """``noisy_line``, except that it raises for x divisible by 3 (an interrupted first run)."""
    if config["x"] % 3 == 0:
        raise RuntimeError(f"simulated failure at x={config['x']}")
    return noisy_line(config, seed)


def kills_worker_at_x(config: dict, seed: int) -> list[dict]:
    """``noisy_line``, except that the worker process dies (``os._exit``) at ``config['x'] == config['kill_at']``."""
    if config["x"] == config["kill_at"]:
        os._exit(3)
    return noisy_line(config, seed)


def returns_bad_rows(config: dict, seed: int):
    """Returns a dict instead of a list of dicts."""
    return {"y": 1.0}
