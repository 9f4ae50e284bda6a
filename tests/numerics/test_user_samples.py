"""A user's loss file with per-sample losses becomes a finite-sum landscape (real minibatch SGD).

References: the loss of the example file is the mean of its per-sample losses by construction
(examples/tilted_wells.py); minibatch gradients are checked against autograd on the
per-sample losses directly; bad declarations must give one-line LandscapeErrors.
"""
import textwrap
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from flatminima.numerics import LandscapeError, build_landscape
from flatminima.numerics.samples import gradient_noise_covariance, minibatch_gradients

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tilted_wells.py"


def _file(tmp_path, body: str) -> str:
    path = tmp_path / "loss.py"
    path.write_text(textwrap.dedent(body))
    return f"{path}:loss"


def test_example_file_is_a_finite_sum_landscape():
    land = build_landscape(f"{EXAMPLE}:loss")
    assert land.n_samples == 64 and land.minibatch_loss is not None
    theta = np.array([-0.7, 0.3])
    idx = np.array([[0, 5, 9], [3, 3, 63]])           # (B = 2, R = 3)
    thetas = np.array([theta, theta + 0.1, theta - 0.2])
    got = minibatch_gradients(land, thetas, idx)
    import importlib.util
    spec = importlib.util.spec_from_file_location("tilted", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for r in range(3):                                # autograd of the mean of the user's per-sample losses
        want = autograd.grad(lambda t: anp.mean(mod.sample_losses(t, idx[:, r])))(thetas[r])
        np.testing.assert_allclose(got[r], want, rtol=1e-12, atol=1e-12)


def test_noise_covariance_of_the_tilts_is_their_variance_over_b():
    # ℓ_j = (θ0² − 1)² + a_j θ0 + θ1²/2: per-sample gradients differ only by a_j along θ0, so
    # C = Var(a)/B along θ0 (with replacement, the a_j centred) and 0 along θ1, at every θ
    land = build_landscape(f"{EXAMPLE}:loss")
    import importlib.util
    spec = importlib.util.spec_from_file_location("tilted", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for B in (1, 4):
        C = gradient_noise_covariance(land, np.array([0.3, -0.2]), B)
        np.testing.assert_allclose(C, np.diag([np.mean(mod.TILTS**2) / B, 0.0]), atol=1e-12)


def test_loop_fallback_when_sample_losses_is_not_vectorised(tmp_path):
    spec = _file(tmp_path, """
        import autograd.numpy as np
        import numpy
        C = numpy.linspace(-1.0, 1.0, 5)
        DIM = 1
        N_SAMPLES = 5
        def sample_losses(theta, idx):
            return np.array([(theta[0] - C[j]) ** 2 for j in idx])     # not vectorised over replicas
        def loss(theta):
            return np.mean(sample_losses(theta, range(5)))
    """)
    land = build_landscape(spec)
    idx = np.array([[0, 4], [1, 1]])
    got = minibatch_gradients(land, np.array([[0.5], [-0.2]]), idx)
    C = np.linspace(-1.0, 1.0, 5)
    want = [[np.mean(2 * (0.5 - C[[0, 1]]))], [np.mean(2 * (-0.2 - C[[4, 1]]))]]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("body,needle", [
    ("""
        import autograd.numpy as np
        DIM = 1
        def sample_losses(theta, idx):
            return (theta[0] - idx) ** 2
        def loss(theta):
            return theta[0] ** 2
    """, r"need both sample_losses\(theta, idx\) and n_samples"),
    ("""
        import autograd.numpy as np
        DIM = 1
        N_SAMPLES = 1
        def sample_losses(theta, idx):
            return (theta[0] - idx) ** 2
        def loss(theta):
            return theta[0] ** 2
    """, "n_samples must be an integer >= 2"),
    ("""
        import autograd.numpy as np
        DIM = 1
        N_SAMPLES = 3
        def sample_losses(theta, idx):
            return np.sum((theta[0] - idx) ** 2)                        # one number, not one per sample
        def loss(theta):
            return np.mean((theta[0] - np.arange(3)) ** 2)
    """, r"must return one loss per index, shape \(3,\)"),
    ("""
        import autograd.numpy as np
        DIM = 1
        N_SAMPLES = 3
        def sample_losses(theta, idx):
            return (theta[0] - idx) ** 2
        def loss(theta):
            return np.sum((theta[0] - np.arange(3)) ** 2)              # the sum, not the mean
    """, "the loss must be the mean of sample_losses"),
])
def test_bad_per_sample_declarations_are_one_line_errors(tmp_path, body, needle):
    with pytest.raises(LandscapeError, match=needle) as exc:
        build_landscape(_file(tmp_path, body))
    assert "\n" not in str(exc.value)
