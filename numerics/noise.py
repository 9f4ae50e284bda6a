"""Noise models of the escape simulator: one step θ ← θ − η∇L(θ) + ζ for many particles at once.

Every model here is a rule for the per-step noise ζ (docs/theory.md §Noise models, §The SDE): white noise
(SGLD), Hessian-shaped Gaussian noise in four variants, α-stable (Lévy) noise, and real minibatch
SGD (where the whole step is θ ← θ − η∇L_B(θ) and there is no separate ζ).

Random numbers (``numerics.streams``): every particle draws its variates from its own noise
stream, the same number every step, in step order. Buffering K steps with one call
(``gen.standard_normal((K, d))`` or ``gen.random((K, *shape))``) gives the same numbers as K calls
of one step each, so a compiled kernel reproduces the numpy path bit for bit:

========================  =====================================  ==================================
model                     variates per step and particle          use
========================  =====================================  ==================================
white, hessian_*,         ``standard_normal(d)``                   z ~ N(0, I_d)
loss_hessian
levy                      ``random((2, d))``                       U₁ (angle), U₂ (exponential) of
                                                                    Chambers–Mallows–Stuck
minibatch                 ``random(B)``                            B sample indices
========================  =====================================  ==================================

Units: η is the step (SDE time per step, t = step·η); per-step noise covariance Σ = η²C for
SGD-type noise and 2Dη·I for white noise, i.e. D = ηC/2 (docs/theory.md §The SDE).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from flatminima.errors import InputError

NOISE_MODELS = ("white", "hessian_fixed", "hessian_two_region", "hessian_psd", "loss_hessian", "levy",
                "minibatch")
"""Names of the noise models (docs/theory.md §Noise models)."""


@dataclass
class StepInputs:
    """What a noise model may evaluate during a step (all safe: non-finite results come back as NaN).

    Attributes
    ----------
    landscape : Landscape
    eta : float
        The step η.
    grads, values, hessians : callable
        Batched ∇L (n, d), L (n,) and ∇²L (n, d, d) of particles given row-wise (n, d).
    minibatch_grads : callable or None
        ``minibatch_grads(theta (n, d), idx (B, n)) -> (n, d)`` for finite-sum landscapes.
    """

    landscape: object
    eta: float
    grads: Callable
    values: Callable
    hessians: Callable
    minibatch_grads: Callable | None = None


@dataclass
class StepOutput:
    """One step of n particles.

    Attributes
    ----------
    theta : ndarray (n, d)
        The new states.
    grad : ndarray (n, d) or None
        The full gradient ∇L at the old states (None for minibatch SGD, which never forms it).
    along : callable or None
        ``along(normals) -> (n, S)``: the variance of this step's noise along each unit normal
        (``normals`` of shape (S, d), or (n, S, d) per particle); None when the noise is not Gaussian
        with a covariance fixed at the start of the step (Lévy, minibatch), where the Brownian-bridge
        correction does not apply.
    """

    theta: np.ndarray
    grad: np.ndarray | None
    along: Callable | None


@dataclass
class Kick:
    """What a noise model adds to one step of n particles, before an optimizer combines it.

    Attributes
    ----------
    grad : ndarray (n, d)
        The gradient the step uses: ∇L at θ, or a real minibatch's gradient (``full`` False).
    zeta : ndarray (n, d) or None
        The noise displacement ζ (covariance η²C for SGD-type noise); None when the noise is in ``grad``.
    along : callable or None
        As :attr:`StepOutput.along`.
    bad : ndarray (n,) of bool or None
        Particles whose noise could not be formed (a non-finite Hessian): their new θ is NaN.
    full : bool
        Whether ``grad`` is the full gradient ∇L (the overshoot test reuses it).
    """

    grad: np.ndarray
    zeta: np.ndarray | None
    along: Callable | None
    bad: np.ndarray | None = None
    full: bool = True


def _psd_factor(h: np.ndarray, what: str) -> np.ndarray:
    """F with F Fᵀ = h for a symmetric positive semi-definite h (Cholesky; eigenvectors with a zero mode).

    Cholesky, not the symmetric square root, because it scales exactly: chol(4H) = 2·chol(H) in
    floating point, which the √k identities (docs/theory.md §Sharpness scaling, check C6) need bit for bit.
    """
    h = 0.5 * (h + h.T)
    try:
        return np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(h)
        if w[0] >= -1e-8 * max(abs(w[-1]), 1e-300):
            # positive semi-definite with zero modes (flat directions): no noise along them
            return V * np.sqrt(np.clip(w, 0.0, None))
        raise InputError(f"{what} must be positive semi-definite for this noise model; its eigenvalues are "
                         f"{np.array2string(w, precision=4)}") from None


_SEQUENTIAL_MAX = 32


def apply_factor(F: np.ndarray, z: np.ndarray) -> np.ndarray:
    """z·Fᵀ row by row (ζ_p = F z_p), with a summation order that does not depend on the number of rows.

    For d ≤ 32 the sum over j is accumulated in order j = 0, 1, …, d−1, so a particle's noise is
    bit-identical whatever chunk it is computed in (BLAS matmul may change the order with the
    matrix shape); above that, BLAS.
    """
    d = F.shape[1]
    if d > _SEQUENTIAL_MAX:
        return z @ F.T
    out = z[:, 0:1] * F[:, 0]
    for j in range(1, d):
        out = out + z[:, j:j + 1] * F[:, j]
    return out


def scaled_eigh(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eigh of a batch of symmetric matrices (n, d, d), each first scaled by a power of two.

    Dividing H_p by 2^e (e the binary exponent of max|H_p|) before ``eigh`` and multiplying the
    eigenvalues back is exact, and makes the result exactly covariant under H → 4^j·H, which the
    bit-for-bit √k identities need (docs/theory.md §Sharpness scaling, §C6).
    """
    m = np.max(np.abs(H), axis=(1, 2))
    e = np.frexp(m)[1]
    w, V = np.linalg.eigh(np.ldexp(H, -e[:, None, None]))
    return np.ldexp(w, e[:, None]), V


def _abs_matrix(h: np.ndarray) -> np.ndarray:
    """|H| = V|Λ|Vᵀ, the eigen-absolute value of a symmetric matrix (docs/theory.md §hessian_psd)."""
    w, V = np.linalg.eigh(0.5 * (h + h.T))
    return (V * np.abs(w)) @ V.T


def _shared_along(F: np.ndarray, c: float) -> Callable:
    """Variance along unit normals of ζ = c·F z: c²|Fᵀn|²."""
    def along(normals):
        proj = np.asarray(normals) @ F          # (..., S, d): rows nᵀF
        v = c * c * np.sum(proj * proj, axis=-1)
        return v if v.ndim == 2 else v[None, :]
    return along


def _particle_along(F: np.ndarray, c: float) -> Callable:
    """Variance along unit normals of ζ_p = c·F_p z_p for per-particle factors F (n, d, d)."""
    def along(normals):
        normals = np.asarray(normals)
        if normals.ndim == 2:
            proj = np.einsum("sd,nde->nse", normals, F)
        else:
            proj = np.einsum("nsd,nde->nse", normals, F)
        return c * c * np.sum(proj * proj, axis=-1)
    return along


@dataclass
class NoiseSampler:
    """Base class of the noise samplers: built from a NoiseModel part, it knows its variates, step and covariance.

    Subclasses set ``name``, ``kind`` ("normal" or "uniform"), ``shape`` (variates per step) and
    ``gaussian`` (True when the Brownian-bridge crossing correction applies).
    """

    name: str = field(init=False, default="")
    kind: str = field(init=False, default="normal")

    @property
    def shape(self) -> tuple:
        raise NotImplementedError

    @property
    def gaussian(self) -> bool:
        return self.kind == "normal"

    def draw(self, gen, n: int) -> np.ndarray:
        """n steps' variates from one generator, shape (n, *shape) (normal or uniform, per ``kind``)."""
        size = (int(n), *self.shape)
        return gen.standard_normal(size) if self.kind == "normal" else gen.random(size)

    def fill(self, gens, n_steps: int) -> np.ndarray:
        """Variates of the next ``n_steps`` steps for each generator, shape (n, n_steps, *shape)."""
        rows = [self.draw(g, n_steps) for g in gens]
        if not rows:
            return np.empty((0, int(n_steps), *self.shape))
        return np.stack(rows)

    def kick(self, theta: np.ndarray, z: np.ndarray, ctx: StepInputs) -> "Kick":
        """This step's gradient and noise displacement ζ at θ (n, d), from the variates z."""
        raise NotImplementedError

    def step(self, theta: np.ndarray, z: np.ndarray, ctx: StepInputs) -> StepOutput:
        """One SGD step θ − η·g + ζ of n particles (the optimizers of :mod:`numerics.optimizers` use :meth:`kick`)."""
        k = self.kick(theta, z, ctx)
        if k.zeta is None:
            new = theta - ctx.eta * k.grad
        else:
            new = theta - ctx.eta * k.grad + k.zeta
        if k.bad is not None:
            new[k.bad] = np.nan
        return StepOutput(new, k.grad if k.full else None, k.along)

    def covariance(self, theta: np.ndarray, ctx: StepInputs) -> np.ndarray | None:
        """Per-step noise covariance Σ(θ) (d, d) at one θ; None when not Gaussian."""
        return None

    def params(self) -> dict:
        """The model's parameters, for the result record."""
        return {}


# ---------------------------------------------------------------------- white noise (SGLD)
@dataclass
class WhiteNoise(NoiseSampler):
    """ζ = √(2Dη)·z, z ~ N(0, I): Euler–Maruyama for dθ = −∇L dt + √(2D) dW (docs/theory.md §White noise).

    Parameters
    ----------
    dim : int
    temperature : float > 0
        D, constant and isotropic.
    eta : float
    """

    dim: int
    temperature: float
    eta: float

    def __post_init__(self):
        self.name = "white"
        # [docs/theory.md §White noise] θ_{t+1} = θ_t − η∇L + √(2Dη) ε_t
        self._s = float(np.sqrt(2.0 * self.temperature * self.eta))

    @property
    def shape(self):
        return (self.dim,)

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        s = self._s

        def along(normals):
            normals = np.asarray(normals)
            v = s * s * np.sum(normals * normals, axis=-1)
            return np.broadcast_to(v, (theta.shape[0], v.shape[-1])) if v.ndim == 1 else v
        return Kick(g, s * z, along)

    def covariance(self, theta, ctx):
        return self._s ** 2 * np.eye(self.dim)

    def params(self):
        return {"temperature": float(self.temperature)}


# ---------------------------------------------------------------------- an explicit noise matrix
@dataclass
class FixedMatrixNoise(NoiseSampler):
    """ζ = S z with a given matrix S (and S₂ beyond a split plane): the compiled kernels' noise, in numpy.

    The kick is Σ_k S[:, k]·z_k summed in k order, as the compiled loops sum it, so this sampler
    reproduces their arithmetic (the Hessian models above compute c·(F z), which differs from it in
    the last bits). With ``matrix_after``, a particle with (θ − split)·normal ≥ 0 at the step's start
    uses S₂ (the two-region model with its matrices given).

    Parameters
    ----------
    matrix : ndarray (d, d)
        S (white noise: √(2Dη)·I; ``hessian_fixed``: η√(λ/B)·chol(H_a)).
    matrix_after, split, normal : ndarray (d, d), (d,), (d,), optional
        S₂ and the split plane of two-region noise.
    """

    matrix: np.ndarray
    matrix_after: np.ndarray | None = None
    split: np.ndarray | None = None
    normal: np.ndarray | None = None

    def __post_init__(self):
        self.name = "fixed_matrix"
        self.matrix = np.asarray(self.matrix, float)
        self._two = self.matrix_after is not None

    @property
    def shape(self):
        return (self.matrix.shape[0],)

    def _after(self, theta) -> np.ndarray:
        if not self._two:
            return np.zeros(theta.shape[0], bool)
        return (theta - self.split) @ self.normal >= 0

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        after = self._after(theta)
        S, S2 = self.matrix, (self.matrix_after if self._two else self.matrix)
        kick = np.zeros_like(theta)
        for k in range(theta.shape[1]):          # Σ_k S[:, k]·z_k in k order, as the kernels sum it
            col = np.where(after[:, None], S2[:, k][None, :], S[:, k][None, :])
            kick += col * z[:, k][:, None]

        def along(normals):
            va, vb = _shared_along(S, 1.0)(normals), _shared_along(S2, 1.0)(normals)
            return np.where(after[:, None], vb, va)
        return Kick(g, kick, along)

    def covariance(self, theta, ctx):
        S = self.matrix_after if self._two and self._after(np.atleast_2d(theta))[0] else self.matrix
        return S @ S.T

    def params(self):
        return {"matrix": self.matrix.tolist()}


# ---------------------------------------------------------------------- Hessian-shaped Gaussian noise
@dataclass
class HessianFixedNoise(NoiseSampler):
    """ζ = η√(λ/B)·F z with F Fᵀ = H_a: covariance η²λH_a/B, frozen at the minimum.

    See docs/theory.md §hessian_fixed and §Hessian noise and the loss unit.

    This is Kramers with D = ηλH_a/(2B) everywhere, i.e. the SGD law at s = 1 (docs/theory.md §The path parameter s).

    Parameters
    ----------
    h_a : ndarray (d, d)
        ∇²L at the minimum (after sharpening), positive definite.
    loss_unit : float > 0
        λ in C = λH/B (docs/theory.md §Hessian noise and the loss unit, item 2).
    batch_size : int ≥ 1
    eta : float
    """

    h_a: np.ndarray
    loss_unit: float
    batch_size: int
    eta: float

    def __post_init__(self):
        self.name = "hessian_fixed"
        self._F = _psd_factor(np.asarray(self.h_a, float), "the Hessian at the minimum")
        self._c = self.eta * np.sqrt(self.loss_unit / self.batch_size)

    @property
    def shape(self):
        return (self._F.shape[0],)

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        return Kick(g, self._c * apply_factor(self._F, z), _shared_along(self._F, self._c))

    def covariance(self, theta, ctx):
        return self._c ** 2 * (self._F @ self._F.T)

    def params(self):
        return {"loss_unit": float(self.loss_unit)}


@dataclass
class HessianTwoRegionNoise(NoiseSampler):
    """The paper's two-region model: covariance η²λH_a/B before the split, η²λ|H_b|/B after it.

    See docs/theory.md §hessian_two_region and §The path parameter s.

    The region of θ is decided by the sign of (θ − split)·e: negative (the minimum's side) uses
    H_a, zero or positive uses |H_b| = V|Λ|Vᵀ of the saddle Hessian.

    Parameters
    ----------
    h_a, h_b : ndarray (d, d)
        Hessians at the minimum and at the saddle.
    split : ndarray (d,)
        The split point c (default in ``simulate_escape``: the inflection point, docs/theory.md §The path parameter s).
    direction : ndarray (d,)
        The escape direction e.
    loss_unit, batch_size, eta
        As in :class:`HessianFixedNoise`.
    """

    h_a: np.ndarray
    h_b: np.ndarray
    split: np.ndarray
    direction: np.ndarray
    loss_unit: float
    batch_size: int
    eta: float

    def __post_init__(self):
        self.name = "hessian_two_region"
        self._Fa = _psd_factor(np.asarray(self.h_a, float), "the Hessian at the minimum")
        self._Fb = _psd_factor(_abs_matrix(np.asarray(self.h_b, float)), "|H_b| (the saddle Hessian)")
        self._c = self.eta * np.sqrt(self.loss_unit / self.batch_size)
        self.split = np.asarray(self.split, float)
        self.direction = np.asarray(self.direction, float)

    @property
    def shape(self):
        return (self._Fa.shape[0],)

    def region_b(self, theta) -> np.ndarray:
        """True where θ is past the split point along e: (θ − c)·e ≥ 0."""
        return (theta - self.split) @ self.direction >= 0.0

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        past = self.region_b(theta)
        zeta = np.where(past[:, None], apply_factor(self._Fb, z), apply_factor(self._Fa, z))
        Fa, Fb, c = self._Fa, self._Fb, self._c

        def along(normals):
            va, vb = _shared_along(Fa, c)(normals), _shared_along(Fb, c)(normals)
            va = np.broadcast_to(va, (theta.shape[0], va.shape[-1]))
            vb = np.broadcast_to(vb, (theta.shape[0], vb.shape[-1]))
            return np.where(past[:, None], vb, va)
        return Kick(g, self._c * zeta, along)

    def covariance(self, theta, ctx):
        F = self._Fb if self.region_b(np.asarray(theta, float)[None, :])[0] else self._Fa
        return self._c ** 2 * (F @ F.T)

    def params(self):
        return {"loss_unit": float(self.loss_unit), "split": self.split.tolist(),
                "split_direction": self.direction.tolist()}


@dataclass
class HessianPSDNoise(NoiseSampler):
    """Covariance η²λ(|H(θ)| + δI)/B at the current θ, |H| = V|Λ|Vᵀ (docs/theory.md §hessian_psd).

    ζ = η√(λ/B)·V·diag(√(|Λ| + δ))·Vᵀ z from a batched ``eigh`` of the particles' Hessians. With δ = 0
    the noise vanishes where an eigenvalue crosses zero (the inflection point), and the
    continuous-time escape time is infinite in 1-D (docs/theory.md §Ill-posed Hessian noise); discrete runs
    still escape.

    Parameters
    ----------
    delta : float ≥ 0
        The floor δ.
    loss_unit, batch_size, eta
        As in :class:`HessianFixedNoise`.
    dim : int
    """

    dim: int
    delta: float
    loss_unit: float
    batch_size: int
    eta: float

    def __post_init__(self):
        self.name = "hessian_psd"
        self._c = self.eta * np.sqrt(self.loss_unit / self.batch_size)

    @property
    def shape(self):
        return (self.dim,)

    def _factors(self, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(V, √(|Λ| + δ)) of a batch of symmetric matrices (n, d, d)."""
        w, V = scaled_eigh(H)
        return V, np.sqrt(np.abs(w) + self.delta)

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        H = ctx.hessians(theta)
        bad = ~np.isfinite(H).all(axis=(1, 2))
        H[bad] = 0.0
        V, sq = self._factors(H)
        # symmetric square root V·diag(√(|Λ|+δ))·Vᵀ applied to z
        zeta = np.einsum("nde,ne->nd", V, sq * np.einsum("nde,nd->ne", V, z))
        return Kick(g, self._c * zeta, _particle_along(V * sq[:, None, :], self._c), bad)

    def covariance(self, theta, ctx):
        V, sq = self._factors(ctx.hessians(np.asarray(theta, float)[None, :]))
        return self._c ** 2 * ((V[0] * sq[0] ** 2) @ V[0].T)

    def params(self):
        return {"delta": float(self.delta), "loss_unit": float(self.loss_unit)}


@dataclass
class LossHessianNoise(NoiseSampler):
    """Mori et al.'s model: covariance η²·2L(θ)·H(θ)₊/B (docs/theory.md §loss_hessian, §Mori power law).

    ζ = η√(2L₊/B)·V·diag(√Λ₊)·Vᵀ z, where L₊ = max(L(θ), 0) and Λ₊ = max(Λ, 0): the covariance is
    projected on the PSD cone by clipping negative Hessian eigenvalues to zero (no noise along
    directions of negative curvature), and there is no noise where L < 0. The model presumes
    L ≥ 0 (an MSE-type loss): a constant offset of L changes the noise but not the drift, which is
    check C12. There is no loss-unit constant: 2L(θ) carries the unit.

    Parameters
    ----------
    dim : int
    batch_size : int ≥ 1
    eta : float
    """

    dim: int
    batch_size: int
    eta: float

    def __post_init__(self):
        self.name = "loss_hessian"

    @property
    def shape(self):
        return (self.dim,)

    def _factors(self, L: np.ndarray, H: np.ndarray):
        w, V = scaled_eigh(H)
        amp = np.sqrt(2.0 * np.maximum(L, 0.0) / self.batch_size)          # (n,)
        return V, amp[:, None] * np.sqrt(np.maximum(w, 0.0))

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        L = ctx.values(theta)
        H = ctx.hessians(theta)
        bad = ~(np.isfinite(H).all(axis=(1, 2)) & np.isfinite(L))
        H[bad] = 0.0
        L = np.where(bad, 0.0, L)
        V, sq = self._factors(L, H)
        zeta = np.einsum("nde,ne->nd", V, sq * np.einsum("nde,nd->ne", V, z))
        return Kick(g, ctx.eta * zeta, _particle_along(V * sq[:, None, :], ctx.eta), bad)

    def covariance(self, theta, ctx):
        t = np.asarray(theta, float)[None, :]
        V, sq = self._factors(ctx.values(t), ctx.hessians(t))
        return self.eta ** 2 * ((V[0] * sq[0] ** 2) @ V[0].T)


# ---------------------------------------------------------------------- α-stable noise
def stable_variates(u_angle: np.ndarray, u_exp: np.ndarray, alpha: float) -> np.ndarray:
    """Standard symmetric α-stable variates from two uniforms (Chambers, Mallows & Stuck 1976).

    With V = π(U₁ − ½) and W = −log(1 − U₂) ~ Exp(1),

        X = sin(αV)/cos(V)^{1/α} · (cos((1 − α)V)/W)^{(1−α)/α},

    which has characteristic function E e^{iuX} = exp(−|u|^α) (scale 1; scipy's ``levy_stable``
    with β = 0). α = 1 gives the Cauchy law tan V and α = 2 gives N(0, 2) = 2√W·sin V.

    References: J. M. Chambers, C. L. Mallows, B. W. Stuck, J. Amer. Statist. Assoc. 71, 340 (1976);
    R. Weron, Statist. Probab. Lett. 28, 165 (1996), Eq. (3.2) for β = 0.
    """
    V = np.pi * (u_angle - 0.5)
    W = -np.log1p(-u_exp)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if alpha == 1.0:
            return np.tan(V)
        return (np.sin(alpha * V) / np.cos(V) ** (1.0 / alpha)
                * (np.cos((1.0 - alpha) * V) / W) ** ((1.0 - alpha) / alpha))


@dataclass
class LevyNoise(NoiseSampler):
    """ζ = (ηD)^{1/α}·S, S standard symmetric α-stable per coordinate (docs/theory.md §Levy escape).

    This is the Euler step of dθ = −∇L dt + ε dL^α_t with ε = D^{1/α}, where L^α is the symmetric
    α-stable Lévy process with E e^{iuL_t} = exp(−t|u|^α) per coordinate (independent coordinates,
    not rotationally invariant), so its increment over one step η is η^{1/α}·S. For α = 2 it is
    exactly the white noise of temperature D (S ~ N(0, 2)).

    Scale convention: the Lévy measure of ε·L^α is ε^α·c_α·|y|^{−1−α}dy per coordinate with
    c_α = Γ(1+α)·sin(πα/2)/π; Imkeller & Pavlyukevich's exit-time formula (docs/theory.md §Levy escape) is written
    for Lévy measure |y|^{−1−α}dy, so their ε^α equals D·c_α here.

    Parameters
    ----------
    dim : int
    temperature : float > 0
        D = ε^α.
    alpha : float in (0, 2]
    eta : float
    """

    dim: int
    temperature: float
    alpha: float
    eta: float

    def __post_init__(self):
        self.name = "levy"
        self.kind = "uniform"
        self._scale = float((self.eta * self.temperature) ** (1.0 / self.alpha))

    @property
    def shape(self):
        return (2, self.dim)

    def kick(self, theta, z, ctx):
        g = ctx.grads(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            zeta = self._scale * stable_variates(z[:, 0, :], z[:, 1, :], self.alpha)
        return Kick(g, zeta, None)

    def params(self):
        return {"temperature": float(self.temperature), "alpha": float(self.alpha)}


# ---------------------------------------------------------------------- real minibatch SGD
def minibatch_indices(u: np.ndarray, n_samples: int, replacement: bool) -> np.ndarray:
    """Sample indices (B, n) from uniforms u (n, B): with replacement ⌊u·m⌋; without, Floyd's algorithm.

    Floyd's algorithm (J. Bentley, "Programming pearls: a sample of brilliance", Commun. ACM 30,
    754 (1987)) turns B uniforms into a uniformly random B-subset of {0, …, m−1}: for j = m−B, …, m−1
    draw t uniform in {0, …, j}; add t, or j if t was already chosen. Both variants use exactly B
    uniforms per step, so they are stream-compatible.
    """
    u = np.asarray(u, float)
    n, B = u.shape
    m = int(n_samples)
    if replacement:
        return np.minimum((u * m).astype(np.int64), m - 1).T
    chosen = np.empty((n, B), dtype=np.int64)
    for col, j in enumerate(range(m - B, m)):
        t = np.minimum((u[:, col] * (j + 1)).astype(np.int64), j)
        dup = (chosen[:, :col] == t[:, None]).any(axis=1)
        chosen[:, col] = np.where(dup, j, t)
    return chosen.T


@dataclass
class MinibatchNoise(NoiseSampler):
    """Real SGD: θ ← θ − η∇L_B(θ), the mean gradient over B samples of a finite-sum loss (docs/theory.md §SGD noise).

    No Gaussian stand-in: the noise is whatever the minibatch gradient does. R particles are R
    replicas advanced in one vectorised call of ``landscape.minibatch_loss`` (θ (d, R), indices
    (B, R)); an MLP's hand-written batched gradient is used when available
    (``numerics.samples.minibatch_gradients``). Indices come from each particle's noise stream, B
    uniforms per step (see :func:`minibatch_indices`).

    Parameters
    ----------
    batch_size : int ≥ 1
        B (at most m without replacement).
    n_samples : int
        m.
    replacement : bool
        Draw the B indices i.i.d. (True) or as a uniform subset (False).
    """

    batch_size: int
    n_samples: int
    replacement: bool

    def __post_init__(self):
        self.name = "minibatch"
        self.kind = "uniform"

    @property
    def shape(self):
        return (self.batch_size,)

    @property
    def gaussian(self):
        return False

    def kick(self, theta, z, ctx):
        idx = minibatch_indices(z, self.n_samples, self.replacement)
        return Kick(ctx.minibatch_grads(theta, idx), None, None, full=False)

    def params(self):
        return {"replacement": bool(self.replacement), "n_samples": int(self.n_samples)}


# ---------------------------------------------------------------------- factory
def build_noise(name: str, *, dim: int, eta: float, temperature=None, batch_size=None, loss_unit: float = 1.0,
                h_a=None, h_b=None, split=None, direction=None, delta: float = 0.0, alpha: float = 1.5,
                n_samples=None, replacement: bool = True) -> NoiseSampler:
    """A noise model by name; the arguments must already be validated (``simulate_escape`` does that)."""
    if name == "white":
        return WhiteNoise(dim, temperature, eta)
    if name == "hessian_fixed":
        return HessianFixedNoise(h_a, loss_unit, batch_size, eta)
    if name == "hessian_two_region":
        return HessianTwoRegionNoise(h_a, h_b, split, direction, loss_unit, batch_size, eta)
    if name == "hessian_psd":
        return HessianPSDNoise(dim, delta, loss_unit, batch_size, eta)
    if name == "loss_hessian":
        return LossHessianNoise(dim, batch_size, eta)
    if name == "levy":
        return LevyNoise(dim, temperature, alpha, eta)
    if name == "minibatch":
        return MinibatchNoise(batch_size, n_samples, replacement)
    raise InputError(f"unknown noise {name!r}; allowed: {', '.join(NOISE_MODELS)}")
