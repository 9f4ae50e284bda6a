"""Training losses of small fully connected networks (MLPs) on classification data, as landscapes.

θ is the flat vector of all weights and biases, layer by layer: for each layer the weight matrix
W (n_in × n_out, row-major) and then the bias b (n_out). The loss is written coordinate-first
(θ of shape ``(P,)`` or ``(P, R)``, see ``numerics.landscape``): the R replicas are a batch axis of
one set of matrix products, so evaluating many networks costs one vectorised pass.

Per-sample loss (docs/theory.md §SGD noise, ℓ_j), for a sample j with standardised features x_j and label y_j:

    ℓ_j(θ) = c(f_θ(x_j), y_j) + (weight_decay/2)·|θ|²,   L(θ) = (1/m) Σ_j ℓ_j(θ),

with c the softmax cross-entropy (``loss="cross_entropy"``) or ½|f_θ(x_j) − onehot(y_j)|²
(``loss="mse"``). The weight-decay term sits in every ℓ_j, so a minibatch mean of ℓ_j is an
unbiased estimate of L and the minibatch gradient noise is unchanged by it.

Why weight decay: on separable data (breast_cancer, wine, iris are nearly or fully separable by a
small MLP) the unregularised cross-entropy has no finite minimiser, since scaling up the last
layer keeps lowering it. With weight_decay > 0 the loss is coercive, minima exist, and their
Hessians are well defined. ``weight_decay=0`` is allowed (e.g. with ``loss="mse"``) but minimum
finders may then diverge.
"""
from __future__ import annotations

import threading
from dataclasses import replace

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from flatminima.errors import InputError
from flatminima.numerics.kernels import mlp as mlp_kernel
from flatminima.numerics.datasets import load_dataset
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.landscape import Landscape

ACTIVATIONS = ("tanh", "relu", "softplus", "sigmoid")
LOSSES = ("cross_entropy", "mse")
KERNEL_MAX_PARAMS = 1000      # MLPModel.minibatch_grad: most parameters for the compiled kernel


def _act(name: str):
    """The activation function σ (autograd-differentiable) for ``name``."""
    if name == "tanh":
        return anp.tanh
    if name == "relu":
        return lambda z: anp.maximum(z, 0.0)
    if name == "softplus":
        return lambda z: anp.logaddexp(0.0, z)
    return lambda z: 0.5 * (anp.tanh(0.5 * z) + 1.0)   # sigmoid, overflow-free


def _act_and_slope_into(name: str, z: np.ndarray, h_out: np.ndarray, s_out: np.ndarray) -> None:
    """Write σ(z) into ``h_out`` and σ'(z) into ``s_out`` (plain numpy, no temporaries; z is overwritten)."""
    if name == "tanh":
        # tanh(z) = 1 − 2/(e^{2z} + 1): one exp is ~2x faster than numpy's float64 tanh on CPUs
        # without AVX-512; absolute error ≤ 4e-16 (e^{2z} = inf gives exactly 1)
        np.multiply(z, 2.0, out=z)
        with np.errstate(over="ignore"):
            np.exp(z, out=z)
        z += 1.0
        np.divide(-2.0, z, out=z)
        z += 1.0
        h_out[...] = z
        np.multiply(z, z, out=s_out)
        np.subtract(1.0, s_out, out=s_out)
    elif name == "relu":
        np.maximum(z, 0.0, out=h_out)
        np.sign(h_out, out=s_out)                   # 1 where z > 0, else 0
    elif name == "softplus":
        np.logaddexp(0.0, z, out=h_out)
        np.multiply(z, 0.5, out=s_out)              # σ'(z) = sigmoid(z) = (tanh(z/2) + 1)/2
        np.tanh(s_out, out=s_out)
        s_out += 1.0
        s_out *= 0.5
    else:                                           # sigmoid
        np.multiply(z, 0.5, out=z)
        np.tanh(z, out=z)
        z += 1.0
        z *= 0.5
        h_out[...] = z
        np.subtract(1.0, z, out=s_out)
        s_out *= z


def parse_hidden(hidden) -> tuple[int, ...]:
    """Hidden-layer widths from a spec such as ``"16"`` or ``"32x16"`` (``""`` means no hidden layer)."""
    text = str(hidden).strip().lower()
    if text in ("", "none"):
        return ()
    parts = text.split("x")
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        widths = ()
    if not widths or any(w < 1 for w in widths) or any(not p.strip().isdigit() for p in parts):
        raise LandscapeError(f"hidden must be layer widths >= 1 joined by 'x', e.g. '16' or '32x16'; got {hidden!r}")
    return widths


class MLPModel:
    """The forward and backward passes of one MLP loss on a fixed data set.

    Parameters
    ----------
    X : ndarray, shape (m, p)
        Features.
    y : ndarray of int, shape (m,)
        Labels 0..K−1.
    layer_sizes : sequence of int
        ``(p, h_1, ..., h_L, K)``.
    activation : str
        One of ``ACTIVATIONS``.
    loss : str
        One of ``LOSSES``.
    weight_decay : float
        The L2 coefficient (weight_decay/2)·|θ|² added to every per-sample loss.
    """

    def __init__(self, X, y, layer_sizes, activation, loss, weight_decay):
        self.X = np.ascontiguousarray(X, dtype=float)
        self.X1 = np.hstack([self.X, np.ones((len(self.X), 1))])    # inputs with a bias column
        self.y = np.asarray(y, dtype=np.intp)
        self.n_classes = int(layer_sizes[-1])
        self.Y = np.eye(self.n_classes)[self.y]                      # one-hot, (m, K)
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        self.loss_name = loss
        self.weight_decay = float(weight_decay)
        self.shapes = []
        off = 0
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            self.shapes.append((off, n_in, n_out))
            off += n_in * n_out + n_out
        self.dim = off
        self._local = threading.local()                                # per-thread scratch arrays
        # inputs of the compiled kernel (numerics.kernels.mlp)
        self._XT = np.ascontiguousarray(self.X.T)
        self._labels = self.y.astype(np.int64)
        self._sizes = np.array(self.layer_sizes, dtype=np.int64)
        self._offsets = np.array([o for o, _, _ in self.shapes], dtype=np.int64)

    @property
    def sigma(self):
        """The activation σ, autograd-differentiable (looked up, not stored, so the model pickles)."""
        return _act(self.activation)

    @property
    def n_samples(self) -> int:
        """m, the number of rows of the data."""
        return int(self.X.shape[0])

    # ---------------------------------------------------------------- autograd-traceable passes
    def _layers(self, theta):
        """(W, b) per layer from θ (P, R): W (R, n_in, n_out), b (R, 1, n_out)."""
        R = theta.shape[1]
        out = []
        for off, n_in, n_out in self.shapes:
            W = anp.transpose(anp.reshape(theta[off:off + n_in * n_out], (n_in, n_out, R)), (2, 0, 1))
            b = anp.reshape(anp.transpose(theta[off + n_in * n_out:off + n_in * n_out + n_out]), (R, 1, n_out))
            out.append((W, b))
        return out

    def _logits(self, theta, X):
        """Network outputs for θ (P, R) on inputs X of shape (m, p) or (R, B, p); returns (R, ·, K)."""
        layers = self._layers(theta)
        h = X
        for i, (W, b) in enumerate(layers):
            z = anp.matmul(h, W) + b
            h = self.sigma(z) if i < len(layers) - 1 else z
        return h

    def _costs(self, logits, Y):
        """Per-sample data costs c(f, y), shape (R, B), for logits and one-hot targets (·, B, K)."""
        if self.loss_name == "cross_entropy":
            return logsumexp(logits, axis=2) - anp.sum(logits * Y, axis=2)
        return 0.5 * anp.sum((logits - Y) ** 2, axis=2)

    def _decay(self, theta):
        return 0.5 * self.weight_decay * anp.sum(theta * theta, axis=0)

    def loss(self, theta):
        """L(θ) for θ of shape (P,) (scalar) or (P, R) (shape (R,))."""
        if theta.ndim == 1:
            return self.loss(anp.reshape(theta, (-1, 1)))[0]
        costs = self._costs(self._logits(theta, self.X), self.Y)        # (R, m)
        return anp.mean(costs, axis=1) + self._decay(theta)

    def minibatch_loss(self, theta, idx):
        """Mean of ℓ_j over each replica's minibatch: θ (P, R), idx (B, R) -> (R,)."""
        idx = np.asarray(idx)
        rows = idx.T                                                   # (R, B)
        costs = self._costs(self._logits(theta, self.X[rows]), self.Y[rows])
        return anp.mean(costs, axis=1) + self._decay(theta)

    def sample_loss(self, theta, idx):
        """Per-sample losses ℓ_j(θ) for θ (P,) and indices idx (B,) -> (B,)."""
        idx = np.asarray(idx).reshape(-1)
        costs = self._costs(self._logits(anp.reshape(theta, (-1, 1)), self.X[idx]), self.Y[idx])
        return costs[0] + self._decay(theta)

    # ---------------------------------------------------------------- hand-written gradient
    def minibatch_grad(self, thetas, idx, out=None) -> np.ndarray:
        """∇ of ``minibatch_loss`` for each replica, by one of two hand-written backward passes.

        :meth:`minibatch_grad_compiled` (numba; SIMD over replicas, one load and store per
        multiply-add) for networks of at most ``KERNEL_MAX_PARAMS`` parameters, else
        :meth:`minibatch_grad_reference` (numpy; BLAS matmuls per replica, which win for wide layers:
        15% faster for a 64-32-10 network at R = 64, B = 32, where the kernel is 1.9x faster for
        10-32-2). The choice does not depend on R, so a replica's gradient is the same, bit for bit,
        whichever replicas run beside it (numpy is 3x faster at R = 1, but that is rare).

        Parameters
        ----------
        thetas : ndarray, shape (R, P)
            One θ per row.
        idx : ndarray of int, shape (B, R)
            Column r holds replica r's minibatch.
        out : ndarray, shape (R, P), optional
            Where to write the result (saves an allocation per SGD step); may not be ``thetas``.

        Returns
        -------
        ndarray, shape (R, P)
            Equal to the autograd gradient of ``minibatch_loss`` (checked in tests to 1e-10).
        """
        if self.dim <= KERNEL_MAX_PARAMS:
            return self.minibatch_grad_compiled(thetas, idx, out=out)
        return self.minibatch_grad_reference(thetas, idx, out=out)

    def minibatch_grad_compiled(self, thetas, idx, out=None) -> np.ndarray:
        """∇ of ``minibatch_loss`` for each replica by the compiled kernel of :mod:`numerics.kernels.mlp`.

        Same arguments and result as :meth:`minibatch_grad` (equal to :meth:`minibatch_grad_reference`
        to round-off, tested to 1e-12); ``out`` may be ``thetas``.
        """
        thetas = np.ascontiguousarray(thetas, dtype=float)
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        self._check_kernel_arguments(thetas, idx, out)
        direct = out is not None and out.dtype == np.float64 and out.flags.c_contiguous
        grad = out if direct else np.empty(thetas.shape)
        mlp_kernel.minibatch_grad_into(thetas, idx, self._XT, self._labels, self._sizes, self._offsets,
                                       mlp_kernel.ACTIVATION_CODES[self.activation],
                                       mlp_kernel.LOSS_CODES[self.loss_name], self.weight_decay, grad)
        if out is not None and not direct:
            out[...] = grad
            return out
        return grad

    def _check_kernel_arguments(self, thetas, idx, out) -> None:
        """Raise unless the shapes and indices are valid (the compiled kernel does not check bounds)."""
        if thetas.ndim != 2 or thetas.shape[1] != self.dim:
            raise InputError(f"thetas must have shape (R, {self.dim}); got {thetas.shape}")
        if idx.ndim != 2 or idx.shape[1] != thetas.shape[0]:
            raise InputError(f"idx must have shape (B, {thetas.shape[0]}); got {idx.shape}")
        if out is not None and out.shape != thetas.shape:
            raise InputError(f"out must have shape {thetas.shape}; got {out.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_samples):
            raise IndexError(f"minibatch indices must be in [0, {self.n_samples}); got {idx.min()}..{idx.max()}")

    def minibatch_grad_reference(self, thetas, idx, out=None) -> np.ndarray:
        """∇ of ``minibatch_loss`` for each replica, by a hand-written batched backward pass in numpy.

        The reference for :meth:`minibatch_grad` (same arguments; ``out`` may not be ``thetas``):
        each layer is one stacked (R, B, ·) matmul.
        """
        thetas = np.asarray(thetas, dtype=float)
        rows = np.asarray(idx).T                                       # (R, B)
        R, B = rows.shape
        ws = self._workspace(R, B)
        # Layer i's block of θ, W (n_in × n_out) then b (n_out), is the (n_in+1) × n_out matrix [W; b];
        # with a column of ones appended to the inputs, z = [h, 1]·[W; b] and ∂/∂[W; b] = [h, 1]ᵀ·∂z.
        blocks = [thetas[:, off:off + (n_in + 1) * n_out].reshape(R, n_in + 1, n_out)
                  for off, n_in, n_out in self.shapes]
        inputs = ws["inputs"]                                          # [h_i, 1], (R, B, n_i + 1)
        np.take(self.X1, rows, axis=0, out=inputs[0])
        for i, Wb in enumerate(blocks[:-1]):
            z = np.matmul(inputs[i], Wb, out=ws["z"][i])
            _act_and_slope_into(self.activation, z, inputs[i + 1][:, :, :-1], ws["slopes"][i])
        dz = np.matmul(inputs[-1], blocks[-1], out=ws["z"][-1])        # logits, (R, B, K)
        Yb = np.take(self.Y, rows, axis=0, out=ws["Y"])
        if self.loss_name == "cross_entropy":                          # ∂c/∂z = softmax(z) − onehot(y)
            dz -= dz.max(axis=2, keepdims=True)
            np.exp(dz, out=dz)
            dz /= dz.sum(axis=2, keepdims=True)
        dz -= Yb                                                       # mse: ∂c/∂z = z − onehot(y)
        dz *= 1.0 / B
        grad = np.multiply(thetas, self.weight_decay, out=out)
        for i in range(len(blocks) - 1, -1, -1):
            off, n_in, n_out = self.shapes[i]
            grad[:, off:off + (n_in + 1) * n_out] += np.matmul(
                inputs[i].transpose(0, 2, 1), dz, out=ws["dblock"][i]).reshape(R, -1)
            if i > 0:
                dz = np.matmul(dz, blocks[i][:, :n_in, :].transpose(0, 2, 1), out=ws["dh"][i - 1])
                dz *= ws["slopes"][i - 1]
        return grad

    def _workspace(self, R: int, B: int) -> dict:
        """Scratch arrays for ``minibatch_grad``, reused across calls of the same (R, B).

        Fresh temporaries of this size would be returned to the OS after each call and page-faulted
        back in on the next, which measured ~3x slower than the arithmetic itself.
        """
        cache = getattr(self._local, "workspaces", None)
        if cache is None:
            cache = self._local.workspaces = {}
        ws = cache.get((R, B))
        if ws is None:
            if len(cache) >= 4:                                        # bound memory: keep a few shapes
                cache.pop(next(iter(cache)))
            sizes = self.layer_sizes
            inputs = [np.empty((R, B, n + 1)) for n in sizes[:-1]]
            for a in inputs:
                a[:, :, -1] = 1.0
            ws = cache[(R, B)] = {
                "inputs": inputs,
                "z": [np.empty((R, B, n)) for n in sizes[1:]],
                "slopes": [np.empty((R, B, n)) for n in sizes[1:-1]],
                "dh": [np.empty((R, B, n)) for n in sizes[1:-1]],
                "dblock": [np.empty((R, n_in + 1, n_out)) for n_in, n_out in zip(sizes[:-1], sizes[1:])],
                "Y": np.empty((R, B, sizes[-1])),
            }
        return ws

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_local"]                                            # scratch space is per process
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()


def mlp(data: str = "breast_cancer", hidden: str = "16", activation: str = "tanh",
        loss: str = "cross_entropy", weight_decay: float = 1e-3, n_samples: int = 0, seed: int = 0,
        label: str = "") -> Landscape:
    """The training loss L(θ) = (1/m) Σ_j ℓ_j(θ) of an MLP classifier on a data set.

    Parameters
    ----------
    data : str
        ``breast_cancer``, ``wine``, ``iris``, ``digits`` (scikit-learn's bundled sets) or a CSV path.
    hidden : str
        Hidden-layer widths, e.g. ``"16"`` or ``"32x16"``; ``""`` gives a linear (softmax) model.
    activation : str
        ``tanh`` (default), ``relu``, ``softplus`` or ``sigmoid``. A minimum with a well-defined
        Hessian (Newton polish, eigenvalues) needs a smooth one; relu's Hessian is piecewise.
    loss : str
        ``cross_entropy`` (softmax over K outputs) or ``mse`` (½|f − onehot(y)|² per sample).
    weight_decay : float ≥ 0
        The coefficient of (weight_decay/2)·|θ|², added to every per-sample loss; needed for a
        finite minimum of the cross-entropy on separable data (see the module docstring).
    n_samples : int ≥ 0
        0 uses all rows; otherwise a subset of this many rows drawn without replacement from ``seed``
        (keeps Hessian work small).
    seed : int
        Seed of the row subset (numpy SeedSequence entropy).
    label : str
        For a CSV: the label column (name or position); default the last column.

    Returns
    -------
    Landscape
        d = P, the number of weights and biases; ``n_samples`` = m; ``minibatch_loss`` and
        ``sample_loss`` set; ``minima`` empty (use :func:`initial_theta` and a minimum finder).
    """
    if activation not in ACTIVATIONS:
        raise LandscapeError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise LandscapeError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    weight_decay = float(weight_decay)
    if not np.isfinite(weight_decay) or weight_decay < 0:
        raise LandscapeError(f"weight_decay must be a finite number >= 0; got {weight_decay}")
    if int(n_samples) != n_samples or n_samples < 0:
        raise LandscapeError(f"n_samples must be an integer >= 0 (0 = all rows); got {n_samples}")
    n_samples, seed = int(n_samples), int(seed)
    widths = parse_hidden(hidden)
    ds = load_dataset(data, label=label or None)
    X, y = ds.X, ds.y
    if n_samples:
        if not 2 <= n_samples <= ds.n_samples:
            raise LandscapeError(f"n_samples must be 0 (all) or between 2 and {ds.n_samples} for {ds.name}; "
                                 f"got {n_samples}")
        rows = np.sort(np.random.default_rng(np.random.SeedSequence(seed)).choice(ds.n_samples, n_samples,
                                                                                  replace=False))
        X, y = X[rows], y[rows]
    sizes = (ds.n_features, *widths, ds.n_classes)
    model = MLPModel(X, y, sizes, activation, loss, weight_decay)
    hidden_text = "x".join(str(w) for w in widths)
    params = {"data": ds.name, "hidden": hidden_text, "activation": activation, "loss": loss,
              "weight_decay": weight_decay, "n_samples": n_samples, "seed": seed,
              "label": label, "layer_sizes": list(sizes)}
    name = (f"mlp:data={ds.name},hidden={hidden_text},activation={activation},loss={loss},"
            f"weight_decay={weight_decay:g},n_samples={n_samples},seed={seed}" + (f",label={label}" if label else ""))
    land = Landscape(
        name=name, dim=model.dim, loss=model.loss, params=params, vectorised=True,
        n_samples=model.n_samples, minibatch_loss=model.minibatch_loss, sample_loss=model.sample_loss,
        description=(f"MLP {'-'.join(map(str, sizes))} ({activation}, {loss}, weight_decay={weight_decay:g}) "
                     f"on {ds.name}, m={model.n_samples}"),
    )
    every = np.arange(model.n_samples)[:, None]

    def fast_grads(thetas):
        # the full-batch gradient by the hand-written backward pass (equal to autograd's, tests)
        return model.minibatch_grad(np.asarray(thetas, float), np.repeat(every, len(thetas), axis=1))
    return replace(land, sampler=lambda seed: initial_theta(land, seed), fast_grads=fast_grads)


def mlp_model(landscape: Landscape) -> MLPModel | None:
    """The :class:`MLPModel` behind an MLP landscape's ``minibatch_loss``, or None (e.g. after ``sharpened``)."""
    owner = getattr(landscape.minibatch_loss, "__self__", None)
    return owner if isinstance(owner, MLPModel) else None


def mlp_minibatch_grad(landscape: Landscape, thetas, idx) -> np.ndarray:
    """Replicated minibatch gradients of an MLP landscape by the hand-written backward pass.

    Parameters
    ----------
    landscape : Landscape
        Built by :func:`mlp` (not wrapped, e.g. by ``sharpened``).
    thetas : ndarray, shape (R, P)
        One θ per row.
    idx : ndarray of int, shape (B, R)
        Column r is replica r's minibatch.

    Returns
    -------
    ndarray, shape (R, P)
    """
    model = mlp_model(landscape)
    if model is None:
        raise LandscapeError(f"{landscape.name} is not an unwrapped MLP landscape; use numerics.samples.minibatch_gradients")
    return model.minibatch_grad(thetas, idx)


def initial_theta(landscape: Landscape, seed: int = 0) -> np.ndarray:
    """A seeded random θ for an MLP landscape: W ~ N(0, 1/n_in) (LeCun), biases 0.

    For a landscape made by ``sharpened(·, k)`` the point is divided by √k, so that the network
    function at the initial point does not depend on k.

    Parameters
    ----------
    landscape : Landscape
        Built by :func:`mlp` (``params["layer_sizes"]`` gives the layout).
    seed : int
        numpy SeedSequence entropy.

    Returns
    -------
    ndarray, shape (P,)
    """
    sizes = landscape.params.get("layer_sizes") if landscape.params else None
    if not sizes:
        raise LandscapeError(f"initial_theta needs an MLP landscape (params['layer_sizes']); got {landscape.name}")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    parts = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        parts.append(rng.standard_normal(n_in * n_out) / np.sqrt(n_in))
        parts.append(np.zeros(n_out))
    theta = np.concatenate(parts)
    if theta.size != landscape.dim:
        raise LandscapeError(f"layer_sizes {list(sizes)} give {theta.size} parameters but {landscape.name} has "
                             f"dim={landscape.dim}")
    return theta / np.sqrt(float(landscape.params.get("sharpness", 1.0)))
