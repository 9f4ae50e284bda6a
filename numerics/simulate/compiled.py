"""Which runs a compiled kernel takes, and with which arguments: the one place that decides the path.

A run goes to ``numerics.kernels.fixed_noise_escape`` (white or fixed-matrix Gaussian noise on a built-in)
or ``numerics.kernels.psd_noise_escape`` (``hessian_psd`` noise on a built-in with a diagonal Hessian)
when :func:`kernel_request` returns arguments for it; otherwise the numpy reference path runs it.
"""
from __future__ import annotations

import numpy as np

_COMPILED_RULES = ("momentum", "adam", "pnm", "adai")
"""The stateful step rules ``fixed_noise_escape`` runs (``numerics.parts.COMPILED_DYNAMICS`` without ``sgd``)."""


def kernel_request(family, landscape, noise_model, crit, *, starts, eta, seed, max_steps, n_runs, bridge, rule=None):
    """Keyword arguments for ``numerics.kernels.fixed_noise_escape``, or None when it does not cover the run.

    Covered: a built-in landscape with ``landscape.kernel`` set, ``white``, ``hessian_fixed`` or
    ``hessian_two_region`` noise, one start point, and either dividing planes (with the bridge only
    when the noise variance along every normal is the same) or the ``radius`` criterion without
    bridge. The kernel follows :mod:`numerics.streams` (``standard_normal(d)`` per step from the noise
    stream, one aux uniform per step with the bridge) and the same overshoot rule (an exit by a locally
    unstable step is a divergence), so its exit steps match this numpy path; known difference: it
    applies the noise as (c·F)·z where this path computes c·(F·z) (last-bit differences for the
    Hessian models). ``family`` is what the noise part declares (``NoiseModel.compiled``); the
    ``psd_noise`` family goes to :func:`_psd_kernel_request`. The parts have already said that the
    step rule and the criterion (planes, or a radius without the bridge) are compiled.

    ``rule`` (a :class:`numerics.optimizers.StepRule`, None for SGD): heavy-ball or Nesterov momentum, Adam,
    PNM and Adai go to ``fixed_noise_escape`` with ``optimizer=rule.kind`` and its hyper-parameters (the kernel
    applies the same update to the same kick and gradient, without the bridge); any rule with the bridge or
    with ``hessian_psd`` noise stays on this numpy path.
    """
    if rule is not None and (rule.kind not in _COMPILED_RULES or bridge or family == "psd_noise"):
        return None
    if family == "psd_noise":
        return _psd_kernel_request(landscape, noise_model, crit, starts=starts, eta=eta, seed=seed,
                                   max_steps=max_steps, n_runs=n_runs, bridge=bridge)
    if landscape.kernel is None:
        return None
    if not np.all(starts == starts[0]):
        return None
    req = {"eta": float(eta), "n_runs": int(n_runs), "max_steps": int(max_steps),
           "seed": int(seed), "criterion": crit.name, "return_theta": True}
    if rule is not None:
        req.update(optimizer=rule.kind, optimizer_params=dict(rule.hyper))
    if noise_model.name == "white":
        S = noise_model._s * np.eye(landscape.dim)
        matrices = [S]
    elif noise_model.name == "hessian_fixed":
        S = noise_model._c * noise_model._F
        matrices = [S]
    else:
        S = noise_model._c * noise_model._Fa
        S2 = noise_model._c * noise_model._Fb
        e = noise_model.direction / np.linalg.norm(noise_model.direction)
        req.update(noise_matrix_after=S2, split_point=noise_model.split, split_normal=e)
        matrices = [S, S2]
    req["noise_matrix"] = S
    if crit.name == "dividing_surface":
        normals = np.atleast_2d(crit.normals)
        if bridge:
            for M in matrices:       # the kernel's multi-plane bridge needs one σ_n² for all planes
                var = np.sum((M.T @ normals.T) ** 2, axis=0)
                if np.max(var) - np.min(var) > 1e-9 * np.max(var):
                    return None
        req.update(point=np.atleast_2d(crit.points), normal=normals, bridge=bool(bridge))
    else:
        req.update(center=crit.center, radius=float(crit.radius))
    return req


def _psd_kernel_request(landscape, noise_model, crit, *, starts, eta, seed, max_steps, n_runs, bridge):
    """Keyword arguments for ``numerics.kernels.psd_noise_escape``, or None when it does not cover the run.

    Covered: ``hessian_psd`` noise on a built-in whose Hessian is diagonal everywhere (Styblinski–Tang,
    the double well), one start point, dividing planes or the ``radius`` criterion, without the bridge
    (position-dependent noise has no exact bridge correction). The kernel applies the noise as
    c·(√(|h_jj| + δ)·z_j), which equals this path's c·(V·(sq·(Vᵀz))) for a diagonal H; it has the same
    overshoot rule as this path.
    """
    from flatminima.numerics.kernels import has_diagonal_hessian

    if bridge or not has_diagonal_hessian(landscape) or not np.all(starts == starts[0]):
        return None
    req = {"eta": float(eta), "n_runs": int(n_runs), "max_steps": int(max_steps), "seed": int(seed),
           "criterion": crit.name, "return_theta": True, "batch_size": int(noise_model.batch_size),
           "loss_unit": float(noise_model.loss_unit), "delta": float(noise_model.delta)}
    if crit.name == "dividing_surface":
        req.update(point=np.atleast_2d(crit.points), normal=np.atleast_2d(crit.normals))
    else:
        req.update(center=crit.center, radius=float(crit.radius))
    return req


def find_kernel(dynamics, noise, criterion):
    """The compiled kernel the parts declare (``Dynamics.compiled``, ``NoiseModel.compiled``,
    ``Criterion.compiled``), or None when one of them is numpy-only or numba is missing."""
    if not (dynamics.compiled and noise.compiled and criterion.compiled):
        return None
    try:
        if noise.compiled == "psd_noise":
            from flatminima.numerics.kernels import psd_noise_escape
            return psd_noise_escape
        from flatminima.numerics import kernels
    except ImportError:
        return None
    return getattr(kernels, "fixed_noise_escape", None)
