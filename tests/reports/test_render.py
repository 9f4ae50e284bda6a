"""The validation report: summary first, FAIL shown, math as MathML, figures embedded, deterministic, rebuildable."""
import base64
import re

import numpy as np
import pytest

from flatminima.reports.render import (figure_files, latex_to_mathml, markdown_to_html, render_html, render_markdown,
                            write_report)
from flatminima.validation.suite import Figure, SuiteResult, Table, Verdict

KINDS = ("fit", "survival", "landscape2d", "spectrum", "scatter", "histogram")


def make_result() -> SuiteResult:
    """A realistic fake suite result: one figure of every kind, a passing and a failing verdict, math."""
    rng = np.random.default_rng(20210507)
    inv_k = np.linspace(0.5, 2.0, 6)
    neg_log_rate = 3.1 * inv_k + 1.2 + rng.normal(0, 0.05, inv_k.size)
    stderr = 1 / np.sqrt(rng.integers(50, 400, inv_k.size))
    t = np.sort(rng.exponential(1 / 0.8, 200))
    survival = 1.0 - np.arange(1, t.size + 1) / (t.size + 1)
    gx, gy = np.linspace(-2, 2, 41), np.linspace(-1.5, 1.5, 31)
    xx, yy = np.meshgrid(gx, gy)
    z = (xx**2 - 1) ** 2 + 2 * yy**2 + 0.3 * xx
    path = [[float(x), 0.0] for x in np.linspace(-1, 1, 15)]
    traj = np.cumsum(rng.normal(0, 0.05, (60, 2)), axis=0) + [-1.0, 0.0]
    h_over_b = np.geomspace(1e-3, 1, 20)
    noise = rng.normal(0.01, 0.3, 2000)
    figures = [
        Figure("neg-log-rate-vs-inverse-sharpness", "fit", "−log γ against 1/k (SGD, Styblinski–Tang)",
               {"x": inv_k.tolist(), "y": neg_log_rate.tolist(), "y_err": (1.96 * stderr).tolist(),
                "x_label": "1/k", "y_label": "−log γ",
                "fit": {"slope": 3.08, "intercept": 1.22, "slope_ci_low": 2.95, "slope_ci_high": 3.21},
                "predicted": {"slope": 3.0}, "law_points": (3.0 * inv_k + 1.25).tolist(),
                "exact_points": [None] * inv_k.size, "reference_slope": None},
               "Weighted least squares; error bars are 95% CIs from 1/√n_escaped."),
        Figure("sgld-log-rate-vs-log-sharpness", "fit", "log γ against log k (SGLD)",
               {"x": np.log(1 / inv_k).tolist(), "y": (np.log(1 / inv_k) - 2.0).tolist(),
                "y_lo": (np.log(1 / inv_k) - 2.1).tolist(), "y_hi": (np.log(1 / inv_k) - 1.9).tolist(),
                "x_label": "log k", "y_label": "log γ", "fit": {"slope": 1.01, "intercept": -2.0},
                "reference_slope": 1.0},
               "The slope-1 reference line is the Kramers prefactor's √(H_ae|H_be|) ∝ k."),
        Figure("survival-k1", "survival", "Survival at k = 1",
               {"t": t.tolist(), "survival": survival.tolist(), "rate": 0.8, "rate_ci": [0.7, 0.92],
                "t_max": float(t.max())}, "Kaplan–Meier against exp(−γ̂t)."),
        Figure("landscape", "landscape2d", "Asymmetric double well",
               {"x": gx.tolist(), "y": gy.tolist(), "z": z.tolist(), "minima": [[-1.0, 0.0], [1.0, 0.0]],
                "saddles": [[0.0, 0.0]], "paths": [path], "trajectories": [traj.tolist()]},
               "Minimum energy path from the string method."),
        Figure("spectrum", "spectrum", "Hessian spectra",
               {"minimum": [0.01, 0.5, 3.0, 40.0], "saddle": [-2.0, 0.02, 0.4, 35.0]}, "Dense eigh."),
        Figure("noise-covariance", "scatter", "C against H/B",
               {"x": h_over_b.tolist(), "y": (h_over_b * np.exp(rng.normal(0, 0.1, 20))).tolist(),
                "x_label": "H/B", "y_label": "C", "log": True, "fit": {"slope": 0.98, "intercept": 0.01},
                "identity": True}, "Diagonal entries in the eigenbasis of H."),
        Figure("gradient-noise", "histogram", "Gradient-noise histogram",
               {"values": noise.tolist(), "bins": 40, "gaussian": {"mean": 0.01, "std": 0.3}},
               "One coordinate of minibatch gradient minus full gradient."),
    ]
    verdicts = [
        Verdict(claim="slope of $-\\log\\gamma$ against $1/k$ matches the SGD law", measured="3.08 ± 0.13 (95% CI)",
                predicted="3.00", tolerance="|z| < 4", passed=True, check="C7", value=3.08, stderr=0.066,
                expected=3.0, details="R² = 0.998 over 1.3 decades of γ."),
        Verdict(claim="log γ against log k has slope 1 (SGLD)", measured="1.61 ± 0.05 (95% CI)", predicted="1",
                tolerance="|z| < 4", passed=False, check="C12", value=1.61, stderr=0.025, expected=1.0),
    ]
    tables = [Table("slopes", ["x", "slope", "CI low", "CI high", "predicted", "R²", "n", "within CI"],
                    [["1/k", 3.08, 2.95, 3.21, 3.0, 0.998, 6, True],
                     ["B", np.float64(0.41234567), 0.39, 0.43, None, 0.97, 6, False],
                     ["1/η", float("nan"), None, None, 1.5, None, np.int64(2), None]],   # NaN: null in JSON
                    "Weighted least squares of −log γ with standard errors 1/√n_escaped; CI at 95%.")]
    sections = [
        {"title": "Setup", "text": "Styblinski–Tang in $d = 2$, SGD with $\\eta = 0.01$ and batch size $B$.\n\n"
                                   "The SGD law predicts\n\n$$\n-\\log\\gamma = \\frac{2B\\Delta L}{\\eta}\\left("
                                   "\\frac{s}{H_{ae}} + \\frac{1-s}{|H_{be}|}\\right) + \\log\\frac{2\\pi}"
                                   "{\\sqrt{H_{ae}|H_{be}|}}\n$$\n\n- rates per unit SDE time\n- **sharpness** "
                                   "$k$ multiplies every Hessian by $k$"},
        {"title": "Noise model", "text": "Noise covariance $C = \\lambda H / B$ (hand-written MathML below).\n\n"
                                         "$$D = \\eta\\lambda H/(2B)$$",
         "mathml": {"D = \\eta\\lambda H/(2B)": "<mi>D</mi><mo>=</mo><mi>HANDWRITTEN</mi>"}},
    ]
    provenance = {"packages": {"numpy": "2.1.0", "scipy": "1.14.1", "flatminima": "0.1.0"},
                  "seeds": [11, 12, 13], "store": "OUT/store", "wall_time_s": 93.25,
                  "configs": [{"sharpness": 1.0, "eta": 0.01, "batch_size": 8},
                              {"sharpness": 2.0, "eta": 0.01, "batch_size": 8}]}
    return SuiteResult(suite="quick", size="ci", title="flatminima validation — quick suite",
                       criteria="A slope verdict passes when $|z| = |b - b_{pred}| / \\mathrm{se} < 4$ and "
                                "R² ≥ 0.95 over at least one decade of γ.",
                       verdicts=verdicts, tables=tables, figures=figures, sections=sections,
                       provenance=provenance, laws=["sgd_rate_ito", "kramers_1d_rate"])


@pytest.fixture(scope="module")
def result():
    return make_result()


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("validate")
    result.save(out)
    return out, write_report(out)              # loaded from result.json: the rebuild path


@pytest.fixture(scope="module")
def pngs(written):
    """The PNGs already written, by file name (so the tests below do not draw every figure again)."""
    return {p.name: p.read_bytes() for p in written[1][2:]}


@pytest.fixture(scope="module")
def html(result, pngs):
    return render_html(result, figure_png=pngs)


def test_fixture_covers_every_figure_kind(result):
    assert sorted({f.kind for f in result.figures}) == sorted(KINDS)


def test_write_report_writes_markdown_html_and_one_png_per_figure(written, result):
    out, paths = written
    assert [p.name for p in paths[:2]] == ["report.md", "report.html"]
    pngs = paths[2:]
    assert [p.name for p in pngs] == [f"{f.name}.png" for f in result.figures]
    assert all(p.parent == out / "figures" and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_summary_comes_first_and_sections_follow_the_contract_order(result, html):
    md = render_markdown(result)
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert heads == ["## Summary of verdicts", "## Verdict criteria", "## Setup", "## Noise model", "## Tables",
                     "## Figures", "## Method and provenance", "## Laws used"]
    order = [html.index(f'id="{a}"') for a in ("summary", "criteria", "sec-setup", "sec-noise-model", "tables",
                                                 "figures", "provenance", "laws")]
    assert order == sorted(order)


def test_failing_verdict_is_shown_as_fail(result, html):
    md = render_markdown(result)
    assert "1 of 2 verdicts pass" in md and "1 of 2 verdicts pass" in html
    assert "Overall: **FAIL**" in md
    rows = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| C")}
    assert "PASS" in rows["C7"] and "FAIL" not in rows["C7"]
    assert "FAIL" in rows["C12"]
    row = re.search(r'<tr class="fail-row">.*?</tr>', html).group(0)
    assert "C12" in row and '<td class="fail">FAIL</td>' in row and "1.61 ± 0.05" in row
    assert html.count('<td class="pass">PASS</td>') == 1


def test_all_passing_result_says_so(result):
    good = make_result()
    good.verdicts = [v for v in good.verdicts if v.passed]
    md = render_markdown(good)
    assert "1 of 1 verdicts pass" in md and "Overall: **PASS**" in md and "FAIL" not in md


def test_html_is_self_contained_with_mathml_and_embedded_figures(written, result):
    html = written[1][1].read_text(encoding="utf-8")
    imgs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(imgs) == len(result.figures)
    assert all(base64.b64decode(d)[:8] == b"\x89PNG\r\n\x1a\n" for d in imgs)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    sections = html[:html.index('id="laws"')]
    assert sections.count('<math display="block">') == 2      # the two $$ blocks of the sections
    assert "<mfrac>" in html and "<msqrt>" in html and "<msub><mi>H</mi>" in html
    assert "<mi>HANDWRITTEN</mi>" in html                      # a section's own MathML wins
    assert "$" not in re.sub(r"<annotation.*?</annotation>", "", html)   # every $…$ became MathML


def test_tables_captions_provenance_and_laws(result, html):
    md = render_markdown(result)
    for text in (md, html):
        assert "Table 1. slopes." in text and "Weighted least squares of −log γ" in text
        assert "0.4123" in text and "—" in text                  # 4 significant digits; None as a dash
        assert "Figure 7. Gradient-noise histogram." in text
        assert "sgd_rate_ito" in text and "kramers_1d_rate" in text and "flatminima derive" in text
        assert "93.25" in text and "OUT/store" in text
    assert "| flatminima version | 0.1.0 |" in md and "| packages | numpy 2.1.0, scipy 1.14.1 |" in md
    assert "| seeds | seeds: 11, 12, 13 |" in md and "| run time | 93.25 s |" in md
    assert "| also recorded | configs (2 entries) (in the raw JSON below) |" in md
    assert "<th>flatminima version</th><td>0.1.0</td>" in html and "<th>store</th><td>OUT/store</td>" in html
    for text in (md, html):                                    # links only to files the report writes
        assert "../derivations" not in text and "derivations.html#" not in text
    assert not re.findall(r'href="(?!#)', html)
    assert "![Hessian spectra](figures/spectrum.png)" in md


def test_markdown_keeps_latex_for_github(result):
    md = render_markdown(result)
    assert "\n$$\n-\\log\\gamma = \\frac{2B\\Delta L}" in md
    assert "$-\\log\\gamma$" in md
    assert md.count("$$") % 2 == 0


def test_rendering_is_deterministic_and_rebuildable(written, result):
    out, paths = written
    first_html, first_png = paths[1].read_text(encoding="utf-8"), paths[2].read_bytes()
    assert render_markdown(result) == render_markdown(result)
    assert paths[0].read_text(encoding="utf-8") == render_markdown(result)    # result.json round trip
    again = write_report(out)
    assert [p.name for p in again] == [p.name for p in paths]
    assert again[1].read_text(encoding="utf-8") == first_html and again[2].read_bytes() == first_png


def test_missing_result_json_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="result.json"):
        write_report(tmp_path)


def test_figure_names_are_file_safe_and_unique():
    r = SuiteResult(suite="s", size="x", title="t", criteria="c",
                    figures=[Figure("a b/c", "histogram", "A", {"values": [1.0, 2.0]}),
                             Figure("a-b-c", "histogram", "B", {"values": [1.0, 2.0]})])
    assert [name for _, name in figure_files(r)] == ["a-b-c.png", "a-b-c-2.png"]


def test_latex_converter_builds_structure():
    m = latex_to_mathml(r"\hat{s} = \frac{1}{2}\sqrt[3]{x_i^2} \le \Delta L \cdot e^{-\kappa}", display=True)
    assert m.startswith('<math display="block"><semantics>')
    assert "<mfrac><mn>1</mn><mn>2</mn></mfrac>" in m
    assert "<mroot><msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup><mn>3</mn></mroot>" in m
    assert '<mover accent="true"><mi>s</mi>' in m and "<mo>≤</mo>" in m and "<mi mathvariant=\"normal\">Δ</mi>" in m
    assert "<msup><mi>e</mi><mrow><mo>−</mo><mi>κ</mi></mrow></msup>" in m
    assert "\\unknowncommand" in latex_to_mathml(r"\unknowncommand x")


def test_markdown_converter_blocks_and_links():
    html = markdown_to_html("# Head\n\npara with *em* and **strong** and `a_b`\n\n- one\n- two $x^2$\n\n"
                            "1. first\n\n[local](other.html) and [web](https://example.org)")
    assert "<h3>Head</h3>" in html and "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>a_b</code>" in html and "<ul><li>one</li><li>two <math>" in html and "<ol><li>first</li></ol>" in html
    assert '<a href="other.html">local</a>' in html
    assert 'href="https' not in html and "web (https://example.org)" in html


def test_provenance_is_a_compact_table_with_the_raw_json_collapsed(result, html):
    md = render_markdown(result)
    part = html[html.index('id="provenance"'):html.index('id="laws"')]
    assert part.count('<table class="facts">') == 1 and "<dl>" not in part
    details = re.search(r"<details><summary>Raw provenance record \(JSON, \d+ lines\)</summary><pre>(.*?)</pre>"
                        r"</details>", part, re.S)
    assert details and '"batch_size": 8' in details.group(1) and "<details open" not in part
    assert "<details><summary>Raw provenance record" in md and '```json' in md and "</details>" in md


def test_provenance_facts_find_versions_seeds_methods_and_counts():
    from flatminima.reports.render import provenance_facts

    facts = dict(provenance_facts({
        "versions": {"python": "3.11", "platform": "Linux-x86", "flatminima": "0.2", "numpy": "2.0"},
        "git_commit": "abc123", "store": "/r/store", "wall_seconds": 300.0, "n_tasks": 3, "workers": 2,
        "tasks": [{"task_hash": h, "seed": k, "config": {"method": "ams", "noise": "white", "landscape": "dw"}}
                  for k, h in enumerate("aab")],
        "json": {"experiments": [{"dynamics": "sgld", "optimizer": {"kind": "adam"}, "law": "kramers_1d_rate"}]}}))
    assert facts["flatminima version"] == "0.2" and facts["git commit"] == "abc123"
    assert facts["Python"] == "3.11" and facts["packages"] == "numpy 2.0" and facts["host"] == "Linux-x86"
    assert facts["run time"] == "300 s (5.0 min)" and facts["store"] == "/r/store"
    assert facts["cores / workers"] == "workers: 2"
    assert facts["tasks"] == "3 tasks, 2 distinct config hashes, 1 experiments"
    assert "3 distinct seeds" in facts["seeds"]
    assert facts["methods"] == "method: ams; dynamics: sgld; optimizer: adam; noise: white"
    assert facts["landscapes"] == "dw"
    assert provenance_facts({}) == []


def test_laws_are_written_out_from_the_registry(result, html):
    md = render_markdown(result)
    part = html[html.index('id="laws"'):]
    assert part.count('<div class="law"') == 2 and part.count('<math display="block">') == 2
    assert '<div class="law" id="law-sgd-rate-ito">' in part and "<mfrac>" in part and "Valid when:" in part
    assert "Xie et al. 2021" in part                           # the source
    laws = md[md.index("## Laws used"):]
    assert "### `sgd_rate_ito`" in laws and "$$\n\\gamma = " in laws and "flatminima derive" in laws
    assert laws.count("$$") == 4
    odd = make_result()
    odd.laws = ["no_such_law"]
    assert "(not a formula of the theory registry)" in render_markdown(odd)
    assert "(not a formula of the theory registry)" in render_html(odd, figure_png={})


def test_check_results_show_the_laws_their_experiments_used():
    r = SuiteResult(suite="check", size="-", title="t", criteria="c", laws=[],
                    provenance={"json": {"experiments": [{"law": "kramers_1d_rate"}, {"law": "unknown_law"}]}})
    md = render_markdown(r)
    laws = md[md.index("## Laws used"):]
    assert "### `kramers_1d_rate`" in laws and "unknown_law" not in laws


def test_wide_tables_can_wrap():
    r = make_result()
    r.tables = [Table("wide", [f"column_{i}" for i in range(12)], [["a_b"] + list(range(11))], "c")]
    r.figures = []
    page = render_html(r)
    assert '<table id="table-wide" class="wide">' in page
    assert "<th>column_<wbr>0</th>" in page and "<td>a_<wbr>b</td>" in page
