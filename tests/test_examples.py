"""The tutorial scripts in examples/: each runs with --small and prints what its docstring promises.

Each script with a ``main`` runs as a subprocess (``sys.executable``, cwd = the repository root), must exit 0,
and its output is parsed and checked against closed forms where there are some. ``tilted_wells.py`` is a loss
module, not a script: it is imported and its loss checked against its per-sample losses.
"""
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NUMBER = r"[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?"


def run_example(name: str, *args: str, timeout: float = 300) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), "--small", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def numbers(pattern: str, text: str) -> list[tuple[float, ...]]:
    """Every match of ``pattern`` (its groups are numbers) as float tuples."""
    return [tuple(float(g) for g in m) if isinstance(m, tuple) else (float(m),)
            for m in re.findall(pattern.replace("NUM", NUMBER), text)]


def test_every_script_has_a_docstring_a_small_flag_and_a_main_guard():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert {"derive_laws.py", "validate_quick.py", "check_own_landscape.py", "tilted_wells.py", "minibatch_sgd.py",
            "sweep_config.py", "dask_local.py", "optimizers.py"} <= set(scripts)
    for name in scripts:
        text = (EXAMPLES / name).read_text()
        assert text.startswith('"""'), f"{name} has no module docstring"
        if name != "tilted_wells.py":
            assert "def main(argv=None):" in text and '"--small"' in text, name
            assert text.rstrip().endswith('if __name__ == "__main__":\n    main()'), name


def test_tilted_wells_loss_is_the_mean_of_its_sample_losses():
    spec = importlib.util.spec_from_file_location("tilted_wells_example", EXAMPLES / "tilted_wells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(3)
    for theta in rng.normal(size=(5, module.DIM)):
        losses = module.sample_losses(theta, np.arange(module.N_SAMPLES))
        assert module.loss(theta) == pytest.approx(np.mean(losses), rel=1e-12)
    # the column form: θ (d, R) and idx (B, R) give one minibatch per column
    thetas = rng.normal(size=(module.DIM, 4))
    idx = rng.integers(0, module.N_SAMPLES, size=(3, 4))
    block = module.sample_losses(thetas, idx)
    assert block.shape == (3, 4)
    assert block[:, 2] == pytest.approx(module.sample_losses(thetas[:, 2], idx[:, 2]))
    assert abs(np.mean(module.TILTS)) < 1e-12          # the tilts cancel: the mean loss is the untilted well


def test_derive_laws_evaluates_the_kramers_and_sgd_laws_as_their_closed_forms():
    out = run_example("derive_laws.py")
    assert "kramers_1d_rate" in out and "sgd_rate_ito" in out and r"\gamma =" in out
    kramers = numbers(r"D = (NUM): γ = (NUM) per unit SDE time", out)
    assert len(kramers) == 2
    for temperature, rate in kramers:        # √(H_ae|H_be|)/(2π)·exp(−ΔL/D) on θ⁴/4 − θ²/2
        assert rate == pytest.approx(math.sqrt(2.0) / (2 * math.pi) * math.exp(-0.25 / temperature), rel=1e-5)
    sgd = numbers(r"B = (\d+): γ = (NUM) \(closed form (NUM);", out)
    assert len(sgd) == 2
    for batch_size, rate, printed in sgd:    # Eq. (7), Itô prefactor H_ae/(2π), η = 0.01, λ = 25, s = 4/9
        exponent = 2 * batch_size * 0.25 / (0.01 * 25.0) * ((4 / 9) / 2.0 + (5 / 9) / 1.0)
        assert rate == pytest.approx(2.0 / (2 * math.pi) * math.exp(-exponent), rel=1e-5)
        assert printed == pytest.approx(rate, rel=1e-5)


def test_sweep_config_refuses_a_bad_config_resumes_without_recomputing_and_fits_the_slope():
    out = run_example("sweep_config.py")
    assert "refused before running: sweep config 1 of 1: config key 'max_steps' is missing" in out
    assert "first call: 2 of 3 tasks computed" in out
    assert "resume: 1 new tasks computed, 0 recomputed" in out
    assert "resume again: 0 of 3 tasks recomputed" in out
    rows = [tuple(float(x) for x in m) for m in re.findall(
        rf"(?m)^\s*(\d+)\s+(\d+)/(\d+)\s*({NUMBER}) \[({NUMBER}), ({NUMBER})\]", out)]
    assert [r[0] for r in rows] == [6, 7, 8]
    for _, escaped, n_runs, rate, lo, hi in rows:
        assert 10 <= escaped <= n_runs == 150 and lo < rate < hi
    assert rows[0][3] > rows[1][3] > rows[2][3]          # larger batches escape more slowly
    (slope, stderr, predicted), = numbers(r"against B: (NUM) ± (NUM) \(s\.e\.\); Eq\. \(7\) predicts (NUM)", out)
    closed_form = 2.0 / (0.01 * 40.0) * 0.25 * ((4 / 9) / 2.0 + (5 / 9) / 1.0)
    assert predicted == pytest.approx(closed_form, abs=1e-4)
    # fixed seeds; within 3 standard errors of the fitted slope (the stderr bound keeps the check from passing
    # on a useless fit)
    assert 0 < stderr < 0.2 and abs(slope - closed_form) < 3 * stderr


def test_minibatch_sgd_measures_the_noise_of_the_per_sample_tilts():
    out = run_example("minibatch_sgd.py")
    spec = importlib.util.spec_from_file_location("tilted_wells_noise", EXAMPLES / "tilted_wells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # per-sample gradients differ from the mean one by a_j along θ0 = e: C_ee = mean(a_j²) (B = 1, with
    # replacement), D = ηC/2 at the minimum and at the saddle alike
    expected = 0.0125 * float(np.mean(module.TILTS ** 2)) / 2.0
    (d_a,), = numbers(r"D_a = (NUM)", out)
    (d_b,), = numbers(r"D_b = (NUM)", out)
    assert d_a == pytest.approx(expected, abs=1e-4) and d_b == pytest.approx(expected, abs=1e-4)
    (lam_a, lam_b) = [v for (v,) in numbers(r"need λ_[ab] = (NUM)", out)]
    assert lam_b == pytest.approx(2 * lam_a, rel=1e-3)     # same D, curvatures H_ae = 8 and |H_be| = 4
    (rate, lo, hi), = numbers(r"measured  γ = (NUM), 95% CI \[(NUM), (NUM)\]", out)
    assert lo < rate < hi
    assert re.search(r"^check status: (PASS|FAIL|INCONCLUSIVE)$", out, re.M)


def test_optimizers_compares_three_optimizers_at_one_effective_learning_rate():
    out = run_example("optimizers.py")
    rows = {m[0]: tuple(float(x) for x in m[1:]) for m in re.findall(
        rf"(?m)^(sgd|momentum|adam)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER}) \[({NUMBER}), ({NUMBER})\]",
        out)}
    assert set(rows) == {"sgd", "momentum", "adam"}
    for eta, loss_unit, predicted, rate, lo, hi in rows.values():
        assert predicted > 0 and lo < rate < hi
    # heavy ball with β = 0.9 runs at η = η_SGD(1 − β): the same effective learning rate as SGD
    assert rows["momentum"][0] == pytest.approx(0.1 * rows["sgd"][0], rel=1e-3)
    assert re.search(r"(?m)^sgd .*PASS$", out)


def test_check_own_landscape_finds_one_saddle_between_the_two_wells_and_passes():
    out = run_example("check_own_landscape.py", timeout=600)
    minima = numbers(r"minimum θ = \((NUM), (NUM)\)\s+L = (NUM)", out)
    saddles = numbers(r"saddle θ = \((NUM), (NUM)\)\s+ΔL = (NUM)", out)
    assert len(minima) == 2 and len(saddles) == 2
    assert saddles[0][:2] == pytest.approx(saddles[1][:2], abs=1e-4)       # one saddle between the wells
    # L(a) + ΔL = L(b) from either side
    assert minima[0][2] + saddles[0][2] == pytest.approx(minima[1][2] + saddles[1][2], abs=2e-6)
    (rate, lo, hi), = numbers(r"measured  γ = (NUM), 95% CI \[(NUM), (NUM)\]", out)
    assert lo < rate < hi
    assert "check status: PASS" in out


def test_validate_quick_prints_every_verdict_from_result_json(tmp_path):
    out = run_example("validate_quick.py", "--out", str(tmp_path), timeout=900)
    import json

    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["suite"] == "quick" and (tmp_path / "store").is_dir()
    n = len(saved["verdicts"])
    assert f"{n} of {n} verdicts pass" in out
    assert len(re.findall(r"(?m)^(PASS|FAIL|INCONCLUSIVE) +\[C\d+\]", out)) == n == 6


def test_dask_local_gives_the_local_rows_and_the_kramers_slope():
    pytest.importorskip("distributed")
    out = run_example("dask_local.py", timeout=600)
    assert "rows identical to a local run: True" in out
    (slope, stderr), = numbers(r"against 1/D: (NUM) ± (NUM) \(s\.e\.\)", out)
    assert 0 < stderr < 0.1 and abs(slope - 0.25) < 3 * stderr        # slope ΔL = 1/4, fixed seeds
