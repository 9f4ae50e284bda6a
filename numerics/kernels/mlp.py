"""Compiled (numba) replicated minibatch gradient of an MLP loss: forward and backward pass in one kernel.

:func:`minibatch_grad_into` computes what ``numerics.mlp.MLPModel.minibatch_grad_reference`` (the
numpy path) computes: for each replica r the gradient of its minibatch loss, the mean of the
per-sample costs over its rows idx[:, r] plus (weight_decay/2)·|θ_r|². The parameter layout is the
one of ``numerics.mlp``: per layer W (n_in × n_out, row-major), then b (n_out).

Layout: the replicas are the innermost axis. θ is transposed once to (P, R), activations and δs
are (width, R) blocks of one sample, and every loop of the forward and backward pass runs over the
R replicas with unit stride, which the compiler turns into SIMD code. Samples are processed two at
a time, so that each pass through the gradient accumulator adds two outer products.

tanh (and the sigmoid built from it) uses tanh(z) = 1 − 2/(e^{2z} + 1), the numpy path's formula,
with e^{2z} from :func:`_exp_small`, a branch-free exp (Cody–Waite reduction and a degree-13 Taylor
polynomial, ≤ 2 ulp) that vectorises; libm's exp is an opaque call, one element at a time.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types, uint64
from numba.extending import intrinsic

ACTIVATION_CODES = {"tanh": 0, "relu": 1, "softplus": 2, "sigmoid": 3}
"""Activations supported by the kernel and their integer ids in compiled code."""

LOSS_CODES = {"cross_entropy": 0, "mse": 1}
"""Losses supported by the kernel and their integer ids in compiled code."""

_TANH, _RELU, _SIGMOID = ACTIVATION_CODES["tanh"], ACTIVATION_CODES["relu"], ACTIVATION_CODES["sigmoid"]
_CROSS_ENTROPY = LOSS_CODES["cross_entropy"]

# exp(x) = 2^k · e^r, k = round(x/ln2), r = x − k·ln2 (fdlibm's two-part ln2: k·_LN2_HI is exact)
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 6755399441055744.0           # 1.5·2^52: x + _SHIFTER rounds x to an integer in the low bits
_TANH_CLAMP = 20.0                      # 1 − 2/(e^40 + 1) rounds to 1: tanh(±20) = ±1 in float64
_CHUNK = 64                             # replicas per pass: 16 AVX2 vectors, and θ, gradient in cache


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bit pattern of a float64 as an int64 (a bitcast)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return sig, codegen


@intrinsic
def _from_bits(typingctx, n):
    """The float64 whose IEEE-754 bit pattern is the int64 ``n`` (a bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return sig, codegen


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _exp_small(x):
    """e^x for |x| ≤ 700 (no overflow handling), branch-free so that loops over it vectorise."""
    kf = x * _INV_LN2 + _SHIFTER
    k = kf - _SHIFTER                                      # round(x/ln2), exactly
    r = (x - k * _LN2_HI) - k * _LN2_LO                    # |r| ≤ ln2/2
    # Taylor series of e^r to degree 13 (remainder ≤ (ln2/2)^14/14! < 5e-18), by Estrin's scheme:
    # pairs c_n + c_{n+1}·r combined with r², r⁴, r⁸, a short dependency chain
    r2 = r * r
    r4 = r2 * r2
    q01 = 1.0 + r
    q23 = 0.5 + r * (1.0 / 6.0)
    q45 = 1.0 / 24.0 + r * (1.0 / 120.0)
    q67 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    q89 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    q1011 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    q1213 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    lo = (q01 + q23 * r2) + (q45 + q67 * r2) * r4
    hi = (q89 + q1011 * r2) + q1213 * r4
    p = lo + hi * (r4 * r4)
    scale = _from_bits((_bits(kf) - _bits(_SHIFTER) + 1023) << 52)   # 2^k
    return p * scale


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _tanh(z):
    """tanh(z) = 1 − 2/(e^{2z} + 1) (absolute error ≤ 4e-16, like the numpy path's formula)."""
    zc = z if z < _TANH_CLAMP else _TANH_CLAMP             # selects, not min/max: they vectorise
    zc = zc if zc > -_TANH_CLAMP else -_TANH_CLAMP
    return 1.0 - 2.0 / (_exp_small(2.0 * zc) + 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _activate(code, z, s):
    """z ← σ(z) and s ← σ'(z), elementwise, for the activation ``code`` (z and s do not overlap)."""
    if code == _TANH:
        for j in range(z.shape[0]):
            t = _tanh(z[j])
            z[j] = t
            s[j] = 1.0 - t * t                              # tanh' = 1 − tanh²
    elif code == _SIGMOID:
        for j in range(z.shape[0]):
            t = 0.5 * (_tanh(0.5 * z[j]) + 1.0)             # sigmoid(z) = (tanh(z/2) + 1)/2
            z[j] = t
            s[j] = t * (1.0 - t)                            # sigmoid' = sigmoid·(1 − sigmoid)
    elif code == _RELU:
        for j in range(z.shape[0]):
            pos = z[j] > 0.0
            z[j] = z[j] if pos else 0.0
            s[j] = 1.0 if pos else 0.0
    else:                                                   # softplus
        for j in range(z.shape[0]):
            v = z[j]
            s[j] = 0.5 * (_tanh(0.5 * v) + 1.0)             # softplus' = sigmoid
            z[j] = max(v, 0.0) + np.log1p(np.exp(-abs(v)))  # log(1 + e^v), overflow-free


@njit(cache=True, nogil=True, error_model="numpy")
def _output_delta(loss_code, z, labels, idx_b, inv_b, K, R):
    """z (logits, (K, R)) ← ∂c/∂z / B: softmax(z) − onehot(y) (cross-entropy) or z − onehot(y) (mse)."""
    if loss_code == _CROSS_ENTROPY:
        top = z[:R].copy()
        for k in range(1, K):
            for r in range(R):
                v = z[k * R + r]
                top[r] = v if v > top[r] else top[r]
        total = np.zeros(R)
        for k in range(K):
            for r in range(R):
                v = z[k * R + r] - top[r]                      # ≤ 0; e^{−700} stands in for smaller ones
                e = _exp_small(v if v > -700.0 else -700.0)
                z[k * R + r] = e
                total[r] += e
        for k in range(K):
            for r in range(R):
                z[k * R + r] /= total[r]
    for r in range(R):                                      # − onehot(y); for mse z itself was the start
        z[labels[idx_b[r]] * R + r] -= 1.0
    for j in range(K * R):
        z[j] *= inv_b


@njit(cache=True, nogil=True, error_model="numpy")
def _forward(T, off, n_in, n_out, a, z, R):
    """z (n_out, R) = h·W + b of one layer for all replicas: T is θ (P, R) flat, a the input (n_in, R)."""
    # unsigned indices: numba then skips the negative-index wrap-around, and the replica loops vectorise
    Ru = uint64(R)
    bias = uint64((off + n_in * n_out) * R)
    for j in range(uint64(n_out * R)):
        z[j] = T[bias + j]
    for i in range(n_in):
        ai = uint64(i * R)
        for k in range(n_out):
            w, zk = uint64((off + i * n_out + k) * R), uint64(k * R)
            for r in range(Ru):
                z[zk + r] += T[w + r] * a[ai + r]


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_pass(T, XT, idx_b, sizes, offsets, starts, act_code, hs, ss, d):
    """One sample for every replica (replica r sees data row idx_b[r]): the logits (K, R) into d.

    hs[starts[l]:starts[l + 1]] receives layer l's input (n_l, R) (layer 0: the data row) and
    ss the matching σ'(z).
    """
    R = idx_b.shape[0]
    n_layers = sizes.shape[0] - 1
    for i in range(sizes[0]):
        for r in range(R):
            hs[i * R + r] = XT[i, idx_b[r]]
    for l in range(n_layers):
        a = hs[starts[l]:starts[l + 1]]
        if l == n_layers - 1:
            _forward(T, offsets[l], sizes[l], sizes[l + 1], a, d, R)
        else:
            z = hs[starts[l + 1]:starts[l + 2]]
            _forward(T, offsets[l], sizes[l], sizes[l + 1], a, z, R)
            _activate(act_code, z, ss[starts[l + 1]:starts[l + 2]])


@njit(cache=True, nogil=True, error_model="numpy")
def _weight_grad(G, off, n_in, n_out, a, d, a2, d2, pair, R):
    """G += ∂/∂(W, b) of one layer's cost for one sample (input a (n_in, R), δ = ∂c/∂z in d (n_out, R)),
    or for two (also a2, d2) when ``pair``: ∂/∂W[i, k] = a[i]·δ[k], ∂/∂b[k] = δ[k].

    With two samples, each element of G is loaded and stored once per two products.
    """
    Ru = uint64(R)
    bias = uint64((off + n_in * n_out) * R)
    for j in range(uint64(n_out * R)):
        G[bias + j] += (d[j] + d2[j]) if pair else d[j]
    for i in range(n_in):
        ai = uint64(i * R)
        for k in range(n_out):
            w, dk = uint64((off + i * n_out + k) * R), uint64(k * R)
            if pair:
                for r in range(Ru):
                    G[w + r] += a[ai + r] * d[dk + r] + a2[ai + r] * d2[dk + r]
            else:
                for r in range(Ru):
                    G[w + r] += a[ai + r] * d[dk + r]


@njit(cache=True, nogil=True, error_model="numpy")
def _delta_below(T, off, n_in, n_out, d, s, d_in, R):
    """d_in (n_in, R) = (W·δ) ⊙ s: the δ of the layer below, from this layer's δ in d (n_out, R)
    and s = σ'(z_in)."""
    Ru = uint64(R)
    for i in range(n_in):
        ai = uint64(i * R)
        for r in range(Ru):
            d_in[ai + r] = 0.0
        for k in range(n_out):
            w, dk = uint64((off + i * n_out + k) * R), uint64(k * R)
            for r in range(Ru):
                d_in[ai + r] += T[w + r] * d[dk + r]
        for r in range(Ru):
            d_in[ai + r] *= s[ai + r]


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_pass(T, sizes, offsets, starts, hs, ss, d, d_in, pair, G, R):
    """G += ∇ of the cost of one or two (``pair``) samples, given their forward passes (hs[j], ss[j])
    and their δ of the logits (d[j]); d_in: δ scratch of the same shape as d."""
    for l in range(sizes.shape[0] - 2, -1, -1):
        lo, hi = starts[l], starts[l + 1]
        _weight_grad(G, offsets[l], sizes[l], sizes[l + 1], hs[0][lo:hi], d[0], hs[1][lo:hi], d[1], pair, R)
        if l > 0:
            for j in range(2 if pair else 1):
                _delta_below(T, offsets[l], sizes[l], sizes[l + 1], d[j], ss[j][lo:hi], d_in[j], R)
            d, d_in = d_in, d


@njit(cache=True, nogil=True, error_model="numpy")
def _chunk_grad(thetas, r0, idx, XT, labels, sizes, offsets, act_code, loss_code, weight_decay, out, T, G, hs, ss,
                d, d_in):
    """out[r0:r0 + R] for the R = G.size // P replicas from r0 on, with T, G (P·R) and the sample scratch."""
    B = idx.shape[0]
    P = thetas.shape[1]
    R = G.shape[0] // P
    n_layers = sizes.shape[0] - 1
    starts = np.zeros(n_layers + 1, dtype=np.int64)        # layer l's input block in hs, ss
    for l in range(n_layers):
        starts[l + 1] = starts[l] + sizes[l] * R
    for p in range(P):
        for r in range(R):
            T[p * R + r] = thetas[r0 + r, p]
    for j in range(P * R):
        G[j] = weight_decay * T[j]
    for b in range(0, B, 2):
        pair = b + 1 < B
        for j in range(2 if pair else 1):
            idx_b = idx[b + j][r0:r0 + R]
            _forward_pass(T, XT, idx_b, sizes, offsets, starts, act_code, hs[j], ss[j], d[j])
            _output_delta(loss_code, d[j], labels, idx_b, 1.0 / B, sizes[n_layers], R)
        _backward_pass(T, sizes, offsets, starts, hs, ss, d, d_in, pair, G, R)
    for p in range(P):
        for r in range(R):
            out[r0 + r, p] = G[p * R + r]


@njit(cache=True, nogil=True, error_model="numpy")
def minibatch_grad_into(thetas, idx, XT, labels, sizes, offsets, act_code, loss_code, weight_decay, out):
    """out[r] = ∇ of replica r's minibatch loss (mean cost over rows idx[:, r] plus weight decay) at thetas[r].

    The replicas are the innermost (SIMD) axis: they go in chunks of ``_CHUNK`` (so that θ and
    gradient of a chunk stay in cache), θ of a chunk is transposed to (P, chunk), and every operation
    of the forward and backward pass is then an elementwise loop over replicas, two samples at a time.

    Parameters
    ----------
    thetas : float64 (R, P)
    idx : int64 (B, R), C-contiguous
        Column r holds replica r's minibatch rows of the data.
    XT : float64 (p, m), C-contiguous
        The features, transposed.
    labels : int64 (m,)
    sizes : int64 (L + 1,)
        Layer widths (p, h_1, ..., K).
    offsets : int64 (L,)
        Start of each layer's block (W then b) in θ.
    act_code, loss_code : int
        From ``ACTIVATION_CODES`` and ``LOSS_CODES``.
    weight_decay : float
    out : float64 (R, P)
    """
    R, P = thetas.shape
    chunk = max(1, min(R, _CHUNK))
    width = sizes[:-1].sum()
    hs = np.empty((2, width * chunk))                       # layer inputs of the two samples of a pair
    ss = np.empty((2, width * chunk))                       # their σ'(z) (layer 0's block unused)
    d = np.empty((2, sizes.max() * chunk))
    d_in = np.empty_like(d)
    T = np.empty(P * chunk)                                 # θ of the chunk, (P, chunk)
    G = np.empty(P * chunk)
    for r0 in range(0, R, chunk):
        n = min(chunk, R - r0)
        _chunk_grad(thetas, r0, idx, XT, labels, sizes, offsets, act_code, loss_code, weight_decay, out,
                    T[:P * n], G[:P * n], hs, ss, d, d_in)
