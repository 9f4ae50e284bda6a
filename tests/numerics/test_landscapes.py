"""Built-in landscapes: autograd derivatives against finite differences, batch = single, √k scaling, errors."""
import numpy as np
import pytest

from flatminima.numerics import LandscapeError, NonFiniteLossError, NotDifferentiableError, build_landscape, sharpened

BUILTIN_SPECS = [
    "styblinski-tang:dim=1",
    "styblinski-tang:dim=2",
    "styblinski-tang:dim=10",
    "double-well",
    "double-well:barrier_left=1,barrier_right=0.4,h_left=5,h_right=3,h_saddle=1.5",
    "two-well-2d",
    "muller-brown",
    "finite-sum:base=double-well,n_samples=16,spread=0.2",
    "finite-sum:base=styblinski-tang;dim=3,n_samples=8",
]
REL = 1e-6   # issue 2: derivatives agree with central differences to 1e-6 relative


def _points(land, rng, n=5):
    """Seeded points around the known critical points (where the landscape lives)."""
    anchors = np.array(land.minima + land.saddles)
    pick = anchors[rng.integers(0, len(anchors), size=n)]
    return pick + 0.3 * rng.standard_normal(pick.shape)


def _fd_grad(land, x, h):
    """Central difference of the loss, O(h²) error: an independent check of autograd's gradient."""
    e = np.eye(land.dim)
    return np.array([(land.value(x + h * e[i]) - land.value(x - h * e[i])) / (2 * h) for i in range(land.dim)])


def _fd_hessian(land, x, h):
    """Central difference of the (autograd) gradient; its own correctness is tested by _fd_grad."""
    e = np.eye(land.dim)
    cols = [(land.grad(x + h * e[i]) - land.grad(x - h * e[i])) / (2 * h) for i in range(land.dim)]
    return 0.5 * (np.array(cols) + np.array(cols).T)


def _rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1.0)


@pytest.mark.parametrize("spec", BUILTIN_SPECS)
def test_gradient_and_hessian_match_central_differences(spec):
    land = build_landscape(spec)
    rng = np.random.default_rng(20261126)
    for x in _points(land, rng, n=3):
        # step h ~ eps^(1/3) times the scale: truncation O(h²) and rounding O(eps/h) are both ~1e-10
        assert _rel_err(land.grad(x), _fd_grad(land, x, 1e-5)) < REL
        assert _rel_err(land.hessian(x), _fd_hessian(land, x, 1e-5)) < REL


@pytest.mark.parametrize("spec", BUILTIN_SPECS)
def test_batch_evaluation_equals_single_evaluation(spec):
    land = build_landscape(spec)
    X = _points(land, np.random.default_rng(7), n=6)
    np.testing.assert_allclose(land.values(X), [land.value(x) for x in X], rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(land.grads(X), [land.grad(x) for x in X], rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(land.hessians(X), [land.hessian(x) for x in X], rtol=1e-12, atol=1e-10)


def test_hessian_vector_product_equals_hessian_times_vector():
    land = build_landscape("two-well-2d")
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal(2), rng.standard_normal(2)
    np.testing.assert_allclose(land.hvp(x, v), land.hessian(x) @ v, rtol=1e-12)


def test_styblinski_tang_critical_points_are_roots_of_the_cubic():
    # docs/theory.md §Styblinski-Tang: per coordinate, L' = ½(4x³ − 32x + 5); independent source: numpy.roots
    # of that cubic
    lo, mid, hi = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)
    np.testing.assert_allclose([lo, mid, hi], [-2.903534, 0.156731, 2.746803], atol=5e-7)
    land = build_landscape("styblinski-tang:dim=2")
    for m in land.minima:
        assert np.max(np.abs(land.grad(m))) < 1e-10
        assert np.all(np.linalg.eigvalsh(land.hessian(m)) > 0)
    for s in land.saddles:
        assert np.max(np.abs(land.grad(s))) < 1e-10
        assert np.sum(np.linalg.eigvalsh(land.hessian(s)) < 0) == 1


def test_default_double_well_is_the_quartic_of_table_T1():
    # docs/theory.md table T1 uses U = θ⁴/4 − θ²/2 (H_a = 2, |H_b| = 1, ΔU = 1/4); the defaults must give exactly it
    land = build_landscape("double-well")
    for x in np.linspace(-1.7, 1.7, 13):
        assert land.value([x]) == pytest.approx(x**4 / 4 - x**2 / 2, abs=1e-14)


def test_asymmetric_double_well_has_the_requested_barriers_and_curvatures():
    land = build_landscape("double-well:barrier_left=1,barrier_right=0.4,h_left=5,h_right=3,h_saddle=1.5")
    left, right = land.minima
    assert land.value([0.0]) == pytest.approx(0.0, abs=1e-15)
    assert land.value(left) == pytest.approx(-1.0)
    assert land.value(right) == pytest.approx(-0.4)
    assert land.hessian(left)[0, 0] == pytest.approx(5.0)
    assert land.hessian(right)[0, 0] == pytest.approx(3.0)
    assert land.hessian([0.0])[0, 0] == pytest.approx(-1.5)
    # no other critical point: L' changes sign only at the three known points
    xs = np.linspace(left[0] * 1.5, right[0] * 1.5, 4001)
    g = land.grads(xs[:, None])[:, 0]
    assert np.sum(np.diff(np.sign(g)) != 0) == 3


@pytest.mark.parametrize("k", [0.5, 2.0, 10.0])
def test_sharpened_scales_hessian_by_k_and_keeps_loss_values(k):
    # docs/theory.md §Sharpness scaling: L_k(θ) = L(√k θ) has H_k(θ*/√k) = k·H(θ*), and equal loss at
    # corresponding points
    land = build_landscape("styblinski-tang:dim=2")
    sharp = sharpened(land, k)
    for m, mk in zip(land.minima + land.saddles, sharp.minima + sharp.saddles):
        np.testing.assert_allclose(mk, m / np.sqrt(k))
        np.testing.assert_allclose(sharp.hessian(mk), k * land.hessian(m), rtol=1e-12)
        assert sharp.value(mk) == pytest.approx(land.value(m), rel=1e-14)
    assert sharp.params["sharpness"] == k


def test_sharpened_finite_sum_scales_its_minibatches_too():
    land = build_landscape("finite-sum:base=double-well,n_samples=8")
    sharp = sharpened(land, 4.0)
    theta = np.array([[0.3, -0.2]])      # (d, R) with R = 2 replicas
    idx = np.array([[0, 1], [2, 3], [4, 5]])
    np.testing.assert_allclose(sharp.minibatch_loss(theta, idx), land.minibatch_loss(2.0 * theta, idx))


def test_finite_sum_minibatch_of_everything_is_the_full_loss():
    land = build_landscape("finite-sum:base=styblinski-tang;dim=2,n_samples=10,spread=0.3")
    x = np.array([-2.5, 2.0])
    idx = np.arange(10)[:, None]
    assert land.minibatch_loss(x[:, None], idx)[0] == pytest.approx(land.value(x), rel=1e-14)
    assert np.mean(land.sample_loss(x, np.arange(10))) == pytest.approx(land.value(x), rel=1e-14)


# ---------------------------------------------------------------------- bad input, one line each
def _one_line(exc_info):
    msg = str(exc_info.value)
    assert "\n" not in msg and msg
    return msg


def test_wrong_dimension_is_a_one_line_error():
    land = build_landscape("styblinski-tang:dim=3")
    with pytest.raises(LandscapeError, match=r"shape \(3,\)") as e:
        land.value([0.0, 1.0])
    _one_line(e)
    with pytest.raises(LandscapeError, match=r"\(n, 3\)"):
        land.grads(np.zeros((4, 2)))


def test_non_finite_theta_is_refused():
    with pytest.raises(LandscapeError, match="finite"):
        build_landscape("double-well").grad([np.nan])


def test_unknown_builtin_lists_what_exists():
    with pytest.raises(LandscapeError, match="unknown landscape 'rosenbrock'.*styblinski-tang") as e:
        build_landscape("rosenbrock")
    _one_line(e)


def test_unknown_parameter_lists_the_allowed_ones():
    with pytest.raises(LandscapeError, match="unknown parameter 'dims'.*allowed: dim") as e:
        build_landscape("styblinski-tang:dims=2")
    _one_line(e)


def test_bad_parameter_value_names_the_parameter():
    with pytest.raises(LandscapeError, match="parameter dim of styblinski-tang must be an integer; got 'two'"):
        build_landscape("styblinski-tang:dim=two")
    with pytest.raises(LandscapeError, match="parameter h_saddle of double-well must be a number; got 'x'"):
        build_landscape("double-well:h_saddle=x")
    with pytest.raises(LandscapeError, match="h_saddle must be <"):
        build_landscape("double-well:h_saddle=3")


def test_a_colon_without_parameters_is_refused():
    with pytest.raises(LandscapeError, match="key=value") as e:
        build_landscape("double-well:")
    _one_line(e)


def _write(tmp_path, text, name="land.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_file_landscape_is_differentiated_by_autograd(tmp_path):
    path = _write(tmp_path, "import autograd.numpy as np\nDIM = 2\n"
                            "def bowl(theta):\n    return np.sum(theta**2) + np.sin(theta[0])\n")
    land = build_landscape(f"{path}:bowl")
    x = np.array([0.3, -0.4])
    np.testing.assert_allclose(land.grad(x), [2 * 0.3 + np.cos(0.3), -0.8])
    assert not land.vectorised          # np.sum over all axes: the batch probe must notice
    X = np.array([[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_allclose(land.values(X), [land.value(x) for x in X])


def test_user_file_written_coordinate_first_is_vectorised(tmp_path):
    path = _write(tmp_path, "import autograd.numpy as np\n"
                            "def well(theta):\n    return theta[0]**2 + 3*theta[1]**2\nwell.dim = 2\n")
    land = build_landscape(f"{path}:well")
    assert land.vectorised
    np.testing.assert_allclose(land.hessians(np.zeros((3, 2))), np.tile(np.diag([2.0, 6.0]), (3, 1, 1)))


def test_missing_file_and_missing_function(tmp_path):
    with pytest.raises(LandscapeError, match="not found") as e:
        build_landscape(f"{tmp_path}/nope.py:f", dim=2)
    _one_line(e)
    path = _write(tmp_path, "import autograd.numpy as np\ndef g(theta):\n    return np.sum(theta)\n")
    with pytest.raises(LandscapeError, match="no function 'f'.*functions there: g") as e:
        build_landscape(f"{path}:f", dim=2)
    _one_line(e)


def test_syntax_error_in_file(tmp_path):
    path = _write(tmp_path, "def f(theta):\n    return theta[0] +\n")
    with pytest.raises(LandscapeError, match="syntax error at line 2") as e:
        build_landscape(f"{path}:f", dim=1)
    _one_line(e)


def test_nan_loss_is_a_one_line_error(tmp_path):
    path = _write(tmp_path, "import autograd.numpy as np\ndef f(theta):\n    return np.log(theta[0] - 5.0)\n")
    with pytest.raises(NonFiniteLossError, match="not finite") as e:
        with np.errstate(invalid="ignore"):
            build_landscape(f"{path}:f", dim=1)
    _one_line(e)


def test_plain_numpy_loss_is_not_differentiable(tmp_path):
    path = _write(tmp_path, "import numpy as np\ndef f(theta):\n    return float(np.sum(np.sin(theta)))\n")
    with pytest.raises(NotDifferentiableError, match="autograd.numpy") as e:
        build_landscape(f"{path}:f", dim=2)
    _one_line(e)


def test_vector_valued_loss_is_refused(tmp_path):
    path = _write(tmp_path, "import autograd.numpy as np\ndef f(theta):\n    return theta**2\n")
    with pytest.raises(NonFiniteLossError, match="scalar"):
        build_landscape(f"{path}:f", dim=2)


def test_user_dimension_mismatch(tmp_path):
    path = _write(tmp_path, "import autograd.numpy as np\nDIM = 3\ndef f(theta):\n    return np.sum(theta**2)\n")
    with pytest.raises(LandscapeError, match="dim=3 but --minimum has 2"):
        build_landscape(f"{path}:f", dim=2)
