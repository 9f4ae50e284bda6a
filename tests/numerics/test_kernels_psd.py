"""The compiled hessian_psd escape kernel (numerics.kernels.psd) against autograd, the numpy path and quadrature."""
from __future__ import annotations

import numpy as np
import pytest

from flatminima.numerics.kernels import has_diagonal_hessian, kernel_hessian_diagonals, psd_noise_escape
from flatminima.numerics.landscape import sharpened
from flatminima.numerics.names import build_landscape
from flatminima.numerics.reference import mfpt_1d
from flatminima.numerics.simulate import simulate_options as simulate

# ST global minimum and next minimum per coordinate (docs/theory.md §Styblinski-Tang)
LO, NEXT = -2.903534, 2.746803


def _landscape(spec, k=1.0):
    land = build_landscape(spec)
    return land if k == 1.0 else sharpened(land, k)


@pytest.mark.parametrize("spec,k", [("styblinski-tang:dim=1", 1.0), ("styblinski-tang:dim=1", 2.5),
                                    ("styblinski-tang:dim=3", 1.0), ("styblinski-tang:dim=3", 2.5),
                                    ("double-well", 1.0), ("double-well", 2.5),
                                    ("double-well:barrier_left=2,h_left=3", 1.0)])
def test_hessian_diagonal_matches_autograd(spec, k):
    land = _landscape(spec, k)
    assert has_diagonal_hessian(land)
    th = np.random.default_rng(7).uniform(-3.5, 3.5, (200, land.dim)) / np.sqrt(k)
    H = land.hessians(th)
    diag = np.einsum("njj->nj", H)
    mine = kernel_hessian_diagonals(land, th)
    assert np.all(H[:, ~np.eye(land.dim, dtype=bool)] == 0.0)
    if spec.startswith("styblinski"):     # same floating-point order as autograd's (the numpy path's H)
        assert np.array_equal(mine, diag)
    else:                                 # 1/w multiplications here, x/w divisions in the autograd loss
        np.testing.assert_allclose(mine, diag, rtol=1e-12, atol=1e-12 * np.max(np.abs(diag)))


def test_no_diagonal_kernel_for_coupled_landscapes():
    assert not has_diagonal_hessian(build_landscape("muller-brown"))


def _st_run(dim, backend, n_runs, **kw):
    land = build_landscape(f"styblinski-tang:dim={dim}")
    return simulate(land, [LO] * dim, noise="hessian_psd", criterion="dividing_surface", eta=0.002,
                           batch_size=4, loss_unit=3000.0, delta=10.0, n_runs=n_runs, max_steps=3000, seed=11,
                           bridge=False, backend=backend, **kw)


@pytest.mark.parametrize("dim", [1, 2])
def test_compiled_path_gives_the_numpy_paths_exit_steps(dim):
    fast, ref = _st_run(dim, "auto", 150), _st_run(dim, "numpy", 150)
    assert fast.backend == "numba" and ref.backend == "numpy"
    assert fast.n_escaped >= 100 and np.median(fast.steps) > 100
    assert np.array_equal(fast.steps, ref.steps)
    assert np.array_equal(fast.escaped, ref.escaped) and np.array_equal(fast.diverged, ref.diverged)
    assert np.array_equal(fast.exit_index, ref.exit_index)


def test_bridge_is_refused_and_not_routed():
    land = build_landscape("styblinski-tang:dim=1")
    with pytest.raises(ValueError, match="bridge"):
        psd_noise_escape(land, [LO], eta=0.002, batch_size=4, delta=1.0, n_runs=2, max_steps=10, seed=0,
                         criterion="dividing_surface", point=[NEXT], normal=[1.0], bridge=True)
    with pytest.raises(ValueError, match="backend='numba' cannot run"):
        simulate(land, [LO], noise="hessian_psd", criterion="dividing_surface", eta=0.002, batch_size=4,
                        loss_unit=3000.0, delta=10.0, n_runs=2, max_steps=1000, seed=0, bridge=True, backend="numba")


@pytest.mark.parametrize("criterion", ["dividing_surface", "radius"])
def test_independent_of_chunking_offset_and_workers(criterion):
    land = build_landscape("styblinski-tang:dim=2")
    kw = dict(eta=0.002, batch_size=4, loss_unit=3000.0, delta=10.0, max_steps=2000, seed=3, criterion=criterion,
              return_theta=True)
    kw.update(dict(point=[[NEXT, LO], [LO, NEXT]], normal=[[1.0, 0.0], [0.0, 1.0]]) if criterion == "dividing_surface"
              else dict(radius=2.0))
    whole = psd_noise_escape(land, [LO, LO], n_runs=9000, workers=2, **kw)       # three chunks on two threads
    assert whole.escaped.sum() > 1000
    parts = [psd_noise_escape(land, [LO, LO], n_runs=n, particle_offset=o, **kw) for o, n in ((0, 5000), (5000, 4000))]
    for field in ("steps", "escaped", "diverged", "theta"):
        assert np.array_equal(getattr(whole, field), np.concatenate([getattr(p, field) for p in parts]))


def test_divergence_is_never_an_escape():
    land = build_landscape("styblinski-tang:dim=1")      # η·H far above the stability limit 2: θ blows up
    res = psd_noise_escape(land, [LO], eta=0.5, batch_size=1, loss_unit=1.0, delta=0.0, n_runs=50, max_steps=100,
                           seed=1, criterion="radius", radius=1e300)
    assert res.diverged.all() and not res.escaped.any()


def test_mean_exit_time_matches_quadrature_mfpt():
    """⟨steps⟩·η against the Itô MFPT to the next minimum with D(θ) = ηλ(|L''(θ)| + δ)/(2B).

    See docs/theory.md §Ill-posed Hessian noise and §Exact references.

    ε = ηλ/(2B) = 0.75 is held fixed while η → 0 (λ grows), so the SDE is fixed. The O(η) discretisation
    bias of the mean is allowed as its estimate in docs/theory.md §Discretisation, expm1(ΔΦ·ηH_ae/2)·T with
    ΔΦ = ∫L'/D, which is 0.5% at η = 1e-4 (a third of a standard error); runs at η = 4e-4 agree with T too.
    """
    land = build_landscape("styblinski-tang:dim=1")
    eps, delta, B, eta = 0.75, 10.0, 4, 1e-4

    def D(x):
        return eps * (np.abs(6.0 * np.asarray(x) ** 2 - 16.0) + delta)
    ref = mfpt_1d(lambda x: 0.5 * (x ** 4 - 16.0 * x ** 2 + 5.0 * x), lambda x: 2.0 * x ** 3 - 16.0 * x + 2.5, D,
                  start=LO, absorbing=NEXT, convention="ito")
    res = psd_noise_escape(land, [LO], eta=eta, batch_size=B, loss_unit=2 * B * eps / eta, delta=delta,
                           n_runs=4000, max_steps=10 ** 7, seed=1, criterion="dividing_surface", point=[NEXT],
                           normal=[1.0], workers=2)
    assert res.escaped.all()
    t = res.steps * eta
    se = t.std(ddof=1) / np.sqrt(t.size)
    xs = np.linspace(LO, 0.156731, 20001)                # ΔΦ = ∫_a^b L'/D, a → saddle
    phi = np.trapezoid((2.0 * xs ** 3 - 16.0 * xs + 2.5) / D(xs), xs)
    bias = np.expm1(phi * eta * 34.583059 / 2.0) * ref.escape_time
    assert abs(t.mean() - ref.escape_time) <= 3.5 * se + bias
