"""MLP landscapes and their data sets: derivatives vs finite differences, hand-written vs autograd
backward pass, batch = single, minibatch consistency, minima with dense vs iterative spectra, errors."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.preprocessing import StandardScaler

from flatminima.numerics import LandscapeError, build_landscape, sharpened
from flatminima.numerics.critical import find_minimum
from flatminima.numerics.datasets import load_dataset
from flatminima.numerics.mlp import ACTIVATIONS, initial_theta, mlp, mlp_minibatch_grad, parse_hidden

REL = 1e-6        # issue 2: derivatives agree with central differences to 1e-6 relative
EXACT = 1e-10     # two implementations of the same formula (autograd vs hand-written): round-off only
GTOL = 1e-8       # issue 4: a minimum has |∇L| <= 1e-8

# Small networks so that dense Hessians stay cheap (P = 266 and 71 parameters).
BREAST = dict(data="breast_cancer", hidden="8", n_samples=200)
WINE = dict(data="wine", hidden="4")


def _point(land, seed):
    """A seeded random θ: an initial point plus O(0.3) noise (non-zero biases, no special structure)."""
    rng = np.random.default_rng(seed)
    return initial_theta(land, seed) + 0.3 * rng.standard_normal(land.dim)


def _rel(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b)


# ---------------------------------------------------------------------------------------- data sets
@pytest.mark.parametrize("name,shape,k", [("breast_cancer", (569, 30), 2), ("wine", (178, 13), 3),
                                          ("iris", (150, 4), 3), ("digits", (1797, 64), 10)])
def test_bundled_data_are_standardised_like_sklearn(name, shape, k):
    from sklearn import datasets as skd
    raw = getattr(skd, f"load_{name}")()
    ds = load_dataset(name)
    assert ds.X.shape == shape and ds.n_classes == k and ds.name == name
    assert set(np.unique(ds.y)) == set(range(k))
    np.testing.assert_array_equal(ds.y, raw.target)        # sklearn's targets are already 0..K-1
    # independent implementation: sklearn's StandardScaler (which also maps constant columns to 0)
    np.testing.assert_allclose(ds.X, StandardScaler().fit_transform(raw.data), atol=1e-12)
    assert np.all(np.isfinite(ds.X))


def test_digits_constant_columns_are_zero():
    ds = load_dataset("digits")
    const = np.ptp(ds.X, axis=0) == 0
    assert const.any()                                     # digits has always-blank pixels
    assert np.all(ds.X[:, const] == 0.0)
    np.testing.assert_allclose(ds.X[:, ~const].std(axis=0), 1.0, rtol=1e-12)


def test_csv_with_header_label_by_name_and_string_labels(tmp_path):
    path = tmp_path / "toy.csv"
    path.write_text("a,kind,b\n1,cat,5\n2,dog,5\n3,cat,5\n4,emu,5\n")
    ds = load_dataset(str(path), label="kind")
    assert ds.classes == ("cat", "dog", "emu") and ds.n_classes == 3
    np.testing.assert_array_equal(ds.y, [0, 1, 0, 2])
    assert ds.feature_names == ("a", "b")
    a = np.array([1.0, 2, 3, 4])
    np.testing.assert_allclose(ds.X[:, 0], (a - a.mean()) / a.std(), rtol=1e-14)
    np.testing.assert_array_equal(ds.X[:, 1], 0.0)          # constant column


def test_csv_default_label_is_last_column_and_numeric_labels_sort_as_numbers(tmp_path):
    path = tmp_path / "toy.csv"
    path.write_text("1.0,0.5,10\n2.0,0.1,2\n3.0,0.7,10\n0.0,0.2,2\n")   # no header
    ds = load_dataset(str(path))
    assert ds.classes == (2, 10)
    np.testing.assert_array_equal(ds.y, [1, 0, 1, 0])
    assert ds.X.shape == (4, 2)
    by_position = load_dataset(str(path), label="0")       # label by integer position
    assert by_position.n_classes == 4 and by_position.X.shape == (4, 2)


@pytest.mark.parametrize("text,label,match", [
    ("a,b,y\n1,x,0\n2,3,1\n", None, r"feature 'b' is not numeric at line 2"),
    ("a,b,y\n1,2,0\n2,3,1\n", "klass", r"label column 'klass' not in .*columns: a, b, y"),
    ("a,b,y\n1,2,0\n2,3,0\n", None, r"only one class"),
    ("a,b,y\n1,2,0\n2,3\n", None, r"line 3 has 2 columns; expected 3"),
])
def test_csv_errors_are_one_line(tmp_path, text, label, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(LandscapeError, match=match) as info:
        load_dataset(str(path), label=label)
    assert "\n" not in str(info.value)


def test_unknown_data_set_and_missing_file():
    with pytest.raises(LandscapeError, match=r"unknown data set 'mnist'; bundled: breast_cancer, digits, iris, wine"):
        load_dataset("mnist")
    with pytest.raises(LandscapeError, match=r"data file not found: .*nowhere\.csv"):
        load_dataset("/nowhere.csv")


# ---------------------------------------------------------------------------------------- construction
def test_parameters_dimension_and_name_round_trip():
    land = mlp(**BREAST)
    assert land.dim == 30 * 8 + 8 + 8 * 2 + 2 and land.n_samples == 200 and land.minima == ()
    p = land.params
    assert (p["data"], p["hidden"], p["activation"], p["loss"], p["weight_decay"], p["n_samples"], p["seed"]) == \
           ("breast_cancer", "8", "tanh", "cross_entropy", 1e-3, 200, 0)
    again = build_landscape(land.name)                     # the name is a CLI spec that rebuilds it
    x = _point(land, 0)
    assert again.dim == land.dim and again.value(x) == land.value(x)
    deep = build_landscape("mlp:data=iris,hidden=5x3,weight_decay=0.01,n_samples=40,seed=2")
    assert deep.dim == 4 * 5 + 5 + 5 * 3 + 3 + 3 * 3 + 3 and deep.n_samples == 40
    assert deep.params["weight_decay"] == 0.01 and deep.params["seed"] == 2


def test_subset_is_seeded():
    a, b, c = (mlp("wine", hidden="3", n_samples=50, seed=s) for s in (1, 1, 2))
    x = initial_theta(a, 0)
    assert a.value(x) == b.value(x) != c.value(x)


def test_initial_theta_is_seeded_and_scales_with_sharpness():
    land = mlp(**WINE)
    x0, x0b, x1 = initial_theta(land, 0), initial_theta(land, 0), initial_theta(land, 1)
    assert x0.shape == (land.dim,) and np.array_equal(x0, x0b) and not np.array_equal(x0, x1)
    sharp = sharpened(land, 4.0)
    np.testing.assert_allclose(initial_theta(sharp, 0), x0 / 2.0, rtol=1e-15)
    assert abs(sharp.value(initial_theta(sharp, 0)) - land.value(x0)) < 1e-14


@pytest.mark.parametrize("hidden", ["16x", "a", "0", "-3", "1.5", "8xx4"])
def test_bad_hidden_spec(hidden):
    with pytest.raises(LandscapeError, match=r"hidden must be layer widths >= 1 joined by 'x'") as info:
        mlp("iris", hidden=hidden)
    assert "\n" not in str(info.value)


def test_hidden_spec_parsing():
    assert parse_hidden("16") == (16,) and parse_hidden("32x16") == (32, 16) and parse_hidden("") == ()


@pytest.mark.parametrize("kwargs,match", [
    (dict(activation="gelu"), r"unknown activation 'gelu'; choose one of tanh, relu, softplus, sigmoid"),
    (dict(loss="hinge"), r"unknown loss 'hinge'; choose one of cross_entropy, mse"),
    (dict(weight_decay=-1.0), r"weight_decay must be a finite number >= 0"),
    (dict(n_samples=500), r"n_samples must be 0 \(all\) or between 2 and 150 for iris"),
    (dict(n_samples=-1), r"n_samples must be an integer >= 0"),
    (dict(data="nope"), r"unknown data set 'nope'"),
    (dict(data="missing.csv"), r"data file not found: missing\.csv"),
])
def test_bad_mlp_arguments(kwargs, match):
    args = dict(data="iris", hidden="4") | kwargs
    with pytest.raises(LandscapeError, match=match) as info:
        mlp(**args)
    assert "\n" not in str(info.value)


def test_missing_label_column_through_the_cli_spec(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("u,v,w\n1,2,0\n3,1,1\n2,2,0\n")
    assert build_landscape(f"mlp:data={path},hidden=2,label=w").dim == 2 * 2 + 2 + 2 * 2 + 2
    with pytest.raises(LandscapeError, match=r"label column 'target' not in .*columns: u, v, w"):
        build_landscape(f"mlp:data={path},hidden=2,label=target")


# ---------------------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("spec", [BREAST, dict(data="wine", hidden="8"),
                                  dict(data="iris", hidden="5x3", activation="softplus", loss="mse")])
def test_gradient_matches_central_differences(spec):
    land = mlp(**spec)
    h = 1e-5    # truncation ~h²·L'''/6 ≈ 1e-11, round-off ~eps·L/h ≈ 1e-11: both far below REL
    for seed in (0, 1):
        x = _point(land, seed)
        steps = np.vstack([x + h * np.eye(land.dim), x - h * np.eye(land.dim)])
        v = land.values(steps)
        fd = (v[:land.dim] - v[land.dim:]) / (2 * h)
        assert _rel(land.grad(x), fd) < REL


def test_dense_hessian_matches_differences_of_gradients_wine():
    land = mlp(**WINE)
    h = 1e-4    # truncation ~h²·L''''/6 ≈ 1e-9, round-off ~eps·|∇L|/h ≈ 1e-12
    x = _point(land, 3)
    e = np.eye(land.dim)
    g = land.grads(np.vstack([x + h * e, x - h * e]))
    fd = (g[:land.dim] - g[land.dim:]) / (2 * h)
    assert _rel(land.hessian(x), 0.5 * (fd + fd.T)) < REL


def test_hessian_on_random_directions_breast_cancer():
    land = mlp(**BREAST)
    rng = np.random.default_rng(11)
    x = _point(land, 4)
    H = land.hessian(x)
    h = 1e-4
    for _ in range(3):
        v = rng.standard_normal(land.dim)
        v /= np.linalg.norm(v)
        fd = (land.grad(x + h * v) - land.grad(x - h * v)) / (2 * h)
        assert _rel(H @ v, fd) < REL
        assert _rel(land.hvp(x, v), fd) < REL


@pytest.mark.parametrize("hidden", ["", "6", "5x4"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_hand_written_gradient_equals_autograd(hidden, activation, loss):
    land = mlp("iris", hidden=hidden, activation=activation, loss=loss, weight_decay=0.01, n_samples=60)
    rng = np.random.default_rng(5)
    R, B = 6, 9
    thetas = np.array([_point(land, s) for s in range(R)])
    idx = rng.integers(0, land.n_samples, size=(B, R))
    ref = autograd.grad(lambda T: anp.sum(land.minibatch_loss(T, idx)))(thetas.T.copy()).T
    assert np.max(np.abs(mlp_minibatch_grad(land, thetas, idx) - ref)) < EXACT * max(1.0, np.abs(ref).max())


def test_hand_written_gradient_refuses_wrapped_landscape():
    with pytest.raises(LandscapeError, match=r"not an unwrapped MLP landscape"):
        mlp_minibatch_grad(sharpened(mlp(**WINE), 2.0), np.zeros((1, 71)), np.zeros((1, 1), int))


# ---------------------------------------------------------------------------------------- batches
@pytest.mark.parametrize("spec", [BREAST, WINE])
def test_batch_evaluation_equals_single(spec):
    land = mlp(**spec)
    X = np.array([_point(land, s) for s in range(4)])
    np.testing.assert_allclose(land.values(X), [land.value(x) for x in X], rtol=1e-13)
    np.testing.assert_allclose(land.grads(X), [land.grad(x) for x in X], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", [BREAST, WINE])
def test_minibatch_and_sample_losses_average_to_the_full_loss(spec):
    land = mlp(**spec)
    m, R = land.n_samples, 3
    rng = np.random.default_rng(2)
    X = np.array([_point(land, s) for s in range(R)])
    full = np.array([land.value(x) for x in X])
    everything = np.column_stack([rng.permutation(m) for _ in range(R)])     # B = m, shuffled per replica
    np.testing.assert_allclose(land.minibatch_loss(X.T, everything), full, rtol=1e-13)
    np.testing.assert_allclose([np.mean(land.sample_loss(x, np.arange(m))) for x in X], full, rtol=1e-13)
    # a partial minibatch is the mean of its per-sample losses
    idx = rng.integers(0, m, size=(7, R))
    np.testing.assert_allclose(land.minibatch_loss(X.T, idx),
                               [np.mean(land.sample_loss(X[r], idx[:, r])) for r in range(R)], rtol=1e-13)


# ---------------------------------------------------------------------------------------- minima and spectra
@pytest.fixture(scope="module", params=[BREAST, WINE], ids=["breast_cancer", "wine"])
def minimum(request):
    land = mlp(**request.param)
    return land, find_minimum(land, initial_theta(land, 0), gtol=GTOL)


def test_minimum_has_tiny_gradient_and_positive_hessian(minimum):
    land, x = minimum
    assert np.linalg.norm(land.grad(x)) <= GTOL
    w = np.linalg.eigvalsh(land.hessian(x))
    assert w[0] > 0


def test_extreme_eigenvalues_dense_vs_lanczos(minimum):
    land, x = minimum
    w = np.linalg.eigvalsh(land.hessian(x))
    op = LinearOperator((land.dim, land.dim), matvec=lambda v: land.hvp(x, np.ravel(v)), dtype=float)
    v0 = np.random.default_rng(0).standard_normal(land.dim)
    top = eigsh(op, k=1, which="LA", tol=1e-12, v0=v0, return_eigenvectors=False)
    bottom = eigsh(op, k=1, which="SA", tol=1e-12, v0=v0, return_eigenvectors=False)
    assert abs(top[0] - w[-1]) <= 1e-9 * w[-1]
    assert abs(bottom[0] - w[0]) <= 1e-9 * w[-1]


def test_hand_written_gradient_scratch_reuse_out_and_pickle():
    import pickle
    land = mlp("iris", hidden="5x4", n_samples=60)
    model = land.minibatch_loss.__self__
    rng = np.random.default_rng(8)

    def ref(thetas, idx):
        return autograd.grad(lambda T: anp.sum(land.minibatch_loss(T, idx)))(thetas.T.copy()).T

    cases = [(rng.standard_normal((R, land.dim)), rng.integers(0, 60, size=(B, R))) for R, B in
             [(3, 4), (5, 2), (3, 4), (1, 60), (2, 7), (4, 4), (6, 3)]]      # repeats and > 4 shapes
    results = [mlp_minibatch_grad(land, T, idx) for T, idx in cases]
    for (T, idx), g in zip(cases, results):              # earlier results are not overwritten later
        np.testing.assert_allclose(g, ref(T, idx), rtol=0, atol=EXACT)
    T, idx = cases[0]
    out = np.full_like(T, np.nan)
    assert model.minibatch_grad(T, idx, out=out) is out
    np.testing.assert_allclose(out, results[0], rtol=0, atol=0)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.minibatch_grad(T, idx), results[0])
