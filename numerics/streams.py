"""Per-particle random streams: a particle's draws depend only on (seed, particle index).

Contract shared by every simulator path (numpy reference and compiled kernels), so that the same
seed gives identical exit steps whatever the chunking, worker count or backend:

- particle ``i`` of a run with seed ``seed`` owns ``SeedSequence(seed, spawn_key=(i,))``;
- its stream ``j`` is ``Generator(BIT_GENERATOR(SeedSequence(seed, spawn_key=(i, j))))``:
  stream ``NOISE`` (0) feeds the noise of the update, stream ``AUX`` (1) feeds everything else
  (Brownian-bridge uniforms, minibatch indices are noise and use stream 0);
- each stream is consumed in step order, the same number of variates every step, in the order
  documented by the noise model or criterion that uses it.
"""
from __future__ import annotations

import numpy as np

from flatminima.errors import InputError

BIT_GENERATOR = np.random.PCG64
NOISE, AUX = 0, 1


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def particle_stream(seed: int, particle: int, stream: int) -> np.random.Generator:
    """The Generator of one stream of one particle (see the module docstring)."""
    seed = _check_seed(seed)
    return np.random.Generator(BIT_GENERATOR(np.random.SeedSequence(seed, spawn_key=(int(particle), int(stream)))))


def particle_streams(seed: int, particles, stream: int) -> list[np.random.Generator]:
    """Generators of one stream for each particle index in ``particles``."""
    return [particle_stream(seed, int(i), stream) for i in particles]
