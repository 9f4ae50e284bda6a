"""Compiled L and ∇L of the built-ins that declare ``Landscape.kernel``, and their registration.

``styblinski_tang`` (any d), ``double_well``, ``two_well_2d``, ``muller_brown``, with sharpness k:
L_k(θ) = L(√k θ), ∇L_k(θ) = √k ∇L(√k θ). Compiled code names a landscape by its kernel id
(:data:`KERNELS`) and kp = [√k, kernel params...] (:func:`kernel_spec`); the row functions evaluate
the particle in row i of an (n, d) array. Importing this module registers :func:`kernel_values` and
:func:`kernel_grads` for every name of :data:`KERNELS` with
:func:`numerics.landscape.register_compiled`: ``Landscape.values`` and ``Landscape.grads`` of those
built-ins run here from then on.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# one definition for the autograd and the compiled loss (numba freezes them as globals)
from flatminima.numerics.constants import MB_A, MB_a, MB_b, MB_c, MB_x0, MB_y0
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.landscape import Landscape, register_compiled

KERNELS = {"styblinski_tang": 0, "double_well": 1, "two_well_2d": 2, "muller_brown": 3}
"""Built-in kernel names (``Landscape.kernel[0]``) and their integer ids in compiled code."""

ST, DW, TW, MB = 0, 1, 2, 3
"""The ids of :data:`KERNELS`, as compiled code compares them."""


@njit(cache=True, inline="always")
def st_loss1(r, x):
    """Twice one coordinate's term of L_k for Styblinski–Tang: y⁴ − 16y² + 5y, y = √k·x."""
    y = r * x
    return y ** 4 - 16.0 * y * y + 5.0 * y


@njit(cache=True, inline="always")
def st_grad1(r, x):
    """∂L_k/∂θ_j for Styblinski–Tang: √k·(2y³ − 16y + 2.5), y = √k·θ_j."""
    y = r * x
    return r * (2.0 * y * y * y - 16.0 * y + 2.5)


@njit(cache=True, inline="always")
def dw_loss1(kp, x):
    """L_k of the C² piecewise-quartic double well (numerics.builtins.double_well)."""
    y = kp[0] * x
    if y <= 0.0:
        u = y / kp[6]
        return kp[1] * (kp[3] * u ** 4 + kp[4] * u ** 3 + kp[5] * u * u)
    u = -y / kp[10]
    return kp[2] * (kp[7] * u ** 4 + kp[8] * u ** 3 + kp[9] * u * u)


@njit(cache=True, inline="always")
def dw_grad1(kp, x):
    """L_k' of the double well; kp[11], kp[12] = 1/w_l, 1/w_r keep the per-step dependency chain short."""
    r = kp[0]
    y = r * x
    if y <= 0.0:
        iw = kp[11]
        u = y * iw
        return r * kp[1] * (4.0 * kp[3] * u * u * u + 3.0 * kp[4] * u * u + 2.0 * kp[5] * u) * iw
    iw = kp[12]
    u = -y * iw
    return -r * kp[2] * (4.0 * kp[7] * u * u * u + 3.0 * kp[8] * u * u + 2.0 * kp[9] * u) * iw


@njit(cache=True, inline="always")
def loss1(kid, kp, x):
    """L_k(θ) of a 1-D compiled landscape (Styblinski–Tang with d = 1, or the double well)."""
    if kid == DW:
        return dw_loss1(kp, x)
    return 0.5 * st_loss1(kp[0], x)


@njit(cache=True, inline="always")
def grad1(kid, kp, x):
    """L_k'(θ) of a 1-D compiled landscape."""
    if kid == DW:
        return dw_grad1(kp, x)
    return st_grad1(kp[0], x)


@njit(cache=True, nogil=True, inline="always")
def loss_row(kid, kp, ths, i):
    """L_k(θ) at θ = row i of ``ths``, for kernel ``kid``; kp = (√k, kernel params...)."""
    r = kp[0]
    if kid == ST:
        acc = 0.0
        for j in range(ths.shape[1]):
            acc += st_loss1(r, ths[i, j])
        return 0.5 * acc
    if kid == DW:
        return dw_loss1(kp, ths[i, 0])
    if kid == TW:
        x = r * ths[i, 0]
        y = r * ths[i, 1]
        q = x * x - 1.0
        return q * q + kp[1] * (y - kp[2] * q) ** 2 + kp[3] * x
    # Müller–Brown
    x = r * ths[i, 0]
    y = r * ths[i, 1]
    total = 0.0
    for m in range(4):
        dx = x - MB_x0[m]
        dy = y - MB_y0[m]
        total += MB_A[m] * np.exp(MB_a[m] * dx * dx + MB_b[m] * dx * dy + MB_c[m] * dy * dy)
    return kp[1] * total


@njit(cache=True, nogil=True, inline="always")
def grad_row(kid, kp, ths, i, out):
    """Row i of out ← ∇L_k(θ) = √k ∇L(√k θ) at θ = row i of ``ths``, for kernel ``kid``.

    Rows, not views: a view made in a compiled loop costs reference counting on every step.
    """
    r = kp[0]
    if kid == ST:
        for j in range(ths.shape[1]):
            out[i, j] = st_grad1(r, ths[i, j])
    elif kid == DW:
        out[i, 0] = dw_grad1(kp, ths[i, 0])
    elif kid == TW:
        x = r * ths[i, 0]
        y = r * ths[i, 1]
        q = x * x - 1.0
        v = y - kp[2] * q
        out[i, 0] = r * (4.0 * x * q - 4.0 * kp[1] * kp[2] * x * v + kp[3])
        out[i, 1] = r * (2.0 * kp[1] * v)
    else:
        x = r * ths[i, 0]
        y = r * ths[i, 1]
        gx = 0.0
        gy = 0.0
        for m in range(4):
            dx = x - MB_x0[m]
            dy = y - MB_y0[m]
            e = MB_A[m] * np.exp(MB_a[m] * dx * dx + MB_b[m] * dx * dy + MB_c[m] * dy * dy)
            gx += e * (2.0 * MB_a[m] * dx + MB_b[m] * dy)
            gy += e * (MB_b[m] * dx + 2.0 * MB_c[m] * dy)
        out[i, 0] = r * kp[1] * gx
        out[i, 1] = r * kp[1] * gy


@njit(cache=True, nogil=True)
def loss_at(kid, kp, th):
    """L_k(θ) for kernel ``kid`` at one θ (d,)."""
    return loss_row(kid, kp, np.ascontiguousarray(th).reshape(1, -1), 0)


@njit(cache=True, nogil=True)
def _values_batch(kid, kp, thetas):
    out = np.empty(thetas.shape[0])
    for p in range(thetas.shape[0]):
        out[p] = loss_row(kid, kp, thetas, p)
    return out


@njit(cache=True, nogil=True)
def _grads_batch(kid, kp, thetas):
    out = np.empty_like(thetas)
    for p in range(thetas.shape[0]):
        grad_row(kid, kp, thetas, p, out)
    return out


_KERNEL_DIMS = {"double_well": 1, "two_well_2d": 2, "muller_brown": 2}     # absent: any d
_KERNEL_NPARAMS = {"styblinski_tang": 0, "double_well": 10, "two_well_2d": 3, "muller_brown": 1}


def has_kernel(landscape: Landscape) -> bool:
    """Whether a landscape has a compiled gradient here (a built-in that declares ``kernel``)."""
    return landscape.kernel is not None and landscape.kernel[0] in KERNELS


def kernel_spec(landscape: Landscape) -> tuple[int, np.ndarray]:
    """(kernel id, kp = [√sharpness, *kernel params]) of a landscape, or a LandscapeError."""
    if not has_kernel(landscape):
        raise LandscapeError(f"{landscape.name} has no compiled kernel (built-ins only: {', '.join(KERNELS)}); "
                             "use the numpy simulator (backend=\"numpy\")")
    name, params, sharpness = landscape.kernel
    params = tuple(float(p) for p in params)
    if len(params) != _KERNEL_NPARAMS[name] or _KERNEL_DIMS.get(name, landscape.dim) != landscape.dim:
        raise LandscapeError(f"{landscape.name}: kernel {name} expects {_KERNEL_NPARAMS[name]} parameters and "
                             f"dim {_KERNEL_DIMS.get(name, 'any')}; got {len(params)} and dim {landscape.dim}")
    k = float(sharpness)
    if not np.isfinite(k) or k <= 0:
        raise LandscapeError(f"{landscape.name}: sharpness must be a finite number > 0; got {k}")
    if name == "double_well":           # append 1/w_l, 1/w_r
        params = params + (1.0 / params[5], 1.0 / params[9])
    return KERNELS[name], np.array((np.sqrt(k),) + params, dtype=np.float64)


def theta_rows(landscape: Landscape, thetas) -> tuple[np.ndarray, bool]:
    """(θ as C-contiguous rows (n, d), whether one θ (d,) was given), or a LandscapeError for a wrong shape."""
    t = np.asarray(thetas, dtype=float)
    single = t.ndim == 1
    t = t.reshape(1, -1) if single else t
    if t.ndim != 2 or t.shape[1] != landscape.dim:
        raise LandscapeError(f"theta must have shape ({landscape.dim},) or (n, {landscape.dim}) for "
                             f"{landscape.name}; got shape {np.shape(thetas)}")
    return np.ascontiguousarray(t), single


def kernel_values(landscape: Landscape, thetas) -> np.ndarray | float:
    """Compiled L(θ) at one θ of shape (d,) (returns a float) or at n particles (n, d) (returns (n,)).

    No finiteness checks: non-finite θ gives non-finite values (the caller decides).
    """
    kid, kp = kernel_spec(landscape)
    t, single = theta_rows(landscape, thetas)
    v = _values_batch(kid, kp, t)
    return float(v[0]) if single else v


def kernel_grads(landscape: Landscape, thetas) -> np.ndarray:
    """Compiled ∇L(θ) at one θ of shape (d,) (returns (d,)) or at n particles (n, d) (returns (n, d))."""
    kid, kp = kernel_spec(landscape)
    t, single = theta_rows(landscape, thetas)
    g = _grads_batch(kid, kp, t)
    return g[0] if single else g


for kind in KERNELS:           # Landscape.values/grads of these built-ins run here
    register_compiled(kind, kernel_values, kernel_grads)
