"""numerics.kernels: compiled streams, gradients and the fixed-noise escape kernel.

Expected values come from independent computations: numpy's own Generators (streams), autograd
(gradients and losses), and the plain-numpy reference simulator, which uses autograd gradients and
numpy Generators built by numerics.streams.
"""
import math
import os
import signal
import threading
import time

import numpy as np
import pytest
from numba import njit

from flatminima.numerics import kernels as K
from flatminima.numerics.kernels import loops, threads
from flatminima.numerics import streams
from flatminima.numerics.simulate.reference import fixed_noise_reference
from flatminima.numerics.builtins import double_well, muller_brown, styblinski_tang, two_well_2d
from flatminima.numerics.errors import LandscapeError
from flatminima.numerics.landscape import Landscape, sharpened

ZIG_R = 3.6541528853610088   # numpy's ziggurat base-strip edge: |x| beyond it comes from the tail branch


# ---------------------------------------------------------------------- streams
@pytest.mark.parametrize("seed,particle,stream", [(0, 0, 0), (12345, 7, 1), (2**40 + 3, 2**33 + 5, 0), (2**64 - 1, 1, 1)])
def test_compiled_normals_are_numpys_stream(seed, particle, stream):
    ours = K.stream_standard_normal(seed, particle, stream, 200_000)
    numpys = streams.particle_stream(seed, particle, stream).standard_normal(200_000)
    np.testing.assert_array_equal(ours, numpys)
    # the draws went through every branch of the ziggurat: the tail (idx 0) and wedge rejections
    assert np.any(np.abs(ours) > ZIG_R)


@pytest.mark.parametrize("seed,particle,stream", [(0, 0, 1), (99, 2**32, 1)])
def test_compiled_uniforms_are_numpys_stream(seed, particle, stream):
    np.testing.assert_array_equal(K.stream_random(seed, particle, stream, 10_000),
                                  streams.particle_stream(seed, particle, stream).random(10_000))


def test_streams_differ_between_particles_and_streams():
    a = K.stream_standard_normal(5, 0, 0, 8)
    assert not np.array_equal(a, K.stream_standard_normal(5, 1, 0, 8))
    assert not np.array_equal(a, K.stream_standard_normal(5, 0, 1, 8))
    assert not np.array_equal(a, K.stream_standard_normal(6, 0, 0, 8))


def test_seed_beyond_64_bits_is_refused():
    with pytest.raises(ValueError, match="seed"):
        K.stream_standard_normal(2**64, 0, 0, 3)


# ---------------------------------------------------------------------- gradients and losses
LANDSCAPES = {
    "st1": (styblinski_tang(1), 4.0),
    "st3-sharp": (sharpened(styblinski_tang(3), 4.0), 2.0),
    "st10": (styblinski_tang(10), 4.0),
    "dw": (double_well(), 2.0),
    "dw-asym-sharp": (sharpened(double_well(0.3, 0.5, 3.0, 2.0, 1.0), 2.5), 1.5),
    "tw": (two_well_2d(stiffness=3.0, curvature=0.7, tilt=-0.1), 2.0),
    "tw-sharp": (sharpened(two_well_2d(), 0.3), 3.0),
    "mb": (muller_brown(0.5), 1.2),
    "mb-sharp": (sharpened(muller_brown(), 1.7), 1.0),
}


@pytest.mark.parametrize("key", sorted(LANDSCAPES))
def test_compiled_gradient_and_loss_match_autograd(key):
    land, spread = LANDSCAPES[key]
    rng = np.random.default_rng(abs(hash(key)) % 2**32)
    X = rng.uniform(-spread, spread, (200, land.dim))
    if key.startswith("mb"):
        X += np.array([-0.3, 0.7])
    g, v = K.kernel_grads(land, X), K.kernel_values(land, X)
    np.testing.assert_allclose(g, land.grads(X), rtol=1e-12, atol=1e-12 * np.abs(land.grads(X)).max())
    np.testing.assert_allclose(v, land.values(X), rtol=1e-12, atol=1e-12 * np.abs(land.values(X)).max())
    # one θ of shape (d,)
    np.testing.assert_allclose(K.kernel_grads(land, X[0]), land.grad(X[0]), rtol=1e-12, atol=1e-12)
    assert K.kernel_values(land, X[0]) == pytest.approx(land.value(X[0]), rel=1e-12)


def test_sharpness_scales_the_gradient():
    base, k = double_well(), 3.0
    x = np.array([[-0.7], [0.4]])
    np.testing.assert_allclose(K.kernel_grads(sharpened(base, k), x), np.sqrt(k) * K.kernel_grads(base, np.sqrt(k) * x),
                               rtol=1e-14)


def test_user_landscape_has_no_kernel():
    import autograd.numpy as anp
    user = Landscape(name="quad", dim=2, loss=lambda t: anp.sum(t**2, axis=0))
    assert not K.has_kernel(user)
    assert K.has_kernel(styblinski_tang(2))
    with pytest.raises(LandscapeError, match="no compiled kernel"):
        K.kernel_grads(user, np.zeros(2))
    with pytest.raises(LandscapeError, match="shape"):
        K.kernel_grads(styblinski_tang(2), np.zeros(3))


# ---------------------------------------------------------------------- noise matrices
def test_noise_matrices():
    np.testing.assert_allclose(K.white_noise_matrix(3, 0.01, 2.0), np.sqrt(0.04) * np.eye(3))
    H = np.array([[3.0, 1.0], [1.0, 2.0]])
    S = K.hessian_fixed_noise_matrix(H, eta=0.1, batch_size=4, loss_unit=2.0)
    np.testing.assert_allclose(S @ S.T, 0.1**2 * 2.0 * H / 4, rtol=1e-14)
    assert S[0, 1] == 0.0
    with pytest.raises(ValueError, match="positive definite"):
        K.hessian_fixed_noise_matrix(np.diag([1.0, -1.0]), eta=0.1, batch_size=1)


# ---------------------------------------------------------------------- escape kernel against the reference
ST10 = styblinski_tang(10)
M10 = ST10.minima[0]
E0 = np.eye(10)[0]
_A10 = ST10.hessian(M10) + 3.0 * np.ones((10, 10))
CASES = {
    "dw-plane": (double_well(), [-1.0], dict(eta=0.05, temperature=0.12, criterion="dividing_surface",
                                             point=[0.0], normal=[1.0], max_steps=400)),
    "dw-plane-bridge": (double_well(), [-1.0], dict(eta=0.05, temperature=0.12, criterion="dividing_surface",
                                                    point=[0.0], normal=[1.0], max_steps=400, bridge=True)),
    "tw-plane-bridge": (two_well_2d(), [-1.0, 0.0], dict(eta=0.02, temperature=0.4, criterion="dividing_surface",
                                                          point=[-0.3, 0.0], normal=[1.0, 0.0], max_steps=400,
                                                          bridge=True)),
    "mb-radius": (muller_brown(0.05), [-0.558, 1.442], dict(eta=0.002, temperature=0.3, criterion="radius",
                                                             radius=0.3, max_steps=300)),
    "st10-radius": (ST10, M10, dict(eta=0.01, temperature=2.0, criterion="radius", radius=1.45, max_steps=300)),
    "st10-level-sharp": (sharpened(ST10, 2.0), M10 / np.sqrt(2), dict(eta=0.005, temperature=2.0,
                                                                       criterion="loss_level", level=30.0,
                                                                       max_steps=300)),
    "st10-hessian-plane-bridge": (ST10, M10, dict(eta=0.01, noise_matrix=K.hessian_fixed_noise_matrix(_A10, 0.01, 2, 30.0),
                                                  criterion="dividing_surface", point=M10 + 0.8 * E0, normal=E0,
                                                  max_steps=300, bridge=True)),
    "st10-full-matrix-radius": (ST10, M10, dict(eta=0.01, noise_matrix=0.07 * np.random.default_rng(0).standard_normal((10, 10)),
                                                criterion="radius", radius=1.6, max_steps=300)),
    # two-region noise (docs/theory.md §hessian_two_region): S before the split plane at the inflection point,
    # S2 after it
    "dw-two-region-bridge": (double_well(), [-1.0], dict(eta=0.05, noise_matrix=[[0.25]], noise_matrix_after=[[0.5]],
                                                         split_point=[-1 / np.sqrt(3)], split_normal=[1.0],
                                                         criterion="dividing_surface", point=[0.0], normal=[1.0],
                                                         max_steps=400, bridge=True)),
    # several planes: one per escape path of ST-2 out of its global minimum (both axes)
    "st2-two-planes-bridge": (styblinski_tang(2), styblinski_tang(2).minima[0],
                              dict(eta=0.01, temperature=2.0, criterion="dividing_surface",
                                   point=np.array(styblinski_tang(2).minima[0]) + 1.2 * np.eye(2), normal=np.eye(2),
                                   max_steps=300, bridge=True)),
    # the compiled hot loops are specialised by criterion and two-region flags: cover each copy
    "st3-two-region-plane-bridge": (styblinski_tang(3), styblinski_tang(3).minima[0],
                                    dict(eta=0.01, noise_matrix=0.2 * np.eye(3), noise_matrix_after=0.3 * np.eye(3),
                                         split_point=np.array(styblinski_tang(3).minima[0]) + [0.6, 0, 0],
                                         split_normal=[1.0, 0.0, 0.0], criterion="dividing_surface",
                                         point=np.array(styblinski_tang(3).minima[0]) + [1.2, 0, 0],
                                         normal=[1.0, 0.0, 0.0], max_steps=301, bridge=True)),
    "st3-two-region-full-radius": (styblinski_tang(3), styblinski_tang(3).minima[0],
                                   dict(eta=0.01, noise_matrix=0.2 * np.eye(3),
                                        noise_matrix_after=0.1 * np.random.default_rng(1).standard_normal((3, 3)),
                                        split_point=np.array(styblinski_tang(3).minima[0]) + [0.15, 0, 0],
                                        split_normal=[1.0, 0.0, 0.0], criterion="radius", radius=0.7,
                                        max_steps=37)),
    "dw-radius-odd-cap": (double_well(), [-1.0], dict(eta=0.05, temperature=0.12, criterion="radius", radius=0.8,
                                                      max_steps=37)),
    "dw-two-planes": (double_well(), [-1.0], dict(eta=0.05, temperature=0.12, criterion="dividing_surface",
                                                  point=[[0.0], [-2.0]], normal=[[1.0], [-1.0]], max_steps=401)),
    "st1-divergence": (styblinski_tang(1), [-2.903534], dict(eta=0.0575, temperature=3.0, criterion="dividing_surface",
                                                            point=[1e300], normal=[1.0], max_steps=300)),
    # d > 1 Styblinski–Tang with one plane or a radius runs four particles side by side (_escape_lanes):
    # θ overflows before it reaches the plane (non-finite: diverged), and exits by an uphill step
    # (η·curvature > 2: the overshoot rule turns them into divergences, in the reference too)
    "st2-divergence": (styblinski_tang(2), styblinski_tang(2).minima[0],
                       dict(eta=0.0575, temperature=3.0, criterion="dividing_surface", point=[1e300, 0.0],
                            normal=[1.0, 0.0], max_steps=300)),
    "st2-radius-overshoot": (styblinski_tang(2), styblinski_tang(2).minima[0],
                             dict(eta=0.0575, temperature=3.0, criterion="radius", radius=3.0, max_steps=300)),
    # the 1-D four-lane step has a Styblinski–Tang radius copy too (dw-radius-odd-cap covers the double well's)
    "st1-radius": (styblinski_tang(1), styblinski_tang(1).minima[0],
                   dict(eta=0.01, temperature=2.0, criterion="radius", radius=0.7, max_steps=300)),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_kernel_gives_the_reference_exit_steps(key):
    land, start, kw = CASES[key]
    ours = K.fixed_noise_escape(land, start, n_runs=32, seed=11, return_theta=True, **kw)
    ref = fixed_noise_reference(land, start, n_runs=32, seed=11, return_theta=True, **kw)
    np.testing.assert_array_equal(ours.steps, ref.steps)
    np.testing.assert_array_equal(ours.escaped, ref.escaped)
    np.testing.assert_array_equal(ours.diverged, ref.diverged)
    fin = ~ours.diverged
    np.testing.assert_allclose(ours.theta[fin], ref.theta[fin], rtol=1e-9, atol=1e-9)
    assert ours.steps.dtype == np.int64 and ours.escaped.dtype == bool
    assert not np.any(ours.escaped & ours.diverged)
    censored = ~ours.escaped & ~ours.diverged
    assert np.all(ours.steps[censored] == kw["max_steps"])
    # the comparison is not vacuous: outcomes are mixed and exits take many steps
    if key.endswith("divergence"):
        assert ours.diverged.any() and censored.any()
        assert not np.all(np.isfinite(ours.theta[ours.diverged]))
    elif key.endswith("overshoot"):
        assert ours.diverged.any() and ours.escaped.any()
        assert np.all(np.isfinite(ours.theta[ours.diverged]))
    else:
        assert ours.escaped.any() and (censored.any() or np.ptp(ours.steps) > 10)
        assert np.median(ours.steps) > 5


def test_bridge_only_adds_escapes():
    """Same noise, so the paths agree until exit; the bridge test can only end a run earlier."""
    land, start, kw = CASES["dw-plane"]
    plain = K.fixed_noise_escape(land, start, n_runs=400, seed=3, **kw)
    bridged = K.fixed_noise_escape(land, start, n_runs=400, seed=3, **{**kw, "bridge": True})
    assert np.all(bridged.steps <= plain.steps)
    assert np.all(bridged.escaped | ~plain.escaped)
    assert np.sum(bridged.steps < plain.steps) > 10


def test_bridge_probability_is_applied_with_the_plane_variance():
    """Exit points of bridge escapes lie on the minimum's side; direct escapes beyond the plane."""
    land, start, kw = CASES["dw-plane-bridge"]
    r = K.fixed_noise_escape(land, start, n_runs=400, seed=8, return_theta=True, **kw)
    x = r.theta[r.escaped, 0]
    assert np.any(x < 0) and np.any(x >= 0)
    # a bridge exit needs exp(−2 d0 d1 / 2Dη) not negligible: d1 is within a few σ of the plane
    sigma = np.sqrt(2 * kw["temperature"] * kw["eta"])
    assert np.all(x[x < 0] > -6 * sigma)


@njit(nogil=True)
def _claim_all(queue, n, hits):
    """Take particles from the queue until it passes n, counting how often each one is taken."""
    while True:
        p = threads.claim(queue)
        if p >= n:
            return
        hits[p] += 1


def test_the_shared_queue_hands_out_every_particle_once():
    """Two threads take 2e6 particles from one queue as fast as they can; each must be taken exactly once.

    A plain read-then-write of the queue (no atomic add) lets both threads take the same particle:
    hits of 2, and the queue passes n sooner.
    """
    n = 2_000_000
    queue = np.zeros(1, np.int64)
    hits = np.zeros(n, np.int64)
    _claim_all(np.zeros(1, np.int64), 10, np.zeros(10, np.int64))      # compile before the threads start
    K.run_in_chunks(lambda q, i1: _claim_all(q, i1, hits), n, 1)
    np.testing.assert_array_equal(hits, 1)
    hits[:] = 0
    threads = [threading.Thread(target=_claim_all, args=(queue, n, hits)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(hits, 1)
    assert queue[0] == n + 2                                # each thread's last take is past the end


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: run_in_chunks makes no helper threads")
def test_helper_threads_work_in_a_forked_child():
    """The helper threads are kept between calls; a child forked after they were made has none of them
    and must make its own (with the parent's pool, its first 2-thread call would wait forever)."""
    K.run_in_chunks(lambda q, i1: _claim_all(q, i1, np.zeros(i1, np.int64)), 100, 2)   # the parent's pool
    pid = os.fork()
    if pid == 0:                                            # the child: exit code 0 when every particle ran once
        code = 2
        try:
            hits = np.zeros(1000, np.int64)
            K.run_in_chunks(lambda q, i1: _claim_all(q, i1, hits), 1000, 2)
            code = 0 if (hits == 1).all() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's 2-thread call did not finish in 60 s")
    assert os.waitstatus_to_exitcode(done[1]) == 0


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: run_in_chunks makes no helper threads")
def test_an_error_in_a_helper_thread_reaches_the_caller():
    """run_in_chunks waits for its helper threads and raises what they raised."""
    def run(queue, i1):
        if threading.current_thread() is not threading.main_thread():
            raise ArithmeticError("from the helper")
        queue[0] = i1

    with pytest.raises(ArithmeticError, match="from the helper"):
        K.run_in_chunks(run, 10, 2)


def test_results_do_not_depend_on_chunks_workers_or_offset(monkeypatch):
    land, start, kw = CASES["tw-plane-bridge"]
    whole = K.fixed_noise_escape(land, start, n_runs=60, seed=5, return_theta=True, **kw)
    monkeypatch.setattr(threads, "_CHUNK", 7)
    threaded = K.fixed_noise_escape(land, start, n_runs=60, seed=5, workers=2, return_theta=True, **kw)
    for a, b in zip(whole, threaded):
        np.testing.assert_array_equal(a, b)
    tail = K.fixed_noise_escape(land, start, n_runs=25, seed=5, particle_offset=35, **kw)
    np.testing.assert_array_equal(tail.steps, whole.steps[35:])
    np.testing.assert_array_equal(tail.escaped, whole.escaped[35:])
    other_seed = K.fixed_noise_escape(land, start, n_runs=60, seed=6, **kw)
    assert not np.array_equal(other_seed.steps, whole.steps)


@pytest.mark.parametrize("key", ["st10-hessian-plane-bridge", "st10-radius", "st2-radius-overshoot",
                                 "dw-plane-bridge", "dw-two-planes"])
def test_lanes_do_not_change_results(monkeypatch, key):
    """Particles advance side by side (four in vectors: ST with one plane or a radius, 1-D with one
    plane or a radius; two in 1-D otherwise): any chunking, thread count or offset gives the same runs
    (n_runs not a multiple of the lanes; lanes empty at the end of a chunk)."""
    land, start, kw = CASES[key]
    whole = K.fixed_noise_escape(land, start, n_runs=23, seed=4, return_theta=True, **kw)
    monkeypatch.setattr(threads, "_CHUNK", 5)
    for workers in (1, 2):
        split = K.fixed_noise_escape(land, start, n_runs=23, seed=4, workers=workers, return_theta=True, **kw)
        for a, b in zip(whole, split):
            np.testing.assert_array_equal(a, b)
    one = K.fixed_noise_escape(land, start, n_runs=1, seed=4, particle_offset=22, return_theta=True, **kw)
    assert one.steps[0] == whole.steps[22] and one.escaped[0] == whole.escaped[22]
    np.testing.assert_array_equal(one.theta[0], whole.theta[22])
    assert len(set(whole.steps.tolist())) > 3          # lanes end at different steps and are refilled


def _libm_exp_neg(q: float) -> float:
    """exp(−q) by libm, as compiled code evaluates it (0 for q ≥ 746 and for NaN, like the kernel's guard)."""
    if not q < 746.0:
        return 0.0
    return math.exp(-q)


def test_bridge_test_without_the_exp_decides_as_the_exp_does():
    """_bridge_hit(u, q) skips exp(−q) when 1/(1 + q + q²/2) bounds it; the decision must equal u < exp(−q)."""
    rng = np.random.default_rng(0)
    q = np.concatenate([rng.exponential(3.0, 20000), rng.uniform(0, 800, 5000), [0.0, 1e-300, 5e-324, 745.9, 746.0,
                                                                                 1e300, np.inf, np.nan]])
    u = rng.random(q.size)
    # u just below and just above exp(−q): the cases a loose bound would get wrong
    near = np.array([_libm_exp_neg(v) for v in q[:2000]])
    u[:1000], u[1000:2000] = np.nextafter(near[:1000], 0.0), np.nextafter(near[1000:2000], 1.0)
    u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
    # the kernel calls libm's exp (math.exp): numpy's vectorised exp may differ from it by an ulp on
    # hosts with AVX-512, which would move the decision for the u placed one ulp off the boundary
    expected = np.array([a < _libm_exp_neg(b) for a, b in zip(u, q)])
    got = np.array([loops.bridge_hit(a, b) for a, b in zip(u, q)])
    np.testing.assert_array_equal(got, expected)
    assert expected.sum() > 1000 and (~expected).sum() > 1000


def test_diagonal_matrix_path_equals_temperature_path():
    land, start, kw = CASES["st10-radius"]
    a = K.fixed_noise_escape(land, start, n_runs=50, seed=2, **kw)
    S = K.white_noise_matrix(10, kw["eta"], kw["temperature"])
    b = K.fixed_noise_escape(land, start, n_runs=50, seed=2, noise_matrix=S,
                             **{k: v for k, v in kw.items() if k != "temperature"})
    np.testing.assert_array_equal(a.steps, b.steps)


def test_reference_runs_user_landscapes():
    import autograd.numpy as anp
    quad = Landscape(name="quad", dim=1, loss=lambda t: 0.5 * anp.sum(t**2, axis=0))
    r = fixed_noise_reference(quad, [0.0], eta=0.1, temperature=0.5, n_runs=20, max_steps=200, seed=0,
                                       criterion="radius", radius=1.5)
    assert r.escaped.any()
    with pytest.raises(LandscapeError, match="no compiled kernel"):
        K.fixed_noise_escape(quad, [0.0], eta=0.1, temperature=0.5, n_runs=2, max_steps=2, seed=0,
                             criterion="radius", radius=1.5)


@pytest.mark.parametrize("fn", [K.fixed_noise_escape, fixed_noise_reference])
def test_bad_arguments_are_refused(fn):
    dw = double_well()
    base = dict(eta=0.05, n_runs=4, max_steps=10, seed=0)
    plane = dict(criterion="dividing_surface", point=[0.0], normal=[1.0])
    with pytest.raises(ValueError, match="exactly one"):
        fn(dw, [-1.0], **base, **plane)
    with pytest.raises(ValueError, match="exactly one"):
        fn(dw, [-1.0], **base, **plane, temperature=0.1, noise_matrix=[[0.1]])
    with pytest.raises(ValueError, match="already satisfies"):
        fn(dw, [0.5], **base, **plane, temperature=0.1)
    with pytest.raises(ValueError, match="unit vector"):
        fn(dw, [-1.0], **base, criterion="dividing_surface", point=[0.0], normal=[2.0], temperature=0.1)
    with pytest.raises(ValueError, match="dividing_surface"):
        fn(dw, [-1.0], **base, criterion="radius", radius=0.5, temperature=0.1, bridge=True)
    with pytest.raises(ValueError, match="criterion must be"):
        fn(dw, [-1.0], **base, criterion="basin", temperature=0.1)
    with pytest.raises(ValueError, match="n_runs"):
        fn(dw, [-1.0], **{**base, "n_runs": 0}, **plane, temperature=0.1)
    with pytest.raises(ValueError, match="shape"):
        fn(dw, [-1.0, 0.0], **base, **plane, temperature=0.1)


def test_two_region_noise_uses_the_second_matrix_beyond_the_split():
    """With S2 = 0 beyond the split, particles there move deterministically downhill and never escape."""
    land = double_well()
    kw = dict(eta=0.05, noise_matrix=[[0.1]], noise_matrix_after=[[0.0]], split_point=[-0.7], split_normal=[1.0],
              criterion="dividing_surface", point=[0.0], normal=[1.0], max_steps=2000, n_runs=64, seed=5)
    res = K.fixed_noise_escape(land, [-1.0], **kw)
    assert not res.escaped.any()            # descent from θ ≥ −0.7 goes back to −1; a 7σ jump is needed
    both = K.fixed_noise_escape(land, [-1.0], **{**kw, "noise_matrix_after": [[0.1]]})
    assert both.escaped.sum() > 10          # the same noise on both sides does escape


def test_several_planes_need_equal_variances_for_the_bridge():
    land = styblinski_tang(2)
    m = land.minima[0]
    with pytest.raises(ValueError, match="equal noise variance"):
        K.fixed_noise_escape(land, m, eta=0.01, noise_matrix=np.diag([0.1, 0.2]), criterion="dividing_surface",
                             point=m + np.eye(2), normal=np.eye(2), max_steps=10, n_runs=2, seed=0, bridge=True)
