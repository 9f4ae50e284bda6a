"""Tests of the ``conventions`` suite (checks C1–C3, C6, C9–C12, C15 of docs/theory.md §Checks).

One tiny run, its structure and verdicts.

The suite's checks are exact (bit-for-bit identities, printed tables to their decimals) or SE-based with
fixed seeds, so every verdict must pass at the tiny size; a wrong constant anywhere would flip one.
"""
from __future__ import annotations

import json

import pytest

from flatminima.validation.suite import SuiteResult
from flatminima.validation.suites import conventions, get_suite

CHECKS = {"C1", "C2", "C3", "C6", "C9", "C10", "C11", "C12", "C15"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("conventions")
    result = conventions.run(out, size="tiny")
    result.save(out)
    return out, result


def test_registered_with_sizes():
    suite = get_suite("conventions")
    assert {"tiny", "default", "full"} <= set(suite.sizes) and suite.run is conventions.run


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="unknown size 'huge' for suite conventions; allowed: tiny, default, full"):
        conventions.run("unused", size="huge")


def test_tiny_run_has_one_verdict_per_check_and_all_pass(tiny):
    _, result = tiny
    assert {v.check for v in result.verdicts} == CHECKS
    failed = [(v.check, v.claim, v.measured, v.tolerance) for v in result.verdicts if not v.passed]
    assert not failed, failed
    assert result.passed


def test_tables_reproduce_theory_tables_next_to_printed_values(tiny):
    _, result = tiny
    tables = {t.name: t for t in result.tables}
    assert {"measurements", "t1", "t3", "t4", "c10"} <= set(tables)
    for name, label in (("t1", "T1"), ("t3", "T3"), ("t4", "T4")):
        assert f"table {label}" in tables[name].caption
    for row in tables["t1"].rows:                     # computed ratio beside the printed one, 3 decimals
        assert abs(float(row[1]) - row[2]) <= 5e-4 and abs(float(row[3]) - row[4]) <= 5e-4
    for row in tables["t4"].rows:
        assert abs(float(row[2]) - row[3]) <= 5e-4


def test_statistical_verdicts_carry_their_standard_errors(tiny):
    _, result = tiny
    for v in result.verdicts:
        if v.check in ("C1", "C3") and v.stderr is not None:
            assert v.stderr > 0 and "s.e." in v.measured and "s.e." in v.tolerance
    c3 = next(v for v in result.verdicts if v.check == "C3" and v.expected is not None)
    assert abs(c3.expected - 277.1) < 0.1                              # docs/theory.md table T2, exact MFPT
    c10 = next(v for v in result.verdicts if v.check == "C10" and v.expected is not None)
    assert c10.expected == pytest.approx(1.0) and 0 < c10.stderr < 0.1


def test_result_round_trips_through_json(tiny):
    out, result = tiny
    loaded = SuiteResult.load(out)
    assert loaded.to_dict() == json.loads(json.dumps(result.to_dict()))
    assert loaded.provenance["size"] == "tiny" and set(loaded.provenance["seconds_per_check"]) == CHECKS
