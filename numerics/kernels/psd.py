"""Compiled (numba) escape simulation under ``hessian_psd`` noise on landscapes with a diagonal Hessian.

The PSD model (docs/theory.md §hessian_psd, :class:`numerics.noise.HessianPSDNoise`) has per-step covariance
η²λ(|H(θ)| + δI)/B at the current iterate θ (Itô). Where H(θ) is diagonal everywhere (separable
landscapes: Styblinski–Tang in any dimension, the 1-D double well), |H| + δI is diagonal, and the
symmetric square root V·diag(√(|Λ|+δ))·Vᵀ reduces to diag(√(|h_jj(θ)| + δ)):

    θ_j ← θ_j − η ∂_jL(θ) + c·(√(|h_jj(θ)| + δ)·z_j),    c = η√(λ/B),  z ~ N(0, I).

Stream use (:mod:`numerics.streams`; particle ``i`` is stream index ``particle_offset + i``): ``NOISE``
gives d standard normals per step, in coordinate order; ``AUX`` is not used (there is no
Brownian-bridge correction: the bridge of :mod:`numerics.kernels.driver` assumes a fixed noise matrix over a
step, which position-dependent noise does not have).

Bit-compatibility with the numpy path of :func:`numerics.simulate.simulate_escape`: the gradient is the
compiled one that path also uses (``Landscape.grads``), the Hessian diagonal of Styblinski–Tang is
computed in the same floating-point order as autograd's (checked in tests/numerics/test_kernels_psd.py),
and for a diagonal H the numpy path's c·(V·(sq·(Vᵀz))) with V a signed permutation is exactly c·(sq·z).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from flatminima.errors import InputError
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.kernels.driver import KernelEscape, check_run, prepare
from flatminima.numerics.kernels.landscapes import ST, dw_grad1, has_kernel, kernel_spec, st_grad1, theta_rows
from flatminima.numerics.kernels.loops import DIVIDING, uphill
from flatminima.numerics.kernels.rng import pcg_normal, pcg_seed
from flatminima.numerics.kernels.threads import claim, run_in_chunks
from flatminima.numerics.landscape import Landscape

__all__ = ["DIAGONAL_KERNELS", "has_diagonal_hessian", "kernel_hessian_diagonals", "psd_noise_escape"]

DIAGONAL_KERNELS = ("styblinski_tang", "double_well")
"""Compiled landscapes whose Hessian is diagonal at every θ (separable in the coordinates)."""


def has_diagonal_hessian(landscape: Landscape) -> bool:
    """Whether a landscape has a compiled kernel here: a built-in whose Hessian is diagonal everywhere."""
    return has_kernel(landscape) and landscape.kernel[0] in DIAGONAL_KERNELS


# ====================================================================== per-coordinate derivatives
@njit(cache=True, nogil=True, inline="always")
def _st_grad_hess(r, r6, r16, x):
    """(∂L_k/∂θ_j, ∂²L_k/∂θ_j²) of Styblinski–Tang at θ_j = x; r = √k, r6 = 6r, r16 = 16r.

    L_k(θ) = ½Σ(y⁴ − 16y² + 5y), y = √k θ_j: ∂L_k = √k(2y³ − 16y + 2.5)
    (``numerics.kernels.landscapes.st_grad1``), ∂²L_k = k(6y² − 16), written ((6√k)·y² − 16√k)·√k: autograd's order.
    """
    y = r * x
    return st_grad1(r, x), (r6 * (y * y) - r16) * r


@njit(cache=True, nogil=True, inline="always")
def _dw_grad_hess(kp, x):
    """(L_k', L_k'') of the double well at θ = x; kp as in ``numerics.kernels.landscapes.kernel_spec``.

    Each side is barrier·q(u), q(u) = αu⁴ + βu³ + γu², u = y/w_l (left) or −y/w_r (right), y = √k θ:
    L_k' = ±√k·barrier·q'(u)/w (``numerics.kernels.landscapes.dw_grad1``), L_k'' = k·barrier·q''(u)/w².
    """
    r = kp[0]
    y = r * x
    if y <= 0.0:
        iw = kp[11]
        u = y * iw
        h = r * r * kp[1] * (12.0 * kp[3] * u * u + 6.0 * kp[4] * u + 2.0 * kp[5]) * (iw * iw)
    else:
        iw = kp[12]
        u = -y * iw
        h = r * r * kp[2] * (12.0 * kp[7] * u * u + 6.0 * kp[8] * u + 2.0 * kp[9]) * (iw * iw)
    return dw_grad1(kp, x), h


@njit(cache=True, nogil=True)
def _hess_diag_batch(kid, kp, thetas):
    out = np.empty_like(thetas)
    r = kp[0]
    for p in range(thetas.shape[0]):
        for j in range(thetas.shape[1]):
            if kid == ST:
                _, out[p, j] = _st_grad_hess(r, 6.0 * r, 16.0 * r, thetas[p, j])
            else:
                _, out[p, j] = _dw_grad_hess(kp, thetas[p, j])
    return out


def _diagonal_spec(landscape: Landscape) -> tuple[int, np.ndarray]:
    if not has_diagonal_hessian(landscape):
        raise LandscapeError(f"{landscape.name}: no compiled diagonal Hessian (built-ins {', '.join(DIAGONAL_KERNELS)} "
                             "only); use the numpy simulator")
    return kernel_spec(landscape)


def kernel_hessian_diagonals(landscape: Landscape, thetas) -> np.ndarray:
    """Compiled diag ∇²L(θ) at one θ (d,) (returns (d,)) or at n particles (n, d) (returns (n, d))."""
    kid, kp = _diagonal_spec(landscape)
    t, single = theta_rows(landscape, thetas)
    h = _hess_diag_batch(kid, kp, t)
    return h[0] if single else h


# ====================================================================== escape kernel
@njit(cache=True, nogil=True)
def _psd_block(kid, kp, start, eta, c, delta, crit, cp, seed, offset, queue, i1, max_steps,
               steps, escaped, diverged, theta_out, store_theta):
    """Run particles taken from ``queue`` while below i1 (stream index offset + i) to escape, divergence or max_steps.

    Per step and coordinate, in coordinate order: z from the NOISE stream, then
    θ_j ← (θ_j − η∂_jL) + c·(√(|h_jj| + δ)·z_j) with ∂_jL, h_jj at the current iterate (Itô).
    """
    d = start.shape[0]
    th = np.empty(d)
    olds = np.empty((1, d))          # θ before the step, for the overshoot test
    work = np.empty((1, d))
    r = kp[0]
    r6 = 6.0 * r
    r16 = 16.0 * r
    while True:
        i = claim(queue)
        if i >= i1:
            break
        nh, nl, nih, nil = pcg_seed(seed, offset + i, 0)
        for j in range(d):
            th[j] = start[j]
        t_exit = max_steps
        esc = False
        div = False
        for t in range(1, max_steps + 1):
            fin = 0.0
            for j in range(d):
                z, nh, nl = pcg_normal(nh, nl, nih, nil)
                x = th[j]
                olds[0, j] = x
                if kid == ST:
                    g, h = _st_grad_hess(r, r6, r16, x)
                else:
                    g, h = _dw_grad_hess(kp, x)
                v = x - eta * g + c * (np.sqrt(abs(h) + delta) * z)
                th[j] = v
                fin += v * 0.0
            if fin != 0.0:          # NaN unless every coordinate is finite
                div = True
                t_exit = t
                break
            # the criterion statistic, inline (escaped when ≥ 0)
            if crit == DIVIDING:    # cp = [m, p_1..p_m, n_1..n_m]: max_s (θ − p_s)·n_s
                m = int(cp[0])
                s = -np.inf
                for q in range(m):
                    a = 0.0
                    for j in range(d):
                        a += (th[j] - cp[1 + q * d + j]) * cp[1 + (m + q) * d + j]
                    if a > s:
                        s = a
            else:                   # cp = [center (d), radius²]: ‖θ − center‖² − radius²
                s = 0.0
                for j in range(d):
                    a = th[j] - cp[j]
                    s += a * a
                s -= cp[d]
            if s >= 0.0:
                # an exit by a step that gradient descent would take uphill (η·curvature > 2 there,
                # docs/theory.md §Discretisation) is the overshoot of an unstable iteration: divergence, as on the
                # numpy path
                if uphill(kid, kp, olds, 0, work, eta):
                    div = True
                else:
                    esc = True
                t_exit = t
                break
        steps[i] = t_exit
        escaped[i] = esc
        diverged[i] = div
        if store_theta:
            for j in range(d):
                theta_out[i, j] = th[j]


def _psd_scale(eta, batch_size, loss_unit, delta) -> tuple[float, float]:
    """(c = η√(λ/B), δ), validated."""
    if isinstance(batch_size, (bool, np.bool_)) or int(batch_size) != batch_size or batch_size < 1:
        raise InputError(f"batch_size must be an integer >= 1; got {batch_size}")
    lam, delta = float(loss_unit), float(delta)
    if not np.isfinite(lam) or lam <= 0:
        raise InputError(f"loss_unit must be a finite number > 0; got {loss_unit}")
    if not np.isfinite(delta) or delta < 0:
        raise InputError(f"delta must be a finite number >= 0; got {delta}")
    return float(eta) * np.sqrt(lam / int(batch_size)), delta


def psd_noise_escape(landscape: Landscape, start, *, eta: float, batch_size: int, loss_unit: float = 1.0,
                     delta: float = 0.0, n_runs: int, max_steps: int, seed: int, criterion: str, point=None,
                     normal=None, center=None, radius: float | None = None, particle_offset: int = 0,
                     bridge: bool = False, workers: int = 1, return_theta: bool = False) -> KernelEscape:
    """Compiled escape simulation under PSD Hessian noise: θ ← θ − η∇L(θ) + η√(λ/B)·(|H(θ)| + δI)^½ z.

    Every particle starts at ``start`` and runs until the exit criterion holds, θ becomes non-finite
    (diverged, never escaped), or ``max_steps``. Particle i draws z from its ``NOISE`` stream (d normals
    per step, in coordinate order; stream index ``particle_offset + i``), so its trajectory depends only
    on (seed, particle_offset + i): results do not depend on chunking or ``workers``.

    Parameters
    ----------
    landscape : Landscape
        A built-in with a diagonal Hessian (see :func:`has_diagonal_hessian`); sharpness is honoured.
    start : array (d,)
        Initial θ; must not already satisfy the criterion.
    eta : float > 0
        Step size η.
    batch_size : int ≥ 1
        B.
    loss_unit : float > 0
        λ.
    delta : float ≥ 0
        The floor δ of |H| + δI.
    n_runs, max_steps : int ≥ 1
        Number of particles; step cap (right-censoring).
    seed : int ≥ 0
        Run seed of the stream contract.
    criterion : {"dividing_surface", "radius"}
        As in :func:`numerics.kernels.fixed_noise_escape`.
    bridge : bool
        Must be False: the Brownian-bridge correction needs noise that is fixed over a step.
    particle_offset : int ≥ 0
        Stream index of the first particle.
    workers : int ≥ 1
        Threads, each running the compiled kernel on chunks of particles with the GIL released.
    return_theta : bool
        Also return θ at each particle's last step.

    Returns
    -------
    KernelEscape
        ``(steps, escaped, diverged, theta)``.
    """
    kid, kp = _diagonal_spec(landscape)
    if bridge:
        raise InputError("bridge=True is not available for hessian_psd noise: the Brownian-bridge crossing "
                         "probability assumes noise fixed over a step, and PSD noise depends on θ")
    if criterion not in ("dividing_surface", "radius"):
        raise InputError(f"criterion must be 'dividing_surface' or 'radius' for psd_noise_escape; got {criterion!r}")
    c, delta = _psd_scale(eta, batch_size, loss_unit, delta)
    d = landscape.dim
    # prepare validates the shared arguments; its noise matrix is unused here (zeros: no bridge)
    start, eta, _, n_runs, max_steps, seed, crit, cp, _, offset = prepare(
        landscape, start, eta, np.zeros((d, d)), None, n_runs, max_steps, seed, criterion,
        point, normal, center, radius, None, None, particle_offset, False, None)
    seed = check_run(kid, kp, crit, cp, start, criterion, seed, offset, n_runs, workers)
    steps = np.empty(n_runs, np.int64)
    escaped = np.empty(n_runs, np.bool_)
    diverged = np.empty(n_runs, np.bool_)
    theta = np.empty((n_runs, d)) if return_theta else np.empty((1, d))

    def run(queue, i1):
        _psd_block(kid, kp, start, eta, c, delta, crit, cp, seed, offset, queue, i1, max_steps,
                   steps, escaped, diverged, theta, bool(return_theta))

    run_in_chunks(run, n_runs, workers)
    return KernelEscape(steps, escaped, diverged, theta if return_theta else None)
