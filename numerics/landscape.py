"""A loss landscape L(θ) on R^d with autograd derivatives, for one θ or a batch of particles.

Convention ("coordinate first"): a built-in loss takes θ of shape ``(d,)`` or ``(d, n)`` and
returns a scalar or shape ``(n,)``; the trailing axis is the batch. That is what makes batch
evaluation vectorised. A user's loss may take only ``(d,)``; batch calls then fall back to a loop
(``vectorised=False``), which is correct but slower. The public methods take particles row-wise,
``(n, d)``, as numpy users expect.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import autograd
import autograd.numpy as anp
import numpy as np

from flatminima.numerics.errors import LandscapeError, NonFiniteLossError, NotDifferentiableError

# Exceptions autograd raises when a loss uses plain numpy/math on its traced ArrayBox.
_AUTOGRAD_FAILURES = (TypeError, AttributeError, ValueError, NotImplementedError)


@dataclass(frozen=True, eq=False)
class Landscape:
    """A loss L(θ) on R^d whose gradient and Hessian come from autograd.

    Parameters
    ----------
    name : str
        Display name, e.g. ``"styblinski-tang:dim=2"``.
    dim : int
        d, the number of coordinates of θ.
    loss : callable
        L written with ``autograd.numpy``; see the module docstring for the batch convention.
    minima, saddles : tuple of arrays
        Known critical points (exact or good hints); used as starts by the critical-point finders.
    params : mapping
        The parameters the landscape was built with (recorded in results).
    vectorised : bool
        Whether ``loss`` accepts ``(d, n)`` and returns ``(n,)``.
    n_samples : int or None
        For finite-sum landscapes, m, the number of per-sample losses.
    minibatch_loss : callable or None
        ``minibatch_loss(theta, idx)``: θ of shape ``(d, R)``, sample indices of shape ``(B, R)``;
        returns the mean loss over each replica's minibatch, shape ``(R,)``.
    sample_loss : callable or None
        ``sample_loss(theta, idx)``: θ of shape ``(d,)``, indices ``(B,)``; per-sample losses ``(B,)``.
    kernel : tuple or None
        ``(kernel_name, kernel_params, sharpness)`` for built-ins that have a compiled gradient in
        ``numerics.kernels`` (the fast path, see :func:`register_compiled`):
        L(θ) = base_kernel(√sharpness·θ; kernel_params).
        None for user landscapes, which run on the vectorised autograd path.
    sampler : callable or None
        ``sampler(seed) -> θ``: a random point where the loss is meant to be started (an MLP's
        initialisation); the minimum finders start from it instead of N(0, 3²I).
    fast_grads : callable or None
        ``fast_grads(thetas (n, d)) -> (n, d)``: the exact gradient by a faster route than autograd
        (an MLP's hand-written backward pass, tested equal to autograd); used by ``grad`` and ``grads``
        and by :meth:`search_hessian`.
    """

    name: str
    dim: int
    loss: Callable
    minima: tuple = ()
    saddles: tuple = ()
    params: Mapping = field(default_factory=dict)
    vectorised: bool = True
    n_samples: int | None = None
    minibatch_loss: Callable | None = None
    sample_loss: Callable | None = None
    description: str = ""
    kernel: tuple | None = None
    sampler: Callable | None = None
    fast_grads: Callable | None = None

    def __post_init__(self):
        if not isinstance(self.dim, (int, np.integer)) or self.dim < 1:
            raise LandscapeError(f"dim must be a positive integer; got {self.dim!r}")
        object.__setattr__(self, "minima", tuple(np.asarray(m, float) for m in self.minima))
        object.__setattr__(self, "saddles", tuple(np.asarray(s, float) for s in self.saddles))

    # ------------------------------------------------------------------ input checks
    def _theta(self, theta) -> np.ndarray:
        t = np.asarray(theta, dtype=float)
        if t.ndim == 0 or t.shape != (self.dim,):
            raise LandscapeError(f"theta must have shape ({self.dim},) for {self.name}; got shape {t.shape}")
        if not np.all(np.isfinite(t)):
            raise LandscapeError(f"theta must be finite; got {t.tolist()}")
        return t

    def _thetas(self, thetas) -> np.ndarray:
        t = np.asarray(thetas, dtype=float)
        if t.ndim != 2 or t.shape[1] != self.dim:
            raise LandscapeError(f"particles must have shape (n, {self.dim}) for {self.name}; got shape {t.shape}")
        if not np.all(np.isfinite(t)):
            raise LandscapeError("particles must be finite")
        return t

    def _finite(self, value, where: str):
        v = np.asarray(value)
        if not np.all(np.isfinite(v)):
            raise NonFiniteLossError(f"{self.name}: {where} is not finite (NaN or inf)")
        return value

    def _call(self, fn, *args, what: str):
        try:
            with np.errstate(all="ignore"):    # non-finite results are reported by _finite, not warned
                return fn(*args)
        except LandscapeError:
            raise
        except _AUTOGRAD_FAILURES as exc:
            raise NotDifferentiableError(
                f"{self.name}: autograd cannot compute the {what}; write the loss with autograd.numpy "
                f"(not numpy or math) and avoid in-place assignment ({type(exc).__name__}: {exc})".replace("\n", " ")
            ) from None

    # ------------------------------------------------------------------ one θ
    def value(self, theta) -> float:
        """L(θ) at one point θ of shape (d,)."""
        t = self._theta(theta)
        v = self._call(self.loss, t, what="loss")
        v = np.asarray(getattr(v, "_value", v))
        if v.shape != ():
            raise NonFiniteLossError(f"{self.name}: the loss must return a scalar; got shape {v.shape}")
        return float(self._finite(v, f"L(θ) at θ={t.tolist()}"))

    def grad(self, theta) -> np.ndarray:
        """∇L(θ), shape (d,)."""
        t = self._theta(theta)
        if self.fast_grads is not None:
            return self._finite(np.asarray(self.fast_grads(t[None, :]), float)[0], "the gradient")
        g = np.asarray(self._call(_grad(self.loss), t, what="gradient"), float)
        return self._finite(g, "the gradient")

    def hessian(self, theta) -> np.ndarray:
        """∇²L(θ), shape (d, d), symmetrised."""
        t = self._theta(theta)
        if self.vectorised:
            h = self._call(_vectorised_hessian(self.loss), t, what="Hessian")
        else:
            h = self._call(autograd.hessian(self.loss), t, what="Hessian")
        h = np.asarray(h, float)
        return self._finite(0.5 * (h + h.T), "the Hessian")

    def search_hessian(self, theta) -> np.ndarray:
        """∇²L(θ) for the critical-point searches: central differences of ``fast_grads`` when set, else
        :meth:`hessian`.

        One batch of 2d exact gradients, steps δ_i = 1e-5·(1 + |θ_i|): truncation error O(δ²) times the
        fourth derivative and round-off O(ε‖∇L‖/δ), both about 1e-10 of the curvatures at an MLP's
        minimum, far below what a search needs (steps, eigenvector tracking); reported Hessians, and
        Newton's last steps, use :meth:`hessian`.
        """
        if self.fast_grads is None:
            return self.hessian(theta)
        t = self._theta(theta)
        d = self.dim
        delta = 1e-5 * (1.0 + np.abs(t))
        X = np.repeat(t[None, :], 2 * d, axis=0)
        X[np.arange(d), np.arange(d)] += delta
        X[d + np.arange(d), np.arange(d)] -= delta
        G = np.asarray(self.fast_grads(X), float)
        h = (G[:d] - G[d:]) / (2.0 * delta[:, None])       # row i: the derivative of ∇L along θ_i
        return self._finite(0.5 * (h + h.T), "the Hessian")

    def search_hvp(self, theta, v) -> np.ndarray:
        """∇²L(θ)·v for the critical-point searches: a central difference of ``fast_grads`` along v when
        set (two exact gradients, step 1e-5·(1 + ‖θ‖/√d) along v/‖v‖, error as in :meth:`search_hessian`),
        else :meth:`hvp`."""
        if self.fast_grads is None:
            return self.hvp(theta, v)
        t = self._theta(theta)
        v = np.asarray(v, float)
        n = float(np.linalg.norm(v))
        if n == 0.0:
            return np.zeros(self.dim)
        delta = 1e-5 * (1.0 + np.linalg.norm(t) / np.sqrt(self.dim))
        G = np.asarray(self.fast_grads(np.stack([t + (delta / n) * v, t - (delta / n) * v])), float)
        return self._finite((G[0] - G[1]) * (n / (2.0 * delta)), "the Hessian-vector product")

    def hvp(self, theta, v) -> np.ndarray:
        """Hessian-vector product ∇²L(θ)·v, shape (d,), without forming the Hessian."""
        t = self._theta(theta)
        v = np.asarray(v, float)
        if v.shape != (self.dim,):
            raise LandscapeError(f"v must have shape ({self.dim},); got {v.shape}")
        hv = self._call(_hvp(self.loss), t, v, what="Hessian-vector product")
        return self._finite(np.asarray(hv, float), "the Hessian-vector product")

    # ------------------------------------------------------------------ many particles, rows (n, d)
    def values(self, thetas) -> np.ndarray:
        """L at n particles, shape (n,) (compiled for built-ins with a kernel, else autograd.numpy)."""
        t = self._thetas(thetas)
        fast = _compiled(self)
        if fast is not None:
            v = fast[0](self, t)
        elif self.vectorised:
            v = np.asarray(self._call(self.loss, t.T, what="loss"), float).reshape(len(t))
        else:
            v = np.array([self.value(x) for x in t])
        return self._finite(v, "the loss")

    def grads(self, thetas) -> np.ndarray:
        """∇L at n particles, shape (n, d) (compiled for built-ins with a kernel, else autograd)."""
        t = self._thetas(thetas)
        fast = _compiled(self)
        if fast is not None:
            g = fast[1](self, t)
        elif self.fast_grads is not None:
            g = np.asarray(self.fast_grads(t), float)
        elif self.vectorised:
            g = np.asarray(self._call(_batch_grad(self.loss), t.T, what="gradient"), float).T
        else:
            g = np.array([self.grad(x) for x in t])
        return self._finite(g, "the gradient")

    def hessians(self, thetas) -> np.ndarray:
        """∇²L at n particles, shape (n, d, d)."""
        t = self._thetas(thetas)
        if not self.vectorised:
            return np.array([self.hessian(x) for x in t])
        n, d = t.shape
        # column (p, j) of X is particle p; the Hessian row j of particle p is the gradient of
        # ∂L/∂θ_j at that column (one second-order backward pass for all n·d columns).
        X = np.repeat(t.T[:, :, None], d, axis=2).reshape(d, n * d)
        h = self._call(_vectorised_hessian_columns(self.loss, d), X, what="Hessian")
        h = np.asarray(h, float).reshape(d, n, d).transpose(1, 2, 0)  # (n, j, i)
        h = 0.5 * (h + h.transpose(0, 2, 1))
        return self._finite(h, "the Hessian")


# ---------------------------------------------------------------------- compiled fast path
_COMPILED: dict[str, tuple[Callable, Callable]] = {}
"""(values, grads) by kernel name (``Landscape.kernel[0]``), filled by :func:`register_compiled`."""


def register_compiled(kind: str, values: Callable, grads: Callable) -> None:
    """Register compiled L and ∇L for ``Landscape.values`` and ``grads`` of landscapes whose ``kernel`` names ``kind``.

    ``values(landscape, thetas (n, d)) -> (n,)``, ``grads(landscape, thetas (n, d)) -> (n, d)``.
    ``numerics.kernels`` registers its built-ins when imported (the built-in factories import it; without
    numba nothing is registered and autograd runs). This module imports no compiled code.
    """
    _COMPILED[kind] = (values, grads)


def _compiled(landscape):
    """The registered (values, grads) of a landscape's kernel, or None (user landscapes, numba missing).

    The compiled gradients equal autograd's to ~1e-14 relative (tests/numerics/test_kernels.py) and
    are ~20× faster on particle batches; single-θ calls and user landscapes stay on autograd.
    """
    return None if landscape.kernel is None else _COMPILED.get(landscape.kernel[0])


# ---------------------------------------------------------------------- autograd plumbing
def _grad(loss):
    return autograd.grad(loss)


def _batch_grad(loss):
    """Gradients of independent columns: ∂/∂X Σ_p L(X[:, p]) = column-wise ∇L."""
    return autograd.grad(lambda X: anp.sum(loss(X)))


def _vectorised_hessian_columns(loss, d):
    """X has n·d columns, column (p, j) a copy of particle p; returns ∂(∂L/∂θ_j)/∂θ at each column."""
    g = _batch_grad(loss)

    def diag_sum(X):
        G = g(X)                                   # (d, n*d)
        sel = np.tile(np.eye(d), (1, X.shape[1] // d))   # picks component j in column (p, j)
        return anp.sum(G * sel)

    return autograd.grad(diag_sum)


def _vectorised_hessian(loss):
    def h(theta):
        d = theta.shape[0]
        X = np.repeat(theta[:, None], d, axis=1)   # column j = θ
        return _vectorised_hessian_columns(loss, d)(X).T   # (j, i) -> rows are ∂_i∂_j L
    return h


def _hvp(loss):
    g = autograd.grad(loss)
    return autograd.grad(lambda theta, v: anp.dot(g(theta), v))


def probe_vectorised(loss, dim: int, rng=None) -> bool:
    """Whether a loss written for θ of shape (d,) also maps (d, n) to (n,) with the same values."""
    rng = np.random.default_rng(0) if rng is None else rng
    X = rng.standard_normal((dim, 3))
    try:
        with np.errstate(all="ignore"):
            batch = np.asarray(loss(X), float)
            single = np.array([float(loss(X[:, p])) for p in range(3)])
    except Exception:
        return False
    return batch.shape == (3,) and np.allclose(batch, single, rtol=1e-12, atol=1e-12, equal_nan=True)


def sharpened(landscape: Landscape, k: float) -> Landscape:
    """L_k(θ) = L(√k·θ): every Hessian is multiplied by k, every barrier is unchanged.

    See docs/theory.md §Sharpness scaling.

    Known minima and saddles move to θ*/√k. The sharpness factor is recorded as ``params["sharpness"]``
    (multiplied with any earlier factor).
    """
    k = float(k)
    if not np.isfinite(k) or k <= 0:
        raise LandscapeError(f"sharpness must be a finite number > 0; got {k}")
    r = np.sqrt(k)
    base = landscape.loss

    def loss_k(theta):
        return base(r * theta)

    mb = landscape.minibatch_loss
    sl = landscape.sample_loss
    params = dict(landscape.params)
    params["sharpness"] = float(params.get("sharpness", 1.0)) * k
    return replace(
        landscape,
        name=f"{landscape.name}[sharpness={k:g}]",
        loss=loss_k,
        minima=tuple(m / r for m in landscape.minima),
        saddles=tuple(s / r for s in landscape.saddles),
        params=params,
        minibatch_loss=None if mb is None else (lambda theta, idx: mb(r * theta, idx)),
        sample_loss=None if sl is None else (lambda theta, idx: sl(r * theta, idx)),
        kernel=None if landscape.kernel is None else (*landscape.kernel[:2], landscape.kernel[2] * k),
        sampler=None if landscape.sampler is None else (lambda seed: landscape.sampler(seed) / r),
        fast_grads=None if landscape.fast_grads is None else (lambda T: r * landscape.fast_grads(r * T)),
    )
