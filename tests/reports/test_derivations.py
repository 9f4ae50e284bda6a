"""The derivation report: both files written quickly, math present, HTML self-contained."""
import re
import time

import pytest

from flatminima.reports.derivations import write_derivation_report


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("derive")
    t0 = time.perf_counter()
    paths = write_derivation_report(out)
    return out, paths, time.perf_counter() - t0


def test_writes_both_files_fast(written):
    out, paths, seconds = written
    assert [p.name for p in paths] == ["derivations.md", "derivations.html"]
    assert all(p.parent == out and p.stat().st_size > 10_000 for p in paths)
    assert seconds < 30.0, f"report took {seconds:.1f} s"


def test_html_is_self_contained_mathml(written):
    html = written[1][1].read_text(encoding="utf-8")
    assert html.count('<math display="block">') > 50
    assert "<mfrac>" in html and "<msqrt>" in html
    assert not re.search(r"https?://", html)
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert "✗ FAILED" not in html


def test_markdown_has_display_math_and_sections(written):
    md = written[1][0].read_text(encoding="utf-8")
    assert md.count("\n$$\n") > 50 and md.count("$$") % 2 == 0
    for title in ("Kramers law in one dimension", "Eyring–Kramers law in n dimensions", "The SGD escape law",
                  "Consequences", "Alternative laws", "Predicted fit slopes", "Formula registry"):
        assert title in md
    for needle in ("leading factor 2", "Hänggi–Klimontovich", "ill-posed", "T5", "Eq. (5)", "Eq. (6)", "Eq. (7)",
                   "Justification", "SymPy checks"):
        assert needle in md, needle
    assert "✗ FAILED" not in md
