"""The escape simulator: many independent particles leave a minimum under a noise model and an exit criterion.

``simulate_escape`` runs n_runs particles from a start point with the update θ ← θ − η∇L(θ) + ζ
(a run composes the parts of :mod:`numerics.parts`: dynamics, noise model, criterion, basin, execution;
noise samplers in :mod:`numerics.noise`, exit tests in :mod:`numerics.criteria`) until each exits,
diverges, or reaches ``max_steps`` (right-censored), and returns an :class:`EscapeResult`. Time is
counted in steps and in SDE time t = step·η (docs/theory.md §Time and rates).

Reproducibility (:mod:`numerics.streams`): particle i draws its noise from its own noise stream and
its Brownian-bridge uniforms from its own aux stream, so its trajectory depends only on
(seed, i), never on ``chunk_size``, the buffer length or the backend.

The numpy path (:mod:`.reference`) is the reference. Built-in landscapes with white or fixed-matrix
Gaussian noise may run on a compiled kernel (``numerics.kernels.fixed_noise_escape``), and ``hessian_psd``
noise on built-ins with a diagonal Hessian on ``numerics.kernels.psd_noise_escape``; both follow the same
stream contract; :mod:`.compiled` decides which path runs.

Modules: ``run`` (the entry point), ``geometry`` (the basin), ``reference`` (the numpy path),
``compiled`` (the kernel hook), ``result`` (:class:`EscapeResult`), ``ams`` (rates by adaptive multilevel
splitting, :func:`ams_escape`), ``exact`` (the exact rate of a 1-D run's chain, :func:`exact_chain_rate`).
"""
from flatminima.numerics.parts import (BACKENDS, Basin, Criterion, Dynamics, Execution, NoiseModel, escape_parts,
                                       run_config)
from flatminima.numerics.simulate.geometry import inflection_split
from flatminima.numerics.simulate.result import EscapeResult, NoEscapeExpectedWarning
from flatminima.numerics.simulate.run import DISCRETIZATION_LIMIT, STABILITY_LIMIT, simulate_escape, simulate_options
from flatminima.numerics.simulate.ams import AMSResult, AMSStallWarning, ams_escape
from flatminima.numerics.simulate.exact import ExactRate, exact_chain_rate

__all__ = ["simulate_escape", "simulate_options", "EscapeResult", "NoEscapeExpectedWarning", "STABILITY_LIMIT", "DISCRETIZATION_LIMIT",
           "BACKENDS", "inflection_split", "Dynamics", "NoiseModel", "Criterion", "Basin", "Execution",
           "escape_parts", "run_config", "ams_escape", "AMSResult", "AMSStallWarning", "exact_chain_rate",
           "ExactRate"]
