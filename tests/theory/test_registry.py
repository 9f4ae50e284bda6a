"""The registry: required laws present, listable, searchable, JSON, convention choice."""
import json

import pytest

from flatminima import theory
REQUIRED = ["kramers_1d_escape_time", "kramers_1d_rate", "eyring_kramers_escape_time", "eyring_kramers_rate",
            "mori_1d_escape_time", "mori_1d_rate", "mori_escape_time", "mori_rate", "levy_escape_time", "levy_rate"]
REQUIRED += [f"sgd_{k}_{c}" for k in ("escape_time", "rate") for c in ("ito", "stratonovich", "hanggi_klimontovich")]


@pytest.fixture(scope="module")
def reg():
    return theory.formulas()


def test_required_laws_present(reg):
    assert set(REQUIRED) <= set(reg.names())
    assert len(reg) == len(reg.names()) == len(list(reg))


def test_search(reg):
    assert {f.name for f in reg.search("SGLD")} >= {"kramers_1d_rate", "eyring_kramers_rate"}
    assert {f.name for f in reg.search("hanggi")} >= {"sgd_rate_hanggi_klimontovich"}
    assert {f.name for f in reg.search("Eq. (7)")} >= {"sgd_rate_ito"}
    assert reg.search("no-such-thing-xyz") == []


def test_unknown_name_suggests(reg):
    with pytest.raises(KeyError, match="did you mean"):
        reg["sgd_rate_itoo"]


def test_convention_choice(reg):
    assert reg.sgd("rate", "ito").name == "sgd_rate_ito"
    assert theory.sgd_law().name == "sgd_rate_hanggi_klimontovich"           # the paper's by default
    assert theory.sgd_law("escape_time", "stratonovich").convention == "stratonovich"
    with pytest.raises(ValueError, match="convention must be one of"):
        reg.sgd("rate", "paper")


def test_sources_and_latex(reg):
    for f in reg.values():
        assert f.source and f.latex and f.mathml.startswith("<m"), f.name
    assert "Eq. (6)" in reg["eyring_kramers_rate"].source
    assert "Eq. (7)" in reg["sgd_rate_hanggi_klimontovich"].source


def test_registry_json(reg):
    records = json.loads(reg.to_json())
    assert all({"name", "latex", "parameters", "source"} <= set(r) for r in records)
