"""Plain-numpy reference of the compiled fixed-noise escape simulation: autograd gradients, numpy Generators."""
from __future__ import annotations

import math

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import streams
from flatminima.numerics.kernels.driver import KernelEscape, prepare, second_region
from flatminima.numerics.kernels.loops import DIVIDING, RADIUS
from flatminima.numerics.landscape import Landscape, _batch_grad


def fixed_noise_escape_reference(landscape: Landscape, start, *, eta: float, noise_matrix=None, n_runs: int,
                                 max_steps: int, seed: int, criterion: str, point=None, normal=None,
                                 center=None, radius: float | None = None, level: float | None = None,
                                 minimum_loss: float | None = None, particle_offset: int = 0,
                                 bridge: bool = False, temperature: float | None = None,
                                 return_theta: bool = False, noise_matrix_after=None, split_point=None,
                                 split_normal=None) -> KernelEscape:
    """Plain-numpy reference of :func:`numerics.kernels.driver.fixed_noise_escape` (same contract, same results).

    Independent of the compiled path: gradients and losses come from autograd (any landscape works,
    built-in or not), the noise from ``numpy.random.Generator`` objects built by
    :func:`numerics.streams.particle_stream`. Particles advance together, vectorised across the
    still-running ones; slow, for tests and small runs. Parameters and returns as
    :func:`numerics.kernels.driver.fixed_noise_escape` (without ``workers``).
    """
    start, eta, S, n_runs, max_steps, seed, crit, cp, bridge_c, offset = prepare(
        landscape, start, eta, noise_matrix, temperature, n_runs, max_steps, seed, criterion,
        point, normal, center, radius, level, minimum_loss, particle_offset, bridge,
        lambda th: landscape.value(th))
    d = landscape.dim
    grad = _batch_grad(landscape.loss)
    two, split, S2, bridge_c2 = second_region(landscape, S, noise_matrix_after, split_point, split_normal,
                                              bridge, cp, crit)

    def stat(th):                       # criterion statistic per row; escaped when ≥ 0
        if crit == DIVIDING:
            m = int(cp[0])
            P, N = cp[1:1 + m * d].reshape(m, d), cp[1 + m * d:].reshape(m, d)
            return np.max(np.einsum("nmd,md->nm", th[:, None, :] - P[None], N), axis=1)
        if crit == RADIUS:
            return np.sum((th - cp[:d]) ** 2, axis=1) - cp[d]
        vals = np.asarray(landscape.loss(th.T), float).reshape(len(th))
        return vals - cp[0] - cp[1]

    with np.errstate(all="ignore"):
        if stat(start[None, :])[0] >= 0:
            raise InputError(f"start already satisfies the {criterion} criterion")
        noise = [streams.particle_stream(seed, offset + i, streams.NOISE) for i in range(n_runs)]
        aux = [streams.particle_stream(seed, offset + i, streams.AUX) for i in range(n_runs)] if bridge else None
        steps = np.full(n_runs, max_steps, np.int64)
        escaped = np.zeros(n_runs, bool)
        diverged = np.zeros(n_runs, bool)
        theta = np.tile(start, (n_runs, 1))
        alive = np.arange(n_runs)
        s_prev = stat(theta)
        for t in range(1, max_steps + 1):
            if alive.size == 0:
                break
            th = theta[alive]
            g = np.asarray(grad(th.T), float).T
            z = np.array([noise[i].standard_normal(d) for i in alive]).reshape(len(alive), d)
            after = (th - split[:d]) @ split[d:] >= 0 if two else np.zeros(len(alive), bool)
            kick = np.zeros_like(th)
            for k in range(d):          # Σ_k S[j, k]·ξ_k summed in k order, as the kernel does
                col = np.where(after[:, None], S2[:, k][None, :], S[:, k][None, :])
                kick += col * z[:, k][:, None]
            new = th - eta * g + kick
            u = np.array([aux[i].random() for i in alive]) if bridge else None
            theta[alive] = new
            bad = ~np.all(np.isfinite(new), axis=1)
            s = np.full(len(alive), -np.inf)
            s[~bad] = stat(new[~bad])
            hit = ~bad & (s >= 0)
            if bridge:
                # libm's exp, as the kernel calls it: numpy's vectorised exp (AVX2/AVX-512 loops) may
                # differ from it by an ulp, which would move decisions at the boundary u = exp(−q)
                q = np.where(after, bridge_c2, bridge_c) * s_prev[alive] * s
                p = np.array([math.exp(-v) if v < 746.0 else 0.0 for v in q.tolist()])
                hit |= ~bad & (u < p)
            # an exit by a step that plain gradient descent takes uphill from θ (η·curvature > 2 there,
            # docs/theory.md §Discretisation) is the overshoot of an unstable iteration: a divergence, as in the
            # kernels' uphill (numerics.kernels.loops)
            if hit.any():
                old = th[hit]
                down = old - eta * g[hit]
                uphill = ~(np.asarray(landscape.loss(down.T), float).reshape(-1)
                           <= np.asarray(landscape.loss(old.T), float).reshape(-1))
                over = np.flatnonzero(hit)[uphill]
                hit[over], bad[over] = False, True
            diverged[alive[bad]] = True
            escaped[alive[hit]] = True
            steps[alive[bad | hit]] = t
            s_prev[alive] = s
            alive = alive[~(bad | hit)]
    return KernelEscape(steps, escaped, diverged, theta if return_theta else None)
