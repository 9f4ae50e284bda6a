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


def test_display_math_never_scrolls_and_wide_equations_are_broken(written):
    from flatminima.reports.derivations import _CSS
    from flatminima.reports.mathfit import _MAX_EQ_EM, _em, _parse_mathml

    assert "overflow" not in _CSS                  # no scroll container around or on equations
    html = written[1][1].read_text(encoding="utf-8")
    assert "overflow" not in html.split("</style>")[0]
    blocks = re.findall(r'<math display="block"([^>]*)>(.*?)</math>', html, re.S)
    assert any('<mtable class="lines' in body for _, body in blocks)
    for attrs, body in blocks:               # every equation is estimated to fit (rows, or scaled down)
        scale = float(re.search(r"font-size:([0-9]+)%", attrs).group(1)) / 100 if "font-size" in attrs else 1.0
        if "<mtable" in body:
            rows = re.findall(r"<mtr>(.*?)</mtr>", body, re.S)
            width = max(_em(_parse_mathml(r)) for r in rows)
        else:
            width = _em(_parse_mathml(body))
        assert width * scale <= _MAX_EQ_EM * 1.35, body[:200]


def test_fit_display_math_breaks_sums_at_top_level():
    from flatminima.reports.mathfit import fit_display_math

    term = "<msup><mi>x</mi><mn>2</mn></msup>"
    rhs = "<mrow>" + "<mo>+</mo>".join([term] * 60) + "</mrow>"
    mathml = f"<mrow><mi>y</mi><mo>=</mo>{rhs}</mrow>"
    fitted, style = fit_display_math(mathml)
    assert fitted.startswith('<mtable class="lines">') and fitted.count("<mtr>") >= 2
    assert fitted.count("<mi>x</mi>") == 60 and fitted.count("<mo>=</mo>") == 1
    assert fit_display_math(f"<mrow><mi>y</mi><mo>=</mo>{term}</mrow>") == (
        f"<mrow><mi>y</mi><mo>=</mo>{term}</mrow>", "")
    long_product = "<mrow>" + "<mo>&InvisibleTimes;</mo>".join(["<mi>z</mi>"] * 200) + "</mrow>"
    fitted, style = fit_display_math(long_product)
    assert fitted == long_product and style.startswith("font-size:")


def test_justifications_render_math_not_raw_tex(written):
    html = written[1][1].read_text(encoding="utf-8")
    text = re.sub(r"<math\b.*?</math>", "", html, flags=re.S)
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    text = re.sub(r"<code>.*?</code>", "", text, flags=re.S)         # keyword names such as h_ae
    text = re.sub(r"<[^>]+>", "", text)
    assert "e^{" not in text and "^{" not in text and "_{" not in text
    leftovers = re.findall(r"\S*(?<![\w.])[A-Za-zα-ωΔΦΣ]_[A-Za-z0-9]\S*", text)
    assert leftovers == ["bouchet_reygner_prefactor(h_a,"], leftovers      # a Python call, left as written
    # "multiply by e^{L/D}/D" (1-D Kramers) is inline MathML with a superscript
    assert re.search(r"multiply by <math><msup><mi>e</mi><mrow><mi>L</mi><mo[^>]*>/</mo><mi>D</mi></mrow></msup>", html)
    assert html.count("<math>") > 500


def test_markdown_justifications_use_inline_math(written):
    md = written[1][0].read_text(encoding="utf-8")
    assert "multiply by $e^{L/D}/D$" in md
    assert "*Justification:* $\\int_{a}^{c}(e^{L/D}P)'d\\theta" in md
    prose = re.sub(r"\$\$.*?\$\$", "", md, flags=re.S)
    prose = re.sub(r"\$[^$\n]+\$", "", prose)
    assert "e^{" not in prose and "_{" not in prose


def test_inline_segments_round_trip():
    from flatminima.reports.mathtext import inline_html, inline_tex, segments

    for text in ("Gaussian integral ∫exp(−|H_b|x²/(2D))dx computed by SymPy; limits extended to ±∞ (ΔL/D ≫ 1)",
                 "sgd_rate_ito: d(-log rate)/d(1/sharpness), rate per unit SDE time",
                 "τ = prefactor·e^{ΔΦ}, PNM", "Hänggi–Klimontovich (α = 1, the paper's prefactor)"):
        parts = segments(text)
        assert "".join(p for _, p in parts) == text
        assert text.split()[0] in "".join(p for m, p in parts if not m) or parts[0][0]
    assert [p for m, p in segments("sgd_rate_ito: d(-log rate)/d(1/sharpness)") if m] == []
    assert inline_tex("Hänggi–Klimontovich (α = 1, the paper's prefactor)") == \
        "H\\\"{a}nggi--Klimontovich ($\\alpha=1$, the paper's prefactor)"
    assert "<msqrt>" in inline_html("√(2D) dW") and "<mover" in inline_html("m̂ = m/(1−β₁^t)")
