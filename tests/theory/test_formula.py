"""Formula mechanics: keyword calls, vectorised numerics, domain errors, regime warnings, JSON export."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sympy as sp

from flatminima import theory
from flatminima.theory import DomainError, RegimeWarning

KRAMERS = dict(h_ae=2.0, h_be=1.0, barrier=0.25, temperature=0.025)           # ΔL/D = 10
SGD = dict(eta=0.1, batch_size=10.0, loss_unit=1.0, barrier=0.25, h_ae=2.0, h_be=1.0, s=0.5)


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


def test_kramers_value_by_hand(reg):
    # docs/theory.md §Eyring-Kramers law, 1-D: τ = 2π/√(H_a|H_b|)·e^{ΔL/D}; with H_a=2, |H_b|=1, ΔL/D=10
    expected = 2 * np.pi / np.sqrt(2.0) * np.exp(10.0)
    assert reg["kramers_1d_escape_time"](**KRAMERS) == pytest.approx(expected, rel=1e-13)
    assert reg["kramers_1d_rate"](**KRAMERS) == pytest.approx(1 / expected, rel=1e-13)


def test_sgd_value_by_hand(reg):
    # exponent 2BΔL/(ηλ)(s/H_ae + (1−s)/|H_be|) = 50·(0.25 + 0.5) = 37.5; Itô prefactor 2π/H_ae
    assert reg["sgd_escape_time_ito"](**SGD) == pytest.approx(np.pi * np.exp(37.5), rel=1e-13)
    assert reg["sgd_escape_time_hanggi_klimontovich"](**SGD) == pytest.approx(2 * np.pi * np.exp(37.5), rel=1e-13)
    assert reg["sgd_escape_time_stratonovich"](**SGD) == pytest.approx(2 * np.pi / np.sqrt(2) * np.exp(37.5), rel=1e-13)


def test_vectorised_broadcast(reg):
    temps = np.array([0.025, 0.05, 0.0125])
    out = reg["kramers_1d_rate"](**{**KRAMERS, "temperature": temps})
    assert out.shape == (3,)
    expected = np.sqrt(2.0) / (2 * np.pi) * np.exp(-0.25 / temps)
    np.testing.assert_allclose(out, expected, rtol=1e-13)


def test_numeric_equals_expression_at_random_points(reg):
    """Every registered formula: the lambdified function equals SymPy's own evaluation of the expression."""
    rng = np.random.default_rng(20240607)
    for f in reg.values():
        for _ in range(3):
            vals = {}
            for name, sym in f.params.items():
                if name == "n_outliers":
                    vals[name] = float(rng.integers(1, 4))
                elif name in ("s",):
                    vals[name] = rng.uniform(0.1, 0.9)
                elif name in ("momentum",):
                    vals[name] = rng.uniform(0.1, 0.9)
                elif name == "tail_index":
                    vals[name] = rng.uniform(1.1, 1.9)
                elif name == "slope":
                    vals[name] = rng.uniform(-1, 1)
                else:
                    vals[name] = rng.uniform(0.5, 2.0)
            if "loss_saddle" in vals:
                vals["loss_saddle"] = vals["loss_min"] + rng.uniform(0.1, 1.0)
            if "h_ae" in vals and "h_be" in vals and f.name == "s_hat":
                vals["h_be"] = vals["h_ae"] + 0.5
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RegimeWarning)
                got = f(**vals)
            subs = {sym: sp.Float(vals[n], 30) for n, sym in f.params.items()}
            want = float(f.expr.evalf(30, subs=subs))
            assert got == pytest.approx(want, rel=1e-10), f.name


def test_log_matches_value_and_survives_overflow(reg):
    f = reg["sgd_escape_time_ito"]
    assert f.log(**SGD) == pytest.approx(np.log(f(**SGD)), rel=1e-13)
    huge = {**SGD, "batch_size": 1e4}                    # exponent 37,500: beyond the float range
    assert f(**huge) == np.inf                           # no RuntimeWarning (pytest turns it into an error)
    assert f.log(**huge) == pytest.approx(np.log(np.pi) + 37500.0, rel=1e-13)


def test_wrong_keywords_are_named(reg):
    with pytest.raises(TypeError, match="takes exactly the keywords"):
        reg["kramers_1d_rate"](h_ae=2.0, h_be=1.0, barrier=0.25, T=0.1)


@pytest.mark.parametrize("bad", [{"temperature": -0.1}, {"h_ae": 0.0}, {"barrier": np.nan}, {"h_be": np.inf}])
def test_domain_error(reg, bad):
    with pytest.raises(DomainError, match="must be"):
        reg["kramers_1d_rate"](**{**KRAMERS, **bad})


def test_domain_error_for_undefined_maths(reg):
    with pytest.raises(DomainError, match="tail index"):
        reg["levy_rate"](tail_index=2.5, noise_scale=0.01, width_left=1.0, width_right=1.0)
    with pytest.raises(DomainError, match="saddle loss"):
        reg["mori_1d_rate"](eta=0.1, batch_size=10, h_star=1.0, h_ae=2.0, h_be=1.0, loss_min=0.3, loss_saddle=0.2)
    with pytest.raises(DomainError, match="integer"):
        reg["mori_rate"](eta=0.1, batch_size=10, h_star=1.0, h_be=1.0, det_ratio=0.5, loss_min=0.05,
                         loss_saddle=0.3, n_outliers=1.5)
    with pytest.raises(DomainError, match="momentum"):
        reg["momentum_exponent"](**SGD, momentum=1.2)


def test_regime_warning_kramers(reg):
    with pytest.warns(RegimeWarning, match="low temperature"):
        value = reg["kramers_1d_rate"](**{**KRAMERS, "temperature": 0.1})     # ΔL/D = 2.5 < 5
    assert np.isfinite(value)                                                     # the value is still returned


def test_regime_warning_sgd_exponent_and_s(reg):
    with pytest.warns(RegimeWarning, match="low temperature"):
        reg["sgd_rate_ito"](**{**SGD, "batch_size": 1.0})                      # exponent 3.75 < 5
    with pytest.warns(RegimeWarning, match="outside"):
        reg["sgd_rate_ito"](**{**SGD, "s": 1.3})


def test_no_warning_inside_regime(reg):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegimeWarning)
        reg["kramers_1d_rate"](**KRAMERS)
        reg["sgd_rate_hanggi_klimontovich"](**SGD)


def test_json_export(reg):
    rec = json.loads(reg["sgd_rate_ito"].to_json())
    assert rec["name"] == "sgd_rate_ito"
    assert [p["name"] for p in rec["parameters"]] == ["eta", "batch_size", "loss_unit", "barrier", "h_ae", "h_be", "s"]
    assert "Eq. (7)" in rec["source"] and rec["convention"] == "ito"
    assert rec["latex"].startswith("\\gamma =") and "\\Delta L" in rec["latex"]
    everything = json.loads(reg.to_json())
    assert {r["name"] for r in everything} == set(reg)


def test_params_are_glossary_words(reg):
    forbidden = {"lr", "bs", "T", "temp"}
    for f in reg.values():
        assert set(f.params) <= set(theory.GLOSSARY), f.name
        assert not set(f.params) & forbidden


def test_import_is_lazy():
    code = "import sys, theory; print('sympy' in sys.modules)"
    out = subprocess.check_output([sys.executable, "-c", code], text=True).strip()
    assert out == "False"
