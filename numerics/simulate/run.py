"""``simulate_escape``: a run of many independent particles composed of dynamics, noise, criterion and basin parts."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from flatminima.errors import InputError
from flatminima.numerics import criteria as _criteria
from flatminima.numerics import noise as _noise
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.parts import Basin, Criterion, Dynamics, Execution, NoiseModel, escape_parts, positive_int
from flatminima.numerics.simulate.compiled import find_kernel, kernel_request
from flatminima.numerics.simulate.geometry import Geometry, basin_geometry, check_point, check_points, inflection_split
from flatminima.numerics.optimizers import step_rule
from flatminima.numerics.simulate.reference import run_chunk, step_inputs
from flatminima.numerics.simulate.result import EscapeResult, NoEscapeExpectedWarning

__all__ = ["simulate_escape", "simulate_options", "prepare_run", "PreparedRun", "STABILITY_LIMIT", "DISCRETIZATION_LIMIT"]

STABILITY_LIMIT = 2.0
"""η·λ_max(H_a) at or above which gradient descent is unstable at the minimum: refused.

See docs/theory.md §Discretisation and check C15.
"""

DISCRETIZATION_LIMIT = 0.2
"""η·λ_max(H_a) above which a result is flagged "discretization-dominated" (docs/theory.md §Discretisation, §C15)."""


def _expected_escapes(noise_model, criterion: str, geom: Geometry, ctx, *, eta, n_runs, max_steps,
                      radius, level, speed: float = 1.0) -> tuple[float, str] | None:
    """A crude upper estimate of the number of escapes: Arrhenius with the noise temperature along e.

    Not the theory (numerics may not import it): τ ≈ (2π/h)·exp(ΔL/D_e), with D_e = ½·eᵀΣe/η the
    larger of the temperatures along e at the minimum and at the saddle (the lower bound of the
    exponent in docs/theory.md §The path parameter s) and h the larger curvature, which makes τ, and hence
    the warning, conservative.
    For ``radius``: the cheapest of the directions ±v (Hessian eigenvectors at a) and towards the
    known saddles, with cost (L(a + r·u) − L(a))/D_u.
    ``speed`` = η_eff/η for an optimizer equal to SGD at the effective rate η_eff (heavy ball η/(1−β)): its
    temperature and its time per step are both ``speed`` times SGD's.
    Returns (expected escapes, description) or None when no estimate applies (Lévy, minibatch).
    """
    if not noise_model.gaussian:
        return None
    a = geom.minimum

    def temp(x, v):
        cov = noise_model.covariance(x, ctx)
        return 0.5 * float(v @ cov @ v) / eta * speed

    rates, what = [], ""
    with np.errstate(all="ignore"):
        if criterion == "radius":
            if geom.h_a is None:
                return None
            w, V = np.linalg.eigh(geom.h_a)
            dirs = [s * v for v in V.T for s in (1.0, -1.0)]
            dirs += [(b - a) / np.linalg.norm(b - a) for b in geom.saddles]
            costs = []
            for u in dirs:
                x = a + radius * u
                D = max(temp(a, u), temp(x, u))
                rise = ctx.values(x[None, :])[0] - geom.loss_minimum
                costs.append(np.inf if D <= 0 or not np.isfinite(rise) else max(rise, 0.0) / D)
            E = float(np.min(costs))
            rates.append(max(w[-1], 1e-300) / (2 * np.pi) * np.exp(-E))
            what = f"exponent (L(a + r·u) − L(a))/D_u ≥ {E:.3g} over Hessian eigen-directions u"
        else:
            if geom.saddles.shape[0] == 0:
                return None
            for j, (b, e) in enumerate(zip(geom.saddles, geom.directions)):
                dL = geom.barriers[j] if level is None else min(level - geom.loss_minimum, geom.barriers[j])
                D = max(temp(a, e), temp(b, e))
                h_ae = float(e @ geom.h_a @ e) if geom.h_a is not None else geom.lambda_max
                h_be = abs(float(e @ geom.h_b[j] @ e)) if geom.h_b[j] is not None else h_ae
                if dL <= 0:              # no barrier: the particles drift out
                    return float(n_runs), "no barrier"
                E = np.inf if D <= 0 else dL / D
                rates.append(max(h_ae, h_be, 1e-300) / (2 * np.pi) * np.exp(-E))
                what = f"exponent ΔL/D_e ≥ {E:.3g}" if j == 0 else what
    rate = float(np.sum(rates))
    t_max = max_steps * eta * speed
    return float(n_runs * -np.expm1(-rate * t_max)), what



def _optimizer_guard(rule, noise_model, geom, ctx, landscape, batch_size, replacement) -> tuple[float, bool, list]:
    """Stability at the minimum of an optimizer's iteration: refuse the unstable, flag the discretisation-dominated.

    On a quadratic the iteration is stable iff η·λ_max(P^½ H_a P^½) < A (A = ``rule.stability_limit()``, P the
    preconditioner: Adam's 1/(√diag C_a + ε) with C_a the gradient-noise covariance at the minimum, 1 otherwise;
    docs/theory.md §Optimizer exponents). Returns (η·λ_max (of P·H_a for Adam), flagged, notes); the flag is
    raised when the optimizer's temperature inflation (1 − ηPλ/A)⁻¹ is SGD's beyond its limit, i.e. when
    2ηPλ_max/A > DISCRETIZATION_LIMIT (docs/theory.md §Discretisation).
    """
    eta, lam, A = rule.eta, geom.lambda_max, rule.stability_limit(geom.minimum.shape[0])
    notes, what = [], "λ_max(H_a)"
    if rule.kind == "adam":
        cov = noise_model.covariance(geom.minimum, ctx)
        if cov is None and noise_model.name == "minibatch":
            from flatminima.numerics.samples import gradient_noise_covariance
            C = gradient_noise_covariance(landscape, geom.minimum, batch_size, replacement=replacement)
        else:
            C = None if cov is None else np.asarray(cov, float) / eta ** 2
        diag = None if C is None else np.diag(C)
        if diag is None or not np.all(diag > 0):
            notes.append("adam: the gradient noise at the minimum is " + ("unknown (not Gaussian)" if C is None else
                         "zero along some coordinate") + ", so it does not set the preconditioner; Adam's steps "
                         "there are about η per coordinate (sign-like): the stability check is skipped")
            return eta * lam, bool(2.0 * eta * lam / A > DISCRETIZATION_LIMIT), notes
        P = 1.0 / (np.sqrt(diag) + rule.hyper["epsilon"])
        if geom.h_a is not None:
            r = np.sqrt(P)
            lam = float(np.linalg.eigvalsh(r[:, None] * geom.h_a * r[None, :])[-1])
        else:
            lam = float(np.max(P)) * lam
        what = "λ_max(P·H_a), P = 1/(√diag C_a + ε)"
    if eta * lam >= A:
        raise InputError(f"eta = {eta:g} is unstable at the minimum for the {rule.kind} optimizer: eta·{what} = "
                         f"{eta * lam:.4g} >= {A:.4g}; eta must be < {A / lam:.4g}")
    eff = 2.0 * eta * lam / A
    flagged = bool(eff > DISCRETIZATION_LIMIT)
    if flagged:
        notes.append(f"discretization-dominated: 2η·{what}/A = {eff:.3g} > {DISCRETIZATION_LIMIT} with A = {A:.4g} the "
                     f"{rule.kind} stability limit (docs/theory.md §Discretisation, §Optimizer exponents)")
    return eta * lam, flagged, notes


# ====================================================================== entry point
@dataclass
class PreparedRun:
    """A run ready to step: the checked setting, the basin geometry, the noise sampler and the exit test."""

    landscape: object
    d: int
    eta: float
    n_runs: int
    max_steps: int
    seed: int
    starts: np.ndarray
    ctx: object
    geom: Geometry
    noise_model: object
    crit: object
    bridge_on: bool
    level: float | None
    basin_values: bool
    notes: list
    flagged: bool
    eta_lam: float
    declared: tuple
    noise: str
    criterion: str
    temperature: float | None
    batch_size: int | None
    loss_unit: float
    radius: float | None
    plane_offset: float
    backend: str
    chunk_size: int | None
    buffer_steps: int
    rule: object = None             # numerics.optimizers.StepRule of a stateful optimizer; None for SGD
    dynamics: Dynamics | None = None


def prepare_run(landscape, start, *, dynamics: Dynamics, noise: NoiseModel, criterion: Criterion, n_runs: int,
                max_steps: int, seed: int, basin: Basin | None = None,
                execution: Execution | None = None) -> "PreparedRun":
    """The parts of a run checked against the landscape and made runnable: basin geometry, noise sampler, exit test.

    Shared by :func:`simulate_escape` (brute force) and :func:`numerics.simulate.ams.ams_escape` (splitting);
    the arguments are those of :func:`simulate_escape`.
    """
    for name, part, cls in (("dynamics", dynamics, Dynamics), ("noise", noise, NoiseModel),
                            ("criterion", criterion, Criterion), ("basin", basin, (Basin, type(None))),
                            ("execution", execution, (Execution, type(None)))):
        if not isinstance(part, cls):
            raise InputError(f"{name} must be a numerics.parts object (see numerics.parts.escape_parts); "
                             f"got {type(part).__name__}")
    basin = basin or Basin()
    execution = execution or Execution()
    d = landscape.dim
    eta = dynamics.eta
    n_runs = positive_int("n_runs", n_runs)
    max_steps = positive_int("max_steps", max_steps)
    seed = positive_int("seed", seed, 0)
    temperature, batch_size, loss_unit = noise.temperature, noise.batch_size, noise.loss_unit
    radius, fraction = criterion.radius, criterion.fraction
    check_every, capture_radius = criterion.check_every, criterion.capture_radius
    plane_offset, backend, chunk_size = criterion.plane_offset, execution.backend, execution.chunk_size
    if noise.kind == "minibatch":
        if landscape.minibatch_loss is None or not landscape.n_samples:
            raise InputError(f"minibatch noise needs a finite-sum landscape (finite-sum or mlp); {landscape.name} is not")
        if not noise.replacement and batch_size > landscape.n_samples:
            raise InputError(f"batch_size must be <= n_samples = {landscape.n_samples} without replacement; got {batch_size}")
    delta, alpha, replacement, split = noise.delta, noise.alpha, noise.replacement, noise.split
    bridge, buffer_steps = criterion.bridge, execution.buffer_steps
    minimum, saddle = basin.array("minimum"), basin.array("saddles")
    escape_direction, minima = basin.array("escape_directions"), basin.array("minima")
    declared = (dynamics, noise, criterion)        # each part declares its compiled counterpart
    noise, criterion = noise.kind, criterion.kind           # from here on, the kinds
    starts = np.asarray(start, float)
    if starts.shape == (d,):
        starts = np.broadcast_to(starts, (n_runs, d))
    if starts.shape != (n_runs, d) or not np.all(np.isfinite(starts)):
        raise InputError(f"start must be a finite array of shape ({d},) or (n_runs, {d}) = ({n_runs}, {d}); "
                         f"got shape {np.shape(start)}")

    # ------------------------------------------------------------ geometry and guard
    ctx = step_inputs(landscape, eta)
    need_saddle = criterion == "dividing_surface" or noise == "hessian_two_region" or (
        criterion == "loss_level")
    need_dense = noise in ("hessian_fixed", "hessian_two_region")
    geom = basin_geometry(landscape, starts, ctx, minimum=minimum, saddle=saddle, escape_direction=escape_direction,
                          need_saddle=need_saddle, want_saddle=criterion == "basin", need_dense=need_dense)
    eta_lam = eta * geom.lambda_max
    rule = step_rule(dynamics) if dynamics.stateful else None
    if rule is None and eta_lam >= STABILITY_LIMIT:
        raise InputError(f"eta = {eta:g} is unstable at the minimum: eta·λ_max(H_a) = {eta_lam:.4g} >= 2; "
                         f"eta must be < 2/λ_max = {STABILITY_LIMIT / geom.lambda_max:.4g} "
                         f"(<= {DISCRETIZATION_LIMIT / geom.lambda_max:.4g} to avoid discretization-dominated results)")
    notes = []
    flagged = bool(eta_lam > DISCRETIZATION_LIMIT)
    if flagged and rule is None:
        notes.append(f"discretization-dominated: eta·λ_max(H_a) = {eta_lam:.3g} > {DISCRETIZATION_LIMIT} "
                     "(docs/theory.md §Discretisation, §C15)")

    # ------------------------------------------------------------ noise model
    split_point = direction = h_b = None
    if noise == "hessian_two_region":
        b, e, h_b = geom.saddles[0], geom.directions[0], geom.h_b[0]
        direction = e
        split_point = (check_point("split", split, d) if split is not None
                       else inflection_split(landscape, geom.minimum, b, e))
    try:
        noise_model = _noise.build_noise(noise, dim=d, eta=eta, temperature=temperature, batch_size=batch_size,
                                         loss_unit=loss_unit, h_a=geom.h_a, h_b=h_b, split=split_point,
                                         direction=direction, delta=delta, alpha=alpha,
                                         n_samples=landscape.n_samples, replacement=bool(replacement))
    except ValueError as exc:
        raise InputError(f"{noise} noise: {exc}") from None
    if rule is not None:
        eta_lam, flagged, note = _optimizer_guard(rule, noise_model, geom, ctx, landscape, batch_size,
                                                  bool(replacement))
        notes += note

    # ------------------------------------------------------------ criterion
    bridge_on = bool(bridge) and noise_model.gaussian and criterion in ("dividing_surface", "radius")
    if bridge_on and rule is not None:
        bridge_on = False      # the bridge corrects a diffusive step; an optimizer's θ-path is not one
        notes.append(f"Brownian-bridge correction off: it applies to SGD's diffusive steps, not to {rule.kind}")
    level = None
    basin_values = False
    if criterion == "dividing_surface":
        crit = _criteria.DividingSurface(geom.saddles + plane_offset * geom.directions, geom.directions,
                                         bridge=bridge_on)
    elif criterion == "radius":
        crit = _criteria.Radius(geom.minimum, radius, bridge=bridge_on)
    elif criterion == "loss_level":
        frac = 1.0 if fraction is None else fraction
        level = geom.loss_minimum + frac * float(geom.barriers[0])
        crit = _criteria.LossLevel(level, frac)
    else:
        known = [geom.minimum]
        if minima is not None:
            cand = list(check_points("minima", minima, d))
        else:                      # the landscape's hints, polished (finite sums move them)
            from flatminima.numerics.critical import CriticalPointError, find_minimum
            cand = []
            for m in landscape.minima:
                try:
                    cand.append(find_minimum(landscape, m))
                except (CriticalPointError, LandscapeError):
                    pass
        scale = max(1.0, float(np.linalg.norm(geom.minimum)))
        for m in cand:
            if all(np.linalg.norm(m - k) > 1e-6 * scale for k in known):
                known.append(np.asarray(m, float))
        known = np.array(known)
        if capture_radius is None:
            others = [p for p in list(known) + list(geom.saddles)]
            dists = [np.linalg.norm(p - q) for i, p in enumerate(known) for j, q in enumerate(others)
                     if not (j < len(known) and j == i)]
            dists = [x for x in dists if x > 0]
            if not dists:
                raise InputError("basin needs capture_radius when only one critical point is known "
                                 "(pass minima, saddle or capture_radius)")
            capture_radius = 0.25 * min(dists)
        planes = (_criteria.DividingSurface(geom.saddles, geom.directions, bridge=False)
                  if geom.saddles.shape[0] else None)
        pre_level = None
        if fraction is not None and geom.barriers.size:
            pre_level = geom.loss_minimum + fraction * float(np.min(geom.barriers))
            basin_values = True
        if check_every is None:
            check_every = max(1, int(round(0.5 / eta)))
        lam = geom.lambda_max if geom.lambda_max > 0 else 1.0
        loss_scale = (float(np.min(np.abs(geom.barriers))) if geom.barriers.size
                      else max(abs(geom.loss_minimum), 1e-8))
        crit = _criteria.BasinExit(known, capture_radius, planes, pre_level, check_every,
                               quench_step=1.0 / lam, loss_scale=loss_scale)
        if planes is None and pre_level is None:
            notes.append("basin: no saddle known, so every particle is quenched at every check (slow)")

    return PreparedRun(landscape=landscape, d=d, eta=eta, n_runs=n_runs, max_steps=max_steps, seed=seed,
                       starts=starts, ctx=ctx, geom=geom, noise_model=noise_model, crit=crit, bridge_on=bridge_on,
                       level=level, basin_values=basin_values, notes=notes, flagged=flagged, eta_lam=float(eta_lam),
                       declared=declared, noise=noise, criterion=criterion, temperature=temperature,
                       batch_size=batch_size, loss_unit=loss_unit, radius=radius, plane_offset=plane_offset,
                       backend=backend, chunk_size=chunk_size, buffer_steps=buffer_steps, rule=rule,
                       dynamics=dynamics)


def simulate_escape(landscape, start, *, dynamics: Dynamics, noise: NoiseModel, criterion: Criterion, n_runs: int,
                    max_steps: int, seed: int, basin: Basin | None = None,
                    execution: Execution | None = None) -> EscapeResult:
    """Run ``n_runs`` independent particles from ``start`` until each exits, diverges or hits ``max_steps``.

    The update is θ ← θ − η∇L(θ) + ζ with ζ from the noise model (``minibatch``: θ ← θ − η∇L_B(θ)),
    the Euler–Maruyama step of dθ = −∇L dt + √(2D) dW with dt = η (docs/theory.md §The SDE).
    The parts are validated when they are made (:mod:`numerics.parts`; :func:`numerics.parts.escape_parts`
    builds them from the flat option names of the CLI and the configs); here only what depends on the
    landscape is checked.

    Parameters
    ----------
    landscape : Landscape
        Built-in, user (autograd) or finite-sum; sharpness is read from ``landscape.params``.
    start : array_like, shape (d,) or (n_runs, d)
        Start point(s).
    dynamics : Dynamics
        The step rule and η. η·λ_max(H_a) ≥ 2 is refused, > 0.2 flagged (docs/theory.md §Discretisation, §C15).
    noise : NoiseModel
        The noise ζ and its parameters (:mod:`numerics.noise` samples it).
    criterion : Criterion
        When a particle has escaped (:mod:`numerics.criteria` tests it).
    n_runs, max_steps : int ≥ 1
    seed : int ≥ 0
        Entropy of the per-particle streams (:mod:`numerics.streams`).
    basin : Basin, optional
        θ_a, saddles, escape directions and known minima; what is missing is found: θ_a is the known
        minimum nearest the start (polished), else the start; the saddles are the landscape's hints
        that border a's basin (refined, checked by quenching both sides); e is the negative-curvature
        eigenvector of H_b pointing away from a; the minima of ``basin`` are the landscape's.
    execution : Execution, optional
        Backend (``auto``: the compiled kernel when it covers the run), chunk size and buffer length.

    Returns
    -------
    EscapeResult

    Raises
    ------
    InputError
        One line naming the parameter and its allowed range.

    Warns
    -----
    NoEscapeExpectedWarning
        When a crude Arrhenius estimate predicts fewer than one escape in the whole run (C21).

    Notes
    -----
    Divergence: a particle whose state or gradient becomes non-finite is diverged, never escaped;
    so is one whose exit step (for ``basin``: first plane crossing) came from a state where a plain
    gradient step raises the loss (the iteration is locally unstable there, η·curvature > 2).
    The ``hessian_two_region`` split defaults to the inflection point along a→b (docs/theory.md §The
    path parameter s).
    """
    prep = prepare_run(landscape, start, dynamics=dynamics, noise=noise, criterion=criterion, n_runs=n_runs,
                       max_steps=max_steps, seed=seed, basin=basin, execution=execution)
    (d, eta, n_runs, max_steps, seed, starts, ctx, geom, noise_model, crit, bridge_on, level, basin_values, notes,
     flagged, eta_lam, declared, noise, criterion, temperature, batch_size, loss_unit, radius, plane_offset, backend,
     chunk_size, buffer_steps) = (
        prep.d, prep.eta, prep.n_runs, prep.max_steps, prep.seed, prep.starts, prep.ctx, prep.geom, prep.noise_model,
        prep.crit, prep.bridge_on, prep.level, prep.basin_values, prep.notes, prep.flagged, prep.eta_lam,
        prep.declared, prep.noise, prep.criterion, prep.temperature, prep.batch_size, prep.loss_unit, prep.radius,
        prep.plane_offset, prep.backend, prep.chunk_size, prep.buffer_steps)

    # ------------------------------------------------------------ feasibility warning (C21)
    est = _expected_escapes(noise_model, criterion, geom, ctx, eta=eta, n_runs=n_runs, max_steps=max_steps,
                            radius=radius, level=level,
                            speed=1.0 if prep.rule is None else prep.rule.effective_rate() / eta)
    if est is not None and est[0] < 1.0:
        knob = {"white": "temperature", "levy": "temperature", "minibatch": "eta, or lower batch_size",
                "loss_hessian": "eta, or lower batch_size"}.get(noise, "loss_unit, or lower batch_size")
        msg = (f"about {est[0]:.3g} escapes expected in {n_runs} runs of {max_steps} steps (crude Arrhenius "
               f"estimate, {est[1]}); raise max_steps or {knob}, or use a criterion inside the basin")
        notes.append(msg)
        warnings.warn(msg, NoEscapeExpectedWarning, stacklevel=2)

    # ------------------------------------------------------------ run
    used = "numpy"
    kernel = find_kernel(*declared) if backend in ("auto", "numba") else None
    request = (kernel_request(declared[1].compiled, landscape, noise_model, crit, starts=starts, eta=eta, seed=seed,
                              max_steps=max_steps, n_runs=n_runs, bridge=bridge_on, rule=prep.rule)
               if kernel is not None else None)
    if backend == "numba" and request is None:
        numpy_only = [f"{part.kind} {name}" for name, part in zip(("dynamics", "noise", "criterion"), declared)
                      if not part.compiled]
        why = (f"no compiled kernel for {', '.join(numpy_only)}" if numpy_only else
               "numba is not installed" if kernel is None else
               "it covers built-in landscapes with white/hessian_fixed/hessian_two_region noise, one start "
               "point, and dividing planes or the radius criterion without bridge; hessian_psd noise on "
               "Styblinski–Tang or the double well with bridge=False")
        raise InputError(f"backend='numba' cannot run this simulation: {why}; use backend='numpy' or 'auto'")
    if request is not None:
        res = kernel(landscape, starts[0], **request)
        steps = np.asarray(res[0], np.int64)
        escaped = np.asarray(res[1], bool)
        diverged = np.asarray(res[2], bool)
        exit_index = np.where(escaped, 0, -1).astype(np.int64)
        if crit.name == "dividing_surface" and np.atleast_2d(crit.points).shape[0] > 1:
            side = np.einsum("nmd,md->nm", np.asarray(res[3], float)[:, None, :] - np.atleast_2d(crit.points)[None],
                             np.atleast_2d(crit.normals))
            exit_index = np.where(escaped, np.argmax(side, axis=1), -1).astype(np.int64)
        first = np.full(n_runs, -1, np.int64)
        final = np.asarray(res[3], float)
        used = "numba"
    else:
        if chunk_size is None:
            per = d * d if noise in ("hessian_psd", "loss_hessian") else d
            chunk_size = int(min(n_runs, max(64, 4_000_000 // per)))
        parts = []
        for lo in range(0, n_runs, chunk_size):
            ids = np.arange(lo, min(n_runs, lo + chunk_size))
            with np.errstate(all="ignore"):          # diverging particles overflow; they are flagged, not warned
                parts.append(run_chunk(ids, starts[ids], noise_model=noise_model, crit=crit, ctx=ctx, seed=seed,
                                       max_steps=max_steps, eta=eta, bridge_on=bridge_on, buffer_steps=buffer_steps,
                                       level=level, basin_values=basin_values, rule=prep.rule))
        steps, escaped, diverged, exit_index, first, final = (np.concatenate(x) for x in zip(*parts))

    # ------------------------------------------------------------ result
    barrier, h_ae, h_be = geom.first_path()
    crit_params = crit.params()
    if criterion == "dividing_surface":
        crit_params["plane_offset"] = plane_offset
    return EscapeResult(
        landscape=landscape.name, dim=d, noise=noise, criterion=criterion, eta=eta, temperature=temperature,
        batch_size=batch_size, loss_unit=loss_unit, sharpness=float(landscape.params.get("sharpness", 1.0)),
        n_runs=n_runs, max_steps=max_steps, seed=seed, backend=used, noise_params=noise_model.params(),
        criterion_params=crit_params, minimum=geom.minimum, saddles=geom.saddles,
        escape_directions=geom.directions, barrier=barrier, h_ae=h_ae, h_be=h_be, eta_lambda_max=float(eta_lam),
        discretization_dominated=flagged,
        minima=crit.minima if criterion == "basin" else np.empty((0, d)),
        steps=steps, escaped=escaped, diverged=diverged, exit_index=exit_index, first_crossing=first,
        final_theta=final, notes=tuple(notes),
        optimizer={"kind": dynamics.kind, **dynamics.hyperparameters()},
    )


def simulate_options(landscape, start, *, n_runs: int, max_steps: int, seed: int, **options) -> EscapeResult:
    """:func:`simulate_escape` with its parts built from the flat option names of configs and scripts.

    ``simulate_options(land, [-1.0], noise="white", temperature=0.1, criterion="radius", radius=1.0, eta=0.01,
    n_runs=100, max_steps=10_000, seed=0)``; the options are those of :func:`numerics.parts.escape_parts`.
    """
    return simulate_escape(landscape, start, **escape_parts(**options), n_runs=n_runs, max_steps=max_steps, seed=seed)
