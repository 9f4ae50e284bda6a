"""The headless-browser check: DOM and screenshot checks always; the Chromium run only when Chromium is installed."""
import base64
import html
import io
import json
import shutil

import numpy as np
import pytest
from matplotlib.figure import Figure as MplFigure

from flatminima.reports.browser_check import (PROBE_ID, PROBE_SCRIPT, check_dom, check_in_browser, check_screenshot,
                                              find_chromium, inject_probe, main, read_probe)
from flatminima.reports.render import write_report
from test_render import make_result

needs_chromium = pytest.mark.skipif(not (shutil.which("/usr/bin/chromium") or shutil.which("chromium")),
                                    reason="Chromium is not installed")


def _png(pixels: np.ndarray) -> bytes:
    fig = MplFigure(figsize=(pixels.shape[1] / 100, pixels.shape[0] / 100), dpi=100)
    fig.figimage(pixels, cmap="gray", vmin=0, vmax=1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def test_blank_screenshot_is_flagged_and_a_page_is_not(tmp_path):
    blank = tmp_path / "blank.png"
    blank.write_bytes(_png(np.ones((200, 300))))
    found = check_screenshot(blank)
    assert found["problems"] and "blank" in found["problems"][0] and found["ink_fraction"] < 0.005
    page = np.ones((200, 300))
    page[20:40, 10:200] = 0.0                                # a line of "text"
    page[80:180, 50:250] = np.linspace(0, 1, 200)            # a "figure"
    busy = tmp_path / "page.png"
    busy.write_bytes(_png(page))
    found = check_screenshot(busy)
    assert found["problems"] == [] and found["ink_fraction"] > 0.1
    assert check_screenshot(tmp_path / "missing.png")["problems"]


def test_dom_check_counts_math_and_embedded_pngs():
    png = base64.b64encode(_png(np.zeros((10, 10)))).decode()
    good = f'<p><math><mi>x</mi></math></p><img src="data:image/png;base64,{png}" alt="f">'
    found = check_dom(good)
    assert (found["math_elements"], found["figures"], found["problems"]) == (1, 1, [])
    bad = '<p>no math</p><img src="https://example.org/f.png"><script>1</script><a href="//cdn.x/y">y</a>'
    found = check_dom(bad)
    assert found["math_elements"] == 0 and found["figures"] == 0 and found["bad_figures"] == 1
    assert found["external_refs"] == 2 and found["scripts"] == 1 and len(found["problems"]) == 5


def test_missing_html_is_an_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.html"), str(tmp_path / "shot.png")]) == 2
    assert "nope.html" in capsys.readouterr().err


@needs_chromium
def test_report_renders_in_headless_chromium(tmp_path):
    result = make_result()
    result.figures = [f for f in result.figures if f.kind in ("fit", "histogram")]   # keep the test short
    html = write_report(tmp_path, result)[1]
    found = check_in_browser(html, tmp_path / "shot.png")
    assert found["ok"], found["problems"]
    assert found["chromium"] == find_chromium()
    assert found["math_elements"] >= 8 and found["figures"] == len(result.figures)
    assert found["layout_probe"] and found["page_overflow_px"] == 0 and found["scrolling_math"] == 0
    assert found["overflowing_elements"] == [] and found["figures_rendered"] == len(result.figures)
    assert found["math_rendered"] == found["math_elements"]
    assert (found["width"], found["height"]) == (1200, 2000) and found["ink_fraction"] > 0.01


def _page(body: str) -> str:
    png = base64.b64encode(_png(np.tile(np.linspace(0, 1, 300), (200, 1)))).decode()     # not a blank page
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{max-width:40rem;margin:1rem auto}'
            '</style></head><body><p>Text <math><mi>x</mi></math></p>'
            f'<img src="data:image/png;base64,{png}" alt="f">{body}</body></html>')


def test_probe_is_injected_into_a_copy_and_read_back_from_the_dom():
    page = _page("")
    probed = inject_probe(page)
    assert PROBE_SCRIPT in probed and probed.index(PROBE_SCRIPT) < probed.index("</body>")
    assert inject_probe("<p>x</p>").endswith("</script>")
    layout = {"page_overflow_px": 240, "page_scroll_width": 1440, "page_client_width": 1200, "math_total": 2,
              "math_rendered": 2, "img_total": 1, "img_rendered": 1, "scrolling_math": [
                  {"element": "math", "scroll_width": 900, "client_width": 700, "text": "x"}],
              "overflowing_elements": [{"element": "pre", "scroll_width": 1200, "client_width": 900}]}
    node = f'<pre id="{PROBE_ID}" hidden="">{html.escape(json.dumps(layout))}</pre>'
    dom = probed.replace("</body>", node + "</body>")
    assert read_probe(dom) == layout
    found = check_dom(dom, require_probe=True)
    assert found["scripts"] == 0                                  # the probe is not counted as the page's script
    assert found["page_overflow_px"] == 240 and found["scrolling_math"] == 1
    assert len(found["overflowing_elements"]) == 1 and len(found["problems"]) == 3
    clean = dict(layout, page_overflow_px=0, scrolling_math=[], overflowing_elements=[])
    dom = probed.replace("</body>", f'<pre id="{PROBE_ID}">{html.escape(json.dumps(clean))}</pre></body>')
    assert check_dom(dom, require_probe=True)["problems"] == []
    assert "did not report" in check_dom(page, require_probe=True)["problems"][0]
    assert check_dom(page)["layout_probe"] is False and check_dom(page)["problems"] == []


@needs_chromium
def test_probe_flags_a_wide_table_and_passes_a_clean_page(tmp_path):
    clean = tmp_path / "clean.html"
    clean.write_text(_page('<math display="block"><mfrac><mi>a</mi><mi>b</mi></mfrac></math>'), encoding="utf-8")
    found = check_in_browser(clean, tmp_path / "clean.png")
    assert found["ok"], found["problems"]
    assert (found["page_overflow_px"], found["scrolling_math"], found["overflowing_elements"]) == (0, 0, [])
    assert found["math_rendered"] == 2 and found["figures_rendered"] == 1
    row = "".join(f"<td>cell_number_{i}_with_a_long_unbreakable_name</td>" for i in range(30))
    wide = tmp_path / "wide.html"
    wide.write_text(_page(f"<table><tr>{row}</tr></table>"), encoding="utf-8")
    found = check_in_browser(wide, tmp_path / "wide.png")
    assert not found["ok"] and found["page_overflow_px"] > 1000
    assert any("overflows horizontally" in p for p in found["problems"])
    long_math = "<mi>x</mi><mo>+</mo>" * 200
    scrolling = tmp_path / "scroll.html"
    scrolling.write_text(_page(f'<div style="overflow-x:auto"><pre style="white-space:pre">{"y" * 400}</pre></div>'
                               f'<math display="block" style="overflow-x:auto">{long_math}<mi>x</mi></math>'),
                         encoding="utf-8")
    found = check_in_browser(scrolling, tmp_path / "scroll.png")
    assert found["page_overflow_px"] == 0 and found["scrolling_math"] == 1
    assert [e["element"] for e in found["overflowing_elements"]] == ["div"]


@needs_chromium
def test_derivation_report_renders_without_scroll_widgets(tmp_path):
    """The real derivation report: every equation laid out, none scrolls, nothing overflows the page."""
    from flatminima.reports.derivations import write_derivation_report
    html_path = write_derivation_report(tmp_path, formats=("html",))[0]
    found = check_in_browser(html_path, tmp_path / "shot.png", expect_figures=False)
    assert found["ok"], found["problems"]
    assert found["math_elements"] > 500 and found["math_rendered"] == found["math_elements"]
    assert (found["page_overflow_px"], found["scrolling_math"], found["overflowing_elements"]) == (0, 0, [])
    assert check_in_browser(html_path, tmp_path / "shot2.png")["problems"] == [
        "no <img> with base64 PNG data in the DOM"]                 # figures are required unless told otherwise


@needs_chromium
def test_check_report_on_a_2d_landscape_renders_in_chromium(tmp_path):
    """A real `check --out` report (2-D: landscape and spectrum figures, laws, provenance table)."""
    from flatminima.reports.cli import main as cli
    assert cli(["check", "two-well-2d", "--dynamics", "sgld", "--runs", "40", "--method", "simulate",
                "--out", str(tmp_path / "check")]) == 0
    found = check_in_browser(tmp_path / "check" / "report.html", tmp_path / "shot.png")
    assert found["ok"], found["problems"]
    assert found["figures"] >= 2 and found["figures_rendered"] == found["figures"]
    assert found["math_elements"] >= 1 and found["math_rendered"] == found["math_elements"]
    assert (found["page_overflow_px"], found["scrolling_math"], found["overflowing_elements"]) == (0, 0, [])
