"""The quick suite end to end (issue 5: `quick` passes in CI), and a report rebuilt from its results alone."""
import json
import shutil

import numpy as np
import pytest

from flatminima.validation.suite import SuiteResult
from flatminima.validation.suites import get_suite, suite_names


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    result = get_suite("quick").run(out, size="default", workers=2, progress=False)
    result.save(out)
    return out, result


def test_quick_suite_verdicts_all_pass(quick):
    _, result = quick
    assert len(result.verdicts) == 6
    failed = [f"{v.claim}: {v.measured} vs {v.predicted} (tol {v.tolerance})" for v in result.verdicts if not v.passed]
    assert not failed, failed


def test_quick_suite_slopes_are_measured_with_error_bars(quick):
    _, result = quick
    slopes = [v for v in result.verdicts if v.value is not None]
    assert len(slopes) == 3
    for v in slopes:
        assert np.isfinite(v.value) and v.stderr > 0
        # each slope is resolved: its standard error is well below the slope itself
        assert v.stderr < 0.1 * abs(v.value)
    # the SGLD 1/D slope is the barrier ΔL = 1/4 of θ⁴/4 − θ²/2 (docs/theory.md table T1), independent of the code
    sgld = next(v for v in slopes if v.check == "C10")
    assert sgld.expected == pytest.approx(0.25, rel=1e-9)


def test_results_round_trip_and_store_is_resumable(quick, tmp_path):
    out, result = quick
    again = SuiteResult.load(out)
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(result.to_dict(), sort_keys=True)
    # resuming into a copy recomputes nothing and gives identical rows (seeds derive from config hashes)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    resumed = get_suite("quick").run(copy, size="default", workers=1, resume=True, progress=False)
    assert [v.value for v in resumed.verdicts] == [v.value for v in result.verdicts]


def test_report_is_rebuilt_from_the_results_folder_alone(quick, tmp_path):
    from flatminima.reports.cli import main

    out, _ = quick
    copy = tmp_path / "only-json"
    copy.mkdir()
    shutil.copy(out / "result.json", copy / "result.json")      # no store: nothing can be recomputed
    assert main(["report", str(copy)]) == 0
    html = (copy / "report.html").read_text()
    assert "verdicts pass" in html and "data:image/png;base64," in html


def test_registry_lists_the_suites():
    assert {"quick", "paper", "noise"} <= set(suite_names())
    with pytest.raises(ValueError, match="unknown suite 'nope'; suites: quick"):
        get_suite("nope")
