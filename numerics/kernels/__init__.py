"""Compiled (numba) fast paths: random streams, built-in losses and gradients, escape simulation, MLP gradients.

Every escape path follows the random-stream contract of :mod:`numerics.streams` bit for bit, and
gives the exit steps and outcomes of the simulator's numpy path, the one reference
(:func:`numerics.simulate.reference.fixed_noise_reference` runs a kernel's arguments through it).

Modules
-------
rng          numpy-identical PCG64 streams (SeedSequence seeding, ziggurat normals, uniforms) in compiled code
landscapes   compiled L and ∇L of the built-ins that declare ``Landscape.kernel``; registers them with
             :func:`numerics.landscape.register_compiled` when imported
noise        the noise factor S of fixed-noise dynamics (white, ``hessian_fixed``)
loops        the scalar escape loops and the per-step helpers of every loop (criteria, bridge test, outcomes);
             ``escape_nd_opt``, the scalar loop of the stateful optimizers (any landscape, criterion and d;
             the only loop of PNM and Adai)
lanes        four particles side by side in 4-wide vectors (LLVM IR): the loops of the common cases;
             ``escape_lanes_opt``, the four-lane loop of momentum and Adam on Styblinski–Tang
threads      runs of a loop on several threads over one shared particle queue
driver       :func:`fixed_noise_escape`: argument checks, the choice of loop, the result :class:`KernelEscape`
psd          escape under ``hessian_psd`` noise on built-ins with a diagonal Hessian
mlp          the replicated minibatch gradient of an MLP loss (``numerics.mlp``)

Names without a leading underscore are a module's interface to the others in this package; the
public API is ``__all__`` below.

Optimizers
----------
``fixed_noise_escape(..., optimizer=..., optimizer_params=...)`` runs the step rules of :data:`OPTIMIZERS`:
``sgd`` (the default), heavy-ball or Nesterov ``momentum``, ``adam``, ``pnm`` and ``adai``, with the update of
:class:`numerics.optimizers.StepRule` applied per coordinate in its operation order (no fused multiply-add; the
constants the reference computes in Python, such as PNM's β₁² and √((1+β₀)²+β₀²), passed in as the same doubles),
per-particle state reset at each particle's start, and the overshoot rule at the rule's equivalent
gradient-descent rate. PNM and Adai always run in the scalar loop ``loops.escape_nd_opt`` (d = 1 included).
Measured speed against SGD: ``benchmarks/OPTIMIZERS.md``.

How to add a built-in to the compiled path
------------------------------------------
1. ``numerics/builtins.py``: the factory declares ``kernel=(name, params, 1.0)``, with
   L(θ) = base(θ; params) (``sharpened`` scales the sharpness, the third entry), and calls
   ``_load_kernels()``. Constants shared by the autograd and the compiled loss go in
   ``numerics/constants.py``.
2. ``numerics/kernels/landscapes.py``: ``name`` in ``KERNELS`` with the next id (and its id constant
   beside ``ST, DW, TW, MB``), its parameter count in ``_KERNEL_NPARAMS``, its dimension in
   ``_KERNEL_DIMS`` (absent: any d), its branch in ``loss_row`` and ``grad_row`` (kp = [√k, *params]).
   Every name in ``KERNELS`` is registered with ``numerics.landscape``: ``Landscape.values`` and
   ``Landscape.grads`` then run compiled, and ``fixed_noise_escape`` takes it (``loops.escape_nd``).
3. A 1-D built-in also needs its branch in ``loss1`` and ``grad1`` (``numerics/kernels/landscapes.py``)
   and in ``_lanes1_step_intrinsic`` (``numerics/kernels/lanes.py``): the driver sends every 1-D run
   to ``escape_1d`` or ``escape_lanes1``, which know Styblinski–Tang and the double well only.
4. ``numerics/kernels/psd.py``, for a Hessian diagonal at every θ: ``name`` in ``DIAGONAL_KERNELS``,
   its (∂L, ∂²L) branch in ``_hess_diag_batch`` and ``_psd_block``.
5. ``tests/numerics/test_kernels.py``: the landscape in ``LANDSCAPES`` (against autograd) and in
   ``CASES`` (exit steps against ``numerics.simulate.reference.fixed_noise_reference``).
"""
from flatminima.numerics.kernels.driver import KernelEscape, fixed_noise_escape
from flatminima.numerics.kernels.landscapes import KERNELS, has_kernel, kernel_grads, kernel_values
from flatminima.numerics.kernels.loops import CRITERIA, OPTIMIZERS
from flatminima.numerics.kernels.noise import hessian_fixed_noise_matrix, white_noise_matrix
from flatminima.numerics.kernels.psd import (DIAGONAL_KERNELS, has_diagonal_hessian, kernel_hessian_diagonals,
                                             psd_noise_escape)
from flatminima.numerics.kernels.rng import stream_random, stream_standard_normal
from flatminima.numerics.kernels.threads import run_in_chunks

__all__ = [
    "KERNELS", "CRITERIA", "OPTIMIZERS", "has_kernel", "kernel_values", "kernel_grads",
    "stream_standard_normal", "stream_random",
    "white_noise_matrix", "hessian_fixed_noise_matrix",
    "KernelEscape", "fixed_noise_escape", "run_in_chunks",
    "DIAGONAL_KERNELS", "has_diagonal_hessian", "kernel_hessian_diagonals", "psd_noise_escape",
]
